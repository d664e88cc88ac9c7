"""The mapping of a folder as a grid: description, options and one row per job, checked per cell.

Every edit re-runs the core's job validation (the same rules `anon create from-mapping` applies)
and marks the offending cells in place, so a user sees a wrong source type or a non-UNC path
where it is, not in a message after pressing create.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Input, Static

from anonapi_core.actions.mapping import choose_mapping
from anonapi_core.exceptions import AnonAPIError, MapperError
from anonapi_core.jobrequests import mapping_problems
from anonapi_core.mapping import (
    DEFAULT_MAPPING_NAME,
    Mapping,
    RowProblem,
    load_mapping,
    new_mapping,
    save_mapping,
)
from anonapi_core.parameters import DESCRIPTION, PSEUDO_ID, PSEUDO_NAME, SOURCE
from anonapi_core.preflight import PreflightReport
from anonapi_core.settings import Settings
from anonapi_core.wording import plural
from anonapi_tui.bindings import bindings
from anonapi_tui.messages import Outcome
from anonapi_tui.screens.base import CommandScreen, display_path
from anonapi_tui.screens.jobs import JobsScreen
from anonapi_tui.widgets.cell_editor import CellEditor
from anonapi_tui.widgets.command_table import CommandTable
from anonapi_tui.widgets.confirmation import Confirmation
from anonapi_tui.widgets.preflight_panel import PreflightPanel

if TYPE_CHECKING:
    from anonapi_core.actions.create import CreationPlan, CreationReport

BASE_COLUMNS = (SOURCE.name, PSEUDO_ID.name, PSEUDO_NAME.name, DESCRIPTION.name)
OPTIONS = ("root_source_path", "project", "destination_path", "pims_key")
MAX_LISTED_PROBLEMS = 6


def mapping_for(settings: Settings, folder: Path) -> Mapping:
    """The folder's mapping by the CLI's rule (`choose_mapping`), or a new one (not yet written)
    seeded from the settings: the active mapping of another folder is never opened here."""
    try:
        choice = choose_mapping(settings, folder)
    except MapperError:
        choice = None
    if choice is not None and not choice.elsewhere:
        return load_mapping(choice.path)
    return new_mapping(folder, settings.job_default_parameters)


def problems_of(mapping: Mapping, settings: Settings) -> list[RowProblem]:
    """The core's check, the same `map status` and `map activate` show."""
    return mapping_problems(mapping, settings.job_default_parameters)


