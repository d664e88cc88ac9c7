"""A project's de-identification settings and the codes that record them in the output."""

from dataclasses import dataclass, field

# The PS3.15 Table E.1-1 options a project may enable. Each is supported in full or not offered:
# options that need judgement over free text or pixels (Clean Descriptors, Clean Pixel Data) are
# left out, and files with burned-in annotations are quarantined instead.
RETAIN_FULL_DATES = "retain_full_dates"
RETAIN_DEVICE_IDENTITY = "retain_device_identity"
RETAIN_PATIENT_CHARACTERISTICS = "retain_patient_characteristics"
# Not a PS3.15 option but the project's choice of quarantine rule. By default an ultrasound or
# secondary capture (screenshots more often than not) is held unless it says BurnedInAnnotation=NO,
# which about a third of real files do not say. A project whose sources are known to be clean
# enables this to hold only the files that say YES. Nothing is recorded in the output for it.
QUARANTINE_MARKED_ONLY = "quarantine_marked_only"

KNOWN_OPTIONS = frozenset(
    {
        RETAIN_FULL_DATES,
        RETAIN_DEVICE_IDENTITY,
        RETAIN_PATIENT_CHARACTERISTICS,
        QUARANTINE_MARKED_ONLY,
    }
)

# (code value, code meaning) in scheme DCM for (0012,0064) De-identification Method Code Sequence.
BASIC_PROFILE_CODE = ("113100", "Basic Application Confidentiality Profile")
MODIFIED_DATES_CODE = ("113107", "Retain Longitudinal Temporal Information Modified Dates Option")
OPTION_CODES: dict[str, tuple[str, str]] = {
    RETAIN_FULL_DATES: ("113106", "Retain Longitudinal Temporal Information Full Dates Option"),
    RETAIN_PATIENT_CHARACTERISTICS: ("113108", "Retain Patient Characteristics Option"),
    RETAIN_DEVICE_IDENTITY: ("113109", "Retain Device Identity Option"),
}


@dataclass(frozen=True)
class ProjectProfile:
    """One project: its name, the secret that keys its UIDs and date shifts, and its options.

    Two projects with different secrets never produce the same UID for the same input, so data
    released to one project cannot be linked to another's.
    """

    name: str
    secret: bytes = field(repr=False)
    options: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError(f"Project '{self.name}' has an empty secret")
        unknown = set(self.options) - KNOWN_OPTIONS
        if unknown:
            raise ValueError(
                f"Project '{self.name}' has unknown de-identification option(s) "
                f"{', '.join(sorted(unknown))}; known: {', '.join(sorted(KNOWN_OPTIONS))}"
            )

    def method_codes(self) -> list[tuple[str, str]]:
        """The DCM codes to record: the Basic Profile, then the options in effect."""
        codes = [BASIC_PROFILE_CODE]
        if RETAIN_FULL_DATES not in self.options:
            codes.append(MODIFIED_DATES_CODE)
        codes += [OPTION_CODES[name] for name in sorted(self.options) if name in OPTION_CODES]
        return sorted(codes)
