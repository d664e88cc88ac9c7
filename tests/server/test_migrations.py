"""Schema migrations: what they build equals the store's tables, old databases keep their jobs,
and a database migrated by a newer server is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import text

from anonapi_server.cli import cli
from anonapi_server.migrate import BASELINE, SchemaError, _config, head_revision
from anonapi_server.store import Store, metadata


def test_the_migrated_schema_equals_the_store_metadata(database_url: str):
    """Fails when a table of the store changes without a new revision in migrations/versions."""
    store = Store(database_url)
    try:
        store.create_schema()
        with store.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
        assert differences == []
    finally:
        store.close()


@pytest.mark.parametrize("made_at", [BASELINE, "0002"])
def test_a_database_made_before_migrations_is_upgraded_and_keeps_its_jobs(
    database_url: str, made_at: str
):
    store = Store(database_url)
    try:
        # What a server of a version before migrations left: its tables, no version. The
        # version that added the admin role (0002) had added its column itself.
        with store.engine.begin() as connection:
            command.upgrade(_config(connection), made_at)
            connection.execute(text("DROP TABLE alembic_version"))
            connection.execute(
                text(
                    "INSERT INTO jobs (date, user_name, status, project_name, priority, "
                    "destination_type, source_type, source_ignore_opt_out, attempt, source_path) "
                    "VALUES ('2026-01-01T00:00:00', 'u', 'DONE', 'P', 0, 'PATH', 'PATH', false, "
                    "1, '\\\\localhost\\data\\in')"
                )
            )
        store.create_schema()
        assert store.job_statuses([1]) == {1: "DONE"}
        with store.engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == head_revision()
    finally:
        store.close()


def test_a_schema_newer_than_this_server_is_refused(database_url: str):
    store = Store(database_url)
    try:
        store.create_schema()
        with store.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
        with pytest.raises(SchemaError, match="newer anon-server.*f00d"):
            store.create_schema()
    finally:
        store.close()


def test_run_on_a_newer_schema_is_one_clear_error(tmp_path: Path):
    home = tmp_path / "home"
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(home)]).exit_code == 0
    store = Store(f"sqlite:///{(home / 'anon-server.db').as_posix()}")
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    store.close()
    result = runner.invoke(cli, ["run", "--home", str(home), "--workers", "0"])
    assert result.exit_code == 1
    assert "Error: The database was migrated by a newer anon-server" in result.output
    assert "Traceback" not in result.output


def test_the_migrations_ship_in_the_package():
    """The revisions must be package data of the wheel, not only files of the repository."""
    from importlib.resources import files

    versions = files("anonapi_server") / "migrations" / "versions"
    assert any(p.name.startswith(BASELINE) for p in versions.iterdir())
    assert (files("anonapi_server") / "migrations" / "env.py").is_file()
