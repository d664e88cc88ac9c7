"""One job-id grammar: spaces and commas separate, `N-M` expands, errors name the element."""

import pytest

from anonapi_core.exceptions import ParameterParsingError
from anonapi_core.jobids import MAX_RANGE_SIZE, format_job_ids, parse_job_ids, sort_job_ids


@pytest.mark.parametrize(
    "tokens, expected",
    [
        # the original's collection grammar table (tests/test_cli_parameters.py) ...
        (["123"], ["123"]),
        (["12abc"], ["12abc"]),
        (["123,124"], ["123", "124"]),
        (["123AB,124"], ["124", "123AB"]),
        (["123-125"], ["123", "124", "125"]),
        (["123,126-128"], ["123", "126", "127", "128"]),
        (["123,126-128,abc"], ["123", "126", "127", "128", "abc"]),
        # ... which is no longer at odds with the space grammar: both separators work
        (["39,", "99-100"], ["39", "99", "100"]),
        (["39, 99-100"], ["39", "99", "100"]),
        (["1-3", "5"], ["1", "2", "3", "5"]),
        (["10 9", "9,10"], ["9", "10"]),
        (["5-5"], ["5"]),
        ("7,2", ["2", "7"]),
        (["b", "a", "2", "10"], ["2", "10", "a", "b"]),
    ],
)
def test_valid_job_id_tokens(tokens, expected):
    assert parse_job_ids(tokens) == expected


@pytest.mark.parametrize(
    "tokens, message",
    [
        (["123a-125"], "'123a-125' looks like a number range (with a '-')"),
        (["100-99"], "'100-99' looks like a number range, but cannot be expanded"),
        (["39,100-99"], "'100-99'"),
        (["1-a-3"], "'1-a-3' looks like a number range"),
        (["-5"], "'-5'"),
        (["1-2000000"], f"at most {MAX_RANGE_SIZE}"),
        ([], "No job ids given"),
        ([" , "], "No job ids given"),
    ],
)
def test_invalid_job_id_tokens_name_the_element(tokens, message):
    with pytest.raises(ParameterParsingError) as error:
        parse_job_ids(tokens)
    assert message in str(error.value)


def test_sort_job_ids_is_numeric_aware_and_accepts_legacy_integers():
    assert sort_job_ids(["10", 2, "1", "abc", "2", "\u00b2"]) == ["1", "2", "10", "abc", "\u00b2"]


@pytest.mark.parametrize(
    "ids, text",
    [
        (["7"], "7"),
        (["3", "1", "2", "5"], "1-3,5"),
        (["10", "9", "100", "abc"], "9-10,100,abc"),
    ],
)
def test_format_job_ids_writes_runs_as_ranges_that_parse_back(ids, text):
    assert format_job_ids(ids) == text
    assert format_job_ids([]) == ""
    assert parse_job_ids(text) == sort_job_ids(ids)
