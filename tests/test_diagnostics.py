"""diagnose: slope sizes per layer, vanishing slopes in deep sigmoid networks."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

import slopes
from slopes import Network


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 10))
    return X, (X[:, :1] > 0).astype(float)


def test_flags_vanishing_slopes_in_deep_sigmoid(data):
    net = Network.mlp([10, 16, 16, 16, 16, 16, 1], activation="sigmoid", seed=0)
    report = slopes.diagnose(net, *data)
    assert report.vanishing
    text = str(report)
    assert "Vanishing slopes" in text and "at most 0.25" in text
    norms = [row.node_slope_norm for row in report.layers]
    assert all(a < b for a, b in zip(norms, norms[1:], strict=False))
    assert norms[0] / norms[-1] < 0.01


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_no_vanishing_with_relu_or_tanh(data, activation):
    net = Network.mlp([10, 16, 16, 16, 16, 16, 1], activation=activation, seed=0)
    report = slopes.diagnose(net, *data)
    assert not report.vanishing
    assert "No warnings" in str(report)


def test_rows_match_the_trace(data):
    X, y = data
    net = Network.mlp([10, 4, 1], activation="relu", seed=1)
    before = [w.copy() for w in net.parameters()]
    report = slopes.diagnose(net, X, y, learning_rate=0.1)
    trace = net.trace(X, y)
    for k, row in enumerate(report.layers):
        slope = trace.weight_slopes[k]
        assert row.mean_abs_slope == pytest.approx(np.abs(slope).mean())
        assert row.slope_norm == pytest.approx(np.linalg.norm(slope))
        assert row.update_ratio == pytest.approx(
            0.1 * np.linalg.norm(slope) / np.linalg.norm(net.layers[k].weights))
    for a, b in zip(before, net.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_dead_relus_and_saturated_sigmoids():
    net = Network.from_weights([[[-1.0, 1.0, -2.0, 3.0]], [[1], [1], [1], [1]]],
                               activation=["relu", "identity"])
    X = np.array([[1.0], [2.0], [3.0]])
    report = slopes.diagnose(net, X, np.zeros(3))
    assert report.layers[0].dead_fraction == pytest.approx(0.5)
    assert report.layers[1].dead_fraction is None
    sig = Network.from_weights([[[50.0, 0.0]], [[1], [1]]], activation="sigmoid")
    report = slopes.diagnose(sig, X, np.zeros(3))
    assert report.layers[0].saturated_fraction == pytest.approx(0.5)
    assert report.layers[1].saturated_fraction is None  # the output layer: see below
    dead = Network.from_weights([[[-1.0, -1.0]], [[1], [1]]], activation=["relu", "identity"])
    assert any("Dead relus: 100%" in w for w in slopes.diagnose(dead, X, np.ones(3)).warnings)


def test_large_steps_warning():
    net = Network.from_weights([[[1.0]], [[1.0]]])
    report = slopes.diagnose(net, [[10.0]], [0.0], learning_rate=1.0)
    assert any(w.startswith("Large steps") for w in report.warnings)


def test_table_pandas_and_plain(data, monkeypatch):
    net = Network.mlp([10, 4, 1], seed=0)
    report = slopes.diagnose(net, *data)
    table = report.table()
    assert list(table.index) == [0, 1]
    assert "update_ratio" in table.columns
    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("no pandas")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    rows = report.table()
    assert isinstance(rows, list) and rows[0]["layer"] == 0


def test_bad_inputs(data):
    with pytest.raises(TypeError, match="diagnose needs a Network or a Trace, got str"):
        slopes.diagnose("net", *data)
    net = Network.mlp([10, 1], seed=0)
    with pytest.raises(ValueError, match="learning_rate must be > 0, got 0"):
        slopes.diagnose(net, *data, learning_rate=0)
    with pytest.raises(ValueError, match="X has 3 features, but the network expects 10"):
        slopes.diagnose(net, np.ones((2, 3)), np.ones(2))


def test_dead_relu_words_agree_with_the_table():
    # 2 of 4 relu nodes are dead: the table says 50%, and so does a note; no warning (a
    # warning needs more than half), and no sentence claims there are no dead relus.
    net = Network.from_weights([[[-1.0, 1.0, -2.0, 3.0]], [[1], [1], [1], [1]]],
                               activation=["relu", "identity"])
    report = slopes.diagnose(net, np.array([[1.0], [2.0], [3.0]]), np.full(3, 6.0),
                             learning_rate=1e-4)
    text = str(report)
    table_line = text.splitlines()[3]
    assert table_line.split()[-2] == "50%"
    assert not any(w.startswith("Dead relus") for w in report.warnings)
    assert "Note: dead relus: 50% of the nodes of layer 0 (2 of 4) are never positive" in text
    assert "no dead relus" not in text.lower()
    dead = Network.from_weights([[[-1.0, -1.0, -1.0, 1.0]], [[1], [1], [1], [1]]],
                                activation=["relu", "identity"])
    report = slopes.diagnose(dead, np.array([[1.0], [2.0]]), np.ones(2))
    assert report.layers[0].dead_fraction == 0.75
    assert "75%" in str(report).splitlines()[3]
    assert any(w.startswith("Dead relus: 75% of the nodes of layer 0 (3 of 4)")
               for w in report.warnings)


def test_a_confident_sigmoid_output_is_not_a_problem():
    X = np.array([[1.0], [2.0], [-1.0], [-2.0]])
    y = np.array([1.0, 1.0, 0.0, 0.0])
    net = Network.from_weights([[[30.0]]], activation="sigmoid")
    report = slopes.diagnose(net, X, y, loss="binary_crossentropy")
    assert report.layers[0].confident_fraction == 1.0
    assert report.layers[0].saturated_fraction is None
    assert report.warnings == []
    text = str(report)
    assert "No warnings" in text and "Saturated" not in text
    assert "100% of the outputs of layer 0 (the output layer, sigmoid) are confident" in text
    assert "no problem in themselves" in text
    # The same confident outputs, right, under mse: still no warning.
    assert slopes.diagnose(net, X, y, loss="mse").warnings == []


def test_confidently_wrong_outputs_under_mse_are_stuck():
    X = np.array([[1.0], [2.0], [-1.0], [-2.0]])
    wrong = np.array([0.0, 0.0, 1.0, 1.0])
    net = Network.from_weights([[[30.0]]], activation="sigmoid")
    report = slopes.diagnose(net, X, wrong, loss="mse")
    assert any(w.startswith("Stuck outputs: 100% of the outputs are confidently wrong")
               for w in report.warnings)
    # With binary cross-entropy the slope is predicted - actual: wrong outputs still learn.
    assert slopes.diagnose(net, X, wrong, loss="binary_crossentropy").warnings == []


def test_hidden_sigmoid_saturation_is_still_a_warning():
    net = Network.from_weights([[[40.0, 40.0]], [[0.1], [0.1]]], activation="sigmoid")
    report = slopes.diagnose(net, np.array([[1.0], [2.0]]), np.zeros(2))
    assert report.layers[0].saturated_fraction == 1.0
    assert any(w.startswith("Saturated sigmoid: 100% of the values of layer 0")
               for w in report.warnings)


# ---------------------------------------------------------------- weight norms and penalties
# The network of these tests, worked out by hand: x = 1, w0 = 1, w1 = 2, no biases
# (from_weights without biases=), y = 0, mse. Prediction 2, loss 4, output slope 2 x (2 - 0) = 4.
# Data part of the slopes: layer 1: hidden value 1 x 4 = 4; layer 0: x 1 x w1 2 x 4 = 8.
# The L2 penalty's part is 2 x l2 x w: with l2 = 3, 6 for layer 0 (< 8) and 12 for layer 1 (> 4).
def _two_weights():
    return Network.from_weights([[[1.0]], [[2.0]]])


def test_weight_norm_per_layer_in_rows_and_text(data):
    net = Network.mlp([10, 6, 1], activation="tanh", seed=2)
    report = slopes.diagnose(net, *data)
    for row, layer in zip(report.layers, net.layers, strict=True):
        assert row.weight_norm == pytest.approx(np.linalg.norm(layer.weights))
    lines = str(report).splitlines()
    assert "weight norm" in lines[2]
    assert lines[2].split()[:4] == ["layer", "activation", "shape", "weight"]
    # A row: layer, activation, "n_in -> n_out" (three words), then the weight norm.
    assert lines[3].split()[5] == f"{np.linalg.norm(net.layers[0].weights):.3g}"
    assert lines[4].split()[5] == f"{np.linalg.norm(net.layers[1].weights):.3g}"


def test_penalty_outweighing_the_data_is_warned_naming_the_layer_and_both_sizes():
    report = slopes.diagnose(_two_weights(), [[1.0]], [0.0], training=True, l2=3.0,
                             learning_rate=1e-3)
    first, second = report.layers
    assert (first.data_slope_norm, first.penalty_slope_norm) == (8.0, 6.0)
    assert (second.data_slope_norm, second.penalty_slope_norm) == (4.0, 12.0)
    assert first.slope_norm == 14.0 and second.slope_norm == 16.0  # data + penalty
    assert report.penalty == 15.0 and report.loss == 4.0  # 3 x (1 + 4); the data loss apart
    assert report.warnings == [
        "Penalty outweighs the data in layer 1 (1 -> 1): the penalty's part of its weight "
        "slopes has norm 12, the data's part 4 (3 times as large, with l2=3). Each step "
        "shrinks these weights towards 0 more than it fits the data. Try a smaller penalty."
    ]
    text = str(report)
    assert "penalty = 15 (not in the loss)" in text.splitlines()[0]
    header = text.splitlines()[2]
    assert "data part" in header and "penalty part" in header
    assert "- Penalty outweighs the data in layer 1 (1 -> 1)" in text
    # Stronger: both layers; L1 named too.
    both = slopes.diagnose(_two_weights(), [[1.0]], [0.0], training=True, l2=5.0, l1=1.0,
                           learning_rate=1e-3)
    layers = [w.split(" (")[0] for w in both.warnings if w.startswith("Penalty")]
    assert layers == ["Penalty outweighs the data in layer 0",
                      "Penalty outweighs the data in layer 1"]
    assert "with l1=1 and l2=5" in both.warnings[0]


def test_no_penalty_warning_without_a_penalty_or_with_a_small_one(data):
    plain = slopes.diagnose(_two_weights(), [[1.0]], [0.0], training=True, learning_rate=1e-3)
    assert plain.warnings == [] and not plain.penalized and plain.penalty == 0.0
    assert all(r.penalty_slope_norm is None and r.data_slope_norm is None for r in plain.layers)
    text = str(plain)
    assert "penalty" not in text.lower() and "data part" not in text
    small = slopes.diagnose(_two_weights(), [[1.0]], [0.0], training=True, l2=1.0,
                            learning_rate=1e-3)
    assert small.penalized and small.warnings == []
    assert [r.penalty_slope_norm for r in small.layers] == [2.0, 4.0]  # 4 = 4: not larger
    assert "a penalty larger than the data's part of the slopes" in str(small)
    net = Network.mlp([10, 16, 1], activation="tanh", seed=0)
    report = slopes.diagnose(net, *data, training=True, l2=1e-5)
    assert report.penalized and not any(w.startswith("Penalty") for w in report.warnings)


def test_a_layers_own_penalty_counts_and_only_that_layer_is_named():
    net = _two_weights()
    net.layers[0].l2 = 10.0  # Dense(l2=): this layer only
    report = slopes.diagnose(net, [[1.0]], [0.0], learning_rate=1e-3)
    assert report.layers[0].penalty_slope_norm == 20.0
    assert report.layers[1].penalty_slope_norm is None
    assert [w[:37] for w in report.warnings] == ["Penalty outweighs the data in layer 0"]
    assert "with l2=10" in report.warnings[0]


def test_diagnose_a_trace_of_a_training_step():
    net = _two_weights()
    trace = net.trace([[1.0]], [0.0], training=True, l2=3.0)
    report = slopes.diagnose(trace, learning_rate=1e-3)
    direct = slopes.diagnose(net, [[1.0]], [0.0], training=True, l2=3.0, learning_rate=1e-3)
    assert report.layers == direct.layers and report.warnings == direct.warnings
    with pytest.raises(TypeError, match="diagnose of a Trace takes no X, l2: the trace already"):
        slopes.diagnose(trace, [[1.0]], l2=1.0)
    with pytest.raises(TypeError, match="diagnose of a Network needs X and y"):
        slopes.diagnose(net)
    with pytest.raises(TypeError, match="diagnose needs a Network or a Trace, got str"):
        slopes.diagnose("net", [[1.0]], [0.0])
