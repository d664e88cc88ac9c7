r"""From mapping rows to the jobs they ask for: resolve parameters, validate every row, build the
`create_job` form fields.

Per row, a parameter comes from the settings defaults, then the mapping's Options, then the row's
own cell; an empty cell or option means "not set here". Unlike the original, a missing or
placeholder project / destination (`NOT_SET`, `.`) is an error naming the row rather than a job
that writes into the source share, an empty pseudo_id is filled from pseudo_name (and the other
way round), and PACS rows never need a root_source_path.

A bad value in the Options (or settings) is reported once, at the option's line, not once for
every row that inherits it: a user fixes it in one place, so one line must say so. A row is
blamed only for what it causes itself: a bad cell, or a value nothing gives it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

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


def resolve_each(
    mapping: Mapping, defaults: Iterable[tuple[str, str]] = ()
) -> list[JobRequest | None]:
    """Each row's job judged on its own (None where the row itself is bad), repeats of earlier
    rows included: for the pre-flight, which words duplicates with both rows' pseudonyms."""
    resolver = _RowResolver(mapping, defaults)
    jobs: list[JobRequest | None] = []
    for index, row in enumerate(mapping.rows):
        resolver.studies.clear()
        jobs.append(resolver.resolve(row, index + 1, mapping.line_of(index), {})[0])
    return jobs


def mapping_problems(
    mapping: Mapping, defaults: Iterable[tuple[str, str]] = (), *, unused_options: bool = True
) -> list[RowProblem]:
    """The one check of a mapping that `create from-mapping`, `map status`, `map activate`,
    `map init` and the dashboard's editor share: every problem of `validate_jobs`, rows without
    a pseudonym, and (with `unused_options`, for display) bad options no row uses yet, such as a
    non-UNC root_source_path right after `map init`, so a user sees them at once."""
    defaults = list(defaults)
    resolver = _RowResolver(mapping, defaults)
    problems = _resolve_with(resolver, mapping)[1] + _pseudonym_problems(mapping, defaults)
    return problems + (resolver.unused_problems() if unused_options else [])


def _pseudonym_problems(mapping: Mapping, defaults: list[tuple[str, str]]) -> list[RowProblem]:
    """Rows that nothing gives a pseudonym: the server would keep the patient's own name and id.
    A PIMS key counts, since PIMS makes the pseudonyms then."""
    names = (PSEUDO_ID.name, PSEUDO_NAME.name, PIMS_KEY.name)
    given = any(
        canonical_name(key) in names and value.strip()
        for key, value in [*defaults, *mapping.options.items()]
    )
    return [
        RowProblem(
            mapping.file_name,
            mapping.line_of(index),
            PSEUDO_NAME.name,
            "missing pseudonym: set pseudo_name or pseudo_id",
            index + 1,
        )
        for index, row in enumerate(mapping.rows)
        if not given and not any(row.get(name, "").strip() for name in names)
    ]


def study_key(source: SourceIdentifier) -> tuple[str, str]:
    """What identifies the study a source reads: a folder and the file selection inside it are
    the same study, and UNC paths compare without case, as Windows shares do."""
    if not source.is_path:
        return source.type.value, source.value
    path = source.value.replace("/", "\\").rstrip("\\")
    if source.type is SourceType.FILESELECTION:
        path = path.rpartition("\\")[0]
    return "path", path.casefold()


def filter_jobs(jobs: Iterable[JobRequest], pseudonyms: Iterable[str]) -> list[JobRequest]:
    """The jobs whose pseudo_id or pseudo_name is one of `pseudonyms` (`create --filter`)."""
    wanted = set(pseudonyms)
    return [job for job in jobs if job.pseudo_id in wanted or job.pseudo_name in wanted]


_DESTINATION_EXAMPLE = "\\\\server\\share\\folder"
_ROOT_EXAMPLE = "\\\\server\\share"
# Parameters a job needs checked; a bad one from the Options or settings is reported once.
_CHECKED = (PROJECT.name, DESTINATION_PATH.name, ROOT_SOURCE_PATH.name)


