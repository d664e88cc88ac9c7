"""Job sources: what a `source_path` names and which local files it stands for.

A PATH job's `source_path` is `folder:<UNC>`, `fileselection:<UNC of a fileselection.txt>` or a bare
UNC path (as the original's examples send). Every file found is checked to lie inside its share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from anonapi_server.confined import opened_folder
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


MAX_SELECTION_BYTES = 16 * 1024 * 1024  # ~100,000 paths; a selection is read whole


class _NoAliasLoader(yaml.SafeLoader):
    """PyYAML's safe loader refusing aliases: a few hundred bytes of nested aliases expand to
    gigabytes (a 'billion laughs'), and a file selection has no use for them."""

    def compose_node(self, parent, index):  # noqa: ANN001, ANN201 - PyYAML's signature
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in a file selection", event.start_mark
            )
        return super().compose_node(parent, index)


@dataclass(frozen=True)
class SourceFile:
    """A file to process: its local path (links resolved), the resolved root of its share, and
    its UNC path for messages to the job's owner.

    `data`: a PACS instance still in memory (see `pacs.streaming`): its bytes are the file, and
    nothing exists at `local`, which only names it."""

    local: Path
    root: Path
    unc: UNCPath
    data: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def parts(self) -> tuple[str, ...]:
        """Where the file lies below its share's root: what a confined open walks."""
        return self.local.relative_to(self.root).parts


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


def source_folder(table: ShareTable, source_path: str) -> Path:
    """The local folder a source reads from, links resolved; PathRefused when it leaves its share.

    A fileselection's folder, or a single file's, counts as its source folder.
    """
    kind, unc = split_source(source_path)
    source = table.resolve(unc)
    if kind == FILESELECTION or (kind == BARE and source.is_file()):
        return source.parent
    return source


def list_source_files(table: ShareTable, source_path: str) -> list[SourceFile]:
    """All files of a source, sorted, each verified to lie inside its share.

    PathRefused, with a message for the user who made the job, when the source cannot be used.
    """
    kind, unc = split_source(source_path)
    local = table.resolve(unc)
    if kind == FILESELECTION:
        return _selection_files(table, unc, local)
    root = table.local_root(unc).resolve()
    if kind == BARE and local.is_file():
        return [SourceFile(local, root, unc)]
    if not local.is_dir():
        raise PathRefused(f"Source folder {unc} does not exist or cannot be read")
    files = []
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        shown = unc.joinpath(*path.relative_to(local).parts)
        files.append(SourceFile(contained(root, path, shown=str(shown)), root, shown))
    return files


def _selection_files(table: ShareTable, unc: UNCPath, local: Path) -> list[SourceFile]:
    if not local.is_file():
        raise PathRefused(f"File selection {unc} does not exist")
    root = table.local_root(unc).resolve()
    try:
        with opened_folder(root, local.parent.relative_to(root).parts, unc.root) as where:
            raw = where.read_bytes(local.name, MAX_SELECTION_BYTES + 1)
        if len(raw) > MAX_SELECTION_BYTES:
            raise PathRefused(
                f"File selection {unc} is larger than {MAX_SELECTION_BYTES // 2**20} MB"
            )
        data = yaml.load(raw.decode("utf-8"), Loader=_NoAliasLoader)  # noqa: S506 - safe loader
    except (OSError, UnicodeDecodeError) as e:
        raise PathRefused(f"File selection {unc} cannot be read: {type(e).__name__}") from e
    except yaml.YAMLError as e:
        raise PathRefused(f"File selection {unc} is not valid: {_first_line(e)}") from e
    if not isinstance(data, dict) or not isinstance(data.get("selected_paths"), list):
        raise PathRefused(f"File selection {unc} has no list 'selected_paths'")
    folder = local.parent
    files = []
    for entry in data["selected_paths"]:
        if entry is None:
            continue
        parts = relative_parts(str(entry))
        shown = UNCPath(unc.host, unc.share, unc.parts[:-1] + parts)
        try:
            real = contained(root, folder.joinpath(*parts), shown=str(shown))
            exists = real.is_file()
        except PathRefused as e:
            raise PathRefused(f"File selection {unc}: {e}") from e
        except OSError:  # e.g. a name too long for the file system
            exists = False
        if not exists:
            raise PathRefused(f"File selection {unc} names {shown}, which does not exist")
        files.append(SourceFile(real, root, shown))
    return files


def _first_line(error: yaml.YAMLError) -> str:
    """A YAML error's problem and where, without the quoted file content PyYAML adds."""
    problem = getattr(error, "problem", None) or type(error).__name__
    mark = getattr(error, "problem_mark", None)
    return f"{problem} (line {mark.line + 1})" if mark is not None else str(problem)
