"""Extension `shares`: which UNC paths lie on a share the server serves; bounded, authenticated."""

from __future__ import annotations

import httpx

from anonapi_server.ext.shares import MAX_PATHS
from anonapi_server.testing import EmbeddedServer


def check(server: EmbeddedServer, body: object, token: str | None = None) -> httpx.Response:
    return httpx.post(
        f"{server.url}/ext/shares/check",
        params={"user_name": server.user_name},
        headers={"Authorization": f"Token {token or server.token}"},
        json=body,
    )


def test_served_and_unserved_paths_each_get_a_verdict(anon_server: EmbeddedServer) -> None:
    assert (
        "shares"
        in httpx.get(
            f"{anon_server.url}/ext",
            params={"user_name": anon_server.user_name},
            headers={"Authorization": f"Token {anon_server.token}"},
        ).json()["extensions"]
    )
    paths = [anon_server.unc("in", "x"), "\\\\LOCALHOST\\DATA", "\\\\other\\share\\x", "C:\\x"]
    results = check(anon_server, {"paths": paths}).json()["results"]
    assert [r["served"] for r in results] == [True, True, False, False]
    assert [r["path"] for r in results] == paths
    assert "not a share on this server" in results[2]["reason"]
    assert "not a UNC path" in results[3]["reason"]


def test_bad_bodies_and_tokens_are_refused(anon_server: EmbeddedServer) -> None:
    assert check(anon_server, {"paths": "x"}).status_code == 400
    assert check(anon_server, ["x"]).status_code == 400
    too_many = {"paths": ["\\\\h\\s"] * (MAX_PATHS + 1)}
    assert "At most" in check(anon_server, too_many).json()["errors"]["paths"]
    assert check(anon_server, {"paths": []}, token="wrong").status_code == 401
