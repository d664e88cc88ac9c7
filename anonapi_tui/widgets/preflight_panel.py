"""The pre-flight check of a mapping, shown as a panel: one line per finding, errors first.

Opened on demand from the mapping editor, and before creating jobs when the check found
something; then it asks whether to create anyway (errors) or go on (warnings only).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from anonapi_core.preflight import Finding, PreflightReport

SEVERITY_STYLES = {"error": "bold red", "warning": "yellow", "info": "dim"}


def where(finding: Finding) -> str:
    """`line 12` / `row 3` / `mapping`: the short location shown in the panel's first column."""
    if finding.line is not None:
        return f"line {finding.line}"
    if finding.row is not None:
        return f"row {finding.row}"
    return "mapping"


def findings_text(report: PreflightReport) -> Text:
    """Errors first: a heading line per finding (severity, where, column), then its message."""
    text = Text()
    for finding in report.sorted_findings():
        text.append(f"{finding.severity:<8}", style=SEVERITY_STYLES[finding.severity])
        text.append(where(finding), style="bold")
        if finding.column:
            text.append(f", column '{finding.column}'")
        text.append("\n")
        text.append(f"  {finding.message}\n")
    text.rstrip()
    return text


class PreflightPanel(ModalScreen[bool]):
    """Findings of one pre-flight; `creating` adds the choice to create the jobs anyway."""

    BINDINGS = [
        Binding("escape,n", "answer(False)", "Close", id="preflight.close", tooltip="Close"),
        Binding("y", "answer(True)", "Create", id="preflight.create", tooltip="Create anyway"),
    ]

    def __init__(self, report: PreflightReport, *, creating: bool = False) -> None:
        super().__init__()
        self.report = report
        self.creating = creating

    def compose(self) -> ComposeResult:
        report = self.report
        with Vertical(id="dialog"):
            title = Text(f"Pre-flight check of {report.file}: {report.summary()}")
            title.stylize("bold")
            yield Static(title, id="preflight-title")
            if report.findings:
                with VerticalScroll(id="findings"):
                    yield Static(findings_text(report), id="findings-text")
            else:
                yield Static("Every row passed every check that ran.", id="preflight-clean")
            notes = "\n".join(f"note: {text}" for text in report.notes)
            yield Static(notes, id="preflight-notes", classes="hint", markup=False)
            if self.creating:
                with Horizontal(id="buttons"):
                    label = "Create anyway (y)" if report.errors else "Create (y)"
                    yield Button(label, variant="warning", id="yes")
                    yield Button("Back to the mapping (n)", variant="primary", id="no")
            else:
                yield Static("esc closes", classes="hint")

    def on_mount(self) -> None:
        if self.creating:
            self.query_one("#no", Button).focus()
        elif self.report.findings:
            self.query_one("#findings", VerticalScroll).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "y" means something only when the panel stands between the user and creation.
        return self.creating or parameters != (True,)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
