"""The documentation site builds with no warning: every link and reference resolves, every
gallery example runs and shows its plots, every public module has its API page.

The build is `make docs`'s: ``sphinx-build -b html -W -n --keep-going``, here into a
temporary folder. It runs in a fresh process, as `make docs` does.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GALLERY = ROOT / "examples" / "gallery"

pytest.importorskip("sphinx", reason="the docs extra is not installed: pip install -e '.[docs]'")
pytest.importorskip("sphinx_gallery", reason="the docs extra is not installed")
pytest.importorskip("myst_parser", reason="the docs extra is not installed")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "MPLBACKEND": "Agg",
           "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "-n", "--keep-going", "-q",
         "-d", str(out / "doctrees"), str(DOCS), str(out / "html")],
        capture_output=True, text=True, env=env, timeout=600, cwd=ROOT)
    return out / "html", result


def test_the_site_builds_with_no_warning(site):
    html, result = site
    assert result.returncode == 0, f"sphinx-build failed:\n{result.stderr[-5000:]}"
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line
                or "ERROR" in line]
    assert not warnings, "\n".join(warnings)
    assert (html / "index.html").is_file()


def test_every_guide_page_is_in_the_site(site):
    html, _ = site
    pages = sorted(p.stem for p in (DOCS / "guide").glob("*.md"))
    assert len(pages) >= 9
    missing = [p for p in pages if not (html / "guide" / f"{p}.html").is_file()]
    assert not missing, missing
    for page in ("reliability", "course-errata", "development", "api"):
        assert (html / f"{page}.html").is_file(), page
    # every guide page is reachable from the index's table of contents
    index = (html / "index.html").read_text(encoding="utf-8")
    unlinked = [p for p in pages if f"guide/{p}.html" not in index]
    assert not unlinked, f"guide pages not in the index's toctree: {unlinked}"


def test_the_gallery_examples_ran_and_show_their_plots(site):
    html, _ = site
    examples = sorted(p.stem for p in GALLERY.glob("plot_*.py"))
    assert len(examples) >= 4
    for name in examples:
        page = (html / "gallery" / f"{name}.html").read_text(encoding="utf-8")
        images = re.findall(rf'src="[^"]*sphx_glr_{name}_\d+\.png"', page)
        assert images, f"the gallery page of {name} shows no plot"
        assert "Traceback" not in page, f"{name} raised while the site was built"


def test_the_plane_view_example_shows_the_page_inline(site):
    html, _ = site
    page = (html / "gallery" / "plot_04_moons_plane.html").read_text(encoding="utf-8")
    assert "<iframe" in page, "the interactive page is not embedded in the gallery"


def test_the_api_reference_documents_the_public_modules(site):
    html, _ = site
    for module, name in [("slopes.network", "Network"), ("slopes.trace", "Trace"),
                         ("slopes.sklearn", "SlopesClassifier"), ("slopes.page", "report"),
                         ("slopes.optimizers", "Adam"), ("slopes.callbacks", "EarlyStopping")]:
        page = html / "api" / f"{module}.html"
        assert page.is_file(), module
        assert f'id="{module}.{name}"' in page.read_text(encoding="utf-8"), (module, name)


def test_the_speed_page_includes_the_benchmark_results(site):
    html, _ = site
    page = (html / "guide" / "speed.html").read_text(encoding="utf-8")
    first = (ROOT / "benchmarks" / "results" / "train_mlp.md").read_text().splitlines()[0]
    assert first.split(":")[0] in page and "NumPy loop" in page
