"""The page in Jupyter: a notebook run by nbclient shows the page inline, in an iframe.

Also ``slopes.page.notebook_html`` directly (no kernel): a Page, a Trace, a Network with and
without a trace; and what a network keeps of its latest trace (``Network.last_trace``: never in
model files, pickles or copies). The notebook is skipped, saying why, when nbclient, nbformat or
ipykernel is missing or a kernel cannot start.
"""

from __future__ import annotations

import copy
import html
import pickle
import re

import numpy as np
import pytest

import slopes
from slopes import Network
from slopes.page import STALE_TRACE, Page, notebook_html
from slopes.trace import trace_network


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
    assert notebook_html(net) == shown == net._repr_html_()  # the page of its latest trace
    untraced = Network.from_weights([[1.0], [2.0]])
    assert notebook_html(untraced) is None  # no trace: Jupyter shows the network another way
    assert untraced._repr_html_() is None
    assert trace._repr_html_() == shown  # Jupyter asks the trace itself
    with pytest.raises(TypeError, match="needs a Page, a Trace or a Network, got int"):
        notebook_html(3)
    assert isinstance(trace.to_html(), Page)


def course_network() -> Network:
    return Network.from_weights({"node_0": [0, 1], "node_1": [2, 3], "output": [1, 3]},
                                activation="relu")


def test_a_network_keeps_its_latest_trace_and_shows_its_page():
    net = course_network()
    assert net.last_trace is None
    first = net.trace([0, 1], 7)
    assert net.last_trace is first
    second = net.trace([[0, 1], [1, 0]], [7, 2])
    assert net.last_trace is second  # the latest one only
    [page] = srcdoc(net._repr_html_())
    assert page == second.to_html().html
    # The page and its helpers trace copies or through the trace module: the network's own
    # latest trace stays the one its user took.
    slopes.report(net, [[0, 1]], [7])
    second.to_html()
    assert net.last_trace is second
    del net.last_trace
    assert net.last_trace is None and net._repr_html_() is None
    del net.last_trace  # nothing to forget: no error


def test_the_latest_trace_is_never_saved_pickled_or_copied(tmp_path):
    plain, traced = course_network(), course_network()
    traced.trace([0, 1], 7)
    assert copy.deepcopy(traced).last_trace is None
    assert traced.copy().last_trace is None
    back = pickle.loads(pickle.dumps(traced))
    assert back.last_trace is None and np.array_equal(back.predict([0, 1]), [10.0])
    # The same bytes as a network traced without keeping it (both layers keep their slopes).
    trace_network(plain, [0, 1], 7)
    assert plain.last_trace is None
    assert pickle.dumps(traced) == pickle.dumps(plain)
    # A model file of a traced network: byte for byte the file of the same network untraced.
    assert traced.save(tmp_path / "a.safetensors").read_bytes() == \
        plain.save(tmp_path / "b.safetensors").read_bytes()


def test_a_scikit_learn_estimators_network_keeps_no_trace_in_clones_or_pickles():
    pytest.importorskip("sklearn", reason="scikit-learn is in the sklearn extra")
    from sklearn.base import clone

    from slopes.sklearn import SlopesRegressor

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 2)), rng.normal(size=20)
    est = SlopesRegressor(hidden_layer_sizes=(3,), epochs=3, random_state=0).fit(X, y)
    est.network_.trace(X[:1], y[:1])
    assert est.network_.last_trace is not None
    assert pickle.loads(pickle.dumps(est)).network_.last_trace is None
    assert copy.deepcopy(est).network_.last_trace is None
    assert not hasattr(clone(est), "network_")  # a clone is unfitted: no network at all


def test_a_network_trained_after_its_trace_says_the_page_shows_the_traced_weights():
    net = course_network()
    trace = net.trace([0, 1], 7)
    net.fit([[0, 1]], [7], epochs=1, learning_rate=0.01, verbose=0)
    shown = notebook_html(net)
    assert shown.startswith(f"<p>{STALE_TRACE}</p><iframe")  # no character to escape
    assert srcdoc(shown) == [trace.to_html().html]  # the trace's weights, as it says
    net.trace([0, 1], 7)
    assert notebook_html(net).startswith("<iframe")  # traced again: no note


NOTEBOOK_CODE = """
import numpy as np, slopes
from IPython.display import HTML
net = slopes.Network.from_weights({"node_0": [0, 1], "node_1": [2, 3], "output": [1, 3]},
                                  activation="relu")
trace = net.trace([0, 1], 7)
untraced = slopes.Network.mlp([2, 1], seed=0)
"""


def test_a_notebook_shows_the_page_inline():
    nbformat = pytest.importorskip("nbformat", reason="nbformat is in the dev extra")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is in the dev extra")
    pytest.importorskip("ipykernel", reason="ipykernel is in the dev extra")
    cells = [nbformat.v4.new_code_cell(NOTEBOOK_CODE),
             nbformat.v4.new_code_cell("slopes.report(net, [[0, 1]], [7], title='first')"),
             nbformat.v4.new_code_cell("HTML(slopes.page.notebook_html(trace))"),
             nbformat.v4.new_code_cell("trace"),  # a Trace shows its own page
             nbformat.v4.new_code_cell("net"),  # a traced Network: the page of its trace
             nbformat.v4.new_code_cell("untraced")]  # an untraced one: no page
    notebook = nbformat.v4.new_notebook(cells=cells)
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3")
    try:
        client.execute()
    except Exception as exc:  # no kernel here: say so
        if "kernel" in str(exc).lower() or type(exc).__name__.startswith("NoSuchKernel"):
            pytest.skip(f"a Jupyter kernel cannot start here: {exc}")
        raise
    results = [[out for out in cell["outputs"] if out["output_type"] == "execute_result"]
               for cell in notebook.cells[1:]]
    assert [len(r) for r in results] == [1] * 5
    shown = [r[0]["data"].get("text/html") for r in results]
    first, second, own, network = (srcdoc(text) for text in shown[:4])
    assert len(first) == len(second) == 1
    assert own == second  # the cell holding just the trace shows the same page
    assert network == second  # the network shows the page of its latest trace: that one
    assert first[0].startswith("<!DOCTYPE html>") and 'id="slopes-data"' in first[0]
    assert "<title>first</title>" in first[0]
    assert 'id="slopes-data"' in second[0] and second[0] != first[0]
    assert shown[4] is None  # untraced: no page, the plain repr (and the drawing, if any)
    assert results[4][0]["data"]["text/plain"].startswith("Network(2-1")
