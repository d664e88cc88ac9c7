"""What every main screen shares: read-only refusal of destructive actions, and error reporting."""

from __future__ import annotations

from pathlib import Path

from textual.screen import Screen

from anonapi_tui.bindings import DESTRUCTIVE_ACTIONS, everywhere


def is_read_only(screen: Screen) -> bool:
    """True when the app was started with `--read-only` (a bare test App counts as writable)."""
    return bool(getattr(screen.app, "read_only", False))


class CommandScreen(Screen):
    """A main screen whose bindings come from the command table.

    In read-only mode destructive actions are not merely hidden: `check_action` returning False
    also refuses them when pressed or picked from the palette.
    """

    BINDINGS = everywhere()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in DESTRUCTIVE_ACTIONS and is_read_only(self))


def display_path(path: Path) -> str:
    """A path relative to the working folder when inside it (the usual case), else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(path)
