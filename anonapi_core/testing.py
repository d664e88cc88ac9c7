"""A real embedded server for tests: pytest fixture and context manager (filled in by the server work)."""
