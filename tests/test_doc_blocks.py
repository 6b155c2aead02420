"""Every code block of the README and of the documentation's pages runs, so no example can rot.

The rules (docs/guide/development.md says them to writers):

- ```python blocks run in order in one namespace per page, the current folder a fresh
  temporary one shared by all blocks of the page;
- ```pycon blocks run as doctests in that same namespace and folder: what they show
  printed must be what is printed;
- ```console blocks run each line that starts with ``$ `` in bash in that folder, with the
  bin folder of this Python (the environment's: ``slopes``, ``python``) first on PATH;
  each must exit 0. The lines after a command are its output, shown, not compared;
- ```bash and ```sh blocks are commands for the user's own shell at the clone's root
  (``make demo``, ``source .venv/bin/activate``): never run. Other fences (```text) are
  not code;
- a block right after a line ``<!-- no-run: the reason -->`` is skipped; the reason is
  required, and ``test_skipped_blocks_are_listed_with_their_reason`` prints them all.

The quickstarts (the first python block of the README and of getting-started.md) keep their
own check: each ``print(...)  # value`` comment shows the value printed.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md")),
         *sorted((ROOT / "docs" / "guide").glob("*.md"))]
RUN = {"python", "pycon", "console"}
NOT_RUN = {"bash", "sh", "text", "", "json", "html", "csv", "none"}
NO_RUN = re.compile(r"<!--\s*no-run:(.*?)-->\s*\Z", re.S)
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<ticks>`{3,})(?P<lang>[^`\n]*)\n"
                   r"(?P<body>.*?)^(?P=indent)(?P=ticks)[ \t]*$", re.M | re.S)
BIN = str(Path(sys.executable).parent)
CONSOLE_TIMEOUT = 120


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    body: str
    no_run: str | None  # the reason, when the block is marked no-run

    @property
    def where(self) -> str:
        page = self.page.relative_to(ROOT) if self.page.is_relative_to(ROOT) else self.page.name
        return f"{page}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of a page, in order, with the no-run reason of the line above."""
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        lang = match.group("lang").strip().split()[0] if match.group("lang").strip() else ""
        if lang.startswith("{"):  # a MyST directive ({include}, {toctree}...), not code
            continue
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = NO_RUN.search(before + "\n") if "no-run" in before else None
        reason = marker.group(1).strip() if marker else None
        if "no-run" in before and not reason:
            reason = ""
        found.append(Block(page, text.count("\n", 0, match.start()) + 1, lang,
                           match.group("body"), reason))
    return found


