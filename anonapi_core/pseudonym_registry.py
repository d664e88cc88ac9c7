"""Every pseudonym the user gave, across batches and years: a private SQLite file of their own.

A study given a second pseudonym, or a pseudonym given to a second study, splits or merges
patients in a researcher's data without anyone noticing. The registry remembers what was given so
that the next mapping can be checked against all earlier ones. It never holds a source identity
(accession number, UID, path): only a keyed hash of it (HMAC-SHA256 with a per-user secret kept in
a 0600 file beside the database), so the file alone does not tell which study got which pseudonym,
and equal sources still hash equal. The database is 0600 too and carries a schema version, so a
newer program reads (and if needed migrates) what an older one wrote.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import platformdirs

from anonapi_core.atomic import atomic_write_bytes
from anonapi_core.exceptions import PersistenceError

DATA_DIR_ENV_VAR = "ANONAPI_DATA_DIR"
DATABASE_NAME = "pseudonyms.sqlite"
KEY_NAME = "pseudonyms.key"
SCHEMA_VERSION = 1
_PRIVATE = 0o600

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
    """CREATE TABLE IF NOT EXISTS pseudonyms (
        source_hash TEXT NOT NULL,
        pseudonym TEXT NOT NULL,
        pseudo_name TEXT NOT NULL DEFAULT '',
        batch TEXT NOT NULL,
        recorded TEXT NOT NULL,
        PRIMARY KEY (source_hash, pseudonym, batch)
    )""",
    "CREATE INDEX IF NOT EXISTS ix_pseudonyms_pseudonym ON pseudonyms (pseudonym)",
)


def data_dir() -> Path:
    """`$ANONAPI_DATA_DIR`, else the platform's user data folder for anonapi."""
    override = os.environ.get(DATA_DIR_ENV_VAR)
    if override:
        return Path(override)
    return platformdirs.user_data_path("anonapi", appauthor=False)


@dataclass(frozen=True)
class Given:
    """One pseudonym given to one (hashed) source in one batch on one day."""

    source_hash: str
    pseudonym: str
    pseudo_name: str
    batch: str
    recorded: date


@dataclass(frozen=True)
class Conflict:
    """An earlier entry that disagrees with a new (source, pseudonym) pair, and how."""

    kind: str  # "second_pseudonym": the source had another; "reused": the pseudonym had another
    earlier: Given

    def describe(self) -> str:
        when = f"{self.earlier.recorded:%Y-%m-%d} in batch {self.earlier.batch}"
        if self.kind == "second_pseudonym":
            return f"this source was given pseudonym '{self.earlier.pseudonym}' before ({when})"
        return f"pseudonym '{self.earlier.pseudonym}' was given to another source before ({when})"


