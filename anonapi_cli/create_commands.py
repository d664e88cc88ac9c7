"""`anon create ...`: create jobs from the mapping, and the defaults job creation uses."""

from __future__ import annotations

import click


@click.group()
def create() -> None:
    """Create jobs."""
