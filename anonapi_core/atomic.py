"""Atomic file writes: a reader sees the old file or the new one, never half of either.

Users keep settings, batches and selections on network shares and press Ctrl-C; a torn
`.anonbatch` would lose job ids. So every write goes to a temporary file in the same folder
(same filesystem, so the rename is atomic), is flushed to disk, and then replaces the target.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import uuid
from pathlib import Path

# Windows refuses to replace a file that another process (a virus scanner, the indexer, Excel)
# holds open for a moment; those locks are brief, so a few short retries ride them out.
_REPLACE_RETRIES = 5
_REPLACE_DELAY_S = 0.05


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write `data` to `path` atomically.

    The temporary file is created with the default permissions (umask applies), or with
    those of the file it replaces, so a batch on a shared folder stays readable by colleagues.
    `mode`, when given, wins (settings holding a token use 0o600). On any failure the old file
    is left as it was and the temporary file is removed; the OSError propagates.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    if mode is None:
        # a new file keeps mode None: os.open's default below lets the umask decide
        with contextlib.suppress(FileNotFoundError):
            mode = path.stat().st_mode & 0o777
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666 if mode is None else mode)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        if mode is not None and sys.platform != "win32":
            os.chmod(tmp, mode)  # os.open's mode is filtered by the umask; an explicit mode is not
        _replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(
    path: Path,
    text: str,
    *,
    encoding: str = "utf-8",
    newline: str | None = None,
    mode: int | None = None,
) -> None:
    """Write `text` atomically; `newline` as for `open()`: None writes the platform's line end."""
    if newline is None:
        newline = os.linesep
    if newline not in ("", "\n"):
        text = text.replace("\n", newline)
    atomic_write_bytes(path, text.encode(encoding), mode=mode)


def _replace(tmp: Path, target: Path) -> None:
    for attempt in range(_REPLACE_RETRIES):
        try:
            os.replace(tmp, target)
            return
        except PermissionError:
            if sys.platform != "win32" or attempt == _REPLACE_RETRIES - 1:
                raise
            time.sleep(_REPLACE_DELAY_S * (attempt + 1))


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); Windows has no directory handles to sync."""
    if sys.platform == "win32":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some network filesystems refuse fsync on directories; the data itself is synced
    finally:
        os.close(fd)
