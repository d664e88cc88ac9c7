"""Open a file for the user to edit: `$VISUAL`, then `$EDITOR`, then the desktop's program.

People who set an editor expect commands like `map edit` to use it (on a server over ssh there
is no desktop to open anything); others get the program their system opens csv/yml files with.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import click


def open_in_editor(path: Path, hint: str = "") -> None:
    """Edit `path`, waiting for a terminal editor to close; one-line ClickException on failure."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor:
        if click.launch(str(path)) != 0:
            raise click.ClickException(f"Could not open an editor for {path}{hint}")
        return
    command = shlex.split(editor, posix=os.name != "nt")
    try:
        returncode = subprocess.run([*command, str(path)], check=False).returncode
    except OSError as e:
        raise click.ClickException(f"Could not run the editor '{editor}': {e.strerror}") from None
    if returncode != 0:
        raise click.ClickException(f"The editor '{editor}' exited with code {returncode}")
