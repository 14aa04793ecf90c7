"""The habits of the house: ``make test`` lints, checks the formatting (ruff) and type-checks
(mypy) before it runs a test, with the tools pinned; no source file is past 400 lines nor a
function past 60 (the lists of what was owed are empty: they may not grow again)."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_FILE_LINES, MAX_FUNCTION_LINES = 400, 60
OWED_FILES: dict[str, int] = {}
OWED_FUNCTIONS: dict[tuple[str, str], int] = {}


def test_make_test_lints_and_type_checks_before_the_tests_with_pinned_tools() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^test:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe, "no test target"
    steps = [line.strip() for line in recipe.group(1).splitlines()]
    assert steps == ["$(BIN)/ruff check .", "$(BIN)/ruff format --check .", "$(BIN)/mypy", "$(BIN)/python -m pytest"], steps
    pins = (ROOT / "constraints.txt").read_text()
    assert re.search(r"^ruff==\S+$", pins, re.M) and re.search(r"^mypy==\S+$", pins, re.M)


def sources() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    return [ROOT / f for f in listed.stdout.split() if not f.startswith(("tests/", "libs/core/src/linkmesh/"))]


def test_no_source_file_or_function_grows_past_the_limits() -> None:
    files, functions = {}, {}
    for path in sources():
        text = path.read_text()
        name = str(path.relative_to(ROOT))
        if (lines := text.count("\n")) > MAX_FILE_LINES:
            files[name] = lines
        for node in ast.walk(ast.parse(text)):
            if (
                isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                and (length := (node.end_lineno or node.lineno) - node.lineno + 1) > MAX_FUNCTION_LINES
            ):
                functions[(name, node.name)] = length
    new_files = {f: n for f, n in files.items() if f not in OWED_FILES or n > OWED_FILES[f]}
    new_functions = {f: n for f, n in functions.items() if f not in OWED_FUNCTIONS or n > OWED_FUNCTIONS[f]}
    assert new_files == {}, f"past {MAX_FILE_LINES} lines (or longer than owed): {new_files}"
    assert new_functions == {}, f"past {MAX_FUNCTION_LINES} lines (or longer than owed): {new_functions}"
