"""Sample weights in the engine: each row's loss and slope weighted exactly.

The rule (slopes.losses): a loss that averages its rows becomes
``L = sum_i w_i l_i / sum_i w_i``; sse, which sums them, ``sum_i w_i l_i``.
Checked here against the per-row losses, against central differences in
float64, and against training on repeated rows.
"""

from __future__ import annotations

import numpy as np
import pytest

import slopes
from slopes.callbacks import Callback
from slopes.losses import LOSSES, Loss, get_loss
from slopes.training import check_sample_weight

PAIRS = [("identity", "sse"), ("identity", "mse"), ("tanh", "half_mse"), ("identity", "mae"),
         ("sigmoid", "binary_crossentropy"), ("softmax", "categorical_crossentropy")]


def data(output: str, loss: str, m: int = 7, n_in: int = 3, k: int = 2, seed: int = 0):
    rng = np.random.default_rng(seed)
    net = slopes.Network.mlp([n_in, 4, k], activation="tanh", output=output, seed=seed)
    for layer in net.layers:
        layer.bias = rng.normal(0.0, 0.3, size=layer.n_out)
    X = rng.normal(size=(m, n_in))
    if loss == "binary_crossentropy":
        y = rng.integers(0, 2, size=(m, k)).astype(float)
    elif loss == "categorical_crossentropy":
        y = np.eye(k)[rng.integers(0, k, size=m)]
    else:
        y = rng.normal(size=(m, k))
    w = rng.uniform(0.0, 3.0, size=m)
    w[1] = 0.0  # a zero weight too
    return net, X, y, w


def weighted_loss(net, loss_fn, x, y, w):
    zs, values = net.forward(x)
    return net.loss_value(loss_fn, zs[-1], values[-1], y, w)


# ------------------------------------------------------------------------- the loss values
@pytest.mark.parametrize("name", list(LOSSES))
def test_weighted_value_is_the_weighted_mean_of_the_row_losses(name):
    loss_fn = get_loss(name)
    rng = np.random.default_rng(1)
    p = rng.uniform(0.05, 0.95, size=(6, 3))
    y = (np.eye(3)[rng.integers(0, 3, size=6)] if "crossentropy" in name
         else rng.uniform(size=(6, 3)))
    w = np.array([0.5, 0.0, 2.0, 1.0, 3.0, 0.25])
    rows = np.array([loss_fn.value(p[i:i + 1], y[i:i + 1]) for i in range(6)])  # l_i
    expected = w @ rows if name == "sse" else w @ rows / w.sum()
    assert loss_fn.value(p, y, sample_weight=w) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", list(LOSSES))
def test_weights_of_one_change_nothing(name):
    loss_fn = get_loss(name)
    rng = np.random.default_rng(2)
    p = rng.uniform(0.05, 0.95, size=(5, 2))
    y = np.eye(2)[rng.integers(0, 2, size=5)]
    ones = np.ones(5)
    assert loss_fn.value(p, y, sample_weight=ones) == pytest.approx(loss_fn.value(p, y), rel=1e-12)
    np.testing.assert_allclose(loss_fn.slope(p, y, sample_weight=ones), loss_fn.slope(p, y),
                               rtol=1e-12)
    if loss_fn.fused_activation is not None:
        z = rng.normal(size=(5, 2))
        assert loss_fn.value_from_logits(z, y, sample_weight=ones) == pytest.approx(
            loss_fn.value_from_logits(z, y), rel=1e-12)
        np.testing.assert_allclose(loss_fn.logit_slope(p, y, sample_weight=ones),
                                   loss_fn.logit_slope(p, y), rtol=1e-12)


def test_fused_value_from_logits_matches_the_value_with_weights():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(6, 3))
    w = rng.uniform(0.0, 2.0, size=6)
    y = np.eye(3)[rng.integers(0, 3, size=6)]
    cce = get_loss("categorical_crossentropy")
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert cce.value_from_logits(z, y, w) == pytest.approx(cce.value(p, y, w), rel=1e-10)
    bce = get_loss("binary_crossentropy")
    yb = rng.integers(0, 2, size=(6, 3)).astype(float)
    assert bce.value_from_logits(z, yb, w) == pytest.approx(bce.value(1 / (1 + np.exp(-z)), yb, w),
                                                            rel=1e-10)


