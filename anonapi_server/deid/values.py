"""Element values as encoded bytes, so that reading or replacing one never decodes the rest.

pydicom keeps an element it has not been asked about as a `RawDataElement` holding the bytes from
the file; these helpers read and build such elements directly.
"""

from typing import TypeGuard

from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag


def pad(value: bytes, padding: bytes = b" ") -> bytes:
    """Pad to the even length DICOM requires (UIDs and binary values pad with a NUL)."""
    return value + padding if len(value) % 2 else value


def raw_element(tag: int, vr: str, value: bytes) -> RawDataElement:
    """An encoded element; pydicom writes it back as these bytes without re-encoding."""
    return RawDataElement(BaseTag(tag), vr, len(value), value, 0, False, True)


def is_raw_little_endian(elem: DataElement | RawDataElement) -> TypeGuard[RawDataElement]:
    """Whether `elem` still holds the bytes read from a little endian file (either VR kind)."""
    return isinstance(elem, RawDataElement) and elem.is_little_endian and elem.value is not None


def raw_sequence(tag: int, items: bytes, implicit: bool = False) -> RawDataElement:
    """A sequence of undefined length whose items are already encoded (little endian)."""
    return RawDataElement(BaseTag(tag), "SQ", 0xFFFFFFFF, items, 0, implicit, True)


def encoded(elem: DataElement | RawDataElement) -> bytes:
    """The encoded value of a text element, whether still raw or already decoded."""
    if isinstance(elem, RawDataElement):
        return elem.value or b""
    value = elem.value
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("ascii", "replace")
    return "\\".join(str(v) for v in value).encode("ascii", "replace")


def text(ds: Dataset, tag: int) -> str:
    """A short text value, read from the encoded bytes without decoding the element."""
    elem = ds.get_item(tag, keep_deferred=True)
    return "" if elem is None else encoded(elem).decode("ascii", "replace").strip("\0 ")
