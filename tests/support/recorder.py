"""A loopback HTTP server that records every request and answers with a fixed reply.

Used to compare, byte for byte, what our client and the original client put on the wire.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class Recorded:
    method: str
    path: str
    form: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class Recorder:
    url: str
    requests: list[Recorded] = field(default_factory=list)
    status: int = 200
    body: object = field(default_factory=dict)


@contextmanager
def recording_server() -> Iterator[Recorder]:
    """Serve on a free loopback port until the block ends."""
    recorder = Recorder(url="")

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            recorder.requests.append(
                Recorded(
                    self.command,
                    self.path,
                    parse_qs(raw, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                )
            )
            payload = json.dumps(recorder.body).encode()
            self.send_response(recorder.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _handle

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
