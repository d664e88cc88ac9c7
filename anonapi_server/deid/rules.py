"""The PS3.15 Annex E Basic Profile rule table, compiled once into a dict keyed by tag.

The table is not typed here: it comes from dicom-anonymizer, which ships the Basic Profile column of
Table E.1-1 as lists of tags per action code and keeps them up to date with new editions of the
standard. What this module adds is the project's reading of the compound codes (the standard leaves
"X unless required for IOD conformance" to the implementer) and the small per-option overrides.
"""

import importlib
import pkgutil
from dataclasses import dataclass
from enum import Enum

import dicomanonymizer.dicom_anonymization_databases as _tables


class Action(Enum):
    """What happens to an element; compound codes of the table are resolved to one of these."""

    REMOVE = "X"
    EMPTY = "Z"
    DUMMY = "D"
    UID = "U"
    KEEP = "K"
    CLEAN = "C"  # keep a sequence and de-identify its items; hash a UID; empty anything else


# How dicom-anonymizer's categories map to actions, so that no output breaks its IOD where the
# input did not. X/Z becomes Z rather than X so that Type 2 attributes stay present (an empty value
# leaks nothing). A D in a compound code means some IOD has the attribute as Type 1 (Device Serial
# Number in Enhanced General Equipment): Z/D, X/D and X/Z/D become D, which suits every IOD.
# X/Z/U* (references to other instances) keeps the references, re-keyed.
_CATEGORY_ACTIONS: tuple[tuple[str, Action], ...] = (
    ("D_TAGS", Action.DUMMY),
    ("Z_TAGS", Action.EMPTY),
    ("X_TAGS", Action.REMOVE),
    ("U_TAGS", Action.UID),
    ("Z_D_TAGS", Action.DUMMY),
    ("X_Z_TAGS", Action.EMPTY),
    ("X_D_TAGS", Action.DUMMY),
    ("X_Z_D_TAGS", Action.DUMMY),
    ("X_Z_U_STAR_TAGS", Action.CLEAN),
)

# Tags kept by the Retain Device Identity Option (PS3.15 Table E.1-1, "Rtn. Dev. Id. Opt." = K):
# the device attributes that the Basic Profile would otherwise remove or blank.
_DEVICE_IDENTITY_TAGS = (
    0x00081010,  # Station Name
    0x00181000,  # Device Serial Number
    0x00181002,  # Device UID
    0x00181004,  # Plate ID
    0x00181007,  # Cassette ID
    0x00181008,  # Gantry ID
    0x0018100B,  # Manufacturer's Device Class UID
    0x0018700A,  # Detector ID
    0x00189371,  # X-Ray Detector ID
    0x00189373,  # X-Ray Detector Label
    0x3010002D,  # Device Label
    0x00400001,  # Scheduled Station AE Title
    0x00400010,  # Scheduled Station Name
    0x00400241,  # Performed Station AE Title
    0x00400242,  # Performed Station Name
    0x30080105,  # Source Serial Number
    0x300A00B2,  # Treatment Machine Name
)

# Tags kept by the Retain Patient Characteristics Option ("Rtn. Pat. Chars. Opt." = K).
_PATIENT_CHARACTERISTICS_TAGS = (
    0x00100040,  # Patient's Sex
    0x00101010,  # Patient's Age
    0x00101020,  # Patient's Size
    0x00101030,  # Patient's Weight
    0x00102160,  # Ethnic Group
    0x001021A0,  # Smoking Status
    0x001021C0,  # Pregnancy Status
    0x00102203,  # Patient's Sex Neutered
)

OPTION_KEEPS: dict[str, tuple[int, ...]] = {
    "retain_device_identity": _DEVICE_IDENTITY_TAGS,
    "retain_patient_characteristics": _PATIENT_CHARACTERISTICS_TAGS,
}


@dataclass(frozen=True)
class MaskedRule:
    """A rule for a repeating group such as overlays (60xx,4000): matches under a bit mask."""

    group: int
    element: int
    group_mask: int
    element_mask: int
    action: Action

    def matches(self, tag: int) -> bool:
        return (tag >> 16) & self.group_mask == self.group & self.group_mask and (
            tag & 0xFFFF
        ) & self.element_mask == self.element & self.element_mask


# Overlays (60xx) and curves (50xx) are removed as whole groups: the table names their data and
# comments, but an overlay without its data is no overlay (Overlay Data is Type 1) and may itself
# show burned-in text.
_WHOLE_GROUPS_REMOVED = (
    MaskedRule(0x6000, 0, 0xFF00, 0, Action.REMOVE),
    MaskedRule(0x5000, 0, 0xFF00, 0, Action.REMOVE),
)


@dataclass(frozen=True)
class RuleTable:
    """The compiled table: exact tags in a dict, repeating groups as a short list of masks."""

    version: str
    exact: dict[int, Action]
    masked: tuple[MaskedRule, ...]
    masked_groups: frozenset[int]  # group & 0xFF00 values that some masked rule can match

    def action_for(self, tag: int) -> Action | None:
        """The action for `tag`, or None when the profile does not mention it."""
        action = self.exact.get(tag)
        if action is None and (tag >> 16) & 0xFF00 in self.masked_groups:
            for rule in self.masked:
                if rule.matches(tag):
                    return rule.action
        return action


def newest_table_version() -> str:
    """The newest edition of the standard that the installed dicom-anonymizer ships."""
    names = [
        m.name for m in pkgutil.iter_modules(_tables.__path__) if m.name.startswith("dicomfields_")
    ]
    return max(names)


def compile_rules(options: frozenset[str] = frozenset(), version: str | None = None) -> RuleTable:
    """Build the rule table for a project's options from dicom-anonymizer's tag lists."""
    version = version or newest_table_version()
    module = importlib.import_module(f"{_tables.__name__}.{version}")
    exact: dict[int, Action] = {}
    masked: list[MaskedRule] = []
    for category, action in _CATEGORY_ACTIONS:
        for entry in getattr(module, category):
            if len(entry) == 2:
                exact[(entry[0] << 16) | entry[1]] = action
            elif not any(rule.matches(entry[0] << 16 | entry[1]) for rule in _WHOLE_GROUPS_REMOVED):
                group, element, group_mask, element_mask = entry
                masked.append(MaskedRule(group, element, group_mask, element_mask, action))
    masked.extend(_WHOLE_GROUPS_REMOVED)
    for option in sorted(options):
        for tag in OPTION_KEEPS.get(option, ()):
            exact[tag] = Action.KEEP
    return RuleTable(
        version=version,
        exact=exact,
        masked=tuple(masked),
        masked_groups=frozenset(rule.group & rule.group_mask & 0xFF00 for rule in masked),
    )
