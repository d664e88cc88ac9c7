"""Scratch client set-ups: both CLIs pointed at one embedded server, batches filled before timing.

The original reads `~/AnonWebAPIClientSettings.yml`, so it runs with HOME pointed at a scratch
folder; ours reads the file named by `ANONAPI_SETTINGS`. Both files are written here in the
original's format, which ours reads too (users keep their files), so both sides see the same server,
user and token. Jobs are created through our client before any timing starts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from common import clean_env

SERVER_NAME = "bench"
SETTINGS_NAME = "AnonWebAPIClientSettings.yml"


@dataclass(frozen=True)
class ClientHomes:
    """Settings for both CLIs, and the environments that make each one read its own."""

    original_home: Path
    our_settings: Path

    def original_env(self) -> dict[str, str]:
        home = str(self.original_home)
        return clean_env(HOME=home, USERPROFILE=home, LC_ALL="C.UTF-8")

    def our_env(self) -> dict[str, str]:
        return clean_env(ANONAPI_SETTINGS=str(self.our_settings))


def settings_document(
    url: str, user_name: str, token: str, active_mapping: Path | None = None
) -> dict[str, object]:
    """The original's settings layout (reference §3.1) with one active server."""
    return {
        "active_mapping_file": None if active_mapping is None else str(active_mapping),
        "active_server_name": SERVER_NAME,
        "job_default_parameters": ["project,NOT_SET", "destination_path,."],
        "servers": {SERVER_NAME: url},
        "user_name": user_name,
        "user_token": token,
        "validate_ssl": False,
    }


def client_homes(
    root: Path, url: str, user_name: str, token: str, active_mapping: Path | None = None
) -> ClientHomes:
    """Write a scratch settings file for each CLI under `root`."""
    text = yaml.safe_dump(settings_document(url, user_name, token, active_mapping))
    original_home = root / "original-home"
    original_home.mkdir(parents=True, exist_ok=True)
    (original_home / SETTINGS_NAME).write_text(text)
    ours = root / "ours" / SETTINGS_NAME
    ours.parent.mkdir(parents=True, exist_ok=True)
    ours.write_text(text)
    return ClientHomes(original_home, ours)


def write_batch(folder: Path, job_ids: Sequence[str], url: str) -> Path:
    """A `.anonbatch` in the original's format (reference §3.2), which both CLIs read."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ".anonbatch"
    doc = {"job_ids": sorted(str(j) for j in job_ids), "server": {"name": SERVER_NAME, "url": url}}
    path.write_text(yaml.safe_dump(doc))
    return path


@contextlib.contextmanager
def embedded_server(**options: object) -> Iterator[object]:
    """The project's embedded server on a loopback port (the same one the tests use)."""
    from anonapi_server.embedded import running_server

    with running_server(**options) as server:
        yield server


def create_jobs(server: object, count: int, project: str = "Wetenschap-Algemeen") -> list[str]:
    """Create `count` folder jobs through our client; their sources need not exist for listing."""
    from anonapi_core.client import AnonClient
    from anonapi_core.models import Server

    target = Server(name=SERVER_NAME, url=server.url)
    with AnonClient(target, server.user_name, server.token) as client:
        results = client.for_each(
            lambda i: client.create_job(
                {
                    "source_type": "PATH",
                    "source_path": "folder:" + server.unc("bench", f"missing{i}"),
                    "destination_type": "PATH",
                    "destination_path": server.unc("bench-out", f"job{i}"),
                    "project_name": project,
                    "anonymizedpatientid": f"bench{i}",
                    "anonymizedpatientname": f"bench{i}",
                    "description": "bench",
                }
            ),
            [str(i) for i in range(count)],
        )
    failed = [r for r in results if not r.ok]
    if failed:
        raise RuntimeError(f"creating bench jobs failed: {failed[0].error}")
    return [str(r.value.job_id) for r in results]


@dataclass(frozen=True)
class BatchWorld:
    """An embedded server holding a batch of jobs, and both CLIs set up to look at it."""

    server: object
    homes: ClientHomes
    folder: Path
    job_ids: list[str]


@contextlib.contextmanager
def server_with_batch(root: Path, jobs: int, *, latency_s: float = 0.0) -> Iterator[BatchWorld]:
    """A server without workers (so jobs stay as created) and a `.anonbatch` of `jobs` jobs;
    with `latency_s`, both CLIs reach it through `latency_proxy` (round trips that much longer)."""
    from latency_proxy import latency

    with embedded_server(workers=0) as server, latency(server.url, latency_s) as url:
        homes = client_homes(root, url, server.user_name, server.token)
        job_ids = create_jobs(server, jobs)
        folder = root / "batch"
        write_batch(folder, job_ids, url)
        yield BatchWorld(server, homes, folder, job_ids)
