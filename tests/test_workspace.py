"""The fit loop's workspace: the same numbers as Network.forward/backward, in preallocated arrays.

While fit runs, the layers' parameters and slopes are views into the
workspace's flat arrays; afterwards the layers hold their own arrays again,
with the trained numbers and the last batch's slopes.
"""

from __future__ import annotations

import numpy as np
import pytest

import slopes
from slopes.activations import Activation
from slopes.callbacks import Callback
from slopes.losses import get_loss
from slopes.optimizers import SGD, Adam
from slopes.workspace import Workspace

HIDDEN = ["identity", "relu", "leaky_relu", "sigmoid", "tanh"]
OUTPUTS = [("identity", "mse"), ("identity", "sse"), ("identity", "half_mse"),
           ("identity", "mae"), ("sigmoid", "binary_crossentropy"),
           ("softmax", "categorical_crossentropy"), ("sigmoid", "mse"), ("softmax", "mse")]


def data(n_out: int, loss: str, m: int = 7, n_in: int = 3, seed: int = 0,
         dtype: type = np.float64):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n_in)).astype(dtype)
    if loss == "categorical_crossentropy":
        y = np.eye(n_out, dtype=dtype)[rng.integers(0, n_out, size=m)]
    elif loss == "binary_crossentropy":
        y = rng.integers(0, 2, size=(m, n_out)).astype(dtype)
    else:
        y = rng.normal(size=(m, n_out)).astype(dtype)
    return X, y


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize(("output", "loss"), OUTPUTS)
@pytest.mark.parametrize("weighted", [False, True])
def test_one_batch_gives_the_numbers_of_forward_and_backward(hidden, output, loss, weighted):
    n_out = 1 if loss == "binary_crossentropy" else 3
    net = slopes.Network.mlp([3, 4, 5, n_out], activation=hidden, output=output, seed=1)
    X, y = data(n_out, loss)
    w = np.random.default_rng(2).uniform(0, 2, size=len(X)) if weighted else None
    loss_fn = get_loss(loss)
    reference = net.copy()
    zs, values = reference.forward(X)
    expected_loss = reference.loss_value(loss_fn, zs[-1], values[-1], y, w)
    reference.backward(zs, values, y, loss_fn, sample_weight=w)

    workspace = Workspace(net, loss_fn, batch_rows=10)  # more rows than the batch has
    value, predicted = workspace.forward_backward(X, y, w)
    assert value == pytest.approx(expected_loss, rel=1e-12)
    np.testing.assert_allclose(predicted, values[-1], rtol=1e-12, atol=1e-300)
    for mine, theirs in zip(net.layers, reference.layers, strict=True):
        np.testing.assert_allclose(mine.weight_slopes, theirs.weight_slopes,
                                   rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(mine.bias_slopes, theirs.bias_slopes, rtol=1e-10, atol=1e-14)
        assert np.shares_memory(mine.weights, workspace.parameters)
    workspace.release()
    for mine, theirs in zip(net.layers, reference.layers, strict=True):
        assert not np.shares_memory(mine.weights, workspace.parameters)
        assert not np.shares_memory(mine.weight_slopes, workspace.slopes)
        np.testing.assert_array_equal(mine.weights, theirs.weights)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fit_keeps_the_layers_arrays_and_leaves_the_last_slopes(dtype):
    X, y = data(1, "binary_crossentropy", m=12, dtype=dtype)
    net = slopes.Network.mlp([3, 4, 1], output="sigmoid", seed=0, dtype=dtype)
    before = net.copy()
    arrays = [p for p in net.parameters()]
    net.fit(X, y, loss="binary_crossentropy", learning_rate=0.5, epochs=1, shuffle=False,
            verbose=0)
    # The same array objects, trained in place, as before the workspace existed.
    assert all(p is q for p, q in zip(net.parameters(), arrays, strict=True))
    trace = before.trace(X, y, loss="binary_crossentropy")  # one full batch: the same step
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for k, layer in enumerate(net.layers):
        assert layer.weights.dtype == dtype and layer.weight_slopes.dtype == dtype
        np.testing.assert_allclose(layer.weight_slopes, trace.weight_slopes[k], rtol=rtol)
        np.testing.assert_allclose(layer.bias_slopes, trace.bias_slopes[k], rtol=rtol,
                                   atol=1e-7 if dtype == np.float32 else 1e-15)
        np.testing.assert_allclose(layer.weights, before.layers[k].weights
                                   - 0.5 * trace.weight_slopes[k], rtol=rtol)


def test_shuffled_mini_batches_match_steps_taken_by_hand():
    X, y = data(3, "categorical_crossentropy", m=23, n_in=4)
    net = slopes.Network.mlp([4, 6, 3], output="softmax", seed=3)
    by_hand = net.copy()
    net.fit(X, y, loss="categorical_crossentropy", learning_rate=0.3, epochs=3, batch_size=5,
            seed=11, verbose=0)
    rng = np.random.default_rng(11)
    for _ in range(3):
        order = rng.permutation(len(X))
        for start in range(0, len(X), 5):
            rows = order[start:start + 5]
            trace = by_hand.trace(X[rows], y[rows], loss="categorical_crossentropy")
            for k, layer in enumerate(by_hand.layers):
                layer.weights = layer.weights - 0.3 * trace.weight_slopes[k]
                layer.bias = layer.bias - 0.3 * trace.bias_slopes[k]
    for p, q in zip(net.parameters(), by_hand.parameters(), strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-11, atol=1e-13)


def test_adam_and_momentum_update_through_the_workspace_as_step_would():
    X, y = data(2, "mse", m=9)
    for make in (lambda: Adam(learning_rate=0.01), lambda: SGD(0.05, momentum=0.9,
                                                              nesterov=True, weight_decay=0.1)):
        net = slopes.Network.mlp([3, 4, 2], seed=5)
        by_hand, opt, opt_by_hand = net.copy(), make(), make()
        net.fit(X, y, loss="mse", optimizer=opt, epochs=4, shuffle=False, verbose=0)
        for _ in range(4):
            trace = by_hand.trace(X, y, loss="mse")
            slopes_ = [s for k in range(2) for s in (trace.weight_slopes[k], trace.bias_slopes[k])]
            opt_by_hand.step(by_hand.parameters(), slopes_)
        for p, q in zip(net.parameters(), by_hand.parameters(), strict=True):
            np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-15)
        assert opt.iterations == opt_by_hand.iterations == 4
        assert len(opt.state) == 4  # one state per parameter, as step keeps it


