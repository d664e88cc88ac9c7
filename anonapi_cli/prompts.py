"""Confirmation before anything that changes jobs or files; `--yes` answers for scripts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def yes_option(fn: F) -> F:
    """The `-y/--yes` flag every confirming command has."""
    return click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")(fn)


def confirm_or_stop(question: str, yes: bool) -> None:
    """Ask; on "no" stop the command with exit code 1 since what was asked for did not happen.

    Without a terminal and without --yes, click reads end-of-input and aborts, so a script that
    forgot --yes fails instead of hanging or proceeding.
    """
    if yes:
        return
    if not click.confirm(question, default=False, err=True):
        click.echo("Cancelled, nothing was changed", err=True)
        click.get_current_context().exit(1)
