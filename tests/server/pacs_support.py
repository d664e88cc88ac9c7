"""Generated PACS studies, a PACS job as the original client creates it, and a PACS that never
answers: what the PACS test modules share."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pydicom

from anonapi_server.admin import add_pacs
from anonapi_server.config import ServerHome
from anonapi_server.pacs.config import PacsNode
from anonapi_server.sample_studies import write_study
from anonapi_server.testing import EmbeddedServer
from tests.server.conftest import PROJECT, call


@dataclass(frozen=True)
class PacsStudy:
    patient_id: str
    accession_number: str
    study_uid: str
    files: list[Path]


def write_pacs_studies(folder: Path) -> dict[str, PacsStudy]:
    """Four small studies: two with their own accession number, two sharing one ("twice")."""
    studies = {}
    for seed, (name, patient, accession, n) in enumerate(
        (
            ("single", "PACSP1", "A1001", 4),
            ("other", "PACSP2", "A1002", 2),
            ("twice_a", "PACSP3", "A2002", 2),
            ("twice_b", "PACSP4", "A2002", 2),
        )
    ):
        files = write_study(
            folder / name,
            patient_id=patient,
            patient_name="Pacs^Patient",
            n_files=n,
            rows=16,
            columns=16,
            accession_number=accession,
            seed=seed,
        )
        uid = str(pydicom.dcmread(files[0], stop_before_pixels=True).StudyInstanceUID)
        studies[name] = PacsStudy(patient, accession, uid, files)
    return studies


def configure(server: EmbeddedServer, node: PacsNode, *, default: bool = False) -> None:
    add_pacs(ServerHome(server.home), node, default=default)


def create_pacs_job(server: EmbeddedServer, instance_id: str, **params: str):  # noqa: ANN201
    values = {
        "source_type": "WADO",
        "source_name": "IDC_WADO",
        "source_instance_id": instance_id,
        "destination_type": "PATH",
        "destination_path": server.unc("out"),
        "project_name": PROJECT,
        "anonymizedpatientid": "PSEUDO9",
        "anonymizedpatientname": "Pseudo^Nine",
        **params,
    }
    return call(server, "create_job", "POST", **values)


def run_pacs_job(server: EmbeddedServer, instance_id: str, **params: str) -> dict:
    reply = create_pacs_job(server, instance_id, **params)
    assert reply.status_code == 200, reply.text
    job_id = reply.json()["job_id"]
    server.wait_for([job_id], timeout=60)
    return call(server, "get_job", job_id=job_id).json()


def output_files(server: EmbeddedServer, job_id: int) -> list[Path]:
    folder = server.share_root / "out" / str(job_id)
    return sorted(folder.rglob("*.dcm"))


@contextmanager
def silent_listener() -> Iterator[int]:
    """A loopback port that accepts connections and never says a word: a hung PACS."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]
