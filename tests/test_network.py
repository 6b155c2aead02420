"""Unit tests for slopes.network.Network and slopes.trace.Trace."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slopes import Dense, History, Network, Trace

COURSE_WEIGHTS = {"node_0": [2, 1], "node_1": [1, 2], "output": [1, 1]}
ACTIVATIONS = ["identity", "relu", "leaky_relu", "sigmoid", "tanh", "softmax"]


def course_net() -> Network:
    return Network.from_weights(COURSE_WEIGHTS, activation="relu")


def random_net(sizes, activation="tanh", output="identity", bias=True, seed=0,
               dtype=np.float64) -> Network:
    return Network.mlp(sizes, activation=activation, output=output, bias=bias, seed=seed,
                       dtype=dtype)


def targets_for(loss: str, rng: np.random.Generator, m: int, k: int) -> np.ndarray:
    if loss == "binary_crossentropy":
        return rng.integers(0, 2, size=(m, k)).astype(float)
    if loss == "categorical_crossentropy":
        return np.eye(k)[rng.integers(0, k, size=m)]
    return rng.normal(size=(m, k))


# ----------------------------------------------------------------------------- predict
def test_course_relu_net_predicts_nine():
    # hidden: node_0 = 0*2 + 3*1 = 3, node_1 = 0*1 + 3*2 = 6; output = 3*1 + 6*1 = 9
    out = course_net().predict(np.array([0, 3]))
    assert out.shape == (1,)
    np.testing.assert_array_equal(out, np.array([9.0]))


def test_predict_1d_vs_2d_shapes():
    net = course_net()
    assert net.predict([0, 3]).shape == (1,)
    assert net.predict([[0, 3]]).shape == (1, 1)
    out = net.predict(np.array([[0, 3], [1, 1], [-1, -1]]))
    # [1, 1]: hidden 3, 3 -> 6; [-1, -1]: hidden -3, -3 -> relu 0, 0 -> 0
    np.testing.assert_array_equal(out, [[9.0], [6.0], [0.0]])
    multi = random_net([4, 3, 2])
    assert multi.predict(np.zeros(4)).shape == (2,)
    assert multi.predict(np.zeros((7, 4))).shape == (7, 2)


def test_predict_keeps_nothing_and_changes_no_slopes():
    net = random_net([3, 4, 2], seed=1)
    X = np.random.default_rng(0).normal(size=(5, 3))
    net.predict(X)
    assert all(layer.weight_slopes is None and layer.bias_slopes is None for layer in net.layers)
    t = net.trace(X, np.zeros((5, 2)), loss="sse")
    before = [layer.weight_slopes.copy() for layer in net.layers]
    weights = [layer.weights.copy() for layer in net.layers]
    net.predict(X * 10)
    for layer, ws, w in zip(net.layers, before, weights, strict=True):
        np.testing.assert_array_equal(layer.weight_slopes, ws)
        np.testing.assert_array_equal(layer.weights, w)
    np.testing.assert_array_equal(t.weight_slopes[0], before[0])


def test_predict_equals_trace_predictions():
    net = random_net([3, 4, 2], activation="sigmoid", output="softmax", seed=3)
    X = np.random.default_rng(0).normal(size=(6, 3))
    t = net.trace(X, np.eye(2)[[0, 1, 0, 1, 1, 0]], loss="categorical_crossentropy")
    np.testing.assert_allclose(net.predict(X), t.predictions, rtol=1e-15)


# ------------------------------------------------------------------------------- trace
def test_trace_indexing_and_shapes():
    sizes = [3, 5, 4, 2]
    net = random_net(sizes, seed=2)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 3))
    y = rng.normal(size=(6, 2))
    t = net.trace(X, y, loss="mse")
    L = len(net.layers)
    assert isinstance(t, Trace)
    assert len(t.node_values) == L + 1
    assert len(t.node_inputs) == L
    assert len(t.node_slopes) == L + 1
    assert len(t.input_slopes) == L
    assert len(t.weight_slopes) == L and len(t.bias_slopes) == L
    for k in range(L + 1):
        assert t.node_values[k].shape == (6, sizes[k])
        assert t.node_slopes[k].shape == (6, sizes[k])
    for k in range(L):
        assert t.node_inputs[k].shape == (6, sizes[k + 1])
        assert t.input_slopes[k].shape == (6, sizes[k + 1])
        assert t.weight_slopes[k].shape == net.layers[k].weights.shape
        assert t.bias_slopes[k].shape == net.layers[k].bias.shape
        # the slopes are stored on the layers too
        np.testing.assert_array_equal(net.layers[k].weight_slopes, t.weight_slopes[k])
        np.testing.assert_array_equal(net.layers[k].bias_slopes, t.bias_slopes[k])
    np.testing.assert_array_equal(t.node_values[0], X)
    np.testing.assert_array_equal(t.predictions, t.node_values[-1])
    np.testing.assert_allclose(t.errors, t.predictions - y)
    np.testing.assert_array_equal(t.actual, y)
    assert t.n_samples == 6
    assert t.loss == pytest.approx(np.mean((t.predictions - y) ** 2))
    assert t.loss == pytest.approx(net.evaluate(X, y, loss="mse"))


def test_trace_without_bias_has_none_bias_slopes():
    net = random_net([2, 3, 1], bias=False)
    t = net.trace(np.ones((2, 2)), [1.0, 2.0], loss="sse")
    assert t.bias_slopes == [None, None]
    assert t.biases == [None, None]


def test_trace_keeps_a_copy_of_the_weights():
    net = random_net([2, 3, 1], seed=0)
    t = net.trace(np.ones((1, 2)), [1.0], loss="sse")
    original = net.layers[0].weights.copy()
    net.layers[0].weights = np.zeros((2, 3))
    np.testing.assert_array_equal(t.weights[0], original)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("seed", range(3))
def test_node_slope_is_sum_over_weights_leaving_it(activation, seed):
    net = random_net([4, 5, 3, 2], activation=activation, seed=seed)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(6, 4))
    t = net.trace(X, rng.normal(size=(6, 2)), loss="sse")
    for k, layer in enumerate(net.layers):
        # node i's slope = sum_j w_ij * (slope at the input of node j)
        explicit = np.zeros_like(t.node_slopes[k])
        for i in range(layer.n_in):
            for j in range(layer.n_out):
                explicit[:, i] += layer.weights[i, j] * t.input_slopes[k][:, j]
        np.testing.assert_allclose(t.node_slopes[k], explicit, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(t.node_slopes[k], t.input_slopes[k] @ layer.weights.T,
                                   rtol=1e-12, atol=1e-14)
        # weight slope = sum over samples of (feeding node value) * (slope at fed node input)
        np.testing.assert_allclose(t.weight_slopes[k], t.node_values[k].T @ t.input_slopes[k],
                                   rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(t.bias_slopes[k], t.input_slopes[k].sum(axis=0),
                                   rtol=1e-12, atol=1e-14)
        # slope at a node's input = activation backward of the node's slope
        z, a = t.node_inputs[k], t.node_values[k + 1]
        np.testing.assert_allclose(
            t.input_slopes[k], layer.activation.backward(z, a, t.node_slopes[k + 1]),
            rtol=1e-12, atol=1e-14,
        )


def test_node_slopes_match_central_difference_of_input():
    # node_slopes[0] is the slope of the loss with respect to X itself.
    net = random_net([3, 4, 2], activation="tanh", seed=5)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(2, 3))
    y = rng.normal(size=(2, 2))
    t = net.trace(X, y, loss="mse")
    eps = 1e-6
    numeric = np.empty_like(X)
    for index in np.ndindex(X.shape):
        up, down = X.copy(), X.copy()
        up[index] += eps
        down[index] -= eps
        numeric[index] = (net.evaluate(up, y, "mse") - net.evaluate(down, y, "mse")) / (2 * eps)
    np.testing.assert_allclose(t.node_slopes[0], numeric, rtol=1e-6, atol=1e-10)


def test_hand_worked_course_network():
    # Course relu net, X = [0, 3], y = 5, loss sse.
    # forward: z0 = [0*2 + 3*1, 0*1 + 3*2] = [3, 6], a0 = [3, 6]; z1 = 3 + 6 = 9, a1 = 9
    # error = 9 - 5 = 4, loss = 4**2 = 16
    # output: node slope = 2 * error = 8; relu'(9) = 1 -> input slope 8
    # output weight slopes = hidden values * 8 = [24, 48]
    # hidden node slopes = 8 * output weights = [8, 8]; relu'([3, 6]) = 1 -> input slopes [8, 8]
    # hidden weight slopes: w_ij slope = x_i * 8 -> [[0, 0], [24, 24]]
    # input node slopes = [8, 8] @ W0.T = [8*2 + 8*1, 8*1 + 8*2] = [24, 24]
    net = course_net()
    t = net.trace(np.array([0, 3]), np.array([5]), loss="sse")
    assert t.loss == 16.0
    np.testing.assert_array_equal(t.node_inputs[0], [[3.0, 6.0]])
    np.testing.assert_array_equal(t.node_values[1], [[3.0, 6.0]])
    np.testing.assert_array_equal(t.predictions, [[9.0]])
    np.testing.assert_array_equal(t.errors, [[4.0]])
    np.testing.assert_array_equal(t.node_slopes[2], [[8.0]])
    np.testing.assert_array_equal(t.input_slopes[1], [[8.0]])
    np.testing.assert_array_equal(t.weight_slopes[1], [[24.0], [48.0]])
    np.testing.assert_array_equal(t.node_slopes[1], [[8.0, 8.0]])
    np.testing.assert_array_equal(t.input_slopes[0], [[8.0, 8.0]])
    np.testing.assert_array_equal(t.weight_slopes[0], [[0.0, 0.0], [24.0, 24.0]])
    np.testing.assert_array_equal(t.node_slopes[0], [[24.0, 24.0]])
    # mse with one sample and one output is the same loss, slope 2 * error
    t_mse = net.trace(np.array([0, 3]), np.array([5]), loss="mse")
    np.testing.assert_array_equal(t_mse.weight_slopes[1], [[24.0], [48.0]])


def test_hand_worked_sigmoid_network_half_mse():
    # Course single-node network: x = [1, 2], w = [0.5, -0.5], sigmoid output, y = 0.6.
    # h = 1*0.5 + 2*(-0.5) = -0.5; p = sigmoid(-0.5) = 0.3775406688
    # half_mse = (p - y)^2 / 2 = (-0.2224593312)^2 / 2 = 0.0247440772
    # slope at p = p - y = -0.2224593312; f'(h) = p(1 - p) = 0.2350037122
    # slope at h = -0.0522785... ; weight slopes = x * that = [-0.0522786, -0.1045572]
    net = Network.from_weights([[0.5, -0.5]], activation="sigmoid")
    t = net.trace([1.0, 2.0], [0.6], loss="half_mse")
    p = 0.3775406687981454
    assert t.predictions[0, 0] == pytest.approx(p, rel=1e-12)
    assert t.loss == pytest.approx(0.0247440772, rel=1e-8)
    delta = (p - 0.6) * p * (1 - p)
    np.testing.assert_allclose(t.weight_slopes[0], [[delta], [2 * delta]], rtol=1e-12)
    np.testing.assert_allclose(t.weight_slopes[0], [[-0.05227876], [-0.10455752]], rtol=1e-6)


def test_two_hidden_layers_course_dict():
    # node_0_0 = 3*2 + 5*4 = 26; node_0_1 = 3*4 + 5*(-5) = -13 -> relu 0
    # node_1_0 = 26*(-1) + 0*2 = -26 -> 0; node_1_1 = 26*1 + 0*2 = 26
    # output = 0*2 + 26*7 = 182
    weights = {"node_0_0": [2, 4], "node_0_1": [4, -5], "node_1_0": [-1, 2],
               "node_1_1": [1, 2], "output": [2, 7]}
    net = Network.from_weights(weights, activation=["relu", "relu", "identity"])
    assert net.sizes == [2, 2, 2, 1]
    np.testing.assert_array_equal(net.layers[0].weights, [[2, 4], [4, -5]])
    np.testing.assert_array_equal(net.layers[1].weights, [[-1, 1], [2, 2]])
    np.testing.assert_array_equal(net.predict([3, 5]), [182.0])


# ------------------------------------------------------------------- vectorization
@given(
    seed=st.integers(0, 2**32 - 1),
    m=st.integers(2, 8),
    hidden=st.lists(st.integers(1, 5), min_size=0, max_size=2),
    activation=st.sampled_from(ACTIVATIONS),
    bias=st.booleans(),
)
@settings(max_examples=40, deadline=None)
def test_batched_trace_equals_sum_of_per_sample_traces(seed, m, hidden, activation, bias):
    rng = np.random.default_rng(seed)
    sizes = [3, *hidden, 2]
    net = random_net(sizes, activation=activation, bias=bias, seed=seed)
    X = rng.normal(size=(m, 3))
    y = rng.normal(size=(m, 2))
    batch = net.trace(X, y, loss="sse")
    singles = [net.trace(X[i], y[i], loss="sse") for i in range(m)]
    assert batch.loss == pytest.approx(sum(s.loss for s in singles), rel=1e-12)
    for k in range(len(net.layers)):
        total = sum(s.weight_slopes[k] for s in singles)
        np.testing.assert_allclose(batch.weight_slopes[k], total, rtol=1e-10, atol=1e-12)
        if bias:
            total_b = sum(s.bias_slopes[k] for s in singles)
            np.testing.assert_allclose(batch.bias_slopes[k], total_b, rtol=1e-10, atol=1e-12)
    for k in range(len(net.layers) + 1):
        rows = np.concatenate([s.node_values[k] for s in singles])
        np.testing.assert_allclose(batch.node_values[k], rows, rtol=1e-12, atol=1e-15)
        rows = np.concatenate([s.node_slopes[k] for s in singles])
        np.testing.assert_allclose(batch.node_slopes[k], rows, rtol=1e-10, atol=1e-12)


def test_batched_trace_half_mse_is_mean_of_per_sample_traces():
    net = random_net([3, 4, 1], activation="sigmoid", seed=4)
    rng = np.random.default_rng(4)
    X = rng.normal(size=(5, 3))
    y = rng.normal(size=5)
    batch = net.trace(X, y, loss="half_mse")
    singles = [net.trace(X[i], y[i], loss="half_mse") for i in range(5)]
    for k in range(2):
        mean = sum(s.weight_slopes[k] for s in singles) / 5
        np.testing.assert_allclose(batch.weight_slopes[k], mean, rtol=1e-10, atol=1e-14)


# ------------------------------------------------------------------------ from_weights
def test_from_weights_lists():
    # a 1-D entry is the weights into a single node: (n_in, 1)
    net = Network.from_weights([[[1.0, 2.0], [3.0, 4.0]], [1.0, -1.0]])
    assert [layer.weights.shape for layer in net.layers] == [(2, 2), (2, 1)]
    assert all(layer.bias is None for layer in net.layers)
    # [1, 1] -> hidden [4, 6] -> 4 - 6 = -2 (identity everywhere)
    np.testing.assert_array_equal(net.predict([1.0, 1.0]), [-2.0])


def test_from_weights_with_biases():
    net = Network.from_weights([[[1.0, 2.0], [3.0, 4.0]], [1.0, -1.0]],
                               biases=[[0.5, -0.5], None], activation="relu")
    np.testing.assert_array_equal(net.layers[0].bias, [0.5, -0.5])
    assert net.layers[1].bias is None
    # [1, 1] -> z = [4.5, 5.5] -> 4.5 - 5.5 = -1 -> relu 0
    np.testing.assert_array_equal(net.predict([1.0, 1.0]), [0.0])
    # one layer, weights [1, 2] into one node, bias 3: [1, 1] -> 1 + 2 + 3 = 6
    net2 = Network.from_weights([[1.0, 2.0]], biases=[[3.0]])
    np.testing.assert_array_equal(net2.predict([1.0, 1.0]), [6.0])


def test_from_weights_activation_list():
    net = Network.from_weights([np.ones((2, 3)), np.ones((3, 1))],
                               activation=["tanh", "sigmoid"])
    assert [layer.activation.name for layer in net.layers] == ["tanh", "sigmoid"]
    with pytest.raises(ValueError, match="activation has 3 entries, but the network has 2 layers"):
        Network.from_weights([np.ones((2, 3)), np.ones((3, 1))],
                             activation=["tanh", "sigmoid", "relu"])


def test_from_weights_multiple_outputs_in_dict():
    # "output": one list per output node
    net = Network.from_weights({"node_0": [1, 0], "node_1": [0, 1],
                                "output": [[1, 1], [1, -1]]})
    np.testing.assert_array_equal(net.predict([2.0, 3.0]), [5.0, -1.0])


@pytest.mark.parametrize(
    ("weights", "kwargs", "error", "message"),
    [
        ({"node_0": [1, 2]}, {}, ValueError, "the weights dict needs an 'output' entry"),
        ({"node_0": [1, 2], "hidden": [1], "output": [1]}, {}, ValueError,
         "unexpected key 'hidden' in the weights dict"),
        ({"node_0": [1, 2], "node_2": [1, 2], "output": [1, 1]}, {}, ValueError,
         r"hidden layer 0 has nodes \[0, 2\]; expected 0\.\.n-1"),
        ({"node_0": [1, 2], "node_1": [1], "output": [1, 1]}, {}, ValueError,
         "the nodes of hidden layer 0 have different numbers of weights"),
        ({"node_0": [1, 2], "output": [1, 1]}, {}, ValueError,
         "layer 0 has 1 nodes, but the weights of layer 1 expect 2 inputs"),
        ({"node_0": [1, 2], "output": [1]}, {"biases": [[0.0], [0.0]]}, ValueError,
         "biases can only be given with a list of weight matrices"),
        ([], {}, ValueError, "weights is an empty list"),
        ("weights", {}, TypeError, "weights must be a dict like"),
        ([[1.0, 2.0]], {"biases": [None, None]}, ValueError,
         "biases has 2 entries, but there are 1 layers"),
        ([np.ones((2, 3)), np.ones((2, 1))], {}, ValueError,
         r"layers\[0\] has 3 nodes, but layers\[1\] expects 2 inputs"),
        ([np.ones((2, 2, 2))], {}, ValueError, "weights\\[0\\] must be 1-D or 2-D"),
    ],
)
def test_from_weights_errors(weights, kwargs, error, message):
    with pytest.raises(error, match=message):
        Network.from_weights(weights, **kwargs)


# ------------------------------------------------------------------------------- float32
@pytest.mark.parametrize(
    ("output", "loss"),
    [("identity", "sse"), ("identity", "mse"), ("tanh", "half_mse"), ("relu", "mae"),
     ("sigmoid", "binary_crossentropy"), ("softmax", "categorical_crossentropy"),
     ("softmax", "mse"), ("leaky_relu", "mse")],
)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_float32_network_stays_float32(activation, output, loss):
    net = random_net([3, 4, 2], activation=activation, output=output, seed=0,
                     dtype=np.float32)
    assert net.dtype == np.float32
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 3))  # float64 input is converted
    y = targets_for(loss, rng, 6, 2)
    assert net.predict(X).dtype == np.float32
    assert net.predict(X[0]).dtype == np.float32
    t = net.trace(X, y, loss=loss)
    arrays = (t.node_values + t.node_inputs + t.node_slopes + t.input_slopes + t.weight_slopes
              + t.bias_slopes + [t.predictions, t.errors, t.actual])
    for arr in arrays:
        assert arr.dtype == np.float32
    history = net.fit(X, y, loss=loss, learning_rate=0.01, epochs=3, batch_size=4,
                      seed=0, verbose=0)
    for layer in net.layers:
        assert layer.weights.dtype == np.float32
        assert layer.bias.dtype == np.float32
        assert layer.weight_slopes.dtype == np.float32
    assert net.predict(X).dtype == np.float32
    assert len(history["loss"]) == 3
    assert all(np.isfinite(history["loss"]))


def test_from_weights_float32():
    net = Network.from_weights(COURSE_WEIGHTS, activation="relu", dtype=np.float32)
    out = net.predict(np.array([0, 3]))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [9.0])


def test_astype_and_copy():
    net = random_net([2, 3, 1], seed=0)
    net32 = net.astype(np.float32)
    assert net32.dtype == np.float32 and net.dtype == np.float64
    copy = net.copy()
    copy.layers[0].weights = np.zeros((2, 3))
    assert np.any(net.layers[0].weights != 0)


# ------------------------------------------------------------------------------- fit
def test_fit_one_step_is_gradient_descent():
    net = random_net([3, 4, 1], activation="sigmoid", seed=0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 3))
    y = rng.normal(size=8)
    t = net.trace(X, y, loss="mse")
    expected = [(layer.weights - 0.1 * ws, layer.bias - 0.1 * bs)
                for layer, ws, bs in zip(net.layers, t.weight_slopes, t.bias_slopes, strict=True)]
    history = net.fit(X, y, loss="mse", learning_rate=0.1, epochs=1, shuffle=False,
                      verbose=0)
    assert isinstance(history, History)
    assert history["loss"] == [pytest.approx(t.loss)]
    assert history.epoch == [0]
    for layer, (w, b) in zip(net.layers, expected, strict=True):
        np.testing.assert_allclose(layer.weights, w, rtol=1e-12)
        np.testing.assert_allclose(layer.bias, b, rtol=1e-12)


def test_fit_reduces_loss():
    net = random_net([2, 8, 1], activation="tanh", seed=0)
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(64, 2))
    y = X[:, 0] * 0.5 - X[:, 1] * 0.3
    history = net.fit(X, y, loss="mse", learning_rate=0.1, epochs=50, batch_size=16,
                      seed=0, verbose=0)
    assert len(history["loss"]) == 50
    assert history["loss"][-1] < 0.5 * history["loss"][0]


# ------------------------------------------------------------------------------- mlp
def test_mlp_sizes_activations_and_seed():
    net = Network.mlp([6, 2, 1], activation="sigmoid", output="sigmoid", seed=0)
    assert net.sizes == [6, 2, 1]
    assert net.n_inputs == 6 and net.n_outputs == 1
    assert [layer.activation.name for layer in net.layers] == ["sigmoid", "sigmoid"]
    assert [layer.weights.shape for layer in net.layers] == [(6, 2), (2, 1)]
    assert net.parameter_names() == ["layers[0].weights", "layers[0].bias",
                                     "layers[1].weights", "layers[1].bias"]
    again = Network.mlp([6, 2, 1], activation="sigmoid", output="sigmoid", seed=0)
    other = Network.mlp([6, 2, 1], activation="sigmoid", output="sigmoid", seed=1)
    for a, b in zip(net.parameters(), again.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(net.layers[0].weights, other.layers[0].weights)
    # layers draw different weights from the one seed
    deep = Network.mlp([3, 3, 3], seed=0)
    assert not np.allclose(deep.layers[0].weights, deep.layers[1].weights)


def test_mlp_defaults_and_bias_false():
    net = Network.mlp([4, 5, 3, 2], seed=0, bias=False)
    assert [layer.activation.name for layer in net.layers] == ["relu", "relu", "identity"]
    assert all(layer.bias is None for layer in net.layers)
    assert net.parameter_names() == ["layers[0].weights", "layers[1].weights",
                                     "layers[2].weights"]


def test_mlp_needs_two_sizes():
    with pytest.raises(ValueError, match=r"sizes needs at least 2 entries .*, got \[3\]"):
        Network.mlp([3])


# ---------------------------------------------------------------------------- building
def test_layers_that_do_not_chain_name_the_layer():
    with pytest.raises(ValueError, match=r"layers\[1\] has 4 nodes, but layers\[2\] expects 5"):
        Network([Dense(2, 3), Dense(3, 4), Dense(5, 1)])


def test_mixed_dtypes_rejected():
    with pytest.raises(
        ValueError,
        match=r"all layers must share one dtype, got layers\[0\]: float32, layers\[1\]: float64",
    ):
        Network([Dense(2, 3, dtype=np.float32), Dense(3, 1, dtype=np.float64)])


def test_empty_and_non_dense_layers_rejected():
    with pytest.raises(ValueError, match="a Network needs at least one layer"):
        Network([])
    with pytest.raises(TypeError, match=r"^layers\[1\] must be a Dense layer, got 'dense' \(str\); "
                                        r"an activation goes inside its layer: "
                                        r"Dense\(n_in, n_out, activation='relu'\)$"):
        Network([Dense(2, 2), "dense"])


def test_repr():
    net = Network.mlp([2, 3, 1], activation="tanh", seed=0)
    assert repr(net) == "Network(2-3-1, activations=[tanh, identity], dtype=float64)"
    t = net.trace([0.0, 1.0], [1.0], loss="sse")
    assert repr(t).startswith("Trace(network 2-3-1, 1 sample(s), loss sse = ")
