"""Unit tests for slopes.layers.Dense and slopes.initializers."""

from __future__ import annotations

import numpy as np
import pytest

from slopes import Dense
from slopes.activations import Relu, Sigmoid
from slopes.initializers import INITIALIZERS, initial_weights, make_rng


# ------------------------------------------------------------------------------ shapes
def test_dense_shapes():
    layer = Dense(3, 4, seed=0)
    assert layer.weights.shape == (3, 4)
    assert layer.bias.shape == (4,)
    np.testing.assert_array_equal(layer.bias, 0.0)  # biases start at zero
    assert layer.has_bias
    assert layer.weight_slopes is None and layer.bias_slopes is None
    x = np.random.default_rng(1).normal(size=(5, 3))
    z, a = layer.forward(x)
    assert z.shape == (5, 4) and a.shape == (5, 4)


def test_dense_forward_computes_weighted_sum_plus_bias():
    # z = x @ W + b: [1, 2] @ [[1, -1], [2, 0.5]] + [0.5, -3] = [5.5, -3]
    layer = Dense(2, 2, activation="relu")
    layer.weights = [[1.0, -1.0], [2.0, 0.5]]
    layer.bias = [0.5, -3.0]
    z, a = layer.forward(np.array([[1.0, 2.0]]))
    np.testing.assert_allclose(z, [[5.5, -3.0]])
    np.testing.assert_allclose(a, [[5.5, 0.0]])


def test_dense_forward_does_not_modify_input():
    layer = Dense(2, 2, seed=0)
    layer.bias = [1.0, 1.0]
    x = np.array([[1.0, 2.0]])
    layer.forward(x)
    np.testing.assert_array_equal(x, [[1.0, 2.0]])


def test_dense_without_bias():
    layer = Dense(3, 2, bias=False, seed=0)
    assert layer.bias is None
    assert not layer.has_bias
    assert len(layer.parameters()) == 1
    assert len(Dense(3, 2, seed=0).parameters()) == 2


def test_dense_backward_shapes_and_formulas():
    rng = np.random.default_rng(0)
    layer = Dense(3, 2, seed=0)
    x = rng.normal(size=(4, 3))
    input_slope = rng.normal(size=(4, 2))
    w_slope, b_slope, node_slope = layer.backward(x, input_slope)
    np.testing.assert_allclose(w_slope, x.T @ input_slope)
    np.testing.assert_allclose(b_slope, input_slope.sum(axis=0))
    np.testing.assert_allclose(node_slope, input_slope @ layer.weights.T)
    assert layer.backward(x, input_slope, need_node_slope=False)[2] is None
    no_bias = Dense(3, 2, bias=False, seed=0)
    assert no_bias.backward(x, input_slope)[1] is None


def test_dense_activation_by_name_or_object():
    assert isinstance(Dense(2, 2, activation="sigmoid").activation, Sigmoid)
    relu = Relu()
    assert Dense(2, 2, activation=relu).activation is relu
    with pytest.raises(ValueError, match="unknown activation 'nope'; valid names are: identity"):
        Dense(2, 2, activation="nope")


# ------------------------------------------------------------------- assigning weights
def test_assign_weights_wrong_shape():
    layer = Dense(3, 2)
    with pytest.raises(
        ValueError, match=r"weights has shape \(2, 3\), but this layer expects \(3, 2\)"
    ):
        layer.weights = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"weights has shape \(6,\), but this layer expects"):
        layer.weights = np.zeros(6)


def test_assign_bias_wrong_shape():
    layer = Dense(3, 2)
    with pytest.raises(ValueError, match=r"bias has shape \(3,\), but this layer expects \(2,\)"):
        layer.bias = [1.0, 2.0, 3.0]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_rejected(bad):
    layer = Dense(2, 2)
    before = layer.weights.copy()
    w = np.ones((2, 2))
    w[1, 0] = bad
    shown = f"{bad}"  # nan, inf or -inf
    with pytest.raises(ValueError, match=rf"^weights contains 1 NaN or infinite value\(s\), the "
                                         rf"first {shown} at weights\[1, 0\]; expected finite "
                                         "numbers$"):
        layer.weights = w
    np.testing.assert_array_equal(layer.weights, before)
    with pytest.raises(ValueError, match=rf"^bias contains 1 NaN or infinite value\(s\), the "
                                         rf"first {shown} at bias\[1\]; expected finite"):
        layer.bias = [0.0, bad]


def test_non_numeric_weights_rejected():
    layer = Dense(1, 2)
    with pytest.raises(TypeError, match="weights must be numeric"):
        layer.weights = [["a", "b"]]


def test_assigned_weights_are_copied_and_converted():
    layer = Dense(2, 1, dtype=np.float32)
    w = np.array([[1.0], [2.0]])
    layer.weights = w
    w[0, 0] = 99.0
    assert layer.weights[0, 0] == 1.0
    assert layer.weights.dtype == np.float32


def test_bias_can_be_removed():
    layer = Dense(2, 2)
    layer.bias = None
    assert not layer.has_bias


# ------------------------------------------------------------------------------ dtypes
@pytest.mark.parametrize("activation", ["identity", "relu", "leaky_relu", "sigmoid", "tanh",
                                        "softmax"])
