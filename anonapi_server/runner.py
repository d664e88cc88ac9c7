"""Start the embedded server: uvicorn for the API plus worker processes for the jobs.

Workers are supervised (see `supervisor`). `run` blocks (the CLI); `start_in_background`
returns a handle (tests, demo).
"""

from __future__ import annotations

import signal
import socket
import sys
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any

import uvicorn

from anonapi_server.app import create_app
from anonapi_server.config import ServerConfig, ServerHome
from anonapi_server.hosts import HostBeat
from anonapi_server.limits import MAX_HEADER_BYTES, GuardedH11Protocol
from anonapi_server.publish import remove_leftovers
from anonapi_server.store import Store
from anonapi_server.supervisor import STOP_TIMEOUT, WorkerPool


def _start_workers(config: ServerConfig, count: int, host: str) -> WorkerPool:
    """`count` supervised workers; `host` is this host's name in the status."""
    from anonapi_server.worker import worker_main

    held = None if config.held_dir is None else str(config.held_dir)
    args = (config.database_url, config.lease_seconds, config.shares, host, held)
    return WorkerPool(worker_main, args, count)


def _uvicorn(
    store: Store, workers: WorkerPool, log_level: str = "warning", **options: Any
) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(store, health=workers.health, wake=workers.wake),
        log_level=log_level,
        lifespan="off",
        http=GuardedH11Protocol,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        timeout_keep_alive=5,
        **options,
    )
    return uvicorn.Server(config)


def _open(home: ServerHome) -> tuple[ServerConfig, Store]:
    """The home's config and store, with the schema created where missing.

    Not only `init` creates it: a config edited to name a new database (a shared PostgreSQL for
    workers on several machines) gets its tables when the server first starts on it.
    """
    config = home.load_config()
    home.create_database_file(config)
    home.make_private(config)
    store = Store(config.database_url, mounts=config.shares, held_dir=config.held_dir)
    store.create_schema()
    home.make_private(config)  # the journal files SQLite has just created
    remove_leftovers(store)
    return config, store


def run(
    home: ServerHome,
    *,
    host: str = "127.0.0.1",
    port: int = 5000,
    workers: int = 1,
    tls: dict[str, Any] | None = None,
) -> None:
    """Serve until interrupted (Ctrl-C), then stop the workers. `tls`: uvicorn's ssl options."""
    config, store = _open(home)
    beat = HostBeat(store, role="api", workers=workers)
    beat.start()
    running = _start_workers(config, workers, beat.name_in_status)
    try:
        _uvicorn(store, running, "info", host=host, port=port, **(tls or {})).run()
    finally:
        running.stop()
        beat.stop()
        store.close()


def run_worker_host(
    home: ServerHome, *, workers: int = 1, stop: threading.Event | None = None
) -> None:
    """A host that runs jobs and serves no API, until Ctrl-C, SIGTERM or `stop` is set.

    Its config's `shares` says where this machine mounts each share; jobs on shares it does not
    mount are left for other hosts.
    """
    config, store = _open(home)
    stop = stop or threading.Event()
    beat = HostBeat(store, role="worker", workers=workers)
    beat.start()
    running = _start_workers(config, workers, beat.name_in_status)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
        beat.stop()
        store.close()


@dataclass
class BackgroundServer:
    """A server running in this process (API thread) plus its worker processes."""

    url: str
    store: Store
    server: uvicorn.Server
    thread: threading.Thread
    workers: WorkerPool
    beat: HostBeat

    @property
    def processes(self) -> list[BaseProcess]:
        return self.workers.processes

    def stop(self) -> None:
        self.workers.ask_to_stop()
        self.server.should_exit = True
        self.thread.join(STOP_TIMEOUT)
        self.workers.stop()
        self.beat.stop()
        self.store.close()


def start_in_background(
    home: ServerHome,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    workers: int = 1,
    tls: dict[str, Any] | None = None,
) -> BackgroundServer:
    """Start the API on a thread (port 0: a free port) and the workers; return once it listens."""
    config, store = _open(home)
    # Name the protocol: asyncio turns on TCP_NODELAY only for sockets created with IPPROTO_TCP,
    # and without it every kept-alive response waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    if sys.platform != "win32":  # on Windows this option would let two servers share a port
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    beat = HostBeat(store, role="api", workers=workers)
    beat.start()
    pool = _start_workers(config, workers, beat.name_in_status)
    server = _uvicorn(store, pool, **(tls or {}))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="anon-server-api", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + STOP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            with suppress(OSError):
                sock.close()
            pool.stop()
            beat.stop()
            raise RuntimeError(f"The API server did not start on {host}:{bound_port}")
        time.sleep(0.01)
    return BackgroundServer(
        url=f"{'https' if tls else 'http'}://{host}:{bound_port}",
        store=store,
        server=server,
        thread=thread,
        workers=pool,
        beat=beat,
    )
