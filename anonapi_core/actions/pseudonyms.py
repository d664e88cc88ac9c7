"""Pseudonym registry actions: remember what job creation gave, list, check and forget entries.

The registry itself (and why it holds only keyed hashes of sources) is
`anonapi_core.pseudonym_registry`; the pre-flight check reads it (`actions.preflight`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from anonapi_core.actions.preflight import batch_name
from anonapi_core.exceptions import AnonAPIError
from anonapi_core.preflight import source_identity
from anonapi_core.pseudonym_registry import Given, PseudonymRegistry, open_registry

if TYPE_CHECKING:
    from anonapi_core.actions.create import CreationReport


def record_created(report: CreationReport, registry: PseudonymRegistry | None = None) -> str | None:
    """Record the pseudonym of every job a creation run made.

    Returns None, or a warning when the registry could not be written: the jobs exist either
    way, so a registry problem must not turn their creation into a failure.
    """
    entries = [
        (
            source_identity(job.request.source),
            job.request.pseudo_id or job.request.pseudo_name or "",
            job.request.pseudo_name or "",
        )
        for job in report.created
        if job.request.pseudo_id or job.request.pseudo_name
    ]
    if not entries:
        return None
    try:
        (registry or open_registry()).record(entries, batch_name(report.plan.folder))
    except AnonAPIError as e:
        return f"The pseudonyms of the new jobs were not recorded in the registry: {e}"
    return None


def list_pseudonyms(
    pseudonym: str | None = None, registry: PseudonymRegistry | None = None
) -> list[Given]:
    """Every recorded pseudonym (or one pseudonym's entries), oldest first."""
    return (registry or open_registry()).entries(pseudonym)


def forget_pseudonyms(
    *,
    pseudonym: str | None = None,
    folder: Path | None = None,
    registry: PseudonymRegistry | None = None,
) -> int:
    """Forget a pseudonym, a batch's entries, or one pseudonym in one batch; returns how many."""
    batch = batch_name(folder) if folder is not None else None
    return (registry or open_registry()).forget(pseudonym=pseudonym, batch=batch)
