"""A PACS study as a stream of instances: retrieved on a thread, handed over as they arrive.

A job used to retrieve its whole study first and de-identify it afterwards, so the two halves
added up. Here the retrieval runs on a thread of its own (the network waits, pynetdicom's C-STORE
handler, dicomweb-client's multipart reader) and puts each instance in a queue as soon as it is
in; the worker takes them off and de-identifies each while later ones are still arriving.

An instance travels in memory, as the bytes the PACS sent: writing each to a temporary file only
for the worker to open, read and remove it again cost more than de-identifying it. Memory stays
bounded whatever the study's size: the queue holds at most `max_waiting` instances and at most
`max_bytes` of their bytes (counted until the worker asks for the next one); a retrieval that far
ahead of the de-identification waits for it, as the network lets it. An instance larger than
`max_bytes` on its own is written to the stream's folder and handed over by name instead.

The retrieving thread touches neither the database nor the job: its only outputs are the queue,
the spilled files and, at the end, its error if any. Leaving the stream early (the job failed,
was lost or the worker stops) tells the retrieval to stop and waits for it, so the temporary
folder is never removed under a thread still writing into it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from anonapi_server.pacs.config import PacsNode
from anonapi_server.pacs.retrieve import PacsError, retrieve_study

# Instances retrieved but not yet de-identified before the retrieval waits for the worker, and
# their bytes: a CT or MR instance is ~0.5 MB, so some sixty of them; an instance larger than
# that alone is written to disk.
MAX_WAITING = 1024
MAX_WAITING_BYTES = 32 * 1024 * 1024
_POLL = 0.1  # seconds between checks of "stop" while the queue or the memory is full


class _RetrievalStopped(Exception):
    """The consumer left the stream: the retrieval stops at its next instance."""


@dataclass(frozen=True)
class Instance:
    """One retrieved instance: `name` in the study's order (`000001.dcm`, ...) and its bytes,
    or None when they wait in the stream's folder as the file `name`."""

    name: str
    data: bytes | None


@dataclass(frozen=True)
class _End:
    """The last item of the queue: the retrieval ended, with this error or none."""

    error: BaseException | None


class StudyStream:
    """Retrieve the study `instance_id` names from `node`, instance by instance.

    Iterate to get each Instance in arrival order; the iteration raises the retrieval's error
    (a PacsError, or what went wrong) where it happened, after the instances before it. An
    instance on disk stays in `folder` for the consumer to remove. Use as a context manager:
    leaving it stops and joins the retrieval.
    """

    def __init__(
        self,
        node: PacsNode,
        instance_id: str,
        folder: Path,
        max_waiting: int = MAX_WAITING,
        max_bytes: int = MAX_WAITING_BYTES,
    ):
        self.node, self.instance_id, self.folder = node, instance_id, folder
        self.max_bytes = max_bytes
        self._queue: queue.Queue[Instance | _End] = queue.Queue(maxsize=max_waiting)
        self._in_memory = 0  # bytes of the queued instances and of the one being consumed
        self._room = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._retrieve, daemon=True, name="pacs-retrieve")

    def __enter__(self) -> StudyStream:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        with self._room:
            self._room.notify_all()
        self._thread.join()

    def __iter__(self) -> Iterator[Instance]:
        consumed = 0
        while True:
            self._release(consumed)  # asking for the next: done with the previous one
            consumed = 0
            item = self._queue.get()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            if item.data is not None:
                consumed = len(item.data)
            yield item

    @property
    def in_memory(self) -> int:
        """Bytes of the instances held in memory now: queued, or the one being consumed."""
        return self._in_memory

    def _release(self, size: int) -> None:
        if size:
            with self._room:
                self._in_memory -= size
                # A retrieval waiting for room is woken once half the bound is free, not for
                # every instance: each wake-up made the two threads trade the interpreter lock.
                if self._in_memory <= self.max_bytes // 2:
                    self._room.notify()

    def _retrieve(self) -> None:
        count = 0

        def arrived(data: bytes) -> None:
            nonlocal count
            count += 1
            self._put(self._held(f"{count:06d}.dcm", data))

        error: BaseException | None = None
        try:
            retrieve_study(self.node, self.instance_id, arrived)
            if not count:
                raise PacsError(
                    f"PACS {self.node.name}: the study of {self.instance_id} has no instances "
                    "to retrieve"
                )
        except _RetrievalStopped:
            return
        except BaseException as e:  # noqa: BLE001 - handed to the consuming thread
            error = e
        try:
            self._put(_End(error))
        except _RetrievalStopped:
            return

    def _held(self, name: str, data: bytes) -> Instance:
        """The instance in memory once its bytes fit in `max_bytes` beside those already held
        (waiting for the consumer until they do); written to the folder when they never can."""
        size = len(data)
        if size > self.max_bytes:
            with (self.folder / name).open("xb") as out:
                out.write(data)
            return Instance(name, None)
        with self._room:
            while self._in_memory + size > self.max_bytes:
                if self._stop.is_set():
                    raise _RetrievalStopped
                self._room.wait(_POLL)
            self._in_memory += size
        return Instance(name, data)

    def _put(self, item: Instance | _End) -> None:
        """Queue `item`, waiting while the queue is full; _RetrievalStopped once told to stop."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL)
                return
            except queue.Full:
                continue
        if isinstance(item, Instance) and item.data is not None:
            self._release(len(item.data))
        raise _RetrievalStopped
