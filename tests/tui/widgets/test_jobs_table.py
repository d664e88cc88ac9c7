"""The jobs table: only changed cells are written, rows follow the jobs by key, text stays text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from textual.app import App, ComposeResult
from textual.coordinate import Coordinate
from textual.pilot import Pilot

from anonapi_core.models import JobInfo
from anonapi_server.demo import sample_jobs
from anonapi_tui.widgets import jobs_table
from anonapi_tui.widgets.jobs_table import JobsTable, job_row, row_matches


class TableApp(App):
    def compose(self) -> ComposeResult:
        yield JobsTable()


@asynccontextmanager
async def showing(jobs: list[JobInfo]) -> AsyncIterator[tuple[Pilot, JobsTable]]:
    """A bare app whose one jobs table shows `jobs`."""
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(JobsTable)
        table.show_jobs(jobs)
        yield pilot, table


def changed(job: JobInfo, **fields) -> JobInfo:
    return job.model_copy(update=fields)


async def test_a_refresh_writes_only_the_cells_that_changed() -> None:
    jobs = sample_jobs(200)
    async with showing(jobs) as (pilot, table):
        writes: list[tuple[str, str]] = []
        original = table._show_rows

        def counting(order, *, moved, writes_=(), **kwargs):
            writes.extend((job_id, column) for job_id, column, _ in kwargs.get("writes", ()))
            return original(order, moved=moved, **kwargs)

        table._show_rows = counting
        jobs[5] = changed(jobs[5], status="DONE" if jobs[5].status != "DONE" else "ERROR")
        jobs[9] = changed(jobs[9], files_processed=12345)
        table.show_jobs(jobs)
        await pilot.pause()
        assert sorted(writes) == [("1005", "status"), ("1009", "processed")]
        assert table.get_cell("1009", "processed").plain == "12345"


async def test_rows_of_vanished_jobs_go_and_the_cursor_stays_on_its_job() -> None:
    jobs = sample_jobs(20)
    async with showing(jobs) as (pilot, table):
        table.move_cursor(row=10)
        assert table.cursor_job_id == "1010"
        table.show_jobs(jobs[3:] + sample_jobs(2, first_id=5000))
        await pilot.pause()
        assert table.row_count == 19
        assert "1000" not in table.visible_ids and table.visible_ids[-1] == "5001"
        assert table.cursor_job_id == "1010"


async def test_server_text_with_markup_is_shown_literally() -> None:
    job = changed(
        sample_jobs(1)[0], description="[/] closes [bold]nothing[/bold]", user_name="[red]x"
    )
    async with showing([job]) as (pilot, table):
        await pilot.pause()
        assert table.get_cell("1000", "description").plain == "[/] closes [bold]nothing[/bold]"
        assert table.get_cell("1000", "user").plain == "[red]x"


async def test_marks_survive_refreshes_and_drop_with_their_jobs() -> None:
    jobs = sample_jobs(10)
    async with showing(jobs) as (_pilot, table):
        table.set_marks(["1001", "1002"])
        table.show_jobs(jobs[2:])
        assert table.marked == {"1002"}
        assert table.get_cell("1002", "mark").plain == "●"


def test_a_status_name_filters_by_status_and_other_text_by_substring() -> None:
    job = sample_jobs(4)[3]  # an ERROR job, "Study 3 [series 3]"
    row = job_row(job)
    assert row_matches(row, "error") and row_matches(row, " ERROR ")
    assert not row_matches(row, "done")
    assert row_matches(row, "series 3]")
    assert not row_matches(row, "series 4")
    assert row_matches(row, "")


def expected_order(jobs: list[JobInfo], reverse: bool = False) -> list[str]:
    """Ids by status (case-blind), ties in the order the jobs were first shown."""
    return [str(j.job_id) for j in sorted(jobs, key=lambda j: j.status.casefold(), reverse=reverse)]


async def test_a_table_sorted_by_status_stays_sorted_when_statuses_change() -> None:
    jobs = sample_jobs(60)
    async with showing(jobs) as (pilot, table):
        table.sort_by("status")
        table.move_cursor(row=table.get_row_index("1007"))
        for reverse in (False, True):
            for index in (7, 8, 30, 59):
                status = "DONE" if jobs[index].status != "DONE" else "ERROR"
                jobs[index] = changed(jobs[index], status=status)
            table.show_jobs(jobs)
            await pilot.pause()
            assert table.visible_ids == expected_order(jobs, reverse)
            assert table.cursor_job_id == "1007"
            table.sort_by("status")  # the same column again: reversed for the next round


async def test_new_and_vanished_jobs_keep_a_sorted_table_in_order() -> None:
    jobs = sample_jobs(12)
    async with showing(jobs) as (pilot, table):
        table.sort_by("job_id")
        table.sort_by("job_id")  # descending, numerically: 999 sorts below 1000
        table.show_jobs(jobs[3:] + sample_jobs(1, first_id=999) + sample_jobs(1, first_id=5000))
        await pilot.pause()
        assert table.visible_ids == ["5000", *(str(i) for i in range(1011, 1002, -1)), "999"]


async def test_a_refresh_that_changes_no_sorted_column_keeps_the_order() -> None:
    jobs = sample_jobs(30)
    async with showing(jobs) as (pilot, table):
        table.sort_by("status")
        before = table.visible_ids
        jobs[4] = changed(jobs[4], files_processed=7, description="moved on")
        table.show_jobs(jobs)
        await pilot.pause()
        assert table.visible_ids == before == expected_order(jobs)
        assert table.get_cell("1004", "description").plain == "moved on"


async def test_a_filter_on_a_sorted_table_shows_its_rows_sorted() -> None:
    jobs = sample_jobs(40)
    async with showing(jobs) as (pilot, table):
        table.sort_by("job_id")
        table.sort_by("job_id")  # descending
        table.set_query("error")
        await pilot.pause()
        errors = [str(j.job_id) for j in jobs if j.status == "ERROR"]
        assert len(errors) > 2
        assert table.visible_ids == errors[::-1]


async def test_show_rows_matches_what_datatable_does() -> None:
    """`_show_rows` writes DataTable's private row order, cache counter and two of its caches;
    when a Textual release renames or changes any of them, what it leaves stops matching what
    `DataTable.sort` and DataTable's own bookkeeping make."""
    jobs = sample_jobs(30)
    async with showing(jobs) as (pilot, table):
        ids = [str(job.job_id) for job in jobs]
        assert [row.key.value for row in table.ordered_rows] == ids  # caches the order
        first_line = table.render_line(1).text
        table._show_rows(ids[::-1], moved=True)
        await pilot.pause()
        ours = [row.key.value for row in table.ordered_rows]
        our_offsets = list(table._y_offsets)
        assert ours == ids[::-1]
        assert table.get_row_at(0) == table.get_row(ids[-1])
        assert table.render_line(1).text != first_line  # cached lines were dropped
        table._ordered_row_cache.clear()
        table._offset_cache.clear()
        assert [row.key.value for row in table.ordered_rows] == ours  # as DataTable makes them
        assert table._y_offsets == our_offsets

        table._show_rows(ids, moved=True)
        table.sort("job_id", key=lambda job_id: -int(job_id.plain))
        await pilot.pause()
        assert [row.key.value for row in table.ordered_rows] == ours


