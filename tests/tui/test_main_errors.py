"""`anon-tui`'s one error policy, as `anon`'s: a failure a user can cause is one `Error:` line (and
a hint for bad arguments), exit 1, no traceback, no dashboard started."""

from __future__ import annotations

from pathlib import Path

import pytest

from anonapi_tui.main import main


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--screen", "nope"], "invalid choice: 'nope'"),
        (["--folder"], "expected one argument"),
    ],
)
def test_bad_arguments_exit_1_with_the_reason(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and says in err.splitlines()[0]
    assert err.splitlines()[1] == "Try 'anon-tui --help' for help."


@pytest.mark.parametrize(
    ("content", "problem"),
    [("servers: [unclosed\n", "settings.yml"), (None, "settings.yml")],
    ids=["broken YAML", "a folder where the file should be"],
)
def test_unusable_settings_are_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    problem: str,
) -> None:
    settings = tmp_path / "settings.yml"
    if content is None:
        settings.mkdir()
    else:
        settings.write_text(content)
    monkeypatch.setenv("ANONAPI_SETTINGS", str(settings))

    assert main(["--folder", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and err.count("\n") == 1 and problem in err
