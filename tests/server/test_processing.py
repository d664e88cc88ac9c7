"""Jobs run by real worker processes: sources, output, errors a user can act on, reset, cancel."""

from __future__ import annotations

import time
from pathlib import Path

import pydicom
import yaml

from anonapi_server.admin import add_opt_out
from anonapi_server.config import ServerHome
from anonapi_server.testing import EmbeddedServer
from tests.server.conftest import (
    PROJECT,
    call,
    create_path_job,
    reset_job,
    set_opt_out_ignore,
    wait_until_started,
    write_small_study,
)


def run_job(server: EmbeddedServer, source_path: str, **params) -> dict:
    reply = create_path_job(server, source_path, **params)
    assert reply.status_code == 200, reply.text
    job_id = reply.json()["job_id"]
    server.wait_for([job_id], timeout=30)
    return call(server, "get_job", job_id=job_id).json()


def output_files(server: EmbeddedServer, job_id: int) -> list[Path]:
    return server.output_files("out", str(job_id))


def test_a_folder_job_is_deidentified_into_destination_job_folder(server: EmbeddedServer):
    job = run_job(server, "folder:" + write_small_study(server, "folder_job"))
    assert (job["status"], job["files_downloaded"], job["files_processed"]) == ("DONE", 3, 3)
    written = output_files(server, job["job_id"])
    assert len(written) == 3
    ds = pydicom.dcmread(written[0])
    assert (ds.PatientID, str(ds.PatientName)) == ("PSEUDO1", "Pseudo^One")


def test_a_bare_unc_source_path_is_read_as_a_folder(server: EmbeddedServer):
    job = run_job(server, write_small_study(server, "bare_job"))
    assert job["status"] == "DONE"
    assert len(output_files(server, job["job_id"])) == 3


def test_a_fileselection_job_processes_only_the_selected_files(server: EmbeddedServer):
    folder_unc = write_small_study(server, "selection_job", n_files=4)
    selection = server.local(folder_unc) / "fileselection.txt"
    selection.write_text(
        yaml.safe_dump({"description": "d", "id": "x", "selected_paths": ["1", "sub\\..\\3"]})
    )
    job = run_job(server, "fileselection:" + folder_unc + "\\fileselection.txt")
    assert (job["status"], job["files_processed"]) == ("DONE", 2)
    assert [p.name for p in output_files(server, job["job_id"])] == ["1.dcm", "3.dcm"]


def test_a_fileselection_pointing_outside_the_share_ends_in_error(server: EmbeddedServer):
    folder = server.share_root / "in" / "escaping"
    folder.mkdir(parents=True)
    (folder / "fileselection.txt").write_text(
        yaml.safe_dump({"description": "d", "id": "x", "selected_paths": ["../../../../etc/hosts"]})
    )
    job = run_job(server, "fileselection:" + server.unc("in", "escaping", "fileselection.txt"))
    assert job["status"] == "ERROR"
    assert "leads outside its share" in job["error"]


def test_a_missing_source_folder_ends_in_an_error_naming_it(server: EmbeddedServer):
    job = run_job(server, "folder:" + server.unc("in", "never_made"))
    assert job["status"] == "ERROR"
    assert job["error"] == (
        r"Source folder \\localhost\data\in\never_made does not exist or cannot be read"
    )


def test_a_source_without_dicom_files_ends_in_error(server: EmbeddedServer):
    folder = server.share_root / "in" / "no_dicom"
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("not an image")
    job = run_job(server, "folder:" + server.unc("in", "no_dicom"))
    assert job["status"] == "ERROR"
    assert "holds no DICOM files" in job["error"]


def test_a_file_the_engine_cannot_read_is_skipped_with_its_reason_and_the_job_goes_on(
    server: EmbeddedServer,
):
    unc = write_small_study(server, "corrupt", n_files=2)
    bad = server.local(unc) / "bad"
    bad.write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\xff\x00garbage")
    job = run_job(server, "folder:" + unc)
    assert (job["status"], job["files_processed"], job["files_skipped"]) == ("DONE", 3, 1)
    assert job["error"].startswith("1 file(s) skipped (")
    assert "bad" not in job["error"]  # reasons name no files
    assert len(output_files(server, job["job_id"])) == 2


