"""``python -m tap_staffomatic``: the same as the ``tap-staffomatic`` command."""

from tap_staffomatic.tap import TapStaffomatic

TapStaffomatic.cli()
