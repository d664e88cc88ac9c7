"""`anon-tui`: open the dashboard on a folder, or `--demo` on a throw-away embedded server."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import NoReturn

from textual.screen import Screen

from anonapi_core.exceptions import AnonAPIError, one_line_message
from anonapi_core.settings import SETTINGS_ENV_VAR, Settings, load_settings
from anonapi_tui.app import AnonApp

POLL_INTERVAL_S = 2.0
DEMO_POLL_INTERVAL_S = 0.5  # the demo server is local and its jobs take a second: show them move
WEB_PORT = 8765


def screens_for(
    settings: Settings, folder: Path, *, interval: float = POLL_INTERVAL_S
) -> dict[str, Callable[[], Screen]]:
    """The main screens, one per mode, built lazily when first shown; jobs polled every
    `interval` seconds (or slower, when the server is slow)."""
    from anonapi_tui.job_sources import BatchJobSource, ServerJobSource
    from anonapi_tui.screens.folder_picker import FolderPicker
    from anonapi_tui.screens.jobs import JobsScreen
    from anonapi_tui.screens.mapping_editor import MappingEditor
    from anonapi_tui.screens.servers import ServersScreen
    from anonapi_tui.screens.settings import SettingsScreen

    stall_after = settings.stall_minutes * 60
    return {
        "servers": lambda: ServersScreen(settings),
        "batch": lambda: JobsScreen(
            BatchJobSource(settings, folder), interval=interval, stall_after=stall_after
        ),
        "server_jobs": lambda: JobsScreen(
            ServerJobSource(settings), interval=interval, stall_after=stall_after
        ),
        "mapping": lambda: MappingEditor(settings, folder),
        "folders": lambda: FolderPicker(settings, folder),
        "settings": lambda: SettingsScreen(settings),
    }


def build_app(
    settings: Settings,
    folder: Path,
    *,
    read_only: bool = False,
    start: str | None = None,
    startup_task: Callable[[], object] | None = None,
    interval: float = POLL_INTERVAL_S,
) -> AnonApp:
    """The app on the user's data; starts on the batch screen when the folder has a batch."""
    from anonapi_core.batch import has_batch

    return AnonApp(
        screens_for(settings, folder, interval=interval),
        start=start or ("batch" if has_batch(folder) else "servers"),
        read_only=read_only,
        keymap=settings.keymap,
        startup_task=startup_task,
    )


class BadArguments(Exception):
    """The command line cannot be used; raised instead of argparse's own exit with code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise BadArguments(message)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _Parser(prog="anon-tui", description="Dashboard for anonymization jobs.")
    parser.add_argument(
        "--demo", action="store_true", help="run on a temporary embedded server with sample studies"
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="hide and refuse every action that changes anything",
    )
    parser.add_argument(
        "--folder", type=Path, default=None, help="folder of the batch and mapping (default: here)"
    )
    parser.add_argument(
        "--screen",
        choices=("servers", "batch", "server_jobs", "mapping", "folders", "settings"),
        help="screen to start on",
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="PATH",
        help="render the start screen to an SVG file once its data is shown, then exit",
    )
    parser.add_argument(
        "--web",
        action="store_true",
        help="serve the dashboard to a browser on this machine (127.0.0.1) instead of the terminal",
    )
    parser.add_argument(
        "--port",
        type=int,
        metavar="N",
        help=f"port of --web (default: {WEB_PORT})",
    )
    args = parser.parse_args(argv)
    if args.port is not None and not args.web:
        raise BadArguments("--port needs --web")
    if args.port is not None and not 0 < args.port < 65536:
        raise BadArguments(f"--port must be between 1 and 65535, not {args.port}")
    if args.web and args.screenshot:
        raise BadArguments("--screenshot and --web cannot be combined")
    return args


def web_arguments(args: argparse.Namespace, folder: Path) -> list[str]:
    """The command line of each dashboard the browser opens: the same folder and choices as
    this run (the settings file travels in the environment)."""
    return [
        "--folder",
        str(folder),
        *(["--read-only"] if args.read_only else []),
        *(["--screen", args.screen] if args.screen else []),
    ]


def main(argv: list[str] | None = None) -> int:
    """`anon-tui`, and the one place that turns failures a user can cause into one `Error:` line
    and exit code 1, as `anon` does: bad arguments, settings, folders the OS refuses."""
    try:
        return _run(parse_args(argv))
    except BadArguments as e:
        print(f"Error: {e}\nTry 'anon-tui --help' for help.", file=sys.stderr)
    except (AnonAPIError, OSError) as e:
        print(f"Error: {one_line_message(e)}", file=sys.stderr)
    return 1


def _run(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        startup_task, interval = None, POLL_INTERVAL_S
        if args.demo:
            from anonapi_server.demo import demo_session

            print("Starting the demo server ...", file=sys.stderr)
            demo = stack.enter_context(demo_session())
            os.environ[SETTINGS_ENV_VAR] = str(demo.settings_path)
            folder, startup_task = demo.batch_folder, demo.create_jobs
            interval = DEMO_POLL_INTERVAL_S
        else:
            folder = (args.folder or Path.cwd()).resolve()
            if not folder.is_dir():
                raise BadArguments(f"folder not found: {folder}")
        settings = load_settings()
        if args.web:
            from anonapi_tui.web import serve

            if startup_task is not None:
                startup_task()  # once, here: every browser tab starts a dashboard of its own
            serve(web_arguments(args, folder), args.port or WEB_PORT)
            return 0
        app = build_app(
            settings,
            folder,
            read_only=args.read_only,
            start=args.screen,
            startup_task=startup_task,
            interval=interval,
        )
        if args.screenshot:
            return _screenshot(app, args.screenshot)
        app.run()
    return 0


def _screenshot(app: AnonApp, path: Path, timeout_s: float = 30.0) -> int:
    """Run headless until start-up work is done and the screen says its data is in (`ready`),
    save an SVG, exit."""

    async def capture(pilot) -> None:
        app = pilot.app
        deadline = time.monotonic() + timeout_s

        async def wait(condition) -> None:
            while not condition() and time.monotonic() < deadline:
                await pilot.pause(0.1)

        # on_mount has registered the start-up worker by now; pending counts as not done.
        await wait(lambda: not any(w.group == "startup" and not w.is_finished for w in app.workers))
        if app.startup_task is not None and hasattr(app.screen, "poll_now"):
            polls = app.screen.polls
            app.screen.poll_now()  # data from after the start-up work, not from before it
            await wait(lambda: app.screen.polls > polls)
        await wait(lambda: getattr(app.screen, "ready", True))
        await pilot.wait_for_scheduled_animations()
        path.parent.mkdir(parents=True, exist_ok=True)
        app.save_screenshot(path.name, str(path.parent))
        app.exit()

    app.run(headless=True, size=(120, 34), auto_pilot=capture)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
