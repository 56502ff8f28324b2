"""Switches for vendor behaviour that no vendor document confirms (``state["variants"]``).

Each emulator names its switches and their values in ``Emulator.variants``, the default first:
what the vendor's documents say where they say anything (recorded traffic next), the sandbox's
own choice otherwise. ``sandbox/README.md`` lists every switch with
the plugin code that depends on it and the tests that run each value.
"""

from __future__ import annotations

from typing import Any

Choices = dict[str, tuple[str, ...]]


class VariantError(ValueError):
    """An unknown switch or value."""


def defaults(choices: Choices) -> dict[str, str]:
    """Every switch at its default (first) value."""
    return {name: values[0] for name, values in choices.items()}


def settle(choices: Choices, current: dict[str, str], given: Any) -> dict[str, str]:
    """``current`` with the switches in ``given`` set; VariantError names what is wrong."""
    if not isinstance(given, dict):
        raise VariantError("variants must be a JSON object of switch names and values")
    unknown = sorted(set(given) - set(choices))
    if unknown:
        raise VariantError(f"unknown variants {unknown}; known: {describe(choices)}")
    for name, value in given.items():
        if value not in choices[name]:
            raise VariantError(f"variant {name!r} must be one of {list(choices[name])}")
    return {**current, **given}


def describe(choices: Choices) -> str:
    return "; ".join(f"{name}: {' | '.join(values)}" for name, values in sorted(choices.items()))
