"""The pre-flight check of a whole mapping: what would go wrong, per row, before any job exists.

Job validation (`anonapi_core.jobrequests`) says whether each row makes a job at all. This module
adds what only shows across rows or in the values themselves: the same source twice, one study
under two pseudonyms, one pseudonym for two sources, and identifiers that Excel mangled on the
way (scientific notation, a trailing `.0`, lost leading zeros, UIDs with spaces or letters).
The checks that need a server or the user's pseudonym registry live in
`anonapi_core.actions.preflight`; they add their findings to the same report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from anonapi_core.exceptions import ParameterError
from anonapi_core.jobrequests import JobRequest, resolve_each, validate_jobs
from anonapi_core.mapping import Mapping, RowProblem
from anonapi_core.parameters import PSEUDO_ID, PSEUDO_NAME, SOURCE, SourceIdentifier, SourceType

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+")
_TRAILING_ZERO = re.compile(r"\d+\.0")
_DIGITS = re.compile(r"\d+")
_UID = re.compile(r"(?:0|[1-9]\d*)(?:\.(?:0|[1-9]\d*))*")
_UID_MAX_LENGTH = 64


@dataclass(frozen=True)
class Finding:
    """One thing the pre-flight found, located like a validation problem (file, line, column)."""

    severity: Severity
    check: str
    message: str
    file: str = "mapping"
    row: int | None = None  # 1-based grid row; None for the mapping as a whole
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        """Located like a validation problem: `file, line 12, column 'source': message`."""
        return str(RowProblem(self.file, self.line, self.column, self.message, self.row))

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "check": self.check,
            "row": self.row,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class PreflightReport:
    """Every finding of a pre-flight, and the checks that could not run (with why)."""

    file: str
    rows: int
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def of(self, severity: Severity) -> list[Finding]:
        return [f for f in self.findings if f.severity == severity]

    @property
    def errors(self) -> list[Finding]:
        return self.of("error")

    @property
    def warnings(self) -> list[Finding]:
        return self.of("warning")

    @property
    def ok(self) -> bool:
        """True when nothing stops creating jobs (warnings and notes may remain)."""
        return not self.errors

    def sorted_findings(self) -> list[Finding]:
        """Errors first, then warnings and information; in row order within each."""
        rank = {severity: n for n, severity in enumerate(SEVERITIES)}
        return sorted(self.findings, key=lambda f: (rank[f.severity], f.row or 0))

    def summary(self) -> str:
        """`12 rows: 2 errors, 1 warning` - what a title or a status line shows."""
        counts = [f"{len(self.of(s))} {s}{'' if len(self.of(s)) == 1 else 's'}" for s in SEVERITIES]
        return f"{self.rows} rows: {', '.join(counts[:2])}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "mapping": self.file,
            "rows": self.rows,
            "ok": self.ok,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "findings": [f.to_dict() for f in self.sorted_findings()],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class ResolvedRow:
    """A grid row that makes a valid job: where it is and what it asks for."""

    row: int  # 1-based
    line: int | None
    job: JobRequest

    @property
    def pseudonym(self) -> str | None:
        """The pseudonym that identifies the patient to researchers: the id, else the name."""
        return self.job.pseudo_id or self.job.pseudo_name

    @property
    def identity(self) -> str:
        return source_identity(self.job.source)

    def where(self) -> str:
        return f"line {self.line}" if self.line is not None else f"row {self.row}"


def source_identity(source: SourceIdentifier) -> str:
    """What makes two sources the same study: paths compared as Windows does (no case)."""
    if source.is_path:
        return f"{source.type}:{source.value.replace('/', chr(92)).casefold()}"
    return str(source)


class _Collector:
    """Builds findings located at a row of one mapping."""

    def __init__(self, mapping: Mapping, report: PreflightReport):
        self.mapping = mapping
        self.report = report

    def add(
        self, severity: Severity, check: str, row: int | None, column: str | None, message: str
    ) -> None:
        line = self.mapping.line_of(row - 1) if row is not None else None
        self.report.findings.append(
            Finding(severity, check, message, self.mapping.file_name, row, line, column)
        )


def check_mapping(
    mapping: Mapping, defaults: Iterable[tuple[str, str]] = ()
) -> tuple[PreflightReport, list[ResolvedRow]]:
    """The local pre-flight: validation, duplicates, pseudonym clashes and Excel damage.

    Also returns the rows that make valid jobs, for the checks that need a server or the
    registry (`anonapi_core.actions.preflight`).
    """
    defaults = list(defaults)
    report = PreflightReport(mapping.file_name, len(mapping.rows))
    collect = _Collector(mapping, report)
    # Repeats of an earlier row are left to `_check_duplicates`, which names both pseudonyms.
    problems = [p for p in validate_jobs(mapping, defaults) if not p.duplicate]
    for problem in problems:
        report.findings.append(
            Finding(
                "error",
                "validation",
                problem.message,
                problem.file,
                problem.row,
                problem.line,
                problem.column or (f"option {problem.option}" if problem.option else None),
            )
        )
    _check_excel_damage(mapping, collect)
    resolved = _resolved_rows(mapping, defaults, {p.row for p in problems}, problems)
    if resolved is None:
        report.notes.append(
            "Duplicate and pseudonym checks skipped: fix the options or settings problem first"
        )
        return report, []
    _check_duplicates(resolved, collect)
    return report, resolved


def _resolved_rows(
    mapping: Mapping, defaults: list[tuple[str, str]], bad_rows: set[int | None], problems: list
) -> list[ResolvedRow] | None:
    """The rows without problems of their own, each resolved by the shared job validation; None
    when a problem of the options or settings (one without a row) makes every row doubtful."""
    if any(p.row is None for p in problems):
        return None
    return [
        ResolvedRow(index + 1, mapping.line_of(index), job)
        for index, job in enumerate(resolve_each(mapping, defaults))
        if job is not None and index + 1 not in bad_rows
    ]


def _check_duplicates(rows: list[ResolvedRow], collect: _Collector) -> None:
    """Same source twice, one study under two pseudonyms, one pseudonym for two sources."""
    first_of_source: dict[str, ResolvedRow] = {}
    first_of_pseudonym: dict[str, ResolvedRow] = {}
    for row in rows:
        earlier = first_of_source.setdefault(row.identity, row)
        if earlier is not row:
            if earlier.pseudonym == row.pseudonym:
                collect.add(
                    "error",
                    "duplicate_source",
                    row.row,
                    SOURCE.name,
                    f"the same source as {earlier.where()}: it would be anonymized twice; "
                    "remove one of the rows",
                )
            else:
                collect.add(
                    "error",
                    "two_pseudonyms",
                    row.row,
                    SOURCE.name,
                    f"the same study as {earlier.where()} under another pseudonym "
                    f"('{row.pseudonym}' here, '{earlier.pseudonym}' there): one patient would "
                    "become two; keep one row",
                )
        if row.pseudonym is None:
            continue
        other = first_of_pseudonym.setdefault(row.pseudonym, row)
        if other is not row and other.identity != row.identity:
            collect.add(
                "warning",
                "shared_pseudonym",
                row.row,
                PSEUDO_ID.name if row.job.pseudo_id else PSEUDO_NAME.name,
                f"pseudonym '{row.pseudonym}' is also given to another source at "
                f"{other.where()}; right only when both are studies of the same patient",
            )


def _check_excel_damage(mapping: Mapping, collect: _Collector) -> None:
    """Identifiers that Excel changed when the mapping went through a spreadsheet."""
    accession: list[tuple[int, str]] = []
    pseudo_ids: list[tuple[int, str]] = []
    for number, row in enumerate(mapping.rows, start=1):
        source = _source_of(row)
        if source is not None and not source.is_path:
            value = source.value
            if _SCIENTIFIC.fullmatch(value):
                collect.add("error", "excel_scientific", number, SOURCE.name, _scientific(value))
            elif source.type is SourceType.STUDY_INSTANCE_UID:
                reason = uid_problem(value)
                if reason:
                    collect.add("error", "invalid_uid", number, SOURCE.name, reason)
            else:
                if _TRAILING_ZERO.fullmatch(value):
                    collect.add(
                        "warning", "excel_trailing_zero", number, SOURCE.name, _trailing(value)
                    )
                accession.append((number, value))
        for column in (PSEUDO_ID.name, PSEUDO_NAME.name):
            value = row.get(column, "").strip()
            if not value:
                continue
            if _SCIENTIFIC.fullmatch(value):
                collect.add("error", "excel_scientific", number, column, _scientific(value))
            elif _TRAILING_ZERO.fullmatch(value):
                collect.add("warning", "excel_trailing_zero", number, column, _trailing(value))
        if row.get(PSEUDO_ID.name, "").strip():
            pseudo_ids.append((number, row[PSEUDO_ID.name].strip()))
    _check_lost_zeros(accession, SOURCE.name, "accession numbers", collect)
    _check_lost_zeros(pseudo_ids, PSEUDO_ID.name, "pseudo_ids", collect)


def _source_of(row: dict[str, str]) -> SourceIdentifier | None:
    try:
        return SourceIdentifier.parse(row.get(SOURCE.name, ""))
    except ParameterError:  # validation reports it already
        return None


def _scientific(value: str) -> str:
    return (
        f"'{value}' is a number in scientific notation, as Excel shows long numbers: its last "
        "digits are lost. Format the column as Text and paste the original values again"
    )


def _trailing(value: str) -> str:
    return (
        f"'{value}' ends in '.0', as a number Excel or a script read as decimal does; "
        f"should it be '{value[:-2]}'?"
    )


def _check_lost_zeros(
    values: list[tuple[int, str]], column: str, what: str, collect: _Collector
) -> None:
    """Flag all-digit values shorter than the zero-padded ones of the other rows."""
    padded = {len(v) for _, v in values if _DIGITS.fullmatch(v) and v.startswith("0")}
    if not padded:
        return
    width = max(padded)
    for number, value in values:
        if _DIGITS.fullmatch(value) and not value.startswith("0") and len(value) < width:
            collect.add(
                "warning",
                "excel_leading_zeros",
                number,
                column,
                f"'{value}' has {len(value)} digits where other rows' {what} have {width} with "
                f"leading zeros: did Excel drop them? ('{value.zfill(width)}')",
            )


def uid_problem(value: str) -> str | None:
    """Why `value` is not a valid DICOM UID (PS3.5 9.1), or None when it is one."""
    if any(c.isspace() for c in value):
        return f"UID '{value}' contains spaces; a UID is digits and dots only"
    if len(value) > _UID_MAX_LENGTH:
        return f"UID '{value}' is {len(value)} characters long; at most {_UID_MAX_LENGTH}"
    if _UID.fullmatch(value):
        return None
    bad = sorted({c for c in value if not (c.isdigit() or c == ".")})
    if bad:
        return f"UID '{value}' contains {', '.join(repr(c) for c in bad)}; only digits and dots"
    return f"UID '{value}' has an empty part or a part with a leading zero"
