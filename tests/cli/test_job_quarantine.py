"""`anon job quarantine ID [--release FILE_ID | --drop FILE_ID]` against the real embedded server,
and against a server without the extension (one line, exit 1)."""

from __future__ import annotations

import json

from anonapi_server.testing import EmbeddedServer
from tests.cli.conftest import Anon
from tests.support.held_files import job_with_held_files
from tests.support.recorder import recording_server


def test_lists_held_files_and_why_then_releases_and_drops_them(
    anon: Anon, connected: EmbeddedServer
) -> None:
    job_id = str(job_with_held_files(connected, "cli-held"))
    listed = anon("job", "quarantine", job_id)
    assert listed.exit_code == 0, listed.output
    assert f"job {job_id} on local: 2 files held back" in listed.output
    assert "1_2\\1.dcm" in listed.output and "burned-in annotation" in listed.output
    files = json.loads(anon("job", "quarantine", job_id, "--json").output)
    first, second = (f["file_id"] for f in files)

    released = anon("job", "quarantine", job_id, "--release", first, input="y\n")
    assert released.exit_code == 0, released.output
    assert f"Held file {first} of job {job_id} released by {connected.user_name}" in released.output
    assert (connected.share_root / "out" / job_id / "1_2" / "1.dcm").is_file()

    kept = anon("job", "quarantine", job_id, "--drop", second, input="n\n")
    assert kept.exit_code == 1
    dropped = anon("job", "quarantine", job_id, "--drop", second, "--yes")
    assert dropped.exit_code == 0, dropped.output
    assert "never published" in dropped.output
    assert not (connected.share_root / "out" / job_id / "1_2" / "2.dcm").exists()

    after = anon("job", "quarantine", job_id)
    assert "0 files held back" in after.output
    assert f"released by {connected.user_name}" in after.output

    again = anon("job", "quarantine", job_id, "--drop", second, "--yes")
    assert again.exit_code == 1
    assert again.stderr.strip().startswith("Error: ") and "already dropped" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1


def test_another_users_job_or_an_unknown_one_is_one_line(
    anon: Anon, connected: EmbeddedServer
) -> None:
    result = anon("job", "quarantine", "987654")
    assert result.exit_code == 1
    assert "Job with id 987654 does not exist" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_release_and_drop_together_are_refused(anon: Anon, connected: EmbeddedServer) -> None:
    result = anon("job", "quarantine", "1", "--release", "a", "--drop", "b")
    assert result.exit_code == 2
    assert "not both" in result.output


def test_a_server_without_the_extension_is_one_clear_line(anon: Anon) -> None:
    with recording_server() as idis:
        idis.status, idis.body = 404, {"documentation": "IDIS web API"}
        assert anon("server", "add", "idis", idis.url).exit_code == 0
        assert anon("server", "activate", "idis").exit_code == 0
        assert anon("settings", "user", "set-username", "someone").exit_code == 0
        assert anon("settings", "user", "set-token", input="a-token\n").exit_code == 0
        result = anon("job", "quarantine", "12")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: quarantine is not available on this server ({idis.url})"
    )
