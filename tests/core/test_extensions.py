"""Extensions client: the capability document is read once per server; a plain IDIS has none."""

from __future__ import annotations

import pytest

from anonapi_core import extensions
from anonapi_core.client import AnonClient
from anonapi_core.exceptions import APIClientAuthorizationFailedException
from anonapi_core.extensions import NotAvailable, capabilities, require
from anonapi_core.models import Server
from anonapi_server.testing import EmbeddedServer
from tests.support.recorder import recording_server


def client_for(url: str, user: str = "testuser", token: str = "t") -> AnonClient:
    return AnonClient(Server(name="s", url=url), user, token, timeout=5)


def test_capabilities_are_read_once_per_server(anon_server: EmbeddedServer) -> None:
    with client_for(anon_server.url, anon_server.user_name, anon_server.token) as client:
        first = capabilities(client)
        key = (anon_server.url.rstrip("/"), anon_server.user_name)
        extensions._known[key] = frozenset({"marker"})  # a second read would replace this
        assert capabilities(client) == {"marker"}
        extensions._known.pop(key)
        assert capabilities(client) == first


def test_a_server_without_the_prefix_has_no_extensions_and_says_so() -> None:
    with recording_server() as idis:
        idis.status, idis.body = 404, {"documentation": "IDIS web API"}
        with client_for(idis.url) as client:
            assert capabilities(client) == frozenset()
            with pytest.raises(NotAvailable, match="not available on this server"):
                require(client, "quarantine")
            capabilities(client)
        assert len(idis.requests) == 1  # read once, then remembered
        assert idis.requests[0].path.startswith("/ext?user_name=testuser")


def test_a_wrong_token_is_an_authorisation_error_not_a_missing_extension(
    anon_server: EmbeddedServer,
) -> None:
    client = client_for(anon_server.url, anon_server.user_name, "wrong")
    with client, pytest.raises(APIClientAuthorizationFailedException):
        capabilities(client)
