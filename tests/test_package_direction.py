"""The client core and the server are separate products: guard which way imports may go.

`anonapi_core` never imports `anonapi_server` (a client install needs no server stack); the server
imports only the wire models from the core. `anonapi_server.demo` is the one exception: it sets up
both sides of the demo (the client's settings, mapping and batch), so it may use the core's files.
"""

from __future__ import annotations

import ast
from pathlib import Path

import anonapi_core
import anonapi_server

CORE_DIR = Path(anonapi_core.__file__).parent
SERVER_DIR = Path(anonapi_server.__file__).parent
SERVER_MAY_IMPORT = {"anonapi_core.models"}
COMPOSES_BOTH_SIDES = {"demo.py"}


def imported_modules(path: Path) -> list[str]:
    """Every absolute module name imported anywhere in a source file, lazy imports included."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_the_core_never_imports_the_server() -> None:
    offenders = [
        f"{path.relative_to(CORE_DIR)}: {name}"
        for path in CORE_DIR.rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] == "anonapi_server"
    ]
    assert offenders == []


def test_the_server_imports_only_the_wire_models_from_the_core() -> None:
    offenders = [
        f"{path.relative_to(SERVER_DIR)}: {name}"
        for path in SERVER_DIR.rglob("*.py")
        if path.relative_to(SERVER_DIR).as_posix() not in COMPOSES_BOTH_SIDES
        for name in imported_modules(path)
        if name.split(".")[0] in {"anonapi_core", "anonapi_cli", "anonapi_tui"}
        and name not in SERVER_MAY_IMPORT
    ]
    assert offenders == []


def test_the_guard_sees_an_offending_import(tmp_path: Path) -> None:
    """The scan must catch a lazy import inside a function, or the guards above prove nothing."""
    source = tmp_path / "lazy.py"
    source.write_text("def f():\n    from anonapi_server.store import Store\n", encoding="utf-8")
    assert imported_modules(source) == ["anonapi_server.store"]
