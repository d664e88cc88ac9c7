"""Extension `quarantine` on a real server: held files listed per job, released into the job's
output or dropped, each decision recorded; only the job's owner or an admin; a source changed
since it was held is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pydicom
import pytest

from anonapi_server.admin import add_project, add_user
from anonapi_server.config import ServerHome
from anonapi_server.embedded import OUTPUT_MARKER
from anonapi_server.sample_studies import write_study
from anonapi_server.testing import EmbeddedServer
from tests.server.conftest import new_job, reset_job

OTHER, OTHER_TOKEN = "other-user", "other-token-123456"
ADMIN, ADMIN_TOKEN = "the-admin", "admin-token-123456"


def ext(
    server: EmbeddedServer, method: str, path: str, *, user: str = "", token: str = ""
) -> httpx.Response:
    return httpx.request(
        method,
        f"{server.url}/ext/{path}",
        params={"user_name": user or server.user_name},
        headers={"Authorization": f"Token {token or server.token}"},
        timeout=30,
    )


@pytest.fixture(scope="module", autouse=True)
def users(server: EmbeddedServer) -> None:
    home = ServerHome(server.home)
    add_user(home, OTHER, token=OTHER_TOKEN)
    add_user(home, ADMIN, token=ADMIN_TOKEN, is_admin=True)


def mixed_job(server: EmbeddedServer, name: str) -> tuple[int, Path]:
    """A DONE job of two clean files and two with burned-in annotations; returns the job id and
    its source folder."""
    folder = server.share_root / "in" / name
    common: dict[str, Any] = {"patient_id": "SECRETPID", "patient_name": "Doe^Jane", "rows": 8}
    write_study(folder, n_files=2, columns=8, **common)
    write_study(folder, n_files=2, columns=8, burned_in=True, seed=1, suffix="b", **common)
    job_id = new_job(server, server.unc("in", name))
    assert server.wait_for([job_id]) == {job_id: "DONE"}
    return job_id, folder


def held(server: EmbeddedServer, job_id: int, **who: str) -> list[dict[str, Any]]:
    reply = ext(server, "GET", f"jobs/{job_id}/quarantine", **who)
    assert reply.status_code == 200, reply.text
    return reply.json()["files"]


def output_of(server: EmbeddedServer, job_id: int) -> Path:
    return server.share_root / "out" / str(job_id)


def test_the_capability_document_announces_quarantine(server: EmbeddedServer):
    assert "quarantine" in ext(server, "GET", "").json()["extensions"]


def test_held_files_are_listed_with_their_place_and_reason_and_nothing_of_the_patient(
    server: EmbeddedServer,
):
    job_id, _ = mixed_job(server, "listed")
    files = held(server, job_id)
    assert len(files) == 2
    assert {f["state"] for f in files} == {"held"}
    assert {f["cause"] for f in files} == {"burned_in"}
    assert all("burned-in annotation" in f["reason"] for f in files)
    assert [(f["series"], f["instance"]) for f in files] == [("1_2", "1.dcm"), ("1_2", "2.dcm")]
    assert len({f["file_id"] for f in files}) == 2
    text = json.dumps(files)
    assert "SECRETPID" not in text and "Doe" not in text and "listed" not in text
    assert not (output_of(server, job_id) / "1_2").exists()


def test_release_publishes_the_file_into_the_job_output_as_the_users_decision(
    server: EmbeddedServer,
):
    job_id, _ = mixed_job(server, "released")
    first = held(server, job_id)[0]
    reply = ext(server, "POST", f"jobs/{job_id}/quarantine/{first['file_id']}/release")
    assert reply.status_code == 200, reply.text
    decided = reply.json()["file"]
    assert (decided["state"], decided["decided_by"]) == ("released", server.user_name)
    assert decided["decided_at"]
    published = output_of(server, job_id) / first["series"] / first["instance"]
    ds = pydicom.dcmread(published)
    assert (ds.PatientID, str(ds.PatientName)) == ("PSEUDO1", "Pseudo^One")
    assert ds.PatientIdentityRemoved == "YES"
    marker = json.loads((output_of(server, job_id) / OUTPUT_MARKER).read_text())
    assert f"{first['series']}/{first['instance']}" in marker["files"]
    again = ext(server, "POST", f"jobs/{job_id}/quarantine/{first['file_id']}/release")
    assert again.status_code == 409
    assert "already released by testuser" in again.json()["errors"]["file_id"]
    # The folder is still this job's own: a rerun replaces it instead of ending in ERROR.
    assert reset_job(server, job_id).status_code == 200
    assert server.wait_for([job_id]) == {job_id: "DONE"}
    assert [f["state"] for f in held(server, job_id)] == ["held", "held"]
    assert not published.exists()


def test_drop_is_recorded_and_publishes_nothing(server: EmbeddedServer):
    job_id, _ = mixed_job(server, "dropped")
    before = sorted(output_of(server, job_id).rglob("*"))
    first, second = held(server, job_id)
    reply = ext(server, "POST", f"jobs/{job_id}/quarantine/{first['file_id']}/drop")
    assert reply.status_code == 200, reply.text
    assert reply.json()["file"]["state"] == "dropped"
    assert sorted(output_of(server, job_id).rglob("*")) == before
    late = ext(server, "POST", f"jobs/{job_id}/quarantine/{first['file_id']}/release")
    assert late.status_code == 409
    assert [f["state"] for f in held(server, job_id)] == ["dropped", "held"]


def test_another_users_job_reads_as_not_existing_and_an_admin_may_decide(
    server: EmbeddedServer,
):
    job_id, _ = mixed_job(server, "owned")
    file_id = held(server, job_id)[0]["file_id"]
    other = {"user": OTHER, "token": OTHER_TOKEN}
    for method, path in (
        ("GET", f"jobs/{job_id}/quarantine"),
        ("POST", f"jobs/{job_id}/quarantine/{file_id}/release"),
        ("POST", f"jobs/{job_id}/quarantine/{file_id}/drop"),
    ):
        reply = ext(server, method, path, **other)
        assert reply.status_code == 404, path
        assert reply.json() == {"errors": {"job_id": f"Job with id {job_id} does not exist"}}
    assert held(server, job_id)[0]["state"] == "held"
    admin = {"user": ADMIN, "token": ADMIN_TOKEN}
    reply = ext(server, "POST", f"jobs/{job_id}/quarantine/{file_id}/drop", **admin)
    assert reply.status_code == 200
    assert reply.json()["file"]["decided_by"] == ADMIN


def test_unknown_jobs_and_files_are_404(server: EmbeddedServer):
    job_id, _ = mixed_job(server, "unknown")
    assert ext(server, "GET", "jobs/999999/quarantine").status_code == 404
    assert ext(server, "GET", "jobs/abc/quarantine").status_code == 404
    reply = ext(server, "POST", f"jobs/{job_id}/quarantine/nothere/release")
    assert reply.status_code == 404
    assert reply.json()["errors"]["file_id"] == f"Job {job_id} has no held file nothere"
    assert ext(server, "POST", f"jobs/{job_id}/quarantine/nothere/burn").status_code in (404, 405)


def test_a_source_changed_since_it_was_held_is_refused(server: EmbeddedServer):
    job_id, folder = mixed_job(server, "changed")
    first = held(server, job_id)[0]
    with open(folder / "1b", "ab") as f:
        f.write(b"\0\0")
    reply = ext(server, "POST", f"jobs/{job_id}/quarantine/{first['file_id']}/release")
    assert reply.status_code == 409
    assert "changed since it was held" in reply.json()["errors"]["file_id"]
    assert not (output_of(server, job_id) / first["series"]).exists()
    assert held(server, job_id)[0]["state"] == "held"


def test_a_release_never_writes_into_an_output_someone_else_changed(server: EmbeddedServer):
    job_id, _ = mixed_job(server, "foreign")
    first = held(server, job_id)[0]
    (output_of(server, job_id) / "notes.txt").write_text("mine")
    reply = ext(server, "POST", f"jobs/{job_id}/quarantine/{first['file_id']}/release")
    assert reply.status_code == 409
    assert "did not write" in reply.json()["errors"]["job_id"]
    assert not (output_of(server, job_id) / first["series"]).exists()
    assert (output_of(server, job_id) / "notes.txt").read_text() == "mine"


def test_an_owner_who_left_the_project_may_list_but_not_decide(server: EmbeddedServer):
    home = ServerHome(server.home)
    add_user(home, "leaver", token="leaver-token-123456")
    leaver = {"user": "leaver", "token": "leaver-token-123456"}
    folder = server.share_root / "in" / "left"
    write_study(
        folder, patient_id="P9", patient_name="X^Y", n_files=1, rows=8, columns=8, burned_in=True
    )
    reply = httpx.post(
        f"{server.url}/create_job",
        data={
            "user_name": "leaver",
            "source_type": "PATH",
            "source_path": server.unc("in", "left"),
            "destination_type": "PATH",
            "destination_path": server.unc("out"),
            "project_name": "Wetenschap-Algemeen",
        },
        headers={"Authorization": "Token leaver-token-123456"},
    )
    job_id = reply.json()["job_id"]
    assert server.wait_for([job_id]) == {job_id: "DONE"}
    add_project(home, "Other")
    add_user(home, "leaver", token="leaver-token-123456", projects=["Other"])
    (held_file,) = held(server, job_id, **leaver)
    refused = ext(server, "POST", f"jobs/{job_id}/quarantine/{held_file['file_id']}/drop", **leaver)
    assert refused.status_code == 403
    assert "no longer connected to project" in refused.json()["errors"]["project_name"]
    assert held(server, job_id, **leaver)[0]["state"] == "held"


def test_two_releases_of_one_file_at_once_publish_it_once(server: EmbeddedServer):
    from concurrent.futures import ThreadPoolExecutor

    job_id, _ = mixed_job(server, "twice")
    first = held(server, job_id)[0]
    path = f"jobs/{job_id}/quarantine/{first['file_id']}/release"
    with ThreadPoolExecutor(4) as pool:
        codes = sorted(
            r.status_code for r in pool.map(lambda _: ext(server, "POST", path), range(4))
        )
    assert codes == [200, 409, 409, 409]
    marker = json.loads((output_of(server, job_id) / OUTPUT_MARKER).read_text())
    assert marker["files"].count(f"{first['series']}/{first['instance']}") == 1
