"""Fixtures for action tests: settings objects pointing at real embedded servers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from anonapi_core.settings import Settings
from anonapi_server.testing import EmbeddedServer


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


def write_mapping(
    folder: Path,
    server: EmbeddedServer,
    rows: int | str,
    *,
    extra: Sequence[str] = (),
    **options: str,
) -> Path:
    """A mapping on the server's share: `rows` folder jobs (`folder:s0,P0` ...) or that grid
    text, then the `extra` grid lines; `options` replace or add to the working defaults."""
    values = {
        "root_source_path": server.unc("proj"),
        "project": "Wetenschap-Algemeen",
        "destination_path": server.unc("out"),
        **options,
    }
    if isinstance(rows, int):
        rows = "source,pseudo_name\n" + "".join(f"folder:s{n},P{n}\n" for n in range(rows))
    lines = ["## Description ##", "test", "## Options ##"]
    lines += [f"{key},{value}" for key, value in values.items()]
    lines += ["## Mapping ##", *rows.strip().splitlines(), *extra]
    path = folder / "anon_mapping.csv"
    path.write_text("\r\n".join(lines) + "\r\n")
    return path
