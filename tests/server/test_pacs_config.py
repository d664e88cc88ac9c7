"""`anon-server pacs add/list/remove`, what IDC_WADO resolves to, and what retrieval logs."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from anonapi_server.admin import init_home
from anonapi_server.cli import cli
from anonapi_server.config import ServerHome
from anonapi_server.pacs.config import UnknownSource, new_node, resolve
from anonapi_server.pacs.local_pacs import running_local_pacs
from anonapi_server.pacs.retrieve import retrieve_study
from anonapi_server.store import Store
from tests.server.pacs_support import write_pacs_studies


@pytest.fixture
def home(tmp_path: Path) -> ServerHome:
    server_home = ServerHome(tmp_path / "home")
    init_home(server_home)
    return server_home


def pacs(home: ServerHome, *args: str):  # noqa: ANN201 - click Result
    return CliRunner().invoke(cli, ["pacs", *args, "--home", str(home.root)])


def test_pacs_add_list_remove_and_the_default(home: ServerHome):
    first = pacs(home, "add", "WEB", "--dicomweb", "http://127.0.0.1:8042/dicom-web/")
    assert first.exit_code == 0, first.output
    assert (
        first.output.strip() == "Added PACS WEB (default): DICOMweb http://127.0.0.1:8042/dicom-web"
    )
    second = pacs(
        home, "add", "DIMSE", "--dimse", "pacs.local:104", "--called-aet", "PACS", "--default"
    )
    assert second.exit_code == 0, second.output
    listing = pacs(home, "list").output.splitlines()
    assert listing == [
        "DIMSE (default): DIMSE pacs.local:104 called AE PACS, calling AE ANONAPI, C-GET",
        "WEB: DICOMweb http://127.0.0.1:8042/dicom-web",
    ]
    as_json = json.loads(pacs(home, "list", "--json").output)
    assert [(n["name"], n["is_default"]) for n in as_json] == [("DIMSE", True), ("WEB", False)]
    store = Store(home.load_config().database_url)
    try:
        assert resolve(store, "IDC_WADO").name == "DIMSE"
        assert resolve(store, None).name == "DIMSE"
        assert resolve(store, "WEB").url == "http://127.0.0.1:8042/dicom-web"
        assert pacs(home, "remove", "DIMSE").exit_code == 0
        with pytest.raises(UnknownSource, match="No default PACS configured for IDC_WADO"):
            resolve(store, "IDC_WADO")
    finally:
        store.close()
    assert pacs(home, "list").output.strip() == "WEB: DICOMweb http://127.0.0.1:8042/dicom-web"


def test_replacing_the_default_pacs_keeps_it_the_default(home: ServerHome):
    pacs(home, "add", "A", "--dicomweb", "http://a/dicom-web")
    pacs(home, "add", "B", "--dicomweb", "http://b/dicom-web")
    pacs(home, "add", "A", "--dicomweb", "http://a2/dicom-web")
    assert pacs(home, "list").output.splitlines()[0] == "A (default): DICOMweb http://a2/dicom-web"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["X"], "Give either --dicomweb URL or --dimse HOST:PORT"),
        (["X", "--dicomweb", "ftp://x"], "--dicomweb must be an http(s) URL"),
        (["X", "--dimse", "host"], "--dimse must be HOST:PORT, not 'host'"),
        (["X", "--dimse", "host:104"], "--dimse needs --called-aet"),
        (["X", "--dimse", "h:104", "--called-aet", "A" * 17], "--called-aet must be 1 to 16"),
        (["X", "--dimse", "h:104", "--called-aet", "P", "--retrieve", "move"], "needs --move-port"),
        (["IDC_WADO", "--dicomweb", "http://x"], "IDC_WADO always means the default PACS"),
        (["X", "--dicomweb", "http://x", "--timeout", "0"], "--timeout must be a positive"),
    ],
)
def test_pacs_add_refuses_bad_settings_in_one_line(home: ServerHome, args: list[str], message: str):
    result = pacs(home, "add", *args)
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_removing_an_unknown_pacs_says_so(home: ServerHome):
    result = pacs(home, "remove", "NOPE")
    assert result.exit_code == 1
    assert "No PACS named NOPE" in result.output


def test_retrieval_logs_no_uid_accession_number_or_patient_id(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    studies = write_pacs_studies(tmp_path / "studies")
    study = studies["single"]
    caplog.set_level(logging.DEBUG)
    with running_local_pacs(tmp_path / "studies") as local:
        node = new_node("LOG", dimse=local.address, called_aet=local.ae_title, timeout=10)
        got: list[bytes] = []
        retrieve_study(node, f"accession_number:{study.accession_number}", got.append)
    assert len(got) == 4 and all(data[128:132] == b"DICM" for data in got)
    for value in (study.study_uid, study.accession_number, study.patient_id):
        assert value not in caplog.text
