"""A DIMSE PACS through pynetdicom: C-FIND at study level, then C-GET or C-MOVE.

Each instance the PACS sends is handed over by the C-STORE handler as the bytes arrived behind a
Part-10 header (what pynetdicom's `encoded_dataset` gives, no decoding or re-encoding).
Association trouble becomes one PacsError sentence: refused (with the AE titles to check),
timed out (with the timeout), or unreachable.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import (
    AE,
    ALL_TRANSFER_SYNTAXES,
    DEFAULT_TRANSFER_SYNTAXES,
    StoragePresentationContexts,
    build_role,
    evt,
)
from pynetdicom.association import Association
from pynetdicom.dsutils import encode_file_meta
from pynetdicom.presentation import (
    AllStoragePresentationContexts,
    PresentationContext,
    build_context,
)
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
)

from anonapi_server.pacs.config import PacsNode
from anonapi_server.pacs.retrieve import (
    ACCESSION_NUMBER,
    OnInstance,
    PacsError,
    StudyMatch,
    StudyQuery,
)

# pynetdicom logs UIDs and patient attributes of every request at INFO and DEBUG; none of that
# may reach the server's logs.
logging.getLogger("pynetdicom").setLevel(logging.WARNING)

_PENDING = (0xFF00, 0xFF01)
_SUCCESS = 0x0000
_OUT_OF_RESOURCES = 0xA702
_PART10_PREFIX = b"\x00" * 128 + b"DICM"  # preamble and prefix of a DICOM file
# An association has at most 128 presentation contexts: query/retrieve takes one, the storage
# classes a C-GET may bring in take the rest.
_GET_STORAGE_CONTEXTS = StoragePresentationContexts[:126]
# What a C-GET offers to receive: the uncompressed syntaxes and the compressed ones PACS keep
# studies in. Fewer than all: each one costs negotiation time on both sides, per context.
_GET_TRANSFER_SYNTAXES = [
    *DEFAULT_TRANSFER_SYNTAXES,
    "1.2.840.10008.1.2.4.50",  # JPEG Baseline
    "1.2.840.10008.1.2.4.51",  # JPEG Extended
    "1.2.840.10008.1.2.4.57",  # JPEG Lossless
    "1.2.840.10008.1.2.4.70",  # JPEG Lossless SV1
    "1.2.840.10008.1.2.4.80",  # JPEG-LS Lossless
    "1.2.840.10008.1.2.4.81",  # JPEG-LS Near-lossless
    "1.2.840.10008.1.2.4.90",  # JPEG 2000 Lossless
    "1.2.840.10008.1.2.4.91",  # JPEG 2000
    "1.2.840.10008.1.2.5",  # RLE Lossless
]


class _Receiver:
    """The C-STORE handler: hands each incoming instance to `on_instance`.

    The instance is the bytes as they arrived behind a Part-10 header (what pynetdicom's
    `encoded_dataset` returns); nothing is decoded here: the handler runs between two instances
    of the PACS's sending, so its time is the retrieval's. A failure in `on_instance` (the job's
    stream was left) is kept and refuses the remaining instances quickly; the caller raises it
    once the retrieval returns.
    """

    def __init__(self, on_instance: OnInstance):
        self.on_instance = on_instance
        self.failure: BaseException | None = None
        self._lock = threading.Lock()

    def __call__(self, event: Any) -> int:
        with self._lock:
            if self.failure is not None:
                return _OUT_OF_RESOURCES
            try:
                meta = encode_file_meta(event.file_meta)
                received = event.request.DataSet.getbuffer()
                self.on_instance(b"".join((_PART10_PREFIX, meta, received)))
            except BaseException as e:  # noqa: BLE001 - handed to the retrieving thread
                self.failure = e
                return _OUT_OF_RESOURCES
        return _SUCCESS


class DimsePacs:
    """Find and retrieve studies on one DIMSE node."""

    def __init__(self, node: PacsNode):
        self.node = node

    def _ae(self) -> AE:
        """A fresh AE with this node's AE title and timeouts (contexts added by the caller)."""
        ae = AE(ae_title=self.node.calling_aet)
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = self.node.timeout
        ae.connection_timeout = self.node.timeout
        return ae

    @contextmanager
    def _association(self, ae: AE, **options: Any) -> Iterator[Association]:
        node = self.node
        started = time.monotonic()
        assoc = ae.associate(node.host, node.port, ae_title=node.called_aet, **options)
        if assoc.is_established:
            try:
                yield assoc
            finally:
                if assoc.is_established:
                    assoc.release()
            return
        if assoc.is_rejected:
            raise PacsError(
                f"PACS {node.name} refused association: called AE title '{node.called_aet}', "
                f"calling AE title '{node.calling_aet}'; check that the PACS knows both"
            )
        if time.monotonic() - started >= node.timeout * 0.9:
            raise self.timed_out()
        raise PacsError(
            f"PACS {node.name}: cannot connect to {node.host}:{node.port}; "
            "check the address and that the PACS is running"
        )

    def timed_out(self) -> PacsError:
        return PacsError(f"PACS {self.node.name} timed out after {self.node.timeout:g} s")

    def find(self, query: StudyQuery) -> list[StudyMatch]:
        identifier = Dataset()
        identifier.QueryRetrieveLevel = "STUDY"
        identifier.StudyInstanceUID = ""
        identifier.AccessionNumber = ""
        identifier.NumberOfStudyRelatedInstances = ""
        setattr(identifier, query.key, query.value)
        ae = self._ae()
        ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
        found: dict[str, StudyMatch] = {}
        with self._association(ae) as assoc:
            for status, match in assoc.send_c_find(
                identifier, StudyRootQueryRetrieveInformationModelFind
            ):
                code = self._status(status, "C-FIND")
                if code in _PENDING and match is not None:
                    study = _match(match)
                    # Matching is exact here whatever the PACS does with wildcards or case.
                    if str(getattr(study, _FIELD[query.key])) == query.value:
                        found.setdefault(study.study_uid, study)
        return list(found.values())

    def _status(self, status: Dataset, operation: str) -> int:
        """The status code; PacsError for a lost association or a failure status."""
        if "Status" not in status:
            raise self.timed_out()
        code = int(status.Status)
        if code not in (*_PENDING, _SUCCESS, 0xB000, 0xFE00):
            raise PacsError(f"PACS {self.node.name}: {operation} failed (status 0x{code:04X})")
        return code

    def retrieve(self, study_uid: str, on_instance: OnInstance) -> None:
        identifier = Dataset()
        identifier.QueryRetrieveLevel = "STUDY"
        identifier.StudyInstanceUID = study_uid
        receiver = _Receiver(on_instance)
        if self.node.retrieve == "move":
            last = self._move(identifier, receiver)
        else:
            last = self._get(identifier, receiver)
        if receiver.failure is not None:
            raise receiver.failure
        failed = int(last.get("NumberOfFailedSuboperations", 0) or 0)
        if failed or int(last.Status) != _SUCCESS:
            raise PacsError(
                f"PACS {self.node.name}: {failed or 'some'} instance(s) of the study could not "
                f"be retrieved (status 0x{int(last.Status):04X}); the job can be run again"
            )

    def _get(self, identifier: Dataset, receiver: _Receiver) -> Dataset:
        ae = self._ae()
        ae.requested_contexts = _get_contexts()
        roles = [build_role(uid, scp_role=True) for uid in abstract_syntaxes(_GET_STORAGE_CONTEXTS)]
        handlers = [(evt.EVT_C_STORE, receiver)]
        with self._association(ae, ext_neg=roles, evt_handlers=handlers) as assoc:
            return self._last_status(
                assoc.send_c_get(identifier, StudyRootQueryRetrieveInformationModelGet), "C-GET"
            )

    def _move(self, identifier: Dataset, receiver: _Receiver) -> Dataset:
        """C-MOVE to our calling AE title, received by a storage SCP open only meanwhile."""
        store_ae = self._ae()
        for uid in abstract_syntaxes(AllStoragePresentationContexts):
            store_ae.add_supported_context(uid, ALL_TRANSFER_SYNTAXES)
        store_ae.require_calling_aet = [self.node.called_aet]
        server = self._listen(store_ae, receiver)
        try:
            ae = self._ae()
            ae.add_requested_context(StudyRootQueryRetrieveInformationModelMove)
            with self._association(ae) as assoc:
                return self._last_status(
                    assoc.send_c_move(
                        identifier,
                        self.node.calling_aet,
                        StudyRootQueryRetrieveInformationModelMove,
                    ),
                    "C-MOVE",
                )
        finally:
            server.shutdown()

    def _listen(self, ae: AE, receiver: _Receiver) -> Any:
        """Start the storage SCP on the move port; another worker moving now holds it, so wait."""
        deadline = time.monotonic() + self.node.timeout
        while True:
            try:
                return ae.start_server(
                    ("", self.node.move_port),
                    block=False,
                    evt_handlers=[(evt.EVT_C_STORE, receiver)],
                )
            except OSError as e:
                if time.monotonic() > deadline:
                    raise PacsError(
                        f"PACS {self.node.name}: port {self.node.move_port} for C-MOVE stayed "
                        f"busy for {self.node.timeout:g} s ({e.strerror or e})"
                    ) from e
                time.sleep(0.2)

    def _last_status(self, responses: Iterator[tuple[Dataset, Any]], operation: str) -> Dataset:
        last = Dataset()
        for status, _ in responses:
            if self._status(status, operation) not in _PENDING:
                last = status
        if "Status" not in last:
            raise self.timed_out()
        return last


@cache
def _get_contexts() -> list[PresentationContext]:
    """The C-GET association's contexts, built once per process (building them costs ~1 s)."""
    contexts = [build_context(StudyRootQueryRetrieveInformationModelGet)]
    contexts += [
        build_context(uid, _GET_TRANSFER_SYNTAXES)
        for uid in abstract_syntaxes(_GET_STORAGE_CONTEXTS)
    ]
    return contexts


def abstract_syntaxes(contexts: list[PresentationContext]) -> list[str]:
    """The SOP class UIDs of pynetdicom's predefined contexts (each has one)."""
    return [str(c.abstract_syntax) for c in contexts if c.abstract_syntax]


_FIELD = {ACCESSION_NUMBER: "accession_number", "StudyInstanceUID": "study_uid"}


def _match(identifier: Dataset) -> StudyMatch:
    count = identifier.get("NumberOfStudyRelatedInstances")
    return StudyMatch(
        study_uid=str(identifier.get("StudyInstanceUID", "")),
        accession_number=str(identifier.get("AccessionNumber", "") or ""),
        instances=int(count) if count not in (None, "") else None,
    )
