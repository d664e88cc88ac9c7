"""Deterministic benchmark data, generated on demand into `bench/.data/` and never committed.

Each generator writes into a folder and leaves a marker naming its parameters, so a second run
reuses the data and a change of size regenerates it. Seeds are fixed: two runs on two machines
measure the same bytes.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path

MARKER = ".bench-data.json"


def cached(folder: Path, params: dict[str, object], build: Callable[[Path], None]) -> Path:
    """Build `folder` with `build` unless its marker says it already holds data for `params`."""
    marker = folder / MARKER
    wanted = json.dumps(params, sort_keys=True)
    if marker.exists() and marker.read_text() == wanted:
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    build(folder)
    marker.write_text(wanted)
    return folder


def _dicom_header(seed: int) -> bytes:
    """A small valid Part-10 DICOM file (preamble, `DICM`, file meta, a few patient tags)."""
    from io import BytesIO

    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[str(seed)])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.PatientID = f"BENCH{seed:06d}"
    ds.PatientName = f"Bench^Patient{seed}"
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def scan_tree(root: Path, *, folders: int, files_per_folder: int, seed: int = 5) -> Path:
    """`folders` study folders of `files_per_folder` small files each, about 2.8 KB like a DICOM SR.

    About one file in twenty is not DICOM (a report, an XML sidecar, a raw dump without the
    Part-10 preamble), and files sit one or two levels deep, as exported studies do.
    """
    params = {"kind": "scan", "folders": folders, "files": files_per_folder, "seed": seed, "v": 1}

    def build(path: Path) -> None:
        rng = random.Random(seed)
        header = _dicom_header(seed)
        for f in range(folders):
            study = path / f"study{f:03d}"
            for i in range(files_per_folder):
                series = study / f"series{i % 4}" / ("sub" if i % 7 == 0 else "")
                series.mkdir(parents=True, exist_ok=True)
                payload = rng.randbytes(2800 - len(header))
                kind = rng.random()
                if kind < 0.02:
                    (series / f"report{i}.txt").write_bytes(b"Report\n" + payload[:200])
                elif kind < 0.035:
                    (series / f"sidecar{i}.xml").write_bytes(b"<xml/>" + payload[:100])
                elif kind < 0.05:
                    (series / f"{i}").write_bytes(payload)
                else:
                    (series / f"IM{i:05d}").write_bytes(header + payload)

    return cached(root, params, build)


def mapping_file(path: Path, *, rows: int, seed: int = 7) -> Path:
    """An `anon_mapping.csv` in the original format, `rows` grid rows of all four source kinds.

    Options carry a UNC root, project and destination so that every row validates.
    """
    params = {"kind": "mapping", "rows": rows, "seed": seed, "v": 1}

    def build(folder: Path) -> None:
        rng = random.Random(seed)
        lines = [
            "## Description ##",
            f"Benchmark mapping with {rows} rows",
            "## Options ##",
            "root_source_path,\\\\localhost\\data",
            "project,Wetenschap-Algemeen",
            "destination_path,\\\\localhost\\data\\out",
            "## Mapping ##",
            "source,pseudo_id,pseudo_name,description",
        ]
        for i in range(rows):
            kind = i % 4
            if kind == 0:
                source = f"folder:patients/p{i:06d}/study{rng.randrange(3)}"
            elif kind == 1:
                source = f"fileselection:patients/p{i:06d}/fileselection.txt"
            elif kind == 2:
                source = f"study_instance_uid:1.2.840.113619.2.{rng.randrange(10**8)}.{i}"
            else:
                source = f"accession_number:{rng.randrange(10**6, 10**7)}.{i:08d}"
            lines.append(f"{source},ID{i:06d},PSEUDO{i:06d},bench row {i}")
        (folder / path.name).write_bytes(("\r\n".join(lines) + "\r\n").encode())

    cached(path.parent, params, build)
    return path


def ct_study(folder: Path, *, files: int) -> list[Path]:
    """`files` CT images of about 0.5 MB (512 x 512, 16 bit) from the project's demo data."""
    from anonapi_server.sample_studies import write_study

    params = {"kind": "ct", "files": files, "v": 1}

    def build(path: Path) -> None:
        write_study(path, patient_id="BENCH001", patient_name="Bench^CT", n_files=files)

    cached(folder, params, build)
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MARKER)


# Re-encodings of the CT study, by name. "jpeg-lossless" and "jpeg2000" hold the native pixels as
# one encapsulated fragment per file under those transfer syntaxes: no de-identifier here decodes
# pixel data, so what counts is the encapsulated layout, not the codec.
SYNTAXES = {
    "explicit": "1.2.840.10008.1.2.1",
    "implicit": "1.2.840.10008.1.2",
    "big-endian": "1.2.840.10008.1.2.2",
    "deflated": "1.2.840.10008.1.2.1.99",
    "jpeg-lossless": "1.2.840.10008.1.2.4.70",
    "jpeg2000": "1.2.840.10008.1.2.4.90",
}


def ct_study_as(folder: Path, *, sources: list[Path], syntax: str) -> list[Path]:
    """`ct_study`'s files re-encoded in one of `SYNTAXES` (themselves for explicit VR)."""
    import pydicom
    from pydicom.encaps import encapsulate

    if syntax == "explicit":
        return sources
    params = {"kind": "ct-as", "files": len(sources), "syntax": syntax, "v": 1}

    def build(path: Path) -> None:
        uid = SYNTAXES[syntax]
        for src in sources:
            ds = pydicom.dcmread(src)
            ds.file_meta.TransferSyntaxUID = uid
            if syntax in ("jpeg-lossless", "jpeg2000"):
                ds.PixelData = encapsulate([ds.PixelData])
            if syntax == "big-endian":  # pydicom converts between endians only when forced to
                pydicom.dcmwrite(
                    path / src.name, ds, implicit_vr=False, little_endian=False, force_encoding=True
                )
            else:
                ds.save_as(path / src.name, implicit_vr=syntax == "implicit")

    cached(folder, params, build)
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MARKER)
