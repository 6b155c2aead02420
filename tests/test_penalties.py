"""Weight penalties (l1, l2), AdamW and clipping: the math, the fit loop, the History, the errors.

The comparisons with PyTorch are in tests/test_torch_regularization.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from slopes import Network
from slopes.layers import Dense
from slopes.losses import get_loss
from slopes.optimizers import OPTIMIZERS, AdamW, get_optimizer
from slopes.penalties import (
    add_penalty_slope,
    check_clip,
    check_penalty,
    clip_factor,
    penalty_slope,
    penalty_value,
)
from slopes.workspace import StepOptions, Workspace


def _data(seed=0, n=40, sizes=(4, 6, 2)):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, sizes[0])), rng.normal(size=(n, sizes[-1]))


# ------------------------------------------------------------------ the math
def test_penalty_value_and_slope_by_hand():
    w = np.array([[1.0, -2.0], [0.0, 3.0]])
    # l1 * (1 + 2 + 0 + 3) + l2 * (1 + 4 + 0 + 9)
    assert penalty_value(w, 0.1, 0.01) == pytest.approx(0.6 + 0.14)
    # l1 * sign(w) + 2 * l2 * w; sign(0) = 0 as PyTorch's autograd of abs
    np.testing.assert_allclose(penalty_slope(w, 0.1, 0.01),
                               [[0.1 + 0.02, -0.1 - 0.04], [0.0, 0.1 + 0.06]])


def test_add_penalty_slope_adds_in_place_and_returns_the_value():
    w = np.array([2.0, -1.0])
    slopes = np.array([0.5, 0.5])
    value = add_penalty_slope(w, slopes, 0.0, 0.25, np.empty(2))
    assert value == pytest.approx(0.25 * 5)
    np.testing.assert_allclose(slopes, [0.5 + 1.0, 0.5 - 0.5])


def test_clip_factor_is_torchs_rule():
    g = [np.array([3.0]), np.array([[4.0]])]  # global norm 5
    assert clip_factor(g, 1.0) == pytest.approx(1 / (5 + 1e-6), rel=1e-15)
    assert clip_factor(g, 10.0) == 1.0


def _penalized_objective(net, x, y, loss_fn, l1, l2, penalize_bias):
    total = net.evaluate(x, y, loss=loss_fn)
    for layer in net.layers:
        a, b = layer.penalty_coefficients(l1, l2)
        total += penalty_value(layer.weights, a, b)
        if penalize_bias and layer.has_bias:
            total += penalty_value(layer.bias, a, b)
    return total


@pytest.mark.parametrize("l1, l2, penalize_bias", [(0.0, 0.05, False), (0.01, 0.0, False),
                                                   (0.02, 0.03, True)])
def test_penalized_slopes_match_central_differences(l1, l2, penalize_bias):
    x, y = _data(1)
    net = Network.mlp([4, 6, 2], activation="tanh", seed=2)
    net.layers[0].l2 = 0.2  # one layer with its own coefficient
    for layer in net.layers:
        layer.bias = np.random.default_rng(3).normal(size=layer.n_out)
    loss_fn = get_loss("mse")
    workspace = Workspace(net, loss_fn, x.shape[0], StepOptions(l1, l2, penalize_bias))
    try:
        workspace.forward_backward(x, y)
        workspace.regularize()
        analytic = [s.copy() for s in workspace.slope_views]
    finally:
        workspace.release()
    numeric = []
    h = 1e-6
    for p in net.parameters():
        grad = np.zeros_like(p)
        for index in np.ndindex(p.shape):
            old = p[index]
            p[index] = old + h
            up = _penalized_objective(net, x, y, loss_fn, l1, l2, penalize_bias)
            p[index] = old - h
            down = _penalized_objective(net, x, y, loss_fn, l1, l2, penalize_bias)
            p[index] = old
            grad[index] = (up - down) / (2 * h)
        numeric.append(grad)
    for a, n in zip(analytic, numeric, strict=True):
        np.testing.assert_allclose(a, n, rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------------- the fit
def test_history_logs_the_data_loss_and_the_penalty_apart():
    x, y = _data()
    plain = Network.mlp([4, 6, 2], seed=0)
    penalized = plain.copy()
    h0 = plain.fit(x, y, epochs=1, verbose=0, shuffle=False)
    h1 = penalized.fit(x, y, epochs=3, verbose=0, shuffle=False, l2=0.1, validation_split=0.25)
    assert "penalty" not in h0.history
    # The first epoch's loss is the data loss of the same weights: the same number.
    x_train, y_train = x[:30], y[:30]
    start = Network.mlp([4, 6, 2], seed=0)
    assert h1.history["loss"][0] == pytest.approx(start.evaluate(x_train, y_train), rel=1e-12)
    expected = 0.1 * sum(float((layer.weights ** 2).sum()) for layer in start.layers)
    assert h1.history["penalty"][0] == pytest.approx(expected, rel=1e-12)
    assert len(h1.history["val_loss"]) == 3
    assert h1.params["l2"] == 0.1


def test_zero_penalty_is_exactly_the_plain_fit():
    x, y = _data()
    a, b = Network.mlp([4, 6, 2], seed=0), Network.mlp([4, 6, 2], seed=0)
    ha = a.fit(x, y, epochs=3, batch_size=8, seed=1, verbose=0)
    hb = b.fit(x, y, epochs=3, batch_size=8, seed=1, verbose=0, l1=0.0, l2=0.0)
    assert ha.history == hb.history
    for la, lb in zip(a.layers, b.layers, strict=True):
        np.testing.assert_array_equal(la.weights, lb.weights)


def test_l2_shrinks_the_weights():
    x, y = _data()
    a, b = Network.mlp([4, 6, 2], seed=0), Network.mlp([4, 6, 2], seed=0)
    a.fit(x, y, epochs=50, verbose=0, learning_rate=0.1)
    b.fit(x, y, epochs=50, verbose=0, learning_rate=0.1, l2=0.5)
    norm = [sum(float((layer.weights ** 2).sum()) for layer in n.layers) for n in (a, b)]
    assert norm[1] < norm[0]


def test_layer_penalty_overrides_the_fit_and_biases_are_left_alone_by_default():
    x, y = _data()
    net = Network([Dense(4, 6, "tanh", seed=0, l2=0.0), Dense(6, 2, seed=1)])
    before = [layer.weights.copy() for layer in net.layers]
    bias_before = net.layers[1].bias.copy()
    history = net.fit(x, y, epochs=1, verbose=0, shuffle=False, l2=0.3)
    assert history.history["penalty"][0] == pytest.approx(0.3 * float((before[1] ** 2).sum()))
    assert net.layers[0].penalty_coefficients(0.1, 0.3) == (0.1, 0.0)
    assert bias_before is not None  # biases unpenalized: checked through the slopes below
    twin = Network([Dense(4, 6, "tanh", seed=0), Dense(6, 2, seed=1)])
    twin.fit(x, y, epochs=1, verbose=0, shuffle=False)
    # The only difference is the output layer's weights' penalty slope.
    np.testing.assert_allclose(net.layers[0].weights, twin.layers[0].weights, rtol=0, atol=0)
    np.testing.assert_allclose(net.layers[1].bias, twin.layers[1].bias, rtol=0, atol=0)
    np.testing.assert_allclose(twin.layers[1].weights - net.layers[1].weights,
                               0.01 * 2 * 0.3 * before[1], rtol=1e-9)


def test_streamed_fit_takes_the_same_penalized_steps():
    x, y = _data()
    a, b = Network.mlp([4, 6, 2], seed=0), Network.mlp([4, 6, 2], seed=0)
    ha = a.fit(x, y, epochs=2, batch_size=10, shuffle=False, verbose=0, l1=0.01, l2=0.02,
               clip_norm=0.1)
    batches = [(x[i:i + 10], y[i:i + 10]) for i in range(0, 40, 10)]
    hb = b.fit(lambda: iter(batches), epochs=2, verbose=0, l1=0.01, l2=0.02, clip_norm=0.1)
    assert ha.history["penalty"] == pytest.approx(hb.history["penalty"], rel=1e-14)
    for la, lb in zip(a.layers, b.layers, strict=True):
        np.testing.assert_allclose(la.weights, lb.weights, rtol=1e-14)


# ------------------------------------------------------------------- AdamW
def test_adamw_is_registered_with_torchs_defaults():
    assert OPTIMIZERS["adamw"] is AdamW
    opt = get_optimizer("adamw")
    assert (opt.learning_rate, opt.weight_decay) == (0.001, 0.01)


def test_adamw_decay_is_decoupled_from_the_slope():
    # A zero slope: Adam's step is 0, and only the decay moves the weight.
    opt = AdamW(learning_rate=0.1, weight_decay=0.5)
    p = np.array([2.0, -4.0])
    (update,) = opt.updates([p], [np.zeros(2)])
    np.testing.assert_allclose(update, 0.1 * 0.5 * p)


def test_fit_with_adamw_by_name_trains():
    x, y = _data()
    net = Network.mlp([4, 6, 2], seed=0)
    history = net.fit(x, y, epochs=20, optimizer="adamw", learning_rate=0.01, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.params["optimizer"] == "adamw"


# ---------------------------------------------------------------- clipping
def test_clip_norm_limits_the_norm_of_each_step():
    x, y = _data()
    net = Network.mlp([4, 6, 2], seed=0)
    before = np.concatenate([p.ravel() for p in net.parameters()])
    net.fit(x, y, epochs=1, verbose=0, learning_rate=1.0, clip_norm=1e-3)
    after = np.concatenate([p.ravel() for p in net.parameters()])
    assert np.linalg.norm(after - before) == pytest.approx(1e-3, rel=1e-5)


def test_clip_value_bounds_each_slope():
    x, y = _data()
    net = Network.mlp([4, 6, 2], seed=0)
    before = np.concatenate([p.ravel() for p in net.parameters()])
    net.fit(x, y, epochs=1, verbose=0, learning_rate=1.0, clip_value=1e-3)
    after = np.concatenate([p.ravel() for p in net.parameters()])
    assert np.abs(after - before).max() == pytest.approx(1e-3, rel=1e-12)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("settings, error, message", [
    ({"l2": -1}, ValueError, "l2 must be a finite number >= 0, got -1"),
    ({"l1": "x"}, TypeError, "l1 must be a finite number >= 0, got 'x' (str)"),
    ({"l2": float("nan")}, ValueError, "l2 must be a finite number >= 0, got nan"),
    ({"l1": True}, TypeError, "l1 must be a finite number >= 0, got True (bool)"),
    ({"clip_norm": 0}, ValueError, "clip_norm must be None or a finite number > 0, got 0"),
    ({"clip_value": -0.5}, ValueError,
     "clip_value must be None or a finite number > 0, got -0.5"),
    ({"clip_norm": "x"}, TypeError, "clip_norm must be None or a finite number > 0, got 'x'"),
    ({"penalize_bias": "yes"}, TypeError, "penalize_bias"),
])
def test_bad_settings_name_what_was_received_and_what_was_expected(settings, error, message):
    x, y = _data()
    net = Network.mlp([4, 6, 2], seed=0)
    with pytest.raises(error) as info:
        net.fit(x, y, verbose=0, **settings)
    assert message in str(info.value)


@pytest.mark.parametrize("settings, message", [
    ({"l2": -0.1}, "l2 must be a finite number >= 0, got -0.1"),
    ({"l1": float("inf")}, "l1 must be a finite number >= 0, got inf"),
])
def test_bad_layer_penalties_are_named(settings, message):
    with pytest.raises(ValueError, match=message):
        Dense(2, 3, **settings)


def test_check_functions_return_floats():
    assert check_penalty("l2", 1) == 1.0 and isinstance(check_penalty("l2", 1), float)
    assert check_clip("clip_norm", None) is None
    assert check_clip("clip_norm", np.float32(2)) == 2.0
