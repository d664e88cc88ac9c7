"""`anon --help` exactly as click prints it at the two widths most users see, so that
`anonapi_cli.entry` prints it without importing click.

After changing the root group's help, its options or a command group's first help line,
regenerate with `python -m anonapi_cli.root_help`; tests/cli/test_entry.py fails until then.
"""

from __future__ import annotations

WIDTHS = (78, 98)
"""An 80-column terminal or a pipe; a terminal of 100 columns or more."""

# generated: begin
_HELP_0 = (
    "Usage: anon [OPTIONS] [COMMAND] [ARGS]...\n"
    "\n"
    "  Create and track anonymization jobs on IDIS anonymization servers.\n"
    "\n"
    "  Run any command with -h for its options, e.g. `anon batch status -h`.\n"
    "\n"
    "Options:\n"
    "  -v, --verbose  Log more (-vv for debug, including HTTP).\n"
    "  -h, --help     Show this message and exit.\n"
    "\n"
    "Commands:\n"
    "  batch     Manage anonymization job batches.\n"
    "  create    Create jobs.\n"
    "  job       Manage anonymization jobs.\n"
    "  map       Map original data to anonymized name, id, etc.\n"
    "  select    Select files for a single anonymization job.\n"
    "  server    Manage anonymization servers.\n"
    "  settings  Manage local settings.\n"
    "  status    Show servers (* = active), user name and settings file.\n"
)
TEXTS: dict[int, str] = {78: _HELP_0, 98: _HELP_0}
# generated: end


def render(width: int) -> str:
    """What click prints for `anon --help` when it formats help to `width` characters."""
    from anonapi_cli.main import cli

    with cli.make_context("anon", ["--help"], terminal_width=width, resilient_parsing=True) as ctx:
        return ctx.get_help() + "\n"


def _write() -> None:
    import json  # a JSON string is a Python literal in double quotes, as ruff formats them
    from pathlib import Path

    path = Path(__file__)
    text = path.read_text(encoding="utf-8")
    head, rest = text.split("# generated: begin\n", 1)
    tail = rest.split("# generated: end\n", 1)[1]
    texts = {width: render(width) for width in WIDTHS}
    distinct = list(dict.fromkeys(texts.values()))  # widths whose help wraps alike share one
    literals = "".join(
        f"_HELP_{n} = (\n"
        + "".join(f"    {json.dumps(line)}\n" for line in text.splitlines(True))
        + ")\n"
        for n, text in enumerate(distinct)
    )
    mapping = ", ".join(f"{width}: _HELP_{distinct.index(text)}" for width, text in texts.items())
    generated = f"{literals}TEXTS: dict[int, str] = {{{mapping}}}\n"
    path.write_text(f"{head}# generated: begin\n{generated}# generated: end\n{tail}", "utf-8")


if __name__ == "__main__":
    _write()
