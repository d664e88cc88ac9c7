"""What de-identification will do to one file, as a panel: verdict first, then every element."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

if TYPE_CHECKING:
    from anonapi_server.deid.preview import FilePreview

VERDICT_STYLES = {"written": "bold green", "quarantined": "bold red", "skipped": "bold yellow"}


def verdict_text(preview: FilePreview) -> Text:
    """`CT1.dcm: would be written` or `... QUARANTINED: why`, styled by the verdict."""
    text = Text(f"{preview.file}: ", style="bold")
    if preview.verdict == "written":
        text.append("would be de-identified and written", style=VERDICT_STYLES["written"])
    else:
        text.append(f"would be {preview.verdict.upper()}", style=VERDICT_STYLES[preview.verdict])
        text.append(f": {preview.reason}")
    return text


class PreviewPanel(ModalScreen[None]):
    """Shown by `p` on a file in the folder picker; escape closes."""

    BINDINGS = [Binding("escape,q", "dismiss", "Close", id="preview.close")]

    def __init__(self, preview: FilePreview) -> None:
        super().__init__()
        self.preview = preview

    def compose(self) -> ComposeResult:
        preview = self.preview
        with Vertical(id="dialog"):
            yield Static(verdict_text(preview), id="preview-verdict")
            table: DataTable[Text] = DataTable(
                id="preview-rows", cursor_type="row", zebra_stripes=True
            )
            table.add_column("element", key="path", width=13)
            table.add_column("name", key="keyword", width=18)
            table.add_column("before", key="before", width=18)
            table.add_column("after", key="after", width=18)
            table.add_column("rule", key="rule", width=44)
            for n, row in enumerate(preview.rows):
                changed = row.before != row.after
                table.add_row(
                    Text(row.path),
                    Text(row.keyword),
                    Text(row.before),
                    Text(row.after, style="bold" if changed else "dim"),
                    Text(row.rule),
                    key=str(n),
                )
            yield table
            yield Static(preview.note, id="preview-note", classes="hint", markup=False)

    def on_mount(self) -> None:
        self.query_one("#preview-rows", DataTable).focus()
