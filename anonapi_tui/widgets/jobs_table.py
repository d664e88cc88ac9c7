"""The live jobs table: a keyed DataTable that changes only the cells whose text changed.

A refresh of a 10,000-job batch must cost little when few jobs moved, so the table keeps the
plain text it last rendered per job and compares tuples of strings; only differing cells are
rebuilt as `rich.text.Text` and written with `update_cell` (never `update_width`, which is
quadratic: columns have fixed widths). Server text is never read as markup.

A sorted table keeps one precomputed sort key per row (from the plain text, never a `Text`) and
re-sorts only when a new, gone or changed row could move: `DataTable.sort` calls a Python key
wrapper per row, which alone took most of the 100 ms budget of a tick at 10,000 rows.

Column widths follow the terminal and the content: short columns get what their longest value
needs (ids, counts, statuses), dates are shortened on narrow terminals, and the width left goes
to source and description. Widths are decided again only when the terminal or a column's
longest value changes; then the table is rebuilt once (rare: a resize, a longer pseudonym).

What is pure work over every job (each row's text, each column's longest value, the counts,
which rows differ from the previous poll's, the sorted order, and that order as DataTable keeps
it: RowKey -> index and line offsets, see `Placement`) is `prepare`d in the poll thread,
so the UI thread's tick touches only the rows that changed and a key press waits less for it.
A table shown without a prepared poll (or filtered) does that work itself, the same way.

Drawing: when a tick brings rows new to DataTable's caches onto the screen (the sort moved them,
the cursor followed its job elsewhere), each visible cell is drawn again; the table makes a
simple cell's line itself (`cell_lines`) instead of through Rich, a third of the cost. Two
methods touch DataTable's internals: `_show_rows` (writes) and `_render_cell` (draws a cell);
each has a test that fails when a Textual release changes what it relies on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter

from rich.style import Style
from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowKey
from textual.widgets.data_table import Row as TableRow

from anonapi_core.models import JobInfo, JobStatus
from anonapi_tui.widgets.cell_lines import SegmentLines, simple_cell_lines
from anonapi_tui.widgets.command_table import CommandTable


@dataclass(frozen=True)
class JobColumn:
    """One column of the table: key, heading, widths, and how to sort it.

    `cap` bounds what the longest value may claim; a `flex` column shares the width left over.
    """

    key: str
    label: str
    width: int
    numeric: bool = False
    cap: int | None = None
    flex: bool = False


MARK_COLUMN = JobColumn("mark", " ", 1)
COLUMNS: tuple[JobColumn, ...] = (
    JobColumn("job_id", "ID", 2, numeric=True),
    JobColumn("date", "Date", 11),
    JobColumn("status", "Status", 6),
    JobColumn("downloaded", "Down", 5, numeric=True),
    JobColumn("processed", "Proc", 5, numeric=True),
    JobColumn("user", "User", 4, cap=12),
    JobColumn("pseudonym", "Pseudonym", 9, cap=16),
    JobColumn("source", "Source", 10, flex=True),
    JobColumn("description", "Description", 11, flex=True),
)
WIDE = 120
"""From this terminal width on, dates keep their year."""
CELL_PADDING = 2
SCROLLBAR = 2
SORTABLE: tuple[str, ...] = tuple(c.key for c in COLUMNS)
STALLED = "STALLED"
"""Shown instead of ACTIVE for a job without progress for the configured time (not a server
status: filtering by ACTIVE still finds it, and the summary counts it as ACTIVE)."""
STATUS_STYLES: dict[str, Style] = {
    JobStatus.ACTIVE: Style.parse("bold cyan"),
    JobStatus.UPLOADED: Style.parse("magenta"),
    JobStatus.DONE: Style.parse("green"),
    JobStatus.ERROR: Style.parse("bold red"),
    JobStatus.INACTIVE: Style.parse("dim"),
    STALLED: Style.parse("bold black on yellow"),
}
STATUS_QUERIES = frozenset([*JobStatus.__members__, STALLED])
MARK = Text("●", style="bold yellow")
UNMARKED = Text(" ")

Row = tuple[str, ...]


def short_date(date: str, wide: bool) -> str:
    """`2026-11-01 08:00` on a wide terminal, `11-01 08:00` on a narrow one (details has it all)."""
    if len(date) < 16 or date[10] not in "T ":
        return date
    return f"{date[:10]} {date[11:16]}" if wide else f"{date[5:10]} {date[11:16]}"


def job_row(job: JobInfo, wide: bool = True, stalled: bool = False) -> Row:
    """The plain text of each column for one job; compared between refreshes to find changes."""
    pseudonym = job.source_anonymizedpatientname or job.source_anonymizedpatientid or ""
    return (
        str(job.job_id),
        short_date(job.date or "", wide),
        STALLED if stalled else job.status,
        "" if job.files_downloaded is None else str(job.files_downloaded),
        "" if job.files_processed is None else str(job.files_processed),
        job.user_name or "",
        pseudonym,
        job.source_path or job.source_instance_id or "",
        job.description or "",
    )


def longest_values(rows: Iterable[Row]) -> tuple[int, ...]:
    """The length of each column's longest value."""
    longest = [0] * len(COLUMNS)
    for row in rows:
        for index, value in enumerate(row):
            if len(value) > longest[index]:
                longest[index] = len(value)
    return tuple(longest)


