"""Scan: find the DICOM files among 20,000 files in 20 study folders.

Two commands a user runs over exported studies, whole processes: `anon select add '*'` (one
selection for everything below the current folder) and `anon map add-study-folders 'study*'` (one
selection per folder plus a mapping row each). Each run starts from the same state: selections
removed, an empty mapping. Files are warm in the page cache after the warm-up run, so this measures
our code, not the disk. The DICOM check alone is timed in-process on the already-listed files.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from anchors import ORIGINAL, anchor_task, original_anon
from common import (
    Report,
    Row,
    at_least_faster,
    at_least_rate,
    data_dir,
    measure,
    measure_command,
    ours_anon,
    parse_args,
    rate_note,
    runs_for,
)
from datagen import MARKER, scan_tree
from live_fixtures import client_homes

EMPTY_MAPPING = (
    "## Description ##\r\nbench\r\n## Options ##\r\nroot_source_path,\\\\localhost\\data\r\n"
    "## Mapping ##\r\nsource,pseudo_name,description\r\n"
)
SELECTION = "fileselection.txt"
MAPPING = "anon_mapping.csv"


def main() -> None:
    args = parse_args(__doc__)
    runs = runs_for(args.quick)
    folders, per_folder = (4, 50) if args.quick else (20, 1_000)
    tree = scan_tree(
        data_dir("scan", args.quick) / "tree", folders=folders, files_per_folder=per_folder
    )
    files = sorted(
        str(p)
        for p in tree.rglob("*")
        if p.is_file() and p.name not in {MARKER, SELECTION, MAPPING}
    )
    report = Report(
        f"Scan {len(files):,} files in {folders} folders for DICOM",
        f"{len(files):,} files of about 2.8 KB, 1 in 20 not DICOM, in {folders} study folders; "
        f"{runs} runs after one warm-up (warm page cache).",
    )
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as tmp:
        # Inside the tree: ours refuses study folders outside the mapping's folder.
        mapping = tree / MAPPING
        homes = client_homes(Path(tmp), "http://127.0.0.1:9/unused", "bench", "unused", mapping)

        def reset_state() -> None:
            for selection in tree.rglob(SELECTION):
                selection.unlink()
            mapping.write_bytes(EMPTY_MAPPING.encode())

        for case, command in (
            ("`anon select add '*'`", ["select", "add", "*"]),
            ("`anon map add-study-folders 'study*'`", ["map", "add-study-folders", "study*"]),
        ):
            timings = [
                measure_command(prefix + command, runs, cwd=tree, env=env, setup=reset_state)
                for prefix, env in (
                    (ours_anon(), homes.our_env()),
                    (original_anon(), homes.original_env()),
                )
            ]
            report.rows.append(Row(case, timings[0], timings[1], "original", at_least_faster(5)))
        reset_state()
        mapping.unlink()

    file_list = data_dir("scan", args.quick) / "files.txt"
    file_list.write_text("\n".join(files))
    anchor, found = anchor_task(ORIGINAL, "original-dicom-check", file_list, runs=runs)
    report.rows.extend(_check_rows(tree, files, runs, anchor, found["dicom"]))
    print(report.render())


def _check_rows(tree: Path, files: list[str], runs: int, anchor, anchor_found: int) -> list[Row]:
    """The DICOM check alone (ours sequential and in the threaded folder scan) against pydicom's."""
    from anonapi_core.dicom_scan import find_dicom_files, is_dicom

    found: list[int] = []
    check = measure(lambda: found.append(sum(1 for f in files if is_dicom(f))), runs, warmup=1)
    folders = sorted(p for p in tree.iterdir() if p.is_dir())
    scanned: list[int] = []
    scan = measure(
        lambda: scanned.append(sum(len(s.dicom_files) for s in find_dicom_files(folders))),
        runs,
        warmup=1,
    )
    target = at_least_rate(len(files), 50_000, "files")
    anchor_rate = rate_note(len(files), anchor, "files")
    note = f"original (pydicom `is_dicom`) found {anchor_found:,} DICOM: {anchor_rate}"
    return [
        Row(
            "DICOM check alone (`is_dicom`, one thread)",
            check,
            anchor,
            "original `is_dicom`",
            target,
            f"{rate_note(len(files), check, 'files')}; found {found[-1]:,}; {note}",
        ),
        Row(
            "walk + check (`find_dicom_files`, threaded)",
            scan,
            None,
            "",
            target,
            f"{rate_note(len(files), scan, 'files')}; found {scanned[-1]:,}",
        ),
    ]


if __name__ == "__main__":
    main()
