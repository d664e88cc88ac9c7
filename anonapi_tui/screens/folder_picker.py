"""Pick study folders in a tree, scan them for DICOM in a worker, add them to the folder's mapping.

Each marked folder gets a `fileselection.txt` of its DICOM files and a mapping row
`fileselection:<folder>/fileselection.txt` with a generated pseudonym, as `anon map
add-study-folders` does. The scan reports progress from its worker; the UI only draws it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DirectoryTree, Footer, ProgressBar, Static

from anonapi_core.exceptions import AnonAPIError
from anonapi_core.settings import Settings
from anonapi_tui.bindings import bindings
from anonapi_tui.screens.base import CommandScreen, display_path


class FolderTree(DirectoryTree):
    """Folders only, hidden ones left out: files are the scan's business."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if p.is_dir() and not p.name.startswith(".")]


def source_for(selection_file: Path, folder: Path) -> str:
    """`fileselection:` with a `/` path relative to the mapping's folder when inside it."""
    try:
        relative = selection_file.relative_to(folder).as_posix()
    except ValueError:
        relative = str(selection_file)
    return f"fileselection:{relative}"


class FolderPicker(CommandScreen):
    """m marks a folder, ctrl+s scans the marked folders and adds them to the mapping."""

    BINDINGS = bindings("folders")

    class Progress(Message):
        def __init__(self, done: int, total: int) -> None:
            super().__init__()
            self.done = done
            self.total = total

    class Finished(Message):
        def __init__(self, summary: str, error: str | None) -> None:
            super().__init__()
            self.summary = summary
            self.error = error

    def __init__(self, settings: Settings, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.settings = settings
        self.title = "Folders"
        self.marked: list[Path] = []

    def compose(self) -> ComposeResult:
        yield Static(f"Study folders under {display_path(self.folder)}", id="title", markup=False)
        with Horizontal(id="picker"):
            yield FolderTree(self.folder, id="tree")
            with Vertical(id="picker-side"):
                yield Static("Marked folders", classes="dialog-title")
                yield Static(
                    "(none: m marks the folder under the cursor)", id="marked", markup=False
                )
                yield ProgressBar(total=None, show_eta=False, id="scan-progress")
                yield Static("", id="scan-state", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(FolderTree).focus()

    def _show_marked(self) -> None:
        lines = [
            str(p.relative_to(self.folder)) if p.is_relative_to(self.folder) else str(p)
            for p in self.marked
        ]
        self.query_one("#marked", Static).update("\n".join(lines) or "(none)")

    def action_toggle_mark(self) -> None:
        node = self.query_one(FolderTree).cursor_node
        if node is None or node.data is None:
            return
        path = Path(node.data.path)
        if path in self.marked:
            self.marked.remove(path)
            node.set_label(Text(path.name))
        else:
            self.marked.append(path)
            node.set_label(Text(f"● {path.name}", style="bold yellow"))
        self._show_marked()

    def action_scan(self) -> None:
        if not self.marked:
            self.notify("Mark study folders first (m).", severity="warning")
            return
        self.query_one("#scan-state", Static).update("scanning ...")
        self._scan(list(self.marked))

    @work(thread=True, exclusive=True, exit_on_error=False, group="scan")
    def _scan(self, folders: list[Path]) -> None:
        from anonapi_core.dicom_scan import find_dicom_files
        from anonapi_core.mapping import add_rows, new_job_row, save_mapping
        from anonapi_core.parameters import SourceIdentifier
        from anonapi_core.selection import new_selection, save_selection
        from anonapi_tui.screens.mapping_editor import mapping_for

        try:
            scans = find_dicom_files(
                folders, progress=lambda d, t: self.post_message(self.Progress(d, t))
            )
            mapping = mapping_for(self.settings, self.folder)
            rows, empty = [], []
            for scan in scans:
                if not scan.dicom_files:
                    empty.append(scan.folder.name)
                    continue
                selection_file = save_selection(new_selection(scan.folder, scan.dicom_files))
                rows.append(
                    new_job_row(SourceIdentifier.parse(source_for(selection_file, self.folder)))
                )
            add_rows(mapping, rows)
            path = save_mapping(mapping)
        except AnonAPIError as e:
            self.post_message(self.Finished("", str(e)))
            return
        files = sum(len(scan.dicom_files) for scan in scans)
        summary = f"Added {len(rows)} folders ({files} DICOM files) to {display_path(path)}"
        if empty:
            summary += f"; no DICOM in: {', '.join(empty)}"
        self.post_message(self.Finished(summary, None))

    def on_folder_picker_progress(self, message: Progress) -> None:
        self.query_one(ProgressBar).update(total=max(message.total, 1), progress=message.done)
        self.query_one("#scan-state", Static).update(
            f"{message.done} of {message.total} files checked"
        )

    def on_folder_picker_finished(self, message: Finished) -> None:
        state = self.query_one("#scan-state", Static)
        if message.error:
            state.update(f"Error: {message.error}")
            return
        state.update(message.summary)
        self.marked.clear()
        self._show_marked()
        self.query_one(FolderTree).reload()
