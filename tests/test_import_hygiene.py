"""The core stays headless: no module of anonapi_core pulls in a UI package.

Each module is imported in a fresh interpreter, because one import in a shared test process would
hide another's.
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import anonapi_core

UI_PACKAGES = ("textual", "rich", "click", "anonapi_tui", "anonapi_cli")
CORE_DIR = Path(anonapi_core.__file__).parent


def core_modules() -> list[str]:
    return sorted(
        info.name for info in pkgutil.walk_packages([str(CORE_DIR)], prefix="anonapi_core.")
    )


def test_no_core_source_file_imports_a_ui_package() -> None:
    offenders = []
    for path in CORE_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [
                f"{path.relative_to(CORE_DIR)}: {name}"
                for name in names
                if name.split(".")[0] in UI_PACKAGES
            ]
    assert offenders == []


@pytest.mark.parametrize("module", core_modules())
def test_importing_a_core_module_loads_no_ui_package(module: str) -> None:
    # uvicorn (the server's ASGI runner) imports click itself; that is its business, not ours,
    # so click is checked in the source above and textual/rich/our UI packages here.
    probe = (
        f"import sys, {module}\n"
        "bad = [m for m in ('textual', 'rich', 'anonapi_tui', 'anonapi_cli') if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr.strip().splitlines()[-1:]
    assert result.stdout.strip() == "", f"{module} imports {result.stdout.strip()}"
