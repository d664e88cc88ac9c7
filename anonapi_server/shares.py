r"""UNC paths a client sends, mapped to local folders through the share table.

Clients only ever speak UNC (`\\host\share\folder`), as they do to a real IDIS server. This
module is the one gate between such a path and the local file system: a path is refused unless it
names a known share, and a resolved path must stay inside that share's root, also after following
links.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from anonapi_server.errors import ServerError
from anonapi_server.store import Share


class PathRefused(ServerError, ValueError):
    """A path the server cannot use; the message says why, for the user who sent it.

    Not a UNC path on a known share, leading outside its share, or, for a job's source, not there
    or not readable: the job's owner gets the message either way, so one exception serves all.
    """


@dataclass(frozen=True)
class UNCPath:
    """A parsed UNC path: host, share and the folder parts below the share."""

    host: str
    share: str
    parts: tuple[str, ...]

    @property
    def root(self) -> str:
        return f"\\\\{self.host}\\{self.share}"

    def __str__(self) -> str:
        return "\\".join([self.root, *self.parts])

    def joinpath(self, *parts: str) -> UNCPath:
        return UNCPath(self.host, self.share, (*self.parts, *parts))


def parse_unc(path: str) -> UNCPath:
    """Parse `\\\\host\\share\\...` or `//host/share/...`; refuse anything else with a reason."""
    text = path.strip()
    if not text:
        raise PathRefused("The path is empty; expected a UNC path like \\\\host\\share\\folder")
    if not (text.startswith("\\\\") or text.startswith("//")):
        raise PathRefused(
            f"'{path}' is not a UNC path; expected \\\\host\\share\\folder "
            "(drive letters and local paths cannot be reached by the server)"
        )
    windows = PureWindowsPath(text)
    drive = windows.drive
    pieces = [p for p in drive.replace("/", "\\").split("\\") if p]
    if len(pieces) != 2 or pieces[0] in ("?", ".") or ":" in pieces[1]:
        raise PathRefused(f"'{path}' does not name a host and a share (\\\\host\\share\\...)")
    parts = tuple(p for p in windows.parts[1:] if p not in ("", "."))
    for part in parts:
        if part == "..":
            raise PathRefused(f"'{path}' contains '..'; paths must stay inside their share")
        if ":" in part or "\0" in part:
            raise PathRefused(f"'{path}' contains an invalid path part '{part}'")
    return UNCPath(pieces[0], pieces[1], parts)


class ShareTable:
    """The shares this server serves, looked up case-insensitively as Windows does."""

    def __init__(self, shares: Iterable[Share]):
        self._roots = {(s.host.lower(), s.name.lower()): Path(s.local_path) for s in shares}

    def local_root(self, unc: UNCPath) -> Path:
        root = self._roots.get((unc.host.lower(), unc.share.lower()))
        if root is None:
            known = ", ".join(f"\\\\{h}\\{s}" for h, s in sorted(self._roots)) or "none"
            raise PathRefused(f"'{unc.root}' is not a share on this server (known: {known})")
        return root

    def resolve(self, path: str | UNCPath) -> Path:
        """The local path for a UNC path; refused when it is not on a share or leaves it."""
        unc = parse_unc(path) if isinstance(path, str) else path
        root = self.local_root(unc)
        return contained(root.resolve(), root.joinpath(*unc.parts), shown=str(unc))

    def check(self, path: str) -> str:
        """Validate a client path now (at job creation) and return it normalised."""
        unc = parse_unc(path)
        self.local_root(unc)
        return str(unc)


def contained(real_root: Path, local: Path, *, shown: str) -> Path:
    """`local` resolved (links followed), refused when it ends up outside `real_root`.

    `real_root` comes resolved: a source folder checks each of its files against the same root.
    """
    real = local.resolve()
    if real != real_root and not real.is_relative_to(real_root):
        raise PathRefused(f"'{shown}' leads outside its share")
    return real


def relative_parts(text: str) -> tuple[str, ...]:
    """Split a relative path written with `\\` or `/` (selections come from Windows and Linux)."""
    return tuple(p for p in text.replace("\\", "/").split("/") if p not in ("", "."))
