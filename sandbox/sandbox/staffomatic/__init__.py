"""An in-memory emulator of the Staffomatic API v3 (``/v3/{account}/....json``).

What it does, from the vendor's docs and recorded production traffic:

- HTTP Basic with a user's e-mail and password, or ``Authorization: Bearer <token>``; a missing
  or wrong one gets 401 with a plain-text body. A request without ``User-Agent`` gets 400; a write
  without a JSON content type, or a path with another suffix than ``.json``, gets 415. Paths work
  with and without ``.json``. An unknown account or record gets a 404 HTML page.
- Paging with ``page`` and ``per_page`` (default 50, at most 100); an empty page ends the list;
  ``Link`` (first/prev/last/next), ``Total``, ``Pages`` and ``Page`` headers as sent in 2014.
- ``ETag`` on every GET and ``304 Not Modified`` for a matching ``If-None-Match``.
- Validation errors are Rails-style 422s: ``{"errors": {"field": ["message"]}}``; a body that is
  not JSON, or a query parameter that is not a number or date, gets 400 ``{"error": "..."}``.
- State changes through ``"do"``: users ``send_invitation``/``lock``/``unlock``; absences
  ``approve``/``decline`` (after which edits are refused); work timers
  ``start``/``stop``/``verify``; break timers ``start``/``stop``. Creates answer 201 (as
  documented; the 2017 recordings show 200), deletes 204.
- Users carry the documented fields only; a user's locations are the locations whose
  ``user_ids`` (or whose departments' ``user_ids``) list it, and ``POST
  /locations/{id}/users.json`` places a new user there. A user may be created without e-mail.
- More than ``rate_limit.requests`` requests in ``rate_limit.seconds`` (500 in 10 s) from one
  address get 429 with ``Retry-After``.

Sandbox choices where the vendor material is silent (see ``sandbox/README.md``; most can be
switched in ``state["variants"]``, which also bring back what the recordings showed: creates
answering 200, the 2014 user fields): users are listed with ``state=active`` (not locked) unless
another ``state`` is asked for; ``from``/``until`` select records whose time span overlaps the
range; ``invalidate_tokens`` replaces every API token by a new
one (shown in ``/_sandbox/state``), Basic auth keeps working.
"""

from sandbox.staffomatic.app import StaffomaticEmulator

__all__ = ["StaffomaticEmulator"]
