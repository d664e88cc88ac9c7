"""The preview of a file's de-identification: generated files and pydicom's bundled test files."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file

from anonapi_server.deid.preview import ENGINE_NOTE, preview_file
from anonapi_server.sample_studies import write_study

BUNDLED = Path(get_testdata_file("CT_small.dcm")).parent


def rows_by_path(preview) -> dict[str, object]:
    return {row.path: row for row in preview.rows}


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("preview")
    write_study(
        folder / "ct", patient_id="PRE1", patient_name="Doe^Jane", n_files=1, rows=8, columns=8
    )
    write_study(
        folder / "us",
        patient_id="PRE2",
        patient_name="Doe^John",
        n_files=1,
        modality="US",
        burned_in=True,
        rows=8,
        columns=8,
    )
    return folder


def first_file(folder: Path) -> Path:
    return next(p for p in sorted(folder.rglob("*")) if p.is_file())


def test_a_generated_ct_shows_pseudonym_removals_and_the_rules(study: Path) -> None:
    preview = preview_file(first_file(study / "ct"), project="P")
    assert preview.verdict == "written" and preview.reason is None
    rows = rows_by_path(preview)
    name = rows["(0010,0010)"]
    assert (name.before, name.after, name.rule) == (
        "Doe^Jane",
        "PSEUDO^NAME",
        "the job's pseudonym",
    )
    uid = rows["(0020,000D)"]
    assert uid.after.startswith("2.25.") and uid.rule == "Basic Profile U: new UID"
    assert any(r.rule.startswith("added") for r in preview.rows)
    assert preview.note == ENGINE_NOTE and "Another server's profile may differ" in preview.note


def test_a_burned_in_ultrasound_is_quarantined_with_the_reason(study: Path) -> None:
    preview = preview_file(first_file(study / "us"))
    assert preview.verdict == "quarantined"
    assert "burned-in annotation" in (preview.reason or "")


def test_a_project_option_is_named_as_the_rule_that_keeps_an_element() -> None:
    path = BUNDLED / "CT_small.dcm"
    plain = rows_by_path(preview_file(path))["(0008,1010)"]
    kept = rows_by_path(preview_file(path, options=frozenset({"retain_device_identity"})))[
        "(0008,1010)"
    ]
    assert plain.after != plain.before
    assert (kept.after, kept.rule) == (kept.before, "project option retain_device_identity: kept")


def test_private_tags_and_sequence_items_are_listed() -> None:
    rows = rows_by_path(preview_file(BUNDLED / "CT_small.dcm"))
    assert rows["(0009,0010)"].rule == "private tag: removed"
    assert rows["(0009,0010)"].after == "(removed)"
    nested = rows_by_path(preview_file(BUNDLED / "rtplan.dcm"))
    assert any(" > " in path for path in nested)


def test_an_unknown_option_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown de-identification option"):
        preview_file(BUNDLED / "CT_small.dcm", options=frozenset({"retain_everything"}))


def test_a_file_that_is_not_dicom_would_be_skipped(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not an image")
    preview = preview_file(path)
    assert (preview.verdict, preview.rows) == ("skipped", [])


@pytest.mark.parametrize("path", sorted(BUNDLED.glob("*.dcm")), ids=lambda p: p.name)
def test_every_bundled_pydicom_file_previews_like_the_engine_decides(path: Path) -> None:
    preview = preview_file(path)
    if preview.verdict == "skipped":
        return
    rows = rows_by_path(preview)
    ds = dcmread(path, stop_before_pixels=True)
    for tag, value in ((0x00100010, "PSEUDO^NAME"), (0x00100020, "PSEUDO_ID")):
        key = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
        assert rows[key].after == value
        assert (tag in ds) == (rows[key].before != "(absent)")
    assert not any(
        r.path.startswith(("(0009", "(0019", "(0029")) and r.after != "(removed)"
        for r in preview.rows
    )


def test_the_preview_shows_what_the_engine_writes(study: Path, tmp_path: Path) -> None:
    from anonapi_server.deid import Deidentifier, ProjectProfile
    from anonapi_server.deid.preview import PREVIEW_PSEUDO_ID, PREVIEW_PSEUDO_NAME, PREVIEW_SECRET

    source = first_file(study / "ct")
    engine = Deidentifier(ProjectProfile("P", secret=PREVIEW_SECRET))
    engine.deidentify_file(source, tmp_path / "out.dcm", PREVIEW_PSEUDO_ID, PREVIEW_PSEUDO_NAME)
    written = dcmread(tmp_path / "out.dcm", stop_before_pixels=True)
    for row in preview_file(source, project="P").rows:
        if " > " in row.path:
            continue
        tag = int(row.path[1:5] + row.path[6:10], 16)
        if row.after == "(removed)":
            assert tag not in written, row
        elif written[tag].VR != "SQ":
            assert row.after == " ".join(str(written[tag].value).split())[:64], row
