"""The eight job parameters of a mapping and the source identifiers that say where data comes from.

A mapping cell or option is a `name,value` pair; the name is one of the eight parameters below (or
its legacy name from files written before anonapi 1.0). Source values are `<type>:<value>`, split on
the first colon so `folder:C:/x` keeps its drive letter.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from anonapi_core.exceptions import ParameterParsingError, UnknownSourceIdentifierException


@dataclass(frozen=True, slots=True)
class Parameter:
    """One kind of job parameter: its field name, older names still read, and its meaning."""

    name: str
    description: str
    legacy_names: tuple[str, ...] = ()


SOURCE = Parameter("source", "Data to anonymize comes from this source")
PSEUDO_ID = Parameter("pseudo_id", "Pseudonym for Patient ID", ("patient_id",))
PSEUDO_NAME = Parameter("pseudo_name", "Pseudonym for Patient name", ("patient_name",))
DESCRIPTION = Parameter("description", "Job description, free text")
PIMS_KEY = Parameter("pims_key", "Use this PIMS project to pseudonymize")
DESTINATION_PATH = Parameter("destination_path", "Write data to this UNC path after anonymization")
ROOT_SOURCE_PATH = Parameter("root_source_path", "Relative sources are resolved against this path")
PROJECT = Parameter("project", "Anonymize according to this project")

# The original writes grid columns in this order; keeping it keeps diffs of user files small.
PARAMETERS: tuple[Parameter, ...] = (
    SOURCE,
    PSEUDO_ID,
    PSEUDO_NAME,
    DESCRIPTION,
    PIMS_KEY,
    DESTINATION_PATH,
    ROOT_SOURCE_PATH,
    PROJECT,
)
PARAMETER_NAMES: tuple[str, ...] = tuple(p.name for p in PARAMETERS)

_BY_ANY_NAME: dict[str, str] = {
    alias: p.name for p in PARAMETERS for alias in (p.name, *p.legacy_names)
}


def canonical_name(name: str) -> str | None:
    """The current field name for `name` (legacy names, case and surrounding spaces ignored)."""
    return _BY_ANY_NAME.get(name.strip().lower())


def parameter_name(name: str) -> str:
    """Like `canonical_name`, but an unknown name is an error that lists the known ones."""
    canonical = canonical_name(name)
    if canonical is None:
        raise ParameterParsingError(
            f"unknown parameter '{name}'. Known: {', '.join(PARAMETER_NAMES)}"
        )
    return canonical


class SourceType(StrEnum):
    """Where a job's data comes from; the value is the key written before the colon."""

    FOLDER = "folder"
    FILESELECTION = "fileselection"
    STUDY_INSTANCE_UID = "study_instance_uid"
    ACCESSION_NUMBER = "accession_number"

    @property
    def is_path(self) -> bool:
        """Data on a share (IDIS source_type PATH), as opposed to a study fetched from PACS."""
        return self in (SourceType.FOLDER, SourceType.FILESELECTION)


_KNOWN_SOURCE_TYPES = ", ".join(t.value for t in SourceType)
_SOURCE_TYPES: dict[str, SourceType] = {t.value: t for t in SourceType}
SOURCE_TYPE_KEYS = frozenset(_SOURCE_TYPES)


@dataclass(frozen=True, slots=True)
class SourceIdentifier:
    """A parsed `<type>:<value>` source such as `folder:study1` or `accession_number:1234567.1`."""

    type: SourceType
    value: str

    @classmethod
    def parse(cls, text: str) -> SourceIdentifier:
        """Parse a source cell; the value loses trailing whitespace (Excel leaves it there)."""
        key, colon, value = text.partition(":")
        source_type = _SOURCE_TYPES.get(key) or _SOURCE_TYPES.get(key.strip().lower())
        if source_type is None:
            if not colon:
                raise UnknownSourceIdentifierException(
                    f"'{text}' is not a source: expected <type>:<value>, "
                    f"types: {_KNOWN_SOURCE_TYPES}"
                )
            raise UnknownSourceIdentifierException(
                f"unknown source type '{key}'. Known: {_KNOWN_SOURCE_TYPES}"
            )
        value = value.rstrip()
        if not value:
            raise UnknownSourceIdentifierException(f"source '{text.strip()}' has no value")
        return cls(source_type, value)

    @property
    def is_path(self) -> bool:
        return self.type.is_path

    def __str__(self) -> str:
        return f"{self.type}:{self.value}"