async def test_prepared_polls_show_what_the_table_works_out_by_itself() -> None:
    """The poll thread's `prepare` (changes since the poll before, sorted order) and the
    table's own pass over all rows end in the same rows, cells, order and cursor."""

    class TwoTables(App):
        def compose(self) -> ComposeResult:
            yield JobsTable(id="prepared")
            yield JobsTable(id="plain")

    jobs = sample_jobs(80)
    app = TwoTables()
    async with app.run_test(size=(120, 60)) as pilot:
        fast, plain = app.query_one("#prepared", JobsTable), app.query_one("#plain", JobsTable)
        for table in (fast, plain):
            table.sort_by("status")
        polls = [
            jobs,
            [changed(j, status="DONE") if j.job_id % 7 == 0 else j for j in jobs],
            [changed(j, files_processed=1) if j.job_id % 5 == 0 else j for j in jobs[4:]]
            + sample_jobs(3, first_id=2000),
            [changed(j, status="ERROR") if j.job_id % 3 == 0 else j for j in jobs[2:]],
        ]
        for number, poll in enumerate(polls):
            stalled = frozenset({"1010"}) if number == 3 else frozenset()
            prepared = fast.prepare(poll, stalled)
            fast.show_jobs(poll, stalled, prepared)
            plain.show_jobs(poll, stalled)
            await pilot.pause()
            if number:  # the poll thread's placement of the rows is the one DataTable uses
                assert prepared.placed is not None
                assert fast._row_locations is prepared.placed.locations
            assert fast.visible_ids == plain.visible_ids, number
            for index, job_id in enumerate(fast.visible_ids):
                assert fast.get_row_index(job_id) == plain.get_row_index(job_id) == index
                assert fast.get_row_at(index) == plain.get_row(job_id)
            assert fast.visible_ids == expected_order_of(fast), number
            for job_id in fast.visible_ids:
                assert fast.get_row(job_id) == plain.get_row(job_id)
            assert fast.counts() == plain.counts()
            if number == 1:
                fast.move_cursor(row=5)
                plain.move_cursor(row=5)
            assert fast.cursor_job_id == plain.cursor_job_id
        assert fast.get_cell("1010", "status").plain == "STALLED"


