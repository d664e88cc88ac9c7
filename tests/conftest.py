"""Fixtures shared by every test package: our own corpus of files in the original's formats,
the compatibility corpus `../shared/compat` as an extra cross-check wherever it is present,
an idle server."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from anonapi_core.extensions import _known as _known_capabilities
from anonapi_server.testing import EmbeddedServer, running_server
from tests.support.corpus import build_corpus

REPO_ROOT = Path(__file__).resolve().parents[1]
COMPAT_DIR = REPO_ROOT.parent / "shared" / "compat"
COMPAT_MISSING = "compatibility corpus ../shared/compat not found"


def require_compat_dir(folder: Path = COMPAT_DIR) -> Path:
    """The compatibility corpus, read in place and never copied.

    A fresh clone has no `../shared` beside it: its tests report themselves skipped with the
    reason. CI always has the corpus, so there (CI=true) its absence is a failure, not a skip.
    """
    if not folder.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{COMPAT_MISSING} at {folder}")
        pytest.skip(COMPAT_MISSING)
    return folder


@pytest.fixture(scope="session")
def compat_dir() -> Path:
    """The compatibility corpus where it is present (see `require_compat_dir`)."""
    return require_compat_dir()


@pytest.fixture(scope="session")
def own_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`tests/fixtures` plus the Excel and DICOM files that tests/support/corpus.py writes."""
    return build_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session", params=["own", "compat"])
def corpus(request: pytest.FixtureRequest) -> Path:
    """Each corpus test runs on our own files and again on the compatibility corpus."""
    name = "own_corpus" if request.param == "own" else "compat_dir"
    return request.getfixturevalue(name)


@pytest.fixture(autouse=True)
def no_remembered_capabilities() -> None:
    """Each test meets servers as new: the client remembers a server's extensions by URL for the
    life of the process, and a later test's server may get an earlier one's loopback port."""
    _known_capabilities.clear()


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
