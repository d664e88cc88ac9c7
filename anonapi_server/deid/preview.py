"""What de-identification will do to one file, element by element, before any job runs.

The preview runs this server's own engine on a copy of the file's header (pixel data is never
read: it is copied unchanged by the engine anyway, and a preview must stay small for a 2 GB
multi-frame file) and compares before with after. Each row names the rule that decided it: the
Basic Profile action of PS3.15 Table E.1-1, the project option that keeps an element, private
tags, the pseudonym. UIDs and date shifts are keyed by a preview secret, so their new values
are examples: the project's own secret on the server decides the real ones. Another server's
profile may differ; the preview says so.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydicom import dcmread
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from anonapi_server.deid.engine import Deidentifier, burned_in_reason
from anonapi_server.deid.profile import ProjectProfile
from anonapi_server.deid.rules import OPTION_KEEPS, Action
from anonapi_server.deid.steps import Step, StepPlanner

PREVIEW_SECRET = b"anonapi-preview: example values only"
PREVIEW_PSEUDO_ID = "PSEUDO_ID"
PREVIEW_PSEUDO_NAME = "PSEUDO^NAME"
MAX_VALUE_CHARS = 64
ENGINE_NOTE = (
    "Computed with this program's embedded de-identification engine (PS3.15 Basic Profile). "
    "Another server's profile may differ. New UIDs and shifted dates are examples: the "
    "project's own secret decides the real ones."
)
_PATIENT_NAME = 0x00100010
_PATIENT_ID = 0x00100020
_DICOMDIR = "1.2.840.10008.1.3.10"
_ACTIONS = {
    Action.REMOVE: "X",
    Action.EMPTY: "Z",
    Action.DUMMY: "D",
    Action.UID: "U",
    Action.KEEP: "K",
    Action.CLEAN: "C",
}
_STEP_WORDS = {
    Step.LEAVE: "kept",
    Step.REMOVE: "removed",
    Step.EMPTY: "emptied",
    Step.SHIFT: "date shifted",
    Step.UID: "new UID",
    Step.DUMMY: "dummy value",
    Step.RECURSE: "items cleaned",
    Step.RECURSE_DUMMY: "items cleaned, free text replaced",
}


@dataclass(frozen=True)
class PreviewRow:
    """One element: where it is, its value before and after, and the rule that decided it."""

    path: str  # `(0008,1140)[0] > (0008,1155)` for elements inside sequences
    keyword: str
    vr: str
    before: str
    after: str
    rule: str


@dataclass
class FilePreview:
    """The whole preview of one file: every element, and whether it would be written at all."""

    file: str
    project: str
    options: list[str]
    verdict: Literal["written", "quarantined", "skipped"]
    reason: str | None
    rows: list[PreviewRow] = field(default_factory=list)
    note: str = ENGINE_NOTE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _shown(elem: DataElement | None) -> str:
    """A value as one short line; absent elements show as `(absent)`."""
    if elem is None:
        return "(absent)"
    if elem.VR == "SQ":
        return f"<{len(elem.value)} items>"
    value = elem.value
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _tag_text(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


class _Explainer:
    """Names the rule behind each element's fate, as the engine decides it (`StepPlanner`)."""

    def __init__(self, engine: Deidentifier, profile: ProjectProfile):
        self.rules = engine.rules
        self.planner = StepPlanner(engine.rules)
        self.kept_by = {
            tag: option for option in profile.options for tag in OPTION_KEEPS.get(option, ())
        }

    def rule(self, tag: int, vr: str | None, inside_dummy: bool) -> tuple[str, Step]:
        if tag >> 16 & 1:
            return "private tag: removed", Step.REMOVE
        if not tag & 0xFFFF or tag < 0x00030000:
            return "group length or command element: removed", Step.REMOVE
        if tag in (_PATIENT_NAME, _PATIENT_ID):
            step, _ = self.planner.step(tag, vr, inside_dummy)
            return "the job's pseudonym", step
        step, _ = self.planner.step(tag, vr, inside_dummy)
        if tag in self.kept_by:
            return f"project option {self.kept_by[tag]}: kept", step
        action = self.rules.action_for(tag)
        words = _STEP_WORDS[step]
        if step is Step.LEAVE and vr == "TM":
            words = "time of day kept (dates move by whole days)"
        if action is None:
            if step is Step.SHIFT:
                return "date: shifted per patient (not in the Basic Profile table)", step
            if step is Step.DUMMY:
                return "free text inside a D sequence: dummy value", step
            return f"not in the Basic Profile: {words}", step
        return f"Basic Profile {_ACTIONS[action]}: {words}", step


