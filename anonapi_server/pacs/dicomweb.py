"""A DICOMweb PACS through dicomweb-client: QIDO-RS to find a study, WADO-RS to retrieve it.

dicomweb-client (MIT) is the Imaging Data Commons' client. Its `iter_study` reads the multipart
WADO-RS answer in chunks and parses each part into a pydicom dataset, which we would only write
back out: retrieval here takes the same request and the same chunked multipart reader one step
earlier, and hands over each part's bytes (a DICOM file, PS3.18 `application/dicom`) as they
came, so a study streams instance by instance without decoding or re-encoding (half the
retrieval's CPU time). A part that is not a DICOM file is still handed over: the worker's header
reader skips it with its reason, like any such file on a share. HTTP trouble becomes one
PacsError sentence.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from dicomweb_client.api import DICOMwebClient
from dicomweb_client.web import _Transaction

from anonapi_server.pacs.config import PacsNode
from anonapi_server.pacs.retrieve import OnInstance, PacsError, StudyMatch, StudyQuery

# dicomweb-client logs request URLs, which hold study UIDs and accession numbers, at DEBUG.
logging.getLogger("dicomweb_client").setLevel(logging.WARNING)

_STUDY_UID = "0020000D"
_ACCESSION = "00080050"
_INSTANCES = "00201208"
_ACCEPT = 'multipart/related; type="application/dicom"'  # what `iter_study` asks for


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

    def retrieve(self, study_uid: str, on_instance: OnInstance) -> None:
        with self._errors():
            for part in self._parts(study_uid):
                on_instance(part)

    def _parts(self, study_uid: str) -> Iterator[bytes]:
        """The study's instances as the bytes of a streamed WADO-RS answer's parts.

        The request and the part reader are `iter_study`'s own (dicomweb-client 0.59-0.61
        `_get_studies_url`, `_http_get`, `_decode_multipart_message`; the Orthanc tests cover
        them), without its `dcmread` of each part.
        """
        client = self.client
        url = client._get_studies_url(_Transaction.RETRIEVE, study_uid)
        response = client._http_get(url, headers={"Accept": _ACCEPT}, stream=True)
        if response.headers.get("Content-Type", "").startswith("application/dicom"):
            yield response.content  # one instance sent without multipart, as some servers do
            return
        yield from client._decode_multipart_message(response, stream=True)


def _value(item: dict[str, Any], tag: str) -> str | None:
    values = item.get(tag, {}).get("Value") or []
    return str(values[0]) if values else None


def _count(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None
