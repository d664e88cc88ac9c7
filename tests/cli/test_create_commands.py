"""`anon create ...`: validation first, journalled creation, resume, the server's reasons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import Result

from anonapi_server.testing import EmbeddedServer
from tests.actions.conftest import write_mapping
from tests.cli.conftest import Anon

GRID = """source,pseudo_name
folder:s1,P1
folder:s2,P2
accession_number:123.4,P3
"""


def _create(anon: Anon, server: EmbeddedServer, *args: str) -> tuple[Result, int]:
    """Run `anon create from-mapping ARGS`: its result and how many jobs it made on `server`."""
    before = server.store.count_jobs()
    result = anon("create", "from-mapping", *args)
    return result, server.store.count_jobs() - before


def _batch_ids(folder: Path) -> list[str]:
    return yaml.safe_load((folder / ".anonbatch").read_text())["job_ids"]


def test_creates_a_job_per_row_and_records_them_in_the_batch(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    write_mapping(workdir, idle, GRID)

    result = anon("create", "from-mapping", "--yes")

    assert result.exit_code == 0, result.output
    ids = _batch_ids(workdir)
    assert len(ids) == 3
    assert f"Saved job ids in batch in {workdir}" in result.output
    jobs = {str(j): idle.store.job(int(j)) for j in ids}
    sources = sorted(str(j["source_path"] or j["source_instance_id"]) for j in jobs.values())
    assert sources == [
        "accession_number:123.4",
        "folder:" + idle.unc("proj", "s1"),
        "folder:" + idle.unc("proj", "s2"),
    ]


def test_running_again_creates_nothing_twice(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    write_mapping(workdir, idle, GRID)
    anon("create", "from-mapping", "--yes")
    result, created = _create(anon, idle, "--yes")

    assert result.exit_code == 0
    assert "3 rows already have a job" in result.output
    assert "Nothing to create" in result.output
    assert created == 0


def test_the_confirmation_states_count_server_project_and_destination(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    write_mapping(workdir, idle, GRID)

    result = anon("create", "from-mapping", input="n\n")

    assert result.exit_code == 1
    assert (
        f"This will create 3 jobs on local: {idle.url}, for projects Wetenschap-Algemeen, "
        f"writing data to {idle.unc('out')}. Are you sure?"
    ) in result.output
    assert not (workdir / ".anonbatch").exists()


def test_an_unknown_source_type_names_file_line_and_column(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    write_mapping(workdir, idle, "source,pseudo_name\nfloder:x,P1\n")

    result = anon("create", "from-mapping", "--yes")

    assert result.exit_code == 1
    assert "anon_mapping.csv, line 9, column 'source': unknown source type 'floder'" in (
        result.output
    )


def test_every_bad_row_is_named_and_nothing_is_created(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    grid = (
        "source,pseudo_name,destination_path\n"
        "folder:s1,P1,\nfolder:C:/local,P2,\nfolder:s3,P3,\nfolder:s4,P4,D:/out\n"
    )
    write_mapping(workdir, idle, grid)
    result, created = _create(anon, idle, "--yes")

    assert result.exit_code == 1
    assert "anon_mapping.csv, line 10, column 'source'" in result.output
    assert "anon_mapping.csv, line 12, column 'destination_path'" in result.output
    assert result.output.splitlines()[-1].startswith("Error: 2 problems in mapping")
    assert created == 0


def test_missing_project_is_an_error_not_a_silent_default(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    write_mapping(workdir, idle, GRID, project="NOT_SET")

    result = anon("create", "from-mapping", "--yes")

    assert result.exit_code == 1
    assert "project" in result.output


def test_a_bad_option_is_one_problem_at_its_line_not_one_per_row(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    grid = "source,pseudo_name\n" + "".join(f"folder:s{n},P{n}\n" for n in range(5))
    write_mapping(
        workdir, idle, grid, project="NOT_SET", destination_path="NOT_SET", root_source_path="/x"
    )

    result = anon("create", "from-mapping", "--yes")

    assert result.exit_code == 1
    problems = [line.strip() for line in result.output.splitlines() if line.startswith("  ")]
    assert [p.split(":")[0] for p in problems] == [
        "anon_mapping.csv, line 4, option 'root_source_path'",
        "anon_mapping.csv, line 5, option 'project'",
        "anon_mapping.csv, line 6, option 'destination_path'",
    ]
    assert result.output.splitlines()[-1].startswith("Error: 3 problems in mapping")


def test_dry_run_shows_the_jobs_and_writes_nothing(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    write_mapping(workdir, idle, GRID)
    result, created = _create(anon, idle, "--dry-run", "--json")

    assert result.exit_code == 0
    planned = json.loads(result.stdout)["jobs"]
    assert [p.get("anonymizedpatientname") for p in planned] == ["P1", "P2", "P3"]
    assert planned[2]["source_instance_id"] == "accession_number:123.4"
    assert sorted(p.name for p in workdir.iterdir()) == ["anon_mapping.csv"]
    assert created == 0


def test_filter_creates_only_matching_rows(anon: Anon, idle: EmbeddedServer, workdir: Path) -> None:
    write_mapping(workdir, idle, GRID)

    result = anon("create", "from-mapping", "--yes", "-f", "P2", "--filter", "P3")

    assert result.exit_code == 0
    assert len(_batch_ids(workdir)) == 2


def test_filter_matching_nothing_is_an_error(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    write_mapping(workdir, idle, GRID)

    result = anon("create", "from-mapping", "--yes", "-f", "nobody")

    assert result.exit_code == 1
    assert "nobody" in result.output


def test_a_refused_row_shows_the_servers_reason_and_a_rerun_creates_only_the_rest(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    grid = "source,pseudo_name,project\nfolder:s1,P1,\nfolder:s2,P2,NoSuchProject\nfolder:s3,P3,\n"
    mapping = write_mapping(workdir, idle, grid)

    failed = anon("create", "from-mapping", "--yes", "--continue-on-error")

    assert failed.exit_code == 1
    assert "Unknown project_name NoSuchProject" in failed.output
    assert "line 10" in failed.output
    assert len(_batch_ids(workdir)) == 2

    mapping.write_text(mapping.read_text().replace("NoSuchProject", ""))
    rerun = anon("create", "from-mapping", "--yes")

    assert rerun.exit_code == 0
    assert "2 rows already have a job" in rerun.output
    assert rerun.output.count("Created job ") == 1
    assert len(_batch_ids(workdir)) == 3


def test_a_batch_for_another_server_is_refused_before_creating(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    write_mapping(workdir, idle, GRID)
    (workdir / ".anonbatch").write_text("job_ids: []\nserver: {name: x, url: 'http://other'}\n")
    result, created = _create(anon, idle, "--yes")

    assert result.exit_code == 1
    assert "http://other" in result.output
    assert created == 0


def test_an_unreachable_server_fails_with_its_cause(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    write_mapping(workdir, idle, GRID)
    anon("server", "add", "dead", "http://127.0.0.1:9")
    anon("server", "activate", "dead")

    result = anon("create", "from-mapping", "--yes")

    assert result.exit_code == 1
    assert "connection refused" in result.output
    assert not (workdir / ".anonbatch").exists()


def test_set_and_show_defaults(anon: Anon) -> None:
    result = anon(
        "create", "set-defaults", "--project", "P", "--destination-path", r"\\srv\share\out"
    )

    shown = anon("create", "show-defaults")
    assert result.exit_code == 0
    assert "project:P (Anonymize according to this project)" in shown.output
    assert r"destination_path:\\srv\share\out" in shown.output


def test_set_defaults_refuses_a_destination_that_is_not_unc(anon: Anon) -> None:
    result = anon("create", "set-defaults", "--project", "P", "--destination-path", ".")

    assert result.exit_code == 2
    assert "not a UNC path" in result.output


@pytest.mark.parametrize("answers", ["P\n\\\\srv\\share\\out\n"])
def test_set_defaults_asks_for_what_is_not_given(anon: Anon, answers: str) -> None:
    result = anon("create", "set-defaults", input=answers)

    assert result.exit_code == 0
    assert json.loads(anon("create", "show-defaults", "--json").output) == {
        "project": "P",
        "destination_path": r"\\srv\share\out",
    }


def test_the_summary_lists_created_ids_in_numeric_order(capsys, tmp_path: Path) -> None:
    from anonapi_cli.create_commands import _show_report
    from anonapi_core.actions.create import CreatedJob, CreationPlan, CreationReport
    from anonapi_core.jobrequests import JobRequest
    from anonapi_core.models import Server
    from anonapi_core.parameters import SourceIdentifier

    request = JobRequest(SourceIdentifier.parse("accession_number:1"), "P", r"\\s\sh\out")
    plan = CreationPlan(
        tmp_path / "anon_mapping.csv", tmp_path, Server(name="s", url="http://s"), [], {}
    )
    # Jobs are created concurrently: the server numbers them in the order they arrive.
    arrived = ["10", "9", "100", *map(str, range(205, 1519))]
    created = [CreatedJob(str(n), job_id, request) for n, job_id in enumerate(arrived)]

    _show_report(CreationReport(plan, created=created), as_json=False)
    _show_report(CreationReport(plan, created=created[:1]), as_json=False)

    # Ranges as `batch add` and `job cancel` read them, not 1314 ids on one line.
    assert capsys.readouterr().out.splitlines() == [
        "Created 1317 jobs: 9-10,100,205-1518",
        "Created 1 job: 10",
    ]
