"""Bring a database's schema to the revision this server was built for, or refuse to use it.

Called by `Store.create_schema` at `init` and at every start (API host and worker host). Three
cases: an empty database gets every revision; a database an older server created without
migrations (tables but no `alembic_version`) is stamped as the baseline and upgraded, keeping its
jobs; a database already at a revision this server does not know was migrated by a newer server,
and running against it could write rows that newer code misreads, so start-up stops with a
sentence saying so.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, inspect

from anonapi_server.errors import ServerError

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001"
# Any fixed number: the PostgreSQL advisory lock that serialises hosts migrating at once.
_LOCK_KEY = 0x616E6F6E


class SchemaError(ServerError):
    """The database's schema is one this server cannot use (newer than it knows)."""


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this server knows."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None, "the migrations folder holds no revision"
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Migrate to the head revision in one transaction; SchemaError when the schema is newer."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
        config = _config(connection)
        current = current_revision(connection)
        if current is None and inspect(connection).has_table("jobs"):
            command.stamp(config, BASELINE)
        elif current is not None:
            try:
                ScriptDirectory.from_config(config).get_revision(current)
            except CommandError as e:
                raise SchemaError(
                    f"The database was migrated by a newer anon-server (schema revision "
                    f"{current}; this one knows up to {head_revision()}): upgrade anon-server"
                ) from e
        command.upgrade(config, "head")
