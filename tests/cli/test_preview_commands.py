"""`anon preview FILE`: the table, --json, a project's options from the embedded server home."""

from __future__ import annotations

import json
from pathlib import Path

from pydicom.data import get_testdata_file

from anonapi_server.admin import add_project, init_home
from anonapi_server.config import ServerHome
from tests.cli.conftest import Anon

CT = get_testdata_file("CT_small.dcm")


def test_preview_prints_verdict_rules_and_the_engine_note(anon: Anon) -> None:
    result = anon("preview", CT, "--changed")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1] == "Verdict: would be de-identified and written"
    assert any(line.startswith("(0010,0010)") and "the job's pseudonym" in line for line in lines)
    assert not any("not in the Basic Profile: kept" in line for line in lines)  # unchanged
    assert "Another server's profile may differ" in lines[-1]


def test_preview_json_with_a_project_read_from_the_server_home(anon: Anon, tmp_path: Path):
    home = ServerHome(tmp_path / "home")
    init_home(home)
    add_project(home, "Devices", options=["retain_device_identity"])
    result = anon("preview", CT, "--project", "Devices", "--server-home", str(home.root), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["options"] == ["retain_device_identity"]
    station = next(r for r in data["rows"] if r["path"] == "(0008,1010)")
    assert station["rule"] == "project option retain_device_identity: kept"


def test_an_unknown_project_or_option_is_one_line(anon: Anon, tmp_path: Path) -> None:
    home = ServerHome(tmp_path / "home")
    init_home(home)
    result = anon("preview", CT, "--project", "Nope", "--server-home", str(home.root))
    assert result.exit_code == 1
    assert result.output.strip() == "Error: No project 'Nope' on the embedded server"
    result = anon("preview", CT, "--option", "retain_everything")
    assert result.exit_code == 2
    assert "unknown de-identification option" in result.output
