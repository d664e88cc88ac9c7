"""The seed documentation's tutorials, end to end, against a real embedded server with workers.

"Anonymize from PACS" (map init, add accession numbers, create, batch status, show-error) and the
folder workflow (add-study-folders with wildcards and an xlsx input file, a hand-made selection
with excludes), then the batch follow-up commands a user runs while jobs finish.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import openpyxl
import pytest
import yaml

from anonapi_server.sample_studies import write_study
from anonapi_server.testing import EmbeddedServer
from tests.cli.conftest import Anon, connect


def _study(folder: Path, patient: str) -> None:
    write_study(folder, patient_id=patient, patient_name=patient, n_files=2, rows=32, columns=32)


def _final_summary(output: str) -> dict[str, int]:
    """Status -> count from the last summary block (between its two rules of dashes)."""
    lines = output.split("Summary for all")[-1].splitlines()
    rules = [n for n, line in enumerate(lines) if line.startswith("-----")]
    block = lines[rules[0] + 1 : rules[1]]
    return {line.split()[0]: int(line.split()[1]) for line in block}


def test_tutorial_from_server_setup_to_finished_batch(
    anon: Anon, anon_server_session: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = anon_server_session
    name = f"project_{uuid.uuid4().hex[:8]}"
    project = server.share_root / name
    project.mkdir()
    monkeypatch.chdir(project)

    # Configuration: server add/activate, user name and a token from the server's admin.
    connect(anon, server)
    assert anon("server", "status").exit_code == 0
    out = server.unc(name, "out")
    assert (
        anon(
            "create", "set-defaults", "--project", "Wetenschap-Algemeen", "--destination-path", out
        ).exit_code
        == 0
    )

    # The mapping: empty from map init (no example rows), folders by wildcard and by xlsx, PACS.
    assert anon("map", "init", "--root-source-path", server.unc(name)).exit_code == 0
    _study(project / "studyA", "PA")
    _study(project / "studyB", "PB")
    _study(project / "extra" / "studyC", "PC")
    (project / "studyA" / "notes.txt").write_text("not DICOM")
    book = openpyxl.Workbook()
    book.active.append(["folder", "pseudonym"])
    book.active.append(["extra\\studyC", "PatientC"])
    book.save(project / "folders.xlsx")
    added = anon("map", "add-study-folders", "study*")
    from_file = anon("map", "add-study-folders", "--input-file", "folders.xlsx")
    pacs = anon("map", "add-accession-numbers", "1234567.12345678")
    assert (added.exit_code, from_file.exit_code, pacs.exit_code) == (0, 0, 0)
    assert "Done. Added 2 study folders to mapping" in added.output
    status = anon("map", "status")
    assert "Parameter grid with 4 rows" in status.output
    assert "problems" not in status.output

    # Create the jobs; ids go into the batch of this folder.
    created = anon("create", "from-mapping", "--yes")
    assert created.exit_code == 0, created.output
    ids = yaml.safe_load((project / ".anonbatch").read_text())["job_ids"]
    assert len(ids) == 4

    # Watch until nothing is ACTIVE or UPLOADED: the three folders are done, PACS rows fail
    # (the embedded server has no PACS).
    watched = anon("batch", "status", "--watch", "--interval", "0.2")
    assert watched.exit_code == 0
    assert _final_summary(watched.output) == {"DONE": 3, "ERROR": 1, "NOT_FOUND": 0}
    written = [p for p in (project / "out").rglob("*.dcm") if p.is_file()]
    assert len(written) == 6  # two DICOM files per study, notes.txt left out

    errors = anon("batch", "show-error")
    assert errors.output.count("error message:") == 1
    assert "PACS" in errors.output

    reset = anon("batch", "reset-error", "--yes")
    assert reset.exit_code == 0
    assert reset.output.count("Reset job") == 1
    cancel = anon("batch", "cancel-active", "--yes")
    assert cancel.exit_code == 0
    anon("batch", "status", "--watch", "--interval", "0.2")
    final = json.loads(anon("batch", "status", "--json").output)
    assert set(final["counts"]) <= {"DONE", "ERROR", "INACTIVE", "NOT_FOUND"}
    assert final["counts"]["DONE"] == 3

    done_id = next(str(j["job_id"]) for j in final["jobs"] if j["status"] == "DONE")
    info = anon("job", "info", done_id)
    assert info.exit_code == 0
    assert "status" in info.output and "DONE" in info.output

    # A hand-made selection with excludes, added to the mapping as one more job.
    _study(project / "manual" / "series1", "PM")
    (project / "manual" / "series1" / "skip.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 64)
    monkeypatch.chdir(project / "manual")
    selected = anon("select", "add", "*", "-e", "*skip*")
    assert selected.exit_code == 0
    assert "selection now contains 2 files" in selected.output
    monkeypatch.chdir(project)
    assert anon("map", "add-selection", "manual/fileselection.txt").exit_code == 0
    more = anon("create", "from-mapping", "--yes")
    assert more.exit_code == 0
    assert "4 rows already have a job" in more.output
    assert len(yaml.safe_load((project / ".anonbatch").read_text())["job_ids"]) == 5
