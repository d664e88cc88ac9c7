"""Request limits: how much a caller may send, for how long, and how big each field may be.

A request costs the server memory for its body and a connection for as long as it takes to
arrive; both are bounded here so that one careless or hostile caller cannot take the API down
for everybody. Oversized bodies get 413, slow ones 408, fields too long or numbers out of range a
400 naming the parameter.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import ClientDisconnect, Request
from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_BODY_BYTES = 1024 * 1024  # a batch of ~70,000 job ids; real calls are a few hundred bytes
BODY_SECONDS = 30.0  # the whole body must arrive within this
HEADER_SECONDS = 15.0  # the request line and headers must arrive within this
MAX_HEADER_BYTES = 16 * 1024

# Longest value each parameter may have, in characters; others get DEFAULT_FIELD_CHARS.
DEFAULT_FIELD_CHARS = 200
FIELD_CHARS = {
    "description": 2000,
    "source_path": 1000,
    "destination_path": 1000,
    "source_instance_id": 1000,
    "source_sop_class_filter_list": 2000,
    "source_ignore_opt_out_reason": 1000,
    "job_ids": 2000,
}

# Whole numbers are stored as 32-bit integers (PostgreSQL's INTEGER), so that is their range.
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT_RANGES = {
    "job_id": (1, INT32_MAX),
    "priority": (INT32_MIN, INT32_MAX),
}


class TooLarge(Exception):
    """The body is larger than MAX_BODY_BYTES."""


class TooSlow(Exception):
    """The body did not arrive within BODY_SECONDS."""


def declared_too_large(request: Request) -> bool:
    """True when Content-Length already says the body is too large (refused unread)."""
    length = request.headers.get("content-length", "")
    return length.strip().isdigit() and int(length) > MAX_BODY_BYTES


async def read_body(request: Request) -> bytes:
    """The body, read in chunks; TooLarge past the limit, TooSlow past the time allowed."""
    chunks: list[bytes] = []
    size = 0

    async def collect() -> None:
        nonlocal size
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise TooLarge
            chunks.append(chunk)

    try:
        async with asyncio.timeout(BODY_SECONDS):
            await collect()
    except TimeoutError as e:
        raise TooSlow from e
    except ClientDisconnect:
        return b""
    return b"".join(chunks)


def field_limit(name: str) -> int:
    return FIELD_CHARS.get(name, DEFAULT_FIELD_CHARS)


def too_long(values: dict[str, list[str]]) -> tuple[str, int] | None:
    """The first parameter (name or value) over its length limit and that limit, if any."""
    for name, found in values.items():
        if len(name) > DEFAULT_FIELD_CHARS:
            return name[:40], DEFAULT_FIELD_CHARS
        limit = field_limit(name)
        if any(len(v) > limit for v in found):
            return name, limit
    return None


def int_range(name: str) -> tuple[int, int]:
    return INT_RANGES.get(name, (INT32_MIN, INT32_MAX))


class GuardedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for the request line and headers.

    uvicorn times out idle kept-alive connections but not a request whose headers trickle in a
    byte at a while (slowloris): each such connection would be held forever. A timer started when
    a connection opens, and again after each response, closes the connection if no new request
    has begun by then.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        waiting_after = self.cycle
        self._header_timer = self.loop.call_later(
            HEADER_SECONDS, self._headers_overdue, waiting_after
        )

    def _headers_overdue(self, waiting_after: object) -> None:
        if self.cycle is waiting_after and not self.transport.is_closing():
            self.transport.close()
