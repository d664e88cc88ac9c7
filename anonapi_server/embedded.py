r"""A whole embedded server in one call: `running_server()`, for tests, the demo and notebooks.

A real server on a free loopback port, in a temporary (or given) home, with a registered user and
token and the share `\\localhost\data`. Cheap to import (no pytest, no server stack until a
server starts): `anonapi_server.testing` re-exports it as a pytest plugin.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import Any

FINAL_STATUSES = frozenset({"DONE", "ERROR"})
OUTPUT_MARKER = ".anonapi-job.json"  # in every output folder the server writes: see publish


@dataclass
class EmbeddedServer:
    """A running embedded server and how to reach it."""

    url: str
    user_name: str
    token: str
    home: Path
    share_root: Path
    unc_root: str
    _handle: Any

    @property
    def store(self) -> Any:
        """The server's job store (anonapi_server.store.Store), for inspection."""
        return self._handle.store

    @property
    def worker_processes(self) -> list[Any]:
        """The worker processes (e.g. to kill one and watch its job recover)."""
        return self._handle.processes

    def unc(self, *parts: str) -> str:
        """UNC path of a file or folder under the share, e.g. `unc("in", "study1")`."""
        return "\\".join([self.unc_root, *parts])

    def local(self, unc: str) -> Path:
        """The local path under the share of a UNC path below `unc_root`."""
        relative = PureWindowsPath(unc.replace("/", "\\")).relative_to(self.unc_root)
        return self.share_root.joinpath(*relative.parts)

    def output_files(self, *parts: str) -> list[Path]:
        """The files a job wrote below the share folder `parts` (e.g. `"out", "7"`), sorted,
        without the marker file the server keeps in every output folder."""
        folder = self.share_root.joinpath(*parts)
        return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != OUTPUT_MARKER)

    def wait_for(
        self,
        job_ids: Iterable[int | str],
        statuses: Iterable[str] = FINAL_STATUSES,
        timeout: float = 60,
    ) -> dict[int, str]:
        """Poll the store until every job has one of `statuses`; return each job's status."""
        ids = [int(i) for i in job_ids]
        wanted = set(statuses)
        deadline = time.monotonic() + timeout
        while True:
            found = self.store.job_statuses(ids)
            if len(found) == len(ids) and set(found.values()) <= wanted:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"Jobs not in {sorted(wanted)} after {timeout} s: {found}")
            time.sleep(0.05)


@contextmanager
def running_server(
    home: Path | None = None,
    *,
    workers: int = 1,
    user: str = "testuser",
    token: str | None = None,
    lease_seconds: float | None = None,
    database: str | None = None,
    tls: dict[str, str] | None = None,
) -> Iterator[EmbeddedServer]:
    """Start a server on a free loopback port; stop it (API and workers) on exit.

    Without `home` a temporary home is created and removed afterwards; a given home is
    initialised when it is not one yet and kept. `database`: a PostgreSQL URL instead of the
    home's SQLite file. `tls`: uvicorn's `ssl_certfile` and `ssl_keyfile`, to serve HTTPS.
    """
    from anonapi_server.admin import add_user, init_home
    from anonapi_server.config import DEFAULT_LEASE_SECONDS, DEFAULT_SHARE, ServerHome
    from anonapi_server.runner import start_in_background

    with tempfile.TemporaryDirectory(prefix="anon-server-", ignore_cleanup_errors=True) as tmp:
        server_home = ServerHome((home or Path(tmp) / "home").absolute())
        lease = DEFAULT_LEASE_SECONDS if lease_seconds is None else lease_seconds
        init_home(server_home, lease_seconds=lease, database=database)
        token = token or secrets.token_urlsafe(24)
        add_user(server_home, user, token=token)
        handle = start_in_background(server_home, workers=workers, tls=tls)
        try:
            yield EmbeddedServer(
                url=handle.url,
                user_name=user,
                token=token,
                home=server_home.root,
                share_root=server_home.default_share_root,
                unc_root=f"\\\\localhost\\{DEFAULT_SHARE}",
                _handle=handle,
            )
        finally:
            handle.stop()
