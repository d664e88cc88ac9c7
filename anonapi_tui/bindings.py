"""The one table of single-key commands, read by screens, footer, help screen and palette.

Every command has a stable id so users can move it to another key in their settings
(`keymap: {jobs.reset: ctrl+r}`) without the footer, help and palette drifting apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True)
class Command:
    """A user command: default key, the action it runs, and whether it changes anything."""

    id: str
    key: str
    action: str
    description: str
    tooltip: str
    destructive: bool = False
    """Changes jobs on a server or the user's files: hidden and refused in read-only mode."""
    show: bool = True
    group: Binding.Group | None = None
    """Keys of one group share one footer label, so the screen's own keys keep their room."""

    def binding(self) -> Binding:
        """The Textual binding, carrying the id that `App.set_keymap` remaps by."""
        return Binding(
            self.key,
            self.action,
            self.description,
            show=self.show,
            tooltip=self.tooltip,
            id=self.id,
            group=self.group,
        )


SCREENS = Binding.Group("Screens")


def mode_command(mode: str, key: str, description: str, tooltip: str) -> Command:
    """A key that shows one of the main screens (an app mode) from anywhere."""
    action = f"app.switch_mode('{mode}')"
    return Command(f"app.{mode}", key, action, description, tooltip, group=SCREENS)


