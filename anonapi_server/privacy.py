"""Keeping patient data and local paths out of the log and out of what callers see.

An exception's message can hold anything it touched: a DICOM value pydicom choked on, a local
path with a patient's name in it. The log gets where an error happened (its type and the code
lines of its traceback) and a reference; the caller gets the reference only.
"""

from __future__ import annotations

import logging
import secrets
import traceback
import warnings

MAX_ERROR_CHARS = 2000  # a job error is shown in every list of jobs: a paragraph at most


def internal_error(log: logging.Logger, what: str, error: BaseException) -> str:
    """Log an unexpected error without its message; return the reference to quote to a user."""
    reference = secrets.token_hex(4)
    frames = "".join(traceback.format_tb(error.__traceback__))
    log.error("%s failed (reference %s): %s\n%s", what, reference, type(error).__name__, frames)
    return reference


def truncated(message: str | None, limit: int = MAX_ERROR_CHARS) -> str | None:
    """`message` cut to `limit` characters, saying that it was cut."""
    if message is None or len(message) <= limit:
        return message
    return message[: limit - 30].rstrip() + " ... (message shortened)"


def quiet_pydicom() -> None:
    """Silence warnings and pydicom's log records in this process: they quote DICOM values.

    Called once in every worker process. All warnings, not only pydicom's module: pydicom
    attributes its warnings to whichever caller's line is on the stack. Files pydicom cannot read
    still end up skipped with a reason the job's owner sees; only the value-quoting chatter goes.
    """
    warnings.simplefilter("ignore")
    pydicom_log = logging.getLogger("pydicom")
    pydicom_log.setLevel(logging.CRITICAL + 1)
    pydicom_log.propagate = False
