"""Reading and writing the user's YAML files (settings, `.anonbatch`) with one-line errors.

The original wrote these with PyYAML's defaults (sorted keys, block style, ASCII with escapes)
and read them with the platform encoding, so a file written here stays ASCII and a file
written by the original on Windows (cp1252) still reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from anonapi_core.atomic import atomic_write_text
from anonapi_core.exceptions import PersistenceError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) first; files the original wrote on Windows are cp1252."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


# Settings and batches are a few kB; a bigger file is not one of ours and is not read into memory.
MAX_YAML_BYTES = 1024 * 1024


def _refuse_aliases(text: str, source: Path, error: type[PersistenceError]) -> None:
    """Our files never use YAML anchors; refusing aliases stops "billion laughs" files whose
    few lines expand to gigabytes once a value is turned into text."""
    if "*" not in text:
        return
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            mark = event.start_mark
            where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise error(f"{source}{where}: YAML aliases (*name) are not allowed in this file")


def parse_yaml(text: str, source: Path, error: type[PersistenceError]) -> Any:
    """Parse YAML; a syntax error becomes `error` with the file, line and column."""
    try:
        _refuse_aliases(text, source, error)
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = e.problem or e.context or "invalid YAML"
        raise error(f"{source}{where}: {problem}") from None
    except yaml.YAMLError as e:
        raise error(f"{source}: {e}") from None


def read_yaml(path: Path, error: type[PersistenceError]) -> Any:
    """Read and parse a YAML file; unreadable or invalid -> `error` naming the file."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_YAML_BYTES + 1)
    except OSError as e:
        raise error(f"Cannot read {path}: {e.strerror or e}") from None
    if len(data) > MAX_YAML_BYTES:
        raise error(f"{path}: larger than {MAX_YAML_BYTES // 1024} kB; this is not such a file")
    return parse_yaml(decode_text(data), path, error)


def dump_yaml(data: Any) -> str:
    """YAML in the original's shape: sorted keys, block style, ASCII only."""
    return yaml.dump(data, Dumper=_Dumper, default_flow_style=False, sort_keys=True)


def write_yaml(path: Path, data: Any, *, mode: int | None = None) -> None:
    """Atomically write `data` as YAML; an OSError becomes PersistenceError naming the file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, dump_yaml(data), mode=mode)
    except OSError as e:
        raise PersistenceError(f"Cannot write {path}: {e.strerror or e}") from None
