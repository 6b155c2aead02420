"""The interactive page without a browser: what it holds, how it subsamples, what it refuses.

tests/test_page_browser.py opens the same pages in chromium.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import slopes
from slopes import Network
from slopes.callbacks import EarlyStopping, WeightSnapshots
from slopes.page import PART_NAMES, Page, report


def page_data(page: Page) -> dict:
    text = re.search(r'<script type="application/json" id="slopes-data">(.*?)</script>',
                     page.html, flags=re.S).group(1)
    return json.loads(text)


def explanation(data: dict, frame: int, edge: int) -> str:
    """The text the page's script shows for ``edge`` at ``frame`` (the same fill as in JS)."""
    parts = dict(zip(data["static_names"], data["static"][edge], strict=True))
    parts.update(zip(data["part_names"], data["frames"][frame]["parts"][edge], strict=True))
    return re.sub(r"\{(\w+)\}", lambda m: parts.get(m.group(1), m.group(0)),
                  data["templates"][edge])


def key_of(data: dict, edge: int) -> tuple:
    k, i, j = data["edges"][edge]
    return k, "bias" if i < 0 else i, j


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] - X[:, 1] > 0).astype(float)
    net = Network.mlp([3, 4, 1], activation="tanh", output="sigmoid", seed=0)
    snapshots = WeightSnapshots(max_snapshots=11)
    history = net.fit(X, y, loss="binary_crossentropy", learning_rate=0.5, epochs=20,
                      batch_size=8, callbacks=[snapshots], seed=0, verbose=0)
    return net, X, y, snapshots, history


def test_hover_text_is_trace_explain_for_every_weight_and_epoch(trained):
    net, X, y, snapshots, history = trained
    names = ["a", "b", "c"]
    page = report(net, X, y, history=snapshots, row=2, learning_rate=0.5, input_names=names,
                  output_names=["yes"])
    data = page_data(page)
    assert len(data["frames"]) == len(snapshots.snapshots) == 11
    assert [f["label"] for f in data["frames"]][:2] == ["before training", "epoch 2 of 20"]
    assert data["frames"][-1]["label"] == "epoch 20 of 20"  # numbered as the logs number them
    assert len(data["edges"]) == 3 * 4 + 4 * 1 + 4 + 1  # weights, then biases
    for frame, snap in enumerate(snapshots.snapshots):
        copy = net.copy()
        for layer, w, b in zip(copy.layers, snap.weights, snap.biases, strict=True):
            layer.weights, layer.bias = w, b
        trace = copy.trace(X[2:3], y[2:3], loss="binary_crossentropy")
        assert data["frames"][frame]["loss"] == f"{trace.loss:.6g}"
        for edge in range(len(data["edges"])):
            expected = trace.explain(*key_of(data, edge), learning_rate=0.5, input_names=names,
                                     output_names=["yes"])
            assert explanation(data, frame, edge) == expected
    assert data["frames"][0]["parts"] != data["frames"][-1]["parts"]
    assert set(data["curves"]) == {"loss"} and len(data["curves"]["loss"]) == 20


def test_hover_text_of_a_penalized_clipped_step_is_trace_explain(trained):
    """``step=``: every trace the page makes has the penalty and the clipping, and a
    penalized weight's text gives its slope as the data's part plus the penalty's."""
    net, X, y, snapshots, _ = trained
    step = {"l2": 0.01, "l1": 0.002, "clip_norm": 0.05}
    data = page_data(report(net, X, y, history=snapshots, row=2, learning_rate=0.5, step=step))
    for frame, snap in enumerate(snapshots.snapshots):
        copy = net.copy()
        for layer, w, b in zip(copy.layers, snap.weights, snap.biases, strict=True):
            layer.weights, layer.bias = w, b
        trace = copy.trace(X[2:3], y[2:3], loss="binary_crossentropy", **step)
        assert trace.clip_factor < 1  # clip_norm 0.05 clips every one of these steps
        for edge in range(len(data["edges"])):
            key = key_of(data, edge)
            text = explanation(data, frame, edge)
            assert text == trace.explain(*key, learning_rate=0.5)
            assert "This step was clipped: every slope x " in text
            if key[1] == "bias":
                assert "penalty" not in text  # penalize_bias is off
                continue
            f = trace.factors(*key)
            assert ("  slope = node value x activation slope x loss slope (from the data) + 2 x "
                    "l2 x weight (from the L2 penalty) + l1 x sign of the weight (from the L1 "
                    "penalty)") in text or "node value x input slope (from the data)" in text
            assert f"2 x 0.01 x {f.weight:.6g} (from the L2 penalty)" in text
            step_slope = f.slope * trace.clip_factor
            assert text.splitlines()[-1].startswith(
                f"At learning rate 0.5 gradient descent changes it by -0.5 x {step_slope:.6g} =")
    # Biases too, when asked; without step= the page is the one of a prediction.
    biased = page_data(report(net, X, y, step={"l2": 0.01, "penalize_bias": True}))
    bias_edge = next(e for e in range(len(biased["edges"])) if biased["edges"][e][1] < 0)
    assert "(from the L2 penalty)" in explanation(biased, 0, bias_edge)
    plain = page_data(report(net, X, y))
    assert not any("penalty" in explanation(plain, 0, e) or "clip" in explanation(plain, 0, e)
                   for e in range(len(plain["edges"])))
    with pytest.raises(ValueError, match="step has unknown setting.s. dropout; known: l1, l2"):
        report(net, X, y, step={"dropout": 0.5})
    with pytest.raises(TypeError, match="step must be a dict"):
        report(net, X, y, step=[("l2", 0.01)])


