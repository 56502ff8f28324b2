"""Build an sdist and a wheel of every distribution, as a package index would get them.

In the repository, a plugin names the shared distributions it needs (personio-staffomatic-http,
personio-staffomatic-ledger) by the sibling folder of the same checkout, so it installs alone
from its folder or a git subdirectory. An index has no sibling folders: each distribution is
built from a copy whose pyproject.toml names them plainly, then checked with
``twine check --strict``. Install the result with its siblings beside it:
``pip install --find-links dist/ target-staffomatic``.

    python scripts/dist.py [--out dist] [--wheel-only] [FOLDER ...]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS: tuple[str, ...] = ("sandbox", "vendor-http", "sync-ledger", "tap-personio")
FOLDERS += ("tap-staffomatic", "target-staffomatic", "target-personio", "sync-events")
SIBLING = re.compile(r"\s*@\s*\{root:parent:uri\}/[\w.-]+")
LEFT_OUT = shutil.ignore_patterns("__pycache__", "*.egg-info", ".venv", "build", "dist")


def plain(pyproject: str) -> str:
    """The pyproject.toml with each sibling-folder reference turned into a plain name."""
    return SIBLING.sub("", pyproject)


def stage(folder: str, into: Path) -> Path:
    """A copy of one distribution's folder that names the shared distributions plainly."""
    copy = into / folder
    shutil.copytree(ROOT / folder, copy, ignore=LEFT_OUT)
    pyproject = copy / "pyproject.toml"
    pyproject.write_text(plain(pyproject.read_text()))
    return copy


def build(folders: Sequence[str], out: Path, *, wheel_only: bool = False) -> list[Path]:
    """Build each folder's sdist and wheel (or only the wheel) into ``out``; return them."""
    out.mkdir(parents=True, exist_ok=True)
    before = set(out.iterdir())
    kinds = ["--wheel"] if wheel_only else ["--sdist", "--wheel"]
    with tempfile.TemporaryDirectory() as tmp:
        for folder in folders:
            copy = stage(folder, Path(tmp))
            command = [sys.executable, "-m", "build", "--installer", "uv", *kinds]
            subprocess.run(
                [*command, "--outdir", str(out), str(copy)],
                check=True,
                capture_output=True,
                text=True,
            )
    return sorted(set(out.iterdir()) - before)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", default=list(FOLDERS))
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--wheel-only", action="store_true")
    args = parser.parse_args(argv)
    try:
        built = build(args.folders, args.out, wheel_only=args.wheel_only)
    except subprocess.CalledProcessError as exc:
        print(exc.stdout + exc.stderr, file=sys.stderr)
        return 1
    check = [sys.executable, "-m", "twine", "check", "--strict", *map(str, built)]
    return subprocess.run(check, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
