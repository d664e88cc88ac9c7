"""A table cell's one drawn line, made directly from its text for the common simple case.

DataTable draws every cell through Rich (`Styled(Padding(Text))` rendered by the console): about
0.1 ms a cell, so a screen of 60 rows by 10 columns costs ~55 ms whenever the rows on screen are
new to its caches (a sort moved them, the cursor followed its job to another part of the list).
A cell of the jobs table is almost always a one-line `Text` of plain printable ASCII with one
style and no spans; for those the line is a few segments that are worked out here in a few
microseconds, exactly as Rich would make them (`test_cell_lines_are_what_rich_draws` compares
both over every case). Anything else returns None and is drawn by Rich.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text

SegmentLines = list[list[Segment]]


def simple_cell_lines(
    text: object, width: int, padding: int, pre_style: Style, post_style: Style
) -> SegmentLines | None:
    """The line DataTable draws for `text` in a one-line cell `width` cells wide (padding
    included), styled `pre_style` under the text's own style and `post_style` over it; None
    when `text` is not a simple case (the caller then lets Rich draw it)."""
    if type(text) is not Text or text.spans or text.overflow not in (None, "fold"):
        return None
    plain = text.plain
    if not (plain.isascii() and plain.isprintable()):
        return None
    room = width - 2 * padding
    if room < 0 or padding < 0:
        return None
    text_style: Style | None = None
    if text.style:
        if not isinstance(text.style, Style) or text.justify not in (None, "default"):
            # A style by name is looked up in the console's theme; a styled text that is
            # justified pads with its own style: both left to Rich.
            return None
        text_style = text.style
    content = plain[:room]
    if text_style and not content:
        return None
    excess = room - len(content)
    if text.justify == "right":
        content, excess = " " * excess + content, 0
    elif text.justify not in (None, "default", "left"):
        return None
    side = " " * padding
    around = _styled(pre_style, None, post_style)
    if text_style is None:
        # One segment where Rich makes three or four of the same style: the line assembled
        # from the cells is simplified to the same segments, with less work on every pass.
        return [[Segment(f"{side}{content}{' ' * excess}{side}", around)]]
    segments = [
        Segment(side, around),
        Segment(content, _styled(pre_style, text_style, post_style)),
    ]
    if excess:
        segments.append(Segment(" " * excess, around))
    segments.append(Segment(side, around))
    return [segments]


def _styled(pre_style: Style, style: Style | None, post_style: Style) -> Style:
    """A segment's style as `Segment.apply_style` makes it (pre, own, then post)."""
    combined = pre_style + style
    if post_style:
        return combined + post_style if combined else post_style
    return combined