def test_the_page_is_self_contained(trained):
    net, X, y, snapshots, _ = trained
    html = report(net, X, y, history=snapshots).html
    assert html.startswith("<!DOCTYPE html>")
    # The only URLs are SVG's namespace names, which browsers never fetch.
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) == {"http://www.w3.org/2000/svg"}
    for fetch in ("<script src", "<link", "@import", "url(", "fetch(", "XMLHttpRequest",
                  "<img", "<iframe"):
        assert fetch not in html, fetch


def test_training_settings_come_from_the_history(trained):
    net, X, y, snapshots, history = trained
    data = page_data(report(net, X, y, history=history))
    assert data["loss_name"] == "binary_crossentropy"
    assert data["step"] == "one step of sgd (learning rate 0.5): -learning_rate x slope"
    assert len(data["frames"]) == 1  # a History alone has no weights: the current ones
    assert data["frames"][0]["label"] == "the network's weights"
    adam = page_data(report(net, X, y, loss="binary_crossentropy", optimizer="adam"))
    assert adam["step"].startswith("the first step of adam (learning rate 0.001")


def test_big_networks_are_subsampled():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(30, 40)), rng.integers(0, 3, size=30)
    net = Network.mlp([40, 64, 64, 3], activation="relu", output="softmax", seed=0)
    snapshots = WeightSnapshots(max_values=20 * 8000)  # the network has ~7k parameters
    net.fit(X, y, loss="categorical_crossentropy", epochs=100, callbacks=[snapshots],
            verbose=0, seed=0)
    assert len(snapshots.snapshots) == 21 and snapshots.stride == 5  # 160000 // 6979 = 22
    page = report(net, X, y, history=snapshots, max_nodes=6, max_epochs=8)
    data = page_data(page)
    assert [len(c["nodes"]) for c in data["columns"]] == [5, 5, 5, 3]
    assert [c["hidden"] for c in data["columns"]] == [35, 59, 59, 0]
    assert len(data["frames"]) == 8
    assert data["frames"][0]["label"] == "before training"
    assert data["frames"][-1]["label"] == "epoch 100 of 100"
    assert len(page.html) < 400_000
    # The drawn inputs are those with the largest slopes at the last epoch.
    trace = net.trace(X[:1], y[:1], loss="categorical_crossentropy")
    biggest = np.argsort(-np.abs(trace.node_slopes[0][0]), kind="stable")[:5]
    assert data["columns"][0]["nodes"] == sorted(biggest.tolist())


def test_weight_snapshots_record_before_training_and_the_last_epoch():
    net = Network.mlp([2, 3, 1], seed=0)
    X, y = np.ones((4, 2)), np.zeros(4)
    snapshots = WeightSnapshots(max_snapshots=4)
    net.fit(X, y, epochs=10, callbacks=[snapshots], verbose=0)
    assert [s.epoch for s in snapshots.snapshots] == [None, 3, 7, 9]
    np.testing.assert_array_equal(snapshots.snapshots[-1].weights[0], net.layers[0].weights)
    before = snapshots.snapshots[0].weights[0]
    assert not np.array_equal(before, net.layers[0].weights)
    with pytest.raises(ValueError, match="max_snapshots must be an int >= 2"):
        WeightSnapshots(max_snapshots=1)


def test_early_stopping_keeps_the_last_epoch_and_the_restored_weights():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 2))
    y = X[:, 0] + rng.normal(scale=2, size=60)
    net = Network.mlp([2, 8, 1], seed=0)
    snapshots = WeightSnapshots(max_snapshots=3)
    stopper = EarlyStopping(patience=2)
    history = net.fit(X, y, epochs=200, learning_rate=0.3, validation_split=0.5,
                      callbacks=[stopper, snapshots], verbose=0, seed=0)
    assert len(history.epoch) < 200
    assert snapshots.snapshots[-1].epoch == history.epoch[-1]  # before the restore
    data = page_data(report(net, X, y, history=snapshots))
    assert data["frames"][-1]["label"] == "the network's weights now"  # the restored ones


