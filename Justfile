# Recipes for developers. `just --list` shows them.

venv := ".venv"
python := venv / "bin/python"

# Create the virtual environment and install the project with its test tools.
setup:
    test -x {{python}} || python3 -m venv {{venv}}
    {{python}} -m pip install -q -e '.[test]'

# Run the whole test suite (the same command CI runs).
test *args: setup
    {{python}} -m pytest {{args}}

# Open the dashboard on a local demo server with generated studies.
demo: setup
    {{venv}}/bin/anon-tui --demo

# Run every benchmark and print the tables (`just bench --quick` for a smoke run).
bench *args: setup
    {{python}} bench/run_all.py {{args}}

# Lint, check formatting and type-check the packages (CI runs the same; see .pre-commit-config.yaml).
lint: setup
    {{venv}}/bin/ruff check .
    {{venv}}/bin/ruff format --check .
    {{venv}}/bin/mypy

# Regenerate the dashboard snapshots after an intended UI change, then review the diff.
snapshots: setup
    {{python}} -m pytest tests/tui --snapshot-update
