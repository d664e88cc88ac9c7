"""The message a blocking worker ends with: what it produced, or why it could not."""

from __future__ import annotations

from typing import Generic, TypeVar

from textual.message import Message

T = TypeVar("T")


class Outcome(Message, Generic[T]):
    """A worker's `result`, or the one-line `error` that stopped it (then `result` is None).

    Screens subclass it per job (`class Loaded(Outcome[JobInfo])`) so each gets its own
    handler name (`on_job_details_loaded`) without repeating the constructor.
    """

    def __init__(self, result: T | None, error: str | None = None) -> None:
        super().__init__()
        self.result = result
        self.error = error
