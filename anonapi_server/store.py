"""The job store: one SQLAlchemy Core schema for SQLite (one machine) and PostgreSQL (many).

Ownership of a running job is decided here and nowhere else. A worker claims a job with one atomic
UPDATE that picks the next claimable row (`FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite the
statement runs inside `BEGIN IMMEDIATE`), bumps its `attempt` and gives it a lease. Every later
write of that worker is conditioned on the attempt it got, so a worker that stalled past its lease,
or whose job was reset or cancelled meanwhile, finds its writes refused and stops.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    CursorResult,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    false,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from anonapi_core.models import CORE_FIELDS, EXTENDED_FIELDS, JobStatus
from anonapi_server.errors import ServerError

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("token_salt", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False),
    # An admin reads and changes every user's jobs; others only their own.
    Column("is_admin", Boolean, nullable=False, default=False, server_default=false()),
)

projects = Table(
    "projects",
    metadata,
    Column("project_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("secret", LargeBinary, nullable=False),
    Column("options", Text, nullable=False, default=""),
)

user_projects = Table(
    "user_projects",
    metadata,
    Column("user_name", String(200), ForeignKey("users.name"), primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.project_id"), primary_key=True),
)

shares = Table(
    "shares",
    metadata,
    Column("host", String(200), primary_key=True),
    Column("name", String(200), primary_key=True),
    Column("local_path", Text, nullable=False),
)

opt_outs = Table(
    "opt_outs",
    metadata,
    Column("patient_id", String(200), primary_key=True),
)

# PACS the workers retrieve studies from; see anonapi_server.pacs.config for what each column means.
pacs_nodes = Table(
    "pacs_nodes",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("settings", Text, nullable=False),
    Column("is_default", Boolean, nullable=False, default=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("job_id", Integer, primary_key=True, autoincrement=True),
    Column("date", String(19), nullable=False),
    Column("user_name", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("error", Text),
    Column("description", Text),
    Column("project_name", String(200), nullable=False),
    Column("priority", Integer, nullable=False, default=0),
    Column("files_downloaded", Integer),
    Column("files_processed", Integer),
    Column("files_quarantined", Integer),
    Column("files_skipped", Integer),
    Column("destination_type", String(16), nullable=False, default="PATH"),
    Column("destination_path", Text),
    Column("source_type", String(16), nullable=False),
    Column("source_path", Text),
    Column("source_name", String(200)),
    Column("source_instance_id", Text),
    Column("source_anonymizedpatientid", String(200)),
    Column("source_anonymizedpatientname", String(200)),
    Column("source_pims_keyfile_id", String(200)),
    Column("source_sop_class_filter_list", Text),
    Column("source_ignore_opt_out", Boolean, nullable=False, default=False),
    Column("source_ignore_opt_out_reason", Text),
    # Ownership: see the module docstring. The lease columns are written by heartbeats and are
    # deliberately not indexed (an index would be rewritten on every heartbeat).
    Column("attempt", Integer, nullable=False, default=0),
    Column("lease_owner", String(100)),
    Column("lease_expires", Float),
    # `host\share` (lower case) of the source and destination: a host whose config mounts only
    # some shares claims only jobs on those (see `Store.claim_job`).
    Column("source_share", String(400)),
    Column("destination_share", String(400)),
    sqlite_autoincrement=True,
)

# The claim query filters on status and sorts by priority then id: this index serves it in order.
Index("ix_jobs_claim", jobs.c.status, jobs.c.priority.desc(), jobs.c.job_id)

# Files a job's attempt held back (quarantined) and what a person decided about each; see
# anonapi_server.quarantine_store. No source file name or DICOM value: `file_id` is a keyed hash of
# where the file lies in its source, `series`/`instance` where it goes in the output.
held_files = Table(
    "held_files",
    metadata,
    Column("job_id", Integer, primary_key=True),
    Column("file_id", String(32), primary_key=True),
    Column("attempt", Integer, nullable=False),
    Column("series", String(200), nullable=False),
    Column("instance", String(200), nullable=False),
    Column("cause", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("source_size", BigInteger, nullable=False),
    Column("source_sha256", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("held_at", String(19), nullable=False),
    Column("decided_by", String(200)),
    Column("decided_at", String(19)),
)

# Heartbeats (anonapi_server.hosts): one row per running host process (API and/or workers) and
# per worker process, rewritten every beat; status, /ext/hosts and /metrics read them.
hosts = Table(
    "hosts",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("hostname", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("workers", Integer, nullable=False),
    Column("shares", Text, nullable=False),
    Column("started", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
)

workers = Table(
    "workers",
    metadata,
    Column("worker_id", String(100), primary_key=True),
    Column("host_name", String(200), nullable=False),
    Column("last_seen", Float, nullable=False),
    Column("job_id", Integer),
    Column("files_processed", Integer, nullable=False),
    Column("files_per_second", Float, nullable=False),
    Column("claims", Integer, nullable=False),
    Column("claim_seconds", Float, nullable=False),
)

CLAIMABLE = (JobStatus.ACTIVE.value, JobStatus.UPLOADED.value)
ID_CHUNK = 900  # below SQLite's older 999-variable limit

# Extended fields IDIS reports that this server has no use for, kept so replies have IDIS's shape.
_FIXED_EXTENDED = {
    "destination_name": None,
    "destination_network": None,
    "destination_status": "BASE",
    "source_status": "NEW",
}

# The extended fields that are columns here; the others are fixed above or derived in `_extended`.
_EXTENDED_COLUMNS = tuple(name for name in EXTENDED_FIELDS if name in jobs.c)

# Fields only this server reports: they tell a job's owner what happened to files and opt-outs.
_SERVER_COLUMNS = (
    "files_quarantined",
    "files_skipped",
    "source_ignore_opt_out",
    "source_ignore_opt_out_reason",
)


@dataclass(frozen=True)
class Share:
    r"""The UNC root `\\host\name`, served from the folder `local_path` on this machine."""

    host: str
    name: str
    local_path: str


@dataclass(frozen=True)
class Project:
    """A project's own pseudonymisation secret and the de-identification options it enables."""

    project_id: int
    name: str
    secret: bytes
    options: frozenset[str]


