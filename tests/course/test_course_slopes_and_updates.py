"""The course's slope calculations and gradient-descent steps, through slopes.

Course: "Optimizing a neural network with backward propagation" (DataCamp),
chapter 2 "Gradient descent" -- seeds 000/001 (notes), 002 (slides), 003
(exercise notes).

The course's networks here have no hidden layer and no activation: one
``Dense`` layer with the identity activation. For one sample and one output,
slopes' ``"mse"`` loss is ``error ** 2`` and its slope ``2 * error``, the
course's ``MSE' = 2 * Error`` (seed 001, 2.2); the slope of a weight is then
``2 * input_data * error``, and one step of ``net.fit(..., epochs=1)`` is the
course's ``weights - learning_rate * slope``.
"""

import numpy as np
import pytest

import slopes


def linear_network(weights):
    """One node fed directly by the inputs, identity activation, no bias."""
    return slopes.Network.from_weights([np.array(weights, dtype=float)], activation="identity")


def test_slope_calculation_example_single_weight():
    """Seed 001 2.2 [note-2] / seed 002 slides "Slope calculation example".

    Input 3, weight 2, actual target 10: prediction 6, error -4; the slope of
    the weight is ``2 * (-4) * 3 = -24``, and with learning rate 0.01 the new
    weight is ``2 - 0.01 * (-24) = 2.24``.
    """
    net = linear_network([2])
    x = np.array([3])
    t = net.trace(x, 10, loss="mse")
    assert t.predictions[0, 0] == 6
    assert t.errors[0, 0] == -4
    # slope of the loss w.r.t. the prediction: 2 * error
    assert t.node_slopes[-1][0, 0] == -8
    assert t.weight_slopes[0][0, 0] == -24

    net.fit(x.reshape(1, -1), [10], loss="mse", learning_rate=0.01, epochs=1)
    assert net.layers[0].weights[0, 0] == pytest.approx(2.24, abs=5e-15)


def test_code_to_calculate_slopes_and_update_weights():
    """Seed 001 2.4 [code-1] / seed 002 slide "Code to calculate slopes and update weights".

    weights [1, 2], input [3, 4], target 6: ``error`` prints ``5``,
    ``gradient`` is ``array([30, 40])``, and after one step at learning rate
    0.01 ``error_updated`` prints ``2.5``.

    The slide in seed 002 prints ``-2.5``: that is wrong. The updated weights
    are [1 - 0.3, 2 - 0.4] = [0.7, 1.6], the prediction 0.7*3 + 1.6*4 = 8.5 and
    the error 8.5 - 6 = +2.5 (the notebook in seed 001 prints 2.5). The
    test asserts 2.5 and that it is not -2.5.
    """
    net = linear_network([1, 2])
    input_data = np.array([3, 4])
    target = 6

    t = net.trace(input_data, target, loss="mse")
    assert t.errors[0, 0] == 5
    np.testing.assert_array_equal(t.weight_slopes[0].ravel(), [30, 40])

    net.fit(input_data.reshape(1, -1), [target], loss="mse", learning_rate=0.01, epochs=1)
    np.testing.assert_allclose(net.layers[0].weights.ravel(), [0.7, 1.6], rtol=0, atol=1e-15)
    error_updated = net.trace(input_data, target, loss="mse").errors[0, 0]
    assert error_updated == pytest.approx(2.5, abs=5e-15)
    assert error_updated != pytest.approx(-2.5)  # the seed 002 slide's -2.5 is a typo


def test_calculating_slopes():
    """Seed 001 2.5 [task-1] (also seeds 000, 003): weights [0, 2, 1], input [1, 2, 3], target 0.

    ``slope = 2 * input_data * error`` prints ``[14 28 42]`` (error 7).
    """
    net = linear_network([0, 2, 1])
    t = net.trace(np.array([1, 2, 3]), 0, loss="mse")
    assert t.errors[0, 0] == 7
    np.testing.assert_array_equal(t.weight_slopes[0].ravel(), [14, 28, 42])


def test_improving_model_weights():
    """Seed 001 2.6 [task-2] (also seeds 000, 003): one step at learning rate 0.01.

    The course prints the error before and after the update: ``7`` and ``5.04``.
    """
    net = linear_network([0, 2, 1])
    x = np.array([[1, 2, 3]])
    target = [0]

    assert net.trace(x, target, loss="mse").errors[0, 0] == 7
    net.fit(x, target, loss="mse", learning_rate=0.01, epochs=1)
    # weights_updated = [0, 2, 1] - 0.01 * [14, 28, 42]
    np.testing.assert_allclose(
        net.layers[0].weights.ravel(), [-0.14, 1.72, 0.58], rtol=0, atol=1e-15
    )
    error_updated = net.trace(x, target, loss="mse").errors[0, 0]
    assert error_updated == pytest.approx(5.04, abs=5e-15)


def test_making_multiple_updates_to_weights():
    """Seed 001 2.7 [task-3] (also seeds 000, 003): twenty updates, MSE after each one.

    The course appends ``get_mse`` *after* each update to ``mse_hist`` and
    plots it (no numbers printed). The plot starts at 5.04 ** 2 = 25.4016
    (the error after one step, see 2.6) and falls to about 9.627e-05.

    Here: twenty one-epoch ``fit`` calls, each followed by ``evaluate``.
    ``fit``'s own ``history["loss"]`` measures the loss *before* each update,
    so a single 20-epoch fit gives ``[49] + mse_hist[:-1]``.
    """
    x = np.array([[1, 2, 3]])
    target = [0]

    net = linear_network([0, 2, 1])
    mse_hist = []
    for _ in range(20):
        net.fit(x, target, loss="mse", learning_rate=0.01, epochs=1)
        mse_hist.append(net.evaluate(x, target, loss="mse"))

    assert len(mse_hist) == 20
    assert mse_hist[0] == pytest.approx(25.4016, abs=5e-13)
    assert mse_hist[-1] == pytest.approx(9.627e-05, abs=5e-09)
    assert np.all(np.diff(mse_hist) < 0)  # decreasing at every step

    # The whole plotted curve: each step multiplies the error by 1 - 0.01 * 2 * (1+4+9) = 0.72,
    # so after k steps the error is 7 * 0.72**k and the MSE 49 * 0.72**(2k).
    expected_curve = [49 * 0.72 ** (2 * k) for k in range(1, 21)]
    np.testing.assert_allclose(mse_hist, expected_curve, rtol=1e-12, atol=0)

    # One fit of 20 epochs: the loss is recorded before each update.
    net20 = linear_network([0, 2, 1])
    history = net20.fit(x, target, loss="mse", learning_rate=0.01, epochs=20)
    np.testing.assert_allclose(history.history["loss"], [49.0] + mse_hist[:-1], rtol=1e-12)
    assert net20.evaluate(x, target, loss="mse") == pytest.approx(mse_hist[-1], rel=1e-12)
