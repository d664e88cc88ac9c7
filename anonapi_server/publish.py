r"""Publishing a job's output: never deleting or overwriting anything this server did not write.

An attempt builds its output in a hidden folder `.<job_id>.<attempt>.partial` next to where it
will end up, and renames it to `<destination>\<job_id>` only when whole. Every folder this server
writes carries a marker file, `.anonapi-job.json`, naming the job and listing the files written.
So a rerun can tell its own earlier output (replaced: renamed aside, the new one renamed in, the
old one's listed files removed) from a folder of the same name that somebody else made, which
makes the job end in ERROR and stays untouched. Leftovers of a killed attempt are recognised by
their marker and removed when the server starts.
"""

from __future__ import annotations

import json
import logging
import re
import stat
from collections.abc import Sequence

from anonapi_server.confined import Folder, opened_folder
from anonapi_server.embedded import OUTPUT_MARKER
from anonapi_server.errors import ServerError
from anonapi_server.shares import PathRefused, ShareTable, parse_unc
from anonapi_server.store import Store

log = logging.getLogger(__name__)

MARKER = OUTPUT_MARKER
MAX_MARKER_BYTES = 64 * 1024 * 1024
_LEFTOVER = re.compile(r"^\.(\d+)\.(\d+)\.(partial|old)$")

Parts = tuple[str, ...]


class OutputConflict(ServerError):
    """The job's output folder exists and this server did not make it (or it was added to)."""


def partial_name(job_id: int, attempt: int) -> str:
    return f".{job_id}.{attempt}.partial"


def _marker(job_id: int, files: Sequence[Parts] | None) -> bytes:
    listed = None if files is None else ["/".join(parts) for parts in files]
    return json.dumps({"job_id": job_id, "files": listed}).encode()


def _read_marker(folder: Folder) -> dict | None:
    info = folder.entry(MARKER)
    if info is None or not stat.S_ISREG(info.st_mode):
        return None
    try:
        data = json.loads(folder.read_bytes(MARKER, MAX_MARKER_BYTES))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _is_plain_folder(parent: Folder, name: str) -> bool:
    info = parent.entry(name)
    attributes = getattr(info, "st_file_attributes", 0) if info else 0
    return info is not None and stat.S_ISDIR(info.st_mode) and not attributes & 0x400


def _marked_for(parent: Folder, name: str, job_id: int) -> dict | None:
    """The marker of folder `name` when it is a real folder marked as this job's."""
    if not _is_plain_folder(parent, name):
        return None
    with parent.sub(name) as folder:
        marker = _read_marker(folder)
    return marker if marker is not None and marker.get("job_id") == job_id else None


def start_output(destination: Folder, job_id: int, attempt: int) -> Folder:
    """The attempt's own hidden folder, new and marked; a leftover of ours is removed first.

    So are this job's earlier attempts' hidden folders, when marked as ours: an attempt is only
    given once the one before it has ended or lost its lease (its worker killed with its
    machine, say), so nothing is writing into them any more, and they would otherwise stay
    beside the published output until the server next starts.
    """
    for earlier in range(1, attempt):
        for kind in ("partial", "old"):
            _remove_leftover(destination, f".{job_id}.{earlier}.{kind}", job_id, earlier, kind)
    name = partial_name(job_id, attempt)
    if destination.entry(name) is not None:
        if _marked_for(destination, name, job_id) is None:
            raise OutputConflict(
                f"{destination.shown}\\{name} exists and was not made by this server; "
                "move or rename it, then reset the job"
            )
        destination.remove_tree(name)
    folder = destination.sub(name, create=True)
    folder.write_new(MARKER, _marker(job_id, None))
    return folder


def publish(destination: Folder, job_id: int, attempt: int, files: Sequence[Parts]) -> None:
    """Rename the attempt's folder to `<job_id>`, replacing only this job's earlier output."""
    partial = partial_name(job_id, attempt)
    with destination.sub(partial) as folder:
        folder.remove_file(MARKER)
        folder.write_new(MARKER, _marker(job_id, files))
    final = str(job_id)
    if destination.entry(final) is None:
        destination.rename(partial, final)
        return
    if not is_own_output(destination, final, job_id):
        raise OutputConflict(
            f"{destination.shown}\\{final} already exists and holds what this server did not "
            f"write for job {job_id}; move or rename it, then reset the job"
        )
    old = f".{job_id}.{attempt}.old"
    destination.rename(final, old)
    destination.rename(partial, final)
    remove_own_output(destination, old)


