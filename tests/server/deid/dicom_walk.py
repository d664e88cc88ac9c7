"""Walking datasets and collecting the identifying values a de-identified copy must not hold."""

from collections.abc import Iterator
from pathlib import Path

import pydicom
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

from anonapi_server.deid.uids import CLASS_UID_TAGS, STANDARD_UID_ROOT


def walk(ds: Dataset) -> Iterator[DataElement]:
    """Every element of `ds`, its file meta and all nested sequence items."""
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        yield from meta
    yield from _walk_items(ds)


def _walk_items(ds: Dataset) -> Iterator[DataElement]:
    for elem in ds:
        yield elem
        if elem.VR == "SQ":
            for item in elem.value:
                yield from _walk_items(item)


def _values(elem: DataElement) -> list[str]:
    if elem.value is None or elem.VR in ("OB", "OW", "UN", "SQ"):
        return []
    values = elem.value if elem.VM > 1 else [elem.value]
    return [str(v) for v in values if str(v).strip()]


def identifiers(path: Path) -> dict[str, set[str]]:
    """The identifying values a de-identified copy of `path` must not contain, by kind."""
    ds = pydicom.dcmread(path)
    found: dict[str, set[str]] = {"names": set(), "ids": set(), "uids": set(), "dates": set()}
    for elem in walk(ds):
        if elem.tag.is_private:
            continue
        if elem.keyword in ("PatientName", "InstitutionName", "ReferringPhysicianName"):
            found["names"].update(_values(elem))
        elif elem.keyword in ("PatientID", "AccessionNumber", "OtherPatientIDs"):
            found["ids"].update(_values(elem))
        elif elem.VR == "UI" and elem.tag not in CLASS_UID_TAGS:
            found["uids"].update(v for v in _values(elem) if not v.startswith(STANDARD_UID_ROOT))
        elif elem.VR == "DA":
            found["dates"].update(_values(elem))
        elif elem.VR == "DT":
            found["dates"].update(v[:8] for v in _values(elem) if len(v) >= 8)
    return found


def string_values(ds: Dataset) -> set[str]:
    """Every textual value anywhere in `ds` (file meta and sequences included)."""
    return {value for elem in walk(ds) for value in _values(elem)}
