"""A DataTable whose `enter` belongs to its screen's command (details, open, edit, activate)."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable


class CommandTable(DataTable, inherit_bindings=False):
    """DataTable without its own hidden `enter` ("select cursor").

    The focused widget's binding of a key hides the screen's binding of the same key from the
    footer, the help screen and the palette; without this one, the screen's command (with its id,
    so it can be remapped) gets the key and is listed. A mouse click still selects a cell or row.
    """

    BINDINGS = [b for b in DataTable.BINDINGS if not (isinstance(b, Binding) and b.key == "enter")]
