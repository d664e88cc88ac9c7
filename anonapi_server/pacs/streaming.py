"""A PACS study as a stream of files on disk: retrieved on a thread, handed over as they land.

A job used to retrieve its whole study first and de-identify it afterwards, so the two halves
added up. Here the retrieval runs on a thread of its own (the network waits, pynetdicom's C-STORE
handler, dicomweb-client's multipart reader) and puts each instance's file name in a queue as
soon as the file is written; the worker takes them off and de-identifies each while later ones
are still arriving. The queue holds file names, never datasets, and is bounded: a retrieval far
ahead of the de-identification waits, so memory stays small whatever the study's size.

The retrieving thread touches neither the database nor the job: its only outputs are the files,
the queue and, at the end, its error if any. Leaving the stream early (the job failed, was lost
or the worker stops) tells the retrieval to stop and waits for it, so the temporary folder is
never removed under a thread still writing into it.
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

# Files retrieved but not yet de-identified before the retrieval waits for the worker; only
# their names are held in memory.
MAX_WAITING = 1024
_POLL = 0.1  # seconds between checks of "stop" while the queue is full


class _RetrievalStopped(Exception):
    """The consumer left the stream: the retrieval stops at its next file."""


@dataclass(frozen=True)
class _End:
    """The last item of the queue: the retrieval ended, with this error or none."""

    error: BaseException | None


class StudyStream:
    """Retrieve the study `instance_id` names from `node` into `folder`, file by file.

    Iterate to get each file's path in arrival order; the iteration raises the retrieval's
    error (a PacsError, or what went wrong) where it happened, after the files before it.
    Use as a context manager: leaving it stops and joins the retrieval.
    """

    def __init__(
        self, node: PacsNode, instance_id: str, folder: Path, max_waiting: int = MAX_WAITING
    ):
        self.node, self.instance_id, self.folder = node, instance_id, folder
        self._queue: queue.Queue[Path | _End] = queue.Queue(maxsize=max_waiting)
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
        self._thread.join()

    def __iter__(self) -> Iterator[Path]:
        while True:
            item = self._queue.get()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item

    def _retrieve(self) -> None:
        count = 0

        def arrived(path: Path) -> None:
            nonlocal count
            count += 1
            self._put(path)

        error: BaseException | None = None
        try:
            retrieve_study(self.node, self.instance_id, self.folder, arrived)
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

    def _put(self, item: Path | _End) -> None:
        """Queue `item`, waiting while the queue is full; _RetrievalStopped once told to stop."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL)
                return
            except queue.Full:
                continue
        raise _RetrievalStopped
