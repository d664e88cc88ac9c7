"""PACS jobs: retrieve + de-identify + publish 1,000 CT instances from Orthanc, DICOMweb and C-GET.

The 1,000 instances (512 x 512 x 16 bit, ~0.5 MB each) are two studies of 500, uploaded once to a
throwaway Orthanc (`tests/support/orthanc.py`). Ours: the embedded server with 1 and 2 workers,
two PACS jobs (one per study, by accession number), from creation until both are DONE. The
ceiling: the bare retrieval of the same two studies to disk, one after the other, by the same
library (dicomweb-client `iter_study` + `save_as`; pynetdicom C-GET writing each received
dataset's bytes) in one process. Target: per worker, ≥ 50% of the bare retrieval's speed.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common import BENCH_DIR, Report, Row, Target, Timing, data_dir, measure, parse_args, runs_for
from datagen import cached
from live_fixtures import embedded_server, server_unavailable

sys.path.insert(0, str(BENCH_DIR.parent))  # tests.support.orthanc: the tests' Orthanc fixture

if TYPE_CHECKING:
    from anonapi_core.client import AnonClient
    from anonapi_server.embedded import EmbeddedServer
    from tests.support.orthanc import Orthanc

PROJECT = "Wetenschap-Algemeen"
ACCESSIONS = ("BENCH0001", "BENCH0002")


def per_worker_share(workers: int) -> Target:
    """Ours, per worker, at least half the bare retrieval's speed."""
    return Target(
        "≥ 50% of bare per worker",
        lambda ours, bare: bare is not None and bare.median / ours.median / workers >= 0.5,
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
    args = parse_args(__doc__)
    runs = min(runs_for(args.quick), 3)
    files = studies(args.quick)
    megabytes = sum(f.stat().st_size for f in files) / 1e6
    report = Report(
        f"PACS jobs: {len(files):,} CT instances from Orthanc",
        f"{len(files):,} instances in 2 studies, {megabytes:,.0f} MB; {runs} runs after one "
        "warm-up each; ours from create_job until both jobs are DONE (de-identified and "
        "published); bare: the same library retrieving both studies to disk, nothing else.",
    )
    from tests.support.orthanc import dicomweb_plugin, orthanc_binary, running_orthanc

    why_not = server_unavailable()
    if not (orthanc_binary() and dicomweb_plugin()):
        why_not = "Orthanc and its DICOMweb plugin are not installed"
    if why_not:
        report.rows.append(Row("PACS jobs", why_not))
        print(report.render())
        return
    with tempfile.TemporaryDirectory(prefix="bench-pacs-") as tmp:
        root = Path(tmp)
        with running_orthanc(root / "orthanc") as orthanc:
            orthanc.upload(files)
            uids = _study_uids(orthanc.dicomweb_url)
            for protocol in ("DICOMweb", "C-GET"):
                bare_fn = _bare_dicomweb if protocol == "DICOMweb" else _bare_cget
                out = root / "bare"
                bare = measure(
                    lambda fn=bare_fn, out=out: fn(orthanc, uids, out, len(files)),
                    runs,
                    setup=lambda: _fresh(root / "bare"),
                    warmup=1,
                )
                report.rows.append(
                    Row(
                        f"{protocol}: bare retrieval (ceiling)",
                        bare,
                        note=f"{len(files) / bare.median:,.0f} instances/s",
                    )
                )
                for workers in (1, 2):
                    ours = _through_server(orthanc, protocol, workers, runs)
                    share = bare.median / ours.median
                    report.rows.append(
                        Row(
                            f"{protocol}: retrieve + de-identify + publish, {workers} "
                            f"worker{'s' if workers > 1 else ''}",
                            ours,
                            bare,
                            "bare",
                            per_worker_share(workers),
                            f"{len(files) / ours.median:,.0f} instances/s; {share:.0%} of bare "
                            f"({share / workers:.0%} per worker)",
                        )
                    )
    report.notes.append(
        "The machine has 2 cores shared by Orthanc, the server's API, its workers and other "
        "work: with 2 workers the per-worker share falls because the cores are full, not because "
        "a worker waits."
    )
    print(report.render())


def _fresh(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)


def _study_uids(dicomweb_url: str) -> list[str]:
    from dicomweb_client.api import DICOMwebClient

    client = DICOMwebClient(dicomweb_url)
    found = []
    for accession in ACCESSIONS:
        (study,) = client.search_for_studies(search_filters={"AccessionNumber": accession})
        found.append(study["0020000D"]["Value"][0])
    return found


def _bare_dicomweb(orthanc: Orthanc, uids: list[str], out: Path, expected: int) -> None:
    from dicomweb_client.api import DICOMwebClient

    client = DICOMwebClient(orthanc.dicomweb_url)
    written = 0
    for uid in uids:
        for dataset in client.iter_study(uid):
            written += 1
            with (out / f"{written:06d}.dcm").open("xb") as f:
                dataset.save_as(f, enforce_file_format=True)
    _check(written, expected)


def _bare_cget(orthanc: Orthanc, uids: list[str], out: Path, expected: int) -> None:
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
            orthanc.dicom_port,
            ae_title=orthanc.aet,
            ext_neg=roles,
            evt_handlers=[(evt.EVT_C_STORE, store)],
        )
        identifier = Dataset()
        identifier.QueryRetrieveLevel = "STUDY"
        identifier.StudyInstanceUID = uid
        for _status, _ in assoc.send_c_get(identifier, GET):
            pass
        assoc.release()
    _check(written, expected)


def _check(written: int, expected: int) -> None:
    if written != expected:
        raise RuntimeError(f"retrieved {written} of {expected} instances")


def _through_server(orthanc: Orthanc, protocol: str, workers: int, runs: int) -> Timing:
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
    with embedded_server(workers=workers) as server:
        add_pacs(ServerHome(server.home), node, default=True)
        out = server.share_root / "out"
        target = Server(name="bench", url=server.url)
        with AnonClient(target, server.user_name, server.token) as client:
            run: Callable[[], None] = lambda: _two_jobs(server, client)  # noqa: E731
            return measure(
                run, runs, setup=lambda: shutil.rmtree(out, ignore_errors=True), warmup=1
            )


def _two_jobs(server: EmbeddedServer, client: AnonClient) -> None:
    job_ids = [
        client.create_job(
            {
                "source_type": "WADO",
                "source_name": "IDC_WADO",
                "source_instance_id": f"accession_number:{accession}",
                "destination_type": "PATH",
                "destination_path": server.unc("out"),
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
