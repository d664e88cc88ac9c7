r"""UNC paths: the only kind of path an IDIS server can resolve.

A server cannot see the user's `H:` drive or `/mnt/share`; it reads `\\server\share\...`. So
every source and destination path sent to a server must be UNC. Users type them with either
slash (`//server/share` is common on Linux and macOS); the server gets backslashes.

A path is UNC when it starts with two slashes or backslashes followed by a server name and a
share name. `\\server` alone, `\server\share`, `C:\x` and `/mnt/x` are not; nor are the Windows
device forms `\\?\C:\x` and `\\.\pipe\x`.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from anonapi_core.exceptions import UNCPathError

_UNC = re.compile(r"[\\/]{2}(?P<server>[^\\/]+)[\\/]+(?P<share>[^\\/]+)(?P<rest>.*)", re.S)
_SEPARATORS = re.compile(r"[\\/]+")
_WINDOWS_ANCHOR = re.compile(r"[A-Za-z]:|[\\/]")


def is_unc(path: str | PurePath) -> bool:
    r"""True for `\\server\share[\...]` and `//server/share[/...]`."""
    match = _UNC.match(str(path))
    return match is not None and match["server"] not in ("?", ".")


def normalise_unc(path: str | PurePath) -> str:
    r"""`//srv/share//a/./b/` -> `\\srv\share\a\b`; raises UNCPathError if not UNC or if `..`
    would climb out of the share."""
    text = str(path)
    if not is_unc(text):
        raise UNCPathError(f"'{text}' is not a UNC path (expected \\\\server\\share\\...)")
    match = _UNC.match(text)
    assert match is not None
    rest = _clean_parts(match["rest"], original=text)
    return "\\\\" + "\\".join([match["server"], match["share"], *rest])


def join_unc(root: str | PurePath, relative: str | PurePath) -> str:
    r"""Join a relative path (with `/` or `\`) to a UNC root: `join_unc('//s/sh', 'a/b')` is
    `\\s\sh\a\b`. Raises UNCPathError for a non-UNC root or an absolute `relative`."""
    text = str(relative)
    if _WINDOWS_ANCHOR.match(text):
        raise UNCPathError(f"'{text}' is not a relative path, cannot join it to '{root}'")
    base = normalise_unc(root)
    parts = _clean_parts(text, original=text)
    return "\\".join([base, *parts]) if parts else base


def _clean_parts(rest: str, *, original: str) -> list[str]:
    parts: list[str] = []
    for part in _SEPARATORS.split(rest):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise UNCPathError(f"'{original}' climbs out of its share with '..'")
            parts.pop()
            continue
        parts.append(part)
    return parts
