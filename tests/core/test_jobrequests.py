"""From mapping rows to create_job form fields: the original's requests, without its bugs."""

from __future__ import annotations

from pathlib import Path

import pytest

from anonapi_core.exceptions import JobSetValidationError
from anonapi_core.jobrequests import filter_jobs, resolve_jobs, validate_jobs
from anonapi_core.mapping import add_rows, load_mapping, parse_mapping

TEST_DEFAULTS = [("project", "Test_project"), ("destination_path", "//test/output/root_path")]
OPTIONS = "## Description ##\n## Options ##\n{}\n## Mapping ##\n"


@pytest.fixture(scope="module")
def cli_fixtures(corpus: Path) -> Path:
    return corpus / "original-fixtures" / "test_cli"


def _mapping(options: str, grid: str):
    return parse_mapping(OPTIONS.format(options) + grid)


def test_the_originals_cli_mapping_gives_the_same_twenty_create_job_requests(cli_fixtures):
    jobs = resolve_jobs(load_mapping(cli_fixtures / "anon_mapping.csv"), TEST_DEFAULTS)
    assert [job.create_job_params() for job in jobs] == [
        {
            "source_type": "PATH",
            "source_path": f"folder:\\\\otherserver\\default_source_path\\folder\\file{n}"
            + ("\\nogiets" if n == 16 else ""),
            "destination_type": "PATH",
            "project_name": "Test_project",
            "destination_path": r"\\someserver\share\folder1",
            "anonymizedpatientname": f"patientName{n}",
            "anonymizedpatientid": f"patient{n}",
            "description": "test description",
            "pims_keyfile_id": "555",
        }
        for n in range(20)
    ]


def test_the_diverse_mapping_gives_two_path_and_two_wado_jobs(cli_fixtures):
    jobs = resolve_jobs(load_mapping(cli_fixtures / "anon_mapping_diverse.csv"), TEST_DEFAULTS)
    params = [job.create_job_params() for job in jobs]
    assert [p["source_type"] for p in params] == ["PATH", "PATH", "WADO", "WADO"]
    assert params[1]["source_path"] == r"folder:\\server2\myshare\thing\folder\file1"
    assert params[2] == {
        "source_type": "WADO",
        "source_name": "IDC_WADO",
        "source_instance_id": "123.3345.34534.6",
        "destination_type": "PATH",
        "project_name": "Test_project",
        "destination_path": r"\\someserver\share\folder2",
        "anonymizedpatientname": "patientName3",
        "anonymizedpatientid": "patient3",
        "description": "a test for StudyInstanceUID",
    }
    assert params[3]["source_instance_id"] == "accession_number:1234578.7654321"


def test_a_grid_cell_beats_an_option_which_beats_a_settings_default():
    mapping = _mapping(
        "project,FromOptions\npims_key,1",
        "source,project,destination_path\n"
        "folder://s/sh/a,FromCell,\n"
        "folder://s/sh/b,,//s/sh/row_out\n",
    )
    defaults = [("project", "FromSettings"), ("destination_path", "//s/sh/out"), ("pims_key", "9")]
    first, second = resolve_jobs(mapping, defaults)
    assert (first.project, first.destination_path, first.pims_key) == (
        "FromCell",
        r"\\s\sh\out",
        "1",
    )
    assert (second.project, second.destination_path) == ("FromOptions", r"\\s\sh\row_out")


def test_an_empty_pseudonym_is_filled_from_the_other_one():
    mapping = _mapping(
        "project,P\ndestination_path,//s/sh/out",
        "source,pseudo_id,pseudo_name\n"
        "accession_number:1,,NameOnly\n"
        "accession_number:2,IdOnly,\n"
        "accession_number:3,,\n",
    )
    params = [job.create_job_params() for job in resolve_jobs(mapping)]
    assert [(p.get("anonymizedpatientid"), p.get("anonymizedpatientname")) for p in params] == [
        ("NameOnly", "NameOnly"),
        ("IdOnly", "IdOnly"),
        (None, None),
    ]
    assert "anonymizedpatientid" not in params[2] and "pims_keyfile_id" not in params[2]


