"""The trace of a training step: dropout, penalties and clipping recorded and said in words."""

from __future__ import annotations

import numpy as np
import pytest

from slopes import Network
from slopes.penalties import penalty_slope


def _net(dropout=0.5):
    return Network.mlp([3, 4, 1], activation="sigmoid", seed=0, dropout=dropout)


X1 = np.array([[1.0, 2.0, -1.0]])
Y1 = np.array([[0.5]])


def test_the_trace_of_a_prediction_drops_nothing_and_adds_nothing():
    t = _net().trace(X1, Y1)
    assert t.dropped == [None, None] and t.penalty == 0.0 and t.clip_factor is None
    assert "Dropout" not in t.explain(1, 0, 0) and "penalty" not in t.explain(1, 0, 0)


def test_a_training_step_records_the_dropped_nodes_and_says_so():
    t = _net().trace(X1, Y1, training=True, seed=1)
    dropped = t.dropped[0]
    assert dropped.shape == (1, 4) and dropped.dtype == bool and t.dropped[1] is None
    j = int(np.flatnonzero(dropped[0])[0])
    assert t.node_values[1][0, j] == 0 and (t.weight_slopes[0][:, j] == 0).all()
    assert (f"Dropout: node {j} of hidden layer 1 was dropped in this step: its weights get "
            "no slope from this row.") in t.explain(0, 0, j)
    again = _net().trace(X1, Y1, training=True, seed=1)
    np.testing.assert_array_equal(again.dropped[0], dropped)


def test_the_penalty_part_of_each_slope_is_kept_apart_and_explained():
    net = _net(0.0)
    plain = net.trace(X1, Y1)
    t = net.trace(X1, Y1, l2=0.01)
    np.testing.assert_allclose(t.penalty_slopes[1], penalty_slope(net.layers[1].weights, 0, 0.01))
    np.testing.assert_allclose(t.weight_slopes[1] - t.penalty_slopes[1], plain.weight_slopes[1],
                               rtol=1e-15)
    assert t.loss == plain.loss
    assert t.penalty == pytest.approx(0.01 * sum((layer.weights ** 2).sum()
                                                 for layer in net.layers))
    assert t.penalty_bias_slopes == [None, None]
    w = net.layers[1].weights[0, 0]
    f = t.factors(1, 0, 0)
    assert f.penalty_slope == pytest.approx(2 * 0.01 * w)
    assert f.data_slope == pytest.approx(plain.factors(1, 0, 0).slope, rel=1e-12)
    text = t.explain(1, 0, 0)
    assert ("slope = node value x activation slope x loss slope (from the data) + 2 x l2 x "
            "weight (from the L2 penalty)") in text
    assert f"+ 2 x 0.01 x {w:.6g} (from the L2 penalty) = {f.slope:.6g}" in text


def test_clipping_is_recorded_and_the_update_uses_the_clipped_slope():
    t = _net(0.0).trace(X1, Y1, clip_norm=0.01)
    slopes = np.concatenate([g.ravel() for pair in zip(t.weight_slopes, t.bias_slopes,
                                                       strict=True)
                             for g in pair])
    assert t.clip_factor == pytest.approx(0.01 / (np.linalg.norm(slopes) + 1e-6), rel=1e-12)
    f = t.factors(1, 0, 0)
    text = t.explain(1, 0, 0, learning_rate=1.0)
    assert f"This step was clipped: every slope x {t.clip_factor:.6g}" in text
    change = t.updates(learning_rate=1.0)[1][0][0, 0]
    assert change == pytest.approx(-f.slope * t.clip_factor, rel=1e-12)


def test_the_trace_of_a_step_gives_the_step_fit_takes():
    # One full batch, plain SGD at learning rate 1, no shuffling: the weights' change is
    # minus the (penalized, clipped) slopes of the trace.
    x = np.random.default_rng(0).normal(size=(6, 3))
    y = np.random.default_rng(1).normal(size=(6, 1))
    net = _net(0.0)
    t = net.trace(x, y, l1=0.01, l2=0.02, clip_norm=0.05)
    before = net.layers[0].weights.copy()
    net.fit(x, y, learning_rate=1.0, shuffle=False, verbose=0, l1=0.01, l2=0.02, clip_norm=0.05)
    np.testing.assert_allclose(before - net.layers[0].weights, t.step_slopes()[0][0], rtol=1e-9)


@pytest.mark.parametrize("settings, error, message", [
    ({"training": "yes"}, TypeError, "training must be True or False, got 'yes'"),
    ({"l2": -1}, ValueError, "l2 must be a finite number >= 0, got -1"),
    ({"clip_norm": 0}, ValueError, "clip_norm must be None or a finite number > 0, got 0"),
])
def test_bad_trace_settings_are_named(settings, error, message):
    with pytest.raises(error) as info:
        _net().trace(X1, Y1, **settings)
    assert message in str(info.value)
