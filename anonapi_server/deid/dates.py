"""Date shifting per pseudonymised patient (the Modified Dates option of PS3.15 Annex E).

Every DA value, and the date part of every DT value, moves back by a whole number of days derived
from HMAC(secret, pseudo_id): intervals between a patient's studies survive (that is why shifting
beats removing), the shift is the same in every file and every job of the patient, and it cannot
be recomputed without the project's secret. Times of day (TM) are left as they are, which a
whole-day shift implies.
"""

import hashlib
import hmac
import re
from datetime import date, timedelta
from functools import lru_cache

# Back between one and ten years: never zero, so no original date is ever written back unchanged.
_MIN_SHIFT_DAYS = 366
_MAX_SHIFT_DAYS = 3652

_DATE = re.compile(rb"(\d{4})\.?(\d{2})\.?(\d{2})")
_DATETIME = re.compile(rb"(\d{4})(\d{2})?(\d{2})?(.*)", re.DOTALL)


@lru_cache(maxsize=1024)  # the files of a job share their patient
def shift_days_for(secret: bytes, pseudo_id: str) -> int:
    """The (negative) number of days that all dates of this pseudonymised patient move by."""
    digest = hmac.new(secret, b"date-shift\0" + pseudo_id.encode("utf-8"), hashlib.sha256).digest()
    span = _MAX_SHIFT_DAYS - _MIN_SHIFT_DAYS + 1
    return -(_MIN_SHIFT_DAYS + int.from_bytes(digest[:8], "big") % span)


def _shifted(year: bytes, month: bytes, day: bytes, days: int) -> date | None:
    try:
        return date(int(year), int(month), int(day)) + timedelta(days=days)
    except (ValueError, OverflowError):
        return None


def _shift_date_value(value: bytes, days: int) -> bytes:
    """One DA value (or a `from-to` range); anything that is not a date becomes empty."""
    parts = value.split(b"-")
    out = []
    for part in parts:
        part = part.strip()
        if not part:
            out.append(b"")
            continue
        match = _DATE.fullmatch(part)
        moved = match and _shifted(match[1], match[2], match[3], days)
        if not moved:
            return b""
        out.append(moved.strftime("%Y%m%d").encode())
    return b"-".join(out)


def _shift_datetime_value(value: bytes, days: int) -> bytes:
    """One DT value: the date part moves, time, fraction and UTC offset stay."""
    value = value.strip()
    match = _DATETIME.fullmatch(value)
    if not value or not match:
        return b""
    year, month, day, rest = match.groups()
    # A partial date (year or year+month) moves as its middle day would, at the same precision.
    moved = _shifted(year, month or b"07", day or (b"15" if month else b"01"), days)
    if moved is None:
        return b""
    text = moved.strftime("%Y%m%d").encode()
    precision = 8 if day else 6 if month else 4
    return text[:precision] + (rest if day else b"")


@lru_cache(maxsize=4096)  # the files of a study repeat their dates
def shift_encoded(raw: bytes, vr: str, days: int) -> bytes:
    """Shift an encoded DA or DT value (multi-valued, padded) and return it encoded and padded."""
    shift = _shift_date_value if vr == "DA" else _shift_datetime_value
    text = raw.rstrip(b"\0 ")
    shifted = b"\\".join(shift(v, days) for v in text.split(b"\\")) if text else b""
    return shifted + b" " if len(shifted) % 2 else shifted
