"""Fixtures for action tests: settings objects pointing at real embedded servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from anonapi_core.settings import Settings
from anonapi_core.testing import EmbeddedServer, running_server


@pytest.fixture(scope="module")
def idle_server() -> Iterator[EmbeddedServer]:
    """A server without workers: created jobs stay ACTIVE until a test changes them."""
    with running_server(workers=0) as server:
        yield server


@pytest.fixture
def settings(idle_server: EmbeddedServer, tmp_path: Path) -> Settings:
    """In-memory settings with the idle server active (saved only where an action saves)."""
    return Settings(
        servers={"idle": idle_server.url, "dead": "http://127.0.0.1:9"},
        active_server_name="idle",
        user_name=idle_server.user_name,
        user_token=idle_server.token,
        timeout=5,
        path=tmp_path / "settings.yml",
    )


def write_mapping(folder: Path, server: EmbeddedServer, rows: int) -> Path:
    """A mapping of `rows` folder jobs on the server's share."""
    lines = [
        "## Description ##",
        "test",
        "## Options ##",
        f"root_source_path,{server.unc('proj')}",
        "project,Wetenschap-Algemeen",
        f"destination_path,{server.unc('out')}",
        "## Mapping ##",
        "source,pseudo_name",
        *(f"folder:s{n},P{n}" for n in range(rows)),
    ]
    path = folder / "anon_mapping.csv"
    path.write_text("\r\n".join(lines) + "\r\n")
    return path
