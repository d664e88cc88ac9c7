"""Command palette provider: the current screen's commands, the same ones its keys run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from anonapi_tui.bindings import BY_ID


class ScreenCommands(Provider):
    """Offers every enabled command of the screen the palette was opened on (and the app's)."""

    def _commands(self) -> list[tuple[str, str, Callable[[], Awaitable[object]]]]:
        found: list[tuple[str, str, Callable[[], Awaitable[object]]]] = []
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if binding.id not in BY_ID or binding.id in seen or not active.enabled:
                continue
            seen.add(binding.id)
            key = self.app.get_key_display(binding)
            run = partial(self.app.run_action, binding.action, active.node)
            found.append((f"{binding.description} ({key})", binding.tooltip, run))
        return found

    async def discover(self) -> Hits:
        for title, help_text, run in self._commands():
            yield DiscoveryHit(title, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, run in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, help=help_text)
