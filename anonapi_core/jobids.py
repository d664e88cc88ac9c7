"""The one job-id grammar every command and the dashboard share.

The original had two (space-separated with ranges, and a comma collection) that disagreed on
`1,2` and on reversed ranges. Here a list of tokens is split on spaces and commas alike; each
element is a plain id or an inclusive `N-M` range. Ids stay strings: servers use integers but
users and legacy batches also hold things like `123AB`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from anonapi_core.exceptions import ParameterParsingError

MAX_RANGE_SIZE = 100_000
"""A typo such as `1-1000000000` must fail fast, not fill the memory."""

_SEPARATORS = re.compile(r"[\s,]+")
_RANGE = re.compile(r"(\d+)-(\d+)")


def parse_job_ids(tokens: Iterable[str] | str) -> list[str]:
    """Expand tokens such as `["1-3,7", "9"]` to de-duplicated, sorted ids.

    Raises ParameterParsingError naming the offending element for a reversed range, an
    element with a `-` that is not a range, an oversized range, or when no id is given.
    """
    if isinstance(tokens, str):
        tokens = [tokens]
    ids: set[str] = set()
    for token in tokens:
        for element in _SEPARATORS.split(token):
            if element:
                ids.update(_expand(element))
    if not ids:
        raise ParameterParsingError("No job ids given")
    return sort_job_ids(ids)


def _expand(element: str) -> list[str]:
    if "-" not in element:
        return [element]
    match = _RANGE.fullmatch(element)
    if not match:
        raise ParameterParsingError(
            f"'{element}' looks like a number range (with a '-'), but cannot be expanded. "
            "Maybe a typo?"
        )
    start, end = int(match[1]), int(match[2])
    if end < start:
        raise ParameterParsingError(
            f"'{element}' looks like a number range, but cannot be expanded (the end is "
            "smaller than the start). Maybe a typo?"
        )
    if end - start + 1 > MAX_RANGE_SIZE:
        raise ParameterParsingError(
            f"'{element}' is a range of {end - start + 1} ids; at most {MAX_RANGE_SIZE} "
            "are allowed in one range"
        )
    return [str(n) for n in range(start, end + 1)]


def is_numeric_id(job_id: str) -> bool:
    """True for ids made of ASCII digits only (`'²'.isdigit()` is True, hence the isascii)."""
    return job_id.isascii() and job_id.isdigit()


def _sort_key(job_id: str) -> tuple[int, int, str]:
    if is_numeric_id(job_id):
        return (0, int(job_id), job_id)
    return (1, 0, job_id)


def sort_job_ids(ids: Iterable[str | int]) -> list[str]:
    """De-duplicate and sort: numeric ids by value, then the others alphabetically.

    Integers (legacy `.anonbatch` files) are accepted and returned as strings.
    """
    return sorted({str(job_id) for job_id in ids}, key=_sort_key)


def format_job_ids(ids: Iterable[str | int]) -> str:
    """Sorted ids with runs written as ranges, `205-1518,1600`: the form `parse_job_ids` reads,
    so a user can paste what `create` printed into `job cancel` or `batch add`."""
    parts: list[str] = []
    run: list[int] = []

    def flush() -> None:
        if run:
            parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
            run.clear()

    for job_id in sort_job_ids(ids):
        if not is_numeric_id(job_id):
            flush()
            parts.append(job_id)
        elif run and int(job_id) == run[-1] + 1:
            run.append(int(job_id))
        else:
            flush()
            run.append(int(job_id))
    flush()
    return ",".join(parts)