def list_added_file(output: Folder, job_id: int, parts: Parts) -> None:
    """Add a file written later into a published output folder (a released quarantined file)
    to its marker, so that a rerun still recognises the folder as this job's own.

    The new marker is written beside the old one and renamed over it: never a moment without.
    """
    marker = _read_marker(output)
    if marker is None or marker.get("job_id") != job_id:
        raise OutputConflict(f"{output.shown} is not marked as the output of job {job_id}")
    listed = [str(f) for f in marker.get("files") or []]
    temporary = f"{MARKER}.{job_id}.new"
    output.remove_file(temporary)
    output.write_new(temporary, _marker(job_id, [*(tuple(f.split("/")) for f in listed), parts]))
    output.replace(temporary, MARKER)


def is_own_output(parent: Folder, name: str, job_id: int) -> bool:
    """True when folder `name` holds exactly the files this server listed in it for the job."""
    marker = _marked_for(parent, name, job_id)
    if marker is None or not isinstance(marker.get("files"), list):
        return False
    listed = {tuple(str(f).split("/")) for f in marker["files"]}
    with parent.sub(name) as folder:
        found = set(folder.files_below())
    return found == listed | {(MARKER,)}


def remove_own_output(parent: Folder, name: str) -> None:
    """Remove the files the marker of folder `name` lists, then the folders they emptied.

    Anything else found there (put in since it was checked) stays, with its folders.
    """
    marker = _marked_for(parent, name, _job_of(name))
    listed = [tuple(str(f).split("/")) for f in (marker or {}).get("files") or []]
    with parent.sub(name) as folder:
        for parts in listed:
            try:
                with folder.walk(parts[:-1]) as where:
                    where.remove_file(parts[-1])
            except (OSError, PathRefused):
                continue
        for parts in sorted({p[:i] for p in listed for i in range(1, len(p))}, key=len)[::-1]:
            try:
                with folder.walk(parts[:-1]) as where:
                    where.remove_folder(parts[-1])
            except (OSError, PathRefused):
                continue
        folder.remove_file(MARKER)
    try:
        parent.remove_folder(name)
    except OSError:
        log.warning("kept a replaced output folder of job %s: it holds other files", name)


def _job_of(name: str) -> int:
    found = _LEFTOVER.match(name)
    return int(found.group(1)) if found else int(name)


def remove_leftovers(store: Store) -> None:
    """Remove the hidden folders of attempts that can no longer finish (start-up clean-up).

    Only folders marked as ours, of attempts that are not the current, leased one of their job:
    a worker on another machine may be building one right now.
    """
    table = ShareTable(store.mounted_shares())  # where this host mounts them
    live = store.live_attempts()
    for destination in store.destinations():
        try:
            unc = parse_unc(destination)
            root = table.local_root(unc).resolve()
            local = table.resolve(unc)
        except (PathRefused, OSError):
            continue
        if not local.is_dir() or not local.is_relative_to(root):
            continue
        try:
            with opened_folder(root, local.relative_to(root).parts, unc.root) as folder:
                _remove_leftovers_in(folder, live)
        except (OSError, PathRefused) as e:
            log.warning("could not clean up unfinished output: %s", type(e).__name__)


def _remove_leftovers_in(folder: Folder, live: set[tuple[int, int]]) -> None:
    for name in folder.names():
        found = _LEFTOVER.match(name)
        if found is None:
            continue
        job_id, attempt, kind = int(found.group(1)), int(found.group(2)), found.group(3)
        if (job_id, attempt) not in live:
            _remove_leftover(folder, name, job_id, attempt, kind)


def _remove_leftover(folder: Folder, name: str, job_id: int, attempt: int, kind: str) -> None:
    """Remove the hidden folder `name` of an attempt that ended unfinished, if marked as ours."""
    if _marked_for(folder, name, job_id) is None:
        return
    if kind == "partial":
        folder.remove_tree(name)
    else:
        remove_own_output(folder, name)
    log.info("removed unfinished output of job %s (attempt %s)", job_id, attempt)
