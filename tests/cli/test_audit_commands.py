"""`anon job history` and `anon batch log`: what the client recorded beside the batch, against
the embedded server: jobs created from a mapping, a status change seen, a reset, a refusal."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from anonapi_server.testing import EmbeddedServer
from tests.actions.conftest import write_mapping
from tests.cli.conftest import Anon, make_jobs

GRID = """source,pseudo_name
folder:s1,PSEUDO1
folder:s2,PSEUDO2
"""
RECORDS = (".anonbatch.origins", ".anonbatch.statuses", ".anonbatch.actions")


def _created_batch(anon: Anon, idle: EmbeddedServer, workdir: Path) -> dict[str, str]:
    """Jobs created from a mapping and polled once: pseudonym -> job id."""
    write_mapping(workdir, idle, GRID)
    assert anon("create", "from-mapping", "--yes").exit_code == 0
    assert anon("batch", "status").exit_code == 0
    jobs = json.loads(anon("batch", "status", "--json").stdout)["jobs"]
    names = {str(j["job_id"]): idle.store.job(int(j["job_id"])) for j in jobs}
    return {job["source_anonymizedpatientname"]: job_id for job_id, job in names.items()}


def test_history_tells_creation_row_status_changes_and_reset_in_order(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    jobs = _created_batch(anon, idle, workdir)
    job_id = jobs["PSEUDO2"]
    row = (workdir / "anon_mapping.csv").read_text().splitlines().index("folder:s2,PSEUDO2") + 1
    idle.store.modify_job(int(job_id), {"status": "ERROR", "error": "gone"}, restart=False)
    assert anon("batch", "status").exit_code == 0
    assert anon("batch", "reset", "--yes").exit_code == 0
    assert anon("batch", "status").exit_code == 0

    result = anon("job", "history", job_id)

    assert result.exit_code == 0, result.output
    events = [line.split("  ", 2)[-1] for line in result.stdout.splitlines()[1:]]
    assert events == [
        f"created by {idle.user_name} from anon_mapping.csv row {row}",
        "status first seen ACTIVE",
        "status ACTIVE -> ERROR",
        f"reset by {idle.user_name}: done",
        "status ERROR -> ACTIVE",
    ]
    document = json.loads(anon("job", "history", job_id, "--json").stdout)
    assert [e["kind"] for e in document["events"]] == [
        "created",
        "status",
        "status",
        "reset",
        "status",
    ]


def test_records_hold_no_source_or_pseudonym_and_are_private(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    _created_batch(anon, idle, workdir)
    assert anon("batch", "reset", "--yes").exit_code == 0
    for name in RECORDS:
        text = (workdir / name).read_text()
        assert "PSEUDO" not in text and "s1" not in text and "proj" not in text, name
        assert (workdir / name).stat().st_mode & 0o077 == 0, name


def test_batch_log_lists_each_run_and_each_jobs_outcome_with_the_refusal(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    jobs = _created_batch(anon, idle, workdir)
    assert anon("batch", "reset", "--yes").exit_code == 0
    assert anon("batch", "add", "99999").exit_code == 0
    anon("batch", "cancel", "--yes")

    result = anon("batch", "log")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].endswith(f"{idle.user_name} reset 2 jobs on local: 2 done, 0 refused")
    assert f"  job {jobs['PSEUDO1']}: done" in lines
    cancel = next(n for n, line in enumerate(lines) if " cancel 3 jobs " in line)
    assert lines[cancel].endswith("2 done, 1 refused")
    assert any(line.startswith("  job 99999: refused: ") for line in lines[cancel:])
    document = json.loads(anon("batch", "log", "--json").stdout)
    assert [e["action"] for e in document] == ["reset", "cancel"]
    assert {j["job_id"]: j["ok"] for j in document[1]["jobs"]}["99999"] is False


def test_an_older_batch_without_records_shows_what_is_known(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    assert anon("batch", "init").exit_code == 0
    assert anon("batch", "add", "12").exit_code == 0

    assert "Nothing recorded about job 12" in anon("job", "history", "12").stdout
    assert "No reset or cancel" in anon("batch", "log").stdout


def test_a_job_outside_the_batch_or_a_folder_without_batch_is_one_line(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    no_batch = anon("job", "history", "3")
    assert no_batch.exit_code != 0 and "No batch defined" in no_batch.output
    assert anon("batch", "init").exit_code == 0

    result = anon("job", "history", "3")

    assert result.exit_code != 0
    assert result.output.strip().splitlines() == [
        f"Error: Job 3 is not in the batch in {workdir.resolve()} and nothing is recorded about "
        "it there"
    ]
    assert anon("job", "history", "3-5").exit_code == 2


def test_a_log_that_cannot_be_written_is_a_warning_and_the_reset_still_counts(
    anon: Anon, idle: EmbeddedServer, workdir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    jobs = _created_batch(anon, idle, workdir)
    (workdir / ".anonbatch.actions").mkdir()  # unwritable as a file, also for root

    with caplog.at_level(logging.WARNING, logger="anonapi_core"):
        result = anon("batch", "reset", "--yes")

    assert result.exit_code == 0, result.output
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [
        f"this reset is not in the action log {workdir / '.anonbatch.actions'}"
    ]
    assert idle.store.job(int(jobs["PSEUDO1"]))["status"] == "ACTIVE"


def test_a_reset_by_id_of_a_job_of_the_folders_batch_is_in_its_log_and_history(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    jobs = _created_batch(anon, idle, workdir)

    assert anon("job", "reset", jobs["PSEUDO1"], "--yes").exit_code == 0

    (entry,) = json.loads(anon("batch", "log", "--json").stdout)
    assert (entry["action"], entry["jobs"]) == ("reset", [{"job_id": jobs["PSEUDO1"], "ok": True}])
    history = anon("job", "history", jobs["PSEUDO1"]).stdout
    assert f"reset by {idle.user_name}: done" in history


def test_a_reset_by_id_elsewhere_leaves_the_folder_alone(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    assert anon("batch", "init").exit_code == 0
    assert anon("batch", "add", "999999").exit_code == 0
    (job_id,) = make_jobs(idle, ["ERROR"])

    assert anon("job", "reset", job_id, "--yes").exit_code == 0

    assert not (workdir / ".anonbatch.actions").exists()
