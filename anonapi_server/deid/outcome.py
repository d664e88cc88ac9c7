"""What happened to one file, in a shape the worker, the job record and the quarantine can share.

Every file handed to the engine ends in exactly one of three ways: written, held back
(quarantined, a person may release it) or skipped (nothing can be made of it). The reason is a
sentence for people and the cause a stable word for programs (the quarantine extension filters
and groups by it). Neither ever holds a DICOM value or the source file's name: the caller knows
which file it passed, and reasons end up in views other people may see.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Literal

Kind = Literal["written", "quarantined", "skipped"]


class Cause(Enum):
    """Why a file was not written; the value is what the job record and the API carry."""

    BURNED_IN = "burned_in"  # may show identifying text in its pixels (quarantined)
    NOT_DICOM = "not_dicom"  # not a DICOM Part-10 file at all
    UNREADABLE = "unreadable"  # DICOM, but its encoding cannot be parsed
    DAMAGED = "damaged"  # truncated or otherwise missing data a copy would silently lose
    NOT_AN_INSTANCE = "not_an_instance"  # no SOP Class/Instance UID: no receiver can store it
    DICOMDIR = "dicomdir"  # a media index, not an image
    TOO_LARGE = "too_large"  # beyond what this encoding may take within the memory bound
    FAILED = "failed"  # de-identifying it raised: a defect to report, the job goes on


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file: written to dst, held back (quarantined) or skipped."""

    kind: Kind
    reason: str | None = None
    cause: Cause | None = None

    @classmethod
    def quarantined(cls, cause: Cause, reason: str) -> "FileOutcome":
        return cls("quarantined", reason, cause)

    @classmethod
    def skipped(cls, cause: Cause, reason: str) -> "FileOutcome":
        return cls("skipped", reason, cause)


WRITTEN = FileOutcome("written")


def summary(outcomes: Iterable[FileOutcome]) -> str | None:
    """One line for the job: how many files were held back or skipped, grouped by reason.

    e.g. "2 file(s) quarantined (modality US without BurnedInAnnotation=NO: 2); 1 file(s) skipped
    (damaged: no data set after the file meta: 1)". None when every file was written.
    """
    by_kind: dict[str, Counter[str]] = {"quarantined": Counter(), "skipped": Counter()}
    for outcome in outcomes:
        if outcome.kind != "written":
            by_kind[outcome.kind][outcome.reason or "no reason given"] += 1
    parts = []
    for kind, reasons in by_kind.items():
        if reasons:
            listed = ", ".join(f"{reason}: {n}" for reason, n in sorted(reasons.items()))
            parts.append(f"{reasons.total()} file(s) {kind} ({listed})")
    return "; ".join(parts) or None
