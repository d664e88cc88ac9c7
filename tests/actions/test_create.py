"""Job creation from a mapping survives interruptions: no id lost, nothing created twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from anonapi_core.actions.create import (
    RUN_MARKER_NAME,
    MappingValidationError,
    create_jobs_from_mapping,
    plan_jobs,
    with_idempotency_key,
)
from anonapi_core.batch import CreationJournal, load_batch
from anonapi_core.client import AnonClient
from anonapi_core.exceptions import APIClientError
from anonapi_core.job_origins import read_origins
from anonapi_core.models import Server
from anonapi_core.settings import Settings, save_settings
from anonapi_server.testing import EmbeddedServer
from tests.actions.conftest import write_mapping


def _job_sources(server: EmbeddedServer, ids: list[str]) -> list[str]:
    return sorted(server.store.job(int(i))["source_path"] for i in ids)


def test_creates_every_row_once_and_journals_each_id(
    settings: Settings, idle_server: EmbeddedServer, tmp_path: Path
) -> None:
    mapping = write_mapping(tmp_path, idle_server, 12)
    seen: list[str] = []

    report = create_jobs_from_mapping(
        settings, mapping, tmp_path, on_created=lambda job: seen.append(job.job_id)
    )

    ids = [job.job_id for job in report.created]
    assert report.ok and len(ids) == 12 and sorted(seen) == sorted(ids)
    assert sorted(load_batch(tmp_path).job_ids) == sorted(ids)
    assert sorted(CreationJournal(tmp_path).job_ids()) == sorted(ids)
    assert len(set(_job_sources(idle_server, ids))) == 12


def test_ctrl_c_mid_run_loses_no_id_and_a_rerun_creates_only_the_rest(
    settings: Settings, idle_server: EmbeddedServer, tmp_path: Path
) -> None:
    mapping = write_mapping(tmp_path, idle_server, 20)
    created: list[str] = []

    def interrupt_after_three(job) -> None:
        created.append(job.job_id)
        if len(created) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        create_jobs_from_mapping(settings, mapping, tmp_path, on_created=interrupt_after_three)

    first_run = load_batch(tmp_path).job_ids
    assert set(created) <= set(first_run)  # in-flight jobs that finished are kept as well
    report = create_jobs_from_mapping(settings, mapping, tmp_path)

    assert report.ok
    assert len(report.created) == 20 - len(first_run)
    all_ids = load_batch(tmp_path).job_ids
    assert len(all_ids) == 20
    assert len(set(_job_sources(idle_server, all_ids))) == 20


def test_kill_9_mid_run_loses_no_job_and_creates_none_twice(
    idle_server: EmbeddedServer, tmp_path: Path
) -> None:
    mapping = write_mapping(tmp_path, idle_server, 60)
    settings_file = tmp_path / "settings.yml"
    save_settings(
        Settings(
            servers={"idle": idle_server.url},
            active_server_name="idle",
            user_name=idle_server.user_name,
            user_token=idle_server.token,
            active_mapping_file=mapping,
        ),
        settings_file,
    )
    jobs_before = idle_server.store.count_jobs()
    env = {**os.environ, "ANONAPI_SETTINGS": str(settings_file)}
    command = [sys.executable, "-c", "from anonapi_cli.main import cli; cli()"]
    process = subprocess.Popen(
        [*command, "create", "from-mapping", "--yes"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    for line in process.stdout:
        if line.startswith("Created job"):
            process.kill()
            break
    process.wait(timeout=30)
    journalled = set(CreationJournal(tmp_path).job_ids())
    assert journalled

    rerun = subprocess.run(
        [*command, "create", "from-mapping", "--yes"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert rerun.returncode == 0, rerun.stderr
    batch = set(load_batch(tmp_path).job_ids)
    assert journalled <= batch
    assert len(batch) == 60
    assert idle_server.store.count_jobs() - jobs_before == 60  # nothing created twice


def test_a_job_created_just_before_a_kill_is_found_and_not_created_again(
    settings: Settings, idle_server: EmbeddedServer, tmp_path: Path
) -> None:
    mapping = write_mapping(tmp_path, idle_server, 3)
    plan = plan_jobs(settings, mapping, tmp_path)
    with AnonClient.from_settings(settings) as client:
        # The killed run: its marker, then a job the server made whose id never got journalled.
        newest = max(job.job_id for job in client.get_jobs())
        (tmp_path / RUN_MARKER_NAME).write_text(json.dumps({"after_job_id": newest}))
        params = plan.jobs[1].request.create_job_params()
        orphan = str(client.create_job(with_idempotency_key(params, plan.jobs[1].key)).job_id)

    report = create_jobs_from_mapping(settings, mapping, tmp_path)

    assert report.ok and len(report.created) == 2
    assert report.plan.already_created == {plan.jobs[1].key: orphan}
    assert orphan in load_batch(tmp_path).job_ids and len(load_batch(tmp_path).job_ids) == 3
    assert not (tmp_path / RUN_MARKER_NAME).exists()
    origins = read_origins(tmp_path)
    assert sorted(origins) == sorted(load_batch(tmp_path).job_ids)  # the adopted job's too
    assert origins[orphan].row == plan.jobs[1].request.line


def test_the_same_mapping_in_another_folder_gets_its_own_jobs(
    settings: Settings, idle_server: EmbeddedServer, tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    create_jobs_from_mapping(
        settings, write_mapping(tmp_path / "a", idle_server, 2), tmp_path / "a"
    )

    report = create_jobs_from_mapping(
        settings, write_mapping(tmp_path / "b", idle_server, 2), tmp_path / "b"
    )

    assert len(report.created) == 2
    assert not set(load_batch(tmp_path / "a").job_ids) & set(load_batch(tmp_path / "b").job_ids)


def test_validation_reports_every_bad_row(
    settings: Settings, idle_server: EmbeddedServer, tmp_path: Path
) -> None:
    mapping = write_mapping(tmp_path, idle_server, 3, extra=["folder:C:/x,P8", "folder:D:/y,P9"])

    with pytest.raises(MappingValidationError) as caught:
        plan_jobs(settings, mapping, tmp_path)

    assert len(caught.value.problems) == 2
    assert "line 12" in caught.value.problems[0] and "line 13" in caught.value.problems[1]


def test_dry_run_writes_nothing(
    settings: Settings, idle_server: EmbeddedServer, tmp_path: Path
) -> None:
    mapping = write_mapping(tmp_path, idle_server, 2)

    report = create_jobs_from_mapping(settings, mapping, tmp_path, dry_run=True)

    assert report.dry_run and len(report.plan.jobs) == 2 and not report.created
    assert sorted(p.name for p in tmp_path.iterdir()) == ["anon_mapping.csv"]


def test_a_refusal_every_row_shares_stops_after_the_first_row(
    settings: Settings, idle_server: EmbeddedServer, tmp_path: Path
) -> None:
    mapping = write_mapping(tmp_path, idle_server, 5, project="NoSuchProject")

    report = create_jobs_from_mapping(settings, mapping, tmp_path)

    assert not report.ok and not report.created
    assert (
        len(report.failed) == 1 and "Unknown project_name NoSuchProject" in report.failed[0].reason
    )
    assert len(report.not_attempted) == 4


def test_continue_on_error_tries_every_row(
    settings: Settings, idle_server: EmbeddedServer, tmp_path: Path
) -> None:
    mapping = write_mapping(tmp_path, idle_server, 3, project="NoSuchProject")

    report = create_jobs_from_mapping(settings, mapping, tmp_path, stop_on_error=False)

    assert len(report.failed) == 3 and not report.not_attempted


def test_a_wrong_token_fails_before_any_job_is_sent(
    settings: Settings, idle_server: EmbeddedServer, tmp_path: Path
) -> None:
    mapping = write_mapping(tmp_path, idle_server, 2)
    settings.user_token = "not-the-token"

    with pytest.raises(APIClientError, match="401"):
        create_jobs_from_mapping(settings, mapping, tmp_path)

    assert not (tmp_path / ".anonbatch").exists()


def test_a_row_repeated_in_a_mapping_is_refused_not_created_twice(
    settings: Settings, idle_server: EmbeddedServer, tmp_path: Path
) -> None:
    mapping = write_mapping(tmp_path, idle_server, 1, extra=["folder:s0,P0"])

    with pytest.raises(MappingValidationError) as caught:
        create_jobs_from_mapping(settings, mapping, tmp_path)

    assert "line 10" in caught.value.problems[0]


def test_plan_uses_the_active_server(settings: Settings, tmp_path: Path, idle_server) -> None:
    mapping = write_mapping(tmp_path, idle_server, 1)

    plan = plan_jobs(settings, mapping, tmp_path)

    assert plan.server == Server(name="idle", url=idle_server.url)