@pytest.mark.parametrize(
    ("options", "column"),
    [("destination_path,//s/sh/out", "project"), ("project,P", "destination_path")],
)
def test_a_value_no_option_or_cell_gives_names_every_row(options, column):
    mapping = _mapping(options, "source\naccession_number:1\naccession_number:2\n")
    problems = validate_jobs(mapping, [("project", "NOT_SET"), ("destination_path", ".")])
    first, second = mapping.line_of(0), mapping.line_of(1)
    assert [(p.line, p.column) for p in problems] == [(first, column), (second, column)]
    assert str(problems[0]).startswith(f"mapping, line {first}, column '{column}': no {column} set")


def test_a_row_lacking_both_project_and_destination_is_named_once():
    mapping = _mapping("", "source\naccession_number:1\naccession_number:2\n")
    problems = validate_jobs(mapping)
    assert [str(p) for p in problems] == [
        f"mapping, line {mapping.line_of(n)}: no project or destination_path set: "
        "add a 'project' and a 'destination_path' option or column each"
        for n in (0, 1)
    ]


@pytest.mark.parametrize(
    ("options", "line", "option", "value"),
    [
        ("destination_path,//s/sh/out\nproject,NOT_SET", 4, "project", "NOT_SET"),
        ("project,P\ndestination_path,.", 4, "destination_path", "."),
        ("destination_path,NOT_SET\nproject,P", 3, "destination_path", "NOT_SET"),
    ],
)
def test_a_placeholder_option_is_reported_once_at_its_own_line(options, line, option, value):
    mapping = _mapping(options, "source\naccession_number:1\naccession_number:2\n")
    problems = validate_jobs(mapping, [("project", "NOT_SET"), ("destination_path", ".")])
    assert len(problems) == 1
    text = str(problems[0])
    assert text.startswith(f"mapping, line {line}, option '{option}': not set ({value}): ")
    assert text.endswith("(2 rows use it)")


def test_options_wide_problems_are_reported_once_not_once_per_row():
    mapping = parse_mapping(
        "## Description ##\nfive rows\n## Options ##\n"
        "project,NOT_SET\ndestination_path,NOT_SET\nroot_source_path,/tmp/x\n"
        "## Mapping ##\nsource,pseudo_name\n"
        "folder:a,A\nfolder:b,B\nfolder:c,C\naccession_number:1,D\naccession_number:2,E\n",
        path=Path("anon_mapping.csv"),
    )
    problems = validate_jobs(mapping)
    assert [(p.line, p.option) for p in problems] == [
        (4, "project"),
        (5, "destination_path"),
        (6, "root_source_path"),
    ]
    assert str(problems[0]).startswith(
        "anon_mapping.csv, line 4, option 'project': not set (NOT_SET): "
    )
    assert str(problems[2]).endswith(
        "'/tmp/x' is not a UNC path (\\\\server\\share) (3 rows use it)"
    )


def test_a_row_whose_own_cell_overrides_a_bad_option_is_not_blamed():
    mapping = _mapping(
        "project,NOT_SET\ndestination_path,//s/sh/out",
        "source,project\naccession_number:1,P\naccession_number:2,\naccession_number:3,NOT_SET\n",
    )
    problems = validate_jobs(mapping)
    assert [(p.line, p.option, p.column) for p in problems] == [
        (3, "project", None),
        (9, None, "project"),
    ]
    assert problems[0].message.endswith("(1 row uses it)")
    del mapping.rows[1:]
    assert [job.project for job in resolve_jobs(mapping)] == ["P"]


def test_a_bad_option_no_row_uses_is_no_problem():
    mapping = _mapping(
        "project,P\ndestination_path,//s/sh/out\nroot_source_path,/tmp/x",
        "source\naccession_number:1\nfolder://s/sh/unc\n",
    )
    assert validate_jobs(mapping) == []


