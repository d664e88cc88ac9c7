"""A simple cell's line made directly is the line Rich draws for it in a DataTable cell."""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.renderables.styled import Styled

from anonapi_tui.widgets.cell_lines import simple_cell_lines
from anonapi_tui.widgets.jobs_table import MARK, STATUS_STYLES, UNMARKED

CONSOLE = Console(width=200, color_system="truecolor", legacy_windows=False)
PRE_STYLES = (
    Style(color="#e0e0e0", bgcolor="#1e1e1e") + Style.from_meta({"row": 4, "column": 2}),
    Style(bold=True, bgcolor="#0178d4") + Style.from_meta({"row": 0, "column": 7}),
)
POST_STYLES = (Style.null(), Style(color="#ddedf9"), Style(color="#ddedf9", bgcolor="#0178d4"))
SIMPLE = (
    Text("1234", justify="right", no_wrap=True),
    Text("2026-11-01 08:00", justify="left", no_wrap=True),
    Text("a source path longer than any column here", justify="left", no_wrap=True),
    Text("", justify="left", no_wrap=True),
    Text("", justify="right", no_wrap=True),
    Text(" "),
    UNMARKED,
    *(Text(status, style=style) for status, style in STATUS_STYLES.items()),
    Text("[b]not markup[/b]", justify="left", no_wrap=True),
)
NOT_SIMPLE = (
    MARK,  # not ASCII
    Text("ÅÄÖ naïve", no_wrap=True),
    Text("tab\there", no_wrap=True),
    Text("two\nlines", no_wrap=True),
    Text.assemble(("spans", "bold"), " here"),
    Text("ACTIVE", style="bold cyan"),  # a style by name: Rich looks it up in the theme
    Text("", style=Style(bold=True)),
    Text("centred", justify="center"),
    Text("cut...", overflow="ellipsis"),
    "a plain str",
)


def rich_lines(text: object, width: int, pre: Style, post: Style) -> list[list[Segment]]:
    """What DataTable's `_render_cell` makes of a cell one line high (padding 1)."""
    options = CONSOLE.options.update_dimensions(width, 1).update(no_wrap=True)
    lines = CONSOLE.render_lines(Styled(Padding(text, (0, 1)), pre, post), options)
    return [list(Segment.simplify(line)) for line in lines]


@pytest.mark.parametrize("text", SIMPLE, ids=lambda t: repr(t.plain))
@pytest.mark.parametrize("width", [2, 3, 6, 8, 18, 40])
def test_cell_lines_are_what_rich_draws(text: Text, width: int) -> None:
    for pre in PRE_STYLES:
        for post in POST_STYLES:
            ours = simple_cell_lines(text, width, 1, pre, post)
            if ours is None:  # left to Rich only when none of a styled text fits
                assert text.style and width <= 2
                continue
            assert [list(Segment.simplify(line)) for line in ours] == rich_lines(
                text, width, pre, post
            )


@pytest.mark.parametrize("text", NOT_SIMPLE, ids=repr)
def test_other_cells_are_left_to_rich(text: object) -> None:
    assert simple_cell_lines(text, 12, 1, PRE_STYLES[0], POST_STYLES[0]) is None
