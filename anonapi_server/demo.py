"""Demo material: generated jobs for screenshots and benchmarks, and the `anon-tui --demo` setup.

Headless (no textual): the dashboard imports it, and so can a benchmark or a notebook. The demo
starts its server with `anonapi_server.embedded.running_server`, which (unlike the pytest
plugin `anonapi_server.testing`) works on a plain install without pytest.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from anonapi_core.mapping import DEFAULT_MAPPING_NAME, Mapping, new_job_row, save_mapping
from anonapi_core.models import JobInfo, JobStatus
from anonapi_core.parameters import SourceIdentifier
from anonapi_core.settings import Settings, save_settings
from anonapi_server.embedded import EmbeddedServer, running_server

DEMO_SERVER_NAME = "demo"
DEMO_USER = "demo"
DEMO_PROJECT = "Wetenschap-Algemeen"  # the project every new server home has

SAMPLE_ERRORS: tuple[str, ...] = (
    "Patient 'DEMO-OPTOUT' is on the opt-out list; set opt_out_ignore to process",
    "Burned-in annotation found in 1.2.826.0.1.3680043.8.498.1 [BurnedInAnnotation=YES]",
    "Cannot read \\\\localhost\\demo\\missing: no such folder",
)


def sample_jobs(
    count: int, *, seed: int = 7, first_id: int = 1000, user: str = "demo"
) -> list[JobInfo]:
    """`count` plausible jobs in a fixed pseudo-random mix of statuses (same seed, same jobs).

    The error texts contain brackets on purpose: a table that reads them as markup breaks.
    """
    rng = random.Random(seed)
    statuses = (
        [JobStatus.DONE] * 5
        + [JobStatus.ACTIVE] * 3
        + [JobStatus.UPLOADED, JobStatus.ERROR, JobStatus.INACTIVE]
    )
    jobs = []
    for n in range(count):
        status = rng.choice(statuses)
        files = rng.randint(20, 400)
        done = files if status in (JobStatus.DONE, JobStatus.UPLOADED) else rng.randint(0, files)
        jobs.append(
            JobInfo(
                job_id=first_id + n,
                date=f"2026-11-{1 + n % 28:02d}T{8 + n % 10:02d}:{n * 7 % 60:02d}:00",
                user_name=user,
                status=status,
                error=rng.choice(SAMPLE_ERRORS) if status == JobStatus.ERROR else None,
                description=f"Study {n % 97} [series {n % 5}]",
                project_name="Wetenschap-Algemeen",
                priority=0,
                files_downloaded=done,
                files_processed=done
                if status == JobStatus.DONE
                else max(0, done - rng.randint(0, done)),
                source_anonymizedpatientid=f"P{n:05d}",
                source_anonymizedpatientname=f"Patient{n:05d}",
            )
        )
    return jobs


@dataclass
class DemoSession:
    """A running demo: the server, the working folder (the share's `demo` folder, with the
    studies, the mapping and the batch), the settings file.

    The batch starts empty; `create_jobs()` fills it. The dashboard calls it once it shows
    the batch, so the user sees the jobs arrive ACTIVE and move on to DONE or ERROR.
    """

    server: EmbeddedServer
    settings: Settings
    batch_folder: Path
    mapping_file: Path
    job_ids: list[str] = field(default_factory=list)

    @property
    def settings_path(self) -> Path:
        assert self.settings.path is not None
        return self.settings.path

    def create_jobs(self) -> list[str]:
        """Create one job per mapping row, added to the batch; returns the new ids. The server's
        worker takes them one at a time, so on screen most wait ACTIVE for a while."""
        from anonapi_core.actions.create import create_jobs_from_mapping
        from anonapi_core.exceptions import JobCreationException

        report = create_jobs_from_mapping(self.settings, self.mapping_file, self.batch_folder)
        if report.failed:
            raise JobCreationException(f"Demo job creation failed: {report.failed[0].reason}")
        self.job_ids += [job.job_id for job in report.created]
        return self.job_ids


def demo_settings(server: EmbeddedServer, path: Path) -> Settings:
    """Settings that talk to the demo server only; saved to `path`, never the user's file."""
    settings = Settings(
        servers={DEMO_SERVER_NAME: server.url},
        active_server_name=DEMO_SERVER_NAME,
        user_name=server.user_name,
        user_token=server.token,
        job_default_parameters=[("project", DEMO_PROJECT)],
        path=path,
    )
    save_settings(settings)
    return settings


