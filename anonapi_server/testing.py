r"""Pytest fixtures for library users: a real embedded server instead of a mock.

The modern counterpart of the original's `testresources`. Loaded as a pytest plugin by every
pytest run, so it imports nothing heavy; outside pytest use `anonapi_server.embedded`
(re-exported here), which does not need pytest.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from anonapi_server.embedded import FINAL_STATUSES, EmbeddedServer, running_server

__all__ = [
    "FINAL_STATUSES",
    "EmbeddedServer",
    "anon_server",
    "anon_server_session",
    "running_server",
]


@pytest.fixture
def anon_server() -> Iterator[EmbeddedServer]:
    """A fresh embedded server for one test."""
    with running_server() as server:
        yield server


@pytest.fixture(scope="session")
def anon_server_session() -> Iterator[EmbeddedServer]:
    """One embedded server shared by a whole test session (faster; jobs accumulate)."""
    with running_server(workers=2) as server:
        yield server