def fit_widths(longest: Sequence[int], width: int) -> tuple[int, ...]:
    """Each column's width, from its longest value, on a table `width` cells wide.

    Fixed columns take their longest value (within `cap`), never less than their heading; the
    rest is shared by the flex columns in proportion to what they hold. An empty flex column
    (jobs listed without their source) gets 0: it is left out.
    """
    widths = []
    for column, needed in zip(COLUMNS, longest, strict=True):
        if column.flex:
            widths.append(needed)
        else:
            widths.append(max(column.width, len(column.label), min(needed, column.cap or needed)))
    shown = [n for n, (c, w) in enumerate(zip(COLUMNS, widths, strict=True)) if w or not c.flex]
    fixed = sum(widths[n] for n in shown if not COLUMNS[n].flex)
    used = MARK_COLUMN.width + CELL_PADDING * (len(shown) + 1) + fixed + SCROLLBAR
    flex = [n for n in shown if COLUMNS[n].flex]
    free = width - used
    wanted = sum(widths[n] for n in flex)
    for n in flex:
        share = free * widths[n] // wanted if wanted > free else widths[n]
        widths[n] = max(COLUMNS[n].width, share)
    if flex and wanted < free:  # room to spare: the last flex column (description) takes it
        widths[flex[-1]] += free - wanted
    return tuple(widths)


def cell(column: JobColumn, value: str) -> Text:
    """A cell as Text, so a `[/]` in a description is shown, not parsed."""
    if column.key == "status":
        return Text(value, style=STATUS_STYLES.get(value, Style.null()))
    return Text(value, justify="right" if column.numeric else "left", no_wrap=True)


SortKey = tuple[int, int | str] | str


@dataclass(frozen=True)
class Placement:
    """An order of rows as DataTable keeps it: RowKey -> index both ways, and each screen
    line's (RowKey, line in row). Made in the poll thread; the table takes them over as they
    are (DataTable looks rows up by an equal RowKey, so they need not be its own objects)."""

    locations: TwoWayDict[RowKey, int]
    offsets: list[tuple[RowKey, int]]


def place(order: Sequence[str], lines: dict[str, tuple[RowKey, int]]) -> Placement:
    """DataTable's order map and line offsets for `order` (one line a row), from `lines`."""
    offsets = list(map(lines.__getitem__, order))
    row_keys = list(map(itemgetter(0), offsets))
    return Placement(TwoWayDict(dict(zip(row_keys, range(len(row_keys)), strict=True))), offsets)


