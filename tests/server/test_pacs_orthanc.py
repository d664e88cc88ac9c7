"""PACS jobs against Orthanc, the most used open PACS: DICOMweb (QIDO-RS + WADO-RS) and DIMSE
(C-FIND + C-GET, C-FIND + C-MOVE). One Orthanc per module, studies uploaded through its REST API.

Skipped with the reason where Orthanc is not installed; under CI=true that is a failure.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pydicom
import pytest

from anonapi_server.pacs.config import new_node
from anonapi_server.testing import EmbeddedServer, running_server
from tests.server.pacs_support import (
    PacsStudy,
    configure,
    output_files,
    run_pacs_job,
    write_pacs_studies,
)
from tests.support.orthanc import Orthanc, running_orthanc


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PacsStudy]:
    return write_pacs_studies(tmp_path_factory.mktemp("orthanc-studies"))


@pytest.fixture(scope="module")
def orthanc(
    studies: dict[str, PacsStudy], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Orthanc]:
    with running_orthanc(tmp_path_factory.mktemp("orthanc")) as running:
        running.upload(path for study in studies.values() for path in study.files)
        yield running


@pytest.fixture(scope="module")
def server(orthanc: Orthanc) -> Iterator[EmbeddedServer]:
    with running_server(workers=1) as running:
        configure(running, new_node("ORTHANCWEB", dicomweb=orthanc.dicomweb_url), default=True)
        configure(
            running, new_node("ORTHANCGET", dimse=orthanc.dimse_address, called_aet=orthanc.aet)
        )
        configure(
            running,
            new_node(
                "ORTHANCMOVE",
                dimse=orthanc.dimse_address,
                called_aet=orthanc.aet,
                retrieve="move",
                move_port=orthanc.move_port,
            ),
        )
        configure(
            running, new_node("ORTHANCWRONG", dimse=orthanc.dimse_address, called_aet="WRONG")
        )
        yield running


@pytest.mark.parametrize("source_name", ["IDC_WADO", "ORTHANCGET", "ORTHANCMOVE"])
def test_a_study_by_accession_number_comes_over_each_protocol(
    server: EmbeddedServer, studies: dict[str, PacsStudy], source_name: str
):
    job = run_pacs_job(server, "accession_number:A1001", source_name=source_name)
    assert (job["status"], job["error"]) == ("DONE", None)
    assert (job["files_downloaded"], job["files_processed"]) == (4, 4)
    written = output_files(server, job["job_id"])
    assert len(written) == 4
    ds = pydicom.dcmread(written[0])
    assert ds.PatientID == "PSEUDO9"
    assert ds.StudyInstanceUID != studies["single"].study_uid


@pytest.mark.parametrize("source_name", ["ORTHANCWEB", "ORTHANCGET"])
def test_a_study_by_study_instance_uid_is_done(
    server: EmbeddedServer, studies: dict[str, PacsStudy], source_name: str
):
    job = run_pacs_job(server, studies["other"].study_uid, source_name=source_name)
    assert (job["status"], job["files_processed"]) == ("DONE", 2), job["error"]


@pytest.mark.parametrize("source_name", ["ORTHANCWEB", "ORTHANCGET"])
def test_failures_name_the_pacs_and_what_to_do(
    server: EmbeddedServer, studies: dict[str, PacsStudy], source_name: str
):
    missing = run_pacs_job(server, "accession_number:123", source_name=source_name)
    assert missing["error"] == f"PACS {source_name}: no study with accession number 123"
    twice = run_pacs_job(server, "accession_number:A2002", source_name=source_name)
    assert twice["error"].startswith(
        f"PACS {source_name}: accession number A2002 matches 2 studies"
    )
    assert studies["twice_a"].study_uid in twice["error"]
    assert studies["twice_b"].study_uid in twice["error"]


def test_orthanc_refuses_a_wrong_called_ae_title(server: EmbeddedServer):
    job = run_pacs_job(server, "accession_number:A1001", source_name="ORTHANCWRONG")
    assert job["status"] == "ERROR"
    assert job["error"].startswith("PACS ORTHANCWRONG refused association: called AE title 'WRONG'")


@pytest.mark.parametrize("source_name", ["ORTHANCWEB", "ORTHANCGET"])
def test_pacs_count_asks_orthanc_over_each_protocol(
    server: EmbeddedServer, studies: dict[str, PacsStudy], source_name: str
):
    reply = httpx.post(
        f"{server.url}/ext/pacs/count",
        params={"user_name": server.user_name},
        headers={"Authorization": f"Token {server.token}"},
        json={
            "source_name": source_name,
            "identifiers": ["accession_number:A2002", studies["single"].study_uid],
        },
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    counts = [(c["studies"], c["instances"], c["error"]) for c in reply.json()["counts"]]
    assert counts == [(2, 4, None), (1, 4, None)]
