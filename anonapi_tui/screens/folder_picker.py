"""Pick study folders in a tree, scan them for DICOM in a worker, add them to the folder's mapping.

Each marked folder gets a `fileselection.txt` of its DICOM files and a mapping row with a
generated pseudonym: the same action as `anon map add-study-folders`. The scan reports progress
from its worker; the UI only draws it.
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
from anonapi_core.wording import plural
from anonapi_tui.bindings import bindings
from anonapi_tui.messages import Outcome
from anonapi_tui.screens.base import CommandScreen, display_path


class FolderTree(DirectoryTree):
    """Folders only, hidden ones left out: files are the scan's business.

    Plain triangles instead of folder emoji, which many Windows consoles show as empty boxes.
    """

    ICON_NODE = "▶ "
    ICON_NODE_EXPANDED = "▼ "
    ICON_FILE = "  "

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if p.is_dir() and not p.name.startswith(".")]


class FolderPicker(CommandScreen):
    """m marks a folder, ctrl+s scans the marked folders and adds them to the mapping."""

    BINDINGS = bindings("folders")

    class Progress(Message):
        def __init__(self, done: int, total: int) -> None:
            super().__init__()
            self.done = done
            self.total = total

    class Finished(Outcome[str]):
        """A one-line summary of what was added, or why nothing was."""

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
                bar = ProgressBar(total=None, show_eta=False, id="scan-progress")
                bar.display = False  # shown from the first progress report of a scan
                yield bar
                yield Static("", id="scan-state", markup=False)
        yield Footer(compact=True)

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
        from anonapi_core.actions.mapping import add_study_folders
        from anonapi_core.mapping import save_mapping
        from anonapi_tui.screens.mapping_editor import mapping_for

        def progress(done: int, total: int) -> None:
            self.post_message(self.Progress(done, total))

        try:
            mapping = mapping_for(self.settings, self.folder)
            path = mapping.path if mapping.path and mapping.path.exists() else save_mapping(mapping)
            rows = add_study_folders(path, folders, progress=progress)
        except AnonAPIError as e:
            self.post_message(self.Finished(None, str(e)))
            return
        added = [row for row in rows if row.existing is None]
        files = sum(row.dicom_files or 0 for row in added)
        summary = (
            f"Added {plural(len(added), 'folder')} ({plural(files, 'DICOM file')})"
            f" to {display_path(path)}"
        )
        empty = [row.folder.name for row in added if row.folder and not row.dicom_files]
        if empty:
            summary += f"; no DICOM found in: {', '.join(empty)}"
        already = [row.folder.name for row in rows if row.folder and row.existing]
        if already:
            summary += f"; already in the mapping: {', '.join(already)}"
        self.post_message(self.Finished(summary))

    def on_folder_picker_progress(self, message: Progress) -> None:
        bar = self.query_one(ProgressBar)
        bar.display = True
        bar.update(total=max(message.total, 1), progress=message.done)
        self.query_one("#scan-state", Static).update(
            f"{message.done} of {message.total} files checked"
        )

    def on_folder_picker_finished(self, message: Finished) -> None:
        state = self.query_one("#scan-state", Static)
        if message.error:
            state.update(f"Error: {message.error}")
            return
        state.update(message.result or "")
        self.marked.clear()
        self._show_marked()
        self.query_one(FolderTree).reload()
