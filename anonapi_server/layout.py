r"""The output layout: `<destination>\<job_id>\<series number>\<instance number>.dcm`.

Source file and folder names are often a patient's name or id, so none of them reaches the
output. Files are placed by their series and instance numbers alone (integers, not identifying):
a series without a usable number is `0`; two series with the same number get `<n>_2`, `<n>_3`
in the order their first file came; a second instance with the same number in a series gets
`<n>_2.dcm`. The order is that of the sorted source listing (a share: a rerun lays out the
same) or of arrival (a PACS study).
"""

from __future__ import annotations

from anonapi_server.headers import Header


class Placer:
    """Places files one by one, in the order they come: a share's sorted listing, or a PACS
    study's instances as they arrive (so each can be written before the next is in)."""

    def __init__(self) -> None:
        self._series_folders: dict[str, str] = {}
        self._used_folders: set[str] = set()
        self._used_names: dict[str, set[str]] = {}

    def place(self, header: Header) -> tuple[str, str]:
        """(series folder, file name) for the next file."""
        folder = self._series_folders.get(header.series_uid)
        if folder is None:
            folder = _unique(str(header.series_number or 0), self._used_folders)
            self._series_folders[header.series_uid] = folder
        names = self._used_names.setdefault(folder, set())
        stem = _unique(str(header.instance_number or 0), names, suffix=".dcm")
        return folder, f"{stem}.dcm"


def _unique(base: str, used: set[str], suffix: str = "") -> str:
    """`base`, or `base_2`, `base_3`... whichever is not in `used` yet (then marked used)."""
    candidate, n = base, 1
    while candidate + suffix in used:
        n += 1
        candidate = f"{base}_{n}"
    used.add(candidate + suffix)
    return candidate
