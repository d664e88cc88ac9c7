"""`anon map ...`: the mapping from original data to pseudonyms that jobs are created from."""

from __future__ import annotations

import click


@click.group(name="map")
def mapping() -> None:
    """Map original data to anonymized name, id, etc."""
