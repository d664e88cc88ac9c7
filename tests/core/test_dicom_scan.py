"""DICOM detection (with and without preamble), the name heuristic, folder walks and scans."""

import io
import random
import threading
import time
from pathlib import Path, PureWindowsPath

import pytest

from anonapi_core import dicom_scan
from anonapi_core.dicom_scan import (
    expand_wildcards,
    find_dicom_files,
    find_files,
    is_dicom,
    is_dicom_header,
    looks_like_dicom,
)
from anonapi_core.exceptions import SelectionError

DICOM_IN_TEST_DIR = ["1-SR-9001/1", "2.0-CT-1/1", "2.0-CT-1/2"]


@pytest.fixture(scope="module")
def part10(corpus: Path) -> bytes:
    return (corpus / "original-fixtures/test_selection/test_is_dicom/dicom").read_bytes()


@pytest.fixture
def tree(tmp_path: Path, part10: bytes) -> Path:
    """Two DICOM files, a text file, hidden entries and selection files at two depths."""
    root = tmp_path / "study"
    for rel, data in {
        "a/1": part10,
        "a/2.dcm": part10,
        "b/notes.txt": b"hello",
        ".hidden/3": part10,
        ".dotfile": part10,
        "fileselection.txt": b"description: x\n",
        "b/fileselection.txt": b"description: x\n",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


@pytest.mark.parametrize("relative", ["test_selection/test_dir", "test_cli/test_dir"])
def test_original_test_dir_has_five_candidates_of_which_three_are_dicom(corpus, relative):
    folder = corpus / "original-fixtures" / relative
    assert len(find_files(folder)) == 5
    (scan,) = find_dicom_files([folder])
    assert scan.candidates == 5
    assert scan.dicom_files == DICOM_IN_TEST_DIR
    assert scan.errors == []


def test_is_dicom_on_the_originals_fixtures(corpus: Path):
    folder = corpus / "original-fixtures/test_selection/test_is_dicom"
    assert is_dicom(folder / "dicom")
    assert not is_dicom(folder / "not_dicom")  # 2 MB of zeros


def test_files_without_preamble_are_dicom(tmp_path: Path, part10: bytes):
    import pydicom
    from pydicom.dataset import Dataset

    dataset = Dataset()
    dataset.update(pydicom.dcmread(io.BytesIO(part10)))
    implicit = io.BytesIO()
    dataset.save_as(implicit, implicit_vr=True, little_endian=True, enforce_file_format=False)

    meta_group_end = 132 + 12 + int.from_bytes(part10[140:144], "little")  # + group length
    for name, data in {
        "meta_first": part10[132:],  # explicit LE, starts with (0002,0000) UL
        "dataset_explicit": part10[meta_group_end:],  # starts with (0008,0005) CS
        "dataset_implicit": implicit.getvalue(),
    }.items():
        (tmp_path / name).write_bytes(data)
        assert is_dicom(tmp_path / name), name


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"DICM",
        b"\x08\x00",
        b"\0" * 4096,
        b"PK\x03\x04" + b"\0" * 300,
        b"\x89PNG\r\n\x1a\n" + b"\0" * 300,
        b"some text that goes on and on" * 20,
        b"\x08\x00\x05\x00CS\x0b\x00ISO_IR 100",  # odd length
        b"\x02\x00\x00\x00UL\x08\x00" + b"\0" * 200,  # meta group length that is not 4 bytes
        b"\x08\x00\x05\x00CS\x0a\x00ISO_IR 100" + b"\x00\x00\x00\x00" * 4,  # then a tag 0
        b"\x08\x00\x05\x00\xff\xff\xff\xff" + b"\0" * 200,  # undefined length
    ],
)
def test_non_dicom_content_is_refused(data: bytes):
    assert not is_dicom_header(data)


def test_random_bytes_are_not_taken_for_dicom():
    rng = random.Random(20260101)
    headers = [rng.randbytes(256) for _ in range(20_000)]
    # force the first tag into a DICOM group, the worst case for the check
    forced = [bytes([8, 0]) + h[2:] for h in headers[:2000]]
    assert not any(is_dicom_header(h) for h in headers + forced)


def test_unreadable_files_are_not_dicom(tmp_path: Path):
    assert not is_dicom(tmp_path / "missing")
    assert not is_dicom(tmp_path)  # a folder


@pytest.mark.parametrize(
    "path",
    [
        "./file1.dcm",
        "file2.dcm",
        "long.file.name_.dicom",
        "1232.3.4.43.5",
        "RAW134.234.2353555",
        "RAW134.234.2353555.123",
        PureWindowsPath(r"D:\something\file2.dicom"),
        r"D:\something\FILE2.DCM",
        "1",
        "/path/lotsoflettersnonumbers",
        "/path/thing/2",
    ],
)
def test_looks_like_dicom(path):
    assert looks_like_dicom(path)


@pytest.mark.parametrize(
    "path",
    [
        "/path/thing/info.xml",
        "dicom.txt",
        "foo.doc",
        PureWindowsPath(r"C:\athing.txt"),
        "1.bak",
        "scan.raw",
        "img.jpg",
    ],
)
def test_does_not_look_like_dicom(path):
    assert not looks_like_dicom(path)


def test_walk_skips_hidden_entries_and_every_fileselection(tree: Path):
    assert find_files(tree) == ["a/1", "a/2.dcm", "b/notes.txt"]


