"""`.anonbatch` in the original's shape, and the creation journal that loses no job id."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from anonapi_core.batch import (
    BATCH_FILE_NAME,
    JOURNAL_FILE_NAME,
    CreationJournal,
    JobBatch,
    add_to_batch,
    delete_batch,
    init_batch,
    load_batch,
    save_batch,
)
from anonapi_core.exceptions import NoBatchDefinedError, PersistenceError
from anonapi_core.models import Server
from tests.core.conftest import run_original

SERVER = Server(name="stub", url="http://127.0.0.1:8765/p01")
OTHER = Server(name="prod", url="https://anon/p01")


def test_batch_file_has_the_originals_shape(tmp_path: Path):
    save_batch(tmp_path, JobBatch(job_ids=["10", "2", "abc", "1"], server=SERVER))
    assert (tmp_path / BATCH_FILE_NAME).read_text() == textwrap.dedent("""\
        job_ids:
        - '1'
        - '2'
        - '10'
        - abc
        server:
          name: stub
          url: http://127.0.0.1:8765/p01
        """).replace("\n", os.linesep)


def test_original_shape_with_legacy_integer_ids_loads_as_strings(tmp_path: Path):
    (tmp_path / BATCH_FILE_NAME).write_text(
        "job_ids:\n- 12\n- '3'\n- 12\n- abc\nserver:\n  name: p01\n  url: https://anon/p01/\n"
    )
    batch = load_batch(tmp_path)
    assert batch.job_ids == ["3", "12", "abc"]
    assert batch.server == Server(name="p01", url="https://anon/p01")
    save_batch(tmp_path, batch)
    assert load_batch(tmp_path) == batch


def test_missing_batch_says_how_to_make_one(tmp_path: Path):
    with pytest.raises(NoBatchDefinedError, match="anon batch init"):
        load_batch(tmp_path)
    with pytest.raises(NoBatchDefinedError):
        delete_batch(tmp_path)


@pytest.mark.parametrize(
    "content, problem",
    [
        ("job_ids: [1, 2\nserver: {}\n", "line 2, column"),
        ("- 1\n- 2\n", "expected 'job_ids' and 'server' keys"),
        ("job_ids: [1]\n", "'server' must have a 'name' and a 'url'"),
        ("job_ids: {a: 1}\nserver: {name: a, url: b}\n", "'job_ids' must be a list"),
    ],
)
def test_damaged_batch_is_refused_in_one_line_naming_the_file(tmp_path, content, problem):
    (tmp_path / BATCH_FILE_NAME).write_text(content)
    with pytest.raises(PersistenceError) as error:
        load_batch(tmp_path)
    assert str(tmp_path / BATCH_FILE_NAME) in str(error.value)
    assert problem in str(error.value)
    assert "\n" not in str(error.value)


def test_init_refuses_to_replace_and_delete_removes(tmp_path: Path):
    init_batch(tmp_path, SERVER)
    assert load_batch(tmp_path) == JobBatch(job_ids=[], server=SERVER)
    with pytest.raises(PersistenceError, match="already defined"):
        init_batch(tmp_path, OTHER)
    delete_batch(tmp_path)
    assert not (tmp_path / BATCH_FILE_NAME).exists()


def test_add_and_remove_sort_numerically_and_report_changes():
    batch = JobBatch(job_ids=["9"], server=SERVER)
    assert batch.add(["10", "9", 100, "2"]) == ["2", "10", "100"]
    assert batch.job_ids == ["2", "9", "10", "100"]
    assert batch.remove(["9", "77"]) == ["9"]
    assert batch.job_ids == ["2", "10", "100"]


def test_add_to_batch_creates_merges_and_refuses_another_servers_batch(tmp_path: Path):
    add_to_batch(tmp_path, SERVER, ["5"])
    add_to_batch(tmp_path, Server(name="alias", url=SERVER.url + "/"), ["4", "5"])
    assert load_batch(tmp_path).job_ids == ["4", "5"]
    with pytest.raises(PersistenceError, match="is for server http://127.0.0.1:8765/p01"):
        add_to_batch(tmp_path, OTHER, ["6"])
    assert load_batch(tmp_path).job_ids == ["4", "5"]


def test_journal_records_rows_per_server(tmp_path: Path):
    journal = CreationJournal(tmp_path, SERVER)
    journal.record("row-1", "101")
    journal.record("row-2", 102)
    CreationJournal(tmp_path, OTHER).record("row-1", "7")

    assert journal.created() == {"row-1": "101", "row-2": "102"}
    assert CreationJournal(tmp_path, OTHER).created() == {"row-1": "7"}
    assert CreationJournal(tmp_path).job_ids() == ["7", "101", "102"]


def test_journal_survives_a_torn_last_line(tmp_path: Path):
    journal = CreationJournal(tmp_path, SERVER)
    journal.record("row-1", "101")
    with open(tmp_path / JOURNAL_FILE_NAME, "ab") as f:
        f.write(b'{"row": "row-2", "job_id": "1')  # killed mid-write
    assert journal.created() == {"row-1": "101"}

    journal.record("row-2", "102")
    assert journal.created() == {"row-1": "101", "row-2": "102"}


def test_journal_keeps_ids_of_a_process_killed_between_rows(tmp_path: Path):
    """kill -9 right after a record returns: the id is on disk, nothing else needed."""
    script = textwrap.dedent(f"""\
        import os, signal, sys
        from pathlib import Path
        from anonapi_core.batch import CreationJournal
        from anonapi_core.models import Server
        journal = CreationJournal(Path(sys.argv[1]), Server(name="s", url={SERVER.url!r}))
        journal.record("row-1", "101")
        journal.record("row-2", "102")
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
        """)
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], timeout=60)
    assert CreationJournal(tmp_path, SERVER).created() == {"row-1": "101", "row-2": "102"}


def test_journal_ids_fold_into_the_batch(tmp_path: Path):
    journal = CreationJournal(tmp_path, SERVER)
    journal.record("a", "12")
    journal.record("b", "3")
    batch = journal.fold_into_batch()
    assert batch == JobBatch(job_ids=["3", "12"], server=SERVER)
    assert load_batch(tmp_path) == batch
    assert yaml.safe_load((tmp_path / BATCH_FILE_NAME).read_text())["job_ids"] == ["3", "12"]


def test_the_original_anonapi_reads_a_batch_we_wrote(tmp_path: Path):
    save_batch(tmp_path, JobBatch(job_ids=["10", "2", "abc"], server=SERVER))
    script = (
        "import sys; from anonapi.batch import BatchFolder; "
        "b = BatchFolder(sys.argv[1]).load(); print(b.job_ids, b.server.url)"
    )
    output = run_original(script, tmp_path)
    assert output.strip() == f"['2', '10', 'abc'] {SERVER.url}"
