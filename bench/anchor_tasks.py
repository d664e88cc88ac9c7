"""Timed work done inside an anchor's own environment, so its library is measured in-process.

Run by an anchor's Python (`bench/.venv-original`, `bench/.venv-deid`), never by ours: it imports
only the standard library and the anchor's packages. Each task times its runs itself, after one
untimed warm-up, and prints `{"runs": [seconds, ...], ...}` as JSON on its last line of output.

    python anchor_tasks.py original-mapping MAPPING_CSV RUNS
    python anchor_tasks.py original-dicom-check FILE_LIST RUNS
    python anchor_tasks.py dicognito FILE_LIST OUT_DIR RUNS
    python anchor_tasks.py dicom-anonymizer FILE_LIST OUT_DIR RUNS
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path


def timed(
    fn: Callable[[], object], runs: int, setup: Callable[[], object] | None = None
) -> list[float]:
    """`runs` timings of `fn` after one warm-up; `setup`, untimed, before each call."""
    times = []
    for i in range(runs + 1):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        if i:
            times.append(time.perf_counter() - start)
    return times


def original_mapping(path: str, runs: int) -> dict[str, object]:
    """Load with the original's loader, then build and validate every job's parameters.

    This is what `anon create from-mapping` does before it sends anything.
    """
    from anonapi.cli.create_commands import extract_job_sets
    from anonapi.mapper import MappingFile
    from anonapi.parameters import DestinationPath, Project

    defaults = [Project("NOT_SET"), DestinationPath(".")]
    rows: list[int] = []

    def load_and_validate() -> None:
        mapping = MappingFile(Path(path)).get_mapping()
        rows.append(len(extract_job_sets(defaults, mapping)))

    return {"runs": timed(load_and_validate, runs), "rows": rows[-1]}


def original_dicom_check(file_list: str, runs: int) -> dict[str, object]:
    """The original's DICOM test (pydicom's `is_dicom`) over already-listed files."""
    from pydicom.misc import is_dicom

    files = Path(file_list).read_text().splitlines()
    found: list[int] = []
    return {
        "runs": timed(lambda: found.append(sum(1 for f in files if is_dicom(f))), runs),
        "dicom": found[-1],
    }


def _deidentify_all(
    deidentify: Callable[[str, str], None], file_list: str, out_dir: str, runs: int
):
    files = Path(file_list).read_text().splitlines()
    out = Path(out_dir)

    def fresh() -> None:
        # Every run writes new files, as a job does, with nothing left to write back: rewriting
        # the previous run's files, or writing while the kernel throttles its gigabyte, measures
        # the disk, not the tool (bench_deid's own runs do the same).
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        if hasattr(os, "sync"):
            os.sync()

    def run() -> None:
        for i, name in enumerate(files):
            deidentify(name, str(out / f"{i:06d}.dcm"))

    return {"runs": timed(run, runs, fresh), "files": len(files)}


def dicognito(file_list: str, out_dir: str, runs: int) -> dict[str, object]:
    import pydicom
    from dicognito.anonymizer import Anonymizer

    anonymizer = Anonymizer(seed="bench")

    def deidentify(src: str, dst: str) -> None:
        dataset = pydicom.dcmread(src)
        anonymizer.anonymize(dataset)
        dataset.save_as(dst)

    return _deidentify_all(deidentify, file_list, out_dir, runs)


def dicom_anonymizer(file_list: str, out_dir: str, runs: int) -> dict[str, object]:
    from dicomanonymizer import anonymize_dicom_file

    return _deidentify_all(anonymize_dicom_file, file_list, out_dir, runs)


TASKS: dict[str, Callable[..., dict[str, object]]] = {
    "original-mapping": original_mapping,
    "original-dicom-check": original_dicom_check,
    "dicognito": dicognito,
    "dicom-anonymizer": dicom_anonymizer,
}


def main() -> None:
    task, *args = sys.argv[1:]
    *paths, runs = args
    print(json.dumps(TASKS[task](*paths, int(runs))))


if __name__ == "__main__":
    main()
