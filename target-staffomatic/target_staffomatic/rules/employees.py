"""Employees -> users: match, create, update, lock or unlock (pure: no I/O).

:func:`plan_employee` runs small named steps: match the user, compute the fields the sync owns
(:mod:`target_staffomatic.rules.user_fields`), then plan a create or the changes. Locks follow
the employee's lifecycle (:func:`lifecycle`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync_ledger import Link, fingerprint
from sync_ledger.engine import LinkPlan, Op, Plan
from vendor_http.timeutil import date_of

from target_staffomatic import paths
from target_staffomatic.rules.base import EMPLOYEE, Rules, norm
from target_staffomatic.rules.lookups import Lookups, full_name
from target_staffomatic.rules.user_fields import DEPARTMENTS, changed_fields, owned_fields


def desired_lock(employee: Mapping[str, Any], rules: Rules) -> bool | None:
    """True: locked, False: unlocked, None: the lifecycle settings leave the lock alone."""
    return lifecycle(employee, rules)[0]


def lifecycle(
    employee: Mapping[str, Any], rules: Rules, link: Link | None = None
) -> tuple[bool | None, str]:
    """:func:`desired_lock` and the rule behind it, in words with dates only (for the ledger).

    An unlock names the hire date when the ledger last saw the employee before it (the lock
    until the hire date ends), else says the employee is active again (a rehire).
    """
    status = norm(employee.get("status"))
    last_day = date_of(employee.get("last_working_day"))
    last_day_name = "last working day"
    if last_day is None:
        last_day, last_day_name = date_of(employee.get("termination_date")), "termination date"
    hire = date_of(employee.get("hire_date"))
    if status == "inactive":
        return (True if rules.lock_after_last_day else None), "status inactive"
    if last_day is not None and last_day < rules.today:
        lock = True if rules.lock_after_last_day else None
        return lock, f"{last_day_name} {last_day} passed"
    if hire is not None and hire > rules.today:
        lock = True if rules.lock_before_hire_date else None
        return lock, f"hire date {hire} in the future"
    if hire is not None and link is not None and link.updated_at.date() < hire:
        return False, f"hired on {hire}"
    return False, "active again in Personio"


def _resolve_location(employee: Mapping[str, Any], rules: Rules, lk: Lookups) -> int | None:
    office = str(employee.get("office_name") or "").strip()
    mapped = {norm(k): v for k, v in rules.location_map.items()}.get(norm(office))
    if mapped is not None:
        if isinstance(mapped, int) or str(mapped).isdigit():
            return int(mapped) if int(mapped) in lk.locations else None
        return lk.location_by_name.get(norm(mapped))
    if office and norm(office) in lk.location_by_name:
        return lk.location_by_name[norm(office)]
    if rules.default_location_id is not None and int(rules.default_location_id) in lk.locations:
        return int(rules.default_location_id)
    return None


def _resolve_department(
    employee: Mapping[str, Any], rules: Rules, lk: Lookups, location_id: int | None
) -> tuple[int | None, str]:
    """The department id for the employee in ``location_id``, or None and why."""
    key = "team_name" if rules.department_source == "team" else "department_name"
    name = str(employee.get(key) or "").strip()
    if not name:
        return None, ""
    mapped = {norm(k): v for k, v in rules.department_map.items()}.get(norm(name), name)
    if isinstance(mapped, int) or str(mapped).isdigit():
        dep = lk.departments.get(int(mapped))
        return (int(mapped), "") if dep else (None, f"department id {mapped} does not exist")
    if location_id is None:
        return None, ""
    did = lk.department_by_name.get((location_id, norm(mapped)))
    if did is None:
        return None, f"no department named like the {key} in location {location_id}"
    return did, ""


@dataclass
class _Employee:
    """What the steps of :func:`plan_employee` share about one employee."""

    record: Mapping[str, Any]
    rules: Rules
    lk: Lookups
    link: Link | None
    owned: dict[str, Any]
    lock: bool | None
    lock_reason: str
    location: int | None
    notes: list[str] = field(default_factory=list)

    @property
    def syncs_departments(self) -> bool:
        return DEPARTMENTS in self.rules.sync_fields

    def department(self, location: int | None) -> int | None:
        """The department to sync (a problem with it becomes a note of the plan)."""
        department, why = _resolve_department(self.record, self.rules, self.lk, location)
        if why and self.syncs_departments:
            self.notes.append(why)
        return department

    def link_plan(self, location: int | None, department: int | None) -> LinkPlan:
        written = {**self.owned, "department_id": department, "locked": self.lock}
        return LinkPlan(
            fingerprint(written), {"location_id": location, "department_id": department}
        )


def plan_employee(
    employee: Mapping[str, Any],
    rules: Rules,
    lk: Lookups,
    link: Link | None,
    vacation_type_ids: Iterable[str] = (),
) -> Plan:
    """Link, create, update, lock or unlock the Staffomatic user of one Personio employee."""
    sid = str(employee["id"])
    plan = Plan(EMPLOYEE, sid)
    if not (str(employee.get("first_name") or "").strip() or employee.get("last_name")):
        plan.outcome = "skip"
        plan.reason = "the employee has no first or last name in Personio: add them to sync"
        return plan
    matched = _match_user(sid, str(employee.get("email") or "").strip(), employee, lk, link, plan)
    if plan.outcome:
        return plan
    lock, lock_reason = lifecycle(employee, rules, link)
    case = _Employee(
        employee,
        rules,
        lk,
        link,
        owned_fields(employee, rules.sync_fields, vacation_type_ids),
        lock,
        lock_reason,
        _resolve_location(employee, rules, lk),
    )
    if matched is None:
        return _plan_create(plan, case)
    return _plan_changes(plan, case, matched)


def _plan_create(plan: Plan, case: _Employee) -> Plan:
    """A new user in the employee's location, locked at once when the lifecycle says so."""
    problem = _cannot_create(case)
    if problem:
        plan.outcome, plan.reason = "skip", problem
        return plan
    location = case.location
    assert location is not None
    department = case.department(location)
    body = dict(case.owned)
    if case.syncs_departments and department is not None:
        body["department_ids"] = [department]
    if case.rules.invite_users and body.get("email"):
        body["do"] = "send_invitation"
    elif case.rules.invite_users:
        case.notes.append("not invited: no e-mail")
    plan.ops.append(Op("create", "POST", paths.users_of(location), body))
    if case.lock:
        lock = {"do": "lock"}
        plan.ops.append(Op("lock", "PUT", paths.user(location), lock, reason=case.lock_reason))
    plan.reason = "; ".join([f"new employee in location {location}", *case.notes])
    plan.link = case.link_plan(location, department)
    return plan


