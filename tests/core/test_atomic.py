"""Atomic writes: the old file survives any failure and no temporary file is left behind."""

import os
import sys
from pathlib import Path

import pytest

from anonapi_core import atomic
from anonapi_core.atomic import atomic_write_bytes, atomic_write_text


def test_write_text_creates_and_replaces_a_file(tmp_path: Path):
    target = tmp_path / "f.yml"
    atomic_write_text(target, "one\n", newline="\n")
    atomic_write_text(target, "two\n", newline="\n")
    assert target.read_text() == "two\n"
    assert os.listdir(tmp_path) == ["f.yml"]


def test_newline_is_translated_like_open(tmp_path: Path):
    target = tmp_path / "f.csv"
    atomic_write_text(target, "a\nb\n", newline="\r\n")
    assert target.read_bytes() == b"a\r\nb\r\n"
    atomic_write_text(target, "a\nb\n")
    assert target.read_bytes() == f"a{os.linesep}b{os.linesep}".encode()


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failed_write_leaves_the_old_file_intact(tmp_path: Path, monkeypatch, failing):
    target = tmp_path / ".anonbatch"
    target.write_text("old content")

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, failing, boom)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_bytes(target, b"new content")
    monkeypatch.undo()
    assert target.read_text() == "old content"
    assert os.listdir(tmp_path) == [".anonbatch"]


def test_an_encoding_error_writes_nothing(tmp_path: Path):
    target = tmp_path / "f.txt"
    target.write_text("old")
    with pytest.raises(UnicodeEncodeError):
        atomic_write_text(target, "caf\u00e9", encoding="ascii")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["f.txt"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_permissions_of_the_replaced_file_are_kept_and_an_explicit_mode_wins(tmp_path: Path):
    shared = tmp_path / "shared"
    shared.write_text("x")
    shared.chmod(0o664)
    atomic_write_text(shared, "y")
    assert shared.stat().st_mode & 0o777 == 0o664

    secret = tmp_path / "secret"
    atomic_write_text(secret, "token", mode=0o600)
    assert secret.stat().st_mode & 0o777 == 0o600
