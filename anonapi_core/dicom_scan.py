"""Finding DICOM files in study folders.

Study folders live on local disks, where a file check takes microseconds and a thread pool
only costs (GIL, queue and lock traffic), or on SMB shares, where every directory listing and
every file open is a network round trip and a pool overlaps the waits (the GIL is released
while waiting). So a scan starts on the calling thread and moves to a pool when its timings
show a share; each file is read once, for its first few hundred bytes only.
Paths are built as strings during the walk; relativising `Path` objects afterwards was a
large part of the original's cost.
"""

from __future__ import annotations

import fnmatch
import os
import queue
import re
import struct
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from anonapi_core.exceptions import SelectionError
from anonapi_core.selection import SELECTION_FILE_NAME

if TYPE_CHECKING:
    from concurrent.futures import Future

HEADER_SIZE = 256
"""Enough for the preamble, the magic and the first two data elements of a file without it."""

CHECK_CHUNK = 128
"""Files per check task: large enough that pool overhead is small, small enough to spread."""

MIN_SAMPLE = 16
"""Files checked before judging the check time; also the size of the first check task, so a
slow share is recognised after a few round trips rather than a whole chunk of them."""

SLOW_CHECK_SECONDS = 0.0005
"""Mean time per file check above which the scan moves to threads. A warm local check takes
about 5 us, a cold local one well under this; a check on a share takes a round trip or more."""

SLOW_LISTING_SECONDS = 0.02
"""Mean time per folder listing above which the scan moves to threads (a local listing of a
thousand entries takes about a millisecond)."""

_MAGIC_OFFSET = 128
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)

# Value representations, and those with a 2-byte reserved field and a 4-byte length (PS3.5 7.1.2).
_VRS = frozenset(
    b"AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL "
    b"UN UR US UT UV".split()
)
_LONG_VRS = frozenset(b"OB OD OF OL OV OW SQ UC UN UR UT UV".split())
_FIRST_GROUPS = (0x0002, 0x0008)  # a file starts with its meta header, or with the dataset
_MAX_FIRST_VALUE = 1024  # the first elements of both groups are short: UIDs, codes, a UL
_UNDEFINED_LENGTH = 0xFFFFFFFF


def is_dicom(path: str | os.PathLike) -> bool:
    """True if the file is DICOM: a Part-10 file (`DICM` after the 128-byte preamble), or a
    raw dataset without preamble whose first data elements are plausible group 0x0002 or
    0x0008 elements in implicit or explicit little endian. Unreadable files are not DICOM."""
    try:
        return is_dicom_header(read_header(path))
    except OSError:
        return False


def is_dicom_header(header: bytes) -> bool:
    """The check of `is_dicom` on the first `HEADER_SIZE` bytes of a file."""
    if header[_MAGIC_OFFSET : _MAGIC_OFFSET + 4] == b"DICM":
        return True
    first = _element_end(header, 0, previous=None)
    if first is None:
        return False
    end, tag = first
    if end + 8 > len(header):
        return True  # only one element fits in the header (or the file); it was plausible
    return _element_end(header, end, previous=tag) is not None


def _element_end(header: bytes, offset: int, previous: int | None) -> tuple[int, int] | None:
    """(end offset, tag) of a plausible data element at `offset`, else None."""
    if len(header) < offset + 8:
        return None
    group, element = struct.unpack_from("<HH", header, offset)
    tag = group << 16 | element
    if previous is None:
        if group not in _FIRST_GROUPS:
            return None
    elif tag <= previous or group not in (*_FIRST_GROUPS, previous >> 16):
        return None  # elements come in ascending tag order
    vr = header[offset + 4 : offset + 6]
    if vr in _VRS:
        if vr in _LONG_VRS:
            if header[offset + 6 : offset + 8] != b"\0\0" or len(header) < offset + 12:
                return None
            (length,) = struct.unpack_from("<I", header, offset + 8)
            start = offset + 12
        else:
            (length,) = struct.unpack_from("<H", header, offset + 6)
            start = offset + 8
    else:
        (length,) = struct.unpack_from("<I", header, offset + 4)
        start = offset + 8
    if length == _UNDEFINED_LENGTH or length % 2 or length > _MAX_FIRST_VALUE:
        return None
    if group == 0x0002 and element == 0 and length != 4:
        return None  # the meta group length is always a 4-byte UL
    return start + length, tag