def write_extra_studies(share_root: Path, count: int) -> list[Path]:
    """Plain CT studies of 60 full-size slices: big enough to watch them move through ACTIVE."""
    from anonapi_server.sample_studies import write_study

    folders = []
    for n in range(count):
        folder = share_root / "demo" / f"study_ct{n + 1:02d}"
        write_study(
            folder,
            patient_id=f"DEMO1{n:03d}",
            patient_name=f"Patient^Ct{n + 1}",
            n_files=60,
            rows=512,
            columns=512,
            seed=100 + n,
        )
        folders.append(folder)
    return folders


def share_mapping(
    server: EmbeddedServer,
    rows: list[dict[str, str]],
    path: Path,
    *,
    source_folder: str,
    output_folder: str,
    description: str,
) -> Path:
    """Save a mapping of `rows` whose sources are relative to `source_folder` on the server's
    share and whose output goes to `output_folder` there; the demo's and the tests' mappings."""
    mapping = Mapping(
        description=description,
        options={
            "root_source_path": server.unc(source_folder),
            "project": DEMO_PROJECT,
            "destination_path": server.unc(output_folder),
        },
        rows=rows,
        path=path,
    )
    return save_mapping(mapping)


def demo_mapping(
    server: EmbeddedServer,
    folders: list[Path],
    notes: dict[str, str],
    folder: Path,
    pacs_sources: tuple[str, ...] = (),
) -> Path:
    """One mapping row per study folder, sources relative to the share's `demo` folder, then
    one per PACS source (`accession_number:...`, `study_instance_uid:...`)."""
    sources = [
        (f"folder:{study.name}", f"{study.name}{notes.get(study.name, '')}") for study in folders
    ]
    sources += [(source, "from the demo PACS") for source in pacs_sources]
    rows = [
        new_job_row(
            SourceIdentifier.parse(source),
            pseudo_name=f"DEMO-{n:03d}",
            description=description,
        )
        for n, (source, description) in enumerate(sources, start=1)
    ]
    return share_mapping(
        server,
        rows,
        folder / DEFAULT_MAPPING_NAME,
        source_folder="demo",
        output_folder="demo_output",
        description="Demo mapping written by anon-tui --demo",
    )


@contextmanager
def demo_pacs(server: EmbeddedServer, folder: Path) -> Iterator[tuple[str, ...]]:
    """A local DIMSE PACS holding the demo's PACS studies, the server's default PACS while it
    runs; yields the mapping sources that name its studies, one of each kind."""
    from anonapi_server.admin import add_pacs
    from anonapi_server.config import ServerHome
    from anonapi_server.pacs.config import new_node
    from anonapi_server.pacs.local_pacs import running_local_pacs
    from anonapi_server.sample_studies import write_demo_pacs_studies

    (first, _), (_, second_uid) = write_demo_pacs_studies(folder)
    with running_local_pacs(folder) as pacs:
        node = new_node("DEMO-PACS", dimse=pacs.address, called_aet=pacs.ae_title)
        add_pacs(ServerHome(server.home), node, default=True)
        yield (f"accession_number:{first.accession_number}", f"study_instance_uid:{second_uid}")


@contextmanager
def demo_session(
    root: Path | None = None, *, workers: int = 1, extra_studies: int = 8
) -> Iterator[DemoSession]:
    """Start an embedded server in a temporary home, give it demo studies and an opt-out
    patient, write settings, a mapping and an empty batch; stop and clean up on exit.

    `ANONAPI_SETTINGS` is the caller's to set (to `settings_path`): the user's own settings
    are never read or written by the demo.
    """
    from anonapi_core.batch import init_batch
    from anonapi_server.admin import add_opt_out
    from anonapi_server.config import ServerHome
    from anonapi_server.sample_studies import write_demo_tree

    with ExitStack() as stack:
        if root is None:
            root = Path(
                stack.enter_context(
                    tempfile.TemporaryDirectory(prefix="anon-demo-", ignore_cleanup_errors=True)
                )
            )
        server = stack.enter_context(
            running_server(root / "server", workers=workers, user=DEMO_USER)
        )
        studies = write_demo_tree(server.share_root)
        notes = {}
        for study in studies:
            if study.opt_out:
                add_opt_out(ServerHome(server.home), study.patient_id)
                notes[study.folder.name] = " (patient on the opt-out list)"
            if study.burned_in:
                notes[study.folder.name] = " (burned-in annotation)"
        folders = [study.folder for study in studies]
        folders += write_extra_studies(server.share_root, extra_studies)
        pacs_sources = stack.enter_context(demo_pacs(server, root / "pacs"))
        settings = demo_settings(server, root / "settings.yml")
        # The working folder is the share's study folder, as a researcher's would be: the
        # folder picker (F6) shows the studies and its rows resolve on the server.
        folder = server.share_root / "demo"
        mapping_file = demo_mapping(server, folders, notes, folder, pacs_sources)
        init_batch(folder, settings.active_server())
        yield DemoSession(server, settings, folder, mapping_file)
