"""PACS jobs: retrieve + de-identify + publish 1,000 CT instances from Orthanc, DICOMweb and C-GET.

The 1,000 instances (512 x 512 x 16 bit, ~0.5 MB each) are two studies of 500, uploaded once to a
throwaway Orthanc (`tests/support/orthanc.py`). Ours: the embedded server with 1 and 2 workers,
two PACS jobs (one per study, by accession number), from creation until both are DONE.

The ceiling is the bare retrieval of the same studies to disk by the same library, the way ours
retrieves (dicomweb-client's streamed WADO-RS request and multipart part reader writing each
part's bytes; pynetdicom C-GET writing each received instance's bytes), nothing else:
- 1 worker: both studies one after the other in one process (the same work one worker does).
- 2 workers: the same parallelism, two processes retrieving one study each at the same time;
  also reported: each worker's share against the 1-worker ceiling (one bare retrieval alone).
For DICOMweb the library's public way (`iter_study`, which parses each part, then `save_as`) is
measured too, as the ceiling earlier figures were given against.
Target: per worker, ≥ 50% of the bare retrieval's speed.

Each run, ours and bare alike, writes into a new empty folder; nothing is deleted until the
scenario ends (the embedded servers' homes included), and the page cache is written out
(`os.sync`) before each run. On this machine's file system (ext4 without a journal) a file
created within one to six minutes of deleting others makes the kernel step over every recently
deleted inode (`recently_deleted` in ext4's inode allocator): emptying the output before writing
1,000 files again cost 0.4-0.9 ms of kernel time per created file, more than the bare
retrieval's own work, and varying with what was deleted when. Mass deletions on the same file
system in the minutes before the scenario (a test suite, an earlier scenario's clean-up) are
still paid for, by ours and bare alike.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common import BENCH_DIR, Report, Row, Target, Timing, data_dir, measure, parse_args, runs_for
from datagen import cached
from live_fixtures import embedded_server

sys.path.insert(0, str(BENCH_DIR.parent))  # tests.support.orthanc: the tests' Orthanc fixture

if TYPE_CHECKING:
    from anonapi_core.client import AnonClient
    from anonapi_server.embedded import EmbeddedServer
    from tests.support.orthanc import Orthanc

PROJECT = "Wetenschap-Algemeen"
ACCESSIONS = ("BENCH0001", "BENCH0002")
TARGET_SHARE = 0.5
PROTOCOLS = {"DICOMweb": "parts", "C-GET": "cget"}  # each with its bare retrieval


def _switches(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--protocol", choices=list(PROTOCOLS), help="only this protocol (default: both)"
    )


def per_worker_share() -> Target:
    """Ours at least half the speed of the bare retrieval with the same parallelism."""
    return Target(
        "≥ 50% of bare per worker",
        lambda ours, bare: bare is not None and bare.median / ours.median >= TARGET_SHARE,
    )


def studies(quick: bool) -> list[Path]:
    """Two CT studies of half the instances each, generated once and cached."""
    per_study = 10 if quick else 500
    folder = data_dir("pacs", quick) / "studies"

    def build(path: Path) -> None:
        from anonapi_server.sample_studies import write_study

        for seed, accession in enumerate(ACCESSIONS):
            write_study(
                path / accession,
                patient_id=f"BENCHPACS{seed}",
                patient_name="Bench^Pacs",
                n_files=per_study,
                accession_number=accession,
                seed=seed,
            )

    cached(folder, {"kind": "pacs", "per_study": per_study, "v": 1}, build)
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.parent.name in ACCESSIONS)


def main() -> None:
    args = parse_args(__doc__, _switches)
    runs = runs_for(args.quick)
    files = studies(args.quick)
    megabytes = sum(f.stat().st_size for f in files) / 1e6
    report = Report(
        f"PACS jobs: {len(files):,} CT instances from Orthanc",
        f"{len(files):,} instances in 2 studies, {megabytes:,.0f} MB; {runs} runs after one "
        "warm-up each, ours and bare in turn so both see the same load; ours from create_job "
        "until both jobs are DONE (de-identified and "
        "published); bare: the same library retrieving the same studies to disk the way ours "
        "does, nothing else (1 worker: both studies one after the other; 2 workers: two "
        "processes, one study each, at the same time). Load: the 1-minute load average at the "
        "end of the runs, lowest–highest (2 cores).",
    )
    from tests.support.orthanc import dicomweb_plugin, orthanc_binary, running_orthanc

    if not (orthanc_binary() and dicomweb_plugin()):
        report.rows.append(Row("PACS jobs", "Orthanc and its DICOMweb plugin are not installed"))
        print(report.render())
        return
    count = len(files)
    spawn = multiprocessing.get_context("spawn")  # as the server's workers start
    with (
        tempfile.TemporaryDirectory(prefix="bench-pacs-") as tmp,
        ProcessPoolExecutor(2, mp_context=spawn) as pool,
    ):
        root = Path(tmp)
        with running_orthanc(root / "orthanc") as orthanc:
            orthanc.upload(files)
            uids = _study_uids(orthanc.dicomweb_url)
            out = Outputs(root / "bare")

            def bare(kind: str, parallel: bool) -> Callable[[], object]:
                if parallel:
                    return lambda: _bare_parallel(pool, kind, orthanc, uids, out.current, count)
                return lambda: _bare(kind, _where(orthanc), uids, out.current, count)

            for protocol, kind in PROTOCOLS.items():
                if args.protocol not in (None, protocol):
                    continue
                if protocol == "DICOMweb":
                    public = measure(bare("iter_study", False), runs, setup=out.next, warmup=1)
                    report.rows.append(
                        _bare_row(
                            "DICOMweb: bare retrieval by iter_study + save_as, 1 process "
                            "(the earlier ceiling, for reference)",
                            public,
                            count,
                            _load(),
                        )
                    )
                alone = None
                for workers in (1, 2):
                    ours, ceiling, load = _through_server(
                        orthanc,
                        protocol,
                        workers,
                        runs,
                        bare(kind, workers > 1),
                        out,
                        root / f"server-{protocol}-{workers}",
                    )
                    alone = alone or ceiling
                    how = "1 process" if workers == 1 else "2 processes at once"
                    report.rows.append(
                        _bare_row(f"{protocol}: bare retrieval, {how}", ceiling, count, load)
                    )
                    share = ceiling.median / ours.median
                    note = f"{count / ours.median:,.0f} instances/s; {share:.0%} of bare per worker"
                    if workers > 1:
                        per_worker = alone.median / ours.median / workers
                        note += (
                            f" (same parallelism); {per_worker:.0%} per worker of one bare "
                            "retrieval (the 1-worker ceiling)"
                        )
                    if protocol == "DICOMweb" and workers == 1:
                        note += f"; {public.median / ours.median:.0%} of iter_study + save_as"
                    report.rows.append(
                        Row(
                            f"{protocol}: retrieve + de-identify + publish, {workers} "
                            f"worker{'s' if workers > 1 else ''}",
                            ours,
                            ceiling,
                            "bare" if workers == 1 else "bare ×2",
                            per_worker_share(),
                            f"{note}; load {load}",
                        )
                    )
    report.notes.append(
        "The machine has 2 cores shared by Orthanc, the server's API, its workers and other "
        "work; with 2 workers ours and the bare ceiling both run two retrievals at once."
    )
    print(report.render())


def _bare_row(case: str, timing: Timing, count: int, load: str) -> Row:
    return Row(case, timing, note=f"{count / timing.median:,.0f} instances/s; load {load}")


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "?"


def _where(orthanc: Orthanc) -> tuple[str, int, str]:
    """What a bare retrieval in another process needs of Orthanc (picklable)."""
    return orthanc.dicomweb_url, orthanc.dicom_port, orthanc.aet


class Outputs:
    """A new empty folder under `root` for each run (`next`, untimed), after the page cache is
    written out; nothing is deleted before the scenario ends (see the module's docstring)."""

    def __init__(self, root: Path):
        self.root = root
        self.runs = 0
        self._current: Path | None = None

    def next(self) -> Path:
        self.runs += 1
        self._current = self.root / f"run{self.runs:02d}"
        self._current.mkdir(parents=True)
        os.sync()
        return self._current

    @property
    def current(self) -> Path:
        """The folder of the run under way."""
        if self._current is None:
            raise RuntimeError("no run started: call next() first")
        return self._current


def _study_uids(dicomweb_url: str) -> list[str]:
    from dicomweb_client.api import DICOMwebClient

    client = DICOMwebClient(dicomweb_url)
    found = []
    for accession in ACCESSIONS:
        (study,) = client.search_for_studies(search_filters={"AccessionNumber": accession})
        found.append(study["0020000D"]["Value"][0])
    return found


def _bare_parallel(
    pool: ProcessPoolExecutor,
    kind: str,
    orthanc: Orthanc,
    uids: list[str],
    out: Path,
    count: int,
) -> None:
    """Both studies at once, one per process, each into a folder of its own."""
    jobs = []
    for n, uid in enumerate(uids):
        (out / str(n)).mkdir()
        jobs.append(pool.submit(_bare, kind, _where(orthanc), [uid], out / str(n), None))
    _check(sum(job.result() for job in jobs), count)


def _bare(
    kind: str, where: tuple[str, int, str], uids: list[str], out: Path, expected: int | None
) -> int:
    """Retrieve the studies `uids` into `out` the bare way `kind` names; how many files."""
    retrieve = {"parts": _bare_parts, "iter_study": _bare_iter_study, "cget": _bare_cget}[kind]
    written = retrieve(where, uids, out)
    if expected is not None:
        _check(written, expected)
    return written


def _bare_parts(where: tuple[str, int, str], uids: list[str], out: Path) -> int:
    """dicomweb-client's streamed request and part reader, each part's bytes written."""
    from dicomweb_client.api import DICOMwebClient
    from dicomweb_client.web import _Transaction

    client = DICOMwebClient(where[0])
    written = 0
    for uid in uids:
        url = client._get_studies_url(_Transaction.RETRIEVE, uid)
        accept = 'multipart/related; type="application/dicom"'
        response = client._http_get(url, headers={"Accept": accept}, stream=True)
        for part in client._decode_multipart_message(response, stream=True):
            written += 1
            with (out / f"{written:06d}.dcm").open("xb") as f:
                f.write(part)
    return written


def _bare_iter_study(where: tuple[str, int, str], uids: list[str], out: Path) -> int:
    from dicomweb_client.api import DICOMwebClient

    client = DICOMwebClient(where[0])
    written = 0
    for uid in uids:
        for dataset in client.iter_study(uid):
            written += 1
            with (out / f"{written:06d}.dcm").open("xb") as f:
                dataset.save_as(f, enforce_file_format=True)
    return written


def _bare_cget(where: tuple[str, int, str], uids: list[str], out: Path) -> int:
    from pydicom.dataset import Dataset
    from pynetdicom import AE, StoragePresentationContexts, build_role, evt
    from pynetdicom.sop_class import (
        StudyRootQueryRetrieveInformationModelGet as GET,
    )

    written = 0

    def store(event: Any) -> int:
        nonlocal written
        written += 1
        (out / f"{written:06d}.dcm").write_bytes(event.encoded_dataset())
        return 0

    ae = AE(ae_title="ANONAPI")
    ae.add_requested_context(GET)
    contexts = StoragePresentationContexts[:126]
    for context in contexts:
        ae.add_requested_context(context.abstract_syntax)
    roles = [build_role(c.abstract_syntax, scp_role=True) for c in contexts]
    for uid in uids:
        assoc = ae.associate(
            "127.0.0.1",
            where[1],
            ae_title=where[2],
            ext_neg=roles,
            evt_handlers=[(evt.EVT_C_STORE, store)],
        )
        identifier = Dataset()
        identifier.QueryRetrieveLevel = "STUDY"
        identifier.StudyInstanceUID = uid
        for _status, _ in assoc.send_c_get(identifier, GET):
            pass
        assoc.release()
    return written


def _check(written: int, expected: int) -> None:
    if written != expected:
        raise RuntimeError(f"retrieved {written} of {expected} instances")


def _through_server(
    orthanc: Orthanc,
    protocol: str,
    workers: int,
    runs: int,
    bare: Callable[[], object],
    bare_out: Outputs,
    home: Path,
) -> tuple[Timing, Timing, str]:
    """Ours and the bare ceiling, their runs taken in turn (one of each, `runs` times after a
    warm-up of each), so both see the same load on a shared machine; and the load (lowest and
    highest 1-minute average seen at the end of a run)."""
    from anonapi_core.client import AnonClient
    from anonapi_core.models import Server
    from anonapi_server.admin import add_pacs
    from anonapi_server.config import ServerHome
    from anonapi_server.pacs.config import new_node

    if protocol == "DICOMweb":
        node = new_node("BENCH", dicomweb=orthanc.dicomweb_url)
    else:
        node = new_node(
            "BENCH",
            dimse=orthanc.dimse_address,
            called_aet=orthanc.aet,
        )
    ours_times: list[float] = []
    bare_times: list[float] = []
    loads: list[float] = []
    # A home of its own under the scenario's folder: kept (not deleted) until the scenario ends.
    with embedded_server(home=home, workers=workers) as server:
        add_pacs(ServerHome(server.home), node, default=True)
        out = Outputs(server.share_root / f"out-{workers}")
        target = Server(name="bench", url=server.url)
        with AnonClient(target, server.user_name, server.token) as client:
            for i in range(runs + 1):  # the first of each is the warm-up
                ours = measure(
                    lambda: _two_jobs(server, client, out.current.relative_to(server.share_root)),
                    1,
                    setup=out.next,
                )
                ceiling = measure(bare, 1, setup=bare_out.next)
                if i:
                    ours_times += ours.runs
                    bare_times += ceiling.runs
                    loads.append(os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0)
    load = f"{min(loads):.1f}–{max(loads):.1f}" if loads else "?"
    return Timing(tuple(ours_times)), Timing(tuple(bare_times)), load


def _two_jobs(server: EmbeddedServer, client: AnonClient, destination: Path) -> None:
    """Both studies' PACS jobs into `destination` (relative to the share), until both DONE."""
    job_ids = [
        client.create_job(
            {
                "source_type": "WADO",
                "source_name": "IDC_WADO",
                "source_instance_id": f"accession_number:{accession}",
                "destination_type": "PATH",
                "destination_path": server.unc(*destination.parts),
                "project_name": PROJECT,
                "description": "bench",
                "anonymizedpatientid": "PSEUDO1",
                "anonymizedpatientname": "Pseudo^One",
            }
        ).job_id
        for accession in ACCESSIONS
    ]
    statuses = server.wait_for(job_ids, timeout=900)
    if set(statuses.values()) != {"DONE"}:
        raise RuntimeError(f"PACS jobs ended {statuses}")


if __name__ == "__main__":
    main()
