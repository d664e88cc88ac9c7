"""Where output goes and what it may replace (issue 8, findings 2, 3, 10, 12).

The worker runs in this process (a server without worker processes), so each test decides when
the job runs and can look at the share before and after.
"""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path

import pydicom
import pytest

from anonapi_server import worker as worker_module
from anonapi_server.admin import add_opt_out
from anonapi_server.config import ServerHome
from anonapi_server.privacy import quiet_pydicom
from anonapi_server.publish import MARKER, remove_leftovers
from anonapi_server.testing import EmbeddedServer, running_server
from tests.server.conftest import call, create_path_job, new_job, run_once, write_small_study


def test_an_existing_folder_named_like_the_job_is_left_alone_and_the_job_errors(
    idle_server: EmbeddedServer,
):
    job_id = new_job(idle_server, "folder:" + write_small_study(idle_server, "theirs", n_files=1))
    theirs = idle_server.share_root / "out" / str(job_id)
    theirs.mkdir(parents=True)
    (theirs / "precious.txt").write_text("a user's own work")
    job = run_once(idle_server, job_id)
    assert job["status"] == "ERROR"
    assert "already exists" in job["error"] and "move or rename it" in job["error"]
    assert sorted(p.name for p in theirs.iterdir()) == ["precious.txt"]
    assert not list(theirs.parent.glob(f".{job_id}.*"))


def test_a_destination_that_is_the_parent_of_a_source_named_like_the_job_keeps_the_originals(
    idle_server: EmbeddedServer,
):
    job_id = new_job(
        idle_server, "folder:" + write_small_study(idle_server, "placeholder", n_files=1)
    )
    source = write_small_study(idle_server, f"parent/{job_id}", n_files=2)
    originals = sorted(p.read_bytes() for p in idle_server.local(source).iterdir())
    reply = call(
        idle_server,
        "modify_job",
        "POST",
        job_id=job_id,
        source_path="folder:" + source,
        destination_path=idle_server.unc("in", "parent"),
    )
    assert reply.status_code == 200, reply.text
    job = run_once(idle_server, job_id)
    assert job["status"] == "ERROR"
    assert sorted(p.read_bytes() for p in idle_server.local(source).iterdir()) == originals


def test_a_rerun_replaces_its_own_output_but_not_files_somebody_added(
    idle_server: EmbeddedServer,
):
    job_id = new_job(idle_server, "folder:" + write_small_study(idle_server, "rerun", n_files=2))
    assert run_once(idle_server, job_id)["status"] == "DONE"
    output = idle_server.share_root / "out" / str(job_id)
    assert (output / MARKER).is_file()
    added = output / "notes.txt"
    added.write_text("somebody's notes")
    call(idle_server, "modify_job", "POST", job_id=job_id, status="ACTIVE")
    job = run_once(idle_server, job_id)
    assert job["status"] == "ERROR" and "did not write" in job["error"]
    assert added.read_text() == "somebody's notes"
    added.unlink()
    call(idle_server, "modify_job", "POST", job_id=job_id, status="ACTIVE")
    assert run_once(idle_server, job_id)["status"] == "DONE"
    assert len(idle_server.output_files("out", str(job_id))) == 2
    assert not list(output.parent.glob(f".{job_id}.*"))


@pytest.mark.parametrize("where", [(), ("sub",)])
def test_a_destination_equal_to_or_inside_the_source_is_refused(
    idle_server: EmbeddedServer, where: tuple[str, ...]
):
    source = write_small_study(idle_server, "nest", n_files=1)
    destination = "\\".join([source, *where])
    reply = create_path_job(idle_server, "folder:" + source, destination_path=destination)
    assert reply.status_code == 400
    assert "inside" in reply.json()["errors"]["destination_path"]
    job_id = new_job(idle_server, "folder:" + source)
    reply = call(idle_server, "modify_job", "POST", job_id=job_id, destination_path=destination)
    assert reply.status_code == 400
    assert "inside" in reply.json()["errors"]["destination_path"]
    call(idle_server, "cancel_job", "POST", job_id=job_id)


def test_the_output_names_no_source_file_or_folder(idle_server: EmbeddedServer):
    source = write_small_study(idle_server, "Doe^John_12345", n_files=2)
    for path in idle_server.local(source).iterdir():
        path.rename(path.with_name(f"DOE_JOHN_{path.name}.dcm"))
    job = run_once(idle_server, new_job(idle_server, "folder:" + source))
    assert job["status"] == "DONE"
    written = idle_server.output_files("out", str(job["job_id"]))
    relative = [p.relative_to(idle_server.share_root / "out").as_posix() for p in written]
    assert relative == [f"{job['job_id']}/1/1.dcm", f"{job['job_id']}/1/2.dcm"]