COMMANDS: tuple[Command, ...] = (
    # Available everywhere: help and quit first, so a narrow footer cuts the screen keys instead.
    Command("app.help", "question_mark", "help", "Help", "Keys of this screen"),
    Command("app.quit", "q", "app.quit", "Quit", "Leave the dashboard"),
    mode_command("servers", "f2", "Servers", "Known servers and their status"),
    mode_command("batch", "f3", "Batch", "Jobs of this folder's batch"),
    mode_command("server_jobs", "f4", "Server jobs", "Latest jobs on the active server"),
    mode_command("mapping", "f5", "Mapping", "Edit this folder's mapping"),
    mode_command("folders", "f6", "Folders", "Pick study folders to add to the mapping"),
    mode_command("settings", "f7", "Settings", "User name, token and job defaults"),
    # Job tables (batch and server jobs).
    Command("jobs.mark", "space", "toggle_mark", "Mark", "Mark or unmark the job under the cursor"),
    Command(
        "jobs.mark_all", "a", "mark_all", "Mark all", "Mark every visible job (again: unmark all)"
    ),
    Command(
        "jobs.reset",
        "r",
        "reset",
        "Reset",
        "Reset the marked jobs (or the cursor's job)",
        destructive=True,
    ),
    Command(
        "jobs.cancel",
        "c",
        "cancel",
        "Cancel",
        "Cancel the marked jobs (or the cursor's job)",
        destructive=True,
    ),
    Command(
        "jobs.reset_errors",
        "R",
        "reset_errors",
        "Reset errors",
        "Reset every job in ERROR",
        destructive=True,
    ),
    Command(
        "jobs.filter", "slash", "filter", "Filter", "Show only jobs with a status or some text"
    ),
    Command(
        "jobs.clear_filter",
        "escape",
        "clear_filter",
        "Clear filter",
        "Show every job again (clears the filter and an open error group)",
    ),
    Command(
        "jobs.triage",
        "t",
        "triage",
        "Triage",
        "Failed jobs grouped by what went wrong; open, reset or cancel a group",
    ),
    Command(
        "jobs.action_log",
        "L",
        "open_log",
        "Log",
        "Every reset and cancel of this batch's jobs: who, when, and each job's outcome",
    ),
    Command(
        "jobs.quarantine",
        "Q",
        "quarantine",
        "Quarantine",
        "The cursor's job's held-back files and why; release or drop them",
    ),
    Command("jobs.sort", "s", "sort", "Sort", "Sort by the next column (or click a heading)"),
    Command("jobs.reverse", "S", "reverse_sort", "Reverse", "Reverse the sort order", show=False),
    Command(
        "jobs.details", "enter", "details", "Details", "The job's full error and all its fields"
    ),
    # Shown in help and the palette, not the footer: the job keys above fill it already.
    Command(
        "jobs.export",
        "e",
        "export",
        "Report",
        "Write the report of these jobs (xlsx)",
        show=False,
    ),
    Command(
        "jobs.verify",
        "v",
        "verify",
        "Verify",
        "Check every finished job's files against what it should have had; mark mismatches",
        show=False,
    ),
    Command("jobs.pause", "p", "toggle_pause", "Pause", "Pause or resume the live refresh"),
    Command("jobs.refresh", "f", "refresh_now", "Refresh", "Fetch the jobs now", show=False),
    # Triage (error groups of a jobs screen).
    Command("triage.open", "enter", "open_group", "Open", "Show only the jobs of this group"),
    Command(
        "triage.reset",
        "r",
        "reset_group",
        "Reset group",
        "Reset every job of this group",
        destructive=True,
    ),
    Command(
        "triage.cancel",
        "c",
        "cancel_group",
        "Cancel group",
        "Cancel every job of this group",
        destructive=True,
    ),
    Command("triage.close", "escape", "dismiss", "Close", "Back to the jobs"),
    # Action log (resets and cancels of a batch).
    Command("log.close", "escape", "dismiss", "Close", "Back to the jobs"),
    # Quarantine (the held files of one job).
    Command(
        "quarantine.release",
        "r",
        "release",
        "Release",
        "Publish the held file de-identified anyway (asks first; recorded as yours)",
        destructive=True,
    ),
    Command(
        "quarantine.drop",
        "d",
        "drop",
        "Drop",
        "Never publish the held file (asks first; recorded as yours)",
        destructive=True,
    ),
    Command("quarantine.refresh", "f", "refresh", "Refresh", "Read the held files again"),
    Command("quarantine.close", "escape", "dismiss", "Close", "Back to the jobs"),
    # Servers.
    Command("servers.add", "a", "add_server", "Add", "Add a server", destructive=True),
    Command(
        "servers.remove",
        "d",
        "remove_server",
        "Remove",
        "Remove the server under the cursor",
        destructive=True,
    ),
    Command(
        "servers.activate",
        "enter",
        "activate",
        "Activate",
        "Make the server under the cursor the active one",
        destructive=True,
    ),
    Command("servers.check", "r", "check", "Check", "Check every server again"),
    # Mapping editor.
    Command("mapping.edit", "enter", "edit_cell", "Edit", "Edit the cell under the cursor"),
    Command("mapping.add_row", "n", "add_row", "Add row", "Add an empty job row"),
    Command(
        "mapping.delete_row", "d", "delete_row", "Delete row", "Delete the row under the cursor"
    ),
    Command(
        "mapping.check",
        "k",
        "check",
        "Check",
        "Pre-flight check of every row: duplicates, Excel damage, shares, PACS, registry",
    ),
    Command("mapping.save", "ctrl+s", "save", "Save", "Write the mapping file", destructive=True),
    Command(
        "mapping.create",
        "ctrl+g",
        "create_jobs",
        "Create jobs",
        "Create one job per row",
        destructive=True,
    ),
    # Folder picker.
    Command(
        "folders.mark", "m", "toggle_mark", "Mark", "Mark or unmark the folder under the cursor"
    ),
    Command(
        "folders.preview",
        "p",
        "preview",
        "Preview",
        "What de-identification will do to the file under the cursor",
    ),
    Command(
        "folders.scan",
        "ctrl+s",
        "scan",
        "Scan + add",
        "Scan marked folders for DICOM and add them",
        destructive=True,
    ),
    # Settings.
    Command("settings.save", "ctrl+s", "save", "Save", "Write the settings file", destructive=True),
)

BY_ID: dict[str, Command] = {command.id: command for command in COMMANDS}
DESTRUCTIVE_ACTIONS: frozenset[str] = frozenset(c.action for c in COMMANDS if c.destructive)


def bindings(prefix: str) -> list[BindingType]:
    """The bindings of one group of commands (`"jobs"`, `"servers"` ...)."""
    return [c.binding() for c in COMMANDS if c.id.startswith(prefix + ".")]


def everywhere() -> list[BindingType]:
    """Help and quit, bound again on each main screen so the footer lists them first.

    The footer lists the focused widget's keys, then the screen's, then the app's, and cuts what
    does not fit: bound only on the app, help and quit were the first to go at 80 columns.
    """
    return [
        Binding(
            c.key,
            c.action if "." in c.action else f"app.{c.action}",
            c.description,
            tooltip=c.tooltip,
            id=c.id,
        )
        for c in (BY_ID["app.help"], BY_ID["app.quit"])
    ]
