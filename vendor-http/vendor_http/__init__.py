"""The HTTP policy shared by the Personio and Staffomatic plugins (see README.md)."""
