"""The engine every de-identification test shares (compiling the rule table once)."""

import pytest

from anonapi_server.deid import Deidentifier, ProjectProfile

PROJECT = "Wetenschap-Algemeen"
SECRET = b"0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="session")
def engine() -> Deidentifier:
    return Deidentifier(ProjectProfile(name=PROJECT, secret=SECRET))