def _cannot_create(case: _Employee) -> str:
    if not case.owned.get("email") and not case.rules.create_users_without_email:
        return (
            "no e-mail in Personio: add one, or set create_users_without_email, to create the user"
        )
    if case.location is None:
        office = str(case.record.get("office_name") or "").strip() or "(none)"
        return (
            f"office '{office}' matches no Staffomatic location: add it to location_map "
            "or set default_location_id"
        )
    return ""


def _plan_changes(plan: Plan, case: _Employee, user: Mapping[str, Any]) -> Plan:
    """The fields that changed, then the lock the lifecycle asks for; else unchanged."""
    uid = int(user["id"])
    plan.dest_id = uid
    location = case.lk.location_of(uid, case.location)
    changes = changed_fields(case.owned, user)
    department = case.department(location) if case.syncs_departments else None
    if case.syncs_departments:
        departments = _department_ids(user, case.link, department)
        if departments is not None:
            changes["department_ids"] = departments
    if changes:
        plan.ops.append(Op("update", "PUT", paths.user(location), changes))
        plan.reason = "fields changed: " + ", ".join(sorted(changes))
    lock = _lock_op(case, user, location)
    if lock is not None:
        plan.ops.append(lock)
    if not plan.ops:
        plan.outcome = "unchanged"
    if case.notes:
        plan.reason = "; ".join([r for r in (plan.reason, *case.notes) if r])
    plan.link = case.link_plan(location, department)
    return plan