def test_a_source_of_only_unreadable_files_ends_in_error(server: EmbeddedServer):
    folder = server.share_root / "in" / "only_corrupt"
    folder.mkdir(parents=True)
    (folder / "bad").write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\xff\x00garbage")
    job = run_job(server, "folder:" + server.unc("in", "only_corrupt"))
    assert job["status"] == "ERROR" and "holds no DICOM files" in job["error"]
    assert not (server.share_root / "out" / str(job["job_id"])).exists()


def test_burned_in_files_are_quarantined_and_the_job_says_so(server: EmbeddedServer):
    job = run_job(
        server, "folder:" + write_small_study(server, "burned", burned_in=True, modality="US")
    )
    assert job["status"] == "DONE"
    assert job["files_quarantined"] == 3
    assert job["error"] == (
        "3 file(s) quarantined (burned-in annotation: BurnedInAnnotation is YES: 3)"
    )
    assert output_files(server, job["job_id"]) == []


def test_a_wado_job_on_a_server_without_pacs_ends_in_error_saying_how_to_add_one(
    server: EmbeddedServer,
):
    reply = call(
        server,
        "create_job",
        "POST",
        source_type="WADO",
        source_name="IDC_WADO",
        source_instance_id="1.2.3.4",
        destination_type="PATH",
        destination_path=server.unc("out"),
        project_name=PROJECT,
    )
    job_id = reply.json()["job_id"]
    server.wait_for([job_id])
    job = call(server, "get_job", job_id=job_id).json()
    assert job["status"] == "ERROR"
    assert job["error"].startswith("No default PACS configured for IDC_WADO")
    assert "anon-server pacs add" in job["error"]


def test_opted_out_patient_errors_until_opt_out_is_ignored_and_the_job_reset(
    server: EmbeddedServer,
):
    add_opt_out(ServerHome(server.home), "OPTOUT1")
    job = run_job(server, "folder:" + write_small_study(server, "opt_out", patient_id="OPTOUT1"))
    assert job["status"] == "ERROR"
    assert "opt-out list" in job["error"] and "OPTOUT1" not in job["error"]
    job_id = job["job_id"]
    set_opt_out_ignore(server, job_id, "consent given")
    reset_job(server, job_id)
    assert server.wait_for([job_id]) == {job_id: "DONE"}


def test_a_job_created_with_opt_out_ignore_runs_for_an_opted_out_patient(server: EmbeddedServer):
    add_opt_out(ServerHome(server.home), "OPTOUT2")
    source = "folder:" + write_small_study(server, "opt_out_ignored", patient_id="OPTOUT2")
    job = run_job(server, source, source_ignore_opt_out="True")
    assert job["status"] == "DONE"


def test_reset_runs_a_done_job_again_and_replaces_its_output(server: EmbeddedServer):
    job = run_job(server, "folder:" + write_small_study(server, "reset_me"))
    job_id = job["job_id"]
    before = output_files(server, job_id)
    for old in before:
        old.write_bytes(b"from an earlier run")
    assert reset_job(server, job_id).json()["status"] == "ACTIVE"
    assert server.wait_for([job_id]) == {job_id: "DONE"}
    after = output_files(server, job_id)
    assert after == before and all(p.read_bytes() != b"from an earlier run" for p in after)


def test_cancel_stops_a_running_job_between_files_without_output(server: EmbeddedServer):
    source = write_small_study(server, "long_cancel", n_files=1000)  # still running at the cancel
    job_id = create_path_job(server, "folder:" + source).json()["job_id"]
    wait_until_started(server, job_id)
    assert call(server, "cancel_job", "POST", job_id=job_id).json()["status"] == "INACTIVE"
    time.sleep(0.5)
    assert call(server, "get_job", job_id=job_id).json()["status"] == "INACTIVE"
    assert not (server.share_root / "out" / str(job_id)).exists()
    assert not list((server.share_root / "out").glob(f".{job_id}.*"))


def test_reset_while_running_stops_the_attempt_and_the_new_one_finishes(server: EmbeddedServer):
    source = write_small_study(server, "long_reset", n_files=300)
    job_id = create_path_job(server, "folder:" + source).json()["job_id"]
    wait_until_started(server, job_id)
    reset_job(server, job_id)
    assert server.wait_for([job_id]) == {job_id: "DONE"}
    job = call(server, "get_job", job_id=job_id).json()
    assert (job["files_downloaded"], job["files_processed"]) == (300, 300)
    assert len(output_files(server, job_id)) == 300
