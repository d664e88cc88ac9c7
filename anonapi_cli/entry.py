"""The `anon` console script: the root help without click, every other command line with it.

Importing click alone takes longer than starting the interpreter, so `anon`, `anon -h` and
`anon --help` print the text click would print, stored in `root_help` for the common widths.
Any other width, and every other command line, goes to the click app in `anonapi_cli.main`.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    # pydantic looks for plugins in every installed distribution's entry points when it builds a
    # model (~10 ms); the wire models use none. A user who sets the variable keeps their value.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if sys.argv[1:] in ([], ["-h"], ["--help"]):
        from anonapi_cli.root_help import TEXTS

        text = TEXTS.get(help_width())
        if text is not None:
            sys.stdout.write(text)
            return
    from anonapi_cli.main import cli

    cli()


def help_width() -> int:
    """The width click formats help to: the terminal's columns, at most 100, minus 2, at least 50.

    Columns as `shutil.get_terminal_size()` finds them, without importing shutil (which imports
    bz2 and lzma): `COLUMNS`, else the size of the terminal on stdout, else 80.
    """
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return max(min(columns or 80, 100) - 2, 50)
