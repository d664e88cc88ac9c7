"""`anon batch errors`: failed jobs grouped by cause, and one group reset or cancelled."""

from __future__ import annotations

import json

from anonapi_server.testing import EmbeddedServer
from tests.cli.conftest import Anon, make_jobs, statuses


def _failed_batch(anon: Anon, idle: EmbeddedServer) -> list[str]:
    """Five jobs: three failed reading a (different) file, one on its project, one done."""
    ids = make_jobs(idle, ["ERROR", "ERROR", "ERROR", "ERROR", "DONE"])
    for n, job_id in enumerate(ids[:3]):
        error = rf"Could not read source file \\localhost\data\s{n}\IM{n}.dcm: gone"
        idle.store.modify_job(int(job_id), {"error": error}, restart=False)
    idle.store.modify_job(int(ids[3]), {"error": "Project 'P7' no longer exists"}, restart=False)
    assert anon("batch", "init").exit_code == 0
    assert anon("batch", "add", ",".join(ids)).exit_code == 0
    return ids


def test_errors_lists_groups_largest_first_with_counts(anon: Anon, idle: EmbeddedServer) -> None:
    _failed_batch(anon, idle)

    result = anon("batch", "errors")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("4 of 5 jobs in ERROR on local")
    assert lines[1].split()[2] == "3" and "Could not read source file <path>: gone" in lines[1]
    assert lines[2].split()[2] == "1" and "Project '<name>' no longer exists" in lines[2]


def test_errors_json_names_each_groups_jobs(anon: Anon, idle: EmbeddedServer) -> None:
    ids = _failed_batch(anon, idle)

    document = json.loads(anon("batch", "errors", "--json").stdout)

    assert [g["count"] for g in document["groups"]] == [3, 1]
    assert document["groups"][0]["job_ids"] == ids[:3]
    assert document["jobs"] == 5


def test_reset_of_one_group_resets_only_its_jobs(anon: Anon, idle: EmbeddedServer) -> None:
    ids = _failed_batch(anon, idle)
    group = json.loads(anon("batch", "errors", "--json").stdout)["groups"][0]["id"]

    result = anon("batch", "errors", "--reset", group, "--yes")

    assert result.exit_code == 0, result.output
    assert list(statuses(idle, ids).values()) == ["ACTIVE"] * 3 + ["ERROR", "DONE"]


def test_cancel_of_a_group_by_number(anon: Anon, idle: EmbeddedServer) -> None:
    ids = _failed_batch(anon, idle)

    result = anon("batch", "errors", "--cancel", "2", "--yes")

    assert result.exit_code == 0, result.output
    assert statuses(idle, ids)[ids[3]] == "INACTIVE"
    assert statuses(idle, ids)[ids[0]] == "ERROR"


def test_an_unknown_group_is_one_line_and_changes_nothing(anon: Anon, idle: EmbeddedServer) -> None:
    ids = _failed_batch(anon, idle)

    result = anon("batch", "errors", "--reset", "nosuch", "--yes")

    assert result.exit_code != 0
    assert "No error group 'nosuch'" in result.output
    assert "Traceback" not in result.output
    assert statuses(idle, ids)[ids[0]] == "ERROR"


def test_a_group_reset_is_kept_in_the_batch_action_log(
    anon: Anon, idle: EmbeddedServer, workdir
) -> None:
    from anonapi_core.action_log import read_actions

    ids = _failed_batch(anon, idle)
    assert anon("batch", "errors", "--reset", "1", "--yes").exit_code == 0

    (entry,) = read_actions(workdir)
    assert (entry.action, entry.user, entry.done) == ("reset", idle.user_name, 3)
    assert [o.job_id for o in entry.outcomes] == ids[:3]
