"""The engine's contract: consistent UIDs and dates, quarantine, skips, options, output format."""

from datetime import date
from pathlib import Path

import pydicom
import pytest
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.tag import Tag
from pydicom.uid import UID, JPEGBaseline8Bit

from anonapi_server.deid import KNOWN_OPTIONS, Cause, Deidentifier, FileOutcome, ProjectProfile
from anonapi_server.deid.part10 import write_part10
from anonapi_server.sample_studies import write_study
from tests.server.deid.conftest import PROJECT, SECRET


def _study(folder: Path, **kwargs) -> list[Path]:
    defaults = {"patient_id": "PID1", "patient_name": "Doe^Jane", "rows": 16, "columns": 16}
    return write_study(folder, **{**defaults, **kwargs})


def _run(engine: Deidentifier, files: list[Path], out: Path, pseudo_id: str = "P1") -> list:
    out.mkdir(parents=True, exist_ok=True)
    datasets = []
    for src in files:
        dst = out / src.name
        assert engine.deidentify_file(src, dst, pseudo_id, "Pseudo^One").kind == "written"
        datasets.append(pydicom.dcmread(dst))
    return datasets


def test_uids_are_consistent_across_files_and_inside_sequences(engine, tmp_path):
    first, second, third = _run(engine, _study(tmp_path / "in"), tmp_path / "out")
    assert first.StudyInstanceUID == second.StudyInstanceUID == third.StudyInstanceUID
    assert first.SeriesInstanceUID == third.SeriesInstanceUID
    assert second.ReferencedImageSequence[0].ReferencedSOPInstanceUID == first.SOPInstanceUID
    assert third.SourceImageSequence[0].ReferencedSOPInstanceUID == second.SOPInstanceUID
    nested = third.ReferencedSeriesSequence[0]
    assert nested.SeriesInstanceUID == third.SeriesInstanceUID
    refs = [item.ReferencedSOPInstanceUID for item in nested.ReferencedInstanceSequence]
    assert refs == [first.SOPInstanceUID, third.SOPInstanceUID]
    for ds in (first, second, third):
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID


def test_same_uid_gives_same_uid_within_a_project_and_another_in_another_project(tmp_path):
    files = _study(tmp_path / "in", n_files=1)
    again = Deidentifier(ProjectProfile(name=PROJECT, secret=SECRET))
    other = Deidentifier(ProjectProfile(name="Other", secret=b"another secret of 32 bytes......"))
    (a,) = _run(Deidentifier(ProjectProfile(name=PROJECT, secret=SECRET)), files, tmp_path / "a")
    (b,) = _run(again, files, tmp_path / "b")
    (c,) = _run(other, files, tmp_path / "c")
    assert a.SOPInstanceUID == b.SOPInstanceUID
    assert a.SOPInstanceUID != c.SOPInstanceUID
    assert a.StudyInstanceUID != c.StudyInstanceUID


def test_new_uids_are_valid_2_25_uids(engine, tmp_path):
    (ds,) = _run(engine, _study(tmp_path / "in", n_files=1), tmp_path / "out")
    for uid in (ds.SOPInstanceUID, ds.StudyInstanceUID, ds.FrameOfReferenceUID):
        assert uid.startswith("2.25.") and UID(uid).is_valid and len(uid) <= 64


def test_dates_move_by_one_whole_number_of_days_per_patient(engine, tmp_path):
    early = _study(tmp_path / "early", n_files=2, study_date="20240102", seed=1)
    late = _study(tmp_path / "late", n_files=1, study_date="20240302", seed=2)
    a1, a2 = _run(engine, early, tmp_path / "o1", pseudo_id="SAME")
    (b1,) = _run(engine, late, tmp_path / "o2", pseudo_id="SAME")
    (c1,) = _run(engine, late, tmp_path / "o3", pseudo_id="SOMEONE-ELSE")

    def day(value: str) -> date:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))

    assert (
        a1.StudyDate == a2.StudyDate == a1.SeriesDate == a1.ReferencedSeriesSequence[0].SeriesDate
    )
    assert a1.StudyDate != "20240102"
    assert (day(b1.StudyDate) - day(a1.StudyDate)).days == 60  # intervals survive
    assert c1.StudyDate != b1.StudyDate  # another patient, another shift
    shift = day(a1.StudyDate) - date(2024, 1, 2)
    assert a1.AcquisitionDateTime[:8] == (date(2024, 1, 2) + shift).strftime("%Y%m%d")
    assert a1.AcquisitionDateTime[8:] == "101201.000000"  # time of day kept
    assert a1.StudyTime == "101010"
    assert a1.PatientBirthDate == ""  # birth dates are emptied, not shifted


def test_burned_in_annotation_yes_is_quarantined_and_nothing_written(engine, tmp_path):
    (src,) = _study(tmp_path / "in", n_files=1, burned_in=True)
    dst = tmp_path / "out.dcm"
    outcome = engine.deidentify_file(src, dst, "P1", "Pseudo^One")
    assert outcome.kind == "quarantined"
    assert "BurnedInAnnotation" in outcome.reason
    assert not dst.exists()


