"""How many studies and instances the server's PACS holds per source, through `pacs-count`.

Used before jobs exist (the pre-flight) and after they finished (completeness). The server
answers at most 1000 identifiers per request, so they go in chunks of that size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from anonapi_core.client import AnonClient

EXTENSION = "pacs-count"
SOURCE_NAME = "IDC_WADO"
CHUNK = 1000


def count_instances(client: AnonClient, identifiers: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Identifier -> `{"studies", "instances", "error"}` as the server answers it.

    Raises `extensions.NotAvailable` on a server without the extension, and the client's error
    when the server refuses (e.g. no PACS configured under that name).
    """
    from anonapi_core.extensions import call

    found: dict[str, dict[str, Any]] = {}
    unique = list(dict.fromkeys(identifiers))
    for start in range(0, len(unique), CHUNK):
        body = {"source_name": SOURCE_NAME, "identifiers": unique[start : start + CHUNK]}
        reply = call(client, EXTENSION, "POST", "pacs/count", body)
        counts = reply.get("counts") if isinstance(reply, dict) else None
        for count in counts or ():
            if isinstance(count, dict) and isinstance(count.get("identifier"), str):
                found[count["identifier"]] = count
    return found