def expected_order_of(table: JobsTable) -> list[str]:
    """The table's rows by their status cell, ties by job number."""
    rows = [(table.get_cell(i, "status").plain.casefold(), int(i)) for i in table.visible_ids]
    return [str(job_id) for _, job_id in sorted(rows)]


async def test_a_tick_draws_what_a_table_drawn_from_scratch_draws() -> None:
    """Lines carried over from the paint before (rows that neither changed nor moved) and the
    lines drawn again make the same picture as a table that draws every line afresh."""

    class TwoTables(App):
        def compose(self) -> ComposeResult:
            yield JobsTable(id="ticked")
            yield JobsTable(id="fresh")

    def lines(table: JobsTable) -> list[list[tuple[str, object]]]:
        return [
            [(segment.text, segment.style) for segment in table.render_line(y)]
            for y in range(table.size.height)
        ]

    jobs = sample_jobs(60)
    later = [changed(j, status="DONE", files_processed=3) if j.job_id % 4 else j for j in jobs]
    for sort_column in (None, "status"):
        app = TwoTables()
        async with app.run_test(size=(120, 50)) as pilot:
            ticked, fresh = app.query_one("#ticked", JobsTable), app.query_one("#fresh", JobsTable)
            app.set_focus(None)  # a focused table draws its cursor otherwise
            if sort_column:
                ticked.sort_by(sort_column)
                fresh.sort_by(sort_column)
            ticked.show_jobs(jobs, frozenset(), ticked.prepare(jobs, frozenset()))
            await pilot.pause()
            lines(ticked)  # painted once: the renders a tick may carry over
            ticked.show_jobs(later, frozenset(), ticked.prepare(later, frozenset()))
            fresh.show_jobs(later)
            await pilot.pause()
            assert lines(ticked) == lines(fresh)


async def test_a_tick_with_a_full_cache_of_drawn_lines_keeps_working() -> None:
    """Carrying drawn lines over must not trip on the cache dropping its oldest entries."""
    jobs = sample_jobs(60)
    later = [changed(j, files_processed=5) if j.job_id % 9 == 0 else j for j in jobs]
    app = TableApp()
    async with app.run_test(size=(120, 50)) as pilot:
        table = app.query_one(JobsTable)
        table.show_jobs(jobs, frozenset(), table.prepare(jobs, frozenset()))
        await pilot.pause()
        renders = table._row_render_cache
        for row in range(40):  # each cursor position draws every line again
            table.move_cursor(row=row, animate=False)
            for y in range(table.size.height):
                table.render_line(y)
            if len(renders) == renders.maxsize:
                break
        assert len(renders) == renders.maxsize
        table.show_jobs(later, frozenset(), table.prepare(later, frozenset()))
        await pilot.pause()
        assert table.get_cell("1008", "processed").plain == "5"


async def test_cells_drawn_directly_look_as_datatable_draws_them(monkeypatch) -> None:
    """JobsTable draws simple cells itself (`cell_lines`); every line it draws (cursor row,
    hover, zebra stripes, focused or not, marks, STALLED, text that is not ASCII) equals what
    DataTable draws through Rich."""

    def lines(table: JobsTable) -> list[list[tuple[str, object]]]:
        return [
            [(segment.text, segment.style) for segment in table.render_line(y)]
            for y in range(table.size.height)
        ]

    def through_rich(table: JobsTable) -> list[list[tuple[str, object]]]:
        with monkeypatch.context() as patch:
            patch.setattr(jobs_table, "simple_cell_lines", lambda *args: None)
            table._clear_caches()
            drawn = lines(table)
        table._clear_caches()
        return drawn

    jobs = sample_jobs(40)
    jobs[3] = changed(jobs[3], description="Ünïcode [b]and markup[/b]", user_name="ö")
    jobs[5] = changed(jobs[5], source_path=None, description="")
    stalled = frozenset({str(jobs[1].job_id), str(jobs[2].job_id)})
    for size in ((80, 50), (200, 50)):
        app = TableApp()
        async with app.run_test(size=size) as pilot:
            table = app.query_one(JobsTable)
            table.show_jobs(jobs, stalled)
            table.set_marks([str(jobs[0].job_id), str(jobs[4].job_id)])
            table.sort_by("status")
            table.move_cursor(row=2, animate=False)
            table.hover_coordinate = Coordinate(4, 1)
            for focused in (table, None):
                app.set_focus(focused)
                await pilot.pause()
                assert lines(table) == through_rich(table)
