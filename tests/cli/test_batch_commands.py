"""`anon batch ...` against a real embedded server whose jobs keep the status a test gives them."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import yaml

from anonapi_server.testing import EmbeddedServer
from tests.cli.conftest import Anon, make_jobs, statuses


def _batch_with(anon: Anon, ids: list[str]) -> None:
    assert anon("batch", "init").exit_code == 0
    assert anon("batch", "add", ",".join(ids)).exit_code == 0


def test_init_writes_an_empty_batch_for_the_active_server(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    result = anon("batch", "init")

    assert result.exit_code == 0
    saved = yaml.safe_load((workdir / ".anonbatch").read_text())
    assert saved == {"job_ids": [], "server": {"name": "local", "url": idle.url}}


def test_info_prints_the_batch_as_yaml(anon: Anon, idle: EmbeddedServer) -> None:
    _batch_with(anon, ["12", "3"])

    result = anon("batch", "info")

    assert yaml.safe_load(result.output) == {
        "job_ids": ["3", "12"],
        "server": {"name": "local", "url": idle.url},
    }


def test_init_refuses_to_replace_a_batch(anon: Anon, idle: EmbeddedServer) -> None:
    anon("batch", "init")

    result = anon("batch", "init")

    assert result.exit_code == 1
    assert "already defined" in result.output


def test_commands_without_a_batch_say_how_to_make_one(anon: Anon, idle: EmbeddedServer) -> None:
    for command in ("info", "status", "delete", "reset-error", "show-error"):
        result = anon("batch", command, "--yes") if command == "delete" else anon("batch", command)
        assert result.exit_code == 1, command
        assert "anon batch init" in result.output, command


def test_add_and_remove_take_ranges_and_commas_and_sort_numerically(
    anon: Anon, idle: EmbeddedServer
) -> None:
    anon("batch", "init")

    added = anon("batch", "add", "8-11", "2,10", "100")
    removed = anon("batch", "remove", "9-10", "55")

    assert added.exit_code == 0 and removed.exit_code == 0
    assert "1 not in it" in removed.output
    shown = json.loads(anon("batch", "info", "--json").output)
    assert shown["job_ids"] == ["2", "8", "11", "100"]


def test_add_refuses_a_reversed_range_without_changing_the_batch(
    anon: Anon, idle: EmbeddedServer
) -> None:
    anon("batch", "init")

    result = anon("batch", "add", "5", "100-99")

    assert result.exit_code == 2
    assert "'100-99'" in result.output
    assert json.loads(anon("batch", "info", "--json").output)["job_ids"] == []


def test_status_prints_the_table_and_a_summary_with_not_found(
    anon: Anon, idle: EmbeddedServer
) -> None:
    ids = make_jobs(idle, ["DONE", "ERROR", "DONE"])
    _batch_with(anon, [*ids, "999999"])

    result = anon("batch", "status")

    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == f"Job info for 3 jobs on local: {idle.url}:"
    assert lines[1].split() == ["id", "date", "status", "down", "proc", "user"]
    assert "Summary for all 4 jobs:" in lines
    assert any(line.split()[:3] == ["DONE", "2", "50.0"] for line in lines)
    assert any(line.split()[:3] == ["NOT_FOUND", "1", "25.0"] for line in lines)
    assert lines[-1].split() == ["Total", "4", "100%"]


def test_status_json_and_patient_name(anon: Anon, idle: EmbeddedServer) -> None:
    ids = make_jobs(idle, ["DONE"], pseudo_name="Patient7", pseudo_id="007")
    _batch_with(anon, ids)

    data = json.loads(anon("batch", "status", "--json").output)
    table = anon("batch", "status", "--patient-name").output

    assert data["counts"] == {"DONE": 1, "NOT_FOUND": 0}
    assert data["jobs"][0]["job_id"] == int(ids[0])
    assert "anon_name" in table and "Patient7" in table


def test_status_of_an_empty_batch_is_not_a_crash(anon: Anon, idle: EmbeddedServer) -> None:
    anon("batch", "init")

    result = anon("batch", "status")

    assert result.exit_code == 0
    assert "Summary for all 0 jobs:" in result.output


def test_status_when_the_server_is_gone_keeps_the_cause(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    (workdir / ".anonbatch").write_text(
        "job_ids: ['1']\nserver: {name: gone, url: 'http://127.0.0.1:9'}\n"
    )
    anon("server", "add", "gone", "http://127.0.0.1:9")

    result = anon("batch", "status")

    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert "connection refused" in result.output


def test_status_watch_refreshes_until_no_job_is_running(anon: Anon, idle: EmbeddedServer) -> None:
    ids = make_jobs(idle, ["ACTIVE", "DONE"])
    _batch_with(anon, ids)

    def finish_later() -> None:
        time.sleep(0.6)
        idle.store.modify_job(int(ids[0]), {"status": "DONE"}, restart=False)

    threading.Thread(target=finish_later).start()
    result = anon("batch", "status", "--watch", "--interval", "0.2")

    assert result.exit_code == 0
    assert result.output.count("Job info for 2 jobs") >= 2
    assert "ACTIVE" not in result.output.split("Job info for")[-1]


def test_reset_error_resets_only_the_error_jobs(anon: Anon, idle: EmbeddedServer) -> None:
    ids = make_jobs(idle, ["ERROR", "DONE", "ERROR"])
    _batch_with(anon, ids)

    result = anon("batch", "reset-error", "--yes")

    assert result.exit_code == 0
    assert statuses(idle, ids) == {ids[0]: "ACTIVE", ids[1]: "DONE", ids[2]: "ACTIVE"}


def test_reset_answered_no_changes_nothing(anon: Anon, idle: EmbeddedServer) -> None:
    ids = make_jobs(idle, ["ERROR", "DONE"])
    _batch_with(anon, ids)

    result = anon("batch", "reset", input="n\n")

    assert result.exit_code == 1
    assert "This will reset 2 jobs" in result.output
    assert statuses(idle, ids) == {ids[0]: "ERROR", ids[1]: "DONE"}


def test_reset_all_after_confirmation(anon: Anon, idle: EmbeddedServer) -> None:
    ids = make_jobs(idle, ["ERROR", "DONE"])
    _batch_with(anon, ids)

    result = anon("batch", "reset", input="y\n")

    assert result.exit_code == 0
    assert set(statuses(idle, ids).values()) == {"ACTIVE"}


def test_cancel_active_leaves_uploaded_done_and_error_jobs(
    anon: Anon, idle: EmbeddedServer
) -> None:
    ids = make_jobs(idle, ["ACTIVE", "UPLOADED", "DONE", "ERROR", "ACTIVE"])
    _batch_with(anon, ids)

    result = anon("batch", "cancel-active", "--yes", "--json")

    assert result.exit_code == 0
    assert {r["job_id"] for r in json.loads(result.stdout)} == {ids[0], ids[4]}
    assert list(statuses(idle, ids).values()) == [
        "INACTIVE",
        "UPLOADED",
        "DONE",
        "ERROR",
        "INACTIVE",
    ]


def test_cancel_with_a_job_the_server_lacks_exits_non_zero_naming_it(
    anon: Anon, idle: EmbeddedServer
) -> None:
    ids = make_jobs(idle, ["ACTIVE"])
    _batch_with(anon, [*ids, "999998"])

    result = anon("batch", "cancel", "--yes")

    assert result.exit_code == 1
    assert f"Cancelled job {ids[0]} on local" in result.output
    assert "job 999998" in result.output
    assert statuses(idle, ids) == {ids[0]: "INACTIVE"}


def test_show_error_prints_each_error_in_full(anon: Anon, idle: EmbeddedServer) -> None:
    ids = make_jobs(idle, ["ERROR", "DONE"], error="Could not move file: No space left [/x]")
    _batch_with(anon, ids)

    result = anon("batch", "show-error")

    assert result.exit_code == 0
    assert "error message:\nCould not move file: No space left [/x]" in result.output
    assert f"\n{ids[1]} " not in result.output


def test_show_error_without_errors_says_so(anon: Anon, idle: EmbeddedServer) -> None:
    _batch_with(anon, make_jobs(idle, ["DONE"]))

    result = anon("batch", "show-error")

    assert result.output.strip() == "There are no jobs with error status in this batch"


def test_delete_removes_the_batch_file(anon: Anon, idle: EmbeddedServer, workdir: Path) -> None:
    anon("batch", "init")

    result = anon("batch", "delete", "--yes")

    assert result.exit_code == 0
    assert not (workdir / ".anonbatch").exists()


def test_status_watch_json_prints_one_document_per_refresh(
    anon: Anon, idle: EmbeddedServer
) -> None:
    ids = make_jobs(idle, ["ACTIVE"])
    _batch_with(anon, ids)
    threading.Timer(
        0.5, lambda: idle.store.modify_job(int(ids[0]), {"status": "ERROR"}, restart=False)
    ).start()

    result = anon("batch", "status", "--watch", "--interval", "0.2", "--json")

    documents = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(documents) >= 2
    assert documents[0]["counts"]["ACTIVE"] == 1
    assert documents[-1]["counts"] == {"ERROR": 1, "NOT_FOUND": 0}


def test_until_done_exits_0_when_every_job_ends_done(anon: Anon, idle: EmbeddedServer) -> None:
    ids = make_jobs(idle, ["ACTIVE", "DONE"])
    _batch_with(anon, ids)

    def finish_later() -> None:
        time.sleep(0.4)
        idle.store.modify_job(int(ids[0]), {"status": "DONE"}, restart=False)

    threading.Thread(target=finish_later).start()
    result = anon("batch", "status", "--until-done", "--interval", "0.1")

    assert result.exit_code == 0
    assert result.output.count("Job info for 2 jobs") >= 2


def test_until_done_exits_1_when_a_job_ends_in_error(anon: Anon, idle: EmbeddedServer) -> None:
    ids = make_jobs(idle, ["ACTIVE", "DONE"])
    _batch_with(anon, ids)

    def fail_later() -> None:
        time.sleep(0.4)
        idle.store.modify_job(int(ids[0]), {"status": "ERROR", "error": "x"}, restart=False)

    threading.Thread(target=fail_later).start()
    result = anon("batch", "status", "--until-done", "--interval", "0.1")

    assert result.exit_code == 1
    assert "Not every job ended DONE" in result.output


def test_watch_shows_speeds_and_the_jobs_that_stalled(
    anon: Anon, idle: EmbeddedServer, settings_file: Path
) -> None:
    ids = make_jobs(idle, ["ACTIVE", "ACTIVE", "DONE"])
    _batch_with(anon, ids)
    settings = yaml.safe_load(settings_file.read_text())
    settings_file.write_text(yaml.safe_dump({**settings, "stall_minutes": 0.005}))  # 0.3 s

    def finish_later() -> None:
        time.sleep(0.8)  # polls every 0.1 s: several see the stall after 0.3 s
        idle.store.modify_job(int(ids[0]), {"status": "DONE"}, restart=False)
        time.sleep(0.8)
        idle.store.modify_job(int(ids[1]), {"status": "DONE"}, restart=False)

    threading.Thread(target=finish_later).start()
    result = anon("batch", "status", "--until-done", "--interval", "0.1")

    assert result.exit_code == 0
    # Nothing moved for 0.3 s at first: both ACTIVE jobs were stalled, and said so.
    assert "2 stalled (no progress for < 1 min)" in result.output
    assert f"Stalled: {ids[0]} {ids[1]}" in result.output
    assert "jobs/min, " in result.output and "files/s, " in result.output
    assert result.output.rstrip().splitlines()[-1].endswith("none running")


def test_watch_json_carries_the_progress(anon: Anon, idle: EmbeddedServer) -> None:
    ids = make_jobs(idle, ["ACTIVE"])
    _batch_with(anon, ids)
    threading.Timer(
        0.5, lambda: idle.store.modify_job(int(ids[0]), {"status": "DONE"}, restart=False)
    ).start()

    result = anon("batch", "status", "--watch", "--interval", "0.2", "--json")

    documents = [json.loads(line) for line in result.stdout.splitlines()]
    assert documents[0]["progress"]["jobs_per_minute"] is None  # one poll: nothing measured
    last = documents[-1]["progress"]
    assert last["jobs_per_minute"] > 0 and last["eta_seconds"] == 0 and last["stalled"] == []
