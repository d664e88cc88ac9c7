"""A small DIMSE PACS in this process: storage, C-FIND, C-GET and C-MOVE over a folder of files.

For the demo (`anon-tui --demo` retrieves its PACS rows from one) and for tests that need a real
PACS on every machine. Only study-level queries by StudyInstanceUID or AccessionNumber, which is
what the server's retrieval asks; instances are read from disk one at a time as they are sent.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pynetdicom import (
    AE,
    ALL_TRANSFER_SYNTAXES,
    AllStoragePresentationContexts,
    StoragePresentationContexts,
    evt,
)
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)

from anonapi_server.pacs.dimse import abstract_syntaxes

LOCAL_PACS_AET = "LOCALPACS"


@dataclass
class _Study:
    accession_number: str
    files: list[Path] = field(default_factory=list)


@dataclass
class LocalPacs:
    """A running PACS: where it listens and the studies it holds.

    `move_destinations` maps the AE titles C-MOVE may send to onto (host, port).
    """

    host: str
    port: int
    ae_title: str
    folder: Path
    move_destinations: dict[str, tuple[str, int]]
    studies: dict[str, _Study] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def add_file(self, path: Path) -> None:
        """Index one Part-10 file of `folder` (study UID and accession number only)."""
        ds = pydicom.dcmread(
            path, stop_before_pixels=True, specific_tags=["StudyInstanceUID", "AccessionNumber"]
        )
        with self._lock:
            study = self.studies.setdefault(
                str(ds.StudyInstanceUID), _Study(str(ds.get("AccessionNumber", "") or ""))
            )
            study.files.append(path)

    def _matching(self, identifier: Dataset) -> list[tuple[str, _Study]]:
        uid = str(identifier.get("StudyInstanceUID", "") or "")
        accession = str(identifier.get("AccessionNumber", "") or "")
        with self._lock:
            return [
                (study_uid, study)
                for study_uid, study in sorted(self.studies.items())
                if (not uid or study_uid in uid.split("\\"))
                and (not accession or study.accession_number == accession)
            ]

    def _files(self, identifier: Dataset) -> list[Path]:
        return [path for _, study in self._matching(identifier) for path in study.files]

    # ---- handlers -----------------------------------------------------------------------

    def _on_store(self, event: Any) -> int:
        ds = event.dataset
        path = self.folder / f"{ds.SOPInstanceUID}.dcm"
        path.write_bytes(event.encoded_dataset())
        self.add_file(path)
        return 0x0000

    def _on_find(self, event: Any) -> Iterator[tuple[int, Dataset | None]]:
        identifier = event.identifier
        if identifier.get("QueryRetrieveLevel") != "STUDY":
            yield 0xC000, None
            return
        for study_uid, study in self._matching(identifier):
            match = Dataset()
            match.QueryRetrieveLevel = "STUDY"
            match.StudyInstanceUID = study_uid
            match.AccessionNumber = study.accession_number
            match.NumberOfStudyRelatedInstances = len(study.files)
            yield 0xFF00, match

    def _on_get(self, event: Any) -> Iterator[Any]:
        files = self._files(event.identifier)
        yield len(files)
        for path in files:
            if event.is_cancelled:
                yield 0xFE00, None
                return
            yield 0xFF00, pydicom.dcmread(path)

    def _on_move(self, event: Any) -> Iterator[Any]:
        title = event.move_destination
        title = title.decode() if isinstance(title, bytes) else str(title)
        destination = self.move_destinations.get(title.strip())
        if destination is None:
            yield None, None
            return
        yield destination
        yield from self._on_get(event)


@contextmanager
def running_local_pacs(
    folder: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    ae_title: str = LOCAL_PACS_AET,
    move_destinations: dict[str, tuple[str, int]] | None = None,
) -> Iterator[LocalPacs]:
    """Serve the Part-10 files under `folder` (port 0: a free port); stop on exit.

    Associations must call `ae_title`, as a hospital PACS demands its own AE title.
    """
    folder.mkdir(parents=True, exist_ok=True)
    ae = AE(ae_title=ae_title)
    ae.require_called_aet = True
    # Storage for C-STORE requests; the role settings accept a C-GET requestor's offer to be
    # the storage SCP for the instances sent back on its own association.
    for uid in abstract_syntaxes(AllStoragePresentationContexts):
        ae.add_supported_context(uid, ALL_TRANSFER_SYNTAXES, scu_role=False, scp_role=True)
    for model in (
        StudyRootQueryRetrieveInformationModelFind,
        StudyRootQueryRetrieveInformationModelGet,
        StudyRootQueryRetrieveInformationModelMove,
        Verification,
    ):
        ae.add_supported_context(model)
    # C-MOVE sub-associations request these from the destination.
    for uid in abstract_syntaxes(StoragePresentationContexts[:127]):
        ae.add_requested_context(uid)
    pacs = LocalPacs(host, port, ae_title, folder, dict(move_destinations or {}))
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        pacs.add_file(path)
    handlers: list[Any] = [
        (evt.EVT_C_STORE, pacs._on_store),
        (evt.EVT_C_FIND, pacs._on_find),
        (evt.EVT_C_GET, pacs._on_get),
        (evt.EVT_C_MOVE, pacs._on_move),
    ]
    server = ae.start_server((host, port), block=False, evt_handlers=handlers)
    assert server is not None  # non-blocking: the running server
    pacs.port = server.server_address[1]
    try:
        yield pacs
    finally:
        server.shutdown()