def _department_ids(
    user: Mapping[str, Any], link: Link | None, department: int | None
) -> list[int] | None:
    """The user's departments with the synced one swapped in; None when they stay as they are.

    Only the department the ledger says the sync set before is replaced; others stay.
    """
    current = [int(d) for d in user.get("department_ids") or []]
    previous = link.data.get("department_id") if link else None
    wanted = [d for d in current if d != previous or d == department]
    if department is not None and department not in wanted:
        wanted.append(department)
    return sorted(wanted) if sorted(wanted) != sorted(current) else None


def _lock_op(case: _Employee, user: Mapping[str, Any], location: int | None) -> Op | None:
    locked_now = user.get("locked_at") not in (None, "")
    if case.lock is True and not locked_now:
        return Op("lock", "PUT", paths.user(location), {"do": "lock"}, reason=case.lock_reason)
    if case.lock is False and locked_now:
        body = {"do": "unlock"}
        return Op("unlock", "PUT", paths.user(location), body, reason=case.lock_reason)
    return None


class _Ambiguous(Exception):
    """The employee matches users it must not be linked to; the message is the skip reason."""


def _match_user(
    sid: str,
    email: str,
    employee: Mapping[str, Any],
    lk: Lookups,
    link: Link | None,
    plan: Plan,
) -> Mapping[str, Any] | None:
    """The user of this employee by custom_id, then the ledger, then e-mail; ambiguity skips."""
    try:
        user = _by_custom_id(sid, lk) or _by_link(link, lk) or _by_email(sid, email, lk)
        if user is None:
            _no_namesake(sid, email, employee, lk)
    except _Ambiguous as exc:
        plan.outcome, plan.reason = "skip", str(exc)
        return None
    return user


def _by_custom_id(sid: str, lk: Lookups) -> Mapping[str, Any] | None:
    found = sorted(lk.by_custom_id.get(sid, ()))
    if len(found) > 1:
        raise _Ambiguous(f"ambiguous: users {_ids(found)} all carry custom_id {sid}")
    return lk.users[found[0]] if found else None


def _by_link(link: Link | None, lk: Lookups) -> Mapping[str, Any] | None:
    if link is not None and link.dest_id.isdigit() and int(link.dest_id) in lk.users:
        return lk.users[int(link.dest_id)]
    return None


def _by_email(sid: str, email: str, lk: Lookups) -> Mapping[str, Any] | None:
    found = sorted(lk.by_email.get(norm(email), ())) if email else []
    if len(found) > 1:
        raise _Ambiguous(f"ambiguous: users {_ids(found)} share the employee's e-mail")
    if not found:
        return None
    user = lk.users[found[0]]
    other = str(user.get("custom_id") or "")
    if other and other != sid:
        raise _Ambiguous(
            f"conflict: user {found[0]} has the employee's e-mail but is linked to employee {other}"
        )
    return user


def _no_namesake(sid: str, email: str, employee: Mapping[str, Any], lk: Lookups) -> None:
    """No user matched: a user who may be the same person by name blocks a create.

    That is a user without e-mail carrying the employee's full name; for an employee without
    e-mail also one with an e-mail that no employee is linked to (nothing tells them apart).
    """
    namesakes = sorted(
        uid
        for uid in lk.by_name.get(full_name(employee), ())
        if not norm(lk.users[uid].get("email"))
        or (not email and not lk.users[uid].get("custom_id"))
    )
    if not namesakes:
        return
    ids = _ids(namesakes)
    if email:
        why = f"user {ids} has no e-mail and the employee's full name"
    else:
        why = f"the employee has no e-mail and user {ids} has the same full name"
    raise _Ambiguous(f"ambiguous: {why}; set its custom_id to {sid} to link it")


def _ids(ids: Iterable[int]) -> str:
    return ", ".join(str(i) for i in ids)
