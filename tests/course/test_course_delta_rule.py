"""The course's sigmoid unit (delta rule) and forward pass, through slopes.

Course: seed 004 ("Week 1 Neural Networks": "Gradient Descent: The Code",
"Quiz answers", "Implementing the hidden layer" / "Programming quiz").

Sign convention. The course writes ``error = y - y_hat``, the error term
``delta = (y - y_hat) f'(h)`` and the step ``Delta w = eta * delta * x``, added
to the weights (``w += Delta w``). slopes writes ``error = predicted - actual``
and subtracts ``learning_rate * slope``. With ``loss="half_mse"`` (the course's
``E = 1/(2m) sum (y - y_hat)**2``; for one sample, ``mse / 2``):

- the course's error is ``-t.errors``;
- the course's error term ``delta`` is ``-t.input_slopes[k]`` (minus the slope
  of the loss at the node's input ``h``);
- the course's weight step ``Delta w`` is ``-learning_rate * t.weight_slopes[k]``.
"""

import math

import numpy as np
import pytest

import slopes


def sigmoid_unit(weights):
    """One sigmoid node fed directly by the inputs, no bias."""
    return slopes.Network.from_weights([np.array(weights, dtype=float)], activation="sigmoid")


def test_gradient_descent_the_code_sigmoid_unit():
    """Seed 004 "Gradient Descent: The Code": x = [0.1, 0.3], w = [-0.8, 0.5], y = 0.2.

    The course prints no numbers here; the expected values below follow its
    code, written out with the numbers::

        h          = -0.8*0.1 + 0.5*0.3            = 0.07
        nn_output  = sigmoid(0.07)                 = 0.517492857666...
        error      = 0.2 - 0.517492857666          = -0.317492857666...
        output_grad= 0.517492857666*(1-0.517492857666) = 0.249693999931...
        error_term = error * output_grad           = -0.079276061580...
        del_w      = 0.5 * error_term * [0.1, 0.3] = [-0.003963803079, -0.011891409237]
    """
    x = np.array([0.1, 0.3])
    y = 0.2
    learnrate = 0.5

    h = -0.8 * 0.1 + 0.5 * 0.3
    nn_output = 1 / (1 + math.exp(-h))
    error = y - nn_output
    output_grad = nn_output * (1 - nn_output)
    error_term = error * output_grad
    del_w = [learnrate * error_term * 0.1, learnrate * error_term * 0.3]
    # the digits quoted in the docstring
    assert nn_output == pytest.approx(0.517492857666, abs=5e-13)
    assert del_w == pytest.approx([-0.003963803079, -0.011891409237], abs=5e-13)

    net = sigmoid_unit([-0.8, 0.5])
    t = net.trace(x, y, loss="half_mse")
    assert t.node_inputs[0][0, 0] == pytest.approx(h, abs=1e-15)
    assert t.predictions[0, 0] == pytest.approx(nn_output, abs=1e-15)
    assert -t.errors[0, 0] == pytest.approx(error, abs=1e-15)
    assert -t.input_slopes[0][0, 0] == pytest.approx(error_term, abs=1e-15)
    np.testing.assert_allclose(
        -learnrate * t.weight_slopes[0].ravel(), del_w, rtol=1e-12, atol=1e-17
    )


def test_gradient_descent_quiz_answers():
    """Seed 004 "Quiz answers": x = [1, 2, 3, 4], w = [0.5, -0.5, 0.3, 0.1], y = 0.5.

    The course prints::

        Neural Network output:  0.689974481128
        Amount of Error:        -0.189974481128
        Change in Weights:      [-0.02031869 -0.04063738 -0.06095608 -0.08127477]

    (learnrate 0.5).
    """
    learnrate = 0.5
    net = sigmoid_unit([0.5, -0.5, 0.3, 0.1])
    t = net.trace(np.array([1, 2, 3, 4]), 0.5, loss="half_mse")

    assert t.predictions[0, 0] == pytest.approx(0.689974481128, abs=5e-13)
    assert -t.errors[0, 0] == pytest.approx(-0.189974481128, abs=5e-13)
    np.testing.assert_allclose(
        -learnrate * t.weight_slopes[0].ravel(),
        [-0.02031869, -0.04063738, -0.06095608, -0.08127477],
        rtol=0,
        atol=5e-9,
    )
    assert net.predict(np.array([1, 2, 3, 4]))[0] == pytest.approx(0.689974481128, abs=5e-13)

    # One fit step (full batch of one record) applies exactly that change.
    net.fit(np.array([[1, 2, 3, 4]]), [0.5], loss="half_mse", learning_rate=learnrate, epochs=1)
    np.testing.assert_allclose(
        net.layers[0].weights.ravel(),
        np.array([0.5, -0.5, 0.3, 0.1])
        + np.array([-0.02031869, -0.04063738, -0.06095608, -0.08127477]),
        rtol=0,
        atol=5e-9,
    )


def test_forward_pass_4_3_2_network():
    """Seed 004 "Implementing the hidden layer", programming quiz: a 4-3-2 sigmoid network.

    The course builds its data and weights with ``np.random.seed(42)``::

        X = np.random.randn(4)
        weights_input_to_hidden = np.random.normal(0, scale=0.1, size=(4, 3))
        weights_hidden_to_output = np.random.normal(0, scale=0.1, size=(3, 2))

    and prints ``Hidden-layer Output: [0.41492192 0.42604313 0.5002434]`` and
    ``Output-layer Output: [0.49815196 0.48539772]``. The global NumPy seed is
    used here only to rebuild the course's data; slopes itself never touches
    the global random state.
    """
    saved_state = np.random.get_state()  # noqa: NPY002 -- restored below for other tests
    try:
        # the course's own data, built exactly as the course builds it
        np.random.seed(42)  # noqa: NPY002
        X = np.random.randn(4)  # noqa: NPY002
        weights_input_to_hidden = np.random.normal(0, scale=0.1, size=(4, 3))  # noqa: NPY002
        weights_hidden_to_output = np.random.normal(0, scale=0.1, size=(3, 2))  # noqa: NPY002
    finally:
        np.random.set_state(saved_state)  # noqa: NPY002

    net = slopes.Network.from_weights(
        [weights_input_to_hidden, weights_hidden_to_output], activation=["sigmoid", "sigmoid"]
    )
    output = net.predict(X)
    assert output.shape == (2,)
    np.testing.assert_allclose(output, [0.49815196, 0.48539772], rtol=0, atol=5e-9)

    # The hidden layer's values, kept by trace (the target does not affect the forward pass).
    t = net.trace(X, np.zeros(2), loss="mse")
    np.testing.assert_allclose(
        t.node_values[1][0], [0.41492192, 0.42604313, 0.5002434], rtol=0, atol=5e-9
    )
    np.testing.assert_allclose(t.predictions[0], [0.49815196, 0.48539772], rtol=0, atol=5e-9)
