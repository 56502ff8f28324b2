"""Run the target with ``python -m target_staffomatic``."""

from target_staffomatic.target import TargetStaffomatic

TargetStaffomatic.cli()
