"""Where the embedded server's time goes while one of our `anon` commands runs against a batch.

The API runs on a thread of this process; cProfile is switched on in that thread only, for the
duration of the command, and the top functions by own time are printed. Time spent in
`select.epoll.poll` is the event loop waiting: the server is idle, not busy.

    python bench/profile_server.py --jobs 500 batch reset --yes
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import ours_anon, run_command
from live_fixtures import client_homes, create_jobs, embedded_server, write_batch

API_THREAD = "anon-server-api"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500, help="jobs in the batch (default 500)")
    parser.add_argument("--top", type=int, default=15, help="functions to show (default 15)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="arguments to `anon`")
    args = parser.parse_args()
    profiles: list[cProfile.Profile] = []

    def install(*_event: object) -> None:
        # The first profile event of each new thread; cProfile can only be enabled from inside.
        sys.setprofile(None)
        if threading.current_thread().name == API_THREAD:
            profile = cProfile.Profile()
            profiles.append(profile)
            profile.enable()

    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        root = Path(tmp)
        home = root / "server-home"
        # Jobs are created by a first server on the same home, so the profiled one serves
        # nothing but the command.
        with embedded_server(home=home, workers=0) as server:
            job_ids = create_jobs(server, args.jobs)
        threading.setprofile(install)
        with embedded_server(home=home, workers=0) as server:
            threading.setprofile(None)
            homes = client_homes(root, server.url, server.user_name, server.token)
            folder = root / "batch"
            write_batch(folder, job_ids, server.url)
            start = time.perf_counter()
            run_command(ours_anon() + args.command, cwd=folder, env=homes.our_env())
            took = time.perf_counter() - start
    print(f"`anon {' '.join(args.command)}` on {args.jobs} jobs took {took:.2f} s")
    print("API thread profile (server start-up and shut-down included), by own time:")
    pstats.Stats(profiles[0]).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
