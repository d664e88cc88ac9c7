"""Deterministic generated DICOM studies for tests, the dashboard demo and the benchmarks.

Every file carries the identifying content a real scanner writes (names, ids, accession number,
institution, dates, physicians, references to other instances inside nested sequences, private
tags) so that a de-identification test can prove none of it survives. The same arguments always
give the same bytes.
"""

import random
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

_SOP_CLASSES = {
    "CT": "1.2.840.10008.5.1.4.1.1.2",
    "MR": "1.2.840.10008.5.1.4.1.1.4",
    "US": "1.2.840.10008.5.1.4.1.1.6.1",
    "SC": "1.2.840.10008.5.1.4.1.1.7",
}
_PRIVATE_CREATOR = "ANONAPI DEMO 1.0"


def _uid(*parts: object) -> str:
    """A UID that depends only on `parts`, under pydicom's root like any real device's UIDs."""
    return generate_uid(entropy_srcs=[str(p) for p in parts])


def _code_item(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def _reference(sop_class: str, sop_instance: str) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = sop_class
    item.ReferencedSOPInstanceUID = sop_instance
    return item


def write_study(
    folder: Path,
    *,
    patient_id: str,
    patient_name: str,
    n_files: int = 3,
    modality: str = "CT",
    burned_in: bool = False,
    seed: int = 0,
    rows: int = 512,
    columns: int = 512,
    accession_number: str | None = None,
    study_date: str = "20240102",
    private_tags: bool = True,
    institution: str = "Radboudumc",
    suffix: str = "",
) -> list[Path]:
    """Write one single-series study as Part-10 files `1`, `2`, ... (plus `suffix`, e.g. ".dcm").

    16-bit pixels, so 512x512 gives the ~0.5 MB CT slice the benchmarks are specified on.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{seed}:{patient_id}")
    accession = accession_number or f"{rng.randrange(10**9, 10**10)}"
    sop_class = _SOP_CLASSES.get(modality, _SOP_CLASSES["CT"])
    study_uid = _uid(seed, patient_id, accession, "study")
    series_uid = _uid(seed, patient_id, accession, "series")
    frame_uid = _uid(seed, patient_id, accession, "frame")
    instance_uids = [_uid(seed, patient_id, accession, "image", n) for n in range(1, n_files + 1)]
    birth_year = 1930 + rng.randrange(70)
    paths = []
    for number, instance_uid in enumerate(instance_uids, start=1):
        ds = Dataset()
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.InstanceCreationDate = study_date
        ds.InstanceCreationTime = "101500"
        ds.SOPClassUID = sop_class
        ds.SOPInstanceUID = instance_uid
        ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = study_date
        ds.StudyTime = "101010"
        ds.SeriesTime = "101112"
        ds.AcquisitionTime = ds.ContentTime = f"1012{number % 60:02d}"
        ds.AcquisitionDateTime = f"{study_date}1012{number % 60:02d}.000000"
        ds.AccessionNumber = accession
        ds.Modality = modality
        ds.Manufacturer = "ANONAPI DEMO SCANNERS"
        ds.InstitutionName = institution
        ds.InstitutionAddress = f"Geert Grooteplein 10, Nijmegen ({institution})"
        ds.ReferringPhysicianName = "Doctor^Referring^A"
        ds.StationName = "CTSTATION07"
        ds.StudyDescription = f"{modality} THORAX for {patient_name}"
        ds.SeriesDescription = "AXIAL 2.0"
        ds.PerformingPhysicianName = "Doctor^Performing"
        ds.OperatorsName = "Operator^Olga"
        ds.ProcedureCodeSequence = Sequence([_code_item("RADCT044", "AGFEAP", "CT THORAX")])
        if number > 1:
            ds.ReferencedImageSequence = Sequence([_reference(sop_class, instance_uids[0])])
            ds.SourceImageSequence = Sequence([_reference(sop_class, instance_uids[number - 2])])
        ds.PatientName = patient_name
        ds.PatientID = patient_id
        ds.PatientBirthDate = f"{birth_year}0{rng.randrange(1, 10)}1{rng.randrange(10)}"
        ds.PatientSex = rng.choice(["F", "M"])
        ds.PatientAge = f"{int(study_date[:4]) - birth_year:03d}Y"
        ds.OtherPatientIDs = f"{patient_id}-OLD"
        ds.PatientAddress = "Kerkstraat 1, Nijmegen"
        ds.DeviceSerialNumber = "SN-4711"
        ds.ProtocolName = f"Thorax protocol {institution}"
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.StudyID = accession[-6:]
        ds.SeriesNumber = 1
        ds.InstanceNumber = number
        ds.FrameOfReferenceUID = frame_uid
        ds.ImagePositionPatient = [0, 0, number * 2.0]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows = rows
        ds.Columns = columns
        ds.PixelSpacing = [0.7, 0.7]
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 0
        ds.BurnedInAnnotation = "YES" if burned_in else "NO"
        request = Dataset()
        request.AccessionNumber = accession
        request.RequestedProcedureID = f"RP{accession}"
        request.ReferencedStudySequence = Sequence(
            [_reference("1.2.840.10008.3.1.2.3.1", study_uid)]
        )
        request.StudyInstanceUID = study_uid
        ds.RequestAttributesSequence = Sequence([request])
        series_ref = Dataset()
        series_ref.SeriesInstanceUID = series_uid
        series_ref.SeriesDate = study_date
        series_ref.ReferencedInstanceSequence = Sequence(
            [_reference(sop_class, uid) for uid in (instance_uids[0], instance_uid)]
        )
        if private_tags:
            series_ref.private_block(0x0011, _PRIVATE_CREATOR, create=True).add_new(
                0x01, "LO", patient_id
            )
        ds.ReferencedSeriesSequence = Sequence([series_ref])
        if private_tags:
            block = ds.private_block(0x0009, _PRIVATE_CREATOR, create=True)
            block.add_new(0x01, "LO", patient_name)
            block.add_new(0x02, "LO", patient_id)
            block.add_new(0x03, "DA", study_date)
            block.add_new(0x04, "UI", study_uid)
            block.add_new(0x05, "SH", accession)
        ds.PixelData = random.Random(f"{seed}:{patient_id}:{number}").randbytes(rows * columns * 2)
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = UID(sop_class)
        ds.file_meta.MediaStorageSOPInstanceUID = UID(instance_uid)
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        path = folder / f"{number}{suffix}"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


@dataclass(frozen=True)
class DemoStudy:
    """One generated study of the demo tree and what it is there to show."""

    folder: Path
    patient_id: str
    patient_name: str
    accession_number: str
    n_files: int
    burned_in: bool = False
    opt_out: bool = False


_DEMO_STUDIES = (
    # folder name, patient id, patient name, accession, files, modality, burned in, opt-out
    ("study_jansen", "DEMO0001", "Jansen^Piet", "8001000001", 4, "CT", False, False),
    ("study_devries", "DEMO0002", "de Vries^Anna", "8001000002", 3, "MR", False, False),
    ("study_echo", "DEMO0003", "Visser^Johan", "8001000003", 2, "US", True, False),
    ("study_optout", "DEMO0004", "Bakker^Kees", "8001000004", 2, "CT", False, True),
)


def write_demo_tree(share_root: Path) -> list[DemoStudy]:
    """A few small studies under `share_root/demo/` for the dashboard demo.

    One is an ultrasound with a burned-in annotation (its files end up quarantined) and one
    belongs to a patient meant for the opt-out list (its job is refused).
    """
    return _write_demo_studies(share_root / "demo", _DEMO_STUDIES, first_seed=0)


_DEMO_PACS_STUDIES = (
    ("pacs_vandijk", "DEMO0101", "van Dijk^Sanne", "8002000001", 3, "CT", False, False),
    ("pacs_smit", "DEMO0102", "Smit^Lars", "8002000002", 2, "MR", False, False),
)


def write_demo_pacs_studies(folder: Path) -> list[tuple[DemoStudy, str]]:
    """The studies the demo's local PACS holds, each with its StudyInstanceUID.

    Written outside the share: the demo's PACS rows (`accession_number:`, `study_instance_uid:`)
    reach them only through the PACS, as a hospital's would.
    """
    studies = _write_demo_studies(folder, _DEMO_PACS_STUDIES, first_seed=20)
    return [
        (study, _uid(seed, study.patient_id, study.accession_number, "study"))
        for seed, study in enumerate(studies, start=20)
    ]


def _write_demo_studies(
    folder: Path,
    table: tuple[tuple[str, str, str, str, int, str, bool, bool], ...],
    first_seed: int,
) -> list[DemoStudy]:
    studies = []
    for seed, (name, pid, pname, accession, n, modality, burned, opt_out) in enumerate(
        table, start=first_seed
    ):
        write_study(
            folder / name,
            patient_id=pid,
            patient_name=pname,
            n_files=n,
            modality=modality,
            burned_in=burned,
            seed=seed,
            rows=128,
            columns=128,
            accession_number=accession,
        )
        studies.append(DemoStudy(folder / name, pid, pname, accession, n, burned, opt_out))
    return studies