def test_trace_to_html_explains_that_trace(tmp_path):
    net = Network.from_weights({"node_0": [0, 1], "node_1": [2, 3], "output": [1, 3]},
                               activation="relu")
    trace = net.trace([[0, 1], [1, 1]], [7, 2])
    net.layers[0].weights = np.zeros((2, 2))  # later changes do not alter the trace's page
    page = trace.to_html(tmp_path / "trace.html", sample=0)
    assert page.path == tmp_path / "trace.html" and page.path.read_text() == page.html
    data = page_data(page)
    one = Network.from_weights({"node_0": [0, 1], "node_1": [2, 3], "output": [1, 3]},
                               activation="relu").trace([0, 1], 7)
    for edge in range(len(data["edges"])):
        assert explanation(data, 0, edge) == one.explain(*key_of(data, edge))
    assert "slope = 3 x 1 x 6 = 18" in explanation(data, 0, data["edges"].index([1, 1, 0]))


def test_names_cannot_break_out_of_the_page(trained):
    net, X, y, _, _ = trained
    page = report(net, X, y, input_names=["</script><b>x", "b", "c"], title="<i>t</i>")
    assert page.html.count("</script>") == 2  # the data block's and the script's own
    assert page_data(page)["columns"][0]["names"][0] == "</script><b>x"
    assert "<title>&lt;i&gt;t&lt;/i&gt;</title>" in page.html


def test_bad_arguments(trained):
    net, X, y, _, _ = trained
    with pytest.raises(IndexError, match="row = 40 is out of range: X has 40 row"):
        report(net, X, y, row=40)
    with pytest.raises(ValueError, match="X has 40 row.s. but y has 3"):
        report(net, X, y[:3])
    with pytest.raises(TypeError, match="report needs a Network, got str"):
        report("net", X, y)
    with pytest.raises(ValueError, match="max_epochs must be an int >= 2"):
        report(net, X, y, max_epochs=1)
    with pytest.raises(ValueError, match="X has 2 features, but the network expects 3"):
        report(net, X[:, :2], y)


def test_slopes_report_and_notebook_display(trained):
    net, X, y, snapshots, _ = trained
    page = slopes.report(net, X, y, history=snapshots)
    assert page._repr_html_().startswith('<iframe srcdoc="&lt;!DOCTYPE html&gt;')
    assert repr(page).startswith("Page(")
    assert PART_NAMES[0] == "weight"


def test_a_diverged_network_still_gets_a_page(recwarn):
    net = Network.mlp([2, 2, 1], seed=0)
    net.layers[0].weights[0, 0] = np.inf
    data = page_data(report(net, np.ones((2, 2)), np.zeros(2)))
    assert None in data["frames"][0]["weights"]  # JSON's null, which the script draws as nan


def test_the_row_and_the_outputs_are_named_as_given(trained):
    net, X, y, snapshots, history = trained
    data = page_data(report(net, X, y, history=snapshots, row=5, output_names=["yes"],
                            row_name="Row 12 of data.csv"))
    assert data["row_name"] == "Row 12 of data.csv"
    assert data["actual"] == f"yes {y[5]:g}"
    assert all(frame["prediction"].startswith("yes ") for frame in data["frames"])
    plain = page_data(report(net, X, y, row=5))
    assert plain["row_name"] == "Row 5" and not plain["frames"][0]["prediction"].startswith("yes")


HOSTILE = "<!--<script>"


def test_hostile_names_in_every_place_come_back_as_they_were(trained):
    """A column, category, class, file name or title ``<!--<script>`` (which once blanked the
    page) and a file named ``{{DATA}}.csv`` (which once put the data block in the title)."""
    net, X, y, snapshots, _ = trained
    inputs = [HOSTILE, f"c={HOSTILE}", "{{DATA}} & {{TITLE}} >"]  # a column, a category
    title = f"{{{{DATA}}}}.csv, row 0: {HOSTILE}.safetensors {{{{TITLE}}}}"
    row_name = f"Row 0 of {HOSTILE}{{{{DATA}}}}.csv"
    page = report(net, X, y, history=snapshots, input_names=inputs, output_names=[HOSTILE],
                  title=title, row_name=row_name)
    block = re.search(r'<script type="application/json" id="slopes-data">(.*?)</script>',
                      page.html, flags=re.S).group(1)
    assert not set("<>&") & set(block)  # every one written as \u003c, \u003e, \u0026
    data = json.loads(block)
    assert data["columns"][0]["names"] == inputs
    assert data["columns"][-1]["names"] == [HOSTILE]
    assert data["title"] == title and data["row_name"] == row_name
    assert data["actual"].startswith(HOSTILE + " ")
    # One pass: the title is the escaped title, not the data block; the data block is whole.
    assert re.search(r"<title>(.*?)</title>", page.html).group(1) == (
        "{{DATA}}.csv, row 0: &lt;!--&lt;script&gt;.safetensors {{TITLE}}")
    assert page.html.count('id="slopes-data"') == 1
    assert page.html.count("<!--") == page.html.count("-->")  # no comment left open
