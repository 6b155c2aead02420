"""The page in Jupyter: a notebook run by nbclient shows the page inline, in an iframe.

Also ``slopes.page.notebook_html`` directly (no kernel): a Page, a Trace, a Network with and
without a trace. Skipped, saying why, when nbclient, nbformat or ipykernel is missing or a
kernel cannot start.
"""

from __future__ import annotations

import html
import re

import pytest

import slopes
from slopes import Network
from slopes.page import Page, notebook_html


def srcdoc(text: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<iframe srcdoc="([^"]*)"', text)]


def test_notebook_html_isolates_each_page_in_an_iframe():
    net = Network.from_weights({"node_0": [0, 1], "node_1": [2, 3], "output": [1, 3]},
                               activation="relu")
    trace = net.trace([0, 1], 7)
    shown = notebook_html(trace)
    [page] = srcdoc(shown)
    assert page == trace.to_html().html  # the whole page, escaped into the attribute
    assert shown.count("<iframe") == 1 and "<script" not in shown.replace(
        html.escape("<script"), "")
    report = slopes.report(net, [[0, 1]], [7])
    assert srcdoc(report._repr_html_()) == [report.html]
    assert notebook_html(net) is None  # no trace: Jupyter shows the network another way
    assert trace._repr_html_() == shown  # Jupyter asks the trace itself
    with pytest.raises(TypeError, match="needs a Page, a Trace or a Network, got int"):
        notebook_html(3)
    assert isinstance(trace.to_html(), Page)


NOTEBOOK_CODE = """
import numpy as np, slopes
from IPython.display import HTML
net = slopes.Network.from_weights({"node_0": [0, 1], "node_1": [2, 3], "output": [1, 3]},
                                  activation="relu")
trace = net.trace([0, 1], 7)
"""


def test_a_notebook_shows_the_page_inline():
    nbformat = pytest.importorskip("nbformat", reason="nbformat is in the dev extra")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is in the dev extra")
    pytest.importorskip("ipykernel", reason="ipykernel is in the dev extra")
    cells = [nbformat.v4.new_code_cell(NOTEBOOK_CODE),
             nbformat.v4.new_code_cell("slopes.report(net, [[0, 1]], [7], title='first')"),
             nbformat.v4.new_code_cell("HTML(slopes.page.notebook_html(trace))"),
             nbformat.v4.new_code_cell("trace")]  # a Trace shows its own page
    notebook = nbformat.v4.new_notebook(cells=cells)
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3")
    try:
        client.execute()
    except Exception as exc:  # no kernel here: say so
        if "kernel" in str(exc).lower() or type(exc).__name__.startswith("NoSuchKernel"):
            pytest.skip(f"a Jupyter kernel cannot start here: {exc}")
        raise
    shown = [out["data"]["text/html"] for cell in notebook.cells[1:]
             for out in cell["outputs"] if "text/html" in out.get("data", {})]
    assert len(shown) == 3
    first, second, own = (srcdoc(text) for text in shown)
    assert len(first) == len(second) == 1
    assert own == second  # the cell holding just the trace shows the same page
    assert first[0].startswith("<!DOCTYPE html>") and 'id="slopes-data"' in first[0]
    assert "<title>first</title>" in first[0]
    assert 'id="slopes-data"' in second[0] and second[0] != first[0]
