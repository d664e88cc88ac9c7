"""DICOM files nobody on this project wrote, and the tools that judge our output of them.

The corpus is pydicom's bundled test files plus the same files re-encoded by dcmtk's `dcmconv` as
implicit VR little endian, explicit VR big endian and deflated explicit VR little endian. The
judges are dciodvfy (Debian dicom3tools: does the file still satisfy its IOD?) and dcmdump
(dcmtk: can an independent parser read it?). A missing tool skips its tests, or fails them when
CI=true, where `.ci/run` installs both.
"""

import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from pydicom.data import get_testdata_files

# dcmconv's flags for each re-encoding, by the name the tests use.
ENCODINGS = {"implicit": "+ti", "big_endian": "+tb", "deflated": "+td"}
# dciodvfy messages quote values (UIDs, numbers) that de-identification changes on purpose.
_NUMBERS = re.compile(r"\b\d[\d.]*")
_DEFLATED = b"1.2.840.10008.1.2.1.99"


def require_tool(name: str) -> str:
    """The tool's path; skip when it is missing, fail instead under CI."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed (Debian packages dicom3tools / dcmtk)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def pydicom_test_files() -> list[Path]:
    """pydicom's bundled test files (those shipped in the wheel, not downloaded), sorted."""
    return sorted(Path(f) for f in get_testdata_files() if Path(f).is_file())


def reencode(files: list[Path], encoding: str, folder: Path) -> list[Path]:
    """`files` re-encoded by dcmconv into `folder`; files dcmconv cannot convert are left out."""
    tool = require_tool("dcmconv")
    folder.mkdir(parents=True, exist_ok=True)
    converted = []
    for index, src in enumerate(files):
        dst = folder / f"{index:03d}-{src.name}"
        result = subprocess.run(
            [tool, "-q", ENCODINGS[encoding], str(src), str(dst)], capture_output=True, timeout=60
        )
        if result.returncode == 0 and dst.exists():
            converted.append(dst)
        else:
            dst.unlink(missing_ok=True)
    return converted


def validator_errors(path: Path, scratch: Path) -> Counter[str]:
    """dciodvfy's error lines for `path`, with quoted numbers and UIDs blanked, counted.

    dciodvfy cannot read deflated files: those are inflated by dcmconv into `scratch` first.
    """
    with path.open("rb") as fp:
        deflated = _DEFLATED in fp.read(1024)
    if deflated:
        inflated = scratch / f"inflated-{path.parent.name}-{path.name}"
        subprocess.run(
            [require_tool("dcmconv"), "-q", "+te", str(path), str(inflated)], check=True, timeout=60
        )
        path = inflated
    result = subprocess.run([require_tool("dciodvfy"), str(path)], capture_output=True, timeout=60)
    lines = (result.stdout + result.stderr).decode("latin-1").splitlines()
    return Counter(_NUMBERS.sub("N", line.strip()) for line in lines if line.startswith("Error"))


def dcmdump_problems(path: Path) -> list[str]:
    """dcmdump's errors and warnings reading `path` (empty when dcmtk reads it cleanly)."""
    result = subprocess.run(
        [require_tool("dcmdump"), "-q", str(path)], capture_output=True, timeout=60
    )
    problems = [
        line
        for line in result.stderr.decode("latin-1").splitlines()
        if line.startswith(("E:", "F:", "W:"))
    ]
    if result.returncode:
        problems.append(f"dcmdump exited {result.returncode}")
    return problems
