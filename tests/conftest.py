"""Fixtures shared by every test package: where the compatibility corpus lives, an idle server."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from anonapi_server.testing import EmbeddedServer, running_server

REPO_ROOT = Path(__file__).resolve().parents[1]
COMPAT_DIR = REPO_ROOT.parent / "shared" / "compat"


@pytest.fixture(scope="session")
def compat_dir() -> Path:
    """The compatibility corpus (`../shared/compat`), read in place and never copied."""
    assert COMPAT_DIR.is_dir(), f"compatibility corpus not found at {COMPAT_DIR}"
    return COMPAT_DIR


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """The pseudonym registry of every test lives in a temp folder, never the developer's own."""
    monkeypatch.setenv("ANONAPI_DATA_DIR", str(tmp_path_factory.mktemp("anonapi-data")))


@pytest.fixture(scope="module")
def idle_server() -> Iterator[EmbeddedServer]:
    """A real server without workers, one per test module: jobs stay where the test puts them.

    A module that needs files on its shares overrides this fixture, asking for it by name.
    """
    with running_server(workers=0) as server:
        yield server
