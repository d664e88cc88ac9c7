"""Job records without models: what the wire model takes unchanged is kept as sent; the model
decides everything else, with its own conversions and errors."""

from __future__ import annotations

import json
import types
import typing
from pathlib import Path
from typing import Any

import pytest

from anonapi_core.actions.batch import BatchStatus
from anonapi_core.batch import JobBatch
from anonapi_core.exceptions import APIParseResponseError
from anonapi_core.job_fields import CORE_FIELDS, FIELD_TYPES, JobStatus, job_records
from anonapi_core.models import JobInfo, Server, parse_job_list
from anonapi_server.demo import sample_jobs


def _declared_types(annotation: Any) -> set[type]:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return set(typing.get_args(annotation))
    return {annotation}


def test_the_field_types_are_the_wire_models_declarations() -> None:
    fields = JobInfo.model_fields

    assert list(FIELD_TYPES) == list(fields)
    assert {n: set(t) for n, t in FIELD_TYPES.items()} == {
        n: _declared_types(f.annotation) for n, f in fields.items()
    }
    assert {n for n, f in fields.items() if f.is_required()} == set(CORE_FIELDS)


def test_jobs_as_the_model_takes_them_are_kept_as_sent_and_equal_the_models() -> None:
    jobs = sample_jobs(40)
    reply = {str(job.job_id): job.model_dump() for job in jobs}

    records = job_records(reply)

    assert all(r is sent for r, sent in zip(records, reply.values(), strict=True))
    assert [JobInfo.model_validate(r) for r in records] == parse_job_list(reply) == jobs


@pytest.mark.parametrize(
    ("field", "sent", "held"),
    [
        ("files_downloaded", "12", 12),  # a number as text
        ("job_id", "7", 7),
        ("priority", True, 1),  # a bool is no int here: the model converts it
        ("source_pims_keyfile_id", 3, 3),  # either type the model allows, unchanged
    ],
)
def test_a_value_the_model_converts_is_recorded_as_the_model_holds_it(
    field: str, sent: object, held: object
) -> None:
    job = sample_jobs(1)[0].model_dump() | {field: sent, "newer_field": "kept"}

    [record] = job_records({"7": job})

    assert record == JobInfo.parse(job).model_dump()
    assert record[field] == held and type(record[field]) is type(held)
    assert record["newer_field"] == "kept"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"job_id": "seven"}, "field 'job_id'"),
        ({"status": None}, "field 'status'"),
        ({"files_processed": [1]}, "field 'files_processed'"),
    ],
)
def test_a_job_the_model_refuses_fails_with_the_models_message(
    change: dict[str, object], message: str
) -> None:
    job = sample_jobs(1)[0].model_dump() | change

    with pytest.raises(APIParseResponseError, match=message) as raised:
        job_records({"1": job})
    with pytest.raises(APIParseResponseError) as by_model:
        parse_job_list({"1": job})
    assert str(raised.value) == str(by_model.value)


def test_a_job_without_a_core_field_fails_naming_it() -> None:
    job = sample_jobs(1)[0].model_dump()
    del job["date"]

    with pytest.raises(APIParseResponseError, match="field 'date'"):
        job_records({"1": job})


@pytest.mark.parametrize("reply", [[], "jobs", None])
def test_a_reply_that_is_not_jobs_by_id_fails_saying_what_came(reply: object) -> None:
    with pytest.raises(APIParseResponseError, match="Expected jobs keyed by id"):
        job_records(reply)


def test_every_recorded_jobs_reply_gives_the_models_values(corpus: Path) -> None:
    for path in sorted((corpus / "server-responses").glob("jobs_list_*.json")):
        body = json.loads(path.read_text())["body"]

        records = job_records(body)

        assert [JobInfo.model_validate(r) for r in records] == parse_job_list(body), path.name


def test_a_batch_status_counts_and_watches_from_records_and_builds_models_when_asked() -> None:
    jobs = sample_jobs(30)
    records = [job.model_dump() for job in jobs]
    status = BatchStatus(JobBatch([str(j.job_id) for j in jobs], Server("s", "")), records, ["9"])

    counts = status.counts()

    assert counts == {**_count(j.status for j in jobs), "NOT_FOUND": 1}
    assert status.is_running == any(JobStatus(j.status).is_running for j in jobs)
    assert "jobs" not in vars(status)  # not built for counts
    assert status.jobs == jobs
    assert status.with_status("ERROR") == [j for j in jobs if j.status == "ERROR"]


def _count(statuses: typing.Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return counts
