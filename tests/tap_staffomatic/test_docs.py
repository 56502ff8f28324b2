"""The README of tap-staffomatic stays in step with the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_the_readme_holds_the_current_about_output() -> None:
    about = subprocess.run(
        [sys.executable, "-m", "tap_staffomatic", "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    readme = (Path(__file__).resolve().parents[2] / "tap-staffomatic" / "README.md").read_text()

    settings = about[about.index("## Capabilities") :].strip()
    assert settings in readme
