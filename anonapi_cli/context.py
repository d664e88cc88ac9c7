"""What every command needs: the current folder and the user's settings, loaded once, lazily.

Settings are loaded only when a command asks for them, so `anon --help` never reads a file, and
a broken settings file fails only the commands that need it, with one line naming the file.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from anonapi_core.server_address import Server
    from anonapi_core.settings import Settings


@dataclass
class CliContext:
    """Shared state of one `anon` invocation."""

    cwd: Path
    _settings: Settings | None = field(default=None, repr=False)

    @classmethod
    def create(cls) -> CliContext:
        return cls(cwd=Path.cwd())

    @property
    def settings_path(self) -> Path:
        from anonapi_core.settings import settings_path

        return settings_path()

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from anonapi_core.settings import load_settings

            self._settings = load_settings()
        return self._settings

    def save_settings(self) -> None:
        """Write the settings back (atomically, by the core) after a command changed them."""
        from anonapi_core.settings import save_settings

        save_settings(self.settings, self.settings_path)

    @property
    def is_terminal(self) -> bool:
        """True when a person watches stdout (so redrawing the screen makes sense)."""
        return sys.stdout.isatty()

    def active_server(self) -> Server:
        return self.settings.active_server()


pass_cli = click.make_pass_decorator(CliContext)
