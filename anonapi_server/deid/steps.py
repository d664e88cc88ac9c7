"""What happens to each element, decided once per (tag, VR, context) from the rule table."""

from enum import Enum

from pydicom.datadict import dictionary_VR

from anonapi_server.deid.rules import Action, RuleTable
from anonapi_server.deid.uids import CLASS_UID_TAGS

# A birth date or time pins a person down more than any other date; the Basic Profile's Z/X for
# them stands even when other dates are shifted.
_BIRTH_TAGS = frozenset({0x00100030, 0x00100032})
# Value representations of free text, which under a D sequence is replaced whatever its tag.
_FREE_TEXT_VRS = frozenset({"PN", "LT", "ST", "UT", "UC"})


class Step(Enum):
    """What the engine does with one element."""

    LEAVE = 0
    REMOVE = 1
    EMPTY = 2
    SHIFT = 3  # move a date by the patient's shift
    UID = 4  # replace by the keyed UID
    DUMMY = 5
    RECURSE = 6  # a sequence: apply the steps to its items
    RECURSE_DUMMY = 7  # a sequence under a D rule (see `StepPlanner.step`)


# The members as plain names for loops that test a step per element: `Step.LEAVE` goes through
# the enum's class machinery each time (~75 ns on Python 3.11, a global name ~10 ns).
LEAVE, REMOVE, SHIFT = Step.LEAVE, Step.REMOVE, Step.SHIFT
RECURSE, RECURSE_DUMMY = Step.RECURSE, Step.RECURSE_DUMMY


class StepPlanner:
    """Turns the rule table into a `Step` per element, cached: files repeat the same tags."""

    def __init__(self, rules: RuleTable) -> None:
        self.rules = rules
        self._cache: dict[tuple[int, str | None, bool], tuple[Step, str]] = {}

    def step(self, tag: int, file_vr: str | None, inside_dummy: bool) -> tuple[Step, str]:
        """The step for an element and the VR to write it with.

        `inside_dummy` is set under a sequence whose rule is D (Content Sequence, Graphic
        Annotation Sequence): there free text the table does not name gets a dummy value too,
        while codes, numbers and the tree itself stay, so a dose report still reports its dose.
        """
        key = (tag, file_vr, inside_dummy)
        planned = self._cache.get(key)
        if planned is None:
            vr = _vr_of(tag, file_vr)
            planned = self._cache[key] = (self._decide(tag, vr, inside_dummy), vr)
        return planned

    def _decide(self, tag: int, vr: str, inside_dummy: bool) -> Step:
        action = self.rules.action_for(tag)
        if action is Action.REMOVE:
            return Step.REMOVE
        if action is None and inside_dummy and vr in _FREE_TEXT_VRS:
            action = Action.DUMMY
        if vr == "SQ":
            if action is Action.EMPTY:
                return Step.EMPTY
            return Step.RECURSE_DUMMY if inside_dummy or action is Action.DUMMY else Step.RECURSE
        if action is Action.KEEP or vr == "TM":  # whole-day shifts leave the time of day
            return Step.LEAVE
        if vr in ("DA", "DT") and tag not in _BIRTH_TAGS:
            return Step.SHIFT
        if vr == "UI":
            if action is Action.EMPTY:
                return Step.EMPTY
            return Step.LEAVE if tag in CLASS_UID_TAGS else Step.UID
        if action is Action.EMPTY or action is Action.CLEAN:
            return Step.EMPTY
        if action is Action.DUMMY or action is Action.UID:
            return Step.DUMMY
        return Step.LEAVE


def _vr_of(tag: int, vr: str | None) -> str:
    """The element's VR; from the dictionary when the file has none (implicit VR) or UN."""
    if vr and vr != "UN":
        return vr
    try:
        return dictionary_VR(tag)[:2]  # "US or SS": either way a 2-byte number
    except KeyError:
        return "UN"  # private or unknown: kept as UN unless a rule removes it
