"""``python -m tap_personio`` runs the tap's command line."""

from tap_personio.tap import TapPersonio

TapPersonio.cli()
