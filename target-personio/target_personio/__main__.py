"""``python -m target_personio``."""

from target_personio.target import TargetPersonio

TargetPersonio.cli()