class PseudonymRegistry:
    """The registry file of one user; open with `open_registry()`."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / DATABASE_NAME
        self._key = _load_or_create_key(self.folder / KEY_NAME)
        self._create()

    def source_hash(self, identity: str) -> str:
        """The keyed hash that stands in for a source identity (never stored in clear)."""
        return hmac.new(self._key, identity.encode("utf-8"), hashlib.sha256).hexdigest()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            with closing(sqlite3.connect(self.path, timeout=10)) as conn, conn:
                yield conn
        except sqlite3.DatabaseError as e:
            raise PersistenceError(f"Cannot use the pseudonym registry {self.path}: {e}") from e

    def _create(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            # Created empty with its final mode before SQLite writes anything into it.
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE)
            os.close(fd)
        _make_private(self.path)
        with self._connect() as conn:
            for statement in _SCHEMA:
                conn.execute(statement)
            found = conn.execute("SELECT version FROM schema_version").fetchone()
            if found is None:
                conn.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
            elif found[0] > SCHEMA_VERSION:
                raise PersistenceError(
                    f"The pseudonym registry {self.path} was written by a newer anonapi "
                    f"(schema {found[0]}, this one knows {SCHEMA_VERSION}); upgrade anonapi"
                )

    @property
    def schema_version(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("SELECT version FROM schema_version").fetchone()[0])

    def record(
        self, entries: Iterable[tuple[str, str, str]], batch: str, today: date | None = None
    ) -> int:
        """Record (source identity, pseudonym, pseudo_name) triples given in `batch`.

        Returns how many were new; recording the same batch again changes nothing.
        """
        day = (today or date.today()).isoformat()
        rows = [
            (self.source_hash(identity), pseudonym, name, batch, day)
            for identity, pseudonym, name in entries
        ]
        with self._connect() as conn:
            before = conn.total_changes
            conn.executemany("INSERT OR IGNORE INTO pseudonyms VALUES (?, ?, ?, ?, ?)", rows)
            return conn.total_changes - before

    def conflicts(
        self, identity: str, pseudonym: str, *, batch: str | None = None
    ) -> list[Conflict]:
        """Earlier entries (of other batches than `batch`) that disagree with this pair."""
        digest = self.source_hash(identity)
        query = (
            "SELECT source_hash, pseudonym, pseudo_name, batch, recorded FROM pseudonyms "
            "WHERE ((source_hash = ? AND pseudonym != ?) OR (pseudonym = ? AND source_hash != ?))"
            " AND batch != ? ORDER BY recorded, batch"
        )
        with self._connect() as conn:
            rows = conn.execute(
                query, (digest, pseudonym, pseudonym, digest, batch or "")
            ).fetchall()
        found = []
        for row in rows:
            given = _given(row)
            kind = "second_pseudonym" if given.source_hash == digest else "reused"
            found.append(Conflict(kind, given))
        return found

    def entries(self, pseudonym: str | None = None) -> list[Given]:
        """Everything recorded (or only one pseudonym's entries), oldest first."""
        query = "SELECT source_hash, pseudonym, pseudo_name, batch, recorded FROM pseudonyms"
        params: tuple[str, ...] = ()
        if pseudonym is not None:
            query += " WHERE pseudonym = ?"
            params = (pseudonym,)
        with self._connect() as conn:
            rows = conn.execute(query + " ORDER BY recorded, batch, pseudonym", params).fetchall()
        return [_given(row) for row in rows]

    def forget(self, *, pseudonym: str | None = None, batch: str | None = None) -> int:
        """Delete the entries of a pseudonym and/or a batch; returns how many went."""
        if pseudonym is None and batch is None:
            raise ValueError("forget needs a pseudonym or a batch")
        clauses, params = [], []
        if pseudonym is not None:
            clauses.append("pseudonym = ?")
            params.append(pseudonym)
        if batch is not None:
            clauses.append("batch = ?")
            params.append(batch)
        with self._connect() as conn:
            cursor = conn.execute(f"DELETE FROM pseudonyms WHERE {' AND '.join(clauses)}", params)
            return cursor.rowcount


def _given(row: tuple) -> Given:
    return Given(row[0], row[1], row[2], row[3], date.fromisoformat(row[4]))


def _make_private(path: Path) -> None:
    """0600, also for a file an older version or a copy left readable by others."""
    if os.name != "nt":
        os.chmod(path, _PRIVATE)


def _load_or_create_key(path: Path) -> bytes:
    """The user's secret for source hashes; created once, 0600, never rewritten.

    Losing it only means that earlier entries no longer match new ones; the registry then warns
    less, it never leaks more.
    """
    try:
        data = path.read_bytes().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32).encode("ascii")
        atomic_write_bytes(path, key + b"\n", mode=_PRIVATE)
        return bytes.fromhex(key.decode())
    except OSError as e:
        raise PersistenceError(
            f"Cannot read the pseudonym registry key {path}: {e.strerror}"
        ) from e
    _make_private(path)
    try:
        return bytes.fromhex(data.decode("ascii"))
    except ValueError:
        raise PersistenceError(
            f"The pseudonym registry key {path} is damaged; move it away to start a new one "
            "(earlier entries will no longer be recognised)"
        ) from None


def open_registry(folder: Path | None = None) -> PseudonymRegistry:
    """The user's registry (created on first use) in `folder` or the user data folder."""
    folder = folder or data_dir()
    try:
        return PseudonymRegistry(folder)
    except OSError as e:
        raise PersistenceError(
            f"Cannot open the pseudonym registry in {folder}: {e.strerror or e}"
        ) from e
