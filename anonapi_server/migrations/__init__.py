"""Alembic migrations of the server's database; applied by `anonapi_server.migrate`, not by hand.

Every change to the tables in `anonapi_server.store` needs a new revision in `versions/`: a test
compares the schema these revisions build with the store's metadata.
"""