def test_plain_sgd_updates_all_parameters_at_once_as_updates_would():
    rng = np.random.default_rng(0)
    params = [rng.normal(size=(3, 2)).astype(np.float32), rng.normal(size=2).astype(np.float32)]
    grads = [rng.normal(size=p.shape).astype(np.float32) for p in params]
    one, flat = SGD(0.1), SGD(0.1)
    expected = one.updates(params, grads)
    out = np.empty(8, np.float32)
    assert flat.flat_updates(np.concatenate([g.ravel() for g in grads]), 2, out)
    np.testing.assert_array_equal(out, np.concatenate([e.ravel() for e in expected]))
    assert flat.iterations == 1 and flat.state == [{}, {}]
    assert not SGD(0.1, momentum=0.5).flat_updates(out.copy(), 2, out)
    assert not Adam().flat_updates(out.copy(), 2, out)


class ReplaceFirstWeights(Callback):
    """At the end of epoch 0, gives layers[0] new weights (a new array)."""

    def __init__(self, weights):
        self.new_weights = weights

    def on_epoch_end(self, epoch, logs):
        if epoch == 0:
            self.after_epoch_0 = self.network.copy()
            self.network.layers[0].weights = self.new_weights


def test_weights_a_callback_gives_a_layer_are_trained_from_then_on():
    X, y = data(1, "mse", m=8)
    net = slopes.Network.mlp([3, 4, 1], seed=0)
    new = np.full((3, 4), 0.25)
    callback = ReplaceFirstWeights(new)
    net.fit(X, y, loss="mse", learning_rate=0.1, epochs=2, shuffle=False, callbacks=[callback],
            verbose=0)
    by_hand = callback.after_epoch_0
    by_hand.layers[0].weights = new
    by_hand.fit(X, y, loss="mse", learning_rate=0.1, epochs=1, shuffle=False, verbose=0)
    for p, q in zip(net.parameters(), by_hand.parameters(), strict=True):
        np.testing.assert_array_equal(p, q)
    assert net.layers[0].weights is not new  # the layer's setter copies


def test_huge_but_finite_updates_do_not_stop_training():
    # slope of the weight 2 * 1e10 * 1e10 = 2e20: its square overflows float32, which the
    # fast check (a dot product of the updates) sees; the new weight -2e20 is finite.
    net = slopes.Network.from_weights([[[0.0]]], dtype=np.float32)
    history = net.fit([[1e10]], [-1e10], loss="sse", learning_rate=1.0, epochs=1, verbose=0)
    assert net.layers[0].weights[0, 0] == pytest.approx(-2e20, rel=1e-6)
    assert history.history["loss"] == [pytest.approx(1e20, rel=1e-6)]


