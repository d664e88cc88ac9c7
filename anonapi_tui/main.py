"""`anon-tui`: open the dashboard on a folder, or `--demo` on a throw-away embedded server."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from textual.screen import Screen

from anonapi_core.exceptions import AnonAPIError
from anonapi_core.settings import SETTINGS_ENV_VAR, Settings, load_settings
from anonapi_tui.app import AnonApp


def screens_for(settings: Settings, folder: Path) -> dict[str, Callable[[], Screen]]:
    """The main screens, one per mode, built lazily when first shown."""
    from anonapi_tui.screens.folder_picker import FolderPicker
    from anonapi_tui.screens.jobs import JobsScreen
    from anonapi_tui.screens.mapping_editor import MappingEditor
    from anonapi_tui.screens.servers import ServersScreen
    from anonapi_tui.screens.settings import SettingsScreen
    from anonapi_tui.sources import BatchJobSource, ServerJobSource

    return {
        "servers": lambda: ServersScreen(settings),
        "batch": lambda: JobsScreen(BatchJobSource(settings, folder)),
        "server_jobs": lambda: JobsScreen(ServerJobSource(settings)),
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
) -> AnonApp:
    """The app on the user's data; starts on the batch screen when the folder has a batch."""
    from anonapi_core.batch import has_batch

    return AnonApp(
        screens_for(settings, folder),
        start=start or ("batch" if has_batch(folder) else "servers"),
        settings=settings,
        read_only=read_only,
        keymap=settings.keymap,
        startup_task=startup_task,
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="anon-tui", description="Dashboard for anonymization jobs."
    )
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
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with ExitStack() as stack:
        startup_task = None
        try:
            if args.demo:
                from anonapi_core.demo import demo_session

                print("Starting the demo server ...", file=sys.stderr)
                demo = stack.enter_context(demo_session())
                os.environ[SETTINGS_ENV_VAR] = str(demo.settings_path)
                folder, startup_task = demo.batch_folder, demo.create_jobs
            else:
                folder = (args.folder or Path.cwd()).resolve()
            settings = load_settings()
        except AnonAPIError as e:
            print(f"Error: {e}", file=sys.stderr)
            return 2
        app = build_app(
            settings, folder, read_only=args.read_only, start=args.screen, startup_task=startup_task
        )
        if args.screenshot:
            return _screenshot(app, args.screenshot)
        app.run()
    return 0


def _screenshot(app: AnonApp, path: Path, timeout_s: float = 30.0) -> int:
    """Run headless until the screen says its data is in (`ready`), save an SVG, exit."""

    async def capture(pilot) -> None:
        deadline = time.monotonic() + timeout_s
        await pilot.pause(0.2)
        while not getattr(pilot.app.screen, "ready", True) and time.monotonic() < deadline:
            await pilot.pause(0.1)
        await pilot.pause(0.3)
        path.parent.mkdir(parents=True, exist_ok=True)
        pilot.app.save_screenshot(path.name, str(path.parent))
        pilot.app.exit()

    app.run(headless=True, size=(120, 34), auto_pilot=capture)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
