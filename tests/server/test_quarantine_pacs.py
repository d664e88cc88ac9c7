"""Held files of a PACS job: its study is gone with the worker's temporary folder, so each held
instance is kept in the server home's private folder until released (published, copy removed)
or dropped (copy removed)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pydicom
import pytest

from anonapi_server.pacs.config import new_node
from anonapi_server.pacs.local_pacs import LOCAL_PACS_AET, running_local_pacs
from anonapi_server.sample_studies import write_study
from anonapi_server.testing import EmbeddedServer, running_server
from tests.server.pacs_support import configure, run_pacs_job

ACCESSION = "HELD1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    files = write_study(
        tmp_path_factory.mktemp("study"),
        patient_id="PACSHELD",
        patient_name="Held^Patient",
        n_files=2,
        rows=8,
        columns=8,
        accession_number=ACCESSION,
        burned_in=True,
    )
    with running_local_pacs(tmp_path_factory.mktemp("pacs-store")) as pacs:
        for path in files:
            pacs.add_file(path)
        with running_server(workers=1) as running:
            node = new_node("LOCAL", dimse=pacs.address, called_aet=LOCAL_PACS_AET)
            configure(running, node, default=True)
            yield running


def ext(server: EmbeddedServer, method: str, path: str) -> httpx.Response:
    return httpx.request(
        method,
        f"{server.url}/ext/{path}",
        params={"user_name": server.user_name},
        headers={"Authorization": f"Token {server.token}"},
        timeout=30,
    )


def kept_files(server: EmbeddedServer, job_id: int) -> list[Path]:
    return sorted((server.home / "held" / str(job_id)).rglob("*.dcm"))


def test_a_pacs_held_file_is_kept_privately_and_removed_on_release_and_drop(
    server: EmbeddedServer,
):
    job = run_pacs_job(server, f"accession_number:{ACCESSION}")
    assert (job["status"], job["files_quarantined"]) == ("DONE", 2), job["error"]
    job_id = job["job_id"]
    kept = kept_files(server, job_id)
    assert len(kept) == 2
    if os.name != "nt":
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in kept)
        for folder in (kept[0].parent, kept[0].parent.parent, server.home / "held"):
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    first, second = ext(server, "GET", f"jobs/{job_id}/quarantine").json()["files"]

    reply = ext(server, "POST", f"jobs/{job_id}/quarantine/{first['file_id']}/release")
    assert reply.status_code == 200, reply.text
    published = server.share_root / "out" / str(job_id) / first["series"] / first["instance"]
    assert pydicom.dcmread(published).PatientID == "PSEUDO9"
    assert len(kept_files(server, job_id)) == 1

    assert ext(server, "POST", f"jobs/{job_id}/quarantine/{second['file_id']}/drop").is_success
    assert kept_files(server, job_id) == []
    assert not (server.home / "held" / str(job_id)).exists()
    assert [f.name for f in (server.share_root / "out" / str(job_id)).rglob("*.dcm")] == [
        first["instance"]
    ]


def test_an_attempt_that_does_not_publish_keeps_no_copies(server: EmbeddedServer):
    """Held copies of an attempt that ends in ERROR could never be decided on: removed."""
    next_id = server.store.count_jobs() + 1
    foreign = server.share_root / "blocked" / str(next_id)
    foreign.mkdir(parents=True)
    (foreign / "theirs.txt").write_text("not the server's")
    job = run_pacs_job(
        server, f"accession_number:{ACCESSION}", destination_path=server.unc("blocked")
    )
    assert (job["job_id"], job["status"]) == (next_id, "ERROR")
    assert "was not made by this server" in job["error"] or "did not write" in job["error"]
    assert not (server.home / "held" / str(next_id)).exists()
    assert ext(server, "GET", f"jobs/{next_id}/quarantine").json() == {"files": []}