def test_custom_activation_without_out_still_trains():
    class Cube(Activation):
        name = "cube"

        def value(self, z):
            return z ** 3

        def slope(self, z, a):
            return 3 * z ** 2

    X, y = data(1, "mse", m=6)
    net = slopes.Network([slopes.Dense(3, 2, activation=Cube(), seed=0),
                          slopes.Dense(2, 1, seed=1)])
    by_hand = net.copy()
    net.fit(X, y, loss="mse", learning_rate=0.01, epochs=1, verbose=0)
    trace = by_hand.trace(X, y, loss="mse")
    np.testing.assert_allclose(net.layers[0].weights,
                               by_hand.layers[0].weights - 0.01 * trace.weight_slopes[0],
                               rtol=1e-12)


def test_same_seed_is_bit_identical_in_float32():
    X, y = data(3, "categorical_crossentropy", m=50, n_in=4, dtype=np.float32)
    runs = []
    for _ in range(2):
        net = slopes.Network.mlp([4, 8, 3], output="softmax", seed=0, dtype=np.float32)
        history = net.fit(X, y, loss="categorical_crossentropy", learning_rate=0.1, epochs=3,
                          batch_size=8, seed=4, verbose=0)
        runs.append((net.parameters(), history.history["loss"]))
    assert runs[0][1] == runs[1][1]
    for p, q in zip(runs[0][0], runs[1][0], strict=True):
        assert p.dtype == np.float32
        np.testing.assert_array_equal(p, q)


def _mixed_network(n_out: int, output: str) -> slopes.Network:
    """A first layer without bias (it cannot fold), then layers that fold theirs."""
    rng = np.random.default_rng(3)
    return slopes.Network([
        slopes.Dense(3, 4, activation="tanh", bias=False, seed=1),
        slopes.Dense(4, 5, activation="identity", seed=2),
        slopes.Dense(5, n_out, activation=output, seed=int(rng.integers(100))),
    ])


@pytest.mark.parametrize(("output", "loss"), OUTPUTS)
@pytest.mark.parametrize("build", ["mlp", "mixed"])
def test_bias_folded_into_the_weights_gives_the_same_numbers(output, loss, build):
    # [x, 1] @ [[W], [b]] is x @ W + b, and [x, 1].T @ input_slope holds the weight slopes
    # with the bias slopes as a last row: the same numbers as forward and backward.
    n_out = 1 if loss == "binary_crossentropy" else 3
    net = (slopes.Network.mlp([3, 4, 5, n_out], activation="relu", output=output, seed=1)
           if build == "mlp" else _mixed_network(n_out, output))
    X, y = data(n_out, loss)
    loss_fn = get_loss(loss)
    reference = net.copy()
    zs, values = reference.forward(X)
    expected_loss = reference.loss_value(loss_fn, zs[-1], values[-1], y)
    reference.backward(zs, values, y, loss_fn)

    workspace = Workspace(net, loss_fn, batch_rows=10)
    folds = [stacked is not None for stacked in workspace._stacked]
    assert folds == ([True, True, True] if build == "mlp" else [False, True, True])
    X_in = workspace.with_ones(X)
    assert X_in.shape == ((7, 4) if build == "mlp" else (7, 3))
    for inputs in (X_in, X, X_in):  # with and without the ones, the buffers reused
        value, predicted = workspace.forward_backward(inputs, y)
        assert value == pytest.approx(expected_loss, rel=1e-12)
        np.testing.assert_allclose(predicted, values[-1], rtol=1e-12, atol=1e-15)
        for mine, theirs in zip(net.layers, reference.layers, strict=True):
            for got, want in zip(mine.parameter_slopes(), theirs.parameter_slopes(),
                                 strict=True):
                np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)
    workspace.release()


def test_gathered_rows_come_with_the_ones_the_first_layer_needs():
    net = slopes.Network.mlp([3, 2, 1], output="sigmoid", seed=0)
    workspace = Workspace(net, get_loss("binary_crossentropy"), batch_rows=4)
    X, y = data(1, "binary_crossentropy")
    w = np.arange(7.0)
    xb, yb, wb = workspace.gather(np.array([6, 0, 3]), X, y, w)
    np.testing.assert_array_equal(xb, np.c_[X[[6, 0, 3]], np.ones(3)])
    np.testing.assert_array_equal(yb, y[[6, 0, 3]])
    np.testing.assert_array_equal(wb, [6.0, 0.0, 3.0])
    workspace.release()


def test_a_layer_used_twice_does_not_fold():
    layer = slopes.Dense(3, 3, activation="relu", seed=0)
    net = slopes.Network([layer, layer, slopes.Dense(3, 1, activation="identity", seed=1)])
    workspace = Workspace(net, get_loss("mse"), batch_rows=5)
    assert workspace._stacked == [None, None, None]
    X, y = data(1, "mse", m=5)
    assert workspace.with_ones(X) is X
    workspace.release()
