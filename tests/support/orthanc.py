"""A throwaway Orthanc (the Debian `orthanc` + `orthanc-dicomweb` packages) on free loopback ports.

Started with a generated configuration in a temporary folder: HTTP (REST and DICOMweb) and DICOM
ports of its own, an AE title that must be called, and one known modality (the anonapi server's
calling AE title, for C-MOVE). Studies are uploaded through the REST API. Used by the tests and
by `bench/bench_pacs.py`.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ORTHANC_AET = "ORTHANCTEST"
CLIENT_AET = "ANONAPI"
DICOMWEB_PLUGIN_NAME = "libOrthancDicomWeb.so"
PLUGIN_DIRS = (Path("/usr/share/orthanc/plugins"), Path("/usr/lib/orthanc"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def orthanc_binary() -> Path | None:
    found = shutil.which("Orthanc") or (
        "/usr/sbin/Orthanc" if Path("/usr/sbin/Orthanc").is_file() else None
    )
    return Path(found) if found else None


def dicomweb_plugin() -> Path | None:
    for folder in PLUGIN_DIRS:
        for candidate in sorted(folder.glob(f"{DICOMWEB_PLUGIN_NAME}*")):
            return candidate
    return None


def require_orthanc() -> tuple[Path, Path]:
    """Orthanc and its DICOMweb plugin; skip with the reason when missing, fail under CI=true."""
    binary, plugin = orthanc_binary(), dicomweb_plugin()
    if binary and plugin:
        return binary, plugin
    reason = (
        "Orthanc is not installed (Debian packages orthanc and orthanc-dicomweb)"
        if not binary
        else "the Orthanc DICOMweb plugin is not installed (Debian package orthanc-dicomweb)"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must run the Orthanc tests")
    pytest.skip(reason)


@dataclass
class Orthanc:
    """A running Orthanc and how to reach it."""

    http_url: str
    dicom_port: int
    aet: str
    move_port: int

    @property
    def dicomweb_url(self) -> str:
        return f"{self.http_url}/dicom-web"

    @property
    def dimse_address(self) -> str:
        return f"127.0.0.1:{self.dicom_port}"

    def upload(self, paths: Iterable[Path]) -> int:
        """Store files through the REST API; returns how many."""
        count = 0
        with httpx.Client(base_url=self.http_url, timeout=60) as client:
            for path in paths:
                reply = client.post("/instances", content=path.read_bytes())
                reply.raise_for_status()
                count += 1
        return count


@contextmanager
def running_orthanc(folder: Path) -> Iterator[Orthanc]:
    """Start Orthanc with its storage in `folder`; stop it on exit."""
    binary, plugin = require_orthanc()
    http_port, dicom_port, move_port = free_port(), free_port(), free_port()
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "Name": "anonapi-test",
        "StorageDirectory": str(folder / "db"),
        "IndexDirectory": str(folder / "db"),
        "StorageCompression": False,
        "HttpPort": http_port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "DicomServerEnabled": True,
        "DicomAet": ORTHANC_AET,
        "DicomPort": dicom_port,
        "DicomCheckCalledAet": True,
        "DicomCheckModalityHost": False,
        "DicomAlwaysAllowEcho": True,
        "DicomAlwaysAllowStore": True,
        "DicomAlwaysAllowFind": True,
        "DicomAlwaysAllowGet": True,
        "DicomAlwaysAllowMove": True,
        "DicomModalities": {"anonapi": [CLIENT_AET, "127.0.0.1", move_port]},
        "DicomScpTimeout": 30,
        "Plugins": [str(plugin)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False},
        "HttpThreadsCount": 8,
    }
    config_path = folder / "orthanc.json"
    config_path.write_text(json.dumps(config, indent=2))
    log = (folder / "orthanc.log").open("wb")
    process = subprocess.Popen(
        [str(binary), str(config_path)], stdout=log, stderr=subprocess.STDOUT, cwd=folder
    )
    orthanc = Orthanc(f"http://127.0.0.1:{http_port}", dicom_port, ORTHANC_AET, move_port)
    try:
        _wait_until_up(orthanc, process, folder / "orthanc.log")
        yield orthanc
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


def _wait_until_up(orthanc: Orthanc, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Orthanc exited at start-up:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{orthanc.http_url}/system", timeout=1).status_code == 200:
                with socket.create_connection(("127.0.0.1", orthanc.dicom_port), timeout=1):
                    return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"Orthanc did not start in 30 s:\n{log.read_text()[-3000:]}")
