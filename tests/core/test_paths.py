"""The UNC rule and UNC path helpers (accept/reject lists of the original's tests/test_paths.py)."""

from pathlib import PureWindowsPath

import pytest

from anonapi_core.exceptions import UNCPathError
from anonapi_core.paths import is_unc, join_unc, normalise_unc


@pytest.mark.parametrize(
    "path",
    [
        "//server/share/thing",
        PureWindowsPath(r"\\server\share\thing"),
        r"//server/share/thing\weirdpath_3467#&^f" r"\\server\share\thing",
        r"\\server\share",
        r"\\server\share\folder\file.dcm",
    ],
)
def test_unc_paths_accepted(path):
    assert is_unc(path)


@pytest.mark.parametrize(
    "path",
    [
        "/server/share/thing",
        r"/server/share/thing\weirdpath_3467#&^f",
        r"//server",
        PureWindowsPath(r"\server\share\thing"),
        r"\\server",
        "C:/yomomma",
        r"C:\data",
        "/mnt/data",
        "relative/path",
        r"\\?\C:\data",
        r"\\.\pipe\x",
        "",
    ],
)
def test_non_unc_paths_rejected(path):
    assert not is_unc(path)
    with pytest.raises(UNCPathError):
        normalise_unc(path)


def test_normalise_unc_uses_backslashes_and_drops_empty_parts():
    assert normalise_unc("//srv/share//a/./b/") == r"\\srv\share\a\b"
    assert normalise_unc(r"\\srv\share\a\..\b") == r"\\srv\share\b"


def test_join_unc_accepts_either_slash_in_the_relative_part():
    assert join_unc("//srv/share", "study/series\\1") == r"\\srv\share\study\series\1"
    assert join_unc(r"\\srv\share\root", ".") == r"\\srv\share\root"


@pytest.mark.parametrize("relative", [r"C:\x", "/abs", r"\abs"])
def test_join_unc_refuses_absolute_relative_parts(relative):
    with pytest.raises(UNCPathError, match="not a relative path"):
        join_unc(r"\\srv\share", relative)


def test_dotdot_cannot_climb_out_of_the_share():
    with pytest.raises(UNCPathError, match="climbs out"):
        join_unc(r"\\srv\share", "../other")


def test_unc_path_error_is_a_value_error_like_the_originals():
    assert issubclass(UNCPathError, ValueError)
