"""Start the embedded server: uvicorn for the API plus worker processes for the jobs.

Workers are started with the spawn method so that the server behaves the same on Windows, where
fork does not exist. `run` blocks (the CLI); `start_in_background` returns a handle (tests, demo).
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import sys
import threading
import time
from contextlib import suppress
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import uvicorn

from anonapi_server.app import create_app
from anonapi_server.config import ServerConfig, ServerHome
from anonapi_server.hosts import HostBeat
from anonapi_server.store import Store

STOP_TIMEOUT = 10.0


@dataclass
class Workers:
    """Worker processes and the pipes that tell them to stop.

    A pipe per worker rather than one shared Event: a worker killed while inside a shared
    primitive would leave it locked and hang the shutdown of all others.
    """

    processes: list[BaseProcess] = field(default_factory=list)
    pipes: list[Connection] = field(default_factory=list)

    def stop(self) -> None:
        for pipe in self.pipes:
            with suppress(OSError):  # a killed worker's pipe is broken
                pipe.send("stop")
            pipe.close()
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.terminate()
                process.join(2)


def _start_workers(config: ServerConfig, count: int, host: str) -> Workers:
    from anonapi_server.worker import worker_main

    context = multiprocessing.get_context("spawn")
    workers = Workers()
    for index in range(count):
        worker_id = f"{socket.gethostname()}-{index}-{time.time_ns()}"
        ours, theirs = context.Pipe()
        process = context.Process(
            target=worker_main,
            args=(
                config.database_url,
                config.lease_seconds,
                config.shares,
                host,
                worker_id,
                theirs,
            ),
            name=f"anon-worker-{index}",
            daemon=True,
        )
        process.start()
        theirs.close()
        workers.processes.append(process)
        workers.pipes.append(ours)
    return workers


def _uvicorn(store: Store, log_level: str = "warning", **options: Any) -> uvicorn.Server:
    config = uvicorn.Config(create_app(store), log_level=log_level, lifespan="off", **options)
    return uvicorn.Server(config)


def _open(home: ServerHome) -> tuple[ServerConfig, Store]:
    """The home's config and store, with the schema created where missing.

    Not only `init` creates it: a config edited to name a new database (a shared PostgreSQL for
    workers on several machines) gets its tables when the server first starts on it.
    """
    config = home.load_config()
    store = Store(config.database_url, mounts=config.shares)
    store.create_schema()
    return config, store


def run(home: ServerHome, *, host: str = "127.0.0.1", port: int = 5000, workers: int = 1) -> None:
    """Serve until interrupted (Ctrl-C), then stop the workers."""
    config, store = _open(home)
    beat = HostBeat(store, role="api", workers=workers)
    beat.start()
    running = _start_workers(config, workers, beat.name_in_status)
    try:
        _uvicorn(store, "info", host=host, port=port).run()
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
    workers: Workers
    beat: HostBeat

    @property
    def processes(self) -> list[BaseProcess]:
        return self.workers.processes

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(STOP_TIMEOUT)
        self.workers.stop()
        self.beat.stop()
        self.store.close()


def start_in_background(
    home: ServerHome, *, host: str = "127.0.0.1", port: int = 0, workers: int = 1
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
    server = _uvicorn(store)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="anon-server-api", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + STOP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            with suppress(OSError):
                sock.close()
            raise RuntimeError(f"The API server did not start on {host}:{bound_port}")
        time.sleep(0.01)
    beat = HostBeat(store, role="api", workers=workers)
    beat.start()
    return BackgroundServer(
        url=f"http://{host}:{bound_port}",
        store=store,
        server=server,
        thread=thread,
        workers=_start_workers(config, workers, beat.name_in_status),
        beat=beat,
    )
