"""The test fixture library users get: a real server, UNC helpers, waiting for jobs."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from anonapi_server.testing import EmbeddedServer


def test_the_fixture_serves_the_api_with_its_user_and_token(anon_server: EmbeddedServer):
    reply = httpx.request(
        "GET",
        f"{anon_server.url}/get_jobs",
        data={"user_name": anon_server.user_name},
        headers={"Authorization": f"Token {anon_server.token}"},
    )
    assert reply.status_code == 200
    assert anon_server.url.startswith("http://127.0.0.1:")


def test_unc_and_local_translate_between_share_and_folder(anon_server: EmbeddedServer):
    unc = anon_server.unc("in", "study1")
    assert unc == r"\\localhost\data\in\study1"
    assert anon_server.local(unc) == anon_server.share_root / "in" / "study1"
    assert anon_server.local("//localhost/data/in") == anon_server.share_root / "in"


def test_wait_for_gives_up_with_the_statuses_it_saw(anon_server: EmbeddedServer):
    job = anon_server.store.create_job(
        {"user_name": "u", "project_name": "P", "source_type": "PATH", "status": "INACTIVE"}
    )
    with pytest.raises(TimeoutError, match="INACTIVE"):
        anon_server.wait_for([job["job_id"]], timeout=0.2)


@pytest.mark.parametrize(
    ("module", "absent"),
    [
        ("anonapi_server.embedded", ["pytest", "sqlalchemy", "uvicorn", "starlette"]),
        ("anonapi_server.testing", ["sqlalchemy", "uvicorn", "starlette", "pydicom"]),
    ],
)
def test_importing_the_fixture_modules_stays_cheap(module: str, absent: list[str]):
    """The plugin loads in every pytest run and the demo imports it outside pytest."""
    code = f"import sys, {module}; print([m for m in {absent!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