@pytest.mark.parametrize("modality", ["US", "SC"])
def test_ultrasound_and_secondary_capture_need_an_explicit_no(engine, tmp_path, modality):
    (src,) = _study(tmp_path / "in", n_files=1, modality=modality)
    assert engine.deidentify_file(src, tmp_path / "flagged", "P1", "P").kind == "written"
    ds = pydicom.dcmread(src)
    del ds.BurnedInAnnotation
    ds.save_as(src)
    outcome = engine.deidentify_file(src, tmp_path / "unflagged", "P1", "P")
    assert outcome == FileOutcome.quarantined(Cause.BURNED_IN, outcome.reason)
    assert modality in outcome.reason
    assert not (tmp_path / "unflagged").exists()


@pytest.mark.parametrize(
    "relative", ["test_dir/somedoc.odt", "test_dir/AiCE_3.000_CE-CT-6/some_non_dicom_file.txt"]
)
def test_non_dicom_files_are_skipped_and_nothing_written(engine, compat_dir, tmp_path, relative):
    src = compat_dir / "original-fixtures" / "test_selection" / relative
    outcome = engine.deidentify_file(src, tmp_path / "out", "P1", "P")
    assert outcome.kind == "skipped" and outcome.cause is Cause.NOT_DICOM
    assert src.name not in outcome.reason  # reasons reach other views: no file names
    assert not (tmp_path / "out").exists()


def test_options_keep_what_they_name_and_are_recorded(tmp_path):
    profile = ProjectProfile(name="Study", secret=SECRET, options=KNOWN_OPTIONS)
    (ds,) = _run(Deidentifier(profile), _study(tmp_path / "in", n_files=1), tmp_path / "out")
    assert ds.StudyDate == "20240102"
    assert ds.LongitudinalTemporalInformationModified == "UNMODIFIED"
    assert ds.DeviceSerialNumber == "SN-4711" and ds.StationName == "CTSTATION07"
    assert ds.PatientSex in ("F", "M") and ds.PatientAge.endswith("Y")
    codes = [item.CodeValue for item in ds.DeidentificationMethodCodeSequence]
    assert codes == ["113100", "113106", "113108", "113109"]
    assert ds.PatientName == "Pseudo^One" and ds.InstitutionName == "ANONYMIZED"


def test_unknown_option_is_refused_by_name():
    with pytest.raises(ValueError, match="retain_everything"):
        ProjectProfile(name="P", secret=SECRET, options=frozenset({"retain_everything"}))


def test_implicit_vr_files_are_deidentified_too(engine, tmp_path):
    (src,) = _study(tmp_path / "in", n_files=1)
    ds = pydicom.dcmread(src)
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    ds.save_as(src, implicit_vr=True, little_endian=True, enforce_file_format=True)
    (out,) = _run(engine, [src], tmp_path / "out")
    assert out.file_meta.TransferSyntaxUID == pydicom.uid.ImplicitVRLittleEndian
    assert out.PatientName == "Pseudo^One"
    assert out.StudyInstanceUID.startswith("2.25.") and out.StudyDate != "20240102"
    assert not any(elem.tag.is_private for elem in out)
    assert out.PixelData == ds.PixelData


def test_encapsulated_pixel_data_is_copied_unchanged(engine, tmp_path):
    (src,) = _study(tmp_path / "in", n_files=1)
    ds = pydicom.dcmread(src)
    frame = b"\xff\xd8\xff\xe0" + bytes(range(200)) + b"\xff\xd9"
    ds.PixelData = encapsulate([frame])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.save_as(src, enforce_file_format=True)
    (out,) = _run(engine, [src], tmp_path / "out")
    assert out.file_meta.TransferSyntaxUID == JPEGBaseline8Bit
    assert out.PixelData == ds.PixelData


def test_fast_writer_output_reads_back_equal_to_pydicoms(engine, tmp_path):
    (src,) = _study(tmp_path / "in", n_files=1)
    (fast,) = _run(engine, [src], tmp_path / "out")
    slow = pydicom.dcmread(src)
    engine.deidentify_dataset(slow, "P1", "Pseudo^One")
    slow.save_as(tmp_path / "slow.dcm", enforce_file_format=True)
    assert fast == pydicom.dcmread(tmp_path / "slow.dcm")


def test_datasets_built_in_memory_are_deidentified_in_place(engine, tmp_path):
    (src,) = _study(tmp_path / "in", n_files=1)
    ds = pydicom.dcmread(src)
    list(ds.iterall())  # decodes every element, as a dataset built in code holds them
    assert not ds.get_item("StudyInstanceUID").is_raw
    original_uid = ds.StudyInstanceUID
    engine.deidentify_dataset(ds, "P1", "Pseudo^One")
    assert ds.StudyInstanceUID.startswith("2.25.") and ds.StudyInstanceUID != original_uid
    assert ds.StudyDate != "20240102" and ds.AccessionNumber == ""