def test_float32_layer_keeps_float32_through_forward_and_backward(activation):
    layer = Dense(3, 4, activation=activation, dtype=np.float32, seed=0)
    layer.bias = [0.1, 0.2, 0.3, 0.4]
    assert layer.weights.dtype == np.float32 and layer.bias.dtype == np.float32
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    z, a = layer.forward(x)
    assert z.dtype == np.float32 and a.dtype == np.float32
    w_slope, b_slope, node_slope = layer.backward(x, np.ones_like(z))
    assert w_slope.dtype == b_slope.dtype == node_slope.dtype == np.float32


def test_float32_layer_computes_in_float32_for_float64_input():
    # The docstring promises "every computation of the layer runs in this dtype".
    layer = Dense(3, 2, activation="sigmoid", dtype=np.float32, seed=0)
    z, a = layer.forward(np.ones((2, 3)))  # float64 input
    assert z.dtype == np.float32 and a.dtype == np.float32


def test_astype_copies():
    layer = Dense(2, 3, seed=0)
    copy = layer.astype(np.float32)
    assert copy.dtype == np.float32 and copy.weights.dtype == np.float32
    assert layer.weights.dtype == np.float64
    copy.weights = np.zeros((2, 3))
    assert np.any(layer.weights != 0)


@pytest.mark.parametrize("bad", [np.int64, np.float16, "complex128", "nope"])
def test_bad_dtype(bad):
    with pytest.raises(ValueError, match="dtype must be float32 or float64, got"):
        Dense(2, 2, dtype=bad)


# -------------------------------------------------------------------------------- init
def test_normal_init_std():
    # The course's choice: normal with std 1/sqrt(n_in) = 1/20 for n_in = 400.
    w = Dense(400, 500, init="normal", seed=0).weights
    assert abs(w.mean()) < 0.005
    assert w.std() == pytest.approx(1 / np.sqrt(400), rel=0.02)


def test_glorot_uniform_bounds():
    # limit = sqrt(6 / (n_in + n_out)) = sqrt(6 / 300) = 0.1414; uniform std = limit/sqrt(3)
    w = Dense(100, 200, init="glorot_uniform", seed=0).weights
    limit = np.sqrt(6 / 300)
    assert np.all(np.abs(w) <= limit)
    assert np.abs(w).max() > 0.98 * limit
    assert w.std() == pytest.approx(limit / np.sqrt(3), rel=0.02)


def test_he_normal_std():
    # std = sqrt(2 / n_in) = sqrt(2 / 400) = 0.0707
    w = Dense(400, 500, init="he_normal", seed=0).weights
    assert abs(w.mean()) < 0.005
    assert w.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)


@pytest.mark.parametrize("init", list(INITIALIZERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_init_dtype(init, dtype):
    assert Dense(3, 2, init=init, seed=0, dtype=dtype).weights.dtype == dtype


@pytest.mark.parametrize("init", list(INITIALIZERS))
def test_seed_reproducible(init):
    a = Dense(5, 4, init=init, seed=42).weights
    b = Dense(5, 4, init=init, seed=42).weights
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("init", list(INITIALIZERS))
def test_different_seeds_differ(init):
    a = Dense(5, 4, init=init, seed=1).weights
    b = Dense(5, 4, init=init, seed=2).weights
    assert not np.allclose(a, b)


def test_seed_does_not_touch_global_random_state():
    state = np.random.get_state()[1].copy()  # noqa: NPY002 (reading it, not drawing)
    Dense(10, 10, seed=0)
    Dense(10, 10, seed=None)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002


def test_generator_seed_is_used():
    a = Dense(3, 3, seed=np.random.default_rng(7)).weights
    b = Dense(3, 3, seed=np.random.default_rng(7)).weights
    np.testing.assert_array_equal(a, b)


def test_no_seed_gives_fresh_weights():
    assert not np.array_equal(Dense(5, 5).weights, Dense(5, 5).weights)


@pytest.mark.parametrize("bad", [1.5, "0", True])
def test_bad_seed(bad):
    with pytest.raises(TypeError, match="seed must be an int, a numpy Generator or None"):
        make_rng(bad)


def test_unknown_init_lists_valid_names():
    message = "unknown init 'xavier'; valid names are: normal, glorot_uniform, he_normal"
    with pytest.raises(ValueError, match=message):
        Dense(2, 2, init="xavier")
    with pytest.raises(ValueError, match="unknown init 'xavier'"):
        initial_weights("xavier", 2, 2, make_rng(0), np.dtype(np.float64))


# ------------------------------------------------------------------------------ sizes
@pytest.mark.parametrize(
    ("n_in", "n_out", "message"),
    [
        (0, 2, "n_in must be a positive int, got 0"),
        (-1, 2, "n_in must be a positive int, got -1"),
        (2.0, 2, r"n_in must be a positive int, got 2\.0"),
        (True, 2, "n_in must be a positive int, got True"),
        (2, 0, "n_out must be a positive int, got 0"),
        (2, "3", "n_out must be a positive int, got '3'"),
    ],
)
def test_bad_sizes(n_in, n_out, message):
    with pytest.raises(ValueError, match=message):
        Dense(n_in, n_out)


def test_numpy_int_sizes_accepted():
    layer = Dense(np.int64(3), np.int32(2))
    assert (layer.n_in, layer.n_out) == (3, 2)
    assert isinstance(layer.n_in, int)


def test_repr_mentions_shape_and_activation():
    text = repr(Dense(2, 3, activation="tanh", bias=False, dtype=np.float32))
    assert "Dense(2, 3, activation='tanh', bias=False, dtype=float32)" in text
