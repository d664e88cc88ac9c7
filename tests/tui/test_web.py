"""`anon-tui --web`: the dashboard in headless Chromium, on the real embedded server's batch,
with the settings and folder of a terminal run; only the printed address (its key) opens it.

`UPDATE_SCREENSHOTS=1` renews README's screenshots/browser.png from the browser test."""

from __future__ import annotations

import asyncio
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from anonapi_server.pg_cluster import free_port
from anonapi_tui.main import main, web_arguments
from tests.support.browser import chromium_page, require_chromium, stop_process_group
from tests.tui.conftest import Batch

README_SCREENSHOT = Path(__file__).parents[2] / "screenshots" / "browser.png"


@contextmanager
def web_dashboard(folder: Path, port: int, log: Path, timeout: float = 30.0) -> Iterator[str]:
    """`anon-tui --web` in a process of its own (its errors to `log`); yields the address it
    printed, stops it and every dashboard process it started on exit."""
    with log.open("wb") as errors:
        server = subprocess.Popen(
            [sys.executable, "-m", "anonapi_tui.main", "--web", "--port", str(port)]
            + ["--folder", str(folder)],
            stdout=subprocess.PIPE,
            stderr=errors,
            start_new_session=True,
        )
    try:
        assert server.stdout is not None
        deadline = time.monotonic() + timeout
        line = b""
        while b"\n" not in line:
            assert time.monotonic() < deadline, "anon-tui --web printed no address"
            if select.select([server.stdout], [], [], 0.2)[0]:
                chunk = os.read(server.stdout.fileno(), 4096)
                assert chunk, f"anon-tui --web exited {server.wait()}: {log.read_text()}"
                line += chunk
        found = re.search(rb"http://\S+", line)
        assert found, line
        yield found.group().decode()
    finally:
        stop_process_group(server)


@pytest.mark.skipif(sys.platform == "win32", reason="select() on a pipe is POSIX")
async def test_the_browser_shows_the_batch_of_the_folder(batch: Batch, tmp_path: Path) -> None:
    chromium = require_chromium()
    port = free_port()
    with web_dashboard(batch.folder, port, tmp_path / "web.log") as address:
        assert address.startswith(f"http://127.0.0.1:{port}/?key=")
        # Without the key: refused, the page and the websocket that would start a dashboard.
        for path in ("/", "/ws"):
            assert httpx.get(f"http://127.0.0.1:{port}{path}").status_code == 403
        # The page may load nothing from elsewhere (textual-serve's asks a font service).
        policy = httpx.get(address).headers["content-security-policy"]
        assert policy.startswith("default-src 'self';") and "googleapis" not in policy
        async with chromium_page(chromium, tmp_path / "profile") as page:
            await page.open(address)
            # The batch's jobs, read through the same settings file (ANONAPI_SETTINGS) and
            # folder: its descriptions and statuses, drawn in the browser's terminal.
            await page.wait_for_text("Batch", "err job 0", "act job 1", "ERROR", "ACTIVE")
            await asyncio.sleep(1.0)  # xterm.js paints on the animation frames after the bytes
            await page.screenshot(tmp_path / "browser.png")
    assert (tmp_path / "browser.png").read_bytes().startswith(b"\x89PNG")
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":  # README's picture, renewed on purpose only
        shutil.copyfile(tmp_path / "browser.png", README_SCREENSHOT)


def test_a_taken_port_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--web", "--port", str(port), "--folder", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"Error: port {port} on 127.0.0.1 is in use (")
    assert err.endswith("); choose another with --port N\n") and err.count("\n") == 1


def test_each_browser_tab_opens_the_folder_and_choices_of_this_run(tmp_path: Path) -> None:
    from anonapi_tui.main import parse_args

    args = parse_args(["--web", "--read-only", "--screen", "mapping"])
    assert web_arguments(args, tmp_path) == [
        "--folder",
        str(tmp_path),
        "--read-only",
        "--screen",
        "mapping",
    ]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--port", "8000"], "--port needs --web"),
        (["--web", "--port", "0"], "--port must be between 1 and 65535, not 0"),
        (["--web", "--screenshot", "x.svg"], "--screenshot and --web cannot be combined"),
    ],
)
def test_web_options_that_cannot_work_are_refused(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 1
    assert capsys.readouterr().err.splitlines()[0] == f"Error: {says}"


@pytest.mark.parametrize(
    ("ci", "outcome"), [("", pytest.skip.Exception), ("true", pytest.fail.Exception)]
)
def test_without_chromium_the_browser_test_skips_but_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="Chromium is not installed"):
        require_chromium()
