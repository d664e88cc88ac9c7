"""The dashboard application: one mode per main screen, keys remappable by binding id."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from textual import work
from textual.app import App
from textual.screen import Screen

from anonapi_core.exceptions import AnonAPIError
from anonapi_tui.bindings import bindings
from anonapi_tui.commands import ScreenCommands
from anonapi_tui.screens.help import HelpScreen
from anonapi_tui.widgets.confirmation import Confirmation


class AnonApp(App):
    """`anon-tui`: servers, batch jobs, server jobs, mapping, folders and settings.

    `screens` maps mode names to screen factories; `main` builds the real ones from the user's
    settings, tests pass their own. Unknown modes in `start` fall back to the first one.
    """

    CSS_PATH = "anonapi_tui.tcss"
    TITLE = "anon-tui"
    COMMANDS = App.COMMANDS | {ScreenCommands}
    BINDINGS = bindings("app")

    def __init__(
        self,
        screens: Mapping[str, Callable[[], Screen]],
        *,
        start: str = "batch",
        read_only: bool = False,
        keymap: Mapping[str, str] | None = None,
        startup_task: Callable[[], object] | None = None,
    ) -> None:
        super().__init__()
        self.read_only = read_only
        self.startup_task = startup_task
        self.unsaved: set[str] = set()
        """What screens hold unsaved (e.g. "mapping"): quitting asks first."""
        for mode, factory in screens.items():
            self.add_mode(mode, factory)
        self.start = start if start in screens else next(iter(screens))
        if keymap:
            self.set_keymap(dict(keymap))
        if read_only:
            self.sub_title = "read-only"

    def on_mount(self) -> None:
        self.switch_mode(self.start)
        if self.startup_task is not None:
            self._run_startup_task(self.startup_task)

    @work(thread=True, exit_on_error=False, group="startup")
    def _run_startup_task(self, task: Callable[[], object]) -> None:
        """Run blocking start-up work (the demo creating its jobs) once the first screen shows."""
        try:
            task()
        except AnonAPIError as e:
            self.call_from_thread(self.notify, str(e), severity="error", markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Mode switches only for screens this app was given (tests often give one).
        return not (action == "switch_mode" and parameters and parameters[0] not in self._modes)

    async def action_quit(self) -> None:
        if not self.unsaved:
            self.exit()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()

        what = " and ".join(sorted(self.unsaved))
        self.push_screen(
            Confirmation(f"Quit without saving the {what}?", yes_label="Quit"), answered
        )

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))
