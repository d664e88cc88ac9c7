"""Run every benchmark scenario, print its table, and collect them in `bench/results/latest.md`.

Each scenario is its own script and runs in its own process, so one crashing or one still
waiting for its "ours" side never hides the others' figures. Exit code 1 when any script failed.

    python bench/run_all.py [--quick] [scenario ...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import UTC, datetime

from anchors import DEID, ORIGINAL
from common import BENCH_DIR, Report, Row, machine

SCENARIOS = (
    "startup",
    "batch_status",
    "reset",
    "scan",
    "deid",
    "dashboard",
    "mapping",
    "pacs",
    "scaleout",
    "audit",
)
RESULTS = BENCH_DIR / "results" / "latest.md"
QUICK_RESULTS = BENCH_DIR / "results" / "quick.md"
"""A smoke run never overwrites the figures of the last full run."""
README = BENCH_DIR / "README.md"
FIGURES_START, FIGURES_END = "<!-- figures:start -->", "<!-- figures:end -->"


def run_scenario(name: str, quick: bool) -> tuple[bool, str]:
    """Run `bench_<name>.py`: its Markdown, or a table saying why there are no figures."""
    marker = f"<!-- scenario: {name} -->\n"
    script = BENCH_DIR / f"bench_{name}.py"
    if not script.exists():
        reason = f"`bench/{script.name}` does not exist yet"
        return True, marker + Report(name, "No script.", [Row(name, reason)]).render()
    argv = [sys.executable, str(script)] + (["--quick"] if quick else [])
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=BENCH_DIR, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        failure = Report(name, "The script crashed.", [Row(name, f"exit {proc.returncode}")])
        return False, marker + failure.render() + f"\n```\n{tail}\n```\n"
    return True, marker + proc.stdout.rstrip() + f"\n\n_(scenario took {took:.0f} s)_\n"


def update_readme(results: str) -> None:
    """Put a run's figures between the README's figure markers (section headings one level down)."""
    text = README.read_text()
    start, end = text.index(FIGURES_START) + len(FIGURES_START), text.index(FIGURES_END)
    body = results.split("\n", 1)[1].replace("\n## ", "\n### ")
    README.write_text(text[:start] + "\n" + body.strip() + "\n" + text[end:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument(
        "--update-readme", action="store_true", help="write the figures into bench/README.md"
    )
    parser.add_argument("scenarios", nargs="*", help=f"any of {', '.join(SCENARIOS)} (default all)")
    args = parser.parse_args()
    if args.quick and args.update_readme:
        parser.error("--update-readme records full runs only")
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(
            f"unknown scenario(s) {', '.join(sorted(unknown))}; known: {', '.join(SCENARIOS)}"
        )
    for anchor in (ORIGINAL, DEID):
        anchor.ensure()
    mode = "quick (smoke test, sizes too small to judge)" if args.quick else "full"
    header = (
        f"# Benchmark results\n\n- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
        f"- machine: {machine()}\n- mode: {mode}\n"
        "- the machine may be shared with other work while the bench runs: read medians and "
        "ratios, not single runs\n"
    )
    print(header, flush=True)
    sections, failed = [], []
    for name in args.scenarios or SCENARIOS:
        ok, text = run_scenario(name, args.quick)
        print(text, flush=True)
        sections.append(text)
        if not ok:
            failed.append(name)
    path = QUICK_RESULTS if args.quick else RESULTS
    path.parent.mkdir(parents=True, exist_ok=True)
    results = header + "\n" + "\n".join(sections)
    path.write_text(results)
    if args.update_readme:
        update_readme(results)
    print(f"Written to {path.relative_to(BENCH_DIR.parent)}")
    if failed:
        print(f"Failed scenarios: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