def read_header(path: str | os.PathLike) -> bytes:
    """The first `HEADER_SIZE` bytes of a file (fewer if it is shorter)."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        return os.read(fd, HEADER_SIZE)
    finally:
        os.close(fd)


_NUMERIC_SUFFIX = re.compile(r"\.\d+")
_DICOM_SUFFIXES = (".dcm", ".dicom")


def looks_like_dicom(path: str | PurePath) -> bool:
    """The no-open heuristic (`--no-check-dicom`): the last suffix is `.dcm`, `.dicom`,
    numeric (`1.2.840.5`), or there is none. `info.xml`, `1.bak` do not look like DICOM."""
    name = re.split(r"[\\/]", str(path))[-1]
    dot = name.rfind(".")
    if dot <= 0:  # no suffix; a leading dot only makes a hidden name
        return True
    suffix = name[dot:]
    return suffix.lower() in _DICOM_SUFFIXES or bool(_NUMERIC_SUFFIX.fullmatch(suffix))


@dataclass
class FolderScan:
    """What a scan found in one folder: relative `/` paths, sorted."""

    folder: Path
    candidates: int = 0
    """Files found by the walk (after name filters), before any DICOM check."""
    dicom_files: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """`<relative path>: <reason>` for folders or files that could not be read."""


Progress = Callable[[int, int], None]
"""Called with (files done, files found so far): a scan of a slow share can take minutes."""


def find_files(
    root: Path,
    pattern: str = "*",
    recurse: bool = True,
    exclude: Sequence[str] = (),
    max_workers: int = 16,
) -> list[str]:
    """Files below `root` as sorted relative `/` paths, like `select add PATTERN`.

    `pattern` matches the file name (or the last path components if it has a `/`); `exclude`
    patterns match the relative path (`*` crosses `/`). Hidden files and folders and
    `fileselection.txt` files are never included. Unreadable folders raise SelectionError.
    """
    (scan,) = _scan(
        [Path(root)], pattern, recurse, exclude, False, None, max_workers, raise_errors=True
    )
    return scan.dicom_files


def find_dicom_files(
    folders: Iterable[Path],
    check_dicom: bool = True,
    progress: Progress | None = None,
    max_workers: int = 16,
    *,
    pattern: str = "*",
    recurse: bool = True,
    exclude: Sequence[str] = (),
) -> list[FolderScan]:
    """Scan study folders for DICOM files, one FolderScan per folder in the given order.

    `check_dicom` reads each file's header (`is_dicom`); otherwise the name heuristic
    `looks_like_dicom` decides. `progress(done, total)` is called from the calling thread as
    work completes: `total` is the number of files found so far and grows until the walk is
    done; `done` counts checked files (found files without `check_dicom`). Raising from
    `progress` cancels the scan. A folder that does not exist raises SelectionError before
    anything is scanned.
    """
    folders = [Path(f) for f in folders]
    for folder in folders:
        if not folder.is_dir():
            raise SelectionError(f"Folder not found: {folder}")
    scans = _scan(folders, pattern, recurse, exclude, check_dicom, progress, max_workers)
    if not check_dicom:
        for scan in scans:
            scan.dicom_files = [p for p in scan.dicom_files if looks_like_dicom(p)]
    return scans


def _scan(
    folders: list[Path],
    pattern: str,
    recurse: bool,
    exclude: Sequence[str],
    check: bool,
    progress: Progress | None,
    max_workers: int,
    raise_errors: bool = False,
) -> list[FolderScan]:
    """Walk all folders and, with `check`, check their files in chunks.

    The work starts on the calling thread, which is fastest on a local disk (a pool only adds
    GIL, queue and lock traffic to microsecond opens). The listings and checks are timed, and
    once they show the latency of a network share (`SLOW_CHECK_SECONDS` per file opened,
    `SLOW_LISTING_SECONDS` per folder listed) the remaining work moves to a thread pool,
    where the waits on the share overlap. Workers only do I/O; all bookkeeping happens in the
    calling thread, so no locks are needed and `progress` runs where the caller expects it.
    FolderScan.dicom_files receives the accepted files: every matching file without `check`.
    """
    matches = _name_filter(pattern, recurse, exclude)
    # without recursion, only the folders a pattern such as `a/*` names are listed
    max_depth = None if recurse else len(_pattern_parts(pattern)) - 1
    bases = [os.fspath(f) for f in folders]
    scans = [FolderScan(folder=f) for f in folders]
    tasks: deque[tuple[int, Callable, object]] = deque(
        (index, _list_dir, "") for index in range(len(folders))
    )
    latency = _Latency()
    total = done = 0
    probe_queued = False

    def handle(index: int, fn: Callable, result) -> None:
        nonlocal total, done, probe_queued
        scan = scans[index]
        if fn is _list_dir:
            files, subdirs, error = result
            if error and raise_errors:
                raise SelectionError(error)
            if error:
                scan.errors.append(error)
            tasks.extend(
                (index, _list_dir, rel)
                for rel in subdirs
                if max_depth is None or rel.count("/") < max_depth
            )
            if matches is not None:
                files = [rel for rel in files if matches(rel)]
            total += len(files)
            scan.candidates += len(files)
            if check:
                first = 0
                if not probe_queued and files:
                    # a small first check, run next: judges latency before the walk goes on
                    probe_queued = True
                    first = MIN_SAMPLE
                    tasks.appendleft((index, _check_files, files[:first]))
                tasks.extend(
                    (index, _check_files, files[start : start + CHECK_CHUNK])
                    for start in range(first, len(files), CHECK_CHUNK)
                )
            else:
                scan.dicom_files.extend(files)
                done += len(files)
        else:
            checked, accepted, errors = result
            scan.dicom_files.extend(accepted)
            scan.errors.extend(errors)
            done += checked
        if progress is not None:
            progress(done, total)

    while tasks and not latency.slow:
        index, fn, arg = tasks.popleft()
        started = time.perf_counter()
        result = fn(bases[index], arg)
        latency.add(fn, arg, time.perf_counter() - started)
        handle(index, fn, result)
    if tasks:
        _run_in_pool(tasks, bases, handle, max_workers)

    for scan in scans:
        scan.dicom_files.sort()
        scan.errors.sort()
    return scans


@dataclass
class _Latency:
    """Running averages of the time per file checked and per folder listed on this thread."""

    check_seconds: float = 0.0
    checked: int = 0
    listing_seconds: float = 0.0
    listed: int = 0
    slow: bool = False

    def add(self, fn: Callable, arg: object, seconds: float) -> None:
        if fn is _check_files:
            self.check_seconds += seconds
            self.checked += len(arg)  # type: ignore[arg-type]
        else:
            self.listing_seconds += seconds
            self.listed += 1
        self.slow = (
            self.checked >= MIN_SAMPLE and self.check_seconds > SLOW_CHECK_SECONDS * self.checked
        ) or (self.listed >= 2 and self.listing_seconds > SLOW_LISTING_SECONDS * self.listed)


def _run_in_pool(
    tasks: deque[tuple[int, Callable, object]],
    bases: list[str],
    handle: Callable[[int, Callable, object], None],
    max_workers: int,
) -> None:
    """Run the tasks, and those `handle` adds to `tasks`, in a thread pool until none are left."""
    # imported here: a scan of a local disk never needs it, so a CLI run does not load it
    from concurrent.futures import ThreadPoolExecutor

    results: queue.SimpleQueue = queue.SimpleQueue()
    pending = 0
    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        try:
            while tasks or pending:
                while tasks:
                    index, fn, arg = tasks.popleft()
                    future = pool.submit(fn, bases[index], arg)
                    future.add_done_callback(partial(_put_result, results, index, fn))
                    pending += 1
                index, fn, future = _next_result(results)
                pending -= 1
                handle(index, fn, future.result())
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _put_result(results: queue.SimpleQueue, index: int, fn: Callable, future: Future) -> None:
    results.put((index, fn, future))


def _next_result(results: queue.SimpleQueue):
    """Wait for a result in short slices: a blocking wait is not interruptible by Ctrl-C
    on Windows, a timed one is."""
    while True:
        try:
            return results.get(timeout=0.2)
        except queue.Empty:
            continue


def _list_dir(base: str, rel: str) -> tuple[list[str], list[str], str | None]:
    """Relative paths of the files and visible subfolders of `base/rel`, or the error."""
    files: list[str] = []
    subdirs: list[str] = []
    prefix = rel + "/" if rel else ""
    try:
        with os.scandir(os.path.join(base, rel) if rel else base) as entries:
            for entry in entries:
                name = entry.name
                if name.startswith("."):
                    continue
                try:  # files first: most entries are, and neither test needs a stat call
                    if entry.is_file():
                        if name != SELECTION_FILE_NAME:
                            files.append(prefix + name)
                    elif entry.is_dir(follow_symlinks=False):
                        subdirs.append(prefix + name)
                except OSError:
                    continue  # vanished or a dangling link: nothing to select
    except OSError as e:
        return files, subdirs, f"{rel or base}: {e.strerror or e}"
    return files, subdirs, None


def _check_files(base: str, rels: list[str]) -> tuple[int, list[str], list[str]]:
    accepted: list[str] = []
    errors: list[str] = []
    prefix = os.path.join(base, "")  # joined once: a join per file was a tenth of the check
    for rel in rels:
        try:
            header = read_header(prefix + rel)
        except OSError as e:
            errors.append(f"{rel}: {e.strerror or e}")
            continue
        if header[_MAGIC_OFFSET : _MAGIC_OFFSET + 4] == b"DICM" or is_dicom_header(header):
            accepted.append(rel)  # (the usual Part-10 file is decided without a call)
    return len(rels), accepted, errors


def _pattern_parts(pattern: str) -> list[str]:
    return [p for p in pattern.replace("\\", "/").split("/") if p] or ["*"]


def _name_filter(
    pattern: str, recurse: bool, exclude: Sequence[str]
) -> Callable[[str], bool] | None:
    """A predicate on relative `/` paths: matches `**/pattern` (or `pattern` without recurse)
    and no exclude pattern; None when every file matches."""
    parts = _pattern_parts(pattern)
    excludes = [re.compile(fnmatch.translate(x.replace("\\", "/"))) for x in exclude]
    if parts == ["*"] and recurse and not excludes:
        return None
    match_all = parts == ["*"]
    compiled = [re.compile(fnmatch.translate(os.path.normcase(p))) for p in parts]

    def matches(rel: str) -> bool:
        if any(x.match(rel) for x in excludes):
            return False
        if match_all and recurse:
            return True
        rel_parts = rel.split("/")
        if len(rel_parts) < len(parts) or (not recurse and len(rel_parts) != len(parts)):
            return False
        tail = rel_parts[len(rel_parts) - len(parts) :]
        return all(c.match(os.path.normcase(p)) for c, p in zip(compiled, tail, strict=True))

    return matches


def expand_wildcards(cwd: Path, args: Iterable[str]) -> list[Path]:
    """Folder arguments with `*` expanded to the matching folders below `cwd` (absolute,
    sorted); arguments without `*` are kept as typed. A pattern matching nothing adds
    nothing, as in the original (only `*` is special; `?` and `[` are literal)."""
    folders: list[Path] = []
    for arg in args:
        if "*" not in arg:
            folders.append(Path(arg))
            continue
        base, pattern = _split_at_wildcard(Path(cwd).absolute() / arg.replace("\\", "/"))
        pattern = re.sub(r"([?\[\]])", r"[\1]", pattern)
        folders.extend(sorted(p for p in base.glob(pattern) if p.is_dir()))
    return folders


def _split_at_wildcard(path: Path) -> tuple[Path, str]:
    """`/data/st*/x` -> (`/data`, `st*/x`): glob takes no absolute patterns, and starting
    below the fixed part saves listing folders that cannot match."""
    parts = path.parts
    first = next(i for i, part in enumerate(parts) if "*" in part)
    return Path(*parts[:first]), "/".join(parts[first:])
