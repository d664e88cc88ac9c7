"""File access confined to a share at the moment it happens, not only when a job starts.

A job's paths are checked when it starts, but files are opened later; whoever can write to the
share could meanwhile swap a folder for a link to somewhere else (TOCTOU). So every folder is
opened one component at a time, relative to the folder above it, refusing links (`O_NOFOLLOW`),
and every file is opened or created relative to its opened folder. What the engine then reads or
writes is named through the open descriptor (`/proc/self/fd/N`), so the name cannot be re-resolved
to another place.

Where the OS has no descriptor-relative calls (Windows), each component is checked not to be a
link or junction (a reparse point) right before use: a much shorter window, and the only one the
platform allows without its native API.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from anonapi_server.shares import PathRefused

_DIR_FLAGS = getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | os.O_RDONLY
_BINARY = getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
USE_FDS = (
    hasattr(os, "O_NOFOLLOW")
    and hasattr(os, "O_DIRECTORY")
    and os.open in os.supports_dir_fd
    and os.scandir in os.supports_fd
)
_PROC_FD = Path("/proc/self/fd")
_CAN_NAME_DESCRIPTORS = USE_FDS and _PROC_FD.is_dir()  # Linux
_REPARSE = getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0x400)
_LINK_ERRORS = (errno.ELOOP, errno.ENOTDIR, getattr(errno, "EMLINK", errno.ELOOP))


def _refused(shown: str) -> PathRefused:
    return PathRefused(f"'{shown}' leads outside its share (a link was put in its path)")


class Folder:
    """An opened folder; everything below it is reached relative to it."""

    def __init__(self, path: Path, fd: int | None, shown: str):
        self.path, self.fd, self.shown = path, fd, shown

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open_root(cls, root: Path, shown: str) -> Folder:
        """A share's root folder (configured by the admin, so it may itself be a link)."""
        fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)) if USE_FDS else None
        return cls(root, fd, shown)

    def sub(self, name: str, *, create: bool = False) -> Folder:
        """The folder `name` inside this one, refused when it is a link; created if asked."""
        shown = f"{self.shown}\\{name}"
        if create:
            with suppress(FileExistsError):
                if self.fd is not None:
                    os.mkdir(name, dir_fd=self.fd)
                else:
                    (self.path / name).mkdir()
        if self.fd is None:
            path = self.path / name
            _no_reparse_point(path, shown)
            if not path.is_dir():
                raise PathRefused(f"'{shown}' is not a folder")
            return Folder(path, None, shown)
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=self.fd)
        except OSError as e:
            if e.errno in _LINK_ERRORS:
                raise _refused(shown) from e
            raise
        return Folder(self.path / name, fd, shown)

    def walk(self, parts: tuple[str, ...], *, create: bool = False) -> Folder:
        """The folder `parts` below this one, each component opened as in `sub`."""
        folder = self
        for part in parts:
            deeper = folder.sub(part, create=create)
            if folder is not self:
                folder.close()
            folder = deeper
        return folder

    def open_file(self, name: str, *, create: bool = False) -> int:
        """A descriptor of the file `name`: read-only, or created new (never an existing one)."""
        flags = _BINARY | getattr(os, "O_NOFOLLOW", 0)
        flags |= (os.O_WRONLY | os.O_CREAT | os.O_EXCL) if create else os.O_RDONLY
        shown = f"{self.shown}\\{name}"
        try:
            if self.fd is not None:
                return os.open(name, flags, 0o644, dir_fd=self.fd)
            _no_reparse_point(self.path / name, shown, missing_ok=create)
            return os.open(self.path / name, flags, 0o644)
        except OSError as e:
            if e.errno in _LINK_ERRORS:
                raise _refused(shown) from e
            raise

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> Folder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- entries -------------------------------------------------------------------------

    def entry(self, name: str) -> os.stat_result | None:
        """lstat of `name` (links are not followed), None when it does not exist."""
        try:
            if self.fd is not None:
                return os.stat(name, dir_fd=self.fd, follow_symlinks=False)
            return os.lstat(self.path / name)
        except FileNotFoundError:
            return None

    def names(self) -> list[str]:
        target = self.fd if self.fd is not None else self.path
        with os.scandir(target) as entries:
            return sorted(e.name for e in entries)

    def files_below(self) -> Iterator[tuple[str, ...]]:
        """Relative parts of every file below this folder; links count as files, not followed."""
        for name in self.names():
            info = self.entry(name)
            if info is not None and stat.S_ISDIR(info.st_mode) and not _is_link(info):
                with self.sub(name) as folder:
                    for parts in folder.files_below():
                        yield (name, *parts)
            else:
                yield (name,)

    def read_bytes(self, name: str, limit: int) -> bytes:
        fd = self.open_file(name)
        with os.fdopen(fd, "rb") as f:
            return f.read(limit)

    def write_new(self, name: str, data: bytes) -> None:
        fd = self.open_file(name, create=True)
        with os.fdopen(fd, "wb") as f:
            f.write(data)

    def rename(self, name: str, new_name: str) -> None:
        if self.fd is not None:
            os.rename(name, new_name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        else:
            os.rename(self.path / name, self.path / new_name)

    def replace(self, name: str, new_name: str) -> None:
        """Rename `name` to `new_name`, replacing that file in one step (also on Windows)."""
        if self.fd is not None:
            os.replace(name, new_name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        else:
            os.replace(self.path / name, self.path / new_name)

    def remove_file(self, name: str) -> None:
        with suppress(FileNotFoundError):
            if self.fd is not None:
                os.unlink(name, dir_fd=self.fd)
            else:
                os.unlink(self.path / name)

    def remove_folder(self, name: str) -> None:
        """Remove an empty folder."""
        if self.fd is not None:
            os.rmdir(name, dir_fd=self.fd)
        else:
            os.rmdir(self.path / name)

    def remove_tree(self, name: str) -> None:
        """Remove the folder `name` and what is in it, never following a link out of it."""
        if self.fd is not None:
            shutil.rmtree(name, dir_fd=self.fd)
        else:
            _no_reparse_point(self.path / name, f"{self.shown}\\{name}")
            shutil.rmtree(self.path / name)

    def name_for(self, fd: int, name: str) -> str:
        """A path the engine can open that names exactly the opened file `fd` (`name` when the
        OS cannot name a descriptor: then it is this folder's path joined with `name`)."""
        if self.fd is not None and _CAN_NAME_DESCRIPTORS:
            return str(_PROC_FD / str(fd))
        return str(self.path / name)


def _is_link(info: os.stat_result) -> bool:
    attributes = getattr(info, "st_file_attributes", 0)
    return stat.S_ISLNK(info.st_mode) or bool(attributes & _REPARSE)


def _no_reparse_point(path: Path, shown: str, *, missing_ok: bool = False) -> None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        if missing_ok:
            return
        raise
    if _is_link(info):
        raise _refused(shown)


@contextmanager
def opened_folder(root: Path, parts: tuple[str, ...], shown: str, *, create: bool = False):
    """The folder `parts` below a share's root, opened component by component."""
    with Folder.open_root(root, shown) as top:
        folder = top.walk(parts, create=create)
        try:
            yield folder
        finally:
            if folder is not top:
                folder.close()
