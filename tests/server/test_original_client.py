r"""The original `anonapi==2.1.2`, unchanged, against our server: its CLI and its WebAPIClient.

The full flow a user of the original knows: add the server, register the token with
`anon-server user add`, create jobs from a mapping on \\localhost\data, watch them reach DONE
with `anon batch status`, reset them, and get clear refusals for a wrong token or unknown job.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
import yaml
from click.testing import CliRunner

from anonapi_server.cli import cli as server_cli
from anonapi_server.pacs.local_pacs import running_local_pacs
from anonapi_server.sample_studies import write_study
from anonapi_server.testing import EmbeddedServer, running_server
from tests.support.original import original_anon, original_python
from tests.support.tutorial_pacs import write_tutorial_studies

USER = "z123"

MAPPING = """## Description ##
Two studies for the compatibility test
## Options ##
root_source_path,\\\\localhost\\data\\in
project,Wetenschap-Algemeen
destination_path,\\\\localhost\\data\\out
## Mapping ##
source,pseudo_id,pseudo_name,description
folder:study_a,001,PatientA,first study
folder:study_b,002,PatientB,second study
"""

CLIENT_SCRIPT = """
import json, sys
from anonapi.client import AnonClientTool, WebAPIClient
from anonapi.objects import RemoteAnonServer

url, user, token, source, destination = sys.argv[1:]
server = RemoteAnonServer("local", url)
tool = AnonClientTool(user, token)
out = {"documentation": sorted(WebAPIClient(url, user, token).get_documentation())}
job = tool.create_path_job(server, "Wetenschap-Algemeen", source, destination, "by original",
                           anon_name="NameX", anon_id="IdX")
out["created"] = job.job_id
out["extended"] = [j.source_anonymizedpatientid
                   for j in tool.get_job_info_list(server, [job.job_id], get_extended_info=True)]
for name, client, fn, kw in [
    ("unknown", WebAPIClient(url, user, token), "get_job", {"job_id": 999999}),
    ("wrong_token", WebAPIClient(url, user, "wrong"), "get_jobs", {}),
    ("not_unc", WebAPIClient(url, user, token), "create_job",
     {"source_type": "PATH", "source_path": "C:/data", "destination_path": destination,
      "project_name": "Wetenschap-Algemeen"}),
]:
    try:
        getattr(client, "post" if fn == "create_job" else "get")(fn, **kw)
        out[name] = "no error"
    except Exception as e:
        out[name] = f"{type(e).__name__}: {e}"
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    with running_server(workers=2) as running:
        yield running