@dataclass(slots=True)
class _Inherited:
    """A checked value that rows without their own cell take from the Options or the settings.

    It is checked once: if it is bad, the problem is reported once, at the option's own line,
    with how many rows use it, instead of once for every row that inherits it.
    """

    value: str | None  # the normalised value; None when it is bad
    problem: RowProblem | None
    users: int = 0


class _RowResolver:
    """Resolves rows against fixed defaults and options, checking each shared value once."""

    def __init__(self, mapping: Mapping, defaults: Iterable[tuple[str, str]]):
        self.name = mapping.file_name
        self.settings_problems: list[RowProblem] = []
        self._unc: dict[str, str | None] = {}
        settings: dict[str, str] = {}
        for key, value in defaults:
            name = canonical_name(key)
            if name is None:
                self.settings_problems.append(
                    RowProblem("settings", None, None, f"unknown job default parameter '{key}'")
                )
            elif value.strip():
                settings[name] = value.strip()
        options = {key: value.strip() for key, value in mapping.options.items() if value.strip()}
        self.base: dict[str, str] = settings | options
        self.inherited: dict[str, _Inherited] = {}
        self.studies: dict[tuple[str, str], str] = {}  # study_key -> where it was first seen
        for name in _CHECKED:
            if name in options:
                where = RowProblem(self.name, mapping.option_lines.get(name), None, "", None, name)
                self.inherited[name] = self._inherit(name, options[name], where)
            # A placeholder in the settings is what the original's fresh settings hold: not chosen.
            elif settings.get(name, "") not in PLACEHOLDERS:
                where = RowProblem("settings", None, None, f"job default '{name}'")
                self.inherited[name] = self._inherit(name, settings[name], where)

    def _inherit(self, name: str, value: str, where: RowProblem) -> _Inherited:
        checked, error = self._check(name, value)
        if error is None:
            return _Inherited(checked, None)
        message = f"{where.message}: {error}" if where.message else error
        return _Inherited(None, replace(where, message=message))

    def unused_problems(self) -> list[RowProblem]:
        """Bad options or defaults that no row uses yet: shown, but they block no job."""
        unused = [
            replace(i.problem, message=f"{i.problem.message} (no row uses it yet)")
            for i in self.inherited.values()
            if i.problem is not None and not i.users
        ]
        return sorted(unused, key=lambda p: (p.line is not None, p.line or 0))

    def shared_problems(self) -> list[RowProblem]:
        """Settings problems, then each bad option or default that some row uses, once, in file
        order."""
        shared = []
        for inherited in self.inherited.values():
            if inherited.problem is not None and inherited.users:
                users = inherited.users
                usage = "1 row uses it" if users == 1 else f"{users} rows use it"
                problem = inherited.problem
                shared.append(replace(problem, message=f"{problem.message} ({usage})"))
        shared.sort(key=lambda p: (p.line is not None, p.line or 0))
        return self.settings_problems + shared

    def unc(self, path: str) -> str | None:
        """The normalised UNC form of `path`, or None if it is not UNC (cached: usually shared)."""
        if path not in self._unc:
            try:
                self._unc[path] = normalise_unc(path) if is_unc(path) else None
            except UNCPathError:
                self._unc[path] = None
        return self._unc[path]

    def _check(self, name: str, value: str) -> tuple[str | None, str | None]:
        """`value` normalised, or the reason it cannot be used for parameter `name`."""
        if name == PROJECT.name:
            if value in PLACEHOLDERS:
                return None, f"not set ({value}): fill in the anonymization project"
            return value, None
        if name == DESTINATION_PATH.name and value in PLACEHOLDERS:
            return None, (
                f"not set ({value}): fill in the UNC path to write anonymized data to, "
                f"like {_DESTINATION_EXAMPLE}"
            )
        unc = self.unc(value)
        if unc is None:
            example = _ROOT_EXAMPLE if name == ROOT_SOURCE_PATH.name else _DESTINATION_EXAMPLE
            return None, f"'{value}' is not a UNC path ({example})"
        return unc, None

    def _value(
        self, name: str, row: dict[str, str], errors: list[tuple[str | None, str]]
    ) -> tuple[str | None, bool]:
        """The checked value of `name` for this row and whether anything gives one at all.

        A bad cell is the row's own problem; a bad inherited value is the option's, counted.
        """
        cell = row.get(name, "").strip()
        if cell:
            value, error = self._check(name, cell)
            if error is not None:
                errors.append((name, error))
            return value, True
        inherited = self.inherited.get(name)
        if inherited is None:
            return None, False
        if inherited.problem is not None:
            inherited.users += 1
        return inherited.value, True

    def resolve(
        self, row: dict[str, str], number: int, line: int | None, seen: dict[JobRequest, str]
    ) -> tuple[JobRequest | None, list[RowProblem]]:
        # An empty cell means "not set in this row": the option or default applies.
        param = (self.base | {key: value for key, value in row.items() if value}).get
        errors: list[tuple[str | None, str]] = []
        source = self._source(row, param(SOURCE.name, ""), errors)
        project, has_project = self._value(PROJECT.name, row, errors)
        destination, has_destination = self._value(DESTINATION_PATH.name, row, errors)
        missing = [PROJECT.name] if not has_project else []
        missing += [] if has_destination else [DESTINATION_PATH.name]
        if missing:
            # One problem per row however many values it lacks.
            errors.append(
                (
                    missing[0] if len(missing) == 1 else None,
                    f"no {' or '.join(missing)} set: add "
                    + " and ".join(f"a '{name}'" for name in missing)
                    + (" option or column" if len(missing) == 1 else " option or column each"),
                )
            )
        if not errors and source is not None and project and destination:
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
            where = f"line {line}" if line is not None else f"row {number}"
            study = study_key(source)
            duplicate = job in seen or study in self.studies
            if job in seen:  # equal jobs have equal row keys; comparing fields is cheaper
                errors.append((None, f"the same job as {seen[job]}; remove one of them"))
            elif study in self.studies:
                errors.append(
                    (
                        SOURCE.name,
                        f"the same study as {self.studies[study]} under another pseudonym; "
                        "remove one of them",
                    )
                )
            else:
                seen[job] = self.studies[study] = where
                return job, []
        else:
            duplicate = False
        return None, [
            RowProblem(self.name, line, col, msg, number, duplicate=duplicate)
            for col, msg in errors
        ]

    def _source(
        self, row: dict[str, str], text: str, errors: list[tuple[str | None, str]]
    ) -> SourceIdentifier | None:
        """The row's source, a path source made absolute UNC; None if impossible (an error
        names why, unless it is a bad inherited root_source_path, reported once for all rows)."""
        if not text:
            errors.append((SOURCE.name, "no source: every job needs one, e.g. folder:<path>"))
            return None
        try:
            source = SourceIdentifier.parse(text)
            if not source.is_path:
                return source
            if is_unc(source.value):  # sources are mostly unique: not worth caching
                return SourceIdentifier(source.type, normalise_unc(source.value))
            root, has_root = self._value(ROOT_SOURCE_PATH.name, row, errors)
            if not has_root:
                errors.append(
                    (
                        SOURCE.name,
                        f"'{source.value}' is not a UNC path and no root_source_path is set "
                        "to resolve it against",
                    )
                )
            if root is None:
                return None
            return SourceIdentifier(source.type, join_unc(root, source.value))
        except (ParameterParsingError, UNCPathError) as e:
            errors.append((SOURCE.name, str(e)))
            return None


def _resolve(
    mapping: Mapping, defaults: Iterable[tuple[str, str]]
) -> tuple[list[JobRequest], list[RowProblem]]:
    return _resolve_with(_RowResolver(mapping, defaults), mapping)


def _resolve_with(
    resolver: _RowResolver, mapping: Mapping
) -> tuple[list[JobRequest], list[RowProblem]]:
    jobs: list[JobRequest] = []
    row_problems: list[RowProblem] = []
    seen: dict[JobRequest, str] = {}
    for index, row in enumerate(mapping.rows):
        job, problems = resolver.resolve(row, index + 1, mapping.line_of(index), seen)
        row_problems.extend(problems)
        if job is not None:
            jobs.append(job)
    return jobs, resolver.shared_problems() + row_problems
