from pathlib import Path

import pytest

from anonapi_server.shares import PathRefused, ShareTable, parse_unc
from anonapi_server.store import Share


@pytest.fixture
def table(tmp_path: Path) -> ShareTable:
    (tmp_path / "data" / "in").mkdir(parents=True)
    return ShareTable([Share("localhost", "data", str(tmp_path / "data"))])


def test_backslash_and_slash_forms_resolve_to_the_same_folder(table: ShareTable, tmp_path: Path):
    expected = (tmp_path / "data" / "in").resolve()
    assert table.resolve(r"\\localhost\data\in") == expected
    assert table.resolve("//localhost/data/in") == expected


def test_host_and_share_match_case_insensitively(table: ShareTable, tmp_path: Path):
    assert table.resolve(r"\\LOCALHOST\Data\in") == (tmp_path / "data" / "in").resolve()


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (r"C:\data\in", "is not a UNC path"),
        ("/srv/data/in", "is not a UNC path"),
        ("data/in", "is not a UNC path"),
        ("", "empty"),
        (r"\\localhost", "does not name a host and a share"),
        (r"\\?\C:\data", "does not name a host and a share"),
        (r"\\localhost\data\in\..\..\etc", "contains '..'"),
        (r"\\otherhost\data\in", "is not a share on this server"),
        (r"\\localhost\secret\in", "is not a share on this server"),
    ],
)
def test_paths_off_the_share_table_are_refused_with_the_reason(
    table: ShareTable, path: str, reason: str
):
    with pytest.raises(PathRefused, match=reason):
        table.resolve(path)


def test_a_link_leading_out_of_the_share_is_refused(table: ShareTable, tmp_path: Path):
    (tmp_path / "outside").mkdir()
    link = tmp_path / "data" / "escape"
    try:
        link.symlink_to(tmp_path / "outside", target_is_directory=True)
    except OSError:
        pytest.skip("cannot create symlinks here")
    with pytest.raises(PathRefused, match="leads outside its share"):
        table.resolve(r"\\localhost\data\escape")


def test_parse_keeps_the_parts_below_the_share():
    unc = parse_unc(r"\\host\share\a\b")
    assert (unc.host, unc.share, unc.parts) == ("host", "share", ("a", "b"))
    assert str(unc) == r"\\host\share\a\b"
