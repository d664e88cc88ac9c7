"""Headless core of anonapi-tui: wire models, API client, user files, actions and the embedded server.

Nothing in this package imports textual, rich or click, so the CLI and the dashboard can share it
and scripts can use it without pulling in a UI.
"""

__version__ = "0.1.0"
