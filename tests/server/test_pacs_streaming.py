"""A PACS study as a stream: instances handed over as they arrive (in memory within a bound, on
disk beyond it), errors where they happen, and a retrieval that stops when its consumer leaves
(real pynetdicom PACS in this process)."""

from __future__ import annotations

import threading
import time
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


def test_every_instance_comes_in_memory_in_order_and_nothing_is_written(
    pacs: LocalPacs, studies: dict[str, PacsStudy], tmp_path: Path
):
    got = []
    with _stream(pacs, "accession_number:A1001", tmp_path) as stream:
        for instance in stream:
            assert instance.data is not None and instance.data[128:132] == b"DICM"
            got.append(instance.name)
    assert got == [f"{n:06d}.dcm" for n in range(1, len(studies["single"].files) + 1)]
    assert list(tmp_path.iterdir()) == []


def test_the_retrieval_waits_while_the_memory_bound_is_reached(
    pacs: LocalPacs, studies: dict[str, PacsStudy], tmp_path: Path
):
    """Room in memory for about one and a half instances, and a consumer that starts late:
    the retrieval waits for it instead of holding more, and every instance still comes in
    memory, in order."""
    sizes = sorted(path.stat().st_size for path in studies["single"].files)
    bound = sizes[len(sizes) // 2] * 3 // 2
    held = []
    with _stream(pacs, "accession_number:A1001", tmp_path, max_bytes=bound) as stream:
        deadline = time.monotonic() + 10
        while not stream.in_memory and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # time for the small study to arrive whole, were nothing holding it
        held.append(stream.in_memory)
        assert _retrieving()
        names = []
        for instance in stream:
            held.append(stream.in_memory)
            assert instance.data is not None
            names.append(instance.name)
    assert names == [f"{n:06d}.dcm" for n in range(1, len(sizes) + 1)]
    assert 0 < max(held) <= bound
    assert list(tmp_path.iterdir()) == []


def test_an_instance_larger_than_the_memory_bound_comes_on_disk(
    pacs: LocalPacs, studies: dict[str, PacsStudy], tmp_path: Path
):
    smallest = min(path.stat().st_size for path in studies["single"].files)
    with _stream(pacs, "accession_number:A1001", tmp_path, max_bytes=smallest // 2) as stream:
        instances = list(stream)
    assert len(instances) == len(studies["single"].files)
    for instance in instances:
        assert instance.data is None
        assert (tmp_path / instance.name).read_bytes()[128:132] == b"DICM"


def test_the_pacs_error_is_raised_by_the_iteration(pacs: LocalPacs, tmp_path: Path):
    with (
        _stream(pacs, "accession_number:NOSUCH", tmp_path) as stream,
        pytest.raises(PacsError, match="no study with accession number NOSUCH"),
    ):
        list(stream)


def test_leaving_the_stream_early_stops_the_retrieval_before_the_folder_goes(
    pacs: LocalPacs, tmp_path: Path
):
    """With room for one waiting instance (none in memory: each is written to the folder),
    the retrieval is held back; leaving after the first stops it and waits for it, so nothing
    writes into the folder afterwards."""
    with _stream(pacs, "accession_number:A1001", tmp_path, max_waiting=1, max_bytes=0) as stream:
        first = next(iter(stream))
        assert first.data is None and (tmp_path / first.name).is_file()
        assert _retrieving()
    assert not _retrieving()
    written = sorted(p.name for p in tmp_path.iterdir())
    assert len(written) < 4  # the study has four instances; the last ones were refused