@dataclass(frozen=True)
class Claim:
    """A job a worker owns for one attempt."""

    job_id: int
    attempt: int
    row: Mapping[str, Any]


class StoreError(ServerError):
    """A store operation was refused (e.g. a name that already exists)."""


def share_key(path: str | None) -> str | None:
    r"""`host\share` in lower case of a job's source or destination path: what a host mounts.

    None where the path names no share (a WADO source, or a path the API would refuse anyway).
    """
    if not path:
        return None
    from anonapi_server.shares import PathRefused
    from anonapi_server.source_paths import split_source

    try:
        _, unc = split_source(path)
    except PathRefused:
        return None
    return f"{unc.host.lower()}\\{unc.share.lower()}"


def _with_share_keys(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values plus the share columns of whichever paths they set."""
    out = dict(values)
    for path, key in (("source_path", "source_share"), ("destination_path", "destination_share")):
        if path in out:
            out[key] = share_key(out[path])
    return out


def hash_token(salt: str, token: str) -> str:
    """Salted SHA-256: tokens are checked on every request, so a slow KDF would cost every call."""
    return hashlib.sha256(f"{salt}:{token}".encode()).hexdigest()


def _now_text() -> str:
    return datetime.now().strftime("%Y-%m-%dT%H:%M:%S")


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):  # noqa: ANN001 - DBAPI objects
        # Let SQLAlchemy's "begin" event emit BEGIN itself, so writers can ask for IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


# A socket timeout, so that a connection cut without a goodbye (a network failure, a database
# host that vanished) raises instead of blocking a worker for ever; statements here are short.
_PG_CONNECT = {"timeout": 60}


def engine_url(url: str) -> str:
    """The URL with a driver: a plain `postgresql://` means pg8000 (pure Python, BSD licence)."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+pg8000://" + url[len(plain) :]
    return url


class Store:
    """All reads and writes of the server's data. One instance per process."""

    def __init__(
        self, url: str, mounts: Mapping[str, str] | None = None, held_dir: Path | None = None
    ):
        """`mounts`: this host's own local folder per share (name or `\\\\host\\name`), from its
        config; None serves every share at the folder the database names. `held_dir`: the private
        folder of this host's home that keeps held-back PACS files until released or dropped
        (None: they are not kept; see anonapi_server.quarantine)."""
        self.url = engine_url(url)
        self.held_dir = held_dir
        self.mounts = None if mounts is None else {k.lower(): v for k, v in mounts.items()}
        self.is_sqlite = self.url.startswith("sqlite")
        # pre_ping: after a database restart a pooled connection is found dead and replaced
        # before use, so workers carry on instead of failing their next statement.
        self.engine = (
            _sqlite_engine(self.url)
            if self.is_sqlite
            else create_engine(
                self.url,
                pool_pre_ping=True,
                connect_args=_PG_CONNECT if "+pg8000" in self.url else {},
            )
        )
        # Writers take SQLite's write lock up front: a read lock upgraded later can deadlock.
        self._write_engine = self.engine.execution_options(sqlite_immediate=True)

    def create_schema(self) -> None:
        """Create or migrate the tables (see `anonapi_server.migrate`); SchemaError if newer."""
        from anonapi_server.migrate import upgrade

        upgrade(self._write_engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._write_engine.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    # ---- users, projects, shares, opt-outs -------------------------------------------------

    def set_user(
        self,
        name: str,
        token: str,
        project_names: Iterable[str] | None,
        *,
        is_admin: bool = False,
    ) -> None:
        """Create the user or replace its token and role; connect it to the given projects
        (None: all)."""
        salt = secrets.token_hex(16)
        with self._write() as conn:
            known = {r.name: r.project_id for r in conn.execute(select(projects))}
            wanted = list(known) if project_names is None else list(project_names)
            unknown = [p for p in wanted if p not in known]
            if unknown:
                raise StoreError(f"Unknown project(s): {', '.join(unknown)}")
            conn.execute(delete(user_projects).where(user_projects.c.user_name == name))
            conn.execute(delete(users).where(users.c.name == name))
            conn.execute(
                insert(users).values(
                    name=name,
                    token_salt=salt,
                    token_hash=hash_token(salt, token),
                    is_admin=is_admin,
                )
            )
            for project in wanted:
                conn.execute(
                    insert(user_projects).values(user_name=name, project_id=known[project])
                )

    def check_token(self, name: str, token: str) -> bool:
        with self._read() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
        if row is None:
            return False
        return hmac.compare_digest(row.token_hash, hash_token(row.token_salt, token))

    def token_users(self, token: str) -> dict[str, bool]:
        """The users whose token this is, each with whether it is an admin.

        Checked before a request's body is read, when the user name (sent in the body by the
        original client) is not known yet: a hospital has tens of users, so hashing the token
        once per user costs microseconds.
        """
        with self._read() as conn:
            rows = conn.execute(select(users)).all()
        return {
            r.name: bool(r.is_admin)
            for r in rows
            if hmac.compare_digest(r.token_hash, hash_token(r.token_salt, token))
        }

    def user_names(self) -> list[str]:
        with self._read() as conn:
            return list(conn.execute(select(users.c.name).order_by(users.c.name)).scalars())

    def add_project(
        self, name: str, options: Iterable[str] = (), user_names: Iterable[str] = ()
    ) -> None:
        with self._write() as conn:
            try:
                result = conn.execute(
                    insert(projects).values(
                        name=name, secret=secrets.token_bytes(32), options=",".join(sorted(options))
                    )
                )
            except IntegrityError as e:
                raise StoreError(f"Project {name!r} already exists") from e
            project_id = _inserted_id(result)
            for user_name in user_names:
                if conn.execute(select(users.c.name).where(users.c.name == user_name)).first():
                    conn.execute(
                        insert(user_projects).values(user_name=user_name, project_id=project_id)
                    )
                else:
                    raise StoreError(f"Unknown user {user_name!r}")

    def project(self, name: str) -> Project | None:
        with self._read() as conn:
            row = conn.execute(select(projects).where(projects.c.name == name)).first()
        if row is None:
            return None
        options = frozenset(o for o in row.options.split(",") if o)
        return Project(row.project_id, row.name, row.secret, options)

    def project_names(self) -> list[str]:
        with self._read() as conn:
            return list(conn.execute(select(projects.c.name).order_by(projects.c.name)).scalars())

    def user_in_project(self, user_name: str, project_name: str) -> bool:
        query = (
            select(user_projects.c.user_name)
            .join(projects, projects.c.project_id == user_projects.c.project_id)
            .where(user_projects.c.user_name == user_name, projects.c.name == project_name)
        )
        with self._read() as conn:
            return conn.execute(query).first() is not None

    def set_share(self, host: str, name: str, local_path: str) -> None:
        host, name = host.lower(), name.lower()
        with self._write() as conn:
            conn.execute(delete(shares).where(shares.c.host == host, shares.c.name == name))
            conn.execute(insert(shares).values(host=host, name=name, local_path=local_path))

    def shares(self) -> list[Share]:
        """Every share the database names, at the folder it names (the API checks paths here)."""
        with self._read() as conn:
            return [Share(r.host, r.name, r.local_path) for r in conn.execute(select(shares))]

    def mounted_shares(self) -> list[Share]:
        """The shares this host reaches, at its own local folder: what its workers read and write.

        Without `mounts` every share at the database's folder; with them only the shares they
        name, looked up by `\\\\host\\name` first and then by the share's name alone.
        """
        found = self.shares()
        if self.mounts is None:
            return found
        mounted = []
        for share in found:
            local = self.mounts.get(f"\\\\{share.host}\\{share.name}") or self.mounts.get(
                share.name
            )
            if local:
                mounted.append(Share(share.host, share.name, local))
        return mounted

    def add_opt_out(self, patient_id: str) -> None:
        with self._write() as conn:
            exists = conn.execute(
                select(opt_outs.c.patient_id).where(opt_outs.c.patient_id == patient_id)
            ).first()
            if not exists:
                conn.execute(insert(opt_outs).values(patient_id=patient_id))

    def opted_out(self, patient_ids: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(patient_ids))
        found: set[str] = set()
        with self._read() as conn:
            for chunk in _chunks(wanted, ID_CHUNK):
                query = select(opt_outs.c.patient_id).where(opt_outs.c.patient_id.in_(chunk))
                found.update(conn.execute(query).scalars())
        return found

    def set_pacs(self, name: str, settings: str, *, default: bool) -> None:
        """Add or replace a PACS (settings: its JSON); `default` makes it the only default one.

        The first PACS added is the default whatever `default` says, so IDC_WADO always resolves
        once any PACS exists; replacing the default PACS keeps it the default.
        """
        with self._write() as conn:
            replaced = conn.execute(
                delete(pacs_nodes).where(pacs_nodes.c.name == name, pacs_nodes.c.is_default)
            ).rowcount
            conn.execute(delete(pacs_nodes).where(pacs_nodes.c.name == name))
            others = conn.execute(select(func.count()).select_from(pacs_nodes)).scalar_one()
            default = default or bool(replaced) or not others
            if default:
                conn.execute(update(pacs_nodes).values(is_default=False))
            conn.execute(
                insert(pacs_nodes).values(name=name, settings=settings, is_default=default)
            )

    def pacs_rows(self) -> list[tuple[str, str, bool]]:
        """Every PACS as (name, settings JSON, is default), by name."""
        query = select(pacs_nodes).order_by(pacs_nodes.c.name)
        with self._read() as conn:
            return [(r.name, r.settings, r.is_default) for r in conn.execute(query)]

    def remove_pacs(self, name: str) -> bool:
        """Remove a PACS; False when there is none of that name."""
        with self._write() as conn:
            return conn.execute(delete(pacs_nodes).where(pacs_nodes.c.name == name)).rowcount > 0

    # ---- jobs as the API sees them --------------------------------------------------------

    def create_job(self, values: Mapping[str, Any]) -> dict[str, Any]:
        row = {
            "date": _now_text(),
            "status": JobStatus.ACTIVE.value,
            "priority": 0,
            "destination_type": "PATH",
            "attempt": 0,
            **_with_share_keys(values),
        }
        with self._write() as conn:
            job_id = _inserted_id(conn.execute(insert(jobs).values(**row)))
            return self._extended(conn, [job_id])[0]

    def latest_jobs(
        self, limit: int = 100, *, user_name: str | None = None
    ) -> list[dict[str, Any]]:
        """The newest jobs; only `user_name`'s when given."""
        query = select(*_core_columns()).order_by(jobs.c.job_id.desc()).limit(limit)
        if user_name is not None:
            query = query.where(jobs.c.user_name == user_name)
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def jobs_by_id(
        self, job_ids: Sequence[int], *, extended: bool, user_name: str | None = None
    ) -> list[dict[str, Any]]:
        """Jobs in the order asked for; unknown ids (and, with `user_name`, other users' jobs)
        are left out. One query per chunk of ids."""
        wanted = list(dict.fromkeys(job_ids))
        with self._read() as conn:
            if extended:
                rows = self._extended(conn, wanted, user_name)
            else:
                rows = []
                for chunk in _chunks(wanted, ID_CHUNK):
                    query = select(*_core_columns()).where(jobs.c.job_id.in_(chunk))
                    if user_name is not None:
                        query = query.where(jobs.c.user_name == user_name)
                    rows.extend(dict(r._mapping) for r in conn.execute(query))
        by_id = {r["job_id"]: r for r in rows}
        return [by_id[i] for i in wanted if i in by_id]

    def job(self, job_id: int, *, user_name: str | None = None) -> dict[str, Any] | None:
        found = self.jobs_by_id([job_id], extended=True, user_name=user_name)
        return found[0] if found else None

    def job_ownership(self, job_id: int) -> tuple[str, str] | None:
        """Who created the job and its project (None: no such job)."""
        with self._read() as conn:
            query = select(jobs.c.user_name, jobs.c.project_name).where(jobs.c.job_id == job_id)
            row = conn.execute(query).first()
        return None if row is None else (row.user_name, row.project_name)

    def _extended(
        self, conn: Connection, job_ids: Sequence[int], user_name: str | None = None
    ) -> list[dict[str, Any]]:
        columns = [
            *_core_columns(),
            *(jobs.c[name] for name in (*_EXTENDED_COLUMNS, *_SERVER_COLUMNS)),
            projects.c.project_id,
        ]
        base = select(*columns).select_from(
            jobs.outerjoin(projects, projects.c.name == jobs.c.project_name)
        )
        if user_name is not None:
            base = base.where(jobs.c.user_name == user_name)
        out = []
        for chunk in _chunks(list(job_ids), ID_CHUNK):
            for r in conn.execute(base.where(jobs.c.job_id.in_(chunk))):
                data = dict(r._mapping)
                project_id = data.pop("project_id")
                data.update(
                    _FIXED_EXTENDED,
                    destination_id=data["job_id"],
                    source_id=data["job_id"],
                    source_protocol=project_id,
                    source_subject=project_id,
                )
                out.append(data)
        return out

    def modify_job(self, job_id: int, changes: Mapping[str, Any], *, restart: bool) -> bool:
        """Apply field changes. `restart` starts a new attempt: the running one loses its claim.

        Returns False when the job does not exist.
        """
        values = _with_share_keys(changes)
        if restart:
            values.update(attempt=jobs.c.attempt + 1, lease_owner=None, lease_expires=None)
        with self._write() as conn:
            result = conn.execute(update(jobs).where(jobs.c.job_id == job_id).values(**values))
            return result.rowcount > 0

    # ---- jobs as the workers see them ----------------------------------------------------

    def claim_job(self, worker_id: str, lease_seconds: float) -> Claim | None:
        """Take the next claimable job for a new attempt, or None when there is nothing to do.

        Claimable: ACTIVE or UPLOADED and not leased (never claimed, released, or lease expired,
        i.e. its worker died). One UPDATE with a sub-select, so two workers never get the same job.
        """
        now = time.time()
        conditions = _waiting(now)
        if self.mounts is not None:
            # A job on a share this host does not mount is left for a host that does.
            keys = [f"{s.host}\\{s.name}" for s in self.mounted_shares()]
            for column in (jobs.c.source_share, jobs.c.destination_share):
                conditions.append(or_(column.is_(None), column.in_(keys)))
        candidate = (
            select(jobs.c.job_id)
            .where(*conditions)
            .order_by(jobs.c.priority.desc(), jobs.c.job_id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        statement = (
            update(jobs)
            .where(jobs.c.job_id == candidate)
            .values(
                attempt=jobs.c.attempt + 1,
                lease_owner=worker_id,
                lease_expires=now + lease_seconds,
                status=JobStatus.ACTIVE.value,
                error=None,
                files_downloaded=0,
                files_processed=0,
                files_quarantined=0,
                files_skipped=0,
            )
            .returning(*jobs.c)
        )
        with self._write() as conn:
            row = conn.execute(statement).first()
        if row is None:
            return None
        data = dict(row._mapping)
        return Claim(job_id=data["job_id"], attempt=data["attempt"], row=data)

    def update_claimed(self, claim: Claim, **values: Any) -> bool:
        """Write progress of a claimed job; False when the attempt is no longer ours."""
        statement = (
            update(jobs)
            .where(jobs.c.job_id == claim.job_id, jobs.c.attempt == claim.attempt)
            .values(**values)
        )
        with self._write() as conn:
            return conn.execute(statement).rowcount > 0

    def renew_lease(self, claim: Claim, lease_seconds: float) -> bool:
        return self.update_claimed(claim, lease_expires=time.time() + lease_seconds)

    def finish(self, claim: Claim, status: JobStatus, error: str | None = None) -> bool:
        """End the attempt (DONE or ERROR) and release the lease."""
        return self.update_claimed(
            claim, status=status.value, error=error, lease_owner=None, lease_expires=None
        )

    def job_statuses(self, job_ids: Sequence[int]) -> dict[int, str]:
        rows = self.jobs_by_id(job_ids, extended=False)
        return {r["job_id"]: r["status"] for r in rows}

    # ---- heartbeats of hosts and workers (see anonapi_server.hosts) ------------------------

    def beat_host(self, values: Mapping[str, Any]) -> None:
        self._upsert(hosts, hosts.c.name, values)

    def beat_worker(self, values: Mapping[str, Any]) -> None:
        self._upsert(workers, workers.c.worker_id, values)

    def _upsert(self, table: Table, key: Column, values: Mapping[str, Any]) -> None:
        """Update the row, insert it if missing: each row has one writer, so no race to insert."""
        with self._write() as conn:
            where = key == values[key.name]
            if conn.execute(update(table).where(where).values(**values)).rowcount == 0:
                conn.execute(insert(table).values(**values))

    def drop_host(self, name: str) -> None:
        """A host stopping cleanly removes itself and its workers from the status."""
        with self._write() as conn:
            conn.execute(delete(workers).where(workers.c.host_name == name))
            conn.execute(delete(hosts).where(hosts.c.name == name))

    def forget_silent(self, before: float) -> None:
        """Remove heartbeats older than `before` (hosts that died long ago)."""
        with self._write() as conn:
            conn.execute(delete(workers).where(workers.c.last_seen < before))
            conn.execute(delete(hosts).where(hosts.c.last_seen < before))

    def heartbeats(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Every host's and every worker's last heartbeat row."""
        with self._read() as conn:
            host_rows = [
                dict(r._mapping) for r in conn.execute(select(hosts).order_by(hosts.c.name))
            ]
            worker_rows = [
                dict(r._mapping)
                for r in conn.execute(select(workers).order_by(workers.c.worker_id))
            ]
        return host_rows, worker_rows

    def leases(self, now: float) -> list[dict[str, Any]]:
        """Jobs owned by a worker now: id, owner (worker id), lease end, and whose job it is."""
        query = (
            select(jobs.c.job_id, jobs.c.lease_owner, jobs.c.lease_expires, jobs.c.user_name)
            .where(jobs.c.lease_expires >= now)
            .order_by(jobs.c.job_id)
        )
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def queue_depth(self, now: float) -> int:
        """Jobs waiting for a worker: claimable and not leased."""
        query = select(func.count()).select_from(jobs).where(*_waiting(now))
        with self._read() as conn:
            return conn.execute(query).scalar_one()

    def jobs_by_status(self) -> dict[str, int]:
        query = select(jobs.c.status, func.count()).group_by(jobs.c.status)
        with self._read() as conn:
            return {status: count for status, count in conn.execute(query)}

    def destinations(self) -> list[str]:
        """Every destination folder jobs write to (start-up looks there for leftovers)."""
        query = select(jobs.c.destination_path).where(jobs.c.destination_path.is_not(None))
        with self._read() as conn:
            return list(conn.execute(query.distinct()).scalars())

    def live_attempts(self) -> set[tuple[int, int]]:
        """(job_id, attempt) of every attempt a worker holds a valid lease on now."""
        query = select(jobs.c.job_id, jobs.c.attempt).where(jobs.c.lease_expires > time.time())
        with self._read() as conn:
            return {(r.job_id, r.attempt) for r in conn.execute(query)}

    def count_jobs(self) -> int:
        """How many jobs exist (tests check that nothing was created twice)."""
        with self._read() as conn:
            return conn.execute(select(func.count()).select_from(jobs)).scalar_one()


def _waiting(now: float) -> list[Any]:
    """Conditions of a job waiting for a worker: claimable status and no live lease."""
    return [
        jobs.c.status.in_(CLAIMABLE),
        or_(jobs.c.lease_expires.is_(None), jobs.c.lease_expires < now),
    ]


def _core_columns() -> list[Column]:
    return [jobs.c[name] for name in CORE_FIELDS]


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the one row an INSERT just added (SQLAlchemy types it optional)."""
    key = result.inserted_primary_key
    if key is None:
        raise StoreError("the database returned no key for a new row")
    return int(key[0])
