"""The de-identification engine: one `Deidentifier` per project, reused for every file.

Speed comes from touching as little as possible. pydicom leaves elements undecoded
(`RawDataElement`) until someone reads them; the engine looks only at each element's tag and VR,
rewrites the few values a rule changes as encoded bytes (sequences too, see `sequences.py`), and
lets every other element, pixel data included, go back to disk byte for byte (`part10.py`).
"""

import os
import warnings
from functools import partial
from os import PathLike
from pathlib import Path
from typing import BinaryIO

from pydicom import dcmread
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.sequence import Sequence

from anonapi_server.deid.checks import burned_in_reason, damage, missing_identity
from anonapi_server.deid.dates import shift_days_for, shift_encoded
from anonapi_server.deid.direct import DirectPath, has_fd
from anonapi_server.deid.outcome import WRITTEN, Cause, FileOutcome
from anonapi_server.deid.part10 import encode_items, write_part10, writes_itself
from anonapi_server.deid.profile import QUARANTINE_MARKED_ONLY, RETAIN_FULL_DATES, ProjectProfile
from anonapi_server.deid.reader import MAX_IN_MEMORY, read_little_endian
from anonapi_server.deid.rules import RuleTable, compile_rules
from anonapi_server.deid.sequences import rewrite_items
from anonapi_server.deid.source import DEFER_BYTES, TooLarge, too_large
from anonapi_server.deid.steps import Step, StepPlanner
from anonapi_server.deid.uids import UidMapper
from anonapi_server.deid.values import (
    encoded,
    is_raw_little_endian,
    pad,
    raw_element,
    raw_sequence,
    text,
)

_PATIENT_NAME = 0x00100010
_PATIENT_ID = 0x00100020
_METHOD_CODES = 0x00120064  # De-identification Method Code Sequence
_TEMPORAL_MODIFIED = 0x00280303  # Longitudinal Temporal Information Modified
_DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"

# Who wrote the file (PS3.7 D.3.3.2 and PS3.10 7.1): the project's own UUID-derived UID, fixed
# for good, and a version name that changes when the engine's output changes.
IMPLEMENTATION_CLASS_UID = "2.25.339745129903457884928476837638579481358"
IMPLEMENTATION_VERSION_NAME = "ANONAPI_DEID_2"

# Replacement values for the D action, by VR, already encoded and padded to even length.
_TEXT_DUMMY = b"ANONYMIZED"
_DUMMIES: dict[str, bytes] = {
    "AS": b"000Y",
    "UR": b"http://anonymized.invalid ",
    "DS": b"0 ",
    "IS": b"0 ",
    "AT": b"\0" * 4,
    "US": b"\0" * 2,
    "SS": b"\0" * 2,
    "OW": b"\0" * 2,
    "UL": b"\0" * 4,
    "SL": b"\0" * 4,
    "FL": b"\0" * 4,
    "OF": b"\0" * 4,
    "OL": b"\0" * 4,
    "FD": b"\0" * 8,
    "OD": b"\0" * 8,
    "OV": b"\0" * 8,
    "SV": b"\0" * 8,
    "UV": b"\0" * 8,
    "OB": b"Anonymized",
    "UN": b"Anonymized",
}


def _text_element(tag: int, vr: str, value: str) -> DataElement | RawDataElement:
    """A text element; ASCII (valid in every character set) is made already encoded."""
    if value.isascii():
        return raw_element(tag, vr, pad(value.encode("ascii")))
    return DataElement(tag, vr, value)