@pytest.mark.parametrize(
    "pattern, recurse, exclude, expected",
    [
        ("*.dcm", True, [], ["a/2.dcm"]),
        ("a/*", True, [], ["a/1", "a/2.dcm"]),
        ("*", False, [], []),
        ("a/*", False, [], ["a/1", "a/2.dcm"]),
        ("*", True, ["*.txt"], ["a/1", "a/2.dcm"]),
        ("*", True, ["a*"], ["b/notes.txt"]),
    ],
)
def test_find_files_patterns(tree: Path, pattern, recurse, exclude, expected):
    assert find_files(tree, pattern, recurse=recurse, exclude=exclude) == expected


def test_scan_with_and_without_opening_files(tree: Path):
    (checked,) = find_dicom_files([tree])
    assert (checked.candidates, checked.dicom_files) == (3, ["a/1", "a/2.dcm"])
    (named,) = find_dicom_files([tree], check_dicom=False)
    assert (named.candidates, named.dicom_files) == (3, ["a/1", "a/2.dcm"])


def test_scan_of_many_folders_keeps_their_order_and_reports_progress(tmp_path: Path, part10: bytes):
    folders = []
    for i in range(5):
        folder = tmp_path / f"study{i}"
        for j in range(dicom_scan.CHECK_CHUNK + i):
            (folder / "s" / str(j)).parent.mkdir(parents=True, exist_ok=True)
            (folder / "s" / str(j)).write_bytes(part10 if j % 2 else b"x")
        folders.append(folder)
    calls = []
    scans = find_dicom_files(reversed(folders), progress=lambda d, t: calls.append((d, t)))
    assert [s.folder for s in scans] == folders[::-1]
    assert [s.candidates for s in scans] == [dicom_scan.CHECK_CHUNK + i for i in range(5)][::-1]
    assert [len(s.dicom_files) for s in scans] == [
        (dicom_scan.CHECK_CHUNK + i) // 2 for i in range(5)
    ][::-1]
    total = sum(s.candidates for s in scans)
    assert calls[-1] == (total, total)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_raising_from_progress_cancels_the_scan(tree: Path):
    def stop(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        find_dicom_files([tree], progress=stop)


def test_missing_folder_is_refused_before_scanning(tmp_path: Path):
    with pytest.raises(SelectionError, match="Folder not found"):
        find_dicom_files([tmp_path / "nope"])


def test_files_that_cannot_be_read_are_reported(tree: Path, monkeypatch):
    real = dicom_scan.read_header

    def flaky(path):
        if path.endswith("2.dcm"):
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(dicom_scan, "read_header", flaky)
    (scan,) = find_dicom_files([tree])
    assert scan.dicom_files == ["a/1"]
    assert scan.errors == ["a/2.dcm: Permission denied"]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("*", ["folder1A", "folder1B", "folder2C"]),
        ("*A", ["folder1A"]),
        ("folder1*", ["folder1A", "folder1B"]),
        ("*/subfolder*", ["folder1A/subfolderA", "folder1B/subfolderB", "folder2C/subfolderC"]),
        ("nonexistant/*", []),
        ("**/subfolderB", ["folder1B/subfolderB"]),
    ],
)
def test_wildcards_expand_to_folders(corpus: Path, value: str, expected: list[str]):
    cwd = corpus / "original-fixtures" / "test_cli_parameters"
    assert expand_wildcards(cwd, [value]) == [cwd / e for e in expected]


def test_arguments_without_wildcards_are_kept_as_typed(tmp_path: Path):
    assert expand_wildcards(tmp_path, ["folder1A", "x?[y]"]) == [Path("folder1A"), Path("x?[y]")]


def test_absolute_wildcard_arguments_expand(corpus: Path, tmp_path: Path):
    cwd = corpus / "original-fixtures" / "test_cli_parameters"
    assert expand_wildcards(tmp_path, [str(cwd / "folder1*")]) == [
        cwd / "folder1A",
        cwd / "folder1B",
    ]


def test_progress_completes_without_opening_files(tree: Path):
    calls = []
    find_dicom_files([tree], check_dicom=False, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (3, 3)


@pytest.fixture
def studies(tmp_path: Path, part10: bytes) -> list[Path]:
    """Two study folders of 40 DICOM files each: more than one check task per folder."""
    folders = [tmp_path / f"study{i}" for i in range(2)]
    for folder in folders:
        folder.mkdir()
        for n in range(40):
            (folder / f"{n:02d}.dcm").write_bytes(part10)
    return folders


def _threads_that_check(monkeypatch, delay: float) -> set[int]:
    """Record which threads read headers, each read taking at least `delay` seconds."""
    real = dicom_scan.read_header
    threads: set[int] = set()

    def recording(path):
        threads.add(threading.get_ident())
        time.sleep(delay)
        return real(path)

    monkeypatch.setattr(dicom_scan, "read_header", recording)
    return threads


def test_scan_of_slow_files_moves_to_threads(studies: list[Path], monkeypatch):
    threads = _threads_that_check(monkeypatch, delay=4 * dicom_scan.SLOW_CHECK_SECONDS)
    scans = find_dicom_files(studies)
    assert threads - {threading.get_ident()}
    assert [len(s.dicom_files) for s in scans] == [40, 40]


def test_scan_of_fast_files_stays_on_the_calling_thread(studies: list[Path], monkeypatch):
    # "fast" is judged against the thresholds; on a loaded machine a real header read can take
    # longer than 0.5 ms, so the thresholds are raised far above any read of a local file.
    monkeypatch.setattr(dicom_scan, "SLOW_CHECK_SECONDS", 1.0)
    monkeypatch.setattr(dicom_scan, "SLOW_LISTING_SECONDS", 10.0)
    threads = _threads_that_check(monkeypatch, delay=0)
    scans = find_dicom_files(studies)
    assert threads == {threading.get_ident()}
    assert [len(s.dicom_files) for s in scans] == [40, 40]
