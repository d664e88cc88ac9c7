"""Settings: every historic layout loads, broken files are refused in one line and never
overwritten, legacy files are migrated, and what we write the original can read."""

import os
import sys
import textwrap
from pathlib import Path

import platformdirs
import pytest
import yaml

from anonapi_core import settings as settings_module
from anonapi_core.exceptions import AnonClientSettingsError
from anonapi_core.settings import (
    SETTINGS_ENV_VAR,
    Settings,
    load_settings,
    save_settings,
    settings_path,
)
from tests.core.conftest import refusal, run_original

GOOD_KEES_FILES = ["settings.yml", "settings_old.yml", "settings_post_1_4_style.yml"]


@pytest.fixture
def fixtures(corpus: Path) -> Path:
    return corpus / "original-fixtures" / "test_settings"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private home and config folder, so neither the developer's settings nor the
    environment's ANONAPI_SETTINGS are touched."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.delenv(SETTINGS_ENV_VAR, raising=False)
    monkeypatch.setattr(settings_module, "legacy_settings_path", lambda: home / "legacy.yml")
    monkeypatch.setattr(
        platformdirs,  # imported by settings_path() when it needs it
        "user_config_path",
        lambda *a, **k: home / "config" / "anonapi",
    )
    return home


@pytest.mark.parametrize("name", GOOD_KEES_FILES)
def test_good_settings_files_load(fixtures: Path, name: str):
    settings = load_settings(fixtures / name)
    assert settings.user_name == "kees"
    assert settings.user_token == "token"
    assert settings.active_server().name == "sandbox"
    assert settings.active_server().url == "https://umcradanont01/sandbox"
    assert len(settings.servers) == 2
    assert settings.validate_ssl is True


@pytest.mark.parametrize("name", ["settings.yml", "settings_post_1_4_style.yml"])
def test_default_project_is_read_from_pre_and_post_1_4_layouts(fixtures: Path, name: str):
    assert load_settings(fixtures / name).job_default_parameters[0] == (
        "project",
        "Wetenschap-Algemeen",
    )


def test_settings_without_defaults_get_none(fixtures: Path):
    assert load_settings(fixtures / "settings_old.yml").job_default_parameters == []


def test_pre_1_4_alternate_layout_maps_legacy_default_names(fixtures: Path):
    settings = load_settings(fixtures / "settings_pre_1_4_alternate.yml")
    assert settings.user_name == "z12345"
    assert settings.active_server().name == "p03"
    assert len(settings.servers) == 5
    assert dict(settings.job_default_parameters) == {
        "project": "Wetenschap-Algemeen",
        "destination_path": r"\\umcsanfsclp01\share\anonymized_data\Z123456",
    }


@pytest.mark.parametrize(
    "name, problem",
    [
        ("settings_wrong.yml", "active server 'sandbox' is not one of the servers []"),
        ("settings_wrong_2.yml", "active server 'some_old_server' is not one of the servers"),
    ],
)
def test_wrong_settings_files_are_refused_in_one_line(fixtures: Path, name: str, problem: str):
    with pytest.raises(AnonClientSettingsError) as error:
        load_settings(fixtures / name)
    message = str(error.value)
    assert message.startswith(f"{fixtures / name}: ")
    assert problem in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "content, problem",
    [
        ("servers: [a\nuser_name: x\n", "line 2, column"),
        ("- just\n- a list\n", "expected a mapping of settings"),
        ("servers: [a, b]\n", "'servers' must map names to URLs"),
        ("validate_ssl: maybe\n", "'validate_ssl' must be true or false"),
        ("timeout: -1\n", "'timeout' must be a positive number"),
        ("stall_minutes: 0\n", "'stall_minutes' must be a positive number of minutes"),
        ("stall_minutes: ten\n", "'stall_minutes' must be a positive number of minutes"),
        ("user_name: [a]\n", "'user_name' must be text"),
        ("job_default_parameters: [nocomma]\n", "entry 'nocomma' is not of the form"),
        ("keymap: {reset: [r]}\n", "'keymap' must map binding ids to keys"),
    ],
)
def test_broken_settings_are_refused_and_never_overwritten(
    tmp_path: Path, content: str, problem: str
):
    path = tmp_path / "settings.yml"
    message = refusal(load_settings, path, content, AnonClientSettingsError)
    assert problem in message
    assert str(path) in message
    assert "\n" not in message
    assert path.read_text() == content


def test_an_empty_file_gives_defaults(tmp_path: Path):
    path = tmp_path / "settings.yml"
    path.write_text("")
    assert load_settings(path) == Settings()


