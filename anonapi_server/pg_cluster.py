"""A throwaway PostgreSQL cluster on a free loopback port, for tests and benchmarks.

It runs the system's `initdb` and `pg_ctl` (Debian's `postgresql` package puts them in
/usr/lib/postgresql/<version>/bin). PostgreSQL refuses to run as root, and CI runs as root: there
the cluster runs as the `postgres` user, in a temporary folder owned by it. Written here rather
than taken from pytest-postgresql, which is LGPL and has no way to switch user. Not for
production: fsync is off and every local connection is trusted.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from anonapi_server.errors import ServerError

SUPERUSER = "anon"
_SYSTEM_USER = "postgres"


class ClusterUnavailable(ServerError):
    """PostgreSQL cannot be started here; the message says why (for a skip reason)."""


def find_bin_dir() -> Path:
    """The folder with initdb and pg_ctl: $ANON_PG_BIN, PATH, or Debian's newest version."""
    candidates = [os.environ.get("ANON_PG_BIN", "")]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).parent))
    versions = Path("/usr/lib/postgresql")
    if versions.is_dir():
        numbered = (p for p in versions.iterdir() if p.name.isdigit())
        candidates += [str(p / "bin") for p in sorted(numbered, key=lambda p: -int(p.name))]
    for candidate in filter(None, candidates):
        if (Path(candidate) / "initdb").is_file() and (Path(candidate) / "pg_ctl").is_file():
            return Path(candidate)
    raise ClusterUnavailable("PostgreSQL (initdb, pg_ctl) is not installed on this machine")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Cluster:
    """A running cluster; `url(name)` is a SQLAlchemy URL of one of its databases."""

    bin_dir: Path
    folder: Path
    port: int
    as_user: str | None
    _databases: int = 0

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    def _run(self, *argv: str) -> None:
        prefix = ["runuser", "-u", self.as_user, "--"] if self.as_user else []
        result = subprocess.run(
            [*prefix, *argv], capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        if result.returncode != 0:
            raise ClusterUnavailable(
                f"{Path(argv[0]).name} failed: {(result.stderr or result.stdout).strip()[-500:]}"
            )

    def _pg_ctl(self, *args: str) -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args)

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._pg_ctl("-w", "-t", "60", "-o", options, "-l", str(self.folder / "log"), "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-w", "-m", mode, "stop")

    def restart(self) -> None:
        """Stop (cutting every connection) and start again on the same port.

        A clean stop: with fsync and synchronous commit off, a crash would lose commits that
        clients were told had happened, which no real server configured for production does.
        """
        self.stop("fast")
        self.start()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+pg8000://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database; return its URL."""
        import pg8000.native

        self._databases += 1
        name = f"anon_{os.getpid()}_{self._databases}"
        connection = pg8000.native.Connection(
            SUPERUSER, host="127.0.0.1", port=self.port, database="postgres"
        )
        try:
            connection.run(f"CREATE DATABASE {name}")
        finally:
            connection.close()
        return self.url(name)


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """Start a cluster in a temporary folder; stop it and remove the folder on exit."""
    if sys.platform == "win32":
        raise ClusterUnavailable("the throwaway PostgreSQL cluster is not supported on Windows")
    bin_dir = find_bin_dir()
    as_user = _SYSTEM_USER if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="anon-pg-"))
    try:
        if as_user:
            shutil.chown(folder, as_user, as_user)
        cluster = Cluster(bin_dir, folder, free_port(), as_user)
        cluster._run(
            str(bin_dir / "initdb"),
            "-D",
            str(cluster.data_dir),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        cluster.start()
        try:
            yield cluster
        finally:
            cluster.stop("immediate")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
