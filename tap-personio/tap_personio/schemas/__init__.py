"""JSON schemas of the fixed-shape streams (``employees`` is built from the readable attributes)."""
