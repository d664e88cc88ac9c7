"""The user's settings: name, token (masked), TLS checking and job defaults, saved atomically."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Input, Label, Static, Switch, TextArea

from anonapi_core.exceptions import AnonAPIError
from anonapi_core.parameters import canonical_name
from anonapi_core.settings import Settings, save_settings
from anonapi_tui.bindings import bindings
from anonapi_tui.screens.base import CommandScreen, display_path


def parse_defaults(text: str) -> list[tuple[str, str]]:
    """`field,value` per line (blank lines skipped); ValueError naming the first bad line."""
    defaults = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition(",")
        canonical = canonical_name(name)
        if not sep or canonical is None:
            raise ValueError(f"Job defaults, line {number}: '{line}' is not 'parameter,value'")
        defaults.append((canonical, value.strip()))
    return defaults


class SettingsScreen(CommandScreen):
    """Edits a copy in the form; nothing is written until save (ctrl+s)."""

    BINDINGS = bindings("settings")

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.title = "Settings"

    def compose(self) -> ComposeResult:
        where = display_path(self.settings.path) if self.settings.path else "not saved yet"
        yield Static(f"Settings  ({where})", id="title", markup=False)
        with VerticalScroll(id="settings-form"):
            yield Label("User name")
            yield Input(self.settings.user_name, id="user_name")
            yield Label("Token (sent as 'Authorization: Token ...'; never shown)")
            yield Input(self.settings.user_token, password=True, id="user_token")
            with Horizontal(classes="switch-row"):
                yield Switch(self.settings.validate_ssl, id="validate_ssl")
                yield Label("Check the server's TLS certificate")
            yield Label(
                "Job defaults: one 'parameter,value' per line (e.g. project,Wetenschap-Algemeen)"
            )
            defaults = "\n".join(f"{k},{v}" for k, v in self.settings.job_default_parameters)
            yield TextArea(defaults, id="job_defaults")
            yield Static("", id="settings-state", markup=False)
        yield Footer(compact=True)

    def action_save(self) -> None:
        state = self.query_one("#settings-state", Static)
        try:
            defaults = parse_defaults(self.query_one("#job_defaults", TextArea).text)
        except ValueError as e:
            state.update(str(e))
            state.add_class("invalid")
            return
        self.settings.user_name = self.query_one("#user_name", Input).value.strip()
        self.settings.user_token = self.query_one("#user_token", Input).value.strip()
        self.settings.validate_ssl = self.query_one("#validate_ssl", Switch).value
        self.settings.job_default_parameters = defaults
        try:
            path = save_settings(self.settings)
        except AnonAPIError as e:
            state.update(str(e))
            state.add_class("invalid")
            return
        state.remove_class("invalid")
        state.update(f"Saved to {display_path(path)}")
