"""Trace.explain / factors / table: the course's three factors multiply to every slope."""

from __future__ import annotations

import builtins
import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slopes import Network

ACTIVATIONS = ["identity", "relu", "leaky_relu", "sigmoid", "tanh", "softmax"]
PLAIN_LOSSES = ["mse", "sse", "half_mse", "mae"]


# The course's last quiz, its network rebuilt from the course's numbers (the figure is
# missing): hidden values 1 and 3, output weights [1, 3], prediction 10 for an actual 7.
QUIZ = {"node_0": [0, 1], "node_1": [2, 3], "output": [1, 3]}


def quiz_trace():
    # Output predicts 10 for actual 7: error 3, slope of the loss 2 * 3 = 6.
    net = Network.from_weights(QUIZ, activation="relu")
    return net.trace([0, 1], 7, loss="mse")


def test_last_quiz_slopes_6_and_18():
    trace = quiz_trace()
    assert trace.predictions[0, 0] == 10
    f0, f1 = trace.factors(1, 0, 0), trace.factors(1, 1, 0)
    assert (f0.node_value[0], f0.activation_slope[0], f0.downstream_slope[0]) == (1, 1, 6)
    assert f0.slope == 6
    assert (f1.node_value[0], f1.activation_slope[0], f1.downstream_slope[0]) == (3, 1, 6)
    assert f1.slope == 18
    assert "slope = 3 x 1 x 6 = 18" in trace.explain(1, 1, 0)
    assert "slope = 1 x 1 x 6 = 6" in trace.explain(1, 0, 0)
    # A weight fed by a node of value 0 gets slope 0; the course's table: weights 0, 1, 2, 3
    # have slopes 0, 6, 0, 18.
    assert trace.factors(0, 0, 1).slope == 0
    assert "slope = 0 x 1 x 18 = 0" in trace.explain(0, 0, 1)
    table = dict(zip(trace.weights[0].ravel(), trace.weight_slopes[0].ravel(), strict=True))
    assert table == {0: 0, 1: 6, 2: 0, 3: 18}


def test_explain_gives_update_and_new_weight():
    text = quiz_trace().explain(1, 1, 0, learning_rate=0.01)
    assert "-0.01 x 18 = -0.18" in text
    assert "3 - 0.18 = 2.82" in text


def test_explain_course_single_weight_minus_24():
    # Value 3 feeds weight 2, prediction 6, actual 10: slope 2 * -4 * 3 = -24, new weight 2.24.
    text = Network.from_weights([[2]]).trace([3], 10).explain(0, 0, 0)
    assert "= -24" in text
    assert "2 + 0.24 = 2.24" in text


def test_table_rows_and_columns():
    table = quiz_trace().table(learning_rate=0.1)
    assert list(table.columns) == ["layer", "from", "to", "weight", "node_value",
                                   "activation_slope", "downstream_slope", "slope", "update"]
    assert len(table) == 6
    row = table[(table["layer"] == 1) & (table["from"] == 1)].iloc[0]
    assert (row["node_value"], row["downstream_slope"], row["slope"]) == (3, 6, 18)
    assert row["update"] == pytest.approx(-1.8)
    assert sorted(table[table["layer"] == 1]["slope"]) == [6, 18]


