"""Job and batch actions over one pooled connection against a real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from anonapi_core.actions.batch import batch_job_ids, batch_status
from anonapi_core.actions.jobs import (
    cancel_jobs,
    fetch_jobs,
    job_details,
    latest_jobs,
    reset_jobs,
    set_opt_out_ignore,
)
from anonapi_core.batch import JobBatch, save_batch
from anonapi_core.client import AnonClient
from anonapi_core.exceptions import APIClientError, NoBatchDefinedError
from anonapi_core.models import Server
from anonapi_core.settings import Settings
from anonapi_server.testing import EmbeddedServer


def _jobs(server: EmbeddedServer, statuses: list[str]) -> list[str]:
    with AnonClient(Server(name="s", url=server.url), server.user_name, server.token) as client:
        ids = [
            str(
                client.create_job(
                    {
                        "source_type": "WADO",
                        "source_instance_id": f"accession_number:{n}",
                        "destination_type": "PATH",
                        "destination_path": server.unc("out"),
                        "project_name": "Wetenschap-Algemeen",
                        "anonymizedpatientname": f"P{n}",
                    }
                ).job_id
            )
            for n in range(len(statuses))
        ]
    for job_id, status in zip(ids, statuses, strict=True):
        server.store.modify_job(int(job_id), {"status": status, "error": "x"}, restart=False)
    return ids


@pytest.fixture
def server(settings: Settings) -> Server:
    return settings.active_server()


def test_bulk_actions_report_per_job_results(
    settings: Settings, server: Server, idle_server: EmbeddedServer
) -> None:
    ids = _jobs(idle_server, ["ERROR", "DONE"])

    reset = reset_jobs(settings, server, [*ids, "999990"])
    cancelled = cancel_jobs(settings, server, ids[:1])
    opted = set_opt_out_ignore(settings, server, ids[1:], "consent")

    assert [r.ok for r in reset] == [True, True, False]
    assert "999990" in reset[2].error
    assert cancelled[0].ok and opted[0].ok
    assert idle_server.store.job_statuses([int(i) for i in ids]) == {
        int(ids[0]): "INACTIVE",
        int(ids[1]): "ACTIVE",
    }


def test_reads(settings: Settings, server: Server, idle_server: EmbeddedServer) -> None:
    ids = _jobs(idle_server, ["DONE", "ERROR"])

    listed = fetch_jobs(settings, server, [*ids, "999991"], extended=True)
    latest = latest_jobs(settings, server)
    detail = job_details(settings, server, ids[0])

    assert [str(j.job_id) for j in listed] == ids
    assert listed[0].source_anonymizedpatientname == "P0"
    assert {str(j.job_id) for j in latest} >= set(ids)
    assert detail.status == "DONE"
    with pytest.raises(APIClientError, match="999991"):
        job_details(settings, server, "999991")


def test_batch_status_counts_in_order_of_appearance_with_not_found(
    settings: Settings, server: Server, idle_server: EmbeddedServer, tmp_path: Path
) -> None:
    ids = _jobs(idle_server, ["ERROR", "DONE", "ERROR", "UPLOADED"])
    save_batch(tmp_path, JobBatch(job_ids=[*ids, "999992"], server=server))

    status = batch_status(settings, tmp_path)

    assert status.counts() == {"ERROR": 2, "DONE": 1, "UPLOADED": 1, "NOT_FOUND": 1}
    assert status.not_found == ["999992"]
    assert status.is_running


def test_batch_status_of_an_empty_batch_asks_the_server_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    save_batch(tmp_path, JobBatch(job_ids=[], server=Server(name="d", url="http://127.0.0.1:9")))

    status = batch_status(settings, tmp_path)

    assert status.jobs == [] and status.counts() == {"NOT_FOUND": 0} and not status.is_running


def test_batch_status_without_a_batch(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(NoBatchDefinedError):
        batch_status(settings, tmp_path)


def test_batch_ids_by_status_make_reset_and_cancel_touch_only_those_jobs(
    settings: Settings, server: Server, idle_server: EmbeddedServer, tmp_path: Path
) -> None:
    ids = _jobs(idle_server, ["ERROR", "ACTIVE", "UPLOADED", "DONE"])
    save_batch(tmp_path, JobBatch(job_ids=ids, server=server))

    active, batch_server = batch_job_ids(settings, tmp_path, "ACTIVE")
    cancelled = cancel_jobs(settings, batch_server, active)
    errors, _ = batch_job_ids(settings, tmp_path, "ERROR")
    reset = reset_jobs(settings, batch_server, errors)

    assert [r.job_id for r in cancelled] == [ids[1]]
    assert [r.job_id for r in reset] == [ids[0]]
    assert idle_server.store.job_statuses([int(i) for i in ids]) == {
        int(ids[0]): "ACTIVE",
        int(ids[1]): "INACTIVE",
        int(ids[2]): "UPLOADED",
        int(ids[3]): "DONE",
    }
