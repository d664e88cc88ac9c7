"""Alembic environment: runs the revisions on the connection `anonapi_server.migrate` hands in.

There is no alembic.ini: the server applies migrations itself at `init` and at start, inside its
own transaction (and, on PostgreSQL, under an advisory lock so that hosts starting together do not
migrate twice).
"""

from alembic import context

from anonapi_server.store import metadata

connection = context.config.attributes["connection"]
# Batch mode lets later revisions alter columns on SQLite, which has little ALTER TABLE.
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
