"""Hostile files and folders (issue 8, findings 4 and 5): a link swapped in after the job's
check, a deflate bomb, a YAML alias bomb, an endless message, a sequence nested 3,000 deep."""

from __future__ import annotations

import os
import shutil
import struct
import sys
import zlib
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian, generate_uid

from anonapi_server import headers
from anonapi_server import worker as worker_module
from anonapi_server.confined import USE_FDS, opened_folder
from anonapi_server.privacy import MAX_ERROR_CHARS
from anonapi_server.shares import PathRefused
from anonapi_server.testing import EmbeddedServer, running_server
from tests.server.conftest import call, new_job, run_once, write_small_study

needs_links = pytest.mark.skipif(not USE_FDS, reason="descriptor-relative opens (POSIX)")
CT = "1.2.840.10008.5.1.4.1.1.2"


def swap_for_link(folder: Path, target: Path) -> None:
    """Replace `folder` by a link to `target` (what an attacker with write access could do)."""
    folder.rename(folder.with_name(folder.name + ".moved"))
    folder.symlink_to(target, target_is_directory=True)


@needs_links
def test_a_source_folder_swapped_for_a_link_after_the_check_is_not_read(
    idle_server: EmbeddedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    source = write_small_study(idle_server, "swap_src/sub", n_files=2)
    outside = tmp_path / "outside"
    shutil.copytree(idle_server.local(source), outside)
    checked = worker_module.list_source_files

    def check_then_swap(*args, **kwargs):
        files = checked(*args, **kwargs)
        swap_for_link(idle_server.local(source), outside)
        return files

    monkeypatch.setattr(worker_module, "list_source_files", check_then_swap)
    job_id = new_job(idle_server, "folder:" + idle_server.unc("in", "swap_src"))
    job = run_once(idle_server, job_id)
    assert job["status"] == "ERROR"
    assert "leads outside its share" in job["error"]
    assert not (idle_server.share_root / "out" / str(job_id)).exists()


@needs_links
def test_a_destination_swapped_for_a_link_after_the_check_is_not_written(
    idle_server: EmbeddedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    source = write_small_study(idle_server, "swap_dst", n_files=1)
    destination = idle_server.share_root / "swapped_out"
    destination.mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    checked = worker_module.list_source_files

    def check_then_swap(*args, **kwargs):
        files = checked(*args, **kwargs)
        swap_for_link(destination, outside)
        return files

    monkeypatch.setattr(worker_module, "list_source_files", check_then_swap)
    job_id = new_job(
        idle_server, "folder:" + source, destination_path=idle_server.unc("swapped_out")
    )
    job = run_once(idle_server, job_id)
    assert job["status"] == "ERROR"
    assert "leads outside its share" in job["error"]
    assert list(outside.iterdir()) == []


@needs_links
def test_a_confined_walk_refuses_a_link_in_the_path(tmp_path: Path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    with opened_folder(tmp_path, ("real",), "\\\\h\\s") as folder:
        assert folder.names() == []
    with (
        pytest.raises(PathRefused, match="leads outside its share"),
        opened_folder(tmp_path, ("link",), "\\\\h\\s"),
    ):
        pass


def test_alias_expanding_yaml_in_a_file_selection_is_refused(idle_server: EmbeddedServer):
    folder = idle_server.share_root / "in" / "laughs"
    folder.mkdir(parents=True)
    lines = ["a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']"]
    for n in range(ord("b"), ord("j")):
        prev = chr(n - 1)
        lines.append(f"{chr(n)}: &{chr(n)} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    lines.append("selected_paths: *i")
    (folder / "fileselection.txt").write_text("\n".join(lines))
    source = "fileselection:" + idle_server.unc("in", "laughs", "fileselection.txt")
    job = run_once(idle_server, new_job(idle_server, source))
    assert job["status"] == "ERROR"
    assert "aliases" in job["error"]
    assert len(job["error"]) < 500


def test_an_endless_error_is_shortened(idle_server: EmbeddedServer):
    folder = idle_server.share_root / "in" / "long_name"
    folder.mkdir(parents=True)
    (folder / "fileselection.txt").write_text("selected_paths:\n- " + "x" * 50_000 + "\n")
    source = "fileselection:" + idle_server.unc("in", "long_name", "fileselection.txt")
    job = run_once(idle_server, new_job(idle_server, source))
    assert job["status"] == "ERROR"
    assert len(job["error"]) <= MAX_ERROR_CHARS
    assert job["error"].endswith("(message shortened)")


def small_ct(patient_id: str) -> tuple[pydicom.Dataset, bytes]:
    """A CT header without pixels, and its explicit-VR little-endian encoding."""
    ds = pydicom.Dataset()
    ds.PatientID = patient_id
    ds.SOPClassUID = CT
    ds.SOPInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "CT"
    body = DicomBytesIO()
    body.is_little_endian, body.is_implicit_VR = True, False
    write_dataset(body, ds)
    return ds, body.getvalue()


def deeply_nested(path: Path, depth: int) -> None:
    """A CT file whose dataset ends in a sequence nested `depth` deep (undefined lengths)."""
    ds, body = small_ct("DEEP")
    sequence = struct.pack("<HH", 0x0040, 0x0275) + b"SQ\0\0" + b"\xff\xff\xff\xff"
    item = b"\xfe\xff\x00\xe0\xff\xff\xff\xff"
    item_end = b"\xfe\xff\x0d\xe0\0\0\0\0"
    sequence_end = b"\xfe\xff\xdd\xe0\0\0\0\0"
    nested = (sequence + item) * depth + (item_end + sequence_end) * depth
    write_part10_bytes(path, ExplicitVRLittleEndian, ds, body + nested)


def write_part10_bytes(
    path: Path, syntax: str, ds: pydicom.Dataset, dataset: bytes, meta_padding: int = 0
) -> None:
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\0\1" + b"\0" * meta_padding  # padding: before the syntax
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = syntax
    with path.open("wb") as f:
        f.write(b"\0" * 128 + b"DICM")
        write_file_meta_info(f, meta)
        f.write(dataset)


def test_a_file_nested_3000_deep_is_one_skipped_file_not_a_failed_job(
    idle_server: EmbeddedServer,
):
    source = write_small_study(idle_server, "deep", n_files=2)
    deeply_nested(idle_server.local(source) / "deep.dcm", 3000)
    job = run_once(idle_server, new_job(idle_server, "folder:" + source))
    assert (job["status"], job["files_skipped"]) == ("DONE", 1), job["error"]
    assert job["error"].startswith("1 file(s) skipped (")
    assert len(idle_server.output_files("out", str(job["job_id"]))) == 2


def deflate_bomb(path: Path, declared: int = 2**30, meta_padding: int = 0) -> None:
    """A deflated CT file of about 1 MB declaring (and holding, once inflated) 1 GiB of pixels."""
    ds, body = small_ct("BOMB")
    pixels = struct.pack("<HH", 0x7FE0, 0x0010) + b"OB\0\0" + struct.pack("<I", declared)
    # After a full flush the deflater starts afresh, so a megabyte of zeros compresses to the
    # same bytes every time: compressed once, repeated (seconds less than deflating 1 GiB).
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    head = deflater.compress(body + pixels) + deflater.flush(zlib.Z_FULL_FLUSH)
    zeros = deflater.compress(b"\0" * 2**20) + deflater.flush(zlib.Z_FULL_FLUSH)
    data = head + zeros * (declared // 2**20) + deflater.flush()
    write_part10_bytes(path, DeflatedExplicitVRLittleEndian, ds, data, meta_padding)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for peak RSS")
def test_a_deflate_bomb_keeps_the_worker_under_256_mb(tmp_path: Path):
    with running_server(workers=1) as server:
        source = write_small_study(server, "bomb", n_files=1)
        bomb = server.local(source) / "bomb.dcm"
        deflate_bomb(bomb)
        assert bomb.stat().st_size < 2 * 2**20
        job_id = new_job(server, "folder:" + source)
        server.wait_for([job_id], timeout=60)
        job = call(server, "get_job", job_id=job_id).json()
        (process,) = server.worker_processes
        peak = peak_rss_mb(process.pid)
    assert (job["status"], job["files_skipped"]) == ("DONE", 1), job["error"]
    assert "inflating beyond" in job["error"]
    assert peak <= 256, f"worker peaked at {peak:.0f} MB"


@pytest.mark.parametrize("meta_padding", [0, 20_000])
def test_a_deflate_bomb_is_caught_also_behind_a_long_file_meta(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, meta_padding: int
):
    """The quick look at the file meta must not miss a deflated syntax pushed far back."""
    monkeypatch.setattr(headers, "MAX_INFLATED_BYTES", 2**20)
    path = tmp_path / "bomb.dcm"
    deflate_bomb(path, declared=8 * 2**20, meta_padding=meta_padding)
    fd = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(headers.Unusable, match="inflating beyond"):
            headers.read_header(fd)
    finally:
        os.close(fd)
