"""The local pre-flight checks: each one triggered by a mapping that has the fault, and quiet on
one that does not."""

from __future__ import annotations

import pytest

from anonapi_core.mapping import parse_mapping
from anonapi_core.preflight import PreflightReport, check_mapping, uid_problem

OPTIONS = (
    "## Description ##\r\ntest\r\n## Options ##\r\n"
    "root_source_path,\\\\server\\share\\proj\r\nproject,P\r\n"
    "destination_path,\\\\server\\share\\out\r\n## Mapping ##\r\n"
)
HEADER_LINE = 8  # the grid header's file line; the first row is on line 9


def check(grid: str) -> PreflightReport:
    text = OPTIONS + "source,pseudo_id\r\n" + "\r\n".join(grid.strip().splitlines()) + "\r\n"
    return check_mapping(parse_mapping(text))[0]


def found(report: PreflightReport, name: str) -> list[tuple[int | None, str]]:
    return [(f.line, f.severity) for f in report.findings if f.check == name]


CLEAN = """
folder:s0,P0
folder:s1,P1
accession_number:0012345,P2
accession_number:0099999,P3
study_instance_uid:1.2.840.10008.1,P4
"""


def test_a_clean_mapping_has_no_findings() -> None:
    report = check(CLEAN)
    assert report.findings == []
    assert report.ok


def test_the_same_source_twice_is_an_error_on_the_later_row() -> None:
    report = check("folder:s0,P0\nfolder:s1,P1\nfolder:S0,P0")
    assert found(report, "duplicate_source") == [(11, "error")]
    assert "line 9" in report.errors[0].message


def test_one_study_under_two_pseudonyms_is_an_error() -> None:
    report = check("accession_number:123,P0\naccession_number:123,P1")
    assert found(report, "two_pseudonyms") == [(10, "error")]
    assert "'P1' here, 'P0' there" in report.errors[0].message


def test_one_pseudonym_for_two_sources_is_a_warning() -> None:
    report = check("folder:s0,P0\nfolder:s1,P0")
    assert found(report, "shared_pseudonym") == [(10, "warning")]
    assert report.ok  # two studies of one patient is allowed


def test_scientific_notation_is_an_error_in_sources_and_pseudonyms() -> None:
    report = check("accession_number:1.23457E+11,P0\nfolder:s1,4.5e6")
    assert found(report, "excel_scientific") == [(9, "error"), (10, "error")]


def test_a_trailing_point_zero_is_a_warning() -> None:
    report = check("accession_number:12345.0,P0\naccession_number:12345.1,P1")
    assert found(report, "excel_trailing_zero") == [(9, "warning")]


def test_lost_leading_zeros_are_found_when_other_rows_have_them() -> None:
    report = check("accession_number:0012345,P0\naccession_number:12346,P1")
    assert found(report, "excel_leading_zeros") == [(10, "warning")]
    assert "'0012346'" in report.warnings[0].message


def test_short_numbers_are_fine_when_no_row_has_leading_zeros() -> None:
    report = check("accession_number:12345,P0\naccession_number:1234567,P1")
    assert found(report, "excel_leading_zeros") == []


@pytest.mark.parametrize(
    ("uid", "reason"),
    [
        ("1.2.3 4", "spaces"),
        ("1.2.3a", "'a'"),
        ("1.2.03", "leading zero"),
        ("1..2", "empty part"),
        ("1." + "2" * 70, "at most 64"),
    ],
)
def test_invalid_uids_are_errors(uid: str, reason: str) -> None:
    report = check(f"study_instance_uid:{uid},P0")
    assert found(report, "invalid_uid") == [(9, "error")]
    assert reason in report.errors[0].message
    assert uid_problem("1.2.840.10008.5.1.4.1.1.2") is None


def test_validation_problems_are_errors_and_rows_with_them_are_not_compared() -> None:
    report = check("folder:../../x,P0\nfolder:s0,P0")
    assert found(report, "validation") == [(9, "error")]
    assert found(report, "shared_pseudonym") == []


def test_rows_added_since_loading_are_named_by_row_number() -> None:
    mapping = parse_mapping(OPTIONS + "source,pseudo_id\r\nfolder:s0,P0\r\n")
    mapping.rows.append({"source": "folder:s0", "pseudo_id": "P9"})
    report = check_mapping(mapping)[0]
    assert [str(f) for f in report.errors] == [
        "mapping, row 2, column 'source': the same study as line 9 under another pseudonym "
        "('P9' here, 'P0' there): one patient would become two; keep one row"
    ]


def test_the_report_as_json_lists_errors_first() -> None:
    data = check("folder:s0,P0\nfolder:s1,P0\nfolder:s0,P0").to_dict()
    assert [f["severity"] for f in data["findings"]] == ["error", "warning"]
    assert data["ok"] is False and data["errors"] == 1