class MappingEditor(CommandScreen):
    """Edit with enter, n adds a row, d deletes one, ctrl+s saves (atomically), ctrl+g creates."""

    BINDINGS = bindings("mapping")

    class Planned(Outcome["CreationPlan"]):  # a string: the class is imported lazily
        """What creating jobs would do, or why it cannot."""

    class Created(Outcome["CreationReport"]):
        """Which jobs were created and which failed, or why none could be."""

    class Checked(Outcome[PreflightReport]):
        """A pre-flight of the mapping; with `plan`, the one run before creating its jobs."""

        plan: CreationPlan | None = None

    def __init__(self, settings: Settings, folder: Path) -> None:
        super().__init__()
        self.settings = settings
        self.folder = folder
        self.title = "Mapping"
        self.mapping: Mapping | None = None
        self.problems: list[RowProblem] = []
        self.load_error: str | None = None
        self.dirty = False
        self._loaded_mtime: float | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="title", markup=False)
        yield Input(
            placeholder="description of this mapping", id="description", select_on_focus=False
        )
        yield CommandTable(id="options", cursor_type="cell", show_header=False)
        yield CommandTable(id="grid", cursor_type="cell", zebra_stripes=True)
        yield Static("", id="problems", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#grid", DataTable).focus()

    def reload(self) -> None:
        """Read the mapping file again, dropping edits that were not saved."""
        try:
            self.mapping = mapping_for(self.settings, self.folder)
            self.load_error = None
        except AnonAPIError as e:
            self.mapping, self.load_error = None, str(e)
        self._mark_unsaved(False)
        self._loaded_mtime = self._file_mtime()
        self._render_all()

    def _file_mtime(self) -> float | None:
        path = self.folder / DEFAULT_MAPPING_NAME
        return path.stat().st_mtime if path.exists() else None

    def on_screen_resume(self) -> None:
        # The folder picker (or an editor outside) may have added rows meanwhile.
        if not self.dirty and self._file_mtime() != self._loaded_mtime:
            self.reload()

    def _mark_unsaved(self, dirty: bool) -> None:
        self.dirty = dirty
        unsaved = getattr(self.app, "unsaved", None)  # AnonApp asks before quitting
        if unsaved is not None:
            (unsaved.add if dirty else unsaved.discard)("mapping")

    def _changed(self) -> None:
        """After an edit: check every row again and say there is something to save."""
        self._mark_unsaved(True)
        self._validate()
        self._render_title()

    @property
    def columns(self) -> list[str]:
        assert self.mapping is not None
        return [*BASE_COLUMNS, *(c for c in self.mapping.columns if c not in BASE_COLUMNS)]

    def _render_all(self) -> None:
        title = self.query_one("#title", Static)
        if self.mapping is None:
            title.update(f"Mapping in {display_path(self.folder)}")
            self.query_one("#problems", Static).update(f"Error: {self.load_error}")
            self.query_one("#problems", Static).add_class("invalid")
            return
        self._render_title()
        self.query_one("#description", Input).value = self.mapping.description
        options = self.query_one("#options", DataTable)
        options.clear(columns=True)
        options.add_column("option", width=18, key="option")
        options.add_column("value", width=60, key="value")
        for name in OPTIONS:
            options.add_row(
                Text(name, style="bold"), Text(self.mapping.options.get(name, "")), key=name
            )
        grid = self.query_one("#grid", DataTable)
        grid.clear(columns=True)
        grid.add_column("#", width=3, key="#")
        for column in self.columns:
            grid.add_column(column, width=34 if column == SOURCE.name else 16, key=column)
        for index, _row in enumerate(self.mapping.rows):
            grid.add_row(*self._row_cells(index), key=str(index))
        self._validate()

    def _render_title(self) -> None:
        assert self.mapping is not None
        path = self.mapping.path or self.folder / DEFAULT_MAPPING_NAME
        state = " (new, not saved yet)" if not path.exists() else " (changed)" if self.dirty else ""
        self.query_one("#title", Static).update(f"Mapping {display_path(path)}{state}")

    def _row_cells(self, index: int) -> list[Text]:
        assert self.mapping is not None
        row = self.mapping.rows[index]
        return [Text(str(index + 1), style="dim"), *(Text(row.get(c, "")) for c in self.columns)]

    def _validate(self) -> None:
        """Re-check every row; restyle only the cells whose validity changed."""
        assert self.mapping is not None
        before = {(p.row, p.column) for p in self.problems}
        self.problems = problems_of(self.mapping, self.settings)
        after = {(p.row, p.column) for p in self.problems}
        grid = self.query_one("#grid", DataTable)
        columns = set(self.columns)
        # Cells that were or are invalid: the first lose their mark, the second (re)gain it.
        for row, column in before | after:
            if row is not None and column in columns and row <= len(self.mapping.rows):
                cell = self._cell(row - 1, column, (row, column) in after)
                grid.update_cell(str(row - 1), column, cell)
        self._show_problems()

    def _cell(self, index: int, column: str, invalid: bool) -> Text:
        assert self.mapping is not None
        value = self.mapping.rows[index].get(column, "")
        if invalid:
            return Text(f"⚠ {value}", style="bold red reverse" if not value else "bold red")
        return Text(value)

    def _show_problems(self) -> None:
        box = self.query_one("#problems", Static)
        if not self.problems:
            box.remove_class("invalid")
            assert self.mapping is not None
            box.update(f"{len(self.mapping.rows)} rows, all valid")
            return
        box.add_class("invalid")
        lines = [str(p) for p in self.problems[:MAX_LISTED_PROBLEMS]]
        if len(self.problems) > MAX_LISTED_PROBLEMS:
            lines.append(f"... and {len(self.problems) - MAX_LISTED_PROBLEMS} more")
        box.update("\n".join(lines))

    # Editing ---------------------------------------------------------------------------

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # Tab into the description adds to it: Input would select the whole text on focus,
        # so the first key typed replaced it.
        if isinstance(event.widget, Input) and event.widget.id == "description":
            event.widget.action_end()

    def on_input_changed(self, event: Input.Changed) -> None:
        mapping = self.mapping
        if event.input.id == "description" and mapping and event.value != mapping.description:
            mapping.description = event.value
            self._changed()

    def action_edit_cell(self) -> None:
        focused = self.focused
        if self.mapping is None or not isinstance(focused, DataTable) or focused.row_count == 0:
            return
        key = focused.coordinate_to_cell_key(focused.cursor_coordinate)
        row_key, column = key.row_key.value, key.column_key.value
        if row_key is None or column is None:  # every row and column here is added with a key
            return
        if focused.id == "options":
            self._edit(
                f"Option {row_key}",
                self.mapping.options.get(row_key, ""),
                lambda value: self._set_option(row_key, value),
            )
        elif column != "#":
            index = int(row_key)
            self._edit(
                f"Row {index + 1}, {column}",
                self.mapping.rows[index].get(column, ""),
                lambda value: self._set_cell(index, column, value),
            )

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        self.action_edit_cell()

    def _edit(self, label: str, value: str, apply) -> None:
        def done(new: str | None) -> None:
            if new is not None:
                apply(new.strip())

        self.app.push_screen(CellEditor(label, value), done)

    def _set_option(self, name: str, value: str) -> None:
        assert self.mapping is not None
        self.mapping.options[name] = value
        self.query_one("#options", DataTable).update_cell(name, "value", Text(value))
        self._changed()

    def _set_cell(self, index: int, column: str, value: str) -> None:
        assert self.mapping is not None
        self.mapping.rows[index][column] = value
        self.query_one("#grid", DataTable).update_cell(str(index), column, Text(value))
        self._changed()

    def action_add_row(self) -> None:
        if self.mapping is None:
            return
        self.mapping.rows.append({SOURCE.name: ""})
        self.mapping.row_lines.append(None)
        grid = self.query_one("#grid", DataTable)
        index = len(self.mapping.rows) - 1
        grid.add_row(*self._row_cells(index), key=str(index))
        grid.move_cursor(row=index, column=1)
        grid.focus()
        self._changed()

    def action_delete_row(self) -> None:
        grid = self.query_one("#grid", DataTable)
        if self.mapping is None or grid.row_count == 0:
            return
        index = grid.cursor_row
        del self.mapping.rows[index]
        if index < len(self.mapping.row_lines):
            del self.mapping.row_lines[index]
        self._render_all()
        self._changed()
        grid.move_cursor(row=min(index, grid.row_count - 1))

    def _save(self) -> Path | None:
        assert self.mapping is not None
        try:
            path = save_mapping(self.mapping)
        except AnonAPIError as e:
            self.notify(str(e), severity="error", markup=False)
            return None
        self._mark_unsaved(False)
        self._loaded_mtime = self._file_mtime()
        self._render_title()
        return path

    def action_save(self) -> None:
        if self.mapping is not None and (path := self._save()):
            self.notify(f"Saved {display_path(path)}", markup=False)

    # Pre-flight ------------------------------------------------------------------------

    def action_check(self) -> None:
        """Run the whole pre-flight (server and registry too) on the mapping as shown."""
        if self.mapping is not None:
            self._preflight(self.mapping, None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="preflight")
    def _preflight(self, mapping: Mapping, plan: CreationPlan | None) -> None:
        from anonapi_core.actions.preflight import preflight_mapping

        try:
            message = self.Checked(preflight_mapping(self.settings, mapping, self.folder))
        except AnonAPIError as e:
            message = self.Checked(None, str(e))
        message.plan = plan
        self.post_message(message)

    def on_mapping_editor_checked(self, message: Checked) -> None:
        report, plan = message.result, message.plan
        if report is None:
            self.notify(f"Check failed: {message.error}", severity="error", markup=False)
            return
        if plan is None:
            self.app.push_screen(PreflightPanel(report))
        elif report.ok and not report.warnings:
            self._confirm_create(plan)
        else:

            def answered(go_on: bool | None) -> None:
                if go_on:
                    self._confirm_create(plan)

            self.app.push_screen(PreflightPanel(report, creating=True), answered)

    # Creating jobs ---------------------------------------------------------------------

    def action_create_jobs(self) -> None:
        """Save, plan (validates again, skips rows created before), confirm, create, show batch."""
        if self.mapping is None:
            return
        if self.problems:
            self.notify(f"Fix the {len(self.problems)} problems first.", severity="warning")
            return
        if (path := self._save()) is not None:
            self._plan(path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="create-jobs")
    def _plan(self, path: Path) -> None:
        from anonapi_core.actions.create import plan_jobs

        try:
            self.post_message(self.Planned(plan_jobs(self.settings, path, self.folder)))
        except AnonAPIError as e:
            self.post_message(self.Planned(None, str(e)))

    def on_mapping_editor_planned(self, message: Planned) -> None:
        plan = message.result
        if plan is None:
            self.notify(f"Cannot create jobs: {message.error}", severity="error", markup=False)
            return
        if not plan.jobs:
            done = len(plan.already_created)
            self.notify(f"All {plural(done, 'row')} were created before.", markup=False)
            return
        assert self.mapping is not None
        self._preflight(self.mapping, plan)

    def _confirm_create(self, plan: CreationPlan) -> None:
        question = (
            f"Create {plural(len(plan.jobs))} on {plan.server.name} ({plan.server.url})?\n\n"
            f"project: {', '.join(plan.projects)}\ndestination: {', '.join(plan.destinations)}"
        )
        if plan.already_created:
            question += f"\n({plural(len(plan.already_created), 'row')} created before: skipped)"

        def answered(yes: bool | None) -> None:
            if yes:
                self._create(plan)

        self.app.push_screen(Confirmation(question, yes_label="Create"), answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="create-jobs")
    def _create(self, plan: CreationPlan) -> None:
        from anonapi_core.actions.create import execute_plan
        from anonapi_core.actions.pseudonyms import record_created

        try:
            report = execute_plan(self.settings, plan)
            warning = record_created(report)
            if warning:
                self.app.call_from_thread(self.notify, warning, severity="warning", markup=False)
            self.post_message(self.Created(report))
        except AnonAPIError as e:
            self.post_message(self.Created(None, str(e)))

    async def on_mapping_editor_created(self, message: Created) -> None:
        report: CreationReport | None = message.result
        if report is None:
            self.notify(f"Creating jobs failed: {message.error}", severity="error", markup=False)
            return
        if report.created:
            self.notify(f"Created {plural(len(report.created))}.", markup=False)
        for failed in report.failed[:3]:
            self.notify(f"Not created: {failed.reason}", severity="error", markup=False)
        if report.batch_error:
            self.notify(report.batch_error, severity="error", markup=False)
        if report.created and "batch" in self.app._modes:
            await self.app.switch_mode("batch")
            if isinstance(self.app.screen, JobsScreen):
                self.app.screen.poll_now()