def test_the_opt_out_error_names_no_patient(idle_server: EmbeddedServer):
    add_opt_out(ServerHome(idle_server.home), "SECRET-PID-77")
    source = write_small_study(idle_server, "optout", patient_id="SECRET-PID-77", n_files=1)
    job = run_once(idle_server, new_job(idle_server, "folder:" + source))
    assert job["status"] == "ERROR"
    assert "opt-out" in job["error"] and "SECRET-PID-77" not in job["error"]


def test_an_internal_error_tells_a_reference_not_a_local_path(
    idle_server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    def broken(*_args, **_kwargs):
        raise RuntimeError(f"failed at {idle_server.share_root}/Doe" + "^John")

    monkeypatch.setattr(worker_module, "Placer", broken)
    job = run_once(
        idle_server, new_job(idle_server, "folder:" + write_small_study(idle_server, "bug"))
    )
    assert job["status"] == "ERROR"
    assert job["error"].startswith("Internal server error (reference ")
    assert str(idle_server.share_root) not in job["error"]
    assert "Doe^John" not in caplog.text and str(idle_server.share_root) not in caplog.text


def test_pydicom_warnings_quoting_values_are_silenced_in_workers(tmp_path: Path):
    path = tmp_path / "f.dcm"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.Dataset()
        # A name component over 64 characters: reading it makes pydicom warn, and log, about it.
        ds.PatientName = "SECRET" * 12
        ds.save_as(path, implicit_vr=True, little_endian=True)
    pydicom_log = logging.getLogger("pydicom")
    saved = (pydicom_log.level, pydicom_log.propagate)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _ = pydicom.dcmread(path, force=True).PatientName
        assert caught, "no warning to silence"
        caught.clear()
        try:
            quiet_pydicom()
            assert not pydicom_log.isEnabledFor(logging.CRITICAL)
            _ = pydicom.dcmread(path, force=True).PatientName
        finally:
            pydicom_log.setLevel(saved[0])
            pydicom_log.propagate = saved[1]
    assert caught == []


def test_leftover_partial_folders_are_removed_at_start_but_not_a_users(
    idle_server: EmbeddedServer,
):
    out = idle_server.share_root / "out"
    job_id = new_job(idle_server, "folder:" + write_small_study(idle_server, "leftover", n_files=1))
    ours = out / f".{job_id}.1.partial"
    ours.mkdir(parents=True)
    (ours / MARKER).write_text(f'{{"job_id": {job_id}, "files": null}}')
    (ours / "1").mkdir()
    (ours / "1" / "1.dcm").write_bytes(b"half")
    users = out / f".{job_id + 1000}.1.partial"
    users.mkdir()
    (users / "mine.txt").write_text("not the server's")
    remove_leftovers(idle_server.store)
    assert not ours.exists()
    assert (users / "mine.txt").exists()


def test_a_killed_attempts_hidden_folder_is_removed_when_the_next_attempt_starts():
    """An attempt whose worker died with its machine leaves its hidden folder; the attempt that
    takes the job over removes it (marked as ours) rather than leaving it beside the published
    output until the server restarts. A folder of that name somebody else made stays."""
    with running_server(workers=0) as server:  # its own: the job claimed must be this one
        _the_next_attempt_removes_the_killed_ones_folder(server)


def _the_next_attempt_removes_the_killed_ones_folder(server: EmbeddedServer) -> None:
    out = server.share_root / "out"
    job_id = new_job(server, "folder:" + write_small_study(server, "killed", n_files=1))
    killed = server.store.claim_job("killed-host", lease_seconds=0.01)
    assert killed is not None and killed.job_id == job_id
    ours = out / f".{job_id}.{killed.attempt}.partial"
    (ours / "1").mkdir(parents=True)
    (ours / MARKER).write_text(f'{{"job_id": {job_id}, "files": null}}')
    (ours / "1" / "1.dcm").write_bytes(b"half")
    users = out / f".{job_id}.{killed.attempt}.old"
    users.mkdir()
    (users / "mine.txt").write_text("not the server's")
    time.sleep(0.05)  # the killed attempt's lease runs out
    job = run_once(server, job_id)
    assert job["status"] == "DONE", job["error"]
    assert not ours.exists()
    assert (users / "mine.txt").read_text() == "not the server's"
    assert (out / str(job_id) / MARKER).exists()
