"""Worker supervision: a worker process that dies is started again, with backoff, and said so.

Without it a worker killed by the OOM killer, a full disk or an operator leaves the API answering
while new jobs stay ACTIVE forever. The pool checks its processes twice a second; a dead one is
restarted after a delay that doubles with each death in a row (a worker that crashes at once on
every start must not spin), and `health()` tells the API's root document how many are alive.

Workers are started with the spawn method so that the server behaves the same on Windows, where
fork does not exist.

An idle worker looks for a job five times a second; `wake()` (the API calls it when a job is
created or run again) makes the idle ones look at once. Each worker has a semaphore of its own
for that: releasing one never blocks, whatever the worker is doing or if it died, so the API
cannot hang on it; a worker drains its semaphore when it wakes, so wakes sent while it was busy
cost it one look, not one per job.
"""

from __future__ import annotations

import logging
import multiprocessing
import socket
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

log = logging.getLogger(__name__)

STOP_TIMEOUT = 10.0
CHECK_SECONDS = 0.5
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 60.0
STABLE_SECONDS = 60.0  # a worker that lived this long died of something new: backoff resets


@dataclass
class Slot:
    """One worker place: its current process, its stop pipe and its history of deaths."""

    index: int
    process: BaseProcess | None = None
    pipe: Connection | None = None
    wake: Any = None  # the worker's semaphore (multiprocessing.Semaphore)
    started: float = 0.0
    deaths_in_a_row: int = 0
    restart_at: float | None = None


class WorkerPool:
    """`count` supervised worker processes running
    `target(*args, worker_id, control_pipe, wake_semaphore)`."""

    def __init__(self, target: Callable[..., None], args: tuple[Any, ...], count: int):
        self._target, self._args = target, args
        self._context = multiprocessing.get_context("spawn")
        self._slots = [Slot(i) for i in range(count)]
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.restarts = 0
        for slot in self._slots:
            self._start(slot)
        self._monitor = threading.Thread(target=self._watch, name="anon-workers", daemon=True)
        self._monitor.start()

    @property
    def processes(self) -> list[BaseProcess]:
        """The current worker processes (a restarted worker is a new process)."""
        with self._lock:
            return [s.process for s in self._slots if s.process is not None]

    def health(self) -> dict[str, Any]:
        """Workers expected, alive, restarted so far, and 'ok' or 'degraded'."""
        with self._lock:
            alive = sum(1 for s in self._slots if s.process is not None and s.process.is_alive())
        expected = len(self._slots)
        return {
            "expected": expected,
            "alive": alive,
            "restarts": self.restarts,
            "status": "ok" if alive == expected else "degraded",
        }

    def _start(self, slot: Slot) -> None:
        worker_id = f"{socket.gethostname()}-{slot.index}-{time.time_ns()}"
        ours, theirs = self._context.Pipe()
        wake = self._context.Semaphore(0)
        process = self._context.Process(
            target=self._target,
            args=(*self._args, worker_id, theirs, wake),
            name=f"anon-worker-{slot.index}",
            daemon=True,
        )
        process.start()
        theirs.close()
        slot.process, slot.pipe, slot.wake, slot.restart_at = process, ours, wake, None
        slot.started = time.monotonic()

    @staticmethod
    def _send_stop(slots: list[Slot]) -> None:
        for slot in slots:
            if slot.pipe is not None:
                with suppress(OSError):  # a killed worker's pipe is broken
                    slot.pipe.send("stop")

    def wake(self) -> None:
        """Make the idle workers look for a job now (a job was created or run again)."""
        with self._lock:
            for slot in self._slots:
                if slot.wake is not None:
                    slot.wake.release()

    def _watch(self) -> None:
        while not self._stopping.wait(CHECK_SECONDS):
            with self._lock:
                for slot in self._slots:
                    self._check(slot)

    def _check(self, slot: Slot) -> None:
        process = slot.process
        if process is None or process.is_alive() or self._stopping.is_set():
            return
        now = time.monotonic()
        if slot.restart_at is None:
            lived = now - slot.started
            slot.deaths_in_a_row = 1 if lived >= STABLE_SECONDS else slot.deaths_in_a_row + 1
            delay = min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (slot.deaths_in_a_row - 1))
            slot.restart_at = now + delay
            log.warning(
                "worker %d stopped unexpectedly (exit code %s) after %.0f s; restarting in %.1f s",
                slot.index,
                process.exitcode,
                lived,
                delay,
            )
        elif now >= slot.restart_at:
            if slot.pipe is not None:
                slot.pipe.close()
            self._start(slot)
            self.restarts += 1
            log.warning("worker %d restarted", slot.index)

    def ask_to_stop(self) -> None:
        """Tell every worker to stop after the file at hand, and return at once: a server that
        stops says so to its workers first, so no job runs on while the API shuts down."""
        self._stopping.set()
        with self._lock:
            self._send_stop(self._slots)

    def stop(self) -> None:
        """Ask every worker to stop, wait for them, then terminate the ones that did not."""
        self._stopping.set()
        self._monitor.join(STOP_TIMEOUT)
        with self._lock:
            slots = list(self._slots)
        self._send_stop(slots)  # again: one restarted before the monitor ended was not told
        for slot in slots:
            if slot.pipe is not None:
                slot.pipe.close()
        deadline = time.monotonic() + STOP_TIMEOUT
        for slot in slots:
            if slot.process is None:
                continue
            slot.process.join(max(0.0, deadline - time.monotonic()))
            if slot.process.is_alive():
                slot.process.terminate()
                slot.process.join(2)
