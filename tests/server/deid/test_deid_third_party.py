"""The engine on files nobody here wrote: pydicom's test files, also re-encoded by dcmtk.

Zero crashes, zero files that lose data, zero new dciodvfy errors, pixel data byte-identical, and
the fast paths write exactly what the reference path writes. The corpus is converted and
de-identified once per session (a few seconds); each test then judges the shared results.
dciodvfy judges every original and every other file of each re-encoding (the re-encodings hold the
same attributes, so errors would repeat; about 250 files judged by each tool).
"""

import warnings
from dataclasses import dataclass
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset

from anonapi_server.deid import Cause, Deidentifier, FileOutcome, ProjectProfile
from tests.server.deid.conftest import PROJECT, SECRET
from tests.server.deid.third_party import (
    ENCODINGS,
    dcmdump_problems,
    pydicom_test_files,
    reencode,
    validator_errors,
)

_PIXEL_TAGS = (0x7FE00008, 0x7FE00009, 0x7FE00010)
# What the engine writes into every output: the de-identification record.
_RECORD_TAGS = {0x00120062, 0x00120063, 0x00120064, 0x00280303}
# Causes a third-party file may be skipped for: it is not something that can be written.
_ACCEPTED_SKIPS = {
    Cause.NOT_DICOM,
    Cause.UNREADABLE,
    Cause.DAMAGED,
    Cause.NOT_AN_INSTANCE,
    Cause.DICOMDIR,
}


@dataclass(frozen=True)
class Result:
    """One corpus file: its outcome, and where it was written (after release, if it was held)."""

    variant: str
    src: Path
    outcome: FileOutcome
    dst: Path | None

    @property
    def label(self) -> str:
        return f"{self.variant}/{self.src.name}"


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> dict[str, list[Path]]:
    originals = pydicom_test_files()
    root = tmp_path_factory.mktemp("third-party")
    parsable = [f for f in originals if _is_part10(f)]
    files = {"original": originals}
    for encoding in ENCODINGS:
        files[encoding] = reencode(parsable, encoding, root / encoding)
    return files


@pytest.fixture(scope="session")
def results(corpus, tmp_path_factory) -> list[Result]:
    engine = Deidentifier(ProjectProfile(name=PROJECT, secret=SECRET))
    out = tmp_path_factory.mktemp("third-party-out")
    results = []
    for variant, files in corpus.items():
        (out / variant).mkdir()
        for index, src in enumerate(files):
            dst = out / variant / f"{index:03d}.dcm"
            outcome = engine.deidentify_file(src, dst, "PSEUDO-1", "Pseudo^One")
            if outcome.kind == "quarantined":  # judged as it would be published after release
                assert engine.deidentify_file(src, dst, "PSEUDO-1", "Pseudo^One", release=True)
            results.append(Result(variant, src, outcome, dst if dst.exists() else None))
    return results


def _is_part10(path: Path) -> bool:
    with path.open("rb") as fp:
        return fp.read(132)[128:] == b"DICM"


def _read(path: Path) -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path)


def _written(results: list[Result]) -> list[Result]:
    return [r for r in results if r.dst is not None]


def _judged(results: list[Result]) -> list[Result]:
    """The written files the external tools judge: all originals, every other re-encoded one."""
    written = _written(results)
    return [r for i, r in enumerate(written) if r.variant == "original" or i % 2 == 0]


def test_the_corpus_has_every_encoding(corpus, results):
    assert len(corpus["original"]) > 150
    for encoding in ENCODINGS:
        assert len(corpus[encoding]) > 60, encoding
    assert len(_written(results)) > 400


def test_every_file_ends_written_quarantined_or_skipped_with_a_cause(results):
    for result in results:
        outcome = result.outcome
        if outcome.kind == "written":
            assert result.dst is not None, result.label
            continue
        assert outcome.reason and outcome.cause, result.label
        if outcome.kind == "quarantined":
            assert outcome.cause is Cause.BURNED_IN, result.label
        else:
            assert outcome.cause in _ACCEPTED_SKIPS, (result.label, outcome)
            assert result.dst is None, result.label
        if result.src.name != "DICOMDIR":  # reasons never name the file
            assert result.src.name not in outcome.reason


def test_files_without_sop_uids_are_skipped_not_raised(results):
    for result in results:
        if result.variant == "original" and result.src.name in (
            "empty_charset_LEI.dcm",
            "nested_priv_SQ.dcm",
        ):
            assert result.outcome.cause is Cause.NOT_AN_INSTANCE, result.outcome


def test_truncated_files_are_skipped_as_damaged(results):
    truncated = [r for r in results if "truncated" in r.src.name]
    assert len(truncated) >= 2
    for result in truncated:
        assert result.outcome.cause is Cause.DAMAGED, result.label


def test_written_files_keep_pixel_data_and_every_attribute_the_profile_leaves(engine, results):
    lost = []
    for result in _written(results):
        src, out = _read(result.src), _read(result.dst)
        for tag in _PIXEL_TAGS:
            if tag in src and out.get_item(tag).value != src.get_item(tag).value:
                lost.append((result.label, "pixel data differs"))
        for elem in src:  # all but the file meta, which is written anew
            tag = elem.tag
            if tag.is_private or not tag.element or elem.VR == "SQ" or tag in _RECORD_TAGS:
                continue
            if engine.rules.action_for(tag) is None and tag not in out:
                lost.append((result.label, str(tag), "lost"))
            elif engine.rules.action_for(tag) is None and out[tag].value != elem.value:
                lost.append((result.label, str(tag), "changed"))
    assert lost == [], "\n".join(map(str, lost))


def test_no_new_validator_errors(results, tmp_path):
    judged, found = 0, []
    for result in _judged(results):
        new = validator_errors(result.dst, tmp_path) - validator_errors(result.src, tmp_path)
        found += [(result.label, error) for error in sorted(new)]
        judged += 1
    assert found == [], "\n".join(map(str, found))
    assert judged > 200


def test_fast_paths_write_what_the_reference_path_writes(corpus, results, tmp_path):
    # The reference lets pydicom decode every sequence and read every value into memory.
    reference = Deidentifier(ProjectProfile(name=PROJECT, secret=SECRET), byte_paths=False)
    differ = []
    for result in _written(results):
        dst = tmp_path / "reference.dcm"
        reference.deidentify_file(result.src, dst, "PSEUDO-1", "Pseudo^One", release=True)
        if dst.read_bytes() != result.dst.read_bytes():
            differ.append(result.label)
    assert differ == []


def test_dcmdump_reads_every_written_file(results):
    problems = [(r.label, dcmdump_problems(r.dst)) for r in _judged(results)]
    assert [p for p in problems if p[1]] == []
