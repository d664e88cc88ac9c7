"""A remote anonymization server as the user names it: a short name and the API's base URL.

Kept apart from the pydantic wire models because settings, batches and every command need it,
and importing pydantic costs ~90 ms of start-up that a command without server traffic never needs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Server:
    """An anonymization server the user knows."""

    name: str
    url: str

    def __str__(self) -> str:
        return f"{self.name}: {self.url}"


RemoteAnonServer = Server
"""The original library's name for a server, kept so library users can migrate."""
