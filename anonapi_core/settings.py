"""The user's settings: servers, credentials, job defaults, dashboard keys.

Stored as YAML in the platform's config folder (or wherever `ANONAPI_SETTINGS` points), in the
original's key layout so a user can go back to the original `anon` with the same file. A user
of the original has `~/AnonWebAPIClientSettings.yml`; on first use it is read in whichever of
its historic layouts it has and copied to the new place, and the old file is left alone.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from anonapi_core.exceptions import AnonClientSettingsError, PersistenceError
from anonapi_core.server_address import Server
from anonapi_core.yaml_files import read_yaml, write_yaml

SETTINGS_ENV_VAR = "ANONAPI_SETTINGS"
LEGACY_SETTINGS_NAME = "AnonWebAPIClientSettings.yml"

# Values the original wrote into every fresh settings file. Carried over they would send
# output into the source share (`destination_path,.`) and create jobs for project NOT_SET
# (reference §8.3 #5), so migration drops them and job creation asks instead.
_PLACEHOLDER_DEFAULTS = {
    ("project", "NOT_SET"),
    ("destination_path", ""),
    ("destination_path", "."),
}
# Pre-1.4 files kept defaults as a mapping, under either key, with `project_name` for project.
_LEGACY_DEFAULT_KEYS = ("job_default_parameters", "create_job_defaults")
_LEGACY_FIELD_NAMES = {"project_name": "project"}
_SETTINGS_FILE_MODE = 0o600  # it holds the API token
DEFAULT_STALL_MINUTES = 10.0


@dataclass
class Settings:
    """Settings as the CLI and dashboard use them; `path` is where they were loaded from."""

    servers: dict[str, str] = field(default_factory=dict)
    active_server_name: str | None = None
    user_name: str = ""
    user_token: str = field(default="", repr=False)
    validate_ssl: bool = True
    job_default_parameters: list[tuple[str, str]] = field(default_factory=list)
    active_mapping_file: Path | None = None
    keymap: dict[str, str] = field(default_factory=dict)
    timeout: float = 10.0
    stall_minutes: float = DEFAULT_STALL_MINUTES
    """An ACTIVE job without progress for this long is marked stalled (dashboard, watch)."""
    path: Path | None = field(default=None, compare=False)

    def server_list(self) -> list[Server]:
        return [Server(name=name, url=url) for name, url in self.servers.items()]

    def get_server(self, name: str) -> Server:
        """The server called `name`; AnonClientSettingsError listing the known ones if none."""
        if name not in self.servers:
            raise AnonClientSettingsError(f"Unknown server '{name}'. {self._known_servers()}")
        return Server(name=name, url=self.servers[name])

    def active_server(self) -> Server:
        """The server commands talk to; a clear error when none is active."""
        if self.active_server_name is None:
            raise AnonClientSettingsError(
                f"No active server. {self._known_servers()} "
                "Activate one with 'anon server activate NAME'."
            )
        return self.get_server(self.active_server_name)

    def add_server(self, name: str, url: str, *, replace: bool = False) -> Server:
        """Add a server (URL without trailing `/`). An existing name is only replaced when
        asked to: silently changing where jobs go was a bug of the original (§8.3 #14)."""
        name = name.strip()
        if not name:
            raise AnonClientSettingsError("A server name cannot be empty")
        url = normalise_url(url)
        problem = url_problem(url)
        if problem:
            raise AnonClientSettingsError(f"Server URL '{url}' {problem}")
        if name in self.servers and not replace and self.servers[name] != url:
            raise AnonClientSettingsError(
                f"A server called '{name}' already exists ({self.servers[name]}). "
                "Remove it first or replace it explicitly."
            )
        self.servers[name] = url
        return Server(name=name, url=url)

    def remove_server(self, name: str) -> None:
        """Forget a server; if it was the active one, no server is active afterwards."""
        self.get_server(name)
        del self.servers[name]
        if self.active_server_name == name:
            self.active_server_name = None

    def activate_server(self, name: str) -> Server:
        server = self.get_server(name)
        self.active_server_name = name
        return server

    def _known_servers(self) -> str:
        if not self.servers:
            return "No servers are configured; add one with 'anon server add NAME URL'."
        return f"Known servers: {', '.join(sorted(self.servers))}."

    def to_dict(self) -> dict[str, Any]:
        """The file's content: the original's keys (it ignores the others: `keymap` ...)."""
        return {
            "servers": dict(self.servers),
            "active_server_name": self.active_server_name,
            "user_name": self.user_name,
            "user_token": self.user_token,
            "validate_ssl": self.validate_ssl,
            "job_default_parameters": [f"{k},{v}" for k, v in self.job_default_parameters],
            "active_mapping_file": (
                None if self.active_mapping_file is None else str(self.active_mapping_file)
            ),
            "keymap": dict(self.keymap),
            "timeout": self.timeout,
            "stall_minutes": self.stall_minutes,
        }


def normalise_url(url: str) -> str:
    """`https://host/p01/` and `https://host/p01` are one server; the client appends `/fn`."""
    return url.strip().rstrip("/")


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a server address (e.g. `http://[::1` or `https://`), or None."""
    if not url.lower().startswith(("http://", "https://")):
        return "must start with http:// or https://"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError as e:
        return f"is not a valid URL ({e})"
    if not parts.hostname:
        return "has no host name"
    if any(c.isspace() or ord(c) < 32 for c in url):
        return "contains spaces or control characters"
    return None


MAX_TIMEOUT_S = 3600.0


def settings_path() -> Path:
    """Where settings live: `$ANONAPI_SETTINGS`, else the platform's user config folder."""
    override = os.environ.get(SETTINGS_ENV_VAR)
    if override:
        return Path(override).expanduser()
    import platformdirs  # only without $ANONAPI_SETTINGS: a few ms of every command's start-up

    return platformdirs.user_config_path("anonapi", appauthor=False) / "settings.yml"


def legacy_settings_path() -> Path:
    """The original's settings file, read once to migrate a user of the original."""
    return Path.home() / LEGACY_SETTINGS_NAME


def load_settings(path: Path | None = None) -> Settings:
    """Load settings from `path` (default: `settings_path()`).

    A missing file gives safe defaults, written out so the user has a file to edit; with the
    default location and no file yet, a legacy `~/AnonWebAPIClientSettings.yml` is migrated.
    Raises AnonClientSettingsError naming the file and the problem; a file that does not
    load is never written to.
    """
    if path is None:
        path = settings_path()
        legacy = legacy_settings_path()
        if not path.exists() and SETTINGS_ENV_VAR not in os.environ and legacy.is_file():
            return _migrate(legacy, path)
    if path.exists():
        settings = settings_from_dict(read_yaml(path, AnonClientSettingsError), source=path)
        settings.path = path
        return settings
    settings = Settings(path=path)
    _save_if_possible(settings, path)
    return settings


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write settings atomically (owner-only: the file holds the token); returns the path.

    A file at the target that does not load is refused rather than overwritten."""
    target = path or settings.path or settings_path()
    if target.exists():
        try:
            settings_from_dict(read_yaml(target, AnonClientSettingsError), source=target)
        except AnonClientSettingsError as e:
            # edited by hand since we read it: the user's edit wins over our copy
            raise AnonClientSettingsError(f"{e} (not overwriting it; fix or remove it)") from None
    try:
        write_yaml(target, settings.to_dict(), mode=_SETTINGS_FILE_MODE)
    except PersistenceError as e:
        raise AnonClientSettingsError(str(e)) from None
    settings.path = target
    return target


def _migrate(legacy: Path, target: Path) -> Settings:
    settings = settings_from_dict(read_yaml(legacy, AnonClientSettingsError), source=legacy)
    settings.job_default_parameters = [
        p for p in settings.job_default_parameters if p not in _PLACEHOLDER_DEFAULTS
    ]
    settings.path = target
    _save_if_possible(settings, target)
    return settings


def _save_if_possible(settings: Settings, path: Path) -> None:
    """Writing the first file is a convenience; a read-only home must not stop a command."""
    with contextlib.suppress(AnonClientSettingsError):
        save_settings(settings, path)


def settings_from_dict(data: Any, *, source: Path) -> Settings:
    """Build Settings from a parsed file in any historic layout; missing keys get defaults.

    Raises AnonClientSettingsError `<file>: <problem>` for a wrong shape or type, or an
    active server that is not among the servers.
    """

    def fail(problem: str) -> AnonClientSettingsError:
        return AnonClientSettingsError(f"{source}: {problem}")

    if data is None:
        data = {}  # an empty file (the original's writes were not atomic): all defaults
    if not isinstance(data, Mapping):
        raise fail(
            "expected a mapping of settings (key: value lines), "
            f"but the file holds a {type(data).__name__}"
        )

    # checked in this order, so a file with several problems always names the same one first
    servers = _servers(data, fail)
    active = _active_server(data, servers, fail)
    validate_ssl = _validate_ssl(data, fail)
    timeout = _timeout(data, fail)
    stall_minutes = _stall_minutes(data, fail)
    keymap = _keymap(data, fail)
    mapping_file = _mapping_file(data, fail)
    return Settings(
        servers=servers,
        active_server_name=active,
        user_name=_text(data, "user_name", fail),
        user_token=_text(data, "user_token", fail),
        validate_ssl=validate_ssl,
        job_default_parameters=_default_parameters(data, fail),
        active_mapping_file=mapping_file,
        keymap=keymap,
        timeout=timeout,
        stall_minutes=stall_minutes,
    )


Fail = Callable[[str], AnonClientSettingsError]
"""Makes the error `<file>: <problem>` for one settings file."""


def _servers(data: Mapping, fail: Fail) -> dict[str, str]:
    servers = data.get("servers") or {}
    if not isinstance(servers, Mapping):
        raise fail(f"'servers' must map names to URLs, got {_kind(servers)}")
    parsed = {}
    for name, url in servers.items():
        if not isinstance(url, str):
            raise fail(f"URL of server '{name}' must be text, got {_kind(url)}")
        problem = url_problem(normalise_url(url))
        if problem:
            raise fail(f"URL of server '{name}' {problem}: {url!r}")
        parsed[str(name)] = normalise_url(url)
    return parsed


def _active_server(data: Mapping, servers: Mapping[str, str], fail: Fail) -> str | None:
    active = data.get("active_server_name")
    if active is None:
        return None
    active = str(active)
    if active not in servers:
        raise fail(
            f"active server '{active}' is not one of the servers "
            f"{sorted(servers)}; set active_server_name to one of them"
        )
    return active


def _validate_ssl(data: Mapping, fail: Fail) -> bool:
    validate_ssl = data.get("validate_ssl", True)
    if not isinstance(validate_ssl, bool):
        raise fail(f"'validate_ssl' must be true or false, got {validate_ssl!r}")
    return validate_ssl


def _timeout(data: Mapping, fail: Fail) -> float:
    timeout = data.get("timeout", 10.0)
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not 0 < timeout <= MAX_TIMEOUT_S  # also false for .nan; .inf would wait forever
    ):
        raise fail(
            f"'timeout' must be a positive number of seconds up to {MAX_TIMEOUT_S:.0f}, "
            f"got {timeout!r}"
        )
    return float(timeout)


MAX_STALL_MINUTES = 7 * 24 * 60.0


def _stall_minutes(data: Mapping, fail: Fail) -> float:
    minutes = data.get("stall_minutes", DEFAULT_STALL_MINUTES)
    if (
        isinstance(minutes, bool)
        or not isinstance(minutes, int | float)
        or not 0 < minutes <= MAX_STALL_MINUTES
    ):
        raise fail(
            f"'stall_minutes' must be a positive number of minutes up to {MAX_STALL_MINUTES:.0f}"
            f" (a week), got {minutes!r}"
        )
    return float(minutes)


def _keymap(data: Mapping, fail: Fail) -> dict[str, str]:
    keymap = data.get("keymap") or {}
    if not isinstance(keymap, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in keymap.items()
    ):
        raise fail("'keymap' must map binding ids to keys (text: text)")
    return dict(keymap)


def _mapping_file(data: Mapping, fail: Fail) -> Path | None:
    mapping_file = data.get("active_mapping_file")
    if mapping_file is not None and not isinstance(mapping_file, str):
        raise fail(f"'active_mapping_file' must be a path, got {_kind(mapping_file)}")
    return Path(mapping_file) if mapping_file else None


def _text(data: Mapping, key: str, fail: Fail) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise fail(f"'{key}' must be text, got {_kind(value)}")
    return str(value)  # a numeric user name (z-number without z) reads as int in YAML


def _default_parameters(data: Mapping, fail: Fail) -> list[tuple[str, str]]:
    key = next((k for k in _LEGACY_DEFAULT_KEYS if data.get(k) is not None), None)
    if key is None:
        return []
    value = data[key]
    if isinstance(value, Mapping):  # pre-1.4: {project_name: X, destination_path: Y}
        return [
            (_LEGACY_FIELD_NAMES.get(str(k), str(k)), _scalar(v, fail, key))
            for k, v in value.items()
        ]
    if not isinstance(value, list):
        raise fail(f"'{key}' must be a list of 'field,value' lines, got {_kind(value)}")
    parameters = []
    for item in value:
        text = _scalar(item, fail, key)
        separator = "," if "," in text else ";"
        field_name, sep, field_value = text.partition(separator)
        if not sep or not field_name.strip():
            raise fail(f"'{key}' entry '{text}' is not of the form 'field,value'")
        parameters.append((field_name.strip(), field_value))
    return parameters


def _scalar(value: Any, fail: Any, key: str) -> str:
    """A value as text; nested lists or mappings are refused (str() of an aliased YAML structure
    could be gigabytes)."""
    if isinstance(value, Mapping | list):
        raise fail(f"'{key}' entries must be text, got {_kind(value)}")
    return "" if value is None else str(value)


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"a {type(value).__name__}"
