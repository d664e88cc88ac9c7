"""The seed's "Anonymize files from PACS" example with our `anon`, against an embedded server whose
default PACS is a real DIMSE PACS: the mapping as the tutorial shows it ends in de-identified
studies on the share."""

from __future__ import annotations

from pathlib import Path

import pydicom
import yaml

from anonapi_server.admin import add_pacs
from anonapi_server.config import ServerHome
from anonapi_server.pacs.config import new_node
from anonapi_server.pacs.local_pacs import running_local_pacs
from anonapi_server.testing import EmbeddedServer
from tests.cli.conftest import Anon, connect
from tests.support.tutorial_pacs import write_tutorial_studies

MAPPING = """## Description ##
Mapping created February 12 2020
## Options ##
project, Wetenschap-Algemeen
destination_path, {destination}
## Mapping ##
source, patient_id, patient_name, description
accession_number:123456.1234567, 001, Patient2, Test PACS project
accession_number:123456.2234568, 002, Patient2, Test PACS project
study_instance_uid:{uid}, 003, Patient3, Test PACS project
"""


def test_pacs_tutorial_ends_with_deidentified_studies_on_the_share(
    anon: Anon, anon_server: EmbeddedServer, workdir: Path, tmp_path: Path
) -> None:
    server = anon_server
    uids = write_tutorial_studies(
        tmp_path / "pacs", ("123456.1234567", "123456.2234568", "55555"), "TUT"
    )
    connect(anon, server)
    assert anon("map", "init").exit_code == 0
    (workdir / "anon_mapping.csv").write_text(
        MAPPING.format(destination=server.unc("myoutput"), uid=uids[2])
    )
    with running_local_pacs(tmp_path / "pacs") as pacs:
        node = new_node("HOSPITAL", dimse=pacs.address, called_aet=pacs.ae_title)
        add_pacs(ServerHome(server.home), node, default=True)
        created = anon("create", "from-mapping", "--yes")
        assert created.exit_code == 0, created.output
        job_ids = yaml.safe_load((workdir / ".anonbatch").read_text())["job_ids"]
        assert len(job_ids) == 3
        watched = anon("batch", "status", "--watch", "--interval", "0.2")
    assert watched.exit_code == 0
    assert server.wait_for(job_ids) == {int(i): "DONE" for i in job_ids}
    for job_id in job_ids:
        written = sorted((server.share_root / "myoutput" / str(job_id)).rglob("*.dcm"))
        assert len(written) == 2
        assert pydicom.dcmread(written[0]).PatientID in ("001", "002", "003")
