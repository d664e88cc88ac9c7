"""No identifier survives de-identification: generated studies and the real compat DICOM files."""

from pathlib import Path

import pydicom
import pytest
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ImplicitVRLittleEndian,
)

from anonapi_server.deid import Deidentifier
from anonapi_server.sample_studies import write_study
from tests.server.deid.dicom_walk import identifiers, string_values, walk

COMPAT_DICOM = [
    f"original-fixtures/{tree}/test_dir/{name}"
    for tree in ("test_selection", "test_cli")
    for name in ("1-SR-9001/1", "2.0-CT-1/1", "2.0-CT-1/2")
]
PSEUDO_ID = "PSEUDO-0042"
PSEUDO_NAME = "Pseudo^Patient"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> list[Path]:
    return write_study(
        tmp_path_factory.mktemp("generated"),
        patient_id="ORIG-PID-778",
        patient_name="Vermeulen^Johanna^M",
        n_files=3,
        rows=32,
        columns=32,
        accession_number="ACC-99117733",
        institution="Sint Testziekenhuis",
        study_date="20230517",
    )


def _deidentify(engine: Deidentifier, src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / f"out-{src.parent.name}-{src.name}"
    outcome = engine.deidentify_file(src, dst, PSEUDO_ID, PSEUDO_NAME)
    assert outcome.kind == "written", outcome.reason
    return dst


def _assert_clean(src: Path, dst: Path) -> None:
    originals = identifiers(src)
    assert originals["uids"] and originals["dates"], "the source should hold something to remove"
    out = pydicom.dcmread(dst)
    values = string_values(out)
    raw = dst.read_bytes()
    for kind, found in originals.items():
        for value in found:
            assert not any(value in v for v in values), f"{kind} {value!r} survived in an element"
            assert value.encode() not in raw, f"{kind} {value!r} survived in the file's bytes"
    private = [e.tag for e in walk(out) if e.tag.is_private]
    assert private == [], f"private tags left: {private}"


def test_generated_study_keeps_no_name_id_accession_institution_uid_or_date(
    engine: Deidentifier, generated: list[Path], tmp_path: Path
):
    for src in generated:
        _assert_clean(src, _deidentify(engine, src, tmp_path))


@pytest.mark.parametrize("relative", COMPAT_DICOM)
def test_real_files_keep_no_name_id_accession_uid_or_date(
    engine: Deidentifier, corpus: Path, relative: str, tmp_path: Path
):
    src = corpus / relative
    _assert_clean(src, _deidentify(engine, src, tmp_path))


def test_identifying_private_tags_of_the_real_files_are_gone(
    engine: Deidentifier, compat_dir: Path, tmp_path: Path
):
    # The corpus repeats the patient's name and id in private group 0075: removal must reach them.
    src = compat_dir / COMPAT_DICOM[1]
    assert b"test0430name" in src.read_bytes()
    assert b"test0430" not in _deidentify(engine, src, tmp_path).read_bytes()


def test_pseudonyms_and_deidentification_method_are_recorded(
    engine: Deidentifier, generated: list[Path], tmp_path: Path
):
    out = pydicom.dcmread(_deidentify(engine, generated[0], tmp_path))
    assert out.PatientName == PSEUDO_NAME
    assert out.PatientID == PSEUDO_ID
    assert out.PatientIdentityRemoved == "YES"
    assert out.DeidentificationMethod
    codes = [item.CodeValue for item in out.DeidentificationMethodCodeSequence]
    assert codes == ["113100", "113107"]
    assert all(i.CodingSchemeDesignator == "DCM" for i in out.DeidentificationMethodCodeSequence)
    assert out.LongitudinalTemporalInformationModified == "MODIFIED"


def test_nothing_of_the_image_itself_changes(
    engine: Deidentifier, generated: list[Path], tmp_path: Path
):
    src = pydicom.dcmread(generated[1])
    out = pydicom.dcmread(_deidentify(engine, generated[1], tmp_path))
    assert out.PixelData == src.PixelData
    for keyword in ("Rows", "Columns", "BitsAllocated", "PixelSpacing", "ImagePositionPatient"):
        assert out[keyword].value == src[keyword].value
    assert out.SOPClassUID == src.SOPClassUID
    assert out.ReferencedImageSequence[0].ReferencedSOPClassUID == src.SOPClassUID


@pytest.mark.parametrize(
    "syntax",
    [ImplicitVRLittleEndian, ExplicitVRBigEndian, DeflatedExplicitVRLittleEndian],
    ids=["implicit", "big-endian", "deflated"],
)
def test_other_transfer_syntaxes_keep_nothing_either(
    engine: Deidentifier, generated: list[Path], tmp_path: Path, syntax: str
):
    ds = pydicom.dcmread(generated[2])
    ds.file_meta.TransferSyntaxUID = syntax
    src = tmp_path / "source"
    little_endian = syntax != ExplicitVRBigEndian
    implicit = syntax == ImplicitVRLittleEndian
    pydicom.dcmwrite(
        src, ds, implicit_vr=implicit, little_endian=little_endian, force_encoding=True
    )
    dst = _deidentify(engine, src, tmp_path)
    _assert_clean(src, dst)
    out = pydicom.dcmread(dst)
    assert out.file_meta.TransferSyntaxUID == syntax
    assert out.PixelData == ds.PixelData
    assert out.PatientName == PSEUDO_NAME
