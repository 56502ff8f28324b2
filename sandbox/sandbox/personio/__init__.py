"""The Personio emulator: v1 auth and employees; v2 auth, absence types, absences, attendances.

Behaviour follows ``shared/research/personio-api.md`` and Personio's OpenAPI files; where the
sources disagree, the choice is stated next to the code. The state document is described in
:mod:`sandbox.personio.seed`.

Conventions the clients must know:

- Tokens (``papi-...``) live 24 h; the same client (and scope) gets the same token back while it
  lives; a token from ``/v1/auth`` works on v1 only, one from ``/v2/auth/token`` on v2 only
  (the switch ``token_generations`` ``shared`` lets each work on both). No ``Authorization``
  header: 401; an unknown, revoked or expired token (or one of the other generation): 403.
- v2 absence periods of DAILY types: ``starts_from.type`` ``FIRST_HALF`` starts in the morning,
  ``SECOND_HALF`` at noon (a half day); ``ends_at.type`` ``FIRST_HALF`` ends at noon (a half day),
  ``SECOND_HALF`` at the end of the day. ``approval.status`` is PENDING, APPROVED or REJECTED.
- v2 attendance periods: ``approval.status`` is PENDING, CONFIRMED, REJECTED or EXPIRED (the
  switch ``expired_attendance_status`` ``unknown`` refuses EXPIRED as a filter).
- v2 ``created_at``/``updated_at`` are UTC (``...Z``); the ``updated_at.gte/lte`` filters take the
  same UTC time written without ``Z``. Period date-times are local times of the company time zone.

Behaviour no Personio document confirms can be switched in ``state["variants"]`` (see
:attr:`PersonioEmulator.variants` and the table in ``sandbox/README.md``).
"""

from sandbox.personio.app import PersonioEmulator

__all__ = ["PersonioEmulator"]
