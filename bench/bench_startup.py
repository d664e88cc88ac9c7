"""Start-up: how long a user waits for `anon --help` and for `anon batch status` on an empty batch.

Both are whole processes, interpreter start included, because that is what a user waits for. The
empty batch still makes the original call the server (and then fail on a division by zero, which
is its known bug, so its exit code 1 is accepted); both sides talk to the same embedded server.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from anchors import ORIGINAL, original_anon
from common import (
    CommandFailed,
    Report,
    Row,
    at_most_ratio,
    measure_command,
    ours_anon,
    parse_args,
    runs_for,
)
from live_fixtures import client_homes, embedded_server, write_batch

TARGET = at_most_ratio(0.3)


def main() -> None:
    args = parse_args(__doc__)
    runs = 2 * runs_for(args.quick)
    original = original_anon()
    report = Report(
        "Start-up",
        f"Whole process, interpreter start included; {runs} runs after one warm-up each. "
        f"Anchor: original `anon` (anonapi {ORIGINAL.version('anonapi')}).",
    )
    bare = measure_command([sys.executable, "-c", "pass"], runs)
    report.notes.append(f"Bare `python -c pass` on this machine: {bare.cell()}.")

    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        root = Path(tmp)
        homes = client_homes(root, "http://127.0.0.1:9/unused", "bench", "unused")
        anchor = measure_command(original + ["--help"], runs, env=homes.original_env())
        report.rows.append(_ours_row("`anon --help`", ["--help"], anchor, homes.our_env(), runs))

        with embedded_server(workers=0) as server:
            homes = client_homes(root, server.url, server.user_name, server.token)
            batch = root / "batch"
            write_batch(batch, [], server.url)
            anchor = measure_command(
                original + ["batch", "status"],
                runs,
                cwd=batch,
                env=homes.original_env(),
                ok_codes=(0, 1),
            )
            report.rows.append(
                _ours_row(
                    "`anon batch status` (empty batch)",
                    ["batch", "status"],
                    anchor,
                    homes.our_env(),
                    runs,
                    cwd=batch,
                )
            )
            report.notes.append(
                "The original ends its empty-batch status with a ZeroDivisionError traceback "
                "(exit 1); its time is still the time a user waits."
            )
    print(report.render())


def _ours_row(
    case: str, args: list[str], anchor, env: dict[str, str], runs: int, cwd: Path | None = None
) -> Row:
    try:
        ours = measure_command(ours_anon() + args, runs, env=env, cwd=cwd)
    except CommandFailed as e:
        ours = f"our `anon` failed: {str(e).splitlines()[-1]}"
    return Row(case, ours, anchor, "original", TARGET)


if __name__ == "__main__":
    main()