def test_pacs_rows_never_need_a_root_source_path_but_relative_folders_do():
    mapping = _mapping(
        "project,P\ndestination_path,//s/sh/out\nroot_source_path,\\not_unc",
        "source\nstudy_instance_uid:1.2.3\naccession_number:12\nfolder:a\n",
    )
    problems = validate_jobs(mapping)
    assert [str(p) for p in problems] == [
        "mapping, line 5, option 'root_source_path': "
        "'\\not_unc' is not a UNC path (\\\\server\\share) (1 row uses it)"
    ]


def test_every_bad_row_is_reported_not_just_the_first():
    mapping = _mapping(
        "project,P",
        "source,destination_path\n"
        "folder:relative,//s/sh/out\n"
        "folder:C:/data,//s/sh/out\n"
        "folder://s/sh/ok,//s/sh/out\n"
        ",//s/sh/out\n"
        "folder://s/sh/x,H:\\out\n",
    )
    problems = validate_jobs(mapping)
    assert [(p.line, p.column) for p in problems] == [
        (6, "source"),
        (7, "source"),
        (9, "source"),
        (10, "destination_path"),
    ]
    assert "no root_source_path is set" in problems[0].message
    assert "'H:\\out' is not a UNC path" in problems[3].message
    with pytest.raises(JobSetValidationError) as error:
        resolve_jobs(mapping)
    assert str(error.value).splitlines() == [str(p) for p in problems]


def test_a_relative_source_is_joined_to_the_unc_root_and_may_not_climb_out_of_it():
    mapping = _mapping(
        "project,P\ndestination_path,//s/sh/out\nroot_source_path,//s/sh/study",
        "source\nfileselection:a/b/fileselection.txt\nfolder:../../..\n",
    )
    problems = validate_jobs(mapping)
    assert [(p.line, p.column) for p in problems] == [(9, "source")]
    mapping.rows.pop()
    (job,) = resolve_jobs(mapping)
    assert job.create_job_params()["source_path"] == (
        r"fileselection:\\s\sh\study\a\b\fileselection.txt"
    )


def test_row_keys_are_stable_between_loads_and_differ_between_rows(cli_fixtures):
    first = resolve_jobs(load_mapping(cli_fixtures / "anon_mapping.csv"), TEST_DEFAULTS)
    again = resolve_jobs(load_mapping(cli_fixtures / "anon_mapping.csv"), TEST_DEFAULTS)
    assert [j.row_key for j in first] == [j.row_key for j in again]
    assert len({j.row_key for j in first}) == 20


def test_two_rows_asking_for_the_same_job_are_a_problem():
    mapping = _mapping(
        "project,P\ndestination_path,//s/sh/out",
        "source,pseudo_name\naccession_number:1,a\naccession_number:1,a\n",
    )
    add_rows(mapping, [{"source": "accession_number:1", "pseudo_name": "a"}])
    assert [str(p) for p in validate_jobs(mapping)] == [
        "mapping, line 8: the same job as line 7; remove one of them",
        "mapping, row 3: the same job as line 7; remove one of them",
    ]


def test_filter_keeps_jobs_whose_pseudo_id_or_name_matches():
    mapping = _mapping(
        "project,P\ndestination_path,//s/sh/out",
        "source,pseudo_id,pseudo_name\n"
        "accession_number:1,id1,name1\n"
        "accession_number:2,id2,name2\n"
        "accession_number:3,id3,name3\n",
    )
    kept = filter_jobs(resolve_jobs(mapping), ["id1", "name3", "other"])
    assert [job.source.value for job in kept] == ["1", "3"]


def test_an_unknown_settings_default_is_a_problem_not_a_crash():
    mapping = _mapping("project,P\ndestination_path,//s/sh/out", "source\naccession_number:1\n")
    problems = validate_jobs(mapping, [("projekt", "X"), ("pims_key", " 7 ")])
    assert [str(p) for p in problems] == ["settings: unknown job default parameter 'projekt'"]
    assert resolve_jobs(mapping, [("pims_key", " 7 ")])[0].pims_key == "7"
