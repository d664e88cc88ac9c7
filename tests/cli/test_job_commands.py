"""`anon job ...`: one job-id grammar, one connection, per-job results and exit codes."""

from __future__ import annotations

import json

from anonapi_server.testing import EmbeddedServer
from tests.cli.conftest import Anon, make_jobs, statuses


def test_info_prints_every_field_of_each_job(anon: Anon, idle: EmbeddedServer) -> None:
    ids = make_jobs(idle, ["DONE", "ERROR"], pseudo_name="PatientX")

    result = anon("job", "info", ",".join(ids))

    assert result.exit_code == 0
    assert f"job {ids[0]} on local:" in result.output
    assert f"job {ids[1]} on local:" in result.output
    assert "source_anonymizedpatientname  PatientX" in result.output
    assert "source_path" in result.output and "\\\\localhost\\data\\nowhere" in result.output


def test_info_of_an_unknown_job_shows_the_servers_reason_and_fails(
    anon: Anon, idle: EmbeddedServer
) -> None:
    ids = make_jobs(idle, ["DONE"])

    result = anon("job", "info", ids[0], "987654")

    assert result.exit_code == 1
    assert f"job {ids[0]} on local:" in result.output
    assert "Error: job 987654 on local:" in result.output
    assert "987654" in result.output.splitlines()[-1]


def test_info_json(anon: Anon, idle: EmbeddedServer) -> None:
    ids = make_jobs(idle, ["DONE"])

    result = anon("job", "info", ids[0], "--json")

    assert json.loads(result.stdout)[0]["status"] == "DONE"


def test_list_shows_a_table_of_a_range(anon: Anon, idle: EmbeddedServer) -> None:
    ids = make_jobs(idle, ["DONE", "ACTIVE", "ERROR"])

    result = anon("job", "list", f"{ids[0]}-{ids[2]}")

    assert result.exit_code == 0
    rows = result.output.splitlines()[2:]
    assert [r.split()[0] for r in rows] == ids
    assert [r.split()[2] for r in rows] == ["DONE", "ACTIVE", "ERROR"]


def test_list_names_ids_the_server_does_not_have(anon: Anon, idle: EmbeddedServer) -> None:
    ids = make_jobs(idle, ["DONE"])

    result = anon("job", "list", ids[0], "987653")

    assert result.exit_code == 1
    assert "not found on the server: 987653" in result.output


def test_reset_takes_comma_separated_ids_and_a_range(anon: Anon, idle: EmbeddedServer) -> None:
    ids = make_jobs(idle, ["ERROR", "DONE", "ERROR"])

    result = anon("job", "reset", f"{ids[0]}-{ids[1]},{ids[2]}", "--yes")

    assert result.exit_code == 0
    assert set(statuses(idle, ids).values()) == {"ACTIVE"}
    assert result.output.count("Reset job") == 3


def test_reset_asks_and_stops_on_no(anon: Anon, idle: EmbeddedServer) -> None:
    ids = make_jobs(idle, ["ERROR"])

    result = anon("job", "reset", ids[0], input="n\n")

    assert result.exit_code == 1
    assert f"This will reset 1 job on local: {ids[0]}. Are you sure?" in result.output
    assert statuses(idle, ids) == {ids[0]: "ERROR"}


def test_reset_refuses_a_malformed_id_before_anything_happens(anon: Anon) -> None:
    result = anon("job", "reset", "1-a", "--yes")

    assert result.exit_code == 2
    assert "'1-a'" in result.output


def test_cancel_reports_each_job_and_fails_for_unknown_ones(
    anon: Anon, idle: EmbeddedServer
) -> None:
    ids = make_jobs(idle, ["ACTIVE", "ACTIVE"])

    result = anon("job", "cancel", *ids, "987652", "--yes")

    assert result.exit_code == 1
    assert statuses(idle, ids) == {ids[0]: "INACTIVE", ids[1]: "INACTIVE"}
    assert "Error: job 987652 on local:" in result.output
    assert "1 of 3 jobs failed" in result.output


def test_set_opt_out_ignore_records_the_reason(anon: Anon, idle: EmbeddedServer) -> None:
    ids = make_jobs(idle, ["ERROR"])

    result = anon("job", "set-opt-out-ignore", ids[0], "specific consent", "--yes")

    assert result.exit_code == 0
    assert f"Set opt-out ignore (specific consent) for job {ids[0]} on local" in result.output
    job = idle.store.job(int(ids[0]))
    assert job["source_ignore_opt_out"]
    assert job["source_ignore_opt_out_reason"] == "Reason: specific consent"


def test_set_opt_out_ignore_needs_a_reason(anon: Anon, idle: EmbeddedServer) -> None:
    ids = make_jobs(idle, ["ERROR"])

    result = anon("job", "set-opt-out-ignore", ids[0], " ", "--yes")

    assert result.exit_code == 2
    assert "reason is required" in result.output


def test_a_wrong_token_is_one_line_saying_401(anon: Anon, idle: EmbeddedServer) -> None:
    anon("settings", "user", "set-token", input="wrong-token\n")

    result = anon("job", "info", "1")

    assert result.exit_code == 1
    assert "401" in result.output
    assert "wrong-token" not in result.output
