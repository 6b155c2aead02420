"""docs/reliability.md stays true: its table is long enough and every test it names exists.

Each row of the page is ``| input | behaviour | test |`` with the test written as
``tests/FILE.py::test_name`` (a ``[param]`` suffix names one case of a parametrized
test). A row whose test was renamed or removed fails here.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "reliability.md"
HEADER = ["input", "behaviour", "test"]
TEST_CELL = re.compile(r"^`(tests/[\w/]+\.py)::(test_\w+)(\[[^\]]*\])?`$")


def cells(line: str) -> list[str]:
    """The cells of one table line; ``\\|`` inside a cell is not a column break."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]


def rows() -> list[tuple[str, list[str]]]:
    """``(section, cells)`` of every row of the input | behaviour | test tables."""
    found, section, in_table = [], "", False
    for line in DOC.read_text().splitlines():
        if line.startswith("## "):
            section, in_table = line[3:], False
        elif line.startswith("|"):
            row = cells(line)
            if row == HEADER:
                in_table = True
            elif in_table and not set("".join(row)) <= set("-: "):
                found.append((section, row))
        else:
            in_table = False
    return found


@cache
def defined_tests(path: str) -> frozenset[str]:
    """Names of the test functions defined in a test file (parametrized ones included)."""
    tree = ast.parse((ROOT / path).read_text())
    return frozenset(node.name for node in ast.walk(tree)
                     if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)))


def test_the_page_has_at_least_60_rows_in_sections():
    found = rows()
    assert len(found) >= 60, len(found)
    assert all(section for section, _ in found)
    assert len({section for section, _ in found}) >= 6


def test_every_row_has_an_input_a_behaviour_and_one_test():
    for section, row in rows():
        assert len(row) == 3, (section, row)
        inp, behaviour, test = row
        assert inp and behaviour, (section, row)
        assert TEST_CELL.match(test), f"{section}: {inp}: test cell {test!r}"


def test_no_input_is_listed_twice():
    inputs = [row[0] for _, row in rows()]
    assert len(inputs) == len(set(inputs)), sorted({i for i in inputs if inputs.count(i) > 1})


def test_every_test_named_exists():
    missing = []
    for _, row in rows():
        match = TEST_CELL.match(row[2])
        if match is None:
            continue  # reported by the test above
        path, name = match.group(1), match.group(2)
        if not (ROOT / path).is_file() or name not in defined_tests(path):
            missing.append(f"{path}::{name}")
    assert not missing, missing


def test_the_checker_reads_escaped_pipes_and_sees_a_missing_test():
    assert cells("| `a \\| b` | exit 1 | `tests/test_cli.py::test_x[p]` |") == [
        "`a \\| b`", "exit 1", "`tests/test_cli.py::test_x[p]`"]
    match = TEST_CELL.match("`tests/test_cli.py::test_train_bad_input[missing.csv]`")
    assert match and match.group(2) == "test_train_bad_input"
    assert "test_train_bad_input" in defined_tests("tests/test_cli.py")
    assert "test_no_such_test" not in defined_tests("tests/test_cli.py")


def test_the_readme_links_the_page():
    readme = (ROOT / "README.md").read_text()
    assert "[docs/reliability.md](docs/reliability.md)" in readme