ALL = [block for page in PAGES for block in blocks(page)]


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def run_console(block: Block, folder: Path) -> None:
    env = {**os.environ, "PATH": BIN + os.pathsep + os.environ.get("PATH", ""),
           "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT / "src")}
    env.pop("PYTHONSTARTUP", None)
    for line in block.body.splitlines():
        if not line.startswith("$ "):
            continue
        command = line[2:]
        result = subprocess.run(["bash", "-c", command], cwd=folder, env=env, capture_output=True,
                                text=True, timeout=CONSOLE_TIMEOUT)
        assert result.returncode == 0, (
            f"{block.where}: `{command}` exited {result.returncode}\n"
            f"stdout:\n{result.stdout[-2000:]}\nstderr:\n{result.stderr[-2000:]}")


def run_pycon(block: Block, namespace: dict) -> None:
    test = doctest.DocTestParser().get_doctest(block.body, namespace, block.where,
                                               str(block.page), block.line)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out = io.StringIO()
    runner.run(test, out=out.write, clear_globs=False)
    namespace.update(test.globs)  # the DocTest ran in a copy; later blocks see its names
    assert runner.failures == 0, f"{block.where}: the session shows other output\n{out.getvalue()}"


def run_page(page: Path, folder: Path, langs: set[str] = RUN) -> str:
    """Run the page's blocks of ``langs`` in ``folder``; return what its python blocks
    printed."""
    namespace: dict = {"__name__": "__doc_page__"}
    printed = io.StringIO()
    old = Path.cwd()
    os.chdir(folder)
    try:
        for block in blocks(page):
            if block.no_run is not None or block.lang not in langs:
                continue
            if block.lang == "python":
                with contextlib.redirect_stdout(printed):
                    exec(compile(block.body, block.where, "exec"), namespace)  # noqa: S102
            elif block.lang == "pycon":
                run_pycon(block, namespace)
            else:
                run_console(block, folder)
    finally:
        os.chdir(old)
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
    return printed.getvalue()


PAGES_WITH_CODE = [page for page in PAGES
                   if any(b.lang in RUN and b.no_run is None for b in blocks(page))]


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=page_id)
def test_the_code_blocks_of_a_page_run(page, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    run_page(page, tmp_path)


def test_every_fence_is_one_the_tests_know():
    unknown = [f"{b.where}: ```{b.lang}" for b in ALL if b.lang not in RUN | NOT_RUN]
    assert not unknown, ("fences neither run nor known not to be code (use python, pycon, "
                         "console, bash, sh or text):\n" + "\n".join(unknown))


def test_skipped_blocks_are_listed_with_their_reason(capsys):
    skipped = [b for b in ALL if b.no_run is not None]
    missing = [b.where for b in skipped if not b.no_run]
    assert not missing, "a no-run block needs its reason, <!-- no-run: why -->: " + ", ".join(
        missing)
    with capsys.disabled():
        print(f"\n{len(skipped)} documentation blocks are not run:")
        for b in skipped:
            print(f"  {b.where} ({b.lang}): {b.no_run}")


def test_console_blocks_show_commands_and_bash_blocks_are_for_the_user():
    """A console block runs `$ ` lines: one with none would test nothing. A bash block is
    for the user's own shell, so it holds no `$ ` prompt (that would be a console block)."""
    wrong = [f"{b.where}: console block with no `$ ` line" for b in ALL
             if b.lang == "console" and not re.search(r"^\$ ", b.body, re.M)]
    wrong += [f"{b.where}: {b.lang} block with a `$ ` prompt: make it ```console"
              for b in ALL if b.lang in {"bash", "sh"} and re.search(r"^\$ ", b.body, re.M)]
    assert not wrong, "\n".join(wrong)


def test_commands_are_written_for_the_activated_environment():
    """One way to run slopes everywhere: `source .venv/bin/activate`, then bare `slopes` and
    `python`. A `.venv/bin/` prefix in a run block would pass the test and confuse a reader."""
    wrong = [b.where for b in ALL if b.lang in RUN and ".venv/bin/" in b.body]
    assert not wrong, "blocks with a .venv/bin/ prefix: " + ", ".join(wrong)


def readme_python_blocks() -> list[str]:
    return [b.body for b in blocks(README) if b.lang == "python" and b.no_run is None]


def test_readme_has_the_quickstarts_and_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert len(readme_python_blocks()) >= 2
    assert "make demo" in text and "make test" in text and "make docs" in text
    assert "source .venv/bin/activate" in text
    assert any(b.lang == "console" and "$ slopes " in b.body for b in blocks(README))


@pytest.mark.parametrize("page", [README, ROOT / "docs" / "guide" / "getting-started.md"],
                         ids=page_id)
def test_the_quickstart_prints_what_its_comments_say(page, tmp_path):
    printed = run_page(page, tmp_path, langs={"python"}).splitlines()
    quickstart = next(b.body for b in blocks(page) if b.lang == "python" and b.no_run is None)
    # every `print(...)  # value` comment in the quickstart shows the value printed
    expected = [m.group(1).split("  ")[0]
                for m in re.finditer(r"print\(.*\)\s+# (.+)", quickstart)]
    assert len(expected) >= 6
    assert printed[: len(expected)] == expected


def test_readme_fits_on_a_few_screens():
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= 210, f"README.md has {lines} lines; the guide (docs/guide/) holds the rest"


def test_readme_links_point_at_files_that_exist():
    text = README.read_text(encoding="utf-8")
    missing = [target for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
               if "://" not in target and not (ROOT / target).exists()]
    assert not missing, f"README.md links to files that do not exist: {missing}"


def test_the_fence_reader_sees_no_run_markers_and_languages(tmp_path):
    page = ("<!-- no-run: needs torch -->\n```python\nimport torch\n```\n\n"
            "```console\n$ slopes --help\n```\n<!-- no-run: -->\n```bash\nmake demo\n```\n")
    path = tmp_path / "probe.md"
    path.write_text(page, encoding="utf-8")
    found = blocks(path)
    assert [(b.lang, b.no_run) for b in found] == [("python", "needs torch"), ("console", None),
                                                   ("bash", "")]
