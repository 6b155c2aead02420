"""Unit tests for slopes.losses: values by hand, slopes vs central differences, fused pairs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import mean_squared_error

from slopes.activations import Sigmoid, Softmax
from slopes.losses import (
    LOSSES,
    MAE,
    MSE,
    SSE,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    HalfMSE,
    Loss,
    get_loss,
)

ALL_NAMES = ["sse", "mse", "half_mse", "mae", "binary_crossentropy", "categorical_crossentropy"]
EPS = 1e-6


def numeric_slope(loss: Loss, predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Central difference of ``loss.value`` with respect to every entry of ``predicted``."""
    out = np.empty_like(predicted)
    for index in np.ndindex(predicted.shape):
        up = predicted.copy()
        down = predicted.copy()
        up[index] += EPS
        down[index] -= EPS
        out[index] = (loss.value(up, actual) - loss.value(down, actual)) / (2 * EPS)
    return out


def one_hot(labels, n: int) -> np.ndarray:
    return np.eye(n)[np.asarray(labels)]


# Regression example, 2 samples x 3 outputs:
#   errors = predicted - actual = [[1, 0, 0], [2, 1, 2]]
#   squares = [[1, 0, 0], [4, 1, 4]], sum 10; |errors| sum 6
P_REG = np.array([[1.0, 2.0, 0.0], [3.0, 5.0, 1.0]])
Y_REG = np.array([[0.0, 2.0, 0.0], [1.0, 4.0, -1.0]])


# ------------------------------------------------------------------------------ values
def test_sse_by_hand():
    assert SSE().value(P_REG, Y_REG) == pytest.approx(10.0)  # 1 + 0 + 0 + 4 + 1 + 4


def test_mse_by_hand():
    assert MSE().value(P_REG, Y_REG) == pytest.approx(10.0 / 6)  # sum 10 over m*k = 6


def test_half_mse_by_hand():
    assert HalfMSE().value(P_REG, Y_REG) == pytest.approx(2.5)  # sum 10 over 2*m = 4


def test_mae_by_hand():
    assert MAE().value(P_REG, Y_REG) == pytest.approx(1.0)  # (1+0+0+2+1+2) / 6


def test_binary_crossentropy_by_hand():
    # -(log 0.8 + log(1 - 0.4)) / 2 = (0.22314355 + 0.51082562) / 2 = 0.36698459
    p = np.array([[0.8], [0.4]])
    y = np.array([[1.0], [0.0]])
    assert BinaryCrossentropy().value(p, y) == pytest.approx(0.3669845875, rel=1e-9)


def test_binary_crossentropy_averages_over_outputs_too():
    # 2 outputs: -(log 0.8 + log 0.6 + log 0.9 + log 0.5) / 4
    #   = (0.22314355 + 0.51082562 + 0.10536052 + 0.69314718) / 4 = 0.3831192178
    p = np.array([[0.8, 0.4], [0.9, 0.5]])
    y = np.array([[1.0, 0.0], [1.0, 1.0]])
    assert BinaryCrossentropy().value(p, y) == pytest.approx(0.3831192178, rel=1e-9)


def test_categorical_crossentropy_by_hand():
    # -(log 0.7 + log 0.4) / 2 = (0.35667494 + 0.91629073) / 2 = 0.63648284
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.5, 0.4]])
    y = one_hot([0, 2], 3)
    assert CategoricalCrossentropy().value(p, y) == pytest.approx(0.6364828379, rel=1e-9)


def test_crossentropy_values_finite_at_probability_0_and_1():
    p = np.array([[0.0], [1.0]])
    y = np.array([[1.0], [0.0]])
    assert np.isfinite(BinaryCrossentropy().value(p, y))
    assert np.all(np.isfinite(BinaryCrossentropy().slope(p, y)))
    pc = np.array([[0.0, 1.0]])
    yc = np.array([[1.0, 0.0]])
    assert np.isfinite(CategoricalCrossentropy().value(pc, yc))
    assert np.all(np.isfinite(CategoricalCrossentropy().slope(pc, yc)))


def test_mse_equals_sklearn_on_multi_output_data():
    rng = np.random.default_rng(0)
    p = rng.normal(size=(20, 3))
    y = rng.normal(size=(20, 3))
    assert MSE().value(p, y) == pytest.approx(mean_squared_error(y, p), rel=1e-12)


def test_mse_slope_one_sample_one_output_is_twice_error():
    p = np.array([[3.5]])
    y = np.array([[1.0]])
    np.testing.assert_allclose(MSE().slope(p, y), [[2 * 2.5]])
    np.testing.assert_allclose(SSE().slope(p, y), [[2 * 2.5]])
    np.testing.assert_allclose(HalfMSE().slope(p, y), [[2.5]])