def test_numeric_user_names_and_semicolon_defaults_are_accepted(tmp_path: Path):
    path = tmp_path / "settings.yml"
    path.write_text("user_name: 12345\njob_default_parameters: ['project;P1']\n")
    settings = load_settings(path)
    assert settings.user_name == "12345"
    assert settings.job_default_parameters == [("project", "P1")]


def test_env_var_points_at_another_settings_file(tmp_path: Path, monkeypatch):
    target = tmp_path / "elsewhere" / "mine.yml"
    monkeypatch.setenv(SETTINGS_ENV_VAR, str(target))
    assert settings_path() == target
    assert load_settings().path == target
    assert target.exists()


@pytest.mark.skipif(sys.platform != "linux", reason="XDG layout")
def test_default_location_is_the_platform_config_folder(tmp_path: Path, monkeypatch):
    monkeypatch.delenv(SETTINGS_ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert settings_path() == tmp_path / "xdg" / "anonapi" / "settings.yml"


def test_fresh_install_gets_safe_defaults_written_to_a_file(home: Path):
    settings = load_settings()
    assert settings.path == home / "config" / "anonapi" / "settings.yml"
    assert settings.path.exists()
    # no `destination_path,.` (output into the source share) and no project NOT_SET
    assert settings.job_default_parameters == []
    assert settings.servers == {}
    with pytest.raises(AnonClientSettingsError, match="No active server.*anon server add"):
        settings.active_server()
    assert load_settings() == settings


@pytest.mark.parametrize("name", [*GOOD_KEES_FILES, "settings_pre_1_4_alternate.yml"])
def test_legacy_settings_are_migrated_and_left_untouched(home: Path, fixtures: Path, name):
    legacy = home / "legacy.yml"
    legacy.write_bytes((fixtures / name).read_bytes())
    original = load_settings(fixtures / name)

    migrated = load_settings()

    assert migrated == original
    assert migrated.path == home / "config" / "anonapi" / "settings.yml"
    assert load_settings(migrated.path) == original
    assert legacy.read_bytes() == (fixtures / name).read_bytes()


def test_migration_drops_the_originals_dangerous_fresh_defaults(home: Path):
    (home / "legacy.yml").write_text(
        textwrap.dedent("""\
            active_mapping_file: null
            active_server_name: testserver
            job_default_parameters:
            - project,NOT_SET
            - destination_path,.
            - pims_key,123
            servers:
              testserver: https://hostname_of_api
            user_name: username
            user_token: token
            validate_ssl: true
            """)
    )
    assert load_settings().job_default_parameters == [("pims_key", "123")]


def test_a_broken_legacy_file_is_not_migrated(home: Path):
    (home / "legacy.yml").write_text("servers: [\n")
    with pytest.raises(AnonClientSettingsError, match="legacy.yml, line"):
        load_settings()
    assert not (home / "config").exists()


def test_saved_file_has_the_originals_shape_and_round_trips(tmp_path: Path):
    settings = Settings(
        servers={"p01": "https://anon/p01"},
        active_server_name="p01",
        user_name="kees",
        user_token="secret",
        job_default_parameters=[("project", "P"), ("destination_path", r"\\srv\out")],
        active_mapping_file=tmp_path / "anon_mapping.csv",
        keymap={"reset": "ctrl+r"},
        timeout=3.5,
        stall_minutes=2.5,
    )
    path = save_settings(settings, tmp_path / "s.yml")
    data = yaml.safe_load(path.read_text())
    assert list(data) == sorted(data)
    assert data["job_default_parameters"] == ["project,P", r"destination_path,\\srv\out"]
    assert data["servers"] == {"p01": "https://anon/p01"}
    assert load_settings(path) == settings
    assert "secret" not in repr(settings)


def test_server_helpers_normalise_and_never_silently_replace():
    settings = Settings()
    settings.add_server("p01", "https://anon/p01/")
    assert settings.servers == {"p01": "https://anon/p01"}
    settings.add_server("p01", "https://anon/p01")  # same URL again: nothing to replace
    with pytest.raises(AnonClientSettingsError, match="already exists"):
        settings.add_server("p01", "https://other/p01")
    settings.add_server("p01", "https://other/p01", replace=True)
    assert settings.servers["p01"] == "https://other/p01"
    with pytest.raises(AnonClientSettingsError, match="must start with http"):
        settings.add_server("bad", "anon/p01")

    settings.activate_server("p01")
    assert settings.active_server().url == "https://other/p01"
    with pytest.raises(AnonClientSettingsError, match="Unknown server 'nope'. Known servers: p01"):
        settings.activate_server("nope")
    settings.remove_server("p01")
    assert settings.active_server_name is None
    with pytest.raises(AnonClientSettingsError, match="No servers are configured"):
        settings.active_server()


def test_the_original_anonapi_reads_a_file_we_wrote(tmp_path: Path, fixtures: Path):
    home = tmp_path / "home"
    home.mkdir()
    settings = load_settings(fixtures / "settings_pre_1_4_alternate.yml")
    settings.keymap = {"reset": "ctrl+r"}
    save_settings(settings, home / "AnonWebAPIClientSettings.yml")
    script = textwrap.dedent("""\
        import json
        from anonapi.persistence import DEFAULT_SETTINGS_PATH
        from anonapi.settings import AnonClientSettingsFromFile
        s = AnonClientSettingsFromFile(DEFAULT_SETTINGS_PATH)
        print(json.dumps({
            "user": s.user_name, "token": s.user_token, "active": s.active_server.name,
            "servers": {x.name: x.url for x in s.servers},
            "defaults": [p.to_string() for p in s.job_default_parameters],
        }))
        """)
    env = {**os.environ, "HOME": str(home), "USERPROFILE": str(home)}
    assert yaml.safe_load(run_original(script, env=env)) == {
        "user": "z12345",
        "token": "token",
        "active": "p03",
        "servers": settings.servers,
        "defaults": [f"{k},{v}" for k, v in settings.job_default_parameters],
    }


def test_saving_over_a_file_that_no_longer_loads_is_refused(tmp_path: Path):
    path = tmp_path / "settings.yml"
    settings = load_settings(path)
    path.write_text("servers: [broken\n")
    with pytest.raises(AnonClientSettingsError, match="line 2.*not overwriting it"):
        save_settings(settings)
    assert path.read_text() == "servers: [broken\n"


BILLION_LAUGHS = (
    "a: &a ['xxxxxxxxxxxxxxxx','xxxxxxxxxxxxxxxx','xxxxxxxxxxxxxxxx','xxxxxxxxxxxxxxxx']\n"
    + "".join(
        f"{chr(98 + n)}: &{chr(98 + n)} [*{chr(97 + n)},*{chr(97 + n)},*{chr(97 + n)},"
        f"*{chr(97 + n)},*{chr(97 + n)},*{chr(97 + n)},*{chr(97 + n)},*{chr(97 + n)}]\n"
        for n in range(12)
    )
    + "job_default_parameters: [*m]\n"
)


@pytest.mark.parametrize(
    "content, problem",
    [
        ("timeout: .inf\n", "'timeout' must be a positive number of seconds up to 3600"),
        ("timeout: .nan\n", "'timeout' must be a positive number of seconds up to 3600"),
        ("timeout: 1e9\n", "'timeout' must be a positive number"),
        ("servers: {a: 'http://[::1'}\n", "URL of server 'a' is not a valid URL"),
        ("servers: {a: 'http://:80'}\n", "URL of server 'a' has no host name"),
        ("servers: {a: 'http://h:port'}\n", "URL of server 'a' is not a valid URL"),
        ("servers: {a: 'ftp://h'}\n", "URL of server 'a' must start with http"),
        ("job_default_parameters: [[a, b]]\n", "entries must be text, got a list"),
        (BILLION_LAUGHS, "YAML aliases (*name) are not allowed"),
    ],
    ids=["inf", "nan", "huge", "ipv6", "nohost", "port", "ftp", "nested", "alias-bomb"],
)
def test_garbage_settings_are_one_clear_line_fast(tmp_path: Path, content: str, problem: str):
    path = tmp_path / "settings.yml"
    message = refusal(load_settings, path, content, AnonClientSettingsError)
    assert problem in message
    assert message.startswith(str(path))
    assert "\n" not in message


def test_an_oversized_settings_file_is_not_read_into_memory(tmp_path: Path):
    path = tmp_path / "settings.yml"
    path.write_bytes(b"user_name: x\n" + b"#" * (2 * 1024 * 1024))
    with pytest.raises(AnonClientSettingsError, match="larger than 1024 kB"):
        load_settings(path)


@pytest.mark.parametrize("url", ["http://[::1", "https://", "http://h:port", "http://a b"])
def test_a_server_url_that_cannot_work_is_refused_when_added(url: str):
    with pytest.raises(AnonClientSettingsError, match="Server URL"):
        Settings().add_server("x", url)
