"""Mapping: load an `anon_mapping.csv` of 100,000 rows and validate every job it asks for.

This is what `create from-mapping` does before it sends anything, so it bounds how long a user
waits before the confirmation prompt. Both sides run in-process (imports excluded) on the same
file: ours `load_mapping` + `resolve_jobs`, the original `MappingFile.get_mapping` +
`extract_job_sets`, with the original's fresh-settings defaults on both.
"""

from __future__ import annotations

from anchors import ORIGINAL, anchor_task
from common import (
    Report,
    Row,
    data_dir,
    faster_than_anchor_and_at_most,
    measure,
    parse_args,
    runs_for,
)
from datagen import mapping_file

DEFAULTS = [("project", "NOT_SET"), ("destination_path", ".")]


def main() -> None:
    args = parse_args(__doc__)
    runs = runs_for(args.quick)
    rows = 2_000 if args.quick else 100_000
    path = mapping_file(data_dir("mapping", args.quick) / "anon_mapping.csv", rows=rows)
    report = Report(
        f"Mapping with {rows:,} rows: load + validate",
        f"{rows:,} grid rows (folder, fileselection, study UID and accession number sources), "
        f"{path.stat().st_size / 1e6:.1f} MB; in-process, {runs} runs after one warm-up.",
    )
    anchor, result = anchor_task(ORIGINAL, "original-mapping", path, runs=runs)
    if result["rows"] != rows:
        raise RuntimeError(f"original loaded {result['rows']} rows, expected {rows}")
    report.rows.append(
        Row(
            "load + validate",
            _ours(path, rows, runs),
            anchor,
            "original loader",
            faster_than_anchor_and_at_most(2.0),
        )
    )
    print(report.render())


def _ours(path, rows: int, runs: int):
    from anonapi_core.jobrequests import resolve_jobs
    from anonapi_core.mapping import load_mapping

    jobs: list[int] = []
    timing = measure(
        lambda: jobs.append(len(resolve_jobs(load_mapping(path), DEFAULTS))), runs, warmup=1
    )
    if jobs[-1] != rows:
        raise RuntimeError(f"ours resolved {jobs[-1]} jobs, expected {rows}")
    return timing


if __name__ == "__main__":
    main()
