"""Singer tap for Personio."""