def _number_sort_key(plain: str) -> tuple[int, int | str]:
    """Numbers before text, numbers by value (so job 999 comes before job 1000)."""
    return (0, int(plain)) if plain.isdigit() else (1, plain.casefold())


def sort_key(column: JobColumn, plain: str) -> SortKey:
    """The key a cell sorts by; text columns (status, user ...) get the cheaper bare string."""
    return _number_sort_key(plain) if column.numeric else plain.casefold()


@dataclass(frozen=True)
class Prepared:
    """One poll's jobs as the table needs them, made in the poll thread by `prepare`."""

    generation: int
    wide: bool
    jobs: dict[str, JobInfo]
    rows: dict[str, Row]
    longest: tuple[int, ...]
    counts: dict[str, int]
    changed: tuple[str, ...] | None
    """Rows new or different since the poll before (generation - 1), in server order; None
    for the first poll."""
    gone: tuple[str, ...]
    sort_column: str | None
    sort_reverse: bool
    order: tuple[str, ...] | None
    """Every row's key in the order of `sort_column` (ties in server order); None unsorted."""
    placed: Placement | None = None
    """`order` in the shape DataTable keeps it, made here so the UI thread does not."""
    lines: dict[str, tuple[RowKey, int]] | None = None
    """Each row's key and line offset for `placed`, kept for the next poll's."""


def prepare(
    jobs: Iterable[JobInfo],
    *,
    wide: bool,
    stalled: frozenset[str] = frozenset(),
    sort_column: str | None = None,
    sort_reverse: bool = False,
    previous: Prepared | None = None,
) -> Prepared:
    """A poll's rows, longest values, counts, changes since `previous` and sorted order."""
    by_key: dict[str, JobInfo] = {}
    rows: dict[str, Row] = {}
    counts: dict[str, int] = {}
    for job in jobs:
        key = str(job.job_id)
        by_key[key] = job
        rows[key] = job_row(job, wide, key in stalled)
        counts[job.status] = counts.get(job.status, 0) + 1
    changed: tuple[str, ...] | None = None
    gone: tuple[str, ...] = ()
    if previous is not None:
        before = previous.rows
        changed = tuple(key for key, row in rows.items() if before.get(key) != row)
        gone = tuple(key for key in before if key not in rows)
    order = placed = lines = None
    if sort_column:
        index = SORTABLE.index(sort_column)
        column = COLUMNS[index]
        keys = {key: sort_key(column, row[index]) for key, row in rows.items()}
        order = tuple(sorted(keys, key=keys.__getitem__, reverse=sort_reverse))
        before_lines = previous.lines if previous and previous.lines else {}
        lines = {key: before_lines.get(key) or (RowKey(key), 0) for key in rows}
        placed = place(order, lines)
    return Prepared(
        generation=previous.generation + 1 if previous else 0,
        wide=wide,
        jobs=by_key,
        rows=rows,
        longest=longest_values(rows.values()),
        counts=counts,
        changed=changed,
        gone=gone,
        sort_column=sort_column,
        sort_reverse=sort_reverse,
        order=order,
        placed=placed,
        lines=lines,
    )


def row_matches(row: Row, query: str) -> bool:
    """A job status name (or `stalled`) matches the status exactly, ACTIVE also the stalled
    ones; anything else is a case-blind substring."""
    if not query:
        return True
    wanted = query.strip()
    status = wanted.upper()
    if status in STATUS_QUERIES:
        return row[2] == status or (status == JobStatus.ACTIVE and row[2] == STALLED)
    needle = wanted.casefold()
    return any(needle in value.casefold() for value in row)


