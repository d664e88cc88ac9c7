"""Layout of a server home: where the config, the database and the default share live.

A home is a plain folder so that a newcomer can look inside it, back it up, or delete it. Everything
that may change while the server runs (users, shares, projects, the opt-out list) lives in the
database, never in the config file, so the admin commands take effect without a restart.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from anonapi_server.errors import ServerError

HOME_ENV = "ANON_SERVER_HOME"
CONFIG_NAME = "anon-server.yml"
DATABASE_NAME = "anon-server.db"
DEFAULT_SHARE = "data"
DEFAULT_HOST = "localhost"
DEFAULT_PROJECT = "Wetenschap-Algemeen"
DEFAULT_LEASE_SECONDS = 30.0
PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600


class ConfigError(ServerError):
    """The server home is missing or its config file cannot be used."""


@dataclass(frozen=True)
class ServerConfig:
    """Settings read once at start-up.

    `lease_seconds` is how long a claimed job stays owned without a heartbeat; it bounds how long a
    job of a killed worker waits before it runs again.
    """

    database_url: str
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    # This host's own mount of each share (`shares: {data: /mnt/data}`): the database names the
    # shares, but every machine mounts them at its own place. None: the folders the database names.
    shares: dict[str, str] | None = None
    # The home's private folder for held-back PACS files (see anonapi_server.quarantine).
    held_dir: Path | None = None

    @property
    def shown_database(self) -> str:
        """The database URL without its password, for output and logs."""
        from sqlalchemy.engine import make_url

        return make_url(self.database_url).render_as_string(hide_password=True)


@dataclass(frozen=True)
class ServerHome:
    """A server home folder and the paths derived from it."""

    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def shares_dir(self) -> Path:
        return self.root / "shares"

    @property
    def default_share_root(self) -> Path:
        return self.shares_dir / DEFAULT_SHARE

    @property
    def held_dir(self) -> Path:
        """Held-back PACS files wait here for a decision: private like the home itself."""
        return self.root / "held"

    def exists(self) -> bool:
        return self.config_path.is_file()

    def load_config(self) -> ServerConfig:
        """Read the config; a relative SQLite file name is taken relative to the home."""
        if not self.exists():
            raise ConfigError(
                f"{self.root} is not a server home (no {CONFIG_NAME}); "
                f"create one with 'anon-server init {self.root}'"
            )
        try:
            data = yaml.safe_load(self.config_path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"Cannot read {self.config_path}: {e}") from e
        if not isinstance(data, dict):
            raise ConfigError(f"{self.config_path} does not hold a mapping of settings")
        database = str(data.get("database") or DATABASE_NAME)
        url = database if "://" in database else f"sqlite:///{(self.root / database).as_posix()}"
        try:
            lease = float(data.get("lease_seconds", DEFAULT_LEASE_SECONDS))
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{self.config_path}: lease_seconds must be a number") from e
        return ServerConfig(
            database_url=url,
            lease_seconds=lease,
            shares=self._shares(data),
            held_dir=self.held_dir,
        )

    def _shares(self, data: dict) -> dict[str, str] | None:
        shares = data.get("shares")
        if shares is None:
            return None
        if not isinstance(shares, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in shares.items()
        ):
            raise ConfigError(
                f"{self.config_path}: shares must map share names to local folders, "
                "e.g. shares: {data: /mnt/data}"
            )
        return dict(shares)

    def write_config(self, *, database: str = DATABASE_NAME, lease_seconds: float) -> None:
        """Write the config atomically (temp file + rename), readable by its owner only."""
        text = yaml.safe_dump({"database": database, "lease_seconds": lease_seconds})
        tmp = self.config_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, self.config_path)
        os.chmod(self.config_path, PRIVATE_FILE)

    def database_file(self, config: ServerConfig) -> Path | None:
        """The SQLite database file of this home, None for a database server."""
        prefix = "sqlite:///"
        if not config.database_url.startswith(prefix):
            return None
        return Path(config.database_url[len(prefix) :])

    def make_private(self, config: ServerConfig) -> None:
        """Home 0700, config and SQLite database 0600 (and its journal files).

        The database holds every project's pseudonymisation secret: whoever reads it can
        re-identify pseudonyms. Done at creation and again at every start, as a copied or
        restored home may come back with the modes of the copy. No-op on Windows, where a
        folder in the user's profile is private through its inherited ACL.
        """
        if os.name == "nt":
            return
        os.chmod(self.root, PRIVATE_FOLDER)
        database = self.database_file(config)
        for path in (self.config_path, database, *_journals(database)):
            if path is not None and path.exists():
                os.chmod(path, PRIVATE_FILE)

    def create_database_file(self, config: ServerConfig) -> None:
        """Create an empty SQLite file as 0600 before SQLite would create it by the umask."""
        database = self.database_file(config)
        if database is not None and not database.exists():
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))


def _journals(database: Path | None) -> tuple[Path, ...]:
    if database is None:
        return ()
    return tuple(database.with_name(database.name + s) for s in ("-wal", "-shm", "-journal"))


def resolve_home(home: Path | str | None) -> ServerHome:
    """The home given, else $ANON_SERVER_HOME; a clear error when neither is set."""
    chosen = home or os.environ.get(HOME_ENV)
    if not chosen:
        raise ConfigError(f"No server home given: pass --home HOME or set {HOME_ENV}")
    return ServerHome(Path(chosen).expanduser().absolute())
