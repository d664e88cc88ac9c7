"""`anon map check`, the check before `anon create from-mapping`, and `anon pseudonyms`."""

from __future__ import annotations

import json
from pathlib import Path

from anonapi_server.testing import EmbeddedServer
from tests.actions.conftest import write_mapping
from tests.cli.conftest import Anon

CLEAN = "source,pseudo_name\nfolder:s1,P1\nfolder:s2,P2\n"
TWO_PSEUDONYMS = "source,pseudo_name\nfolder:s1,P1\nfolder:s1,P2\n"
# An error only the pre-flight finds: the shared validation (which refuses duplicates) passes it.
EXCEL_DAMAGE = "source,pseudo_name\nfolder:s1,P1\naccession_number:1.23457E+11,P2\n"


def test_map_check_of_a_clean_mapping_exits_0(anon: Anon, idle: EmbeddedServer, workdir: Path):
    write_mapping(workdir, idle, CLEAN)
    result = anon("map", "check")
    assert result.exit_code == 0, result.output
    assert "2 rows: 0 errors, 0 warnings" in result.output


def test_map_check_names_line_and_column_and_exits_1_on_errors(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    write_mapping(workdir, idle, TWO_PSEUDONYMS, extra=["accession_number:1.23457E+11,P3"])
    result = anon("map", "check")
    assert result.exit_code == 1
    assert "anon_mapping.csv, line 10, column 'source': the same study as line 9" in result.output
    assert "line 11, column 'source': '1.23457E+11' is a number in scientific" in result.output
    assert "Traceback" not in result.output


def test_map_check_json(anon: Anon, idle: EmbeddedServer, workdir: Path) -> None:
    write_mapping(workdir, idle, TWO_PSEUDONYMS)
    result = anon("map", "check", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert data["findings"][0] == {
        "severity": "error",
        "check": "two_pseudonyms",
        "row": 2,
        "line": 10,
        "column": "source",
        "message": data["findings"][0]["message"],
    }


def test_create_refuses_on_preflight_errors_and_creates_nothing(
    anon: Anon, idle: EmbeddedServer, workdir: Path
) -> None:
    write_mapping(workdir, idle, EXCEL_DAMAGE)
    before = idle.store.count_jobs()
    result = anon("create", "from-mapping", "--yes")
    assert result.exit_code == 1
    assert "pre-flight check found 1 errors" in result.output
    assert "--ignore-check" in result.output
    assert idle.store.count_jobs() == before
    assert not (workdir / ".anonbatch").exists()


def test_create_with_ignore_check_goes_on(anon: Anon, idle: EmbeddedServer, workdir: Path):
    write_mapping(workdir, idle, EXCEL_DAMAGE)
    before = idle.store.count_jobs()
    result = anon("create", "from-mapping", "--yes", "--ignore-check")
    assert result.exit_code == 0, result.output
    assert "creating anyway" in result.output
    assert idle.store.count_jobs() == before + 2


def test_created_pseudonyms_are_registered_and_a_later_batch_is_warned(
    anon: Anon, idle: EmbeddedServer, workdir: Path, monkeypatch
) -> None:
    write_mapping(workdir, idle, CLEAN)
    assert anon("create", "from-mapping", "--yes").exit_code == 0
    listed = json.loads(anon("pseudonyms", "list", "--json").stdout)
    assert sorted(e["pseudonym"] for e in listed) == ["P1", "P2"]
    assert all(str(workdir) == e["batch"] for e in listed)
    assert "s1" not in json.dumps(listed)  # only keyed hashes of the sources

    later = workdir / "later"
    later.mkdir()
    write_mapping(later, idle, "source,pseudo_name\nfolder:s1,P7\nfolder:s3,P2\n")
    monkeypatch.chdir(later)
    result = anon("pseudonyms", "check")
    assert result.exit_code == 0  # warnings only
    assert "line 9, column 'source': this source was given pseudonym 'P1' before" in result.output
    assert "line 10, column 'source': pseudonym 'P2' was given to another source" in result.output


def test_forget_a_batch_after_confirmation(anon: Anon, idle: EmbeddedServer, workdir: Path):
    write_mapping(workdir, idle, CLEAN)
    assert anon("create", "from-mapping", "--yes").exit_code == 0
    result = anon("pseudonyms", "forget", "--batch", str(workdir), input="n\n")
    assert result.exit_code == 1
    assert len(json.loads(anon("pseudonyms", "list", "--json").stdout)) == 2
    result = anon("pseudonyms", "forget", "P1", "--yes")
    assert result.exit_code == 0 and "Forgot 1 entries" in result.output
    result = anon("pseudonyms", "forget", "--batch", str(workdir), "--yes")
    assert result.exit_code == 0 and "Forgot 1 entries" in result.output
    assert anon("pseudonyms", "forget", "P1", "--yes").exit_code == 1


def test_a_registry_that_cannot_be_written_does_not_fail_the_creation(
    anon: Anon, idle: EmbeddedServer, workdir: Path, tmp_path: Path, monkeypatch
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the data folder should be")
    monkeypatch.setenv("ANONAPI_DATA_DIR", str(blocked))
    write_mapping(workdir, idle, CLEAN)
    result = anon("create", "from-mapping", "--yes")
    assert result.exit_code == 0, result.output
    assert "were not recorded in the registry: Cannot " in result.output
    assert "Pseudonym registry not checked" in anon("map", "check").output
