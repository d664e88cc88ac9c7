"""The pre-flight checks that need a server or the registry, against real embedded servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import anonapi_server.ext as ext
from anonapi_core.actions.preflight import preflight
from anonapi_core.pseudonym_registry import open_registry
from anonapi_core.settings import Settings
from anonapi_server.testing import EmbeddedServer, running_server
from tests.actions.conftest import write_mapping


def findings(report, check: str) -> list[tuple[int | None, str, str | None]]:
    return [(f.line, f.severity, f.column) for f in report.findings if f.check == check]


def test_paths_on_shares_the_server_serves_pass(
    settings: Settings, idle_server: EmbeddedServer, tmp_path: Path
) -> None:
    path = write_mapping(tmp_path, idle_server, 2)
    report = preflight(settings, path, tmp_path)
    assert report.findings == []
    assert not any("shares" in note for note in report.notes)


def test_a_share_the_server_does_not_serve_is_an_error_per_row(
    settings: Settings, idle_server: EmbeddedServer, tmp_path: Path
) -> None:
    grid = "source,pseudo_name\nfolder:s0,P0\nfolder:\\\\otherhost\\scans\\s1,P1\n"
    path = write_mapping(tmp_path, idle_server, grid)
    report = preflight(settings, path, tmp_path)
    assert findings(report, "share_not_served") == [(10, "error", "source")]
    assert "not a share on this server" in report.errors[0].message


def test_a_destination_on_an_unknown_share_fails_every_row_using_it(
    settings: Settings, idle_server: EmbeddedServer, tmp_path: Path
) -> None:
    path = write_mapping(tmp_path, idle_server, 2, destination_path="\\\\localhost\\nope\\out")
    report = preflight(settings, path, tmp_path)
    assert findings(report, "share_not_served") == [
        (9, "error", "destination_path"),
        (10, "error", "destination_path"),
    ]


def test_pacs_rows_on_the_real_server_without_a_pacs_are_skipped_with_its_reason(
    settings: Settings, idle_server: EmbeddedServer, tmp_path: Path
) -> None:
    path = write_mapping(tmp_path, idle_server, "source,pseudo_name\naccession_number:123,P0")
    report = preflight(settings, path, tmp_path)
    assert report.ok
    assert any("No default PACS configured" in note for note in report.notes), report.notes


@pytest.fixture(scope="module")
def server_without_counts() -> Iterator[EmbeddedServer]:
    """A server that lacks `pacs-count`, as a real IDIS server lacks every extension."""
    original = list(ext.EXTENSIONS)
    ext.EXTENSIONS[:] = [e for e in original if e.name != "pacs-count"]
    try:
        with running_server(workers=0) as server:
            yield server
    finally:
        ext.EXTENSIONS[:] = original


def test_pacs_rows_against_a_server_without_counts_are_skipped_with_a_note(
    server_without_counts: EmbeddedServer, tmp_path: Path
) -> None:
    settings = Settings(
        servers={"n": server_without_counts.url},
        active_server_name="n",
        user_name=server_without_counts.user_name,
        user_token=server_without_counts.token,
        path=tmp_path / "settings.yml",
    )
    grid = "source,pseudo_name\naccession_number:123,P0"
    path = write_mapping(tmp_path, server_without_counts, grid)
    report = preflight(settings, path, tmp_path)
    assert report.ok
    assert any("not available on this server" in note for note in report.notes), report.notes


COUNTS = {
    "accession_number:111": {"studies": 1, "instances": 240, "error": None},
    "accession_number:222": {"studies": 0, "instances": 0, "error": None},
    "accession_number:333": {"studies": 0, "instances": 0, "error": "PACS timed out"},
    "accession_number:444": {"studies": 2, "instances": 10, "error": None},
    "accession_number:555": {"studies": 1, "instances": None, "error": None},
}


@pytest.fixture(scope="module")
def counting_server() -> Iterator[EmbeddedServer]:
    """A server with a stand-in `pacs-count` extension that answers from COUNTS, per the
    contract in the extension document (the real one needs a PACS)."""
    seen: list[dict] = []

    async def count(request: Request, call: ext.ExtCall) -> Response:
        body = await request.json()
        seen.append(body)
        return JSONResponse(
            {"counts": [{"identifier": i, **COUNTS[i]} for i in body["identifiers"]]}
        )

    fake = ext.Extension(
        "pacs-count",
        lambda store: [Route("/pacs/count", ext.authenticated(store, count), methods=["POST"])],
    )
    original = list(ext.EXTENSIONS)
    ext.EXTENSIONS[:] = [e for e in original if e.name != "pacs-count"] + [fake]
    try:
        with running_server(workers=0) as server:
            server.seen = seen  # type: ignore[attr-defined]
            yield server
    finally:
        ext.EXTENSIONS[:] = original


def test_pacs_counts_become_findings_and_zero_found_is_an_error(
    counting_server: EmbeddedServer, tmp_path: Path
) -> None:
    settings = Settings(
        servers={"c": counting_server.url},
        active_server_name="c",
        user_name=counting_server.user_name,
        user_token=counting_server.token,
        path=tmp_path / "settings.yml",
    )
    grid = "source,pseudo_name\n" + "".join(
        f"accession_number:{n},P{n}\n" for n in (111, 222, 333, 444, 555)
    )
    path = write_mapping(tmp_path, counting_server, grid)
    report = preflight(settings, path, tmp_path)
    by_line = {
        f.line: (f.severity, f.message) for f in report.findings if f.check.startswith("pacs")
    }
    assert by_line[9] == ("info", "PACS holds 240 instances")
    assert by_line[10][0] == "error" and "0 found" in by_line[10][1]
    assert by_line[11] == ("error", "PACS: PACS timed out")
    assert by_line[12][0] == "warning" and "2 studies" in by_line[12][1]
    assert by_line[13] == ("info", "PACS holds it (instance count unknown)")
    assert counting_server.seen[-1]["source_name"] == "IDC_WADO"  # type: ignore[attr-defined]


def test_a_pseudonym_an_earlier_batch_gave_another_source_is_a_warning(
    settings: Settings, idle_server: EmbeddedServer, tmp_path: Path
) -> None:
    registry = open_registry()
    registry.record([("accession_number:999", "P1", "")], "an earlier batch")
    path = write_mapping(tmp_path, idle_server, 2)
    report = preflight(settings, path, tmp_path)
    assert findings(report, "registry") == [(10, "warning", "source")]
    assert "given to another source before" in report.warnings[0].message


def test_an_unreachable_server_is_a_warning_and_the_local_checks_still_count(
    settings: Settings, idle_server: EmbeddedServer, tmp_path: Path
) -> None:
    settings.active_server_name = "dead"
    path = write_mapping(tmp_path, idle_server, "source,pseudo_name\nfolder:s0,P0\nfolder:s0,P0b")
    report = preflight(settings, path, tmp_path)
    assert findings(report, "server") == [(None, "warning", None)]
    assert "connection refused" in report.warnings[0].message
    assert findings(report, "two_pseudonyms") == [(10, "error", "source")]
