"""Find one study on a PACS and stream it to a folder, whichever protocol the PACS speaks.

A job's `source_instance_id` is a bare StudyInstanceUID (the original's "legacy" format),
`study_instance_uid:<uid>` or `accession_number:<acc>`. The study is looked up first (QIDO-RS or
C-FIND): none found and more than one found are both errors the job's owner can act on, never a
guess or a merge. Then its instances are handed over one by one as they arrive, each as the bytes
the PACS sent, never the whole study (see `streaming` for how the worker de-identifies them while
later ones arrive, with bounded memory).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from anonapi_server.errors import ServerError
from anonapi_server.pacs.config import DICOMWEB, PacsNode, UnknownSource, resolve
from anonapi_server.store import Store

ACCESSION_NUMBER = "AccessionNumber"
STUDY_INSTANCE_UID = "StudyInstanceUID"
_PREFIXES = {"accession_number": ACCESSION_NUMBER, "study_instance_uid": STUDY_INSTANCE_UID}
_SPOKEN = {ACCESSION_NUMBER: "accession number", STUDY_INSTANCE_UID: "study instance UID"}

# Called with each instance as soon as it is in: a DICOM file's bytes, as the PACS sent them. The
# worker reads what it needs of them itself (the patient id for the opt-out check too), so
# retrieval decodes nothing.
OnInstance = Callable[[bytes], None]


class PacsError(ServerError):
    """PACS trouble, said in one sentence that starts with the PACS's name."""


@dataclass(frozen=True)
class StudyQuery:
    """What a job asks for: a study by accession number or by StudyInstanceUID."""

    key: str
    value: str

    @classmethod
    def parse(cls, instance_id: str) -> StudyQuery:
        prefix, sep, rest = instance_id.strip().partition(":")
        if sep and prefix.strip().lower() in _PREFIXES:
            key, value = _PREFIXES[prefix.strip().lower()], rest.strip()
        else:
            key, value = STUDY_INSTANCE_UID, instance_id.strip()
        if not value or "\\" in value or "*" in value or "?" in value:
            raise ValueError(
                f"'{instance_id}' is not a study: give a StudyInstanceUID, "
                "study_instance_uid:<uid> or accession_number:<number> (no wildcards)"
            )
        _check_value(key, value)
        return cls(key, value)

    def describe(self) -> str:
        return f"{_SPOKEN[self.key]} {self.value}"


# Longest value sent to a PACS: a UID has at most 64 characters; an accession number (16 in the
# standard) is given the same room, as some sites' numbers are longer.
MAX_VALUE_CHARS = 64
_UID = re.compile(r"[0-9]+(\.[0-9]+)*")


def _check_value(key: str, value: str) -> None:
    """Refuse what no study can have before it reaches a PACS query.

    pydicom warns about a value invalid for its VR with the value in the message, and warnings
    reach the server's log; control characters and overlong values have no place in a query.
    The messages do not repeat the value: the caller has it.
    """
    if len(value) > MAX_VALUE_CHARS:
        raise ValueError(
            f"Not a study: the {_SPOKEN[key]} is longer than {MAX_VALUE_CHARS} characters"
        )
    if key == STUDY_INSTANCE_UID and not _UID.fullmatch(value):
        raise ValueError(f"Not a study: a {_SPOKEN[key]} holds only digits and dots")
    if not value.isprintable():
        raise ValueError(f"Not a study: the {_SPOKEN[key]} holds control characters")


@dataclass(frozen=True)
class StudyMatch:
    """One study the PACS found; `instances` is None when the PACS does not say."""

    study_uid: str
    accession_number: str
    instances: int | None


class PacsClient(Protocol):
    """What retrieval needs from a protocol: find studies, stream one instance by instance."""

    def find(self, query: StudyQuery) -> list[StudyMatch]: ...

    def retrieve(self, study_uid: str, on_instance: OnInstance) -> None: ...


def connect(node: PacsNode) -> PacsClient:
    """The protocol client for a PACS (its library imported only when a PACS job runs)."""
    if node.kind == DICOMWEB:
        from anonapi_server.pacs.dicomweb import DicomWebPacs

        return DicomWebPacs(node)
    from anonapi_server.pacs.dimse import DimsePacs

    return DimsePacs(node)


def find_one(node: PacsNode, client: PacsClient, query: StudyQuery) -> StudyMatch:
    """The single study the query names; PacsError when there is none or more than one."""
    found = client.find(query)
    if not found:
        raise PacsError(f"PACS {node.name}: no study with {query.describe()}")
    if len(found) > 1:
        studies = "; ".join(
            f"StudyInstanceUID {m.study_uid} (accession number {m.accession_number or '-'})"
            for m in found
        )
        raise PacsError(
            f"PACS {node.name}: {query.describe()} matches {len(found)} studies: {studies}. "
            "Make one job per study with study_instance_uid:<uid>"
        )
    return found[0]


def retrieve_study(node: PacsNode, instance_id: str, on_instance: OnInstance) -> StudyMatch:
    """Find the study a job names and hand each of its instances to `on_instance`."""
    try:
        query = StudyQuery.parse(instance_id)
    except ValueError as e:
        raise PacsError(f"PACS {node.name}: {e}") from e
    client = connect(node)
    match = find_one(node, client, query)
    client.retrieve(match.study_uid, on_instance)
    return match


@dataclass(frozen=True)
class InstanceLabel:
    """How messages name a retrieved instance: its place in the study and its PACS.

    Duck-types the UNC path a share job's file has (`str()` and `.root`), so the worker's
    messages work for both kinds of source.
    """

    pacs: str
    study: str
    number: int

    @property
    def root(self) -> str:
        return f"PACS {self.pacs}"

    def __str__(self) -> str:
        return f"instance {self.number} of {self.study} from PACS {self.pacs}"


def job_node(store: Store, job: Mapping[str, Any]) -> PacsNode:
    """The PACS a WADO job's `source_name` names; PacsError when the server has none."""
    try:
        return resolve(store, job["source_name"])
    except UnknownSource as e:
        raise PacsError(str(e)) from e


@dataclass(frozen=True)
class Count:
    """What `pacs-count` answers per identifier."""

    identifier: str
    studies: int
    instances: int | None
    error: str | None


def count_studies(node: PacsNode, identifiers: Iterable[str]) -> list[Count]:
    """Studies and instances per identifier, one query each on one client.

    A malformed identifier is that identifier's error; PACS trouble (unreachable, refused,
    timed out) is every remaining identifier's error, so a dead PACS costs one timeout, not one
    per row.
    """
    client = connect(node)
    counts: list[Count] = []
    trouble: str | None = None
    for identifier in identifiers:
        if trouble is not None:
            counts.append(Count(identifier, 0, None, trouble))
            continue
        try:
            found = client.find(StudyQuery.parse(identifier))
        except ValueError as e:
            counts.append(Count(identifier, 0, None, str(e)))
            continue
        except PacsError as e:
            trouble = str(e)
            counts.append(Count(identifier, 0, None, trouble))
            continue
        sizes = [m.instances for m in found]
        total = None if any(s is None for s in sizes) else sum(s or 0 for s in sizes)
        counts.append(Count(identifier, len(found), total, None))
    return counts
