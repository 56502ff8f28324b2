"""Meltano's parse of the project's YAML files, kept from one sync to the next.

Meltano reads ``meltano.yml`` with ruamel's round-trip parser, written in Python: some 0.16 s
for this project's file, in every process that starts Meltano, and the runner's share of a
sync's fixed cost. Meltano keeps a parsed file in memory while its bytes stay the same
(``meltano.core.yaml.load``); :func:`keep_parsed` extends that to the disk: the parsed document,
pickled, in ``.meltano/sync-parsed/`` under the file's path and the SHA-256 of its text and of
the versions of Meltano and ruamel.yaml, read back in about 2 ms. A file that changed has another
key and is parsed again (the entry of its previous text is removed); an entry that cannot be
read is parsed again and written anew. With another Meltano, whose module lacks what this uses,
nothing changes.

The entry holds what the file holds (nothing from ``.env`` or the environment) and is private
to the user, like the rest of ``.meltano``: a folder whose writer could as well change the
plugins' installs next to it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

PARSED = Path(".meltano") / "sync-parsed"


def keep_parsed(folder: Path = PARSED) -> None:
    """From now on in this process, Meltano's parse of a YAML file is read from ``folder``
    when it is there, and written there when it is not."""
    from importlib.metadata import version

    from meltano.core import yaml as meltano_yaml

    parse: Callable[[Any], Any] = meltano_yaml.load
    needed = ("cache", "hash_sha256", "CachedCommentedMap")
    if getattr(parse, "keeps_parsed", False) or not all(hasattr(meltano_yaml, n) for n in needed):
        return  # already, or another Meltano than the one this was written for: as it is
    versions = f"meltano {version('meltano')}, ruamel.yaml {version('ruamel.yaml')}"

    def load(path: os.PathLike[str]) -> Any:
        resolved = Path(path).resolve()
        if resolved not in meltano_yaml.cache:
            text = resolved.read_text()
            file = hashlib.sha256(str(resolved).encode()).hexdigest()[:16]
            content = hashlib.sha256(f"{versions}\n{text}".encode()).hexdigest()
            kept = folder / f"{file}-{content}.pickle"
            data = read(kept)
            if data is None:
                data = parse(resolved)
                write(kept, data)
                return data
            digest = meltano_yaml.hash_sha256(text)
            meltano_yaml.cache[resolved] = meltano_yaml.CachedCommentedMap(digest, data)
        return parse(resolved)  # Meltano's own cache: the same text, else parsed again

    load.keeps_parsed = True  # type: ignore[attr-defined]
    meltano_yaml.load = load


def read(kept: Path) -> Any:
    """The document kept in ``kept``, or None (none kept, one that cannot be read, or one that
    another user wrote or could have written: it is not unpickled)."""
    with contextlib.suppress(Exception):
        for path in (kept.parent, kept):
            status = path.lstat()
            if status.st_uid != os.getuid() or status.st_mode & 0o022:
                return None
        return pickle.loads(kept.read_bytes())  # noqa: S301 (this user's own, checked above)
    return None


def write(kept: Path, data: Any) -> None:
    """Keep ``data`` in ``kept`` (private to the user, written whole or not at all), the
    entries of the same file's earlier texts removed; a folder that cannot be written is left
    as it is."""
    with contextlib.suppress(OSError, pickle.PicklingError):
        kept.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        file = kept.name.split("-")[0]
        for other in kept.parent.glob(f"{file}-*"):
            if other.name != kept.name:
                other.unlink(missing_ok=True)
        partial = kept.with_suffix(f".{os.getpid()}.partial")
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
            pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(kept)
