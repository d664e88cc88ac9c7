"""Pre-flight action: the whole check of a mapping, local, on the server and in the registry.

The server checks use extensions a real IDIS server lacks (`shares`, `pacs-count`); against such a
server they are skipped with a note that says so, never failed. A server that cannot be reached
is a warning: the local checks still count.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from anonapi_core.exceptions import AnonAPIError
from anonapi_core.mapping import Mapping, load_mapping
from anonapi_core.parameters import DESTINATION_PATH, SOURCE
from anonapi_core.preflight import Finding, PreflightReport, ResolvedRow, Severity, check_mapping
from anonapi_core.pseudonym_registry import PseudonymRegistry, open_registry
from anonapi_core.settings import Settings

SHARES = "shares"

if TYPE_CHECKING:
    from anonapi_core.client import AnonClient


def preflight(
    settings: Settings,
    mapping_path: Path,
    folder: Path,
    *,
    server: bool = True,
    registry: PseudonymRegistry | None = None,
) -> PreflightReport:
    """Check the mapping at `mapping_path` whose jobs would belong to the batch in `folder`."""
    return preflight_mapping(
        settings, load_mapping(mapping_path), folder, server=server, registry=registry
    )


def preflight_mapping(
    settings: Settings,
    mapping: Mapping,
    folder: Path,
    *,
    server: bool = True,
    registry: PseudonymRegistry | None = None,
) -> PreflightReport:
    """As `preflight`, for a mapping in memory (the editor checks what it shows, unsaved)."""
    report, rows = check_mapping(mapping, settings.job_default_parameters)
    if rows:
        check_registry(report, rows, mapping, folder, registry)
        if server:
            check_on_server(settings, report, rows, mapping)
        else:
            report.notes.append("Server checks (shares, PACS counts) not run")
    return report


def batch_name(folder: Path) -> str:
    """How the registry names a batch: its folder, absolute."""
    return str(Path(folder).absolute())


def check_registry(
    report: PreflightReport,
    rows: list[ResolvedRow],
    mapping: Mapping,
    folder: Path,
    registry: PseudonymRegistry | None = None,
) -> None:
    """Pseudonyms given before, in other batches, to other sources (and sources renamed)."""
    try:
        registry = registry or open_registry()
        for row in rows:
            if row.pseudonym is None:
                continue
            conflicts = registry.conflicts(row.identity, row.pseudonym, batch=batch_name(folder))
            for conflict in conflicts[:3]:
                report.findings.append(
                    _finding(mapping, row, "warning", "registry", SOURCE.name, conflict.describe())
                )
    except AnonAPIError as e:
        report.notes.append(f"Pseudonym registry not checked: {e}")


def check_on_server(
    settings: Settings, report: PreflightReport, rows: list[ResolvedRow], mapping: Mapping
) -> None:
    """Shares the server does not serve; PACS studies it cannot find. Needs the active server."""
    from anonapi_core.client import AnonClient

    try:
        with AnonClient.from_settings(settings) as client:
            _check_shares(client, report, rows, mapping)
            _check_pacs(client, report, rows, mapping)
    except AnonAPIError as e:
        report.findings.append(
            _finding(mapping, None, "warning", "server", None, f"server checks not run: {e}")
        )


def _check_shares(
    client: AnonClient, report: PreflightReport, rows: list[ResolvedRow], mapping: Mapping
) -> None:
    from anonapi_core.extensions import NotAvailable, call

    located: list[tuple[ResolvedRow, str, str]] = []
    for row in rows:
        if row.job.source.is_path:
            located.append((row, SOURCE.name, row.job.source.value))
        located.append((row, DESTINATION_PATH.name, row.job.destination_path))
    paths = list(dict.fromkeys(path for _, _, path in located))
    try:
        reply = call(client, SHARES, "POST", "shares/check", {"paths": paths})
    except NotAvailable:
        report.notes.append(
            "UNC shares not checked: which shares the server serves is not available on this server"
        )
        return
    refused = {
        r.get("path"): r.get("reason") or "not a share this server serves"
        for r in _list(reply, "results")
        if not r.get("served")
    }
    for row, column, path in located:
        if path in refused:
            message = f"'{path}': {refused[path]}"
            report.findings.append(
                _finding(mapping, row, "error", "share_not_served", column, message)
            )


def _check_pacs(
    client: AnonClient, report: PreflightReport, rows: list[ResolvedRow], mapping: Mapping
) -> None:
    from anonapi_core.exceptions import APIClientAPIException
    from anonapi_core.extensions import NotAvailable
    from anonapi_core.pacs_counts import count_instances

    pacs_rows = [row for row in rows if not row.job.source.is_path]
    if not pacs_rows:
        return
    try:
        counts = count_instances(client, [str(row.job.source) for row in pacs_rows])
    except NotAvailable:
        report.notes.append(
            f"{len(pacs_rows)} PACS rows not counted: instance counts are not available on "
            "this server"
        )
        return
    except APIClientAPIException as e:  # e.g. no PACS configured under that name
        report.notes.append(f"{len(pacs_rows)} PACS rows not counted: {e}")
        return
    for row in pacs_rows:
        severity, check, message = pacs_verdict(counts.get(str(row.job.source)))
        report.findings.append(_finding(mapping, row, severity, check, SOURCE.name, message))


def pacs_verdict(count: dict | None) -> tuple[Severity, str, str]:
    """(severity, check, message) for one identifier's count from the `pacs-count` extension."""
    if count is None:
        return "warning", "pacs_count", "the server did not count this study"
    if count.get("error"):
        return "error", "pacs_count", f"PACS: {count['error']}"
    studies, instances = count.get("studies") or 0, count.get("instances")
    if not studies or instances == 0:
        return "error", "pacs_not_found", "0 found in the PACS: no job could fetch anything"
    held = "PACS holds " + (
        f"{instances} instances" if instances is not None else "it (instance count unknown)"
    )
    if studies > 1:
        return "warning", "pacs_count", f"{held} in {studies} studies: one job gets them all"
    return "info", "pacs_count", held


def _list(reply: object, key: str) -> list[dict]:
    items = reply.get(key) if isinstance(reply, dict) else None
    return [item for item in items or () if isinstance(item, dict)]


def _finding(
    mapping: Mapping,
    row: ResolvedRow | None,
    severity: Severity,
    check: str,
    column: str | None,
    message: str,
) -> Finding:
    return Finding(
        severity,
        check,
        message,
        mapping.file_name,
        row.row if row else None,
        row.line if row else None,
        column,
    )
