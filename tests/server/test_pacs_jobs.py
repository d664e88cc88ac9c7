"""PACS jobs run by real workers against a real DIMSE PACS (pynetdicom, in this process).

By accession number and by StudyInstanceUID, with C-GET and with C-MOVE; every PACS failure a
user can meet ends the job in ERROR with the sentence that says what to do.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pydicom
import pytest

from anonapi_server.admin import add_opt_out
from anonapi_server.config import ServerHome
from anonapi_server.pacs.config import new_node
from anonapi_server.pacs.local_pacs import LOCAL_PACS_AET, LocalPacs, running_local_pacs
from anonapi_server.sample_studies import write_study
from anonapi_server.testing import EmbeddedServer, running_server
from anonapi_server.worker import OPT_OUT_MESSAGE
from tests.server.pacs_support import (
    PacsStudy,
    configure,
    create_pacs_job,
    output_files,
    run_pacs_job,
    silent_listener,
    write_pacs_studies,
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


MOVE_PORT = _free_port()


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PacsStudy]:
    return write_pacs_studies(tmp_path_factory.mktemp("pacs-studies"))


@pytest.fixture(scope="module")
def pacs(
    studies: dict[str, PacsStudy], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalPacs]:
    folder = tmp_path_factory.mktemp("pacs-store")
    with running_local_pacs(
        folder, move_destinations={"ANONAPI": ("127.0.0.1", MOVE_PORT)}
    ) as running:
        for study in studies.values():
            for path in study.files:
                running.add_file(path)
        yield running


@pytest.fixture(scope="module")
def server(pacs: LocalPacs) -> Iterator[EmbeddedServer]:
    with running_server(workers=1) as running:
        configure(
            running, new_node("LOCAL", dimse=pacs.address, called_aet=LOCAL_PACS_AET), default=True
        )
        configure(
            running,
            new_node(
                "LOCALMOVE",
                dimse=pacs.address,
                called_aet=LOCAL_PACS_AET,
                retrieve="move",
                move_port=MOVE_PORT,
            ),
        )
        configure(running, new_node("WRONGAET", dimse=pacs.address, called_aet="NOT_THE_PACS"))
        yield running


def test_a_study_by_accession_number_is_retrieved_deidentified_and_published(
    server: EmbeddedServer, studies: dict[str, PacsStudy]
):
    job = run_pacs_job(server, "accession_number:A1001")
    assert (job["status"], job["error"]) == ("DONE", None)
    assert (job["files_downloaded"], job["files_processed"]) == (4, 4)
    written = output_files(server, job["job_id"])
    assert len(written) == 4
    ds = pydicom.dcmread(written[0])
    assert (ds.PatientID, str(ds.PatientName)) == ("PSEUDO9", "Pseudo^Nine")
    assert ds.get("AccessionNumber", "") != "A1001"
    assert ds.StudyInstanceUID != studies["single"].study_uid


def test_a_study_by_bare_and_prefixed_study_instance_uid_is_done(
    server: EmbeddedServer, studies: dict[str, PacsStudy]
):
    uid = studies["other"].study_uid
    for instance_id in (uid, f"study_instance_uid:{uid}"):
        job = run_pacs_job(server, instance_id)
        assert (job["status"], job["files_processed"]) == ("DONE", 2), job["error"]


def test_c_move_to_the_workers_own_storage_scp_retrieves_the_study(server: EmbeddedServer):
    job = run_pacs_job(server, "accession_number:A1001", source_name="LOCALMOVE")
    assert (job["status"], job["files_downloaded"]) == ("DONE", 4), job["error"]
    assert len(output_files(server, job["job_id"])) == 4


def test_an_unknown_accession_number_ends_in_a_clear_error(server: EmbeddedServer):
    job = run_pacs_job(server, "accession_number:123")
    assert (job["status"], job["error"]) == (
        "ERROR",
        "PACS LOCAL: no study with accession number 123",
    )
    assert output_files(server, job["job_id"]) == []


def test_an_accession_number_matching_two_studies_is_an_error_naming_both(
    server: EmbeddedServer, studies: dict[str, PacsStudy]
):
    job = run_pacs_job(server, "accession_number:A2002")
    assert job["status"] == "ERROR"
    assert job["error"].startswith("PACS LOCAL: accession number A2002 matches 2 studies")
    assert studies["twice_a"].study_uid in job["error"]
    assert studies["twice_b"].study_uid in job["error"]
    assert output_files(server, job["job_id"]) == []


def test_a_wrong_called_ae_title_is_a_refused_association(server: EmbeddedServer):
    job = run_pacs_job(server, "accession_number:A1001", source_name="WRONGAET")
    assert job["status"] == "ERROR"
    assert job["error"].startswith(
        "PACS WRONGAET refused association: called AE title 'NOT_THE_PACS'"
    )


def test_a_pacs_that_never_answers_times_out_with_the_timeout_in_the_message(
    server: EmbeddedServer,
):
    with silent_listener() as port:
        configure(server, new_node("HUNG", dimse=f"127.0.0.1:{port}", called_aet="X", timeout=1))
        job = run_pacs_job(server, "accession_number:A1001", source_name="HUNG")
    assert (job["status"], job["error"]) == ("ERROR", "PACS HUNG timed out after 1 s")


def test_a_dicomweb_pacs_that_never_answers_times_out_too(server: EmbeddedServer):
    with silent_listener() as port:
        configure(
            server, new_node("HUNGWEB", dicomweb=f"http://127.0.0.1:{port}/dicom-web", timeout=1)
        )
        job = run_pacs_job(server, "accession_number:A1001", source_name="HUNGWEB")
    assert (job["status"], job["error"]) == ("ERROR", "PACS HUNGWEB timed out after 1 s")


def test_a_pacs_nobody_listens_on_says_it_cannot_connect(server: EmbeddedServer):
    port = _free_port()
    configure(server, new_node("GONE", dimse=f"127.0.0.1:{port}", called_aet="X", timeout=5))
    job = run_pacs_job(server, "accession_number:A1001", source_name="GONE")
    assert job["status"] == "ERROR"
    assert job["error"].startswith(f"PACS GONE: cannot connect to 127.0.0.1:{port}")


def test_the_opt_out_list_applies_to_pacs_jobs_like_share_jobs(server: EmbeddedServer):
    add_opt_out(ServerHome(server.home), "PACSP2")
    job = run_pacs_job(server, "accession_number:A1002")
    assert (job["status"], job["error"]) == ("ERROR", OPT_OUT_MESSAGE)
    assert job["files_downloaded"] >= 1  # the first instance of the patient ends the job
    assert output_files(server, job["job_id"]) == []


def test_an_opted_out_patient_halfway_through_a_study_leaves_no_output_at_all(
    server: EmbeddedServer, pacs: LocalPacs, tmp_path: Path
):
    """Instances are de-identified while later ones arrive: the partial output of the first
    ones is dropped, hidden folder included, when a later one is an opted-out patient's."""
    files = write_study(
        tmp_path / "mixed",
        patient_id="PACSP5",
        patient_name="Pacs^Patient",
        n_files=4,
        rows=16,
        columns=16,
        accession_number="A3003",
        seed=5,
    )
    last = pydicom.dcmread(files[-1])
    last.PatientID = "PACSP6"
    last.save_as(files[-1])
    for path in files:
        pacs.add_file(path)
    add_opt_out(ServerHome(server.home), "PACSP6")
    job = run_pacs_job(server, "accession_number:A3003")
    assert (job["status"], job["error"]) == ("ERROR", OPT_OUT_MESSAGE)
    assert output_files(server, job["job_id"]) == []
    left = [p.name for p in (server.share_root / "out").iterdir()]
    assert not [name for name in left if name.startswith(f".{job['job_id']}.")]
    assert str(job["job_id"]) not in left


