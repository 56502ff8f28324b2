"""The settings the target checks before it starts: one clear sentence for each that cannot work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sync_ledger.targets import absence_source_problem, base_url_problem

from target_personio.client import RunStopped

DEFAULT_BASE_URL = "https://api.personio.de"


def check_settings(config: dict[str, Any]) -> None:
    """Stop at once, with one sentence, on a setting that cannot work."""
    base_url = str(config.get("base_url") or DEFAULT_BASE_URL)
    problem = absence_source_problem(config) or base_url_problem(base_url, DEFAULT_BASE_URL)
    if problem:
        raise RunStopped(problem)
    for key in ("settle_minutes", "retry_days"):
        if int(config.get(key, 0)) < 0:
            raise RunStopped(f"{key} is negative; set it to zero or more.")
    credentials(config)


def credentials(config: dict[str, Any]) -> tuple[str, str]:
    """client_id and client_secret from the settings or from ``credentials_file``."""
    client_id = config.get("client_id")
    client_secret = config.get("client_secret")
    path = config.get("credentials_file")
    if path and not (client_id and client_secret):
        try:
            data = json.loads(Path(str(path)).read_text())
        except (OSError, ValueError) as exc:
            raise RunStopped(
                f"The credentials_file {path} cannot be read ({type(exc).__name__}); point it at "
                'a JSON file with "client_id" and "client_secret".'
            ) from None
        client_id = client_id or data.get("client_id")
        client_secret = client_secret or data.get("client_secret")
    if not client_id or not client_secret:
        raise RunStopped(
            "Personio credentials are missing: set client_id and client_secret, or "
            "credentials_file pointing at a JSON file holding both."
        )
    return str(client_id), str(client_secret)