# ------------------------------------------------------------------------------ slopes
def _example(name: str, rng: np.random.Generator, shape=(4, 3)) -> tuple[np.ndarray, np.ndarray]:
    if name == "binary_crossentropy":
        return rng.uniform(0.05, 0.95, size=shape), rng.integers(0, 2, size=shape).astype(float)
    if name == "categorical_crossentropy":
        p = Softmax().value(rng.normal(size=shape))
        return p, one_hot(rng.integers(0, shape[1], size=shape[0]), shape[1])
    p = rng.normal(size=shape)
    y = rng.normal(size=shape)
    if name == "mae":  # keep |error| away from the kink at 0
        error = p - y
        y = np.where(np.abs(error) < 1e-2, y + 0.5, y)
    return p, y


@pytest.mark.parametrize("name", ALL_NAMES)
@pytest.mark.parametrize("seed", range(5))
def test_slope_matches_central_difference(name, seed):
    loss = get_loss(name)
    p, y = _example(name, np.random.default_rng(seed))
    np.testing.assert_allclose(loss.slope(p, y), numeric_slope(loss, p, y), rtol=1e-6, atol=1e-9)


@given(
    name=st.sampled_from(ALL_NAMES),
    seed=st.integers(0, 2**32 - 1),
    m=st.integers(1, 5),
    k=st.integers(1, 4),
)
@settings(max_examples=40, deadline=None)
def test_slope_matches_central_difference_property(name, seed, m, k):
    if name == "categorical_crossentropy":
        k = max(k, 2)  # one class: softmax is 1 everywhere, clipped, with no slope to check
    loss = get_loss(name)
    p, y = _example(name, np.random.default_rng(seed), shape=(m, k))
    np.testing.assert_allclose(loss.slope(p, y), numeric_slope(loss, p, y), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("name", ALL_NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_slope_keeps_dtype(name, dtype):
    loss = get_loss(name)
    p, y = _example(name, np.random.default_rng(1))
    p, y = p.astype(dtype), y.astype(dtype)
    assert loss.slope(p, y).dtype == dtype
    assert isinstance(loss.value(p, y), float)


# ------------------------------------------------------------------------- fused pairs
@pytest.mark.parametrize("seed", range(5))
def test_bce_value_from_logits_equals_value_of_sigmoid(seed):
    rng = np.random.default_rng(seed)
    z = rng.uniform(-8, 8, size=(6, 2))
    y = rng.integers(0, 2, size=z.shape).astype(float)
    bce = BinaryCrossentropy()
    assert bce.value_from_logits(z, y) == pytest.approx(bce.value(Sigmoid().value(z), y),
                                                        rel=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_cce_value_from_logits_equals_value_of_softmax(seed):
    rng = np.random.default_rng(seed)
    z = rng.uniform(-8, 8, size=(6, 4))
    y = one_hot(rng.integers(0, 4, size=6), 4)
    cce = CategoricalCrossentropy()
    assert cce.value_from_logits(z, y) == pytest.approx(cce.value(Softmax().value(z), y),
                                                        rel=1e-9)


def test_bce_value_from_logits_finite_for_huge_logits():
    # z = +1e4 with y = 1 and z = -1e4 with y = 0 cost ~0; the wrong way round each
    # costs |z| = 1e4. Mean over the 4 entries: (0 + 1e4 + 1e4 + 0) / 4 = 5000.
    z = np.array([[1e4], [1e4], [-1e4], [-1e4]])
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            value = BinaryCrossentropy().value_from_logits(z, y)
            slope = BinaryCrossentropy().logit_slope(Sigmoid().value(z), y)
    assert np.isfinite(value)
    assert value == pytest.approx(5000.0)
    assert np.all(np.isfinite(slope))
    np.testing.assert_allclose(slope, [[0.0], [0.25], [-0.25], [0.0]])


def test_cce_value_from_logits_finite_for_huge_logits():
    # Sample 0 picks its largest logit (cost 0); sample 1 picks a logit 2e4 below
    # the largest (cost 2e4). Mean over 2 samples: 1e4.
    z = np.array([[1e4, -1e4, 0.0], [1e4, -1e4, 0.0]])
    y = one_hot([0, 1], 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            value = CategoricalCrossentropy().value_from_logits(z, y)
            slope = CategoricalCrossentropy().logit_slope(Softmax().value(z), y)
    assert value == pytest.approx(1e4)
    assert np.all(np.isfinite(slope))
    np.testing.assert_allclose(slope, [[0.0, 0.0, 0.0], [0.5, -0.5, 0.0]], atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_bce_logit_slope_is_chain_rule(seed):
    rng = np.random.default_rng(seed)
    z = rng.uniform(-5, 5, size=(5, 3))
    y = rng.integers(0, 2, size=z.shape).astype(float)
    bce, sig = BinaryCrossentropy(), Sigmoid()
    p = sig.value(z)
    chain = sig.backward(z, p, bce.slope(p, y))
    np.testing.assert_allclose(bce.logit_slope(p, y), chain, rtol=1e-9, atol=1e-15)
    # and both match the central difference of value_from_logits
    numeric = np.empty_like(z)
    for index in np.ndindex(z.shape):
        up, down = z.copy(), z.copy()
        up[index] += EPS
        down[index] -= EPS
        numeric[index] = (bce.value_from_logits(up, y) - bce.value_from_logits(down, y)) / (2 * EPS)
    np.testing.assert_allclose(bce.logit_slope(p, y), numeric, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("seed", range(5))
def test_cce_logit_slope_is_chain_rule(seed):
    rng = np.random.default_rng(seed)
    z = rng.uniform(-5, 5, size=(5, 4))
    y = one_hot(rng.integers(0, 4, size=5), 4)
    cce, sm = CategoricalCrossentropy(), Softmax()
    p = sm.value(z)
    chain = sm.backward(z, p, cce.slope(p, y))
    np.testing.assert_allclose(cce.logit_slope(p, y), chain, rtol=1e-9, atol=1e-15)
    numeric = np.empty_like(z)
    for index in np.ndindex(z.shape):
        up, down = z.copy(), z.copy()
        up[index] += EPS
        down[index] -= EPS
        numeric[index] = (cce.value_from_logits(up, y) - cce.value_from_logits(down, y)) / (2 * EPS)
    np.testing.assert_allclose(cce.logit_slope(p, y), numeric, rtol=1e-6, atol=1e-10)


def test_fused_activation_names():
    assert BinaryCrossentropy.fused_activation == "sigmoid"
    assert CategoricalCrossentropy.fused_activation == "softmax"
    for cls in (SSE, MSE, HalfMSE, MAE):
        assert cls.fused_activation is None


# ------------------------------------------------------------------------------ lookup
def test_registry_holds_the_six_losses():
    assert list(LOSSES) == ALL_NAMES


@pytest.mark.parametrize("name", ALL_NAMES)
def test_get_loss_by_name(name):
    loss = get_loss(name)
    assert isinstance(loss, Loss)
    assert loss.name == name
    assert get_loss(name.upper()) == loss
    assert get_loss(loss) is loss


def test_get_loss_unknown_name_lists_valid_names():
    with pytest.raises(ValueError) as info:
        get_loss("nope")
    message = str(info.value)
    assert "unknown loss 'nope'" in message
    assert ("valid names are: sse, mse, half_mse, mae, binary_crossentropy, "
            "categorical_crossentropy") in message


@pytest.mark.parametrize("bad", [None, 3, MSE])
def test_get_loss_wrong_type(bad):
    with pytest.raises(TypeError, match="loss must be a name or a Loss object, got"):
        get_loss(bad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_far_out_logits_raise_nothing_even_when_numpy_raises_on_underflow(dtype):
    # exp(-1e4) is 0 and 1 / (1 + exp(88.5)) subnormal: right answers, not errors.
    from slopes.activations import get_activation

    z = np.array([[1e4, -1e4, 800, -800, 0.0, 88.5, -88.5, 745, -745]], dtype).T
    y = (np.arange(9) % 2).astype(dtype)[:, None]
    bce, cce = get_loss("binary_crossentropy"), get_loss("categorical_crossentropy")
    with np.errstate(all="raise"):
        p = get_activation("sigmoid").value(z)
        s = get_activation("softmax").value(z.T)
        for target in (y, 1 - y):
            for rows in (slice(None), slice(0, 5)):
                value, predicted = bce.value_and_predicted(z[rows], target[rows])
                assert np.isfinite(value)
                assert np.isfinite(bce.logit_slope(predicted, target[rows])).all()
        for k in range(3):
            onehot = np.eye(9, dtype=dtype)[[k]]
            value, predicted = cce.value_and_predicted(z.T, onehot)
            assert np.isfinite(value)
            assert np.isfinite(cce.logit_slope(predicted, onehot)).all()
    assert p[0, 0] == 1 and p[1, 0] == 0 and s[0, 0] == 1 and s[0, 1] == 0