class Deidentifier:
    """De-identifies files for one project; compiles the rule table once, at construction."""

    def __init__(self, profile: ProjectProfile, *, byte_paths: bool = True) -> None:
        """`byte_paths=False` is the reference the fast paths are tested against: pydicom decodes
        every sequence the engine walks into and reads every value into memory; the output must
        be the same, byte for byte."""
        self.profile = profile
        self._byte_paths = byte_paths
        self.rules: RuleTable = compile_rules(profile.options)
        self._uids = UidMapper(profile.secret)
        self._shift_dates = RETAIN_FULL_DATES not in profile.options
        self._planner = StepPlanner(self.rules)
        self._marked_only = QUARANTINE_MARKED_ONLY in profile.options
        # What every output file records about its de-identification, encoded once.
        self._record_elements = (
            raw_element(0x00120062, "CS", b"YES "),
            raw_element(0x00120063, "LO", b"PS3.15 E.1 Basic Profile; details in (0012,0064)"),
        )
        self._method_codes_raw = {
            implicit: raw_sequence(
                _METHOD_CODES, encode_items(self._method_codes_sequence(), implicit), implicit
            )
            for implicit in (False, True)
        }
        self._direct = (
            DirectPath(
                self._planner, self._new_value, self._added, self._file_meta, self._marked_only
            )
            if byte_paths
            else None
        )

    def deidentify_file(
        self,
        src: Path | BinaryIO,
        dst: Path,
        pseudo_id: str,
        pseudo_name: str,
        *,
        release: bool = False,
    ) -> FileOutcome:
        """De-identify `src` into exactly `dst`; nothing is written unless the outcome says so.

        Only an OSError (the share, not the file) propagates: every other problem with a file
        ends as a skipped outcome with its cause. `release` writes a file the burned-in rule
        would hold, once a person has looked at it and decided so (the quarantine's release).
        """
        dst = Path(dst)
        if isinstance(src, str | PathLike):
            with open(src, "rb") as fp:
                return self._deidentify_open(fp, dst, pseudo_id, pseudo_name, release)
        return self._deidentify_open(src, dst, pseudo_id, pseudo_name, release)

    def _deidentify_open(
        self, fp: BinaryIO, dst: Path, pseudo_id: str, pseudo_name: str, release: bool
    ) -> FileOutcome:
        size = os.fstat(fp.fileno()).st_size if has_fd(fp) else fp.seek(0, 2)
        if self._direct is not None and size <= MAX_IN_MEMORY:
            names = (pseudo_id, pseudo_name)
            shift = self._shift_for(pseudo_id)
            outcome = self._direct.deidentify(fp, size, dst, names, shift, release)
            if outcome is not None:
                return outcome
        with warnings.catch_warnings(record=True) as caught:
            # pydicom warns about what it tolerates, quoting values; recorded, never shown.
            warnings.simplefilter("always")
            try:
                ds = self._read(fp, size)
            except InvalidDicomError:
                return FileOutcome.skipped(Cause.NOT_DICOM, "not a DICOM Part-10 file")
            except TooLarge as exc:
                return FileOutcome.skipped(Cause.TOO_LARGE, f"too large to de-identify: {exc}")
            except OSError:
                raise  # the share, not the file: the caller decides
            except Exception as exc:  # pydicom's parse errors have no common base class
                return FileOutcome.skipped(
                    Cause.UNREADABLE, f"unreadable DICOM file ({type(exc).__name__})"
                )
            held = self.check(ds, [str(w.message) for w in caught], size, release=release)
            if held:
                return held
            try:
                self.deidentify_dataset(ds, pseudo_id, pseudo_name)
                write_part10(ds, dst, fp)
            except OSError:
                raise
            except Exception as exc:  # a defect: this file is reported, the job goes on
                return FileOutcome.skipped(
                    Cause.FAILED, f"could not be de-identified ({type(exc).__name__})"
                )
        return WRITTEN

    def _read(self, fp: BinaryIO, size: int) -> Dataset:
        """The engine's own reader for little endian files it can hold, pydicom's otherwise."""
        ds = read_little_endian(fp, size) if self._byte_paths else None
        if ds is None:
            oversized = too_large(fp, size)
            if oversized:
                raise TooLarge(oversized)
            fp.seek(0)
            ds = dcmread(fp, defer_size=DEFER_BYTES if self._byte_paths else None)
        return ds

    def check(
        self, ds: Dataset, warned: list[str], size: int, *, release: bool = False
    ) -> FileOutcome | None:
        """The outcome for a file that must not be written as it is, or None to go on."""
        broken = damage(ds, warned, size)
        if broken:
            return FileOutcome.skipped(Cause.DAMAGED, f"damaged DICOM file: {broken}")
        if text(ds.file_meta, 0x00020002) == _DICOMDIR_SOP_CLASS:
            return FileOutcome.skipped(Cause.DICOMDIR, "DICOMDIR index, not an image")
        missing = missing_identity(ds)
        if missing:
            return FileOutcome.skipped(Cause.NOT_AN_INSTANCE, missing)
        reason = None if release else burned_in_reason(ds, self._marked_only)
        if reason:
            return FileOutcome.quarantined(Cause.BURNED_IN, f"burned-in annotation: {reason}")
        return None

    def deidentify_dataset(self, ds: Dataset, pseudo_id: str, pseudo_name: str) -> None:
        """De-identify `ds` in place (no burned-in check: `deidentify_file` does that)."""
        shift = self._shift_for(pseudo_id)
        # Sequences are rewritten as bytes only for this project's writer; pydicom's (big endian,
        # deflated) encodes them its own way, as it does when it decoded them.
        walk_bytes = self._byte_paths and writes_itself(ds)
        self._clean(ds, shift, inside_dummy=False, walk_bytes=walk_bytes)
        implicit, little_endian = ds.original_encoding
        for elem in self._added(pseudo_id, pseudo_name, shift is not None, implicit, little_endian):
            ds[elem.tag] = elem
        self._rebuild_file_meta(ds)

    def _shift_for(self, pseudo_id: str) -> int | None:
        """This patient's date shift in days, or None when the project keeps full dates."""
        return shift_days_for(self.profile.secret, pseudo_id) if self._shift_dates else None

    def _added(
        self,
        pseudo_id: str,
        pseudo_name: str,
        shifted: bool,
        implicit: bool | None,
        little_endian: bool | None = True,
    ) -> list[DataElement | RawDataElement]:
        """What every output gets besides its own elements, in tag order: the pseudonyms and
        the record of its de-identification (as encoded bytes for a little endian output)."""
        if little_endian and implicit is not None:
            method_codes: DataElement | RawDataElement = self._method_codes_raw[implicit]
        else:
            method_codes = DataElement(_METHOD_CODES, "SQ", self._method_codes_sequence())
        return [
            _text_element(_PATIENT_NAME, "PN", pseudo_name),
            _text_element(_PATIENT_ID, "LO", pseudo_id),
            *self._record_elements,
            method_codes,
            raw_element(_TEMPORAL_MODIFIED, "CS", b"MODIFIED" if shifted else b"UNMODIFIED"),
        ]

    def _method_codes_sequence(self) -> Sequence:
        items = []
        for value, meaning in self.profile.method_codes():
            item = Dataset()
            item.CodeValue = value
            item.CodingSchemeDesignator = "DCM"
            item.CodeMeaning = meaning
            items.append(item)
        return Sequence(items)

    def _rebuild_file_meta(self, ds: Dataset) -> None:
        """A fresh file meta group: no source AE titles or private meta survive."""
        old = getattr(ds, "file_meta", None) or FileMetaDataset()

        def value_of(dataset: Dataset, tag: int) -> bytes:
            elem = dataset.get_item(tag, keep_deferred=True)
            return b"" if elem is None else encoded(elem)

        meta = FileMetaDataset()
        for elem in self._file_meta(
            value_of(ds, 0x00080016),
            value_of(ds, 0x00080018),
            value_of(old, 0x00020002),
            value_of(old, 0x00020003),
            value_of(old, 0x00020010),
        ):
            meta[elem.tag] = elem
        ds.file_meta = meta
        ds.preamble = b"\0" * 128

    def _file_meta(
        self,
        sop_class: bytes,
        instance: bytes,
        meta_class: bytes,
        meta_instance: bytes,
        syntax: bytes,
    ) -> list[RawDataElement]:
        """The output's file meta group from its data set's SOP class and (new) instance UID,
        falling back on the source meta's own; the transfer syntax stays the source's."""
        values = [
            (0x00020001, "OB", b"\0\1"),
            (0x00020002, "UI", sop_class or meta_class),
            (0x00020003, "UI", instance or self._uids.map_value(meta_instance)),
            (0x00020010, "UI", syntax),
            (0x00020012, "UI", IMPLEMENTATION_CLASS_UID.encode()),
            (0x00020013, "SH", IMPLEMENTATION_VERSION_NAME.encode()),
        ]
        return [
            raw_element(tag, vr, pad(value, b"\0" if vr == "UI" else b" "))
            for tag, vr, value in values
        ]

    def _new_value(self, shift: int | None, step: Step, vr: str, value: bytes) -> bytes:
        """The encoded replacement of one element's encoded value."""
        if step is Step.SHIFT:
            return value if shift is None else shift_encoded(value, vr, shift)
        if step is Step.UID:
            return self._uids.map_value(value)
        if step is Step.DUMMY:
            return _DUMMIES.get(vr, _TEXT_DUMMY)
        return b""  # Step.EMPTY

    def _clean(self, ds: Dataset, shift: int | None, inside_dummy: bool, walk_bytes: bool) -> None:
        """Apply the steps to every element of `ds` and, recursively, of its sequences."""
        planner = self._planner
        new_value = partial(self._new_value, shift)
        for tag in list(ds.keys()):
            # Private, a group length (stale once values change), or a misplaced command/meta.
            if tag >> 16 & 1 or not tag & 0xFFFF or tag < 0x00030000:
                del ds[tag]
                continue
            elem = ds.get_item(tag, keep_deferred=True)
            step, vr = planner.step(tag, elem.VR, inside_dummy)
            if step is Step.LEAVE or (step is Step.SHIFT and shift is None):
                continue
            if step is Step.REMOVE:
                del ds[tag]
            elif step is Step.RECURSE or step is Step.RECURSE_DUMMY:
                dummy = step is Step.RECURSE_DUMMY
                if vr == "SQ" and walk_bytes and is_raw_little_endian(elem):
                    implicit = elem.is_implicit_VR
                    items = rewrite_items(
                        elem.value or b"", dummy, planner, new_value, implicit=implicit
                    )
                    if items is not None:
                        ds[tag] = raw_sequence(tag, items, implicit)
                        continue
                for item in ds[tag].value:
                    self._clean(item, shift, dummy, walk_bytes)
            else:
                ds[tag] = raw_element(tag, vr, new_value(step, vr, encoded(elem)))