def test_every_written_value_has_even_length(engine, tmp_path):
    (src,) = _study(tmp_path / "in", n_files=1)
    (out,) = _run(engine, [src], tmp_path / "out")
    for dataset in (out.file_meta, out, *out.ReferencedSeriesSequence):
        for tag in list(dataset.keys()):  # tags, not the elements iterating would decode
            elem = dataset.get_item(tag)
            if elem.is_raw and elem.length != 0xFFFFFFFF:
                assert elem.length % 2 == 0, f"odd length in {elem.tag}"


def test_a_truncated_file_is_skipped_not_written_half(engine, tmp_path):
    (src,) = _study(tmp_path / "in", n_files=1)
    damaged = tmp_path / "damaged"
    damaged.write_bytes(src.read_bytes()[:-100])
    outcome = engine.deidentify_file(damaged, tmp_path / "out", "P1", "P")
    assert outcome.kind == "skipped" and "truncated" in outcome.reason
    assert not (tmp_path / "out").exists()


def test_a_dicomdir_index_is_skipped(engine, tmp_path):
    (src,) = _study(tmp_path / "in", n_files=1)
    ds = pydicom.dcmread(src)
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"
    del ds.SOPClassUID  # an index has no SOP class of its own in the dataset
    ds.save_as(src, enforce_file_format=True)
    assert pydicom.dcmread(src).file_meta.MediaStorageSOPClassUID == "1.2.840.10008.1.3.10"
    assert engine.deidentify_file(src, tmp_path / "out", "P1", "P").kind == "skipped"
    assert not (tmp_path / "out").exists()


def test_a_pseudonym_outside_ascii_is_encoded_in_the_files_character_set(engine, tmp_path):
    (src,) = _study(tmp_path / "in", n_files=1)
    dst = tmp_path / "out"
    assert engine.deidentify_file(src, dst, "P1", "Müller^Jürgen").kind == "written"
    assert pydicom.dcmread(dst).PatientName == "Müller^Jürgen"
    assert "Müller".encode("latin-1") in dst.read_bytes()  # ISO_IR 100


def test_structured_report_content_loses_free_text_but_keeps_codes_and_numbers(engine):
    content = Dataset()
    content.ValueType = "TEXT"
    content.TextValue = "Patient Jansen complained of pain"
    content.PersonName = "Radioloog^Rita"
    content.ConceptNameCodeSequence = [_code("121106", "DCM", "Comment")]
    content.UID = "1.2.3.4.5.6"
    measured = Dataset()
    measured.NumericValue = "12.5"
    measured.MeasurementUnitsCodeSequence = [_code("mGy", "UCUM", "mGy")]
    content.MeasuredValueSequence = [measured]
    ds = Dataset()
    ds.ContentSequence = [content]
    engine.deidentify_dataset(ds, "P1", "Pseudo^One")
    out = ds.ContentSequence[0]
    assert out.TextValue == "ANONYMIZED" and out.PersonName == "ANONYMIZED"
    assert out.ValueType == "TEXT" and out.ConceptNameCodeSequence[0].CodeValue == "121106"
    assert out.MeasuredValueSequence[0].NumericValue == 12.5
    assert out.UID.startswith("2.25.")


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def test_public_elements_stored_as_un_are_handled_by_their_dictionary_vr(engine, tmp_path):
    (src,) = _study(tmp_path / "in", n_files=1)
    ds = pydicom.dcmread(src)
    original_uid = ds.StudyInstanceUID
    for tag, value in (
        (0x00080020, b"20240102"),  # Study Date
        (0x0020000D, original_uid.encode() + b"\0" * (len(original_uid) % 2)),
        (0x00081030, b"Study of Doe^Jane "),  # Study Description: removed
    ):
        ds[tag] = RawDataElement(Tag(tag), "UN", len(value), value, 0, False, True)
    ds.save_as(src, enforce_file_format=True)
    assert pydicom.dcmread(src).get_item(0x00080020).VR == "UN"
    (out,) = _run(engine, [src], tmp_path / "out")
    assert out.StudyDate not in ("", "20240102")
    assert out.StudyInstanceUID.startswith("2.25.")
    assert "StudyDescription" not in out
    assert original_uid.encode() not in (tmp_path / "out" / src.name).read_bytes()


def test_a_write_that_fails_leaves_no_partial_file(engine, tmp_path):
    (src,) = _study(tmp_path / "in", n_files=1)
    ds = pydicom.dcmread(src)
    engine.deidentify_dataset(ds, "P1", "Pseudo^One")
    ds[0x00280106] = DataElement(0x00280106, "US or SS", 0)  # a VR no file can carry
    dst = tmp_path / "out.dcm"
    with pytest.raises(ValueError, match="ambiguous VR"):
        write_part10(ds, dst)
    assert not dst.exists()
