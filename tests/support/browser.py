"""Headless Chromium driven over its DevTools protocol, for the dashboard served to a browser.

The Debian package's Chromium and aiohttp's websocket client (aiohttp comes with textual-serve)
are all it takes: no Playwright, whose wheel brings a Node.js driver of its own and expects a
browser build of its own version, for four protocol calls (navigate, inject a script, evaluate,
screenshot).

The served dashboard draws on a canvas (xterm.js), so its text is not in the page's DOM: a
script injected before the page loads keeps what the page's websocket receives from the
dashboard, and `Page.screen_text()` returns it without escape sequences.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import aiohttp
import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")

KEEP_RECEIVED_TEXT = """
window.__received = "";
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    const decoder = new TextDecoder();
    this.addEventListener("message", (event) => {
      if (typeof event.data !== "string") {
        window.__received += decoder.decode(event.data, {stream: true});
      }
    });
  }
};
"""
WITHOUT_ESCAPES = r"window.__received.replace(/\x1b\[[0-?]*[ -\/]*[@-~]/g, ' ')"


def require_chromium() -> str:
    """The Chromium binary; skip with the reason when missing, fail under CI=true."""
    for name in CHROMIUM_NAMES:
        if found := shutil.which(name):
            return found
    reason = "Chromium is not installed (Debian package chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must run the browser tests")
    pytest.skip(reason)


class Page:
    """One browser tab over its DevTools websocket; protocol errors raise."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.ids = itertools.count(1)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self.ids)
        await self.socket.send_json({"id": call_id, "method": method, "params": params})
        while True:  # events arrive in between; the answer carries the call's id
            message = await self.socket.receive_json(timeout=30)
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    async def open(self, url: str, size: tuple[int, int] = (1280, 720)) -> None:
        """Load `url` in a viewport of `size` pixels, keeping what its websockets receive."""
        await self.send("Page.enable")  # without it, the script below is not injected
        width, height = size
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        await self.send("Page.addScriptToEvaluateOnNewDocument", source=KEEP_RECEIVED_TEXT)
        await self.send("Page.navigate", url=url)

    async def evaluate(self, expression: str) -> Any:
        answer = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return answer["result"].get("value")

    async def screen_text(self) -> str:
        """Everything the dashboard has drawn so far, as text."""
        return await self.evaluate(f"window.__received === undefined ? '' : {WITHOUT_ESCAPES}")

    async def wait_for_text(self, *texts: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            drawn = await self.screen_text()
            if all(text in drawn for text in texts):
                return drawn
            assert time.monotonic() < deadline, (
                f"{texts} not on the page after {timeout} s; it shows {drawn[-800:]!r}"
            )
            await asyncio.sleep(0.2)

    async def screenshot(self, path: Path) -> None:
        shot = await self.send("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))


def _devtools_port(profile: Path, process: subprocess.Popen[bytes], timeout: float) -> int:
    """Chromium writes the port it chose to the profile once it listens."""
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while not (marker.exists() and marker.read_text().strip()):
        assert process.poll() is None, f"Chromium exited with {process.returncode}"
        assert time.monotonic() < deadline, f"Chromium did not listen within {timeout} s"
        time.sleep(0.1)
    return int(marker.read_text().split()[0])


def stop_process_group(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Ask a process started with `start_new_session=True` to stop, wait, then kill whatever
    of its group is left (its children too)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
    if hasattr(os, "killpg"):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


@asynccontextmanager
async def chromium_page(binary: str, profile: Path) -> AsyncIterator[Page]:
    """A headless Chromium with a fresh profile and one blank tab; stopped on exit."""
    arguments = [
        binary,
        "--headless",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        "--hide-scrollbars",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        *(["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        "about:blank",
    ]
    process = subprocess.Popen(
        arguments, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        port = _devtools_port(profile, process, timeout=30)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/json/list") as answer:
                targets = await answer.json()
            tab = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
            async with http.ws_connect(tab, max_msg_size=0) as socket:
                yield Page(socket)
    finally:
        stop_process_group(process)