def test_an_unknown_source_name_is_refused_at_create(server: EmbeddedServer):
    reply = create_pacs_job(server, "accession_number:A1001", source_name="NOSUCHPACS")
    assert reply.status_code == 400
    message = reply.json()["errors"]["source_name"]
    assert message.startswith("Unknown source_name NOSUCHPACS (known: IDC_WADO, ")
    assert "LOCAL" in message


def test_a_wildcard_instance_id_is_refused_at_create(server: EmbeddedServer):
    reply = create_pacs_job(server, "accession_number:A1*")
    assert reply.status_code == 400
    assert "no wildcards" in reply.json()["errors"]["source_instance_id"]


def _count(server: EmbeddedServer, body: dict, token: str | None = None) -> httpx.Response:
    return httpx.post(
        f"{server.url}/ext/pacs/count",
        params={"user_name": server.user_name},
        headers={"Authorization": f"Token {token or server.token}"},
        json=body,
        timeout=30,
    )


def test_pacs_count_counts_studies_and_instances_per_identifier(
    server: EmbeddedServer, studies: dict[str, PacsStudy]
):
    identifiers = [
        "accession_number:A1001",
        f"study_instance_uid:{studies['other'].study_uid}",
        "accession_number:A2002",
        "accession_number:nothing",
        "accession_number:",
    ]
    reply = _count(server, {"source_name": "IDC_WADO", "identifiers": identifiers})
    assert reply.status_code == 200, reply.text
    counts = reply.json()["counts"]
    assert [(c["identifier"], c["studies"], c["instances"]) for c in counts[:4]] == [
        ("accession_number:A1001", 1, 4),
        (identifiers[1], 1, 2),
        ("accession_number:A2002", 2, 4),
        ("accession_number:nothing", 0, 0),
    ]
    assert [c["error"] for c in counts[:4]] == [None] * 4
    assert "is not a study" in counts[4]["error"]


