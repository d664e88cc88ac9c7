"""Load the wire models while the first request for jobs is on the wire.

Importing pydantic and building `JobInfo` is the largest single part of a command's start-up
(about 50 ms, twice the interpreter's own start). A command that reads jobs then waits for the
server's reply, for a batch of a thousand jobs about as long, with the CPU idle. Starting the
import in a thread right before that request lets the two overlap: the first parse finds the
models built, or waits on the import lock for the rest of the import, never for both in turn.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading

MODULE = "anonapi_core.models"

_lock = threading.Lock()
_loader: threading.Thread | None = None


def load_models_in_background() -> None:
    """Start importing the wire models in a daemon thread, once, unless they are loaded."""
    global _loader
    with _lock:
        if _loader is not None or MODULE in sys.modules:
            return
        _loader = threading.Thread(target=_load, name="load-wire-models", daemon=True)
        _loader.start()


def _load() -> None:
    # An import error here is not reported: the parse that needs the models imports them itself
    # and raises any real error where it belongs.
    with contextlib.suppress(ImportError):
        importlib.import_module(MODULE)
