"""The root of the server's own exceptions, so `anon-server` maps them to messages in one place.

Each specific error stays beside the code that raises it (`ConfigError` in `config`, `StoreError`
in `store`, `AdminError` in `admin`, `PathRefused` in `shares`); all derive from `ServerError`.
"""

from __future__ import annotations


class ServerError(Exception):
    """A refusal the server explains to the person who asked: the message is safe to show."""


def describe_os_error(e: OSError) -> str:
    """`[Errno 13] Permission denied: 'x'` -> `Permission denied (x)`: the cause and the place.

    The client core has the same rule for `anon`; the server may not import the core's modules.
    """
    reason = e.strerror or str(e) or type(e).__name__
    return f"{reason} ({e.filename})" if e.filename else reason
