"""A loopback TCP proxy that makes a local server look like one across a hospital network.

Every round trip through it takes `delay` seconds more, the way a network with a `delay`
round-trip time would cost them:

- each response: what the server sends is held back `delay` seconds before it is passed on,
  in order (chunks in flight overlap, so the delay costs no bandwidth);
- each new connection: the proxy waits `delay` seconds (the TCP handshake's round trip) before
  it connects to the server, so a client that opens a connection per request pays twice.

Requests themselves go through at once: one delay per round trip, not one per direction.
The proxy runs its own event loop in a thread of the bench process.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

CHUNK = 64 * 1024


async def _forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Client to server: at once."""
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError):
        writer.write_eof()


async def _delayed(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float
) -> None:
    """Server to client: each chunk `delay` seconds after it arrived, in order."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            if (wait := due - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            if not data:
                return
            writer.write(data)
            await writer.drain()

    delivery = asyncio.create_task(deliver())
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(CHUNK):
            queue.put_nowait((time.monotonic() + delay, data))
    queue.put_nowait((time.monotonic() + delay, b""))
    with contextlib.suppress(ConnectionError):
        await delivery
    writer.close()


class LatencyProxy:
    """`with LatencyProxy("http://127.0.0.1:5000", 0.030) as proxy:` then use `proxy.url`."""

    def __init__(self, server_url: str, delay: float) -> None:
        parts = urlsplit(server_url)
        self.server_parts = parts
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.delay = delay
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        """The server's URL with the proxy's address in it."""
        return urlunsplit(self.server_parts._replace(netloc=f"127.0.0.1:{self.port}"))

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_w: asyncio.StreamWriter | None = None
        try:
            await asyncio.sleep(self.delay)  # the handshake's round trip
            server_r, server_w = await asyncio.open_connection(*self.target)
            await asyncio.gather(
                _forward(client_r, server_w), _delayed(server_r, client_w, self.delay)
            )
        except (OSError, asyncio.CancelledError):
            pass  # the server refused, or the proxy stops: the connection ends either way
        finally:
            client_w.close()
            if server_w is not None:
                server_w.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def __enter__(self) -> LatencyProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


@contextlib.contextmanager
def latency(server_url: str, delay: float) -> Iterator[str]:
    """The URL to use instead of `server_url`: the same server, `delay` seconds further away
    (no proxy at all when `delay` is 0)."""
    if delay <= 0:
        yield server_url
        return
    with LatencyProxy(server_url, delay) as proxy:
        yield proxy.url