# ------------------------------------------------------- slopes against central differences
@pytest.mark.parametrize(("output", "loss"), PAIRS)
def test_weighted_slopes_match_central_differences_in_float64(output, loss):
    net, X, y, w = data(output, loss)
    loss_fn = get_loss(loss)
    x = np.asarray(X, dtype=np.float64)
    actual = net.check_targets(y, x.shape[0], loss_fn)
    zs, values = net.forward(x)
    net.backward(zs, values, actual, loss_fn, sample_weight=w)
    analytic = [g.copy() for layer in net.layers for g in layer.parameter_slopes()]
    eps, worst = 1e-6, 0.0
    for param, slope in zip(net.parameters(), analytic, strict=True):
        for index in np.ndindex(param.shape):
            original = param[index]
            param[index] = original + eps
            up = weighted_loss(net, loss_fn, x, actual, w)
            param[index] = original - eps
            down = weighted_loss(net, loss_fn, x, actual, w)
            param[index] = original
            numeric = (up - down) / (2 * eps)
            worst = max(worst, abs(slope[index] - numeric) / max(abs(slope[index]) + abs(numeric),
                                                                 1e-6))
    assert worst < 1e-6


def test_the_slope_of_a_zero_weight_row_is_zero():
    net, X, y, _ = data("identity", "mse")
    w = np.zeros(len(X))
    w[2] = 1.0
    loss_fn = get_loss("mse")
    zs, values = net.forward(X)
    net.backward(zs, values, y, loss_fn, sample_weight=w)
    weighted = [g.copy() for layer in net.layers for g in layer.parameter_slopes()]
    zs, values = net.forward(X[2:3])
    net.backward(zs, values, y[2:3], loss_fn)  # the row alone
    alone = [g.copy() for layer in net.layers for g in layer.parameter_slopes()]
    for a, b in zip(weighted, alone, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


# -------------------------------------------------------------------------------- training
@pytest.mark.parametrize(("output", "loss"), PAIRS)
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_integer_weights_train_exactly_as_repeated_rows(output, loss, optimizer):
    net, X, y, _ = data(output, loss, m=9)
    w = np.array([1, 0, 3, 2, 1, 1, 4, 0, 2])
    repeated = net.copy()
    h_weighted = net.fit(X, y, loss=loss, optimizer=optimizer, learning_rate=0.05, epochs=5,
                         batch_size=None, seed=0, verbose=0, sample_weight=w)
    h_repeated = repeated.fit(X.repeat(w, axis=0), y.repeat(w, axis=0), loss=loss,
                              optimizer=optimizer, learning_rate=0.05, epochs=5,
                              batch_size=None, seed=0, verbose=0)
    for a, b in zip(net.parameters(), repeated.parameters(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(h_weighted["loss"], h_repeated["loss"], rtol=1e-9)


def test_a_batch_whose_weights_are_all_zero_is_skipped():
    net, X, y, _ = data("identity", "mse", m=6)
    w = np.array([0.0, 0.0, 1.0, 2.0, 1.0, 1.0])
    other = net.copy()
    net.fit(X, y, optimizer="adam", learning_rate=0.01, epochs=3, batch_size=2, shuffle=False,
            verbose=0, sample_weight=w)
    # The first batch (rows 0, 1) weighs nothing: as if those rows were not there.
    other.fit(X[2:], y[2:], optimizer="adam", learning_rate=0.01, epochs=3, batch_size=2,
              shuffle=False, verbose=0, sample_weight=w[2:])
    for a, b in zip(net.parameters(), other.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)


class BatchLog(Callback):
    def on_train_begin(self, logs):
        self.batches = []

    def on_batch_end(self, batch, logs):
        self.batches.append(dict(logs))


def test_epoch_loss_weighs_each_batch_by_its_total_weight():
    net, X, y, _ = data("identity", "mse", m=10)
    w = np.arange(1.0, 11.0)
    log = BatchLog()
    history = net.fit(X, y, learning_rate=0.01, epochs=1, batch_size=4, shuffle=False,
                      callbacks=[log], verbose=0, sample_weight=w)
    masses = [w[0:4].sum(), w[4:8].sum(), w[8:10].sum()]
    expected = sum(b["loss"] * m for b, m in zip(log.batches, masses, strict=True)) / w.sum()
    assert history["loss"][0] == pytest.approx(expected, rel=1e-12)


def test_validation_split_takes_its_weights_with_its_rows():
    net, X, y, _ = data("identity", "mse", m=10)
    w = np.arange(1.0, 11.0)
    history = net.fit(X, y, learning_rate=0.01, epochs=1, validation_split=0.3, verbose=0,
                      sample_weight=w)
    expected = weighted_loss(net, get_loss("mse"), X[7:], y[7:], w[7:])
    assert history["val_loss"][0] == pytest.approx(expected, rel=1e-12)


def test_validation_data_may_carry_sample_weights():
    net, X, y, _ = data("identity", "mse", m=10)
    w_val = np.array([0.0, 1.0, 5.0])
    history = net.fit(X[:7], y[:7], learning_rate=0.01, epochs=1, verbose=0,
                      validation_data=(X[7:], y[7:], w_val))
    expected = weighted_loss(net, get_loss("mse"), X[7:], y[7:], w_val)
    assert history["val_loss"][0] == pytest.approx(expected, rel=1e-12)


def test_float32_training_with_weights_stays_float32():
    net, X, y, w = data("identity", "mse")
    net = net.astype(np.float32)
    net.fit(X, y, learning_rate=0.01, epochs=2, verbose=0, sample_weight=w)
    assert all(p.dtype == np.float32 for p in net.parameters())


def test_the_callers_weights_are_not_changed():
    net, X, y, w = data("identity", "mse")
    kept = w.copy()
    net.fit(X, y, epochs=2, verbose=0, sample_weight=w)
    np.testing.assert_array_equal(w, kept)


def test_a_loss_of_ones_own_without_sample_weight_still_trains_unweighted():
    class Quartic(Loss):
        name = "quartic"

        def value(self, predicted, actual):
            return float(np.mean((predicted - actual) ** 4))

        def slope(self, predicted, actual):
            return 4 * (predicted - actual) ** 3 / predicted.size

    net, X, y, _ = data("identity", "mse")
    history = net.fit(X, y, loss=Quartic(), learning_rate=0.01, epochs=3, verbose=0)
    assert len(history["loss"]) == 3


# ------------------------------------------------------------------------------ bad weights
@pytest.mark.parametrize(("weights", "error", "message"), [
    (np.ones(6), ValueError, r"sample_weight must be 1-D with one weight per sample, shape \(7,\), "
                             r"got shape \(6,\)"),
    (np.ones((7, 1)), ValueError, r"shape \(7,\), got shape \(7, 1\)"),
    (np.array([1, 1, np.nan, 1, 1, 1, 1]), ValueError,
     r"sample_weight contains 1 NaN or infinite value\(s\) \(first at index 2\)"),
    (np.array([1, 1, 1, -2, 1, 1, 1]), ValueError,
     r"sample_weight must be >= 0, got -2 at index 3"),
    (np.zeros(7), ValueError, "sample_weight is zero for every sample; at least one weight must "
                              "be positive"),
    (np.array(["a"] * 7), TypeError, "sample_weight must hold numbers, got an array of dtype <U1"),
])
def test_bad_sample_weight_is_refused_in_words(weights, error, message):
    net, X, y, _ = data("identity", "mse")
    before = [p.copy() for p in net.parameters()]
    with pytest.raises(error, match=message):
        net.fit(X, y, epochs=1, verbose=0, sample_weight=weights)
    for a, b in zip(net.parameters(), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_bad_validation_weights_are_named():
    net, X, y, _ = data("identity", "mse", m=10)
    with pytest.raises(ValueError, match=r"the sample_weight of validation_data must be 1-D with "
                                         r"one weight per sample, shape \(3,\)"):
        net.fit(X[:7], y[:7], epochs=1, verbose=0, validation_data=(X[7:], y[7:], np.ones(4)))


def test_weights_that_leave_no_training_row_after_the_split_are_refused():
    net, X, y, _ = data("identity", "mse", m=10)
    w = np.array([0.0] * 7 + [1.0] * 3)
    with pytest.raises(ValueError, match="sample_weight is zero for every training row left by "
                                         "validation_split"):
        net.fit(X, y, epochs=1, verbose=0, validation_split=0.3, sample_weight=w)


def test_check_sample_weight_copies_and_converts():
    w = [1, 2, 3]
    out = check_sample_weight(w, 3, np.dtype(np.float32))
    assert out.dtype == np.float32 and out.tolist() == [1.0, 2.0, 3.0]
