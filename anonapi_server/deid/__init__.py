"""De-identification of DICOM files: PS3.15 Annex E Basic Profile plus a project's options.

    engine = Deidentifier(ProjectProfile(name, secret=b"...", options=frozenset()))
    outcome = engine.deidentify_file(src, dst, pseudo_id, pseudo_name)  # -> FileOutcome

One engine per project and process (it compiles the rule table once). UIDs become
`2.25.<HMAC(secret, uid)>`, dates move by a per-patient number of days from HMAC(secret,
pseudo_id), private tags go, and files that may show burned-in text are quarantined, not written
(`release=True` writes one after a person decided so). Every file ends written, quarantined or
skipped; the outcome's `cause` says why in a stable word, its `reason` in a sentence.
"""

from anonapi_server.deid.checks import burned_in_reason
from anonapi_server.deid.engine import Deidentifier
from anonapi_server.deid.outcome import Cause, FileOutcome, summary
from anonapi_server.deid.profile import KNOWN_OPTIONS, ProjectProfile

__all__ = [
    "KNOWN_OPTIONS",
    "Cause",
    "Deidentifier",
    "FileOutcome",
    "ProjectProfile",
    "burned_in_reason",
    "summary",
]
