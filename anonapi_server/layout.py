r"""The output layout: `<destination>\<job_id>\<series number>\<instance number>.dcm`.

Source file and folder names are often a patient's name or id, so none of them reaches the
output. Files are placed by their series and instance numbers alone (integers, not identifying):
a series without a usable number is `0`; two series with the same number get `<n>_2`, `<n>_3`
in the order their first file was listed; a second instance with the same number in a series
gets `<n>_2.dcm`. The order is that of the sorted source listing, so a rerun lays out the same.
"""

from __future__ import annotations

from collections.abc import Iterable

from anonapi_server.headers import Header


def output_places(headers: Iterable[Header]) -> list[tuple[str, str]]:
    """(series folder, file name) for each header, in order."""
    series_folders: dict[str, str] = {}
    used_folders: set[str] = set()
    used_names: dict[str, set[str]] = {}
    places = []
    for header in headers:
        folder = series_folders.get(header.series_uid)
        if folder is None:
            folder = _unique(str(header.series_number or 0), used_folders)
            series_folders[header.series_uid] = folder
        names = used_names.setdefault(folder, set())
        stem = _unique(str(header.instance_number or 0), names, suffix=".dcm")
        places.append((folder, f"{stem}.dcm"))
    return places


def _unique(base: str, used: set[str], suffix: str = "") -> str:
    """`base`, or `base_2`, `base_3`... whichever is not in `used` yet (then marked used)."""
    candidate, n = base, 1
    while candidate + suffix in used:
        n += 1
        candidate = f"{base}_{n}"
    used.add(candidate + suffix)
    return candidate
