"""The benchmark suite runs end to end in its quick mode (a smoke test: no timing is asserted)."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO_ROOT / "bench"
sys.path.insert(0, str(BENCH_DIR))

from run_all import QUICK_RESULTS, SCENARIOS  # noqa: E402


@pytest.fixture(scope="module")
def quick_run() -> tuple[subprocess.CompletedProcess[str], str]:
    proc = subprocess.run(
        [sys.executable, str(BENCH_DIR / "run_all.py"), "--quick"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return proc, QUICK_RESULTS.read_text()


def test_quick_bench_exits_cleanly(quick_run) -> None:
    proc, _ = quick_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_scenario_writes_its_table(quick_run, scenario: str) -> None:
    _, results = quick_run
    section = results.split(f"<!-- scenario: {scenario} -->", 1)
    assert len(section) == 2, f"no section for {scenario}"
    body = section[1].split("<!-- scenario:", 1)[0]
    assert "\n|" in body and "|---" in body, body[:2000]
