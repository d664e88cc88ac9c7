"""Arguments shared by several commands: job ids in one grammar everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def job_ids_argument(fn: F) -> F:
    """JOB_IDS...: one or more tokens, parsed by the single job-id grammar of the core."""
    return click.argument("job_ids", nargs=-1, required=True, callback=_parse_job_ids)(fn)


def _parse_job_ids(
    ctx: click.Context, param: click.Parameter, tokens: tuple[str, ...]
) -> list[str]:
    from anonapi_core.exceptions import ParameterParsingError
    from anonapi_core.jobids import parse_job_ids

    try:
        return parse_job_ids(tokens)  # never empty: it refuses tokens without any id
    except ParameterParsingError as e:
        raise click.BadParameter(str(e), ctx=ctx, param=param) from e
