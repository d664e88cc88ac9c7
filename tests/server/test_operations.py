"""Running the server safely (issue 8, findings 6, 7, 11, 12): private files, supervised
workers, no plain HTTP beyond loopback without saying so, and the small things an operator meets."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from anonapi_core.client import AnonClient
from anonapi_core.models import Server
from anonapi_server import cli as server_cli
from anonapi_server import supervisor
from anonapi_server.admin import init_home, list_projects, list_shares
from anonapi_server.config import ServerHome
from anonapi_server.store import Store
from anonapi_server.testing import running_server
from anonapi_server.transport import is_loopback, transport_for
from tests.server.conftest import create_path_job, write_small_study

posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@posix_only
def test_a_new_home_is_private_and_made_private_again_at_every_start(tmp_path: Path):
    home = ServerHome(tmp_path / "home")
    init_home(home)
    database = home.root / "anon-server.db"
    assert (mode(home.root), mode(home.config_path), mode(database)) == (0o700, 0o600, 0o600)
    for path, loose in ((home.root, 0o755), (home.config_path, 0o644), (database, 0o644)):
        path.chmod(loose)
    with running_server(home.root, workers=0):
        assert (mode(home.root), mode(home.config_path), mode(database)) == (0o700, 0o600, 0o600)
        wal = database.with_name(database.name + "-wal")
        assert not wal.exists() or mode(wal) == 0o600


def test_init_on_an_unwritable_place_is_one_line_without_a_traceback(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    result = CliRunner().invoke(server_cli.cli, ["init", str(blocker / "home")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: Cannot create a server home in ")
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_share_list_and_project_list_show_what_the_home_serves(tmp_path: Path):
    home = ServerHome(tmp_path / "home")
    init_home(home)
    runner = CliRunner()
    shares = runner.invoke(server_cli.cli, ["share", "list", "--home", str(home.root)])
    projects = runner.invoke(server_cli.cli, ["project", "list", "--home", str(home.root)])
    assert shares.exit_code == projects.exit_code == 0
    (unc, local) = list_shares(home)[0]
    assert shares.output == f"{unc} is {local}\n"
    assert unc == "\\\\localhost\\data"
    assert [p[0] for p in list_projects(home)] == ["Wetenschap-Algemeen"]
    assert projects.output.startswith("Wetenschap-Algemeen: options none; users ")


def test_user_add_admin_makes_an_admin(tmp_path: Path):
    home = ServerHome(tmp_path / "home")
    init_home(home)
    result = CliRunner().invoke(
        server_cli.cli,
        ["user", "add", "chief", "--admin", "--token", "t0k", "--home", str(home.root)],
    )
    assert result.exit_code == 0, result.output
    store = Store(home.load_config().database_url)
    try:
        assert store.token_users("t0k") == {"chief": True}
    finally:
        store.close()


def test_ctrl_c_stops_run_without_aborted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = ServerHome(tmp_path / "home")
    init_home(home)

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("anonapi_server.runner.run", interrupted)
    result = CliRunner().invoke(server_cli.cli, ["run", "--home", str(home.root)])
    assert result.exit_code == 0
    assert "Aborted" not in result.output
    assert result.output.endswith("Stopped\n")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("127.9.9.9", True),
        ("0.0.0.0", False),
        ("10.0.0.5", False),
        ("::", False),
        ("example.org", False),
    ],
)
def test_which_addresses_are_loopback(host: str, loopback: bool):
    assert is_loopback(host) is loopback


def test_beyond_loopback_needs_tls_or_an_explicit_insecure_http_that_warns(tmp_path: Path):
    home = ServerHome(tmp_path / "home")
    init_home(home)
    result = CliRunner().invoke(
        server_cli.cli, ["run", "--home", str(home.root), "--host", "0.0.0.0"]
    )
    assert result.exit_code == 1
    assert "--tls-cert" in result.output and "--insecure-http" in result.output
    insecure = transport_for("0.0.0.0", None, None, insecure_http=True)
    assert insecure.scheme == "http" and "plain HTTP" in (insecure.warning or "")
    assert transport_for("127.0.0.1", None, None, insecure_http=False).warning is None


def make_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.mark.skipif(sys.platform == "win32", reason="uses the openssl command")
def test_tls_is_served_and_the_client_verifies_the_certificate(tmp_path: Path):
    import shutil

    if shutil.which("openssl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is needed for the TLS test")
        pytest.skip("openssl is not installed")
    cert, key = make_certificate(tmp_path)
    with running_server(workers=0, tls={"ssl_certfile": str(cert), "ssl_keyfile": str(key)}) as s:
        assert s.url.startswith("https://")
        server = Server(name="tls", url=s.url)
        verifying = AnonClient(server, s.user_name, s.token, validate_ssl=True)
        with verifying, pytest.raises(Exception, match="(?i)certificate"):
            verifying.ping()
        with AnonClient(server, s.user_name, s.token, validate_ssl=False) as client:
            assert client.ping() >= 0


def test_a_killed_worker_is_restarted_logged_and_jobs_run_again(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(supervisor, "FIRST_BACKOFF", 0.2)
    caplog.set_level(logging.WARNING, logger="anonapi_server.supervisor")
    with running_server(workers=1) as server:
        (first,) = server.worker_processes
        first.kill()
        first.join(5)
        deadline = time.monotonic() + 20
        while not (server.worker_processes and server.worker_processes[0] is not first):
            assert time.monotonic() < deadline, "the dead worker was not replaced"
            time.sleep(0.05)
        source = write_small_study(server, "after_restart", n_files=1)
        job_id = create_path_job(server, "folder:" + source).json()["job_id"]
        assert server.wait_for([job_id], timeout=30) == {job_id: "DONE"}
        root = httpx.get(server.url + "/", timeout=5).json()
        assert root["workers"]["restarts"] >= 1 and root["workers"]["status"] == "ok"
    assert "worker 0 stopped unexpectedly" in caplog.text


def test_a_dead_worker_not_yet_restarted_shows_as_degraded_in_server_status(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(supervisor, "FIRST_BACKOFF", 60)
    with running_server(workers=1) as s:
        (worker,) = s.worker_processes
        worker.kill()
        worker.join(5)
        deadline = time.monotonic() + 10
        while httpx.get(s.url + "/", timeout=5).json()["workers"]["status"] != "degraded":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        with AnonClient(Server(name="s", url=s.url), s.user_name, s.token) as client:
            _, warning = client.check()
        assert warning is not None and "0 of 1 worker" in warning
