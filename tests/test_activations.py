"""Unit tests for slopes.activations: values, slopes, stability, dtypes, lookup."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slopes.activations import (
    ACTIVATIONS,
    Activation,
    Identity,
    LeakyRelu,
    Relu,
    Sigmoid,
    Softmax,
    Tanh,
    get_activation,
)

ELEMENTWISE = ["identity", "relu", "leaky_relu", "sigmoid", "tanh"]
ALL_NAMES = ["identity", "relu", "leaky_relu", "sigmoid", "tanh", "softmax"]
EPS = 1e-6


def central_difference(f, z: np.ndarray, eps: float = EPS) -> np.ndarray:
    """Element-wise derivative of an element-wise ``f`` at every entry of ``z``."""
    return (f(z + eps) - f(z - eps)) / (2 * eps)


def away_from_kink(z: np.ndarray) -> np.ndarray:
    """Push entries with |z| < 1e-2 away from 0 (relu and leaky_relu have a kink there)."""
    return np.where(np.abs(z) < 1e-2, np.where(z < 0, -0.5, 0.5), z)


# ----------------------------------------------------------------------------- values
def test_registry_holds_the_six_activations():
    assert list(ACTIVATIONS) == ALL_NAMES


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("identity", [-2.0, -0.5, 0.0, 0.5, 2.0]),
        ("relu", [0.0, 0.0, 0.0, 0.5, 2.0]),
        # alpha = 0.01: -2 * 0.01 = -0.02, -0.5 * 0.01 = -0.005
        ("leaky_relu", [-0.02, -0.005, 0.0, 0.5, 2.0]),
        # 1 / (1 + e^2) = 0.11920292, 1 / (1 + e^0.5) = 0.37754067, sigmoid(0) = 0.5
        ("sigmoid", [0.11920292202, 0.37754066880, 0.5, 0.62245933120, 0.88079707798]),
        ("tanh", [-0.96402758008, -0.46211715726, 0.0, 0.46211715726, 0.96402758008]),
    ],
)
def test_elementwise_values_by_hand(name, expected):
    z = np.array([[-2.0, -0.5, 0.0, 0.5, 2.0]])
    np.testing.assert_allclose(get_activation(name).value(z), [expected], rtol=1e-10)


def test_softmax_value_by_hand():
    # exp(0), exp(1), exp(2) = 1, 2.71828, 7.38906; sum 11.10734
    # -> 0.09003057, 0.24472847, 0.66524096. Shifting z by 100 changes nothing.
    z = np.array([[0.0, 1.0, 2.0], [100.0, 101.0, 102.0]])
    expected = [0.09003057317, 0.24472847105, 0.66524095578]
    np.testing.assert_allclose(Softmax().value(z), [expected, expected], rtol=1e-10)


def test_softmax_rows_sum_to_one_for_huge_logits():
    z = np.array([[1e4, -1e4, 0.0], [1e300, 1e300, -1e300]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = Softmax().value(z)
    assert np.all(np.isfinite(a))
    np.testing.assert_allclose(a.sum(axis=1), 1.0)
    np.testing.assert_allclose(a, [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])


# ----------------------------------------------------------------------------- slopes
@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("seed", range(5))
def test_elementwise_slope_matches_central_difference(name, seed):
    act = get_activation(name)
    rng = np.random.default_rng(seed)
    z = away_from_kink(rng.normal(0.0, 3.0, size=(7, 4)))
    a = act.value(z)
    numeric = central_difference(act.value, z)
    np.testing.assert_allclose(act.slope(z, a), numeric, rtol=1e-6, atol=1e-9)
    # backward of an element-wise activation is node_slope * f'(z)
    node_slope = rng.normal(size=z.shape)
    np.testing.assert_allclose(act.backward(z, a, node_slope), node_slope * numeric,
                               rtol=1e-6, atol=1e-9)


@given(
    name=st.sampled_from(ELEMENTWISE),
    z=st.floats(-30, 30, allow_nan=False).filter(lambda v: abs(v) > 1e-3),
)
@settings(max_examples=50, deadline=None)
def test_elementwise_slope_property(name, z):
    act = get_activation(name)
    arr = np.array([[z]])
    numeric = central_difference(act.value, arr)
    np.testing.assert_allclose(act.slope(arr, act.value(arr)), numeric, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_softmax_backward_is_jacobian_vector_product(seed):
    # backward(z, a, v)_i = sum_j v_j da_j/dz_i; each column of the Jacobian by
    # central differences of value() along z_i.
    rng = np.random.default_rng(seed)
    sm = Softmax()
    z = rng.normal(0.0, 2.0, size=(5, 4))
    a = sm.value(z)
    v = rng.normal(size=z.shape)
    numeric = np.empty_like(z)
    for i in range(z.shape[1]):
        step = np.zeros_like(z)
        step[:, i] = EPS
        da_dzi = (sm.value(z + step) - sm.value(z - step)) / (2 * EPS)  # (samples, nodes)
        numeric[:, i] = (v * da_dzi).sum(axis=1)
    np.testing.assert_allclose(sm.backward(z, a, v), numeric, rtol=1e-6, atol=1e-9)


def test_softmax_slope_is_jacobian_diagonal():
    rng = np.random.default_rng(0)
    sm = Softmax()
    z = rng.normal(size=(3, 4))
    a = sm.value(z)
    for i in range(4):
        step = np.zeros_like(z)
        step[:, i] = EPS
        diag = (sm.value(z + step)[:, i] - sm.value(z - step)[:, i]) / (2 * EPS)
        np.testing.assert_allclose(sm.slope(z, a)[:, i], diag, rtol=1e-6, atol=1e-9)


def test_relu_slope_at_zero_is_zero():
    z = np.array([[-1.0, 0.0, 1.0]])
    np.testing.assert_array_equal(Relu().slope(z, Relu().value(z)), [[0.0, 0.0, 1.0]])


def test_leaky_relu_alpha():
    act = LeakyRelu(alpha=0.2)
    z = np.array([[-3.0, 2.0]])
    np.testing.assert_allclose(act.value(z), [[-0.6, 2.0]])
    np.testing.assert_allclose(act.slope(z, act.value(z)), [[0.2, 1.0]])
    with pytest.raises(ValueError, match=r"leaky_relu alpha must be in \[0, 1\), got 1\.5"):
        LeakyRelu(alpha=1.5)


def test_sigmoid_slope_peaks_at_quarter():
    z = np.linspace(-10, 10, 201).reshape(1, -1)
    s = Sigmoid()
    slope = s.slope(z, s.value(z))
    assert slope.max() == pytest.approx(0.25)
    assert slope[0, 100] == pytest.approx(0.25)  # z = 0


# -------------------------------------------------------------------------- stability
@pytest.mark.parametrize("z", [1e4, -1e4, 1e308, -1e308, 709.0, -745.0, 800.0, -800.0])
def test_sigmoid_never_overflows(z):
    # exp(-|z|) may underflow to 0, which is the right answer and which NumPy
    # ignores by default; overflow, invalid (inf/inf) and divide must not happen.
    s = Sigmoid()
    arr = np.array([[z]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            a = s.value(arr)
            slope = s.slope(arr, a)
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(slope))
    assert 0.0 <= a[0, 0] <= 1.0
    expected = 1.0 if z > 0 else 0.0
    assert a[0, 0] == pytest.approx(expected, abs=1e-300)
    assert slope[0, 0] == pytest.approx(0.0, abs=1e-300)


def test_sigmoid_no_runtime_warning_under_default_errstate():
    z = np.array([[1e4, -1e4, 1e308, -1e308]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = Sigmoid().value(z)
    np.testing.assert_array_equal(a, [[1.0, 0.0, 1.0, 0.0]])


def test_sigmoid_float32_extremes():
    z = np.array([[1e4, -1e4, 3e38, -3e38]], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = Sigmoid().value(z)
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, [[1.0, 0.0, 1.0, 0.0]])


def test_tanh_extremes_finite():
    z = np.array([[1e4, -1e4, 1e308, -1e308]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = Tanh().value(z)
        slope = Tanh().slope(z, a)
    np.testing.assert_array_equal(a, [[1.0, -1.0, 1.0, -1.0]])
    np.testing.assert_array_equal(slope, 0.0)


# ------------------------------------------------------------------------------ dtypes
@pytest.mark.parametrize("name", ALL_NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved(name, dtype):
    act = get_activation(name)
    z = np.random.default_rng(0).normal(size=(4, 3)).astype(dtype)
    a = act.value(z)
    assert a.dtype == dtype
    assert act.slope(z, a).dtype == dtype
    assert act.backward(z, a, np.ones_like(z)).dtype == dtype
    assert a.shape == z.shape


# ------------------------------------------------------------------------------ lookup
@pytest.mark.parametrize(
    ("spec", "cls"),
    [("identity", Identity), ("relu", Relu), ("leaky_relu", LeakyRelu), ("sigmoid", Sigmoid),
     ("tanh", Tanh), ("softmax", Softmax), (" ReLU ", Relu), (None, Identity)],
)
def test_get_activation_by_name(spec, cls):
    act = get_activation(spec)
    assert type(act) is cls
    assert isinstance(act, Activation)


def test_get_activation_passes_objects_through():
    act = LeakyRelu(alpha=0.3)
    assert get_activation(act) is act


def test_get_activation_unknown_name_lists_valid_names():
    with pytest.raises(ValueError) as info:
        get_activation("nope")
    message = str(info.value)
    assert "unknown activation 'nope'" in message
    assert "valid names are: identity, relu, leaky_relu, sigmoid, tanh, softmax" in message
    for name in ALL_NAMES:
        assert name in message


@pytest.mark.parametrize("bad", [3, 1.5, ["relu"], Relu])
def test_get_activation_wrong_type(bad):
    with pytest.raises(TypeError, match="activation must be a name or an Activation object, got"):
        get_activation(bad)


def test_activation_equality():
    assert Relu() == Relu()
    assert Relu() != Sigmoid()
    assert LeakyRelu(0.1) != LeakyRelu(0.2)
    assert hash(LeakyRelu(0.1)) == hash(LeakyRelu(0.1))
    assert repr(LeakyRelu(0.1)) == "LeakyRelu(alpha=0.1)"
