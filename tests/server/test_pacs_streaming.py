"""A PACS study as a stream: files handed over as they land, errors where they happen, and a
retrieval that stops when its consumer leaves (real pynetdicom PACS in this process)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from anonapi_server.pacs.config import new_node
from anonapi_server.pacs.local_pacs import LocalPacs, running_local_pacs
from anonapi_server.pacs.retrieve import PacsError
from anonapi_server.pacs.streaming import StudyStream
from tests.server.pacs_support import PacsStudy, write_pacs_studies


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PacsStudy]:
    return write_pacs_studies(tmp_path_factory.mktemp("stream-studies"))


@pytest.fixture(scope="module")
def pacs(
    studies: dict[str, PacsStudy], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalPacs]:
    with running_local_pacs(tmp_path_factory.mktemp("stream-store")) as running:
        for study in studies.values():
            for path in study.files:
                running.add_file(path)
        yield running


def _stream(pacs: LocalPacs, instance_id: str, folder: Path, **options: int) -> StudyStream:
    node = new_node("STREAM", dimse=pacs.address, called_aet=pacs.ae_title, timeout=10)
    return StudyStream(node, instance_id, folder, **options)


def _retrieving() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "pacs-retrieve"]


def test_every_instance_comes_as_a_file_already_on_disk(
    pacs: LocalPacs, studies: dict[str, PacsStudy], tmp_path: Path
):
    got = []
    with _stream(pacs, "accession_number:A1001", tmp_path) as stream:
        for path in stream:
            assert path.is_file() and path.read_bytes()[128:132] == b"DICM"
            got.append(path.name)
    assert got == [f"{n:06d}.dcm" for n in range(1, len(studies["single"].files) + 1)]


def test_the_pacs_error_is_raised_by_the_iteration(pacs: LocalPacs, tmp_path: Path):
    with (
        _stream(pacs, "accession_number:NOSUCH", tmp_path) as stream,
        pytest.raises(PacsError, match="no study with accession number NOSUCH"),
    ):
        list(stream)


def test_leaving_the_stream_early_stops_the_retrieval_before_the_folder_goes(
    pacs: LocalPacs, tmp_path: Path
):
    """With room for one waiting file, the retrieval is held back; leaving after the first
    file stops it and waits for it, so nothing writes into the folder afterwards."""
    with _stream(pacs, "accession_number:A1001", tmp_path, max_waiting=1) as stream:
        first = next(iter(stream))
        assert first.is_file()
        assert _retrieving()
    assert not _retrieving()
    written = sorted(p.name for p in tmp_path.iterdir())
    assert len(written) < 4  # the study has four instances; the last ones were refused
