"""The extension prefix: a capability document behind the same authentication as the IDIS API."""

from __future__ import annotations

import httpx

from anonapi_server.testing import EmbeddedServer


def test_the_capability_document_names_the_extension_api(anon_server: EmbeddedServer) -> None:
    for path in ("/ext", "/ext/"):
        reply = httpx.get(
            f"{anon_server.url}{path}",
            params={"user_name": anon_server.user_name},
            headers={"Authorization": f"Token {anon_server.token}"},
        )
        assert reply.status_code == 200, path
        document = reply.json()
        assert document["api"] == "anonapi-ext"
        assert isinstance(document["extensions"], list)


def test_the_capability_document_needs_a_registered_token(anon_server: EmbeddedServer) -> None:
    reply = httpx.get(
        f"{anon_server.url}/ext",
        params={"user_name": anon_server.user_name},
        headers={"Authorization": "Token not-the-token"},
    )
    assert reply.status_code == 401
    assert "authorization" in reply.json()["errors"]


def test_idis_functions_still_answer_beside_the_prefix(anon_server: EmbeddedServer) -> None:
    reply = httpx.get(f"{anon_server.url}/no_such_function")
    assert reply.status_code == 404
    assert "documentation" in reply.json()