@pytest.fixture(scope="module")
def user_home(tmp_path_factory: pytest.TempPathFactory, server: EmbeddedServer) -> Path:
    """A home for the original's settings file, with our server active and its token registered."""
    home = tmp_path_factory.mktemp("original-home")
    anon(home, home, "server", "add", "local", server.url)
    anon(home, home, "server", "activate", "local")
    anon(home, home, "settings", "user", "set-username", USER)
    anon(home, home, "settings", "user", "get-token")
    token = yaml.safe_load((home / "AnonWebAPIClientSettings.yml").read_text())["user_token"]
    result = CliRunner().invoke(
        server_cli, ["user", "add", USER, "--token", token, "--home", str(server.home)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == token
    return home


def anon(home: Path, cwd: Path, *args: str, answer: str = "") -> str:
    """Run the original CLI; return stdout + stderr."""
    done = subprocess.run(
        [*original_anon(), *args],
        cwd=cwd,
        env={**os.environ, "HOME": str(home), "USERPROFILE": str(home)},
        input=answer,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout + done.stderr


def test_original_cli_creates_jobs_from_a_mapping_watches_them_done_and_resets_them(
    server: EmbeddedServer, user_home: Path, tmp_path: Path
):
    for name, patient in (("study_a", "PA"), ("study_b", "PB")):
        write_study(
            server.share_root / "in" / name,
            patient_id=patient,
            patient_name="X",
            rows=8,
            columns=8,
        )
    (tmp_path / "anon_mapping.csv").write_text(MAPPING)
    anon(user_home, tmp_path, "map", "activate")
    created = anon(user_home, tmp_path, "create", "from-mapping", answer="y\n")
    assert "created 2 jobs" in created, created
    job_ids = yaml.safe_load((tmp_path / ".anonbatch").read_text())["job_ids"]
    assert server.wait_for(job_ids) == {int(i): "DONE" for i in job_ids}

    status = anon(user_home, tmp_path, "batch", "status")
    assert f"Job info for 2 jobs on local: {server.url}" in status, status
    assert status.count("DONE") == 3  # two rows and the summary
    assert (server.share_root / "out" / job_ids[0]).is_dir()

    reset = anon(user_home, tmp_path, "batch", "reset", answer="y\n")
    assert all(f"Reset job {i}" in reset for i in job_ids), reset
    assert server.wait_for(job_ids) == {int(i): "DONE" for i in job_ids}


def test_original_cli_sees_the_server_online_and_lists_its_jobs(
    server: EmbeddedServer, user_home: Path
):
    assert "is online and responsive" in anon(user_home, user_home, "server", "status")
    listing = anon(user_home, user_home, "server", "jobs")
    assert "most recent 50 jobs on local" in listing and "Error" not in listing


def test_original_cli_reports_an_unknown_job(server: EmbeddedServer, user_home: Path):
    output = anon(user_home, user_home, "job", "info", "987654")
    assert "Job with id 987654 does not exist" in output


def test_original_cli_reports_a_wrong_token(server: EmbeddedServer, user_home: Path, tmp_path):
    settings = yaml.safe_load((user_home / "AnonWebAPIClientSettings.yml").read_text())
    settings["user_token"] = "not-the-registered-token"
    (tmp_path / "AnonWebAPIClientSettings.yml").write_text(yaml.safe_dump(settings))
    output = anon(tmp_path, tmp_path, "job", "info", "1")
    assert "401 - Unauthorized" in output


def test_original_web_api_client_drives_our_server(server: EmbeddedServer, user_home: Path):
    token = yaml.safe_load((user_home / "AnonWebAPIClientSettings.yml").read_text())["user_token"]
    write_study(
        server.share_root / "in" / "lib", patient_id="PL", patient_name="L", rows=8, columns=8
    )
    done = subprocess.run(
        [
            str(original_python()),
            "-c",
            CLIENT_SCRIPT,
            server.url,
            USER,
            token,
            server.unc("in", "lib"),
            server.unc("out"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["documentation"] == ["functions", "overview"]
    assert out["extended"] == ["IdX"]
    assert server.wait_for([out["created"]]) == {out["created"]: "DONE"}
    assert "Job with id 999999 does not exist" in out["unknown"]
    assert out["wrong_token"].startswith("APIClientAuthorizationFailedException")
    assert out["not_unc"].startswith("APIClientAPIException") and "not a UNC path" in out["not_unc"]


PACS_MAPPING = """## Description ##
Mapping created February 12 2020
## Options ##
project,Wetenschap-Algemeen
destination_path,\\\\localhost\\data\\myoutput
## Mapping ##
source, patient_id, patient_name, description
accession_number:123456.1234567, 001, Patient2, Test PACS project
accession_number:123456.2234568, 002, Patient2, Test PACS project
study_instance_uid:{uid}, 003, Patient3, Test PACS project
"""


def test_original_cli_follows_the_pacs_tutorial_to_deidentified_studies_on_the_share(
    server: EmbeddedServer, user_home: Path, tmp_path: Path
):
    """The seed's "Anonymize files from PACS" example against a real DIMSE PACS.

    Literally, except the options have no space after the comma: the original itself refuses
    ' \\\\localhost\\...' as "not an absolute windows path".
    """
    pacs_files = tmp_path / "pacs"
    uids = write_tutorial_studies(
        pacs_files, ("123456.1234567", "123456.2234568", "99887766"), "PACS"
    )
    project_folder = tmp_path / "project"
    project_folder.mkdir()
    (project_folder / "anon_mapping.csv").write_text(PACS_MAPPING.format(uid=uids[2]))
    with running_local_pacs(pacs_files) as pacs:
        add = CliRunner().invoke(
            server_cli,
            [
                "pacs",
                "add",
                "HOSPITAL",
                "--dimse",
                pacs.address,
                "--called-aet",
                pacs.ae_title,
                "--default",
                "--home",
                str(server.home),
            ],
        )
        assert add.exit_code == 0, add.output
        anon(user_home, project_folder, "map", "activate")
        created = anon(user_home, project_folder, "create", "from-mapping", answer="y\n")
        assert "created 3 jobs" in created, created
        job_ids = yaml.safe_load((project_folder / ".anonbatch").read_text())["job_ids"]
        assert server.wait_for(job_ids) == {int(i): "DONE" for i in job_ids}
    status = anon(user_home, project_folder, "batch", "status")
    assert status.count("DONE") == 4, status  # three rows and the summary
    for job_id in job_ids:
        folder = server.share_root / "myoutput" / str(job_id)
        written = sorted(p for p in folder.rglob("*.dcm"))
        assert len(written) == 2
        assert pydicom.dcmread(written[0]).PatientName in ("Patient2", "Patient3")