def _walk(
    before: Dataset,
    after: Dataset | None,
    explain: _Explainer,
    prefix: str,
    inside_dummy: bool,
) -> Iterator[PreviewRow]:
    for elem in before:
        tag = int(elem.tag)
        new = after.get(tag) if after is not None and tag in after else None
        rule, step = explain.rule(tag, elem.VR, inside_dummy)
        path = f"{prefix}{_tag_text(tag)}"
        after_text = "(removed)" if new is None else _shown(new)
        yield PreviewRow(path, elem.keyword or "", elem.VR, _shown(elem), after_text, rule)
        if elem.VR == "SQ" and new is not None and step in (Step.RECURSE, Step.RECURSE_DUMMY):
            dummy = step is Step.RECURSE_DUMMY
            for index, item in enumerate(elem.value):
                new_item = new.value[index] if index < len(new.value) else None
                yield from _walk(item, new_item, explain, f"{path}[{index}] > ", dummy)
    if after is None:
        return
    for elem in after:
        if int(elem.tag) not in before:
            path = f"{prefix}{_tag_text(int(elem.tag))}"
            rule = "added: records the de-identification"
            yield PreviewRow(path, elem.keyword or "", elem.VR, "(absent)", _shown(elem), rule)


def preview_file(
    path: Path,
    *,
    project: str = "(no project)",
    options: frozenset[str] = frozenset(),
    pseudo_id: str = PREVIEW_PSEUDO_ID,
    pseudo_name: str = PREVIEW_PSEUDO_NAME,
) -> FilePreview:
    """Preview `path` under a project with `options` (ValueError for an unknown option)."""
    profile = ProjectProfile(name=project, secret=PREVIEW_SECRET, options=options)
    engine = Deidentifier(profile)
    preview = FilePreview(str(Path(path).name), project, sorted(options), "written", None)
    try:
        ds = dcmread(path, stop_before_pixels=True)
    except InvalidDicomError:
        preview.verdict, preview.reason = "skipped", "not a DICOM file: it would not be written"
        return preview
    except OSError:
        raise
    except Exception as exc:  # pydicom's parse errors have no common base class
        preview.verdict, preview.reason = "skipped", f"unreadable DICOM file: {exc}"
        return preview
    meta = getattr(ds, "file_meta", None)
    if meta is not None and str(meta.get("MediaStorageSOPClassUID", "")) == _DICOMDIR:
        preview.verdict, preview.reason = "skipped", "a DICOMDIR index, not an image"
        return preview
    reason = burned_in_reason(ds)
    if reason:
        preview.verdict, preview.reason = "quarantined", f"burned-in annotation: {reason}"
    after = copy.deepcopy(ds)
    engine.deidentify_dataset(after, pseudo_id, pseudo_name)
    preview.rows = list(_walk(ds, after, _Explainer(engine, profile), "", False))
    return preview


def project_options(home: Path | str | None, project: str) -> frozenset[str] | None:
    """The options of `project` on the embedded server at `home` (None: no such project)."""
    from anonapi_server.config import resolve_home
    from anonapi_server.store import Store

    server_home = resolve_home(home)
    config = server_home.load_config()
    store = Store(config.database_url)
    try:
        found = store.project(project)
    finally:
        store.close()
    return None if found is None else found.options
