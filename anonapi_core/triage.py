"""Failed jobs grouped by what went wrong: 140 errors are usually five problems, not 140.

An error's *signature* is its text with what differs from job to job normalised away: paths
(UNC, Windows and POSIX), quoted names, DICOM UIDs, hexadecimal ids and numbers. Jobs whose
signatures match failed for the same reason and can be repaired (reset or cancelled) together.
Each group has a short id, a hash of its signature, so "reset group 3f9a1c" still means the same
jobs after the counts (and hence the order of the groups) changed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from anonapi_core.models import JobInfo, JobStatus

NO_MESSAGE = "(no error message)"

# Order matters: a path may hold numbers and a UID looks like a number, so the longer shapes go
# first and what they became (`<path>`, `<uid>`) holds no digits for the later patterns to find.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # A path ends before a space, quote or bracket, and without the punctuation after it.
    (re.compile(r"\\\\[^\s'\"()]*[^\s'\"():,;.]"), "<path>"),  # \\server\share\folder
    (re.compile(r"\b[A-Za-z]:[\\/](?:[^\s'\"()]*[^\s'\"():,;.])?"), "<path>"),  # C:\folder
    (re.compile(r"(?<![\w.])/[^\s'\"():]+(?:/[^\s'\"():]*[^\s'\"():,;.])+"), "<path>"),  # /a/b
    (re.compile(r'"[^"]*"'), '"<name>"'),
    (re.compile(r"'[^']*'"), "'<name>'"),
    (re.compile(r"\b\d+(?:\.\d+){3,}\b"), "<uid>"),
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}\b"), "<id>"),
    (re.compile(r"\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{12,}\b"), "<id>"),
    (re.compile(r"\d+"), "<n>"),
    (re.compile(r"\s+"), " "),
)


def signature(error: str | None) -> str:
    """The error with paths, names, uids, ids and numbers replaced by placeholders."""
    text = (error or "").strip()
    if not text:
        return NO_MESSAGE
    for pattern, placeholder in _PATTERNS:
        text = pattern.sub(placeholder, text)
    return text.strip()


def group_id(signature_text: str) -> str:
    """A short, stable name for a group: the first 6 hex digits of its signature's hash."""
    return hashlib.sha256(signature_text.encode()).hexdigest()[:6]


@dataclass(frozen=True)
class ErrorGroup:
    """Failed jobs with one signature; `example` is one real message, for the reader."""

    id: str
    signature: str
    example: str
    jobs: tuple[JobInfo, ...]

    @property
    def count(self) -> int:
        return len(self.jobs)

    @property
    def job_ids(self) -> list[str]:
        return [str(job.job_id) for job in self.jobs]


def group_errors(jobs: Iterable[JobInfo]) -> list[ErrorGroup]:
    """The jobs in ERROR, grouped by signature: largest group first, then by signature."""
    found: dict[str, list[JobInfo]] = {}
    for job in jobs:
        if job.status == JobStatus.ERROR:
            found.setdefault(signature(job.error), []).append(job)
    groups = [
        ErrorGroup(group_id(sig), sig, members[0].error_text or NO_MESSAGE, tuple(members))
        for sig, members in found.items()
    ]
    return sorted(groups, key=lambda g: (-g.count, g.signature))


def find_group(groups: Sequence[ErrorGroup], wanted: str) -> ErrorGroup | None:
    """A group by its id, or by its number as listed (1 = the largest)."""
    wanted = wanted.strip().lower()
    for group in groups:
        if group.id == wanted:
            return group
    if wanted.isdigit() and 1 <= int(wanted) <= len(groups):
        return groups[int(wanted) - 1]
    return None
