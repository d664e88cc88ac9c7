"""The suite runs on a fresh clone: our own corpus is complete, and a missing compatibility corpus
is a skip that says why (a failure in CI, which always has it)."""

from pathlib import Path

import pytest

from tests.conftest import COMPAT_MISSING, require_compat_dir


def test_a_missing_compat_corpus_is_skipped_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"^{COMPAT_MISSING}$"):
        require_compat_dir(tmp_path / "shared" / "compat")


def test_a_missing_compat_corpus_fails_in_ci(tmp_path, monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=COMPAT_MISSING):
        require_compat_dir(tmp_path / "shared" / "compat")


def test_our_corpus_holds_every_file_the_compat_corpus_has_that_tests_use(own_corpus: Path):
    """Each file a corpus test names exists in our own corpus, binary ones written at test time."""
    expected = [
        "original-fixtures/test_cli/test_dir/2.0-CT-1/2",
        "original-fixtures/test_selection/test_is_dicom/not_dicom",
        "original-fixtures/test_inputfile/example_deid_form_missing_values.xlsx",
        "original-fixtures/test_mapper/inputfile/some_accession_numbers.xlsx",
        "original-fixtures/test_cli_parameters/folder2C/subfolderC/test2",
        "server-responses/job_info.json",
    ]
    assert [name for name in expected if not (own_corpus / name).is_file()] == []
    assert len(list((own_corpus / "server-responses").glob("*.json"))) == 10
