"""The README's Python examples run as written, and print what they say they print."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_a_quickstart():
    assert len(python_blocks()) >= 2
    assert "make demo" in README.read_text() and "make test" in README.read_text()


def test_readme_python_blocks_run_and_print_what_the_comments_say():
    namespace: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in python_blocks():
            exec(compile(block, str(README), "exec"), namespace)  # noqa: S102
    printed = out.getvalue().splitlines()
    quickstart = python_blocks()[0]
    # every `print(...)  # value` comment in the quickstart shows the value printed
    expected = [m.group(1).split("  ")[0]
                for m in re.finditer(r"print\(.*\)\s+# (.+)", quickstart)]
    assert len(expected) >= 6
    assert printed[: len(expected)] == expected
