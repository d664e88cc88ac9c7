"""The checks a file passes before it is de-identified: is it whole, is it an instance, is it safe.

Each returns why a file must not be written (a sentence without DICOM values), or None.
"""

from collections.abc import Callable
from functools import partial

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.uid import UID

from anonapi_server.deid.values import text

_SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
_PIXEL_DATA_TAGS = (0x7FE00008, 0x7FE00009, 0x7FE00010)  # float, double float, pixel data
_ROWS = 0x00280010


# A short text value of the data set by tag ("" when absent): checks work on a Dataset and on
# the engine's direct path, which has no Dataset.
TextOf = Callable[[int], str]


def burned_in_reason(ds: Dataset, marked_only: bool = False) -> str | None:
    """Why this dataset may carry identifying text in its pixels, or None if it should not."""
    return burned_in_reason_of(partial(text, ds), marked_only)


def burned_in_reason_of(text_of: TextOf, marked_only: bool = False) -> str | None:
    """`burned_in_reason` for a data set read through `text_of`.

    Ultrasound and secondary captures are screenshots more often than not, so they count as
    burned-in unless the file explicitly says BurnedInAnnotation=NO; with `marked_only` (the
    project option `quarantine_marked_only`) only an explicit YES counts.
    """
    burned_in = text_of(0x00280301).upper()  # Burned In Annotation
    if burned_in == "YES":
        return "BurnedInAnnotation is YES"
    if burned_in == "NO" or marked_only:
        return None
    modality = text_of(0x00080060).upper()
    if modality in ("US", "SC"):
        return f"modality {modality} without BurnedInAnnotation=NO"
    sop_class = text_of(0x00080016)
    if sop_class == _SECONDARY_CAPTURE or sop_class.startswith(_SECONDARY_CAPTURE + "."):
        return "secondary capture without BurnedInAnnotation=NO"
    return None


def damage(ds: Dataset, warnings: list[str], size: int) -> str | None:
    """What makes a file that pydicom read anyway unfit to copy from, if anything.

    pydicom reads a damaged file without raising: a file cut inside encapsulated pixel data comes
    back as an empty data set (with only a warning), one cut inside a value as a last element
    shorter than its declared length, one cut between elements as a data set that simply ends.
    Writing any of them out would publish a file that silently lost its data. A value pydicom
    left in the file (deferred, see `source.py`) must end within the file's `size`.
    """
    syntax = text(ds.file_meta, 0x00020010)
    if not syntax:
        return "no transfer syntax in the file meta"
    if not UID(syntax).is_valid:
        return "file meta cut short (transfer syntax incomplete)"
    if any("End of file reached" in warning for warning in warnings):
        return "file ends before its last sequence or pixel data does"
    if not any(tag >> 16 != 0x0002 for tag in list(ds.keys())):
        return "no data set after the file meta"
    last = ds.get_item(max(ds.keys()), keep_deferred=True)
    if isinstance(last, RawDataElement) and last.length != 0xFFFFFFFF:
        if last.value is None:
            end = last.value_tell + last.length
            if last.length and end > size:
                return f"truncated in element {last.tag}"
        elif len(last.value) != last.length:
            return f"truncated in element {last.tag}"
    if _ROWS in ds and not any(tag in ds for tag in _PIXEL_DATA_TAGS):
        return "image attributes without pixel data (cut short?)"
    return None


def missing_identity(ds: Dataset) -> str | None:
    """Why this is not a storable instance: no SOP Class or Instance UID in its data set."""
    return missing_identity_of(partial(text, ds))


def missing_identity_of(text_of: TextOf) -> str | None:
    """`missing_identity` for a data set read through `text_of`.

    Both are Type 1 in the SOP Common module of every IOD. Files without them are fragments
    (test data, parts of other files) whose file meta, if any, a converter made up.
    """
    if not text_of(0x00080016):
        return "no SOP Class UID in the data set: a fragment, not an instance"
    if not text_of(0x00080018):
        return "no SOP Instance UID in the data set: a fragment, not an instance"
    return None
