"""Job sources: what a `source_path` names and which local files it stands for.

A PATH job's `source_path` is `folder:<UNC>`, `fileselection:<UNC of a fileselection.txt>` or a bare
UNC path (as the original's examples send). Every file found is checked to lie inside its share.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from anonapi_server.shares import (
    PathRefused,
    ShareTable,
    UNCPath,
    contained,
    parse_unc,
    relative_parts,
)

FOLDER = "folder"
FILESELECTION = "fileselection"
BARE = "path"


@dataclass(frozen=True)
class SourceFile:
    """A file to process: its local path, its UNC path for messages, its place in the output."""

    local: Path
    unc: UNCPath
    relative: tuple[str, ...]


def split_source(source_path: str) -> tuple[str, UNCPath]:
    """The kind of source and its UNC path; PathRefused for anything that is not on a share."""
    kind, sep, rest = source_path.partition(":")
    if sep and kind in (FOLDER, FILESELECTION):
        return kind, parse_unc(rest)
    return BARE, parse_unc(source_path)


def normalise_source(table: ShareTable, source_path: str) -> str:
    """Check a source at job creation; returns it with a normalised UNC part."""
    kind, unc = split_source(source_path)
    table.local_root(unc)
    return str(unc) if kind == BARE else f"{kind}:{unc}"


def list_source_files(table: ShareTable, source_path: str) -> list[SourceFile]:
    """All files of a source, sorted, each verified to lie inside its share.

    PathRefused, with a message for the user who made the job, when the source cannot be used.
    """
    kind, unc = split_source(source_path)
    local = table.resolve(unc)
    if kind == FILESELECTION:
        return _selection_files(table, unc, local)
    if kind == BARE and local.is_file():
        return [SourceFile(local, unc, (local.name,))]
    if not local.is_dir():
        raise PathRefused(f"Source folder {unc} does not exist or cannot be read")
    root = table.local_root(unc).resolve()
    files = []
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        relative = path.relative_to(local).parts
        shown = unc.joinpath(*relative)
        files.append(SourceFile(contained(root, path, shown=str(shown)), shown, relative))
    return files


def _selection_files(table: ShareTable, unc: UNCPath, local: Path) -> list[SourceFile]:
    if not local.is_file():
        raise PathRefused(f"File selection {unc} does not exist")
    try:
        data = yaml.safe_load(local.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise PathRefused(f"File selection {unc} cannot be read: {e}") from e
    if not isinstance(data, dict) or not isinstance(data.get("selected_paths"), list):
        raise PathRefused(f"File selection {unc} has no list 'selected_paths'")
    root = table.local_root(unc).resolve()
    folder = local.parent
    real_folder = folder.resolve()
    files = []
    for entry in data["selected_paths"]:
        if entry is None:
            continue
        parts = relative_parts(str(entry))
        shown = UNCPath(unc.host, unc.share, unc.parts[:-1] + parts)
        try:
            real = contained(root, folder.joinpath(*parts), shown=str(shown))
        except PathRefused as e:
            raise PathRefused(f"File selection {unc}: {e}") from e
        if not real.is_file():
            raise PathRefused(f"File selection {unc} names {shown}, which does not exist")
        # The output layout must never climb out of the job folder, whatever '..' the file holds.
        base = real_folder if real.is_relative_to(real_folder) else root
        files.append(SourceFile(real, shown, real.relative_to(base).parts))
    return files
