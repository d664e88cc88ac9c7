"""Administration of a server home: the operations behind `anon-server init/user/share/...`.

They write to the database of the home, so they take effect on a running server at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from anonapi_server.config import (
    DATABASE_NAME,
    DEFAULT_HOST,
    DEFAULT_LEASE_SECONDS,
    DEFAULT_PROJECT,
    DEFAULT_SHARE,
    PRIVATE_FOLDER,
    ServerHome,
)
from anonapi_server.errors import ServerError
from anonapi_server.migrate import SchemaError
from anonapi_server.store import Store, StoreError

if TYPE_CHECKING:
    from anonapi_server.pacs.config import PacsNode


class AdminError(ServerError):
    """An admin command cannot do what was asked; the message says why."""


@contextmanager
def open_store(home: ServerHome) -> Iterator[Store]:
    """The home's store, its schema migrated to this version; refusals become AdminError."""
    store = Store(home.load_config().database_url)
    try:
        store.create_schema()
        yield store
    except (StoreError, SchemaError) as e:
        raise AdminError(str(e)) from e
    except SQLAlchemyError as e:
        raise AdminError(f"Database of {home.root}: {_short(e)}") from e
    finally:
        store.close()


def init_home(
    home: ServerHome,
    *,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    database: str | None = None,
) -> bool:
    """Create a server home with the share `\\\\localhost\\data` and the default project.

    `database` is a PostgreSQL URL for a database shared by several hosts (default: a SQLite file
    in the home). The schema is created or migrated; the share and project are added only where
    the database has none yet, so the homes of further hosts on one database can be initialised
    the same way. Returns False (and changes nothing) when the folder already is a server home.
    """
    if home.exists():
        return False
    if home.root.exists() and not home.root.is_dir():
        raise AdminError(f"{home.root} exists and is not a folder")
    if database is not None and not database.startswith(("postgresql", "postgres://")):
        raise AdminError(f"--database takes a postgresql://user@host/name URL, not {database!r}")
    try:
        home.root.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)
        home.default_share_root.mkdir(parents=True, exist_ok=True)
        home.write_config(database=database or DATABASE_NAME, lease_seconds=lease_seconds)
        config = home.load_config()
        home.create_database_file(config)
        home.make_private(config)
    except OSError as e:
        raise AdminError(f"Cannot create a server home in {home.root}: {e.strerror or e}") from e
    try:
        with open_store(home) as store:
            if not store.shares():
                store.set_share(DEFAULT_HOST, DEFAULT_SHARE, str(home.default_share_root))
            if store.project(DEFAULT_PROJECT) is None:
                store.add_project(DEFAULT_PROJECT)
    except AdminError:
        home.config_path.unlink()  # not a home until its database works: init can be retried
        raise
    return True


def _short(error: Exception) -> str:
    """The first line of a database error, without SQLAlchemy's background link."""
    text = str(getattr(error, "orig", None) or error)
    return text.splitlines()[0] if text else type(error).__name__


def add_user(
    home: ServerHome,
    name: str,
    *,
    token: str | None = None,
    projects: Sequence[str] = (),
    is_admin: bool = False,
) -> str:
    """Register a user (or give it a new token and role) and return the token.

    Without projects the user is connected to every project, as a newcomer expects to be able to
    create jobs at once. An admin reads and changes every user's jobs.
    """
    if not name.strip():
        raise AdminError("A user name cannot be empty")
    token = token or secrets.token_urlsafe(32)
    with open_store(home) as store:
        store.set_user(name, token, list(projects) or None, is_admin=is_admin)
    return token


def list_shares(home: ServerHome) -> list[tuple[str, str]]:
    """Every share as (UNC root, local folder), sorted."""
    with open_store(home) as store:
        found = [(f"\\\\{s.host}\\{s.name}", s.local_path) for s in store.shares()]
    return sorted(found)


def list_projects(home: ServerHome) -> list[tuple[str, list[str], list[str]]]:
    """Every project as (name, its de-identification options, its users), sorted by name."""
    with open_store(home) as store:
        names = store.project_names()
        users = store.user_names()
        out = []
        for name in names:
            project = store.project(name)
            assert project is not None
            members = [u for u in users if store.user_in_project(u, name)]
            out.append((name, sorted(project.options), members))
    return out


def add_share(home: ServerHome, name: str, path: Path, *, host: str = DEFAULT_HOST) -> str:
    """Serve the local folder `path` as `\\\\host\\name`; returns the UNC root."""
    if not path.is_dir():
        raise AdminError(f"{path} is not a folder")
    if not name or any(c in name for c in "\\/:"):
        raise AdminError(f"'{name}' is not a valid share name")
    with open_store(home) as store:
        store.set_share(host, name, str(path.resolve()))
    return f"\\\\{host}\\{name}"


def known_options() -> frozenset[str]:
    """De-identification options a project may enable (from the engine)."""
    from anonapi_server.deid import KNOWN_OPTIONS

    return frozenset(KNOWN_OPTIONS)


def add_project(
    home: ServerHome, name: str, *, options: Iterable[str] = (), users: Iterable[str] = ()
) -> None:
    """Create a project with its own pseudonymisation secret and de-identification options."""
    options = list(options)
    unknown = sorted(set(options) - known_options()) if options else []
    if unknown:
        allowed = ", ".join(sorted(known_options())) or "none"
        raise AdminError(f"Unknown option(s) {', '.join(unknown)} (known: {allowed})")
    with open_store(home) as store:
        store.add_project(name, options, users)


def add_opt_out(home: ServerHome, patient_id: str) -> None:
    """Put a patient on the opt-out list: jobs with their data end in ERROR."""
    if not patient_id.strip():
        raise AdminError("A patient id cannot be empty")
    with open_store(home) as store:
        store.add_opt_out(patient_id)


def add_pacs(home: ServerHome, node: PacsNode, *, default: bool = False) -> None:
    """Add (or replace) a PACS jobs can retrieve studies from."""
    from anonapi_server.pacs.config import add_node

    with open_store(home) as store:
        add_node(store, node, default=default)


def list_pacs(home: ServerHome) -> list[PacsNode]:
    from anonapi_server.pacs.config import nodes

    with open_store(home) as store:
        return nodes(store)


def remove_pacs(home: ServerHome, name: str) -> None:
    with open_store(home) as store:
        if not store.remove_pacs(name):
            raise AdminError(f"No PACS named {name}; 'anon-server pacs list' shows the known ones")