def test_table_without_pandas_is_list_of_dicts(monkeypatch):
    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("No module named 'pandas'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    rows = quiz_trace().table()
    assert isinstance(rows, list) and len(rows) == 6
    assert rows[-1]["slope"] == 18 and rows[-1]["from"] == 1
    assert set(rows[0]) == {"layer", "from", "to", "weight", "node_value", "activation_slope",
                            "downstream_slope", "slope", "update"}


def test_table_includes_biases():
    net = Network.mlp([3, 4, 2], seed=0)
    rng = np.random.default_rng(1)
    trace = net.trace(rng.normal(size=(5, 3)), rng.normal(size=(5, 2)))
    rows = trace.table()
    assert len(rows) == (3 + 1) * 4 + (4 + 1) * 2
    bias_rows = rows[rows["from"] == "bias"]
    np.testing.assert_allclose(bias_rows[bias_rows["layer"] == 0]["slope"],
                               trace.bias_slopes[0])
    assert (bias_rows["node_value"] == 1).all()


def test_batch_table_summaries():
    net = Network.from_weights(QUIZ, activation="relu")
    trace = net.trace([[0, 1], [1, 2], [2, 1]], [10, 3, 4])
    rows = trace.table()
    k = 0
    for layer in range(2):
        for j in range(net.layers[layer].n_out):
            for i in range(net.layers[layer].n_in):
                row = rows.iloc[k]
                f = trace.factors(layer, i, j)
                assert row["node_value"] == pytest.approx(f.node_value.mean())
                assert row["activation_slope"] == pytest.approx(f.activation_slope.mean())
                assert row["downstream_slope"] == pytest.approx(f.downstream_slope.sum())
                assert row["slope"] == pytest.approx(trace.weight_slopes[layer][i, j])
                k += 1


def test_batch_explanation_lists_samples_and_sum():
    net = Network.from_weights(QUIZ, activation="relu")
    X = np.tile([[0, 1], [1, 2]], (4, 1))
    trace = net.trace(X, np.arange(8))
    text = trace.explain(1, 1, 0)
    assert "Over the batch of 8 samples" in text
    assert "1/m" in text
    assert "... 3 more samples" in text
    assert f"sum of the 8 products = {trace.weight_slopes[1][1, 0]:.6g}" in text


@pytest.mark.parametrize(("layer", "i", "j", "message"), [
    (2, 0, 0, "layer = 2 is out of range: the network has 2 layer(s), so valid layer are 0..1"),
    (-1, 0, 0, "valid layer are 0..1"),
    (0, 2, 0, "i = 2 is out of range: layers[0] is fed by 2 node(s), so valid i are 0..1"),
    (0, 0, 5, "j = 5 is out of range: layers[0] has 2 node(s), so valid j are 0..1"),
    (1, 0, 1, "valid j are 0..0"),
])
def test_out_of_range_names_valid_range(layer, i, j, message):
    trace = quiz_trace()
    with pytest.raises(IndexError) as info:
        trace.explain(layer, i, j)
    assert message in str(info.value)
    with pytest.raises(IndexError):
        trace.factors(layer, i, j)


def test_bad_index_types_and_missing_bias():
    trace = quiz_trace()
    with pytest.raises(TypeError, match="i must be an int, got 1.5"):
        trace.factors(0, 1.5, 0)
    with pytest.raises(TypeError, match="layer must be an int"):
        trace.factors(True, 0, 0)
    with pytest.raises(IndexError, match=r"layers\[0\] has no bias"):
        trace.factors(0, "bias", 0)
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        trace.explain(0, 0, 0, learning_rate=-1)


def test_fused_pair_explained_with_input_slope():
    net = Network.mlp([3, 2, 1], activation="tanh", output="sigmoid", seed=3)
    trace = net.trace([[0.5, -1, 2]], [1], loss="binary_crossentropy")
    text = trace.explain(1, 0, 0)
    assert "slope of the loss at the input of output node 0, fused" in text
    f = trace.factors(1, 0, 0)
    assert f.fused == "sigmoid + binary_crossentropy"
    assert f.input_slope[0] == pytest.approx(trace.predictions[0, 0] - 1)
    # Hidden layers still factor into three.
    assert trace.factors(0, 0, 0).fused is None
    # The table takes the fused slope apart: the sigmoid's own slope p(1 - p) times the
    # loss's slope at the output, whose product is the fused slope p - 1.
    rows = trace.table()
    out = rows[rows["layer"] == 1]
    p = trace.predictions[0, 0]
    np.testing.assert_allclose(out["activation_slope"], p * (1 - p), rtol=1e-12)
    np.testing.assert_allclose(out["downstream_slope"], trace.node_slopes[2][0, 0], rtol=1e-12)
    np.testing.assert_allclose(out["node_value"] * out["activation_slope"]
                               * out["downstream_slope"], out["slope"], rtol=1e-12)
    np.testing.assert_allclose(out["activation_slope"] * out["downstream_slope"], p - 1,
                               rtol=1e-12)


def test_table_keeps_nan_where_the_slope_does_not_factor():
    # A saturated sigmoid: p is 1 to the last digit, its own slope 0, the fused slope 1.
    net = Network.from_weights([np.array([[100.0]])], activation="sigmoid")
    trace = net.trace([[10.0]], [0], loss="binary_crossentropy")
    assert trace.predictions[0, 0] == 1 and trace.weight_slopes[0][0, 0] == 10
    row = trace.table().iloc[0]
    assert np.isnan(row["activation_slope"]) and row["downstream_slope"] == 1
    # A softmax with categorical cross-entropy: each output depends on every input.
    net = Network.mlp([3, 2, 3], activation="tanh", output="softmax", seed=3)
    trace = net.trace([[0.5, -1, 2]], [[0, 1, 0]], loss="categorical_crossentropy")
    rows = trace.table()
    out = rows[rows["layer"] == 1]
    assert np.isnan(out["activation_slope"]).all()
    np.testing.assert_allclose(out["downstream_slope"],
                               trace.input_slopes[1][0, out["to"].to_numpy(int)])
    assert not np.isnan(rows[rows["layer"] == 0]["activation_slope"]).any()


def test_table_splits_a_fused_sigmoid_for_a_batch_and_in_float32():
    for dtype, rtol in (("float64", 1e-12), ("float32", 1e-5)):
        net = Network.mlp([3, 2, 1], activation="tanh", output="sigmoid", seed=3, dtype=dtype)
        X = np.array([[0.5, -1, 2], [1, 2, 3]])
        trace = net.trace(X, [1, 0], loss="binary_crossentropy")
        out = trace.table()
        out = out[out["layer"] == 1]
        p = trace.predictions[:, 0].astype(float)
        np.testing.assert_allclose(out["activation_slope"], np.mean(p * (1 - p)), rtol=rtol)
        np.testing.assert_allclose(out["downstream_slope"], trace.node_slopes[2][:, 0].sum(),
                                   rtol=rtol)


def _network(draw, activations, loss):
    sizes = draw(st.lists(st.integers(1, 4), min_size=2, max_size=4))
    seed = draw(st.integers(0, 10_000))
    n_layers = len(sizes) - 1
    acts = [draw(st.sampled_from(activations)) for _ in range(n_layers)]
    if loss == "binary_crossentropy":
        acts[-1] = "sigmoid"
    if loss == "categorical_crossentropy":
        acts[-1] = "softmax"
        sizes[-1] = max(sizes[-1], 2)
    bias = draw(st.booleans())
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=(sizes[k], sizes[k + 1])) for k in range(n_layers)]
    biases = [rng.normal(size=sizes[k + 1]) for k in range(n_layers)] if bias else None
    net = Network.from_weights(weights, activation=acts, biases=biases)
    m = draw(st.integers(1, 5))
    X = rng.normal(size=(m, sizes[0])) * 2
    if loss == "binary_crossentropy":
        y = rng.integers(0, 2, size=(m, sizes[-1])).astype(float)
    elif loss == "categorical_crossentropy":
        y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], size=m)]
    else:
        y = rng.normal(size=(m, sizes[-1]))
    return net, X, y


