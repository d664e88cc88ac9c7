"""Pick study folders in a tree, scan them for DICOM in a worker, add them to the folder's mapping.

Each marked folder gets a `fileselection.txt` of its DICOM files and a mapping row with a
generated pseudonym: the same action as `anon map add-study-folders`. The scan reports progress
from its worker; the UI only draws it. The folder under the cursor is summarised (files, DICOM
files, one header's study, whether the mapping holds it) in a worker too, once per folder.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DirectoryTree, Footer, ProgressBar, Static, Tree
from textual.worker import get_current_worker

from anonapi_core.exceptions import AnonAPIError
from anonapi_core.folder_summary import FolderSummary
from anonapi_core.mapping import Mapping
from anonapi_core.settings import Settings
from anonapi_core.wording import plural
from anonapi_tui.bindings import bindings
from anonapi_tui.messages import Outcome
from anonapi_tui.screens.base import CommandScreen, display_path
from anonapi_tui.widgets.preview_panel import PreviewPanel

if TYPE_CHECKING:
    from anonapi_server.deid.preview import FilePreview  # noqa: F401 (named in a string)


class FolderTree(DirectoryTree):
    """Folders and files, hidden ones left out: folders are marked, files can be previewed.

    Plain triangles instead of folder emoji, which many Windows consoles show as empty boxes.
    """

    ICON_NODE = "▶ "
    ICON_NODE_EXPANDED = "▼ "
    ICON_FILE = "  "

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if not p.name.startswith(".")]


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

    class Previewed(Outcome["FilePreview"]):
        """What de-identification would do to the file under the cursor."""

    class Summarized(Message):
        """What a folder holds; `error` when the mapping could not be read (counts still)."""

        def __init__(self, folder: Path, summary: FolderSummary, error: str | None) -> None:
            super().__init__()
            self.folder = folder
            self.summary = summary
            self.error = error

    def __init__(self, settings: Settings, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.settings = settings
        self.title = "Folders"
        self.marked: list[Path] = []
        self._summaries: dict[Path, tuple[FolderSummary, str | None]] = {}
        self._mapping: Mapping | None = None  # read once by the first summary worker

    def compose(self) -> ComposeResult:
        yield Static(f"Study folders under {display_path(self.folder)}", id="title", markup=False)
        with Horizontal(id="picker"):
            yield FolderTree(self.folder, id="tree")
            with Vertical(id="picker-side"):
                yield Static("", id="folder-summary", markup=False)
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

    @on(Tree.NodeHighlighted)
    def _cursor_moved(self, event: Tree.NodeHighlighted) -> None:
        self._show_summary()

    @property
    def ready(self) -> bool:
        """For `--screenshot`: the folder under the cursor has its summary shown."""
        path = self._cursor_path()
        return path is not None and (not path.is_dir() or path in self._summaries)

    def _cursor_path(self) -> Path | None:
        node = self.query_one(FolderTree).cursor_node
        return None if node is None or node.data is None else Path(node.data.path)

    def _show_summary(self) -> None:
        """The summary of the folder under the cursor, from the cache or from a new worker."""
        path = self._cursor_path()
        panel = self.query_one("#folder-summary", Static)
        if path is None or not path.is_dir():
            panel.update(Text("A file: p previews its de-identification.", no_wrap=True))
            return
        known = self._summaries.get(path)
        if known is None:
            panel.update(_summary_text(path.name, ["counting files ..."]))
            self._summarize(path)
            return
        summary, error = known
        lines = [summary.counts(), summary.study() or "no DICOM header read"]
        lines.append(f"mapping not read: {error}" if error else summary.mapping_state())
        panel.update(_summary_text(path.name, lines))

    @work(thread=True, exclusive=True, exit_on_error=False, group="summary")
    def _summarize(self, folder: Path) -> None:
        from anonapi_core.actions.folders import folder_summary
        from anonapi_tui.screens.mapping_editor import mapping_for

        worker = get_current_worker()
        error = None
        if self._mapping is None:
            try:
                self._mapping = mapping_for(self.settings, self.folder)
            except AnonAPIError as e:
                error = str(e)
        mapping = self._mapping if self._mapping is not None else Mapping()
        summary = folder_summary(mapping, folder, stop=lambda: worker.is_cancelled)
        if summary is not None:
            self.post_message(self.Summarized(folder, summary, error))

    def on_folder_picker_summarized(self, message: Summarized) -> None:
        self._summaries[message.folder] = (message.summary, message.error)
        if message.folder == self._cursor_path():
            self._show_summary()

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
        if not path.is_dir():
            self.notify("m marks study folders; p previews a file.", severity="warning")
            return
        if path in self.marked:
            self.marked.remove(path)
            node.set_label(Text(path.name))
        else:
            self.marked.append(path)
            node.set_label(Text(f"● {path.name}", style="bold yellow"))
        self._show_marked()

    def action_preview(self) -> None:
        node = self.query_one(FolderTree).cursor_node
        if node is None or node.data is None or not Path(node.data.path).is_file():
            self.notify("Move to a file to preview its de-identification.", severity="warning")
            return
        self._preview(Path(node.data.path))

    @work(thread=True, exclusive=True, exit_on_error=False, group="preview")
    def _preview(self, path: Path) -> None:
        # The engine lives with the embedded server; the core cannot hold it (see DESIGN.md).
        from anonapi_server.deid.preview import preview_file

        try:
            self.post_message(self.Previewed(preview_file(path, project=self._project())))
        except (OSError, ValueError) as e:
            self.post_message(self.Previewed(None, f"Cannot preview {path.name}: {e}"))

    def _project(self) -> str:
        return dict(self.settings.job_default_parameters).get("project") or "(no project)"

    def on_folder_picker_previewed(self, message: Previewed) -> None:
        if message.result is None:
            self.notify(message.error or "", severity="error", markup=False)
        else:
            self.app.push_screen(PreviewPanel(message.result))

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
        self._summaries.clear()  # the scan added rows: mapping states changed
        self._mapping = None
        self.query_one(FolderTree).reload()
        self._show_summary()


def _summary_text(name: str, lines: list[str]) -> Text:
    """The folder's name in bold over its summary lines, each cut to the panel's width."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(name, style="bold")
    for line in lines:
        text.append("\n" + line)
    return text
