"""`anon select ...`: the file selection (`fileselection.txt`) of the current folder."""

from __future__ import annotations

import click


@click.group()
def select() -> None:
    """Select files for a single anonymization job."""
