"""Headless core of anonapi-tui: wire models, client, user files, actions, embedded server.

Nothing in this package imports textual, rich or click, so the CLI and the dashboard can share it
and scripts can use it without pulling in a UI.
"""

__version__ = "0.1.0"
