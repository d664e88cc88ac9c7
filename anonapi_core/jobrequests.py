r"""From mapping rows to the jobs they ask for: resolve parameters, validate every row, build the
`create_job` form fields.

Per row, a parameter comes from the settings defaults, then the mapping's Options, then the row's
own cell; an empty cell or option means "not set here". Unlike the original, a missing or
placeholder project / destination (`NOT_SET`, `.`) is an error naming the row rather than a job
that writes into the source share, an empty pseudo_id is filled from pseudo_name (and the other
way round), and PACS rows never need a root_source_path.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from anonapi_core.exceptions import JobSetValidationError, ParameterParsingError, UNCPathError
from anonapi_core.mapping import Mapping, RowProblem
from anonapi_core.parameters import (
    DESCRIPTION,
    DESTINATION_PATH,
    PIMS_KEY,
    PROJECT,
    PSEUDO_ID,
    PSEUDO_NAME,
    ROOT_SOURCE_PATH,
    SOURCE,
    SourceIdentifier,
    SourceType,
    canonical_name,
)
from anonapi_core.paths import is_unc, join_unc, normalise_unc

# Values the original's fresh settings wrote as defaults; they mean "nobody chose one".
PLACEHOLDERS = frozenset({"", "NOT_SET", "."})


@dataclass(frozen=True, slots=True)
class JobRequest:
    """One job to create: every parameter resolved, path sources absolute UNC."""

    source: SourceIdentifier
    project: str
    destination_path: str
    description: str = ""
    pseudo_id: str | None = None
    pseudo_name: str | None = None
    pims_key: str | None = None
    line: int | None = field(default=None, compare=False)

    def create_job_params(self) -> dict[str, str]:
        """The form fields the original client sends to `create_job` for this job (ref §2.3.1)."""
        if self.source.is_path:
            params = {"source_type": "PATH", "source_path": str(self.source)}
        else:
            # IDIS takes a bare StudyInstanceUID but a prefixed accession number.
            uid = self.source.type is SourceType.STUDY_INSTANCE_UID
            params = {
                "source_type": "WADO",
                "source_name": "IDC_WADO",
                "source_instance_id": self.source.value if uid else str(self.source),
            }
        optional = {
            "destination_type": "PATH",
            "project_name": self.project,
            "destination_path": self.destination_path,
            "anonymizedpatientname": self.pseudo_name,
            "anonymizedpatientid": self.pseudo_id,
            "description": self.description,
            "pims_keyfile_id": self.pims_key,
        }
        params.update({key: value for key, value in optional.items() if value is not None})
        return params

    @property
    def row_key(self) -> str:
        """A hash of what this job asks the server for: the same row resolves to the same key in
        a later run, so a resumed creation can skip the rows it already created."""
        text = "\x1f".join(
            f"{key}\x1e{value}" for key, value in sorted(self.create_job_params().items())
        )
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def resolve_jobs(mapping: Mapping, defaults: Iterable[tuple[str, str]] = ()) -> list[JobRequest]:
    """All jobs of the mapping; raises JobSetValidationError listing every bad row if any is bad."""
    jobs, problems = _resolve(mapping, defaults)
    if problems:
        raise JobSetValidationError("\n".join(str(problem) for problem in problems))
    return jobs


def validate_jobs(mapping: Mapping, defaults: Iterable[tuple[str, str]] = ()) -> list[RowProblem]:
    """Every problem of every row (empty when all rows make valid jobs)."""
    return _resolve(mapping, defaults)[1]


def filter_jobs(jobs: Iterable[JobRequest], pseudonyms: Iterable[str]) -> list[JobRequest]:
    """The jobs whose pseudo_id or pseudo_name is one of `pseudonyms` (`create --filter`)."""
    wanted = set(pseudonyms)
    return [job for job in jobs if job.pseudo_id in wanted or job.pseudo_name in wanted]


class _RowResolver:
    """Resolves rows against fixed defaults and options, caching the checks of shared values."""

    def __init__(self, mapping: Mapping, defaults: Iterable[tuple[str, str]]):
        self.name = mapping.file_name
        self.base: dict[str, str] = {}
        self.problems: list[RowProblem] = []
        for key, value in defaults:
            name = canonical_name(key)
            if name is None:
                self.problems.append(
                    RowProblem("settings", None, None, f"unknown job default parameter '{key}'")
                )
            elif value.strip():
                self.base[name] = value.strip()
        self.base.update({key: value for key, value in mapping.options.items() if value})
        self._unc: dict[str, str | None] = {}

    def unc(self, path: str) -> str | None:
        """The normalised UNC form of `path`, or None if it is not UNC (cached: usually shared)."""
        if path not in self._unc:
            try:
                self._unc[path] = normalise_unc(path) if is_unc(path) else None
            except UNCPathError:
                self._unc[path] = None
        return self._unc[path]

    def resolve(
        self, row: dict[str, str], number: int, line: int | None, seen: dict[JobRequest, str]
    ) -> tuple[JobRequest | None, list[RowProblem]]:
        # An empty cell means "not set in this row": the option or default applies.
        params = self.base | {key: value for key, value in row.items() if value}
        param = params.get
        errors: list[tuple[str | None, str]] = []
        source = self._source(
            param(SOURCE.name, ""), param(ROOT_SOURCE_PATH.name, "").strip(), errors
        )
        project = param(PROJECT.name, "").strip()
        if project in PLACEHOLDERS:
            errors.append((PROJECT.name, "no project set: add a 'project' option or column"))
        destination = param(DESTINATION_PATH.name, "").strip()
        if destination in PLACEHOLDERS:
            errors.append(
                (
                    DESTINATION_PATH.name,
                    "no destination_path set: add a 'destination_path' option or column",
                )
            )
        elif (unc_destination := self.unc(destination)) is None:
            errors.append(
                (
                    DESTINATION_PATH.name,
                    f"'{destination}' is not a UNC path (\\\\server\\share\\folder)",
                )
            )
        else:
            destination = unc_destination
        if not errors and source is not None:
            pseudo_id = param(PSEUDO_ID.name) or param(PSEUDO_NAME.name)
            job = JobRequest(
                source=source,
                project=project,
                destination_path=destination,
                description=param(DESCRIPTION.name, ""),
                pseudo_id=pseudo_id or None,
                pseudo_name=param(PSEUDO_NAME.name) or pseudo_id or None,
                pims_key=param(PIMS_KEY.name) or None,
                line=line,
            )
            if job not in seen:  # equal jobs have equal row keys; comparing fields is cheaper
                seen[job] = f"line {line}" if line is not None else f"row {number}"
                return job, []
            errors.append((None, f"the same job as {seen[job]}; remove one of them"))
        return None, [RowProblem(self.name, line, col, msg, number) for col, msg in errors]

    def _source(
        self, text: str, root: str, errors: list[tuple[str | None, str]]
    ) -> SourceIdentifier | None:
        """The row's source, a path source made absolute UNC; None (and an error) if impossible."""
        if not text:
            errors.append((SOURCE.name, "no source: every job needs one, e.g. folder:<path>"))
            return None
        try:
            source = SourceIdentifier.parse(text)
            if not source.is_path:
                return source
            if is_unc(source.value):  # sources are mostly unique: not worth caching
                return SourceIdentifier(source.type, normalise_unc(source.value))
            if not root:
                errors.append(
                    (
                        SOURCE.name,
                        f"'{source.value}' is not a UNC path and no root_source_path is set "
                        "to resolve it against",
                    )
                )
                return None
            unc_root = self.unc(root)
            if unc_root is None:
                errors.append(
                    (ROOT_SOURCE_PATH.name, f"'{root}' is not a UNC path (\\\\server\\share)")
                )
                return None
            return SourceIdentifier(source.type, join_unc(unc_root, source.value))
        except (ParameterParsingError, UNCPathError) as e:
            errors.append((SOURCE.name, str(e)))
            return None


def _resolve(
    mapping: Mapping, defaults: Iterable[tuple[str, str]]
) -> tuple[list[JobRequest], list[RowProblem]]:
    resolver = _RowResolver(mapping, defaults)
    jobs: list[JobRequest] = []
    problems: list[RowProblem] = list(resolver.problems)
    seen: dict[JobRequest, str] = {}
    for index, row in enumerate(mapping.rows):
        job, row_problems = resolver.resolve(row, index + 1, mapping.line_of(index), seen)
        problems.extend(row_problems)
        if job is not None:
            jobs.append(job)
    return jobs, problems
