"""Print what the sandbox holds: one line per collection of each server's ``/_sandbox/state``."""

from __future__ import annotations

import sys

import httpx


def main(personio_url: str, staffomatic_url: str) -> None:
    for name, url in (("Personio", personio_url), ("Staffomatic", staffomatic_url)):
        state = httpx.get(f"{url}/_sandbox/state", timeout=10).json()
        print(f"{name} ({url}):")
        for key, value in state.items():
            size = f"{len(value)} records" if isinstance(value, list) else "settings"
            print(f"  {key:<24} {size}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
