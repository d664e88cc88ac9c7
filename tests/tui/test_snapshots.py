"""One snapshot per screen and per state a user sees. Regenerate only on purpose:
`pytest tests/tui/test_snapshots.py --snapshot-update`, then look at every changed SVG.

Data is deterministic: generated sample jobs, a dead loopback port for a server that is down,
fixed UNC paths in mappings, and folders under the test's own working folder.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.worker import get_current_worker

from anonapi_core.exceptions import AnonAPIError
from anonapi_core.mapping import Mapping, save_mapping
from anonapi_core.models import Server
from anonapi_core.quarantine import HeldFile
from anonapi_core.settings import Settings, save_settings
from anonapi_server.demo import sample_jobs
from anonapi_server.sample_studies import write_study
from anonapi_tui.app import AnonApp
from anonapi_tui.job_sources import Fetched, ServerJobSource, StaticJobSource
from anonapi_tui.main import build_app
from anonapi_tui.screens.jobs import JobsScreen
from anonapi_tui.screens.quarantine import QuarantineScreen
from tests.tui.conftest import settle

SIZE = (120, 34)
DEAD_URL = "http://127.0.0.1:9"


class GatedSource(StaticJobSource):
    """Sample jobs that never arrive while the app runs: the loading state, held still.

    The fetch gives up as soon as its worker is cancelled (the app closing after the
    snapshot), so the test does not wait out a timeout.
    """

    def __init__(self) -> None:
        super().__init__(sample_jobs(30))

    def fetch(self) -> Fetched:
        worker = get_current_worker()
        deadline = time.monotonic() + 10
        while not worker.is_cancelled:
            assert time.monotonic() < deadline, "the app never closed"
            time.sleep(0.01)
        return super().fetch()


def jobs_app(source=None, *, read_only: bool = False) -> AnonApp:
    """A jobs screen whose next poll comes long after the snapshot: on a busy machine a 2 s
    poll could land between a key press and the picture and replace the note it showed."""
    source = source or StaticJobSource(sample_jobs(40), title="Batch in study_2026")
    return AnonApp({"batch": lambda: JobsScreen(source, interval=30)}, read_only=read_only)


@pytest.fixture
def settings(private_settings: Path) -> Settings:
    settings = Settings(
        servers={"p01": DEAD_URL, "p02": "http://127.0.0.1:9/p02"},
        active_server_name="p01",
        user_name="z123456",
        user_token="a-secret-token",
        job_default_parameters=[("project", "Wetenschap-Algemeen")],
        path=private_settings,
    )
    save_settings(settings)
    return settings


@pytest.fixture
def mapping_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    save_mapping(
        Mapping(
            description="Mapping created November 29 2026 by z123456",
            options={
                "root_source_path": r"\\server\share\studies",
                "project": "Wetenschap-Algemeen",
                "destination_path": r"\\server\share\output",
            },
            rows=[
                {"source": "folder:patient1", "pseudo_name": "PSEUDO001", "description": "CT [x]"},
                {"source": "study_instance_uid:1.2.840.1", "pseudo_name": "PSEUDO002"},
                {"source": "accession_number:12345678.1234567", "pseudo_name": "PSEUDO003"},
            ],
            path=folder / "anon_mapping.csv",
        )
    )
    return folder


def test_batch_jobs_table(snap_compare) -> None:
    assert snap_compare(jobs_app(), terminal_size=SIZE, run_before=settle)


def test_batch_loading(snap_compare) -> None:
    assert snap_compare(jobs_app(GatedSource()), terminal_size=SIZE)


def test_batch_empty(snap_compare) -> None:
    assert snap_compare(
        jobs_app(StaticJobSource([], title="Batch in new_study")),
        terminal_size=SIZE,
        run_before=settle,
    )


def test_batch_in_a_long_path_keeps_the_start_of_its_title_at_80x24(snap_compare) -> None:
    title = "Batch in /tmp/anon-demo-8vjcaxg7/server/shares/data/demo/some/deeper/study/folder"
    assert snap_compare(
        jobs_app(StaticJobSource(sample_jobs(3), title=title)),
        terminal_size=(80, 24),
        run_before=settle,
    )


def test_server_jobs_server_down(snap_compare, settings: Settings) -> None:
    source = ServerJobSource(settings, Server(name="p01", url=DEAD_URL))
    assert snap_compare(jobs_app(source), terminal_size=SIZE, run_before=settle)


def test_batch_marked_rows(snap_compare) -> None:
    assert snap_compare(
        jobs_app(), press=["space", "down", "space", "space"], terminal_size=SIZE, run_before=settle
    )


def test_batch_reset_confirmation(snap_compare) -> None:
    assert snap_compare(
        jobs_app(), press=["space", "space", "space", "r"], terminal_size=SIZE, run_before=settle
    )


def test_batch_filter_by_status(snap_compare) -> None:
    assert snap_compare(
        jobs_app(), press=["slash", *"error", "enter"], terminal_size=SIZE, run_before=settle
    )


async def typing_filter(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("slash", *"Study 1")
    await settle(pilot)


def test_batch_filter_being_typed(snap_compare) -> None:
    assert snap_compare(jobs_app(), terminal_size=SIZE, run_before=typing_filter)


def test_batch_sorted_by_status_reversed(snap_compare) -> None:
    assert snap_compare(
        jobs_app(), press=["s", "s", "s", "S"], terminal_size=SIZE, run_before=settle
    )


async def open_error_job(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("slash", *"error", "enter", "enter")
    await settle(pilot)


def test_job_details_with_full_error(snap_compare) -> None:
    assert snap_compare(jobs_app(), terminal_size=SIZE, run_before=open_error_job)


def test_help_lists_the_screens_keys(snap_compare) -> None:
    assert snap_compare(jobs_app(), press=["question_mark"], terminal_size=SIZE, run_before=settle)


def test_batch_read_only(snap_compare) -> None:
    assert snap_compare(
        jobs_app(read_only=True), press=["space", "r"], terminal_size=SIZE, run_before=settle
    )


def test_batch_paused(snap_compare) -> None:
    assert snap_compare(jobs_app(), press=["p"], terminal_size=SIZE, run_before=settle)


def test_servers_down_with_their_causes(snap_compare, settings: Settings, tmp_path: Path) -> None:
    app = build_app(settings, tmp_path, start="servers")
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_servers_add_form(snap_compare, settings: Settings, tmp_path: Path) -> None:
    app = build_app(settings, tmp_path, start="servers")
    assert snap_compare(app, press=["a", *"p03"], terminal_size=SIZE, run_before=settle)


def test_settings_with_masked_token(snap_compare, settings: Settings, tmp_path: Path) -> None:
    app = build_app(settings, tmp_path, start="settings")
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_mapping_valid(snap_compare, settings: Settings, mapping_folder: Path) -> None:
    app = build_app(settings, mapping_folder, start="mapping")
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_mapping_validation_errors_in_place(
    snap_compare, settings: Settings, mapping_folder: Path
) -> None:
    app = build_app(settings, mapping_folder, start="mapping")
    press = ["right", "enter", "ctrl+u", *"floder:patient1", "enter", "n"]
    assert snap_compare(app, press=press, terminal_size=SIZE, run_before=settle)


def test_mapping_cell_editor(snap_compare, settings: Settings, mapping_folder: Path) -> None:
    app = build_app(settings, mapping_folder, start="mapping")
    assert snap_compare(
        app, press=["right", "right", "right", "enter"], terminal_size=SIZE, run_before=settle
    )


def test_mapping_create_confirmation_needs_valid_rows(
    snap_compare, settings: Settings, mapping_folder: Path
) -> None:
    app = build_app(settings, mapping_folder, start="mapping")
    press = ["n", "ctrl+g"]
    assert snap_compare(app, press=press, terminal_size=SIZE, run_before=settle)


@pytest.fixture
def study_tree(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    for n in (1, 2):
        write_study(
            folder / f"patient{n}",
            patient_id=f"P{n}",
            patient_name="A^B",
            n_files=2,
            rows=16,
            columns=16,
        )
    (folder / "notes").mkdir()
    return folder


def test_folder_picker_marked(snap_compare, settings: Settings, study_tree: Path) -> None:
    app = build_app(settings, study_tree, start="folders")
    assert snap_compare(app, terminal_size=SIZE, run_before=pressing("down", "m", "down", "m"))


def pressing(*keys: str):
    """Press `keys` and wait for the workers they start (the folder summary under the cursor)."""

    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot, rounds=4)

    return run_before


async def mark_and_scan(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("down", "m", "down", "m", "down", "m", "ctrl+s")
    await settle(pilot, rounds=6)


def test_folder_picker_after_scan(snap_compare, settings: Settings, study_tree: Path) -> None:
    app = build_app(settings, study_tree, start="folders")
    assert snap_compare(app, terminal_size=SIZE, run_before=mark_and_scan)


# The sizes people have: an 80x24 console, a usual window, a wide screen.
SIZES = [(80, 24), (120, 40), (200, 60)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_batch_at_terminal_sizes(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(jobs_app(), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_server_jobs_at_terminal_sizes(snap_compare, size: tuple[int, int]) -> None:
    source = StaticJobSource(sample_jobs(60), title="Latest jobs on p01 (https://p01/api)")
    assert snap_compare(jobs_app(source), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_mapping_at_terminal_sizes(
    snap_compare, settings: Settings, mapping_folder: Path, size: tuple[int, int]
) -> None:
    app = build_app(settings, mapping_folder, start="mapping")
    assert snap_compare(app, terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_folders_at_terminal_sizes(
    snap_compare, settings: Settings, study_tree: Path, size: tuple[int, int]
) -> None:
    app = build_app(settings, study_tree, start="folders")
    assert snap_compare(app, terminal_size=size, run_before=pressing("down", "m"))


def test_batch_filtered_says_how_many_are_shown(snap_compare) -> None:
    assert snap_compare(
        jobs_app(), press=["slash", *"error", "enter"], terminal_size=(80, 24), run_before=settle
    )


def test_triage_groups_errors_largest_first(snap_compare) -> None:
    source = StaticJobSource(sample_jobs(400), title="Batch in study_2026")
    assert snap_compare(jobs_app(source), press=["t"], terminal_size=(100, 30), run_before=settle)


@pytest.fixture
def faulty_mapping_folder(tmp_path: Path) -> Path:
    """A mapping with one of each pre-flight finding a spreadsheet typically brings."""
    folder = tmp_path / "work"
    folder.mkdir()
    rows = [
        ("folder:patient1", "PSEUDO001"),
        ("folder:patient1", "PSEUDO002"),
        ("accession_number:1.23457E+11", "PSEUDO003"),
        ("accession_number:0012345", "PSEUDO004"),
        ("accession_number:12346", "PSEUDO005"),
        ("study_instance_uid:1.2.840 1", "PSEUDO006"),
        ("folder:patient7", "PSEUDO001"),
    ]
    save_mapping(
        Mapping(
            description="Mapping back from Excel",
            options={
                "root_source_path": r"\\server\share\studies",
                "project": "Wetenschap-Algemeen",
                "destination_path": r"\\server\share\output",
            },
            rows=[{"source": source, "pseudo_name": name} for source, name in rows],
            path=folder / "anon_mapping.csv",
        )
    )
    return folder


def test_mapping_preflight_panel(
    snap_compare, settings: Settings, faulty_mapping_folder: Path
) -> None:
    app = build_app(settings, faulty_mapping_folder, start="mapping")
    assert snap_compare(app, press=["k"], terminal_size=SIZE, run_before=settle)


async def preview_first_file(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("down", "down", "enter", "down", "p")  # patient1/, its first file
    await settle(pilot, rounds=6)


def test_folder_picker_preview(snap_compare, settings: Settings, study_tree: Path) -> None:
    app = build_app(settings, study_tree, start="folders")
    assert snap_compare(app, terminal_size=SIZE, run_before=preview_first_file)


class StaticHeldFiles:
    """Held files of one job, fixed: what the quarantine view shows, without a server."""

    def list(self, job_id: str) -> list[HeldFile]:
        reason = "burned-in annotation: modality US without BurnedInAnnotation=NO"
        return [
            HeldFile("5c0f2a9e41d3b7c8e2f1a604", "3", "1.dcm", reason, "held"),
            HeldFile("9d41e6b0c27a5f3e8b1d0c92", "3", "2.dcm", reason, "held"),
            HeldFile(
                "e07b3c5a9f12d64b8a0e7c31",
                "4",
                "1.dcm",
                "burned-in annotation: BurnedInAnnotation is YES",
                "released",
                "z123456",
                "2026-11-02T09:14:03",
            ),
        ]

    def decide(self, job_id: str, file_id: str, decision: str) -> HeldFile:
        raise AnonAPIError("sample held files are not on a server; nothing was changed")


def opening_quarantine(*keys: str):  # noqa: ANN201 - a run_before callback
    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        pilot.app.push_screen(QuarantineScreen(StaticHeldFiles(), "1042"))
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)

    return run_before


def test_quarantine_lists_held_files_and_why(snap_compare) -> None:
    assert snap_compare(jobs_app(), terminal_size=(100, 30), run_before=opening_quarantine())


def test_quarantine_release_asks_first_at_80x24(snap_compare) -> None:
    assert snap_compare(jobs_app(), terminal_size=(80, 24), run_before=opening_quarantine("r"))


class RecordedBatchSource(StaticJobSource):
    """Sample jobs of a batch folder holding audit records written at fixed times."""

    def __init__(self, folder: Path) -> None:
        super().__init__(sample_jobs(40), title="Batch in study_2026")
        self.folder = folder


@pytest.fixture
def recorded_batch(private_settings: Path) -> Path:
    """`study_2026` with a batch of the sample jobs, the origin of job 1003, two runs in the
    action log (a refusal among them) and the statuses a dashboard saw."""
    from anonapi_core.batch import JobBatch, save_batch
    from anonapi_core.job_origins import JobOrigin, record_origins
    from anonapi_core.record_file import append_records

    folder = private_settings.parent / "study_2026"
    folder.mkdir()
    jobs = sample_jobs(40)
    save_batch(folder, JobBatch([str(j.job_id) for j in jobs], Server(name="p01", url=DEAD_URL)))
    t = "2026-12-07T{}.000+00:00".format
    record_origins(folder, [JobOrigin("1003", "z123456", t("08:00:00"), "anon_mapping.csv", 9)])
    append_records(
        folder / ".anonbatch.statuses",
        [
            {"job_id": "1003", "status": "ACTIVE", "time": t("08:00:04")},
            {"job_id": "1003", "status": "ERROR", "time": t("08:41:17")},
            {"job_id": "1003", "status": "ACTIVE", "time": t("09:02:31")},
            {"job_id": "1003", "status": "ERROR", "time": t("09:15:02")},
        ],
        max_bytes=100_000,
    )
    refusal = "Job <n> is not in a state that can be reset (DONE)"
    append_records(
        folder / ".anonbatch.actions",
        [
            {
                "time": t("09:02:30"),
                "user": "z123456",
                "action": "reset",
                "server": "p01",
                "jobs": [
                    {"job_id": "1003", "ok": True},
                    {"job_id": "1007", "ok": True},
                    {"job_id": "1001", "ok": False, "reason": refusal},
                ],
            },
            {
                "time": t("09:20:00"),
                "user": "a654321",
                "action": "cancel",
                "server": "p01",
                "jobs": [{"job_id": "1000", "ok": True}, {"job_id": "1005", "ok": True}],
            },
        ],
        max_bytes=100_000,
    )
    return folder


AUDIT_SIZES = [(80, 24), (200, 60)]


@pytest.mark.parametrize("size", AUDIT_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_job_details_history_at_terminal_sizes(
    snap_compare, recorded_batch: Path, size: tuple[int, int]
) -> None:
    app = jobs_app(RecordedBatchSource(recorded_batch))
    assert snap_compare(app, terminal_size=size, run_before=open_error_job)


@pytest.mark.parametrize("size", AUDIT_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_action_log_shows_a_refusal_at_terminal_sizes(
    snap_compare, recorded_batch: Path, size: tuple[int, int]
) -> None:
    app = jobs_app(RecordedBatchSource(recorded_batch))
    assert snap_compare(app, press=["L", "down"], terminal_size=size, run_before=settle)


class MovingSource(StaticJobSource):
    """Sample jobs that move once: from the second fetch on, job 1000 processed more files and
    two UPLOADED jobs are DONE; the other ACTIVE jobs that had started stay as they were."""

    def __init__(self) -> None:
        super().__init__(sample_jobs(40), title="Batch in study_2026")
        moved = {1000: {"files_processed": 49}, 1002: {}, 1006: {}}
        self.later = [
            job.model_copy(update={"status": "DONE", **moved[job.job_id]})
            if job.job_id in (1002, 1006)
            else job.model_copy(update=moved[job.job_id])
            if job.job_id in moved
            else job
            for job in self.jobs
        ]
        self.fetches = 0

    def fetch(self) -> Fetched:
        self.fetches += 1
        return Fetched(list(self.jobs if self.fetches == 1 else self.later))


class MinuteClock:
    """Every poll comes a minute after the one before."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 60
        return self.now


async def second_poll(pilot: Pilot) -> None:
    """Poll again (a minute later), then hide the stall toast the snapshot is not about."""
    await settle(pilot)
    await pilot.press("f")
    await settle(pilot)
    pilot.app.clear_notifications()
    await settle(pilot)


@pytest.mark.parametrize("size", [(80, 24), (200, 60)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_batch_speeds_eta_and_stalled_jobs(snap_compare, size: tuple[int, int]) -> None:
    screen = JobsScreen(MovingSource(), interval=30, stall_after=60, clock=MinuteClock())
    app = AnonApp({"batch": lambda: screen})
    assert snap_compare(app, terminal_size=size, run_before=second_poll)
