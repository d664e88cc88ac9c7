"""Arguments shared by several commands: job ids in one grammar everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def job_ids_argument(fn: F) -> F:
    """JOB_IDS...: one or more tokens, parsed by the single job-id grammar of the core."""
    return click.argument("job_ids", nargs=-1, required=True, callback=_parse_job_ids)(fn)


def job_id_argument(fn: F) -> F:
    """JOB_ID: exactly one job id, in the same grammar."""
    return click.argument("job_id", callback=_parse_one_job_id)(fn)


def _parse_one_job_id(ctx: click.Context, param: click.Parameter, token: str) -> str:
    ids = _parse_job_ids(ctx, param, (token,))
    if len(ids) != 1:
        raise click.BadParameter(f"give one job id, not {len(ids)}", ctx=ctx, param=param)
    return ids[0]


def _parse_job_ids(
    ctx: click.Context, param: click.Parameter, tokens: tuple[str, ...]
) -> list[str]:
    from anonapi_core.exceptions import ParameterParsingError
    from anonapi_core.jobids import parse_job_ids

    try:
        return parse_job_ids(tokens)  # never empty: it refuses tokens without any id
    except ParameterParsingError as e:
        raise click.BadParameter(str(e), ctx=ctx, param=param) from e
