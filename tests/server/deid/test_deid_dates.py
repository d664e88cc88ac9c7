"""Date shifting on encoded DA/DT values."""

import pytest

from anonapi_server.deid.dates import shift_days_for, shift_encoded


@pytest.mark.parametrize(
    ("vr", "raw", "expected"),
    [
        ("DA", b"20240102", b"20231223"),
        ("DA", b"20240301\\20240302 ", b"20240220\\20240221"),  # multi-valued, padded
        ("DA", b"20240102-20240110", b"20231223-20231231"),  # a range keeps both ends
        ("DA", b"2024.01.02", b"20231223"),  # ACR-NEMA style
        ("DA", b"20240230", b""),  # not a date: nothing of it is kept
        ("DA", b"", b""),
        ("DT", b"20240102101010.123+0100", b"20231223101010.123+0100"),
        ("DT", b"202401", b"202401"),  # month precision: the 15th moves 10 days, same month
        ("DT", b"2024", b"2024"),
    ],
)
def test_shift_moves_date_parts_only(vr, raw, expected):
    shifted = shift_encoded(raw, vr, -10)
    assert shifted.rstrip(b" ") == expected
    assert len(shifted) % 2 == 0


def test_shift_is_per_patient_stable_nonzero_and_keyed():
    days = shift_days_for(b"secret", "PSEUDO-1")
    assert days == shift_days_for(b"secret", "PSEUDO-1")
    assert -3652 <= days <= -366
    assert shift_days_for(b"other secret", "PSEUDO-1") != days
    assert len({shift_days_for(b"secret", f"P{i}") for i in range(50)}) > 40
