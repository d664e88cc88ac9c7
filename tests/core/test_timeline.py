"""A job's audit timeline: origin, resets and cancels, observed statuses, merged by time."""

from __future__ import annotations

import json
from pathlib import Path

from anonapi_core.action_log import ACTION_LOG_NAME
from anonapi_core.batch import CreationJournal
from anonapi_core.job_origins import JobOrigin, read_origins, record_origins
from anonapi_core.models import Server
from anonapi_core.status_history import STATUSES_NAME
from anonapi_core.timeline import job_timeline


def write_lines(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def test_origin_actions_and_statuses_merge_into_one_time_ordered_timeline(tmp_path: Path) -> None:
    t = "2026-12-07T08:00:{:02d}+00:00".format
    record_origins(tmp_path, [JobOrigin("7", "z123", t(0), "anon_mapping.csv", 12)])
    write_lines(
        tmp_path / ACTION_LOG_NAME,
        [
            {"time": t(30), "user": "z9", "action": "reset", "server": "p01",
             "jobs": [{"job_id": "7", "ok": True}, {"job_id": "8", "ok": True}]},
            {"time": t(40), "user": "z9", "action": "cancel", "server": "p01",
             "jobs": [{"job_id": "7", "ok": False, "reason": "Job <n> is DONE"}]},
        ],
    )  # fmt: skip
    write_lines(
        tmp_path / STATUSES_NAME,
        [
            {"job_id": "7", "status": "ACTIVE", "time": t(5)},
            {"job_id": "8", "status": "ACTIVE", "time": t(5)},
            {"job_id": "7", "status": "ERROR", "time": t(20)},
            {"job_id": "7", "status": "ERROR", "time": t(21)},  # a second poller's copy
            {"job_id": "7", "status": "ACTIVE", "time": t(30)},
        ],
    )
    lines = [e.line() for e in job_timeline(tmp_path, "7").events]
    assert lines == [
        "2026-12-07 08:00:00  created by z123 from anon_mapping.csv row 12",
        "2026-12-07 08:00:05  status first seen ACTIVE",
        "2026-12-07 08:00:20  status ACTIVE -> ERROR",
        "2026-12-07 08:00:30  reset by z9: done",
        "2026-12-07 08:00:30  status ERROR -> ACTIVE",
        "2026-12-07 08:00:40  cancel by z9: refused: Job <n> is DONE",
    ]


def test_an_old_batch_shows_what_its_journal_knows_and_nothing_more(tmp_path: Path) -> None:
    CreationJournal(tmp_path, Server(name="p01", url="http://x")).record("rowkey", "5")
    (event,) = job_timeline(tmp_path, "5").events
    assert event.kind == "created"
    assert "not recorded" in event.text
    assert job_timeline(tmp_path, "6").events == []


def test_origins_keep_the_mapping_file_name_only_and_skip_damaged_records(tmp_path: Path) -> None:
    from anonapi_core.job_origins import new_origin

    origin = new_origin("3", "z1", tmp_path / "Patient Jansen" / "anon_mapping.csv", 4)
    record_origins(tmp_path, [origin])
    with (tmp_path / ".anonbatch.origins").open("a") as f:
        f.write('{"job_id": "4"}\n')
    assert list(read_origins(tmp_path)) == ["3"]
    assert "Jansen" not in (tmp_path / ".anonbatch.origins").read_text()


def test_a_jobs_history_holds_only_its_own_events_not_those_of_similar_ids(tmp_path: Path) -> None:
    t = "2026-12-07T08:00:00+00:00"
    record_origins(tmp_path, [JobOrigin("17", "z1", t, "m.csv", 2)])
    write_lines(
        tmp_path / ACTION_LOG_NAME,
        [{"time": t, "user": "z7", "action": "reset", "server": "7", "jobs": [
            {"job_id": "17", "ok": True}, {"job_id": "71", "ok": True}]}],
    )  # fmt: skip
    write_lines(tmp_path / STATUSES_NAME, [{"job_id": "177", "status": "7", "time": t}])
    assert job_timeline(tmp_path, "7").events == []
    assert [e.kind for e in job_timeline(tmp_path, "17").events] == ["created", "reset"]
