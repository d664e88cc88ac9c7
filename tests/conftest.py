"""Fixtures shared by every test package: where the compatibility corpus lives."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
COMPAT_DIR = REPO_ROOT.parent / "shared" / "compat"


@pytest.fixture(scope="session")
def compat_dir() -> Path:
    """The compatibility corpus (`../shared/compat`), read in place and never copied."""
    assert COMPAT_DIR.is_dir(), f"compatibility corpus not found at {COMPAT_DIR}"
    return COMPAT_DIR