class JobsTable(CommandTable):
    """Jobs keyed by id; marks, a status/text filter and the sort column survive refreshes.

    `enter` is the screen's `jobs.details` (see `CommandTable`).
    """

    DEFAULT_CSS = """
    JobsTable { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.jobs: dict[str, JobInfo] = {}
        self.marked: set[str] = set()
        self.stalled: frozenset[str] = frozenset()
        self.query_text = ""
        self.only: frozenset[str] | None = None
        """Show only these jobs (an error group), on top of the query; None shows all."""
        self._widths: tuple[int, ...] = ()
        self._wide = True
        self._layout_width = 0
        self.sort_column: str | None = None
        self.sort_reverse = False
        self._shown: dict[str, Row] = {}
        # All keyed by job id: a str hashes in C, DataTable's RowKey in Python.
        self._sort_keys: dict[str, SortKey] = {}
        self._row_lines: dict[str, tuple[RowKey, int]] = {}
        """Each shown job's RowKey with its line offset (0: one line a row) and DataTable row,
        to hand DataTable an order and its line offsets in its own objects without a lookup by
        RowKey, or a new tuple, per row."""
        self._table_rows: dict[str, TableRow] = {}
        self._order: list[str] | None = None  # applied sort order; None once rows come or go
        self._display: list[str] = []
        """Every row's key in display order: DataTable's own order, kept alongside."""
        self._prepared: Prepared | None = None
        """The poll the table shows, when it came prepared."""
        self._last_prepared: Prepared | None = None
        """The newest poll `prepare` made (the poll thread's own base for the next one)."""
        self._generation: int | None = None
        """The prepared poll `_shown` holds all rows of (unfiltered), or None."""

    def _add_columns(self) -> None:
        self.add_column(MARK_COLUMN.label, width=MARK_COLUMN.width, key=MARK_COLUMN.key)
        for column, width in zip(COLUMNS, self._widths, strict=True):
            if width or not column.flex:
                self.add_column(column.label, width=width, key=column.key)

    def on_resize(self) -> None:
        if self._widths:  # shown once already: fit the new width
            self._sync()

    @property
    def filtered(self) -> bool:
        """True when a query or a group hides some jobs."""
        return bool(self.query_text) or self.only is not None

    @property
    def shown_count(self) -> int:
        return len(self._shown)

    @property
    def cursor_job_id(self) -> str | None:
        """The id of the job under the cursor, or None on an empty table."""
        if self.row_count == 0:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except CellDoesNotExist:
            return None

    @property
    def visible_ids(self) -> list[str]:
        """The ids of the rows shown now, in display order."""
        return [str(row.key.value) for row in self.ordered_rows]

    def prepare(self, jobs: Iterable[JobInfo], stalled: frozenset[str]) -> Prepared:
        """`prepare` for this table's width and sort; called from the poll thread (one poll at
        a time), it reads those two and keeps the result as the base of the next poll's."""
        prepared = prepare(
            jobs,
            wide=self._is_wide(),
            stalled=stalled,
            sort_column=self.sort_column,
            sort_reverse=self.sort_reverse,
            previous=self._last_prepared,
        )
        self._last_prepared = prepared
        return prepared

    def _is_wide(self) -> bool:
        return self.size.width >= WIDE or not self.size.width

    def show_jobs(
        self,
        jobs: Iterable[JobInfo],
        stalled: frozenset[str] = frozenset(),
        prepared: Prepared | None = None,
    ) -> None:
        """Make the table show these jobs (`stalled` ids marked so), touching only what changed
        since the last call; `prepared` (from `prepare` on the same jobs) saves the passes over
        all of them."""
        self._prepared = prepared
        self.jobs = prepared.jobs if prepared else {str(job.job_id): job for job in jobs}
        self.stalled = stalled
        self.marked &= self.jobs.keys()
        self._sync()

    def set_query(self, query: str) -> None:
        """Filter by status name or text; rebuilt from scratch as most rows come or go."""
        self.query_text = query
        self._rebuild()

    def set_only(self, job_ids: Iterable[str] | None) -> None:
        """Show only these jobs (None: all again), e.g. the jobs of one error group."""
        self.only = None if job_ids is None else frozenset(job_ids)
        self._rebuild()

    def sort_by(self, column: str) -> None:
        """Sort by a column; sorting by the same column again reverses the order."""
        if column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column, False
        self._keep_cursor(self._resort)

    def next_sort_column(self) -> str:
        """The column after the current sort column (the first if unsorted or at the end)."""
        if self.sort_column is None:
            return SORTABLE[0]
        return SORTABLE[(SORTABLE.index(self.sort_column) + 1) % len(SORTABLE)]

    def toggle_mark(self, job_id: str) -> None:
        """Mark or unmark one job."""
        if job_id in self.marked:
            self.marked.discard(job_id)
        else:
            self.marked.add(job_id)
        self._render_mark(job_id)

    def set_marks(self, job_ids: Iterable[str]) -> None:
        """Replace the marks, redrawing only rows whose mark changed."""
        new = set(job_ids) & self.jobs.keys()
        changed = new ^ self.marked
        self.marked = new
        with self.app.batch_update():
            for job_id in changed:
                self._render_mark(job_id)

    def _render_mark(self, job_id: str) -> None:
        if job_id in self._shown:
            self.update_cell(job_id, MARK_COLUMN.key, MARK if job_id in self.marked else UNMARKED)

    def _rebuild(self, columns: bool = False) -> None:
        def rebuild() -> None:
            self.clear(columns=columns)
            if columns:
                self._add_columns()
            self._shown = {}
            self._sort_keys = {}
            self._row_lines, self._table_rows = {}, {}
            self._order = None
            self._display = []
            self._generation = None
            self._apply_rows()

        self._keep_cursor(rebuild)

    def _sync(self) -> None:
        self._keep_cursor(self._apply_rows)

    def _keep_cursor(self, change: Callable[[], None]) -> None:
        """Run a change, then put the cursor back on the job it was on (by key, not index)."""
        before = self.cursor_job_id
        with self.app.batch_update():
            change()
            if before is not None and before in self._shown:
                index = self.get_row_index(before)
                if index != self.cursor_row:
                    # The cursor_coordinate watcher scrolls it into view; scrolling here as
                    # well would walk all rows twice more per refresh.
                    self.move_cursor(row=index, animate=False, scroll=False)

    def _apply_rows(self) -> None:
        wide = self._is_wide()
        prepared = self._prepared if self._prepared and self._prepared.wide == wide else None
        if prepared is not None:
            rows, longest = prepared.rows, prepared.longest
        else:
            stalled = self.stalled
            rows = {key: job_row(job, wide, key in stalled) for key, job in self.jobs.items()}
            longest = None
        if self.only is not None:
            rows = {key: row for key, row in rows.items() if key in self.only}
        if self.query_text:
            rows = {key: row for key, row in rows.items() if row_matches(row, self.query_text)}
        if longest is None or self.filtered:
            longest = longest_values(rows.values())
        widths = fit_widths(longest, self.size.width or WIDE)
        if self._needs_layout(widths, wide):
            # Rebuilt from scratch with the new widths: rare (a resize, a longer value).
            self._widths, self._wide, self._layout_width = widths, wide, self.size.width
            self.clear(columns=True)
            self._add_columns()
            self._shown, self._sort_keys, self._order, self._generation = {}, {}, None, None
            self._row_lines, self._table_rows, self._display = {}, {}, []
        whole = None if self.filtered else prepared  # all of a prepared poll's rows are shown
        # Shown is the poll before this prepared one: only the rows it names can differ, and
        # its placement of rows (made for this table, used once) fits.
        following = None
        if whole and whole.changed is not None and self._generation == whole.generation - 1:
            following = whole
        if following is not None and following.changed is not None:
            gone: Sequence[str] = following.gone
            candidates: Iterable[str] = following.changed
        else:
            gone = [key for key in self._shown if key not in rows]
            candidates = rows
        for key in gone:
            self.remove_row(key)
            self._sort_keys.pop(key, None)
            del self._row_lines[key]
            del self._table_rows[key]
        if gone:
            kept = self._row_lines
            self._display = [key for key in self._display if key in kept]
        sort_index = SORTABLE.index(self.sort_column) if self.sort_column else -1
        resort = False
        writes: list[tuple[str, str, Text]] = []
        new_rows: list[tuple[str, Row]] = []
        for key in candidates:
            row = rows[key]
            old = self._shown.get(key)
            if old is None:
                new_rows.append((key, row))
            elif old != row:
                for index, (was, now) in enumerate(zip(old, row, strict=True)):
                    if was != now and self._widths[index]:
                        column = COLUMNS[index]
                        writes.append((key, column.key, cell(column, now)))
                        if index == sort_index:
                            self._sort_keys[key] = sort_key(column, now)
                            resort = True
        for key, row in new_rows:
            mark = MARK if key in self.marked else UNMARKED
            cells = (
                cell(c, v)
                for c, v, w in zip(COLUMNS, row, self._widths, strict=True)
                if w or not c.flex
            )
            row_key = self.add_row(mark, *cells, key=key)
            self._row_lines[key] = (row_key, 0)
            self._table_rows[key] = self.rows[row_key]
            self._display.append(key)
            if sort_index >= 0:
                self._sort_keys[key] = sort_key(COLUMNS[sort_index], row[sort_index])
        self._shown = rows
        self._generation = whole.generation if whole else None
        if gone or new_rows:
            self._order = None
        order, moved = self._display, bool(gone or new_rows)
        placed = None
        if self.sort_column and (resort or new_rows):
            if (
                whole
                and whole.order is not None
                and (whole.sort_column, whole.sort_reverse) == (self.sort_column, self.sort_reverse)
            ):
                sorted_order = list(whole.order)
                placed = whole.placed if following is whole else None
            else:
                sorted_order = self._sorted_order()
            if sorted_order != self._order:
                self._order = self._display = order = sorted_order
                moved = True
        if moved or writes:
            self._show_rows(order, moved=moved, writes=writes, placed=placed)

    def _needs_layout(self, widths: tuple[int, ...], wide: bool) -> bool:
        """True when the columns must change: first rows, a resize, a fixed column's longest
        value grew, or a flex column became empty or not. A flex value that grew is cut instead
        (a rebuild per longer description would cost a whole table per refresh)."""
        if not self._widths or wide != self._wide or self._layout_width != self.size.width:
            return True
        for column, new, old in zip(COLUMNS, widths, self._widths, strict=True):
            if (new > old and not column.flex) or (column.flex and bool(new) != bool(old)):
                return True
        return False

    def _resort(self) -> None:
        """Sort by a newly chosen column: every row's key is computed once, here."""
        if self.sort_column:
            index = SORTABLE.index(self.sort_column)
            column, shown = COLUMNS[index], self._shown
            self._sort_keys = {key: sort_key(column, row[index]) for key, row in shown.items()}
            order = self._sorted_order()
            if order != self._order:
                self._order = self._display = order
                self._show_rows(order, moved=True)

    def _sorted_order(self) -> list[str]:
        """The shown rows by their sort keys, ties in server order (as `prepare` orders them)."""
        keys = self._sort_keys
        return sorted(self._shown, key=keys.__getitem__, reverse=self.sort_reverse)

    def _show_rows(
        self,
        order: list[str],
        *,
        moved: bool,
        writes: Sequence[tuple[str, str, Text]] = (),
        placed: Placement | None = None,
    ) -> None:
        """Write a tick's cells, show the rows of these job ids in `order` (`moved`: not the
        order they had), and redraw only the lines that changed: the one place that writes
        DataTable's internals. Textual is pinned; `test_show_rows_matches_what_datatable_does`
        fails when a Textual release changes any of what follows.

        - Cells: what `update_cell` does, for all of them with one `_update_count` bump (each
          bump drops every cached render of the table).
        - Order: what `DataTable.sort` does after its `sorted()`, without its Python key
          wrapper per row: replace `_row_locations`.
        - The two lists DataTable rebuilds from all rows after a bump (rows in order, and each
          screen line's row: every row here is one line high) are handed to its caches, made
          from `order` in one pass each; a poll thread's `placed` (of `order`) is taken over.
        - The rendered lines of rows that neither changed nor moved are carried over to the
          new count in `_row_render_cache` (keyed by row, ..., count at index 8): a tick then
          renders the few rows that changed, not every visible cell again.
        """
        previous, old_locations = self._update_count, self._row_locations
        for job_id, column_key, value in writes:
            self._data[self._row_lines[job_id][0]][ColumnKey(column_key)] = value
        # map/zip rather than comprehensions: the loops over 10,000 rows stay in C.
        ordered = list(map(self._table_rows.__getitem__, order))
        if moved:
            placement = placed or place(order, self._row_lines)
            self._row_locations, offsets = placement.locations, placement.offsets
        else:
            offsets = list(map(self._row_lines.__getitem__, order))
        self._update_count += 1
        count = self._update_count
        self._ordered_row_cache[(len(ordered), count)] = ordered
        self._offset_cache[count] = offsets
        written = {job_id for job_id, _, _ in writes}
        renders = self._row_render_cache
        carried = []
        for key in list(renders.keys()):
            row_key = key[0]
            if key[8] != previous or row_key.value in written:
                continue
            if moved and old_locations.get(row_key) != self._row_locations.get(row_key):
                continue
            carried.append(((*key[:8], count, *key[9:]), renders.get(key)))
        # Set only after reading all: in a full cache each `set` drops the oldest entry.
        for key, lines in carried:
            if lines is not None:
                renders.set(key, lines)
        self.refresh()

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> SegmentLines:
        """DataTable's `_render_cell`, but a simple cell's line (see `cell_lines`) is made
        directly rather than through Rich: a screen of rows new to the caches (the sort moved
        them, the cursor followed its job) costs a third. Same cache, key and styles as
        DataTable's; `test_cells_drawn_directly_look_as_datatable_draws_them` compares both."""
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        row = self.rows.get(row_key) if row_key is not None else None
        lines = None
        if (
            row_key is not None
            and row is not None
            and column_key is not None
            and row_index >= 0
            and column_index >= 0
            and row.height == 1
            and not (self.fixed_rows or self.fixed_columns or row.auto_height)
        ):
            cache_key = (
                row_key,
                column_key,
                base_style,
                cursor,
                hover,
                self._show_hover_cursor,
                self._update_count,
                self._pseudo_class_state,
            )
            cached = self._cell_render_cache.get(cache_key)
            if cached is not None:
                return cached
            component_style, post_style = self._get_styles_to_render_cell(
                False,
                False,
                False,
                hover,
                cursor,
                self.show_cursor,
                self._show_hover_cursor,
                self.cursor_foreground_priority == "css",
                self.cursor_background_priority == "css",
            )
            meta = Style.from_meta({"row": row_index, "column": column_index})
            pre_style = base_style + meta + component_style
            value = self._data[row_key].get(column_key)
            lines = simple_cell_lines(value, width, self.cell_padding, pre_style, post_style)
            if lines is not None:
                self._cell_render_cache[cache_key] = lines
        if lines is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        return lines

    def counts(self) -> dict[str, int]:
        """Status -> number of jobs (all jobs, not only the filtered ones)."""
        if self._prepared is not None:
            return dict(self._prepared.counts)
        counts: dict[str, int] = {}
        for job in self.jobs.values():
            counts[job.status] = counts.get(job.status, 0) + 1
        return counts

    def ids_with_status(self, status: str) -> list[str]:
        """Every job id in this status, filtered out or not."""
        return [key for key, job in self.jobs.items() if job.status == status]

    def selection(self) -> Sequence[str]:
        """What an action applies to: the marked jobs, else the job under the cursor."""
        if self.marked:
            return sorted(self.marked, key=_number_sort_key)
        cursor = self.cursor_job_id
        return [cursor] if cursor else []
