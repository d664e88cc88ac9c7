"""One embedded server per test module, and a tiny IDIS caller speaking the original's wire form."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from anonapi_core.testing import EmbeddedServer, running_server

PROJECT = "Wetenschap-Algemeen"


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    with running_server(workers=1) as running:
        yield running


def call(
    server: EmbeddedServer,
    function: str,
    method: str = "GET",
    *,
    token: str | None = None,
    **params: Any,
) -> httpx.Response:
    """Call an API function as the original client does: form body also on GET, user_name added."""
    params.setdefault("user_name", server.user_name)
    return httpx.request(
        method,
        f"{server.url}/{function}",
        data=params,
        headers={"Authorization": f"Token {token or server.token}"},
        timeout=10,
    )


def create_path_job(server: EmbeddedServer, source_path: str, **params: Any) -> httpx.Response:
    values = {
        "source_type": "PATH",
        "source_path": source_path,
        "destination_type": "PATH",
        "destination_path": server.unc("out"),
        "project_name": PROJECT,
        "description": "test job",
        "anonymizedpatientid": "PSEUDO1",
        "anonymizedpatientname": "Pseudo^One",
        **params,
    }
    return call(server, "create_job", "POST", **values)