@st.composite
def traced(draw):
    loss = draw(st.sampled_from(PLAIN_LOSSES + ["binary_crossentropy",
                                                "categorical_crossentropy"]))
    net, X, y = _network(draw, ACTIVATIONS, loss)
    return net.trace(X, y, loss=loss)


@settings(max_examples=120, deadline=None)
@given(traced())
def test_factors_multiply_to_every_weight_slope(trace):
    for k, layer in enumerate(trace.network.layers):
        for i in range(layer.n_in):
            for j in range(layer.n_out):
                f = trace.factors(k, i, j)
                expected = trace.weight_slopes[k][i, j]
                assert f.slope == expected
                np.testing.assert_allclose(f.products.sum(), expected, rtol=1e-9, atol=1e-12)
                if f.fused is None:
                    np.testing.assert_allclose(f.activation_slope * f.downstream_slope,
                                               f.input_slope, rtol=1e-12, atol=1e-15)
                    np.testing.assert_allclose(
                        (f.node_value * f.activation_slope * f.downstream_slope).sum(),
                        expected, rtol=1e-9, atol=1e-12)
        if layer.has_bias:
            for j in range(layer.n_out):
                f = trace.factors(k, "bias", j)
                np.testing.assert_allclose(f.products.sum(), trace.bias_slopes[k][j],
                                           rtol=1e-9, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(traced())
def test_explanation_states_the_exact_slope(trace):
    layer = len(trace.network.layers) - 1
    text = trace.explain(layer, 0, 0, learning_rate=0.1)
    slope = trace.weight_slopes[layer][0, 0]
    assert (f"{slope:.6g}" if slope != 0 else "= 0") in text
    assert "learning rate 0.1" in text
    if trace.factors(layer, 0, 0).fused:
        assert "fused" in text or "softmax" in text


# ------------------------------------------------- the optimizer's step, names, inputs
def test_update_uses_the_optimizer_given():
    from slopes.optimizers import SGD, Adam

    trace = quiz_trace()
    # Adam's first step from fresh moments: -lr * slope / (|slope| + eps), about -lr * sign.
    text = trace.explain(1, 1, 0, optimizer=Adam(learning_rate=0.01))
    change = -0.01 * 18 / (18 + 1e-8)
    assert text.splitlines()[-1] == (
        "The first step of adam (learning rate 0.01, beta1 0.9, beta2 0.999, eps 1e-08), from "
        f"fresh moments, changes it by {change:.6g}, to 3 - {-change:.6g} = {3 + change:.6g}.")
    (w1, _), (w2, _) = trace.updates("adam", learning_rate=0.01)
    np.testing.assert_allclose(w2.ravel(), -0.01 * np.array([6, 18]) / (np.array([6, 18]) + 1e-8))
    # SGD with momentum and Nesterov: the first step is -lr * (1 + momentum) * slope.
    nesterov = SGD(0.1, momentum=0.9, nesterov=True)
    np.testing.assert_allclose(trace.updates(nesterov)[1][0].ravel(), [-1.14, -3.42])
    assert "The first step of sgd (learning rate 0.1, momentum 0.9, nesterov True)" in \
        trace.explain(1, 0, 0, optimizer=nesterov)
    table = trace.table(optimizer=nesterov)
    np.testing.assert_allclose(table[table["layer"] == 1]["update"], [-1.14, -3.42])
    # Plain gradient descent reads as before, whichever way it is given.
    assert trace.explain(1, 1, 0, optimizer=SGD(0.01)) == trace.explain(1, 1, 0)
    with pytest.raises(ValueError, match="give one or the other"):
        trace.explain(1, 1, 0, optimizer=SGD(0.1), learning_rate=0.1)


def test_a_trained_optimizer_keeps_its_state_and_is_not_changed():
    from slopes.optimizers import Adam

    net = Network.from_weights(QUIZ, activation="relu")
    adam = Adam(learning_rate=0.01)
    net.fit([[0, 1]], [7], optimizer=adam, epochs=3, verbose=0)
    state = [{k: np.copy(v) for k, v in s.items()} for s in adam.state]
    trace = net.trace([0, 1], 7)
    text = trace.explain(1, 1, 0, optimizer=adam)
    assert "The next step of adam" in text
    # The change shown is the step this Adam would take next, and it has not taken it.
    slopes = [s for layer in net.layers for s in layer.parameter_slopes()]
    expected = -copy.deepcopy(adam).updates(net.parameters(), slopes)[1]
    np.testing.assert_allclose(trace.updates(adam)[1][0], expected)
    assert adam.iterations == 3
    for before, after in zip(state, adam.state, strict=True):
        for key in before:
            np.testing.assert_array_equal(before[key], after[key])


def test_names_of_inputs_and_outputs():
    text = quiz_trace().explain(0, 1, 1, input_names=["age", "income"], output_names=["price"])
    assert text.startswith("The weight from input 1 (income) to node 1 of hidden layer 1")
    assert "value of the node feeding it (input 1 (income)): 1" in text
    text = quiz_trace().explain(1, 0, 0, output_names=["price"])
    assert "to output node 0 (price)" in text
    with pytest.raises(ValueError, match="input_names must give one name for each"):
        quiz_trace().explain(0, 0, 0, input_names=["only one"])


def test_prediction_slopes_match_central_differences():
    rng = np.random.default_rng(3)
    net = Network.mlp([4, 5, 3], activation="tanh", output="softmax", seed=1)
    X = rng.normal(size=(3, 4))
    trace = net.trace(X, [0, 2, 1], loss="categorical_crossentropy")
    for output in range(3):
        slopes = trace.prediction_slopes(output)
        numeric = np.zeros_like(X)
        for i in range(4):
            step = np.zeros(4)
            step[i] = 1e-6
            numeric[:, i] = (net.predict(X + step)[:, output]
                             - net.predict(X - step)[:, output]) / 2e-6
        np.testing.assert_allclose(slopes, numeric, atol=1e-8)
    with pytest.raises(IndexError, match="valid output are 0..2"):
        trace.prediction_slopes(3)


def test_fused_sigmoid_explained_in_words_with_both_factors():
    net = Network.mlp([3, 2, 1], activation="tanh", output="sigmoid", seed=3)
    trace = net.trace([[0.5, -1, 2]], [1], loss="binary_crossentropy")
    text = trace.explain(1, 0, 0)
    f = trace.factors(1, 0, 0)
    p = trace.predictions[0, 0]
    assert f"the sigmoid's own slope there is {p * (1 - p):.6g}" in text
    assert f"the loss's slope at its output {trace.node_slopes[2][0, 0]:.6g}" in text
    assert "never overflows" in text
    assert f.activation_slope[0] * f.downstream_slope[0] == pytest.approx(f.input_slope[0])