def test_pacs_count_is_announced_and_refuses_bad_requests(server: EmbeddedServer):
    document = httpx.get(
        f"{server.url}/ext",
        params={"user_name": server.user_name},
        headers={"Authorization": f"Token {server.token}"},
    ).json()
    assert "pacs-count" in document["extensions"]
    assert _count(server, {"identifiers": []}, token="wrong").status_code == 401
    unknown = _count(server, {"source_name": "NOPE", "identifiers": ["1.2"]})
    assert unknown.status_code == 400 and "source_name" in unknown.json()["errors"]
    bad = _count(server, {"identifiers": "1.2"})
    assert bad.status_code == 400 and "identifiers" in bad.json()["errors"]


def test_pacs_count_on_a_dead_pacs_reports_the_trouble_for_every_identifier(
    server: EmbeddedServer,
):
    configure(server, new_node("DEAD", dimse=f"127.0.0.1:{_free_port()}", called_aet="X"))
    reply = _count(server, {"source_name": "DEAD", "identifiers": ["1.2", "1.3"]})
    errors = [c["error"] for c in reply.json()["counts"]]
    assert len(errors) == 2 and all(e.startswith("PACS DEAD: cannot connect") for e in errors)


def test_retrieved_files_are_gone_after_the_job(server: EmbeddedServer, tmp_path: Path):
    """The study is streamed to a temporary folder of the worker, removed when the job ends."""
    import tempfile

    before = set(Path(tempfile.gettempdir()).glob("anon-pacs-*"))
    run_pacs_job(server, "accession_number:A1001")
    left = set(Path(tempfile.gettempdir()).glob("anon-pacs-*")) - before
    # Another process's PACS job (a test suite run beside this one) may have made one of these:
    # it goes when that job ends. This job's own folder, left behind, would stay.
    deadline = time.monotonic() + 10
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = {folder for folder in left if folder.exists()}
    assert not left
