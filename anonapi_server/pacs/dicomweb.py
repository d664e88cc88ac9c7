"""A DICOMweb PACS through dicomweb-client: QIDO-RS to find a study, WADO-RS to retrieve it.

dicomweb-client (MIT) is the Imaging Data Commons' client: `iter_study` reads the multipart
WADO-RS answer in chunks and parses one part at a time, so a study streams to disk instance by
instance. HTTP trouble becomes one PacsError sentence.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from dicomweb_client.api import DICOMwebClient

from anonapi_server.pacs.config import PacsNode
from anonapi_server.pacs.retrieve import OnFile, PacsError, StudyMatch, StudyQuery

# dicomweb-client logs request URLs, which hold study UIDs and accession numbers, at DEBUG.
logging.getLogger("dicomweb_client").setLevel(logging.WARNING)

_STUDY_UID = "0020000D"
_ACCESSION = "00080050"
_INSTANCES = "00201208"


class DicomWebPacs:
    """Find and retrieve studies on one DICOMweb service."""

    def __init__(self, node: PacsNode):
        self.node = node
        self.client = DICOMwebClient(node.url, timeout=node.timeout)
        # A job fails with a clear message rather than retrying for minutes: the user (or the
        # next attempt) decides when to try again.
        self.client.set_http_retry_params(retry=False)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        name = self.node.name
        try:
            yield
        except requests.Timeout as e:
            raise PacsError(f"PACS {name} timed out after {self.node.timeout:g} s") from e
        except requests.ConnectionError as e:
            raise PacsError(
                f"PACS {name}: cannot connect to {self.node.url}; "
                "check the address and that the PACS is running"
            ) from e
        except requests.HTTPError as e:
            status = e.response.status_code if e.response is not None else "?"
            raise PacsError(f"PACS {name} answered HTTP {status} at {self.node.url}") from e
        except (requests.RequestException, ValueError) as e:
            raise PacsError(f"PACS {name}: unexpected answer from {self.node.url} ({e})") from e

    def find(self, query: StudyQuery) -> list[StudyMatch]:
        with self._errors():
            found = self.client.search_for_studies(
                search_filters={query.key: query.value},
                fields=["NumberOfStudyRelatedInstances"],
            )
        matches: dict[str, StudyMatch] = {}
        for item in found or []:
            match = StudyMatch(
                study_uid=_value(item, _STUDY_UID) or "",
                accession_number=_value(item, _ACCESSION) or "",
                instances=_count(_value(item, _INSTANCES)),
            )
            # Matching is exact here whatever the PACS does with wildcards or case.
            exact = match.accession_number if query.key == "AccessionNumber" else match.study_uid
            if exact == query.value:
                matches.setdefault(match.study_uid, match)
        return list(matches.values())

    def retrieve(self, study_uid: str, folder: Path, on_file: OnFile) -> None:
        with self._errors():
            for number, dataset in enumerate(self.client.iter_study(study_uid), start=1):
                path = folder / f"{number:06d}.dcm"
                with path.open("xb") as out:
                    dataset.save_as(out, enforce_file_format=True)
                patient_id = dataset.get("PatientID")
                on_file(path, "" if patient_id is None else str(patient_id))


def _value(item: dict[str, Any], tag: str) -> str | None:
    values = item.get(tag, {}).get("Value") or []
    return str(values[0]) if values else None


def _count(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None
