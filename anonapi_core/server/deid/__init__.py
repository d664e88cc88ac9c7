"""De-identification of DICOM files: PS3.15 Annex E Basic Profile plus a project's options."""

from anonapi_core.server.deid.engine import Deidentifier, FileOutcome, burned_in_reason
from anonapi_core.server.deid.profile import KNOWN_OPTIONS, ProjectProfile

__all__ = ["KNOWN_OPTIONS", "Deidentifier", "FileOutcome", "ProjectProfile", "burned_in_reason"]
