"""The look-ups the rules match on: Staffomatic users to Personio people."""

from __future__ import annotations

from typing import Any

from target_personio.rules import People


def test_a_user_is_matched_by_custom_id_then_by_a_unique_email() -> None:
    users = {
        "1": ("1001", "x@y.example"),
        "2": ("", "ben@y.example"),
        "3": ("9999", "twin@y.example"),
        "4": ("", ""),
    }
    employees: list[dict[str, Any]] = [
        {"id": 1001, "email": "x@y.example"},
        {"id": "1002", "email": " Ben@Y.example "},
        {"id": 1003, "email": "twin@y.example"},
        {"id": 1004, "email": "twin@y.example"},
        {"id": None, "email": "nobody@y.example"},
    ]
    people = People(users, employees)
    assert people.person_for(1) == ("1001", "")
    assert people.person_for("2") == ("1002", "")
    assert people.person_for(3) == (None, "user 3 matches 2 Personio employees by e-mail")
    assert people.person_for(4) == (
        None,
        "user 4 has no Personio employee (custom_id or e-mail)",
    )
    assert people.person_for(5) == (None, "user 5 is not in the users stream")
