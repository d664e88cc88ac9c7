"""Counted nouns: one is singular, every other count (zero too) plural."""

from anonapi_core.wording import plural


def test_one_is_singular_and_zero_and_many_are_plural() -> None:
    assert [plural(n) for n in (0, 1, 2)] == ["0 jobs", "1 job", "2 jobs"]
    assert plural(1, "DICOM file") == "1 DICOM file"
