"""The course's backpropagation examples, reproduced through slopes' trace.

Courses: seed 004 ("Backpropagation", "Working through an example",
"Backpropagation exercise") and seeds 001/002/003 (DataCamp "Backpropagation
in practice").

Sign convention (seed 004). The course writes ``error = y - y_hat``, error
terms ``delta^o = (y - y_hat) f'(z)`` and ``delta^h = W delta^o f'(h)``, and
weight steps ``Delta w = eta * delta * x`` added to the weights. slopes writes
``error = predicted - actual`` and subtracts ``learning_rate * slope``. With
``loss="half_mse"`` (the course's ``E = 1/(2m) sum (y - y_hat)**2``; for one
sample ``mse / 2``) the course's error term of layer ``k`` is
``-t.input_slopes[k]`` and its weight step is ``-learning_rate * t.weight_slopes[k]``.
"""

import numpy as np
import pytest

import slopes


def test_working_through_an_example_two_layer_network():
    """Seed 004 "Working through an example": x = [0.1, 0.3], one hidden unit, target y = 1.

    Hidden weights w = [0.4, -0.2] (the course's ``h = 0.1 x 0.4 - 0.2 x 0.3``
    pairs x = [0.1, 0.3] with w = [0.4, -0.2]), output weight W = 0.1, sigmoid
    activations, learning rate 0.5. The course prints::

        h   = -0.02
        a   = sigmoid(-0.02)        = 0.495
        y^  = sigmoid(0.1 x 0.495)  = 0.512
        d^o = (1 - 0.512) x 0.512 x (1 - 0.512)      = 0.122
        d^h = 0.1 x 0.122 x 0.495 x (1 - 0.495)      = 0.003
        DW  = 0.5 x 0.122 x 0.495                    = 0.0302
        Dw  = (0.5 x 0.003 x 0.1, 0.5 x 0.003 x 0.3) = (0.00015, 0.00045)

    The course rounds each intermediate before using it: DW is computed from
    d^o = 0.122 (unrounded 0.12183: DW = 0.030153) and Dw from d^h = 0.003
    (unrounded 0.0030455: Dw = (0.000152, 0.000457)). The printed values are
    asserted with a tolerance that covers that rounding, and the unrounded
    values to 12 digits (computed from the same formulas without rounding).
    """
    learnrate = 0.5
    net = slopes.Network.from_weights(
        [np.array([0.4, -0.2]), np.array([0.1])], activation=["sigmoid", "sigmoid"]
    )
    t = net.trace(np.array([0.1, 0.3]), 1, loss="half_mse")

    h = t.node_inputs[0][0, 0]
    a = t.node_values[1][0, 0]
    y_hat = t.predictions[0, 0]
    delta_o = -t.input_slopes[1][0, 0]
    delta_h = -t.input_slopes[0][0, 0]
    step_W = -learnrate * t.weight_slopes[1][0, 0]
    step_w = -learnrate * t.weight_slopes[0].ravel()

    # The course's printed digits.
    assert h == pytest.approx(-0.02, abs=5e-15)
    assert a == pytest.approx(0.495, abs=5e-4)
    assert y_hat == pytest.approx(0.512, abs=5e-4)
    assert delta_o == pytest.approx(0.122, abs=5e-4)
    assert delta_h == pytest.approx(0.003, abs=5e-4)
    assert step_W == pytest.approx(0.0302, abs=5e-5)
    # 0.5 x 0.003 x x_i with d^h rounded to 0.003: allow for that rounding (d^h is 0.0030455).
    np.testing.assert_allclose(step_w, [0.00015, 0.00045], rtol=0, atol=1e-5)

    # The same quantities without the course's intermediate rounding.
    assert a == pytest.approx(0.49500016666, abs=5e-13)
    assert y_hat == pytest.approx(0.512372477963, abs=5e-13)
    assert delta_o == pytest.approx(0.121832235361, abs=5e-13)
    assert delta_h == pytest.approx(0.003045501324, abs=5e-13)
    assert step_W == pytest.approx(0.030153488404, abs=5e-13)
    np.testing.assert_allclose(step_w, [0.000152275066, 0.000456825199], rtol=0, atol=5e-13)


def course_backpropagation_exercise():
    """REFERENCE IMPLEMENTATION: the course's own code (seed 004, "Backpropagation exercise").

    Copied from the course, unchanged except for returning the two results
    instead of printing them. It is the expected value the test compares
    slopes against; slopes itself is not used here.
    """

    def sigmoid(x):
        """
        Calculate sigmoid
        """
        return 1 / (1 + np.exp(-x))

    x = np.array([0.5, 0.1, -0.2])
    target = 0.6
    learnrate = 0.5

    weights_input_hidden = np.array([[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]])

    weights_hidden_output = np.array([0.1, -0.3])

    ## Forward pass
    hidden_layer_input = np.dot(x, weights_input_hidden)
    hidden_layer_output = sigmoid(hidden_layer_input)

    output_layer_in = np.dot(hidden_layer_output, weights_hidden_output)
    output = sigmoid(output_layer_in)

    ## Backwards pass
    ## TODO: Calculate output error
    error = target - output

    # TODO: Calculate error term for output layer
    output_error_term = error * output * (1 - output)

    # TODO: Calculate error term for hidden layer
    hidden_error_term = (
        np.dot(output_error_term, weights_hidden_output)
        * hidden_layer_output
        * (1 - hidden_layer_output)
    )

    # TODO: Calculate change in weights for hidden layer to output layer
    delta_w_h_o = learnrate * output_error_term * hidden_layer_output

    # TODO: Calculate change in weights for input layer to hidden layer
    delta_w_i_h = learnrate * hidden_error_term * x[:, None]

    return delta_w_h_o, delta_w_i_h


def test_backpropagation_exercise_3_2_1():
    """Seed 004 "Backpropagation exercise": a 3-2-1 sigmoid network, one backward pass.

    x = [0.5, 0.1, -0.2], target 0.6, learnrate 0.5,
    weights_input_hidden = [[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]],
    weights_hidden_output = [0.1, -0.3]. The course prints no numbers; the
    expected changes in weights come from the course's own code
    (``course_backpropagation_exercise`` above). For the record they are::

        hidden -> output: [0.00804047 0.00555918]
        input -> hidden:  [[ 1.77005547e-04 -5.11178506e-04]
                           [ 3.54011093e-05 -1.02235701e-04]
                           [-7.08022187e-05  2.04471402e-04]]
    """
    expected_h_o, expected_i_h = course_backpropagation_exercise()
    # the digits quoted in the docstring, so they stay true
    np.testing.assert_allclose(expected_h_o, [0.00804047, 0.00555918], rtol=0, atol=5e-9)
    np.testing.assert_allclose(
        expected_i_h,
        [[1.77005547e-04, -5.11178506e-04], [3.54011093e-05, -1.02235701e-04],
         [-7.08022187e-05, 2.04471402e-04]],
        rtol=5e-9,
    )

    learnrate = 0.5
    net = slopes.Network.from_weights(
        [np.array([[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]), np.array([0.1, -0.3])],
        activation=["sigmoid", "sigmoid"],
    )
    t = net.trace(np.array([0.5, 0.1, -0.2]), 0.6, loss="half_mse")

    assert t.weight_slopes[1].shape == (2, 1)
    assert t.weight_slopes[0].shape == (3, 2)
    np.testing.assert_allclose(
        -learnrate * t.weight_slopes[1].ravel(), expected_h_o, rtol=1e-12, atol=1e-18
    )
    np.testing.assert_allclose(
        -learnrate * t.weight_slopes[0], expected_i_h, rtol=1e-12, atol=1e-18
    )

    # fit with one full-batch step applies exactly these changes (w += Delta w).
    net.fit(np.array([[0.5, 0.1, -0.2]]), [0.6], loss="half_mse", learning_rate=learnrate)
    np.testing.assert_allclose(
        net.layers[0].weights,
        np.array([[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]) + expected_i_h,
        rtol=0,
        atol=1e-15,
    )
    np.testing.assert_allclose(
        net.layers[1].weights.ravel(), np.array([0.1, -0.3]) + expected_h_o, rtol=0, atol=1e-15
    )


def test_backpropagation_in_practice_relu_slopes():
    """Seeds 002 (slides) and 001 4.1, 4.4 / 003: "Backpropagation in practice".

    The slides' figure is missing from the text; what the text gives: a relu
    network, the loss's slope at the output node is 6 (``2 * error`` with
    error 3), the output node is fed by hidden nodes of values 1 and 3, so
    "Top weight's slope = 1 * 6" and "Bottom weight's slope = 3 * 6" (6 and
    18); a weight fed by a node of value 0 has slope 0. The table

    ==================== ========
    Current Weight Value Gradient
    ==================== ========
    0                    0
    1                    6
    2                    0
    3                    18
    ==================== ========

    The network below is built to give exactly those numbers: inputs [0, 1];
    hidden ``node_0`` weights [0, 1] and ``node_1`` weights [2, 3] (the four
    weights of the table, the ones of value 0 and 2 fed by the input of value
    0), so the hidden nodes have values 1 and 3; output weights [1, 3], so the
    prediction is 1*1 + 3*3 = 10 and the slope at each hidden node is 6 times
    its output weight (6 and 18). The target is 7 so that the error
    (predicted - actual) is 3 and the ``"sse"`` slope ``2 * error`` is 6. (The
    slides write "Actual Target Value = 10, Error = 3"; the numbers of that
    figure cannot be recovered from the text, and no 2-2-1 relu network
    without bias gives the table's gradients with a target of 10 and error 3.)
    """
    net = slopes.Network.from_weights(
        {"node_0": [0, 1], "node_1": [2, 3], "output": [1, 3]}, activation="relu"
    )
    t = net.trace(np.array([0, 1]), 7, loss="sse")

    # forward pass
    np.testing.assert_array_equal(t.node_values[1], [[1, 3]])
    assert t.predictions[0, 0] == 10
    assert t.errors[0, 0] == 3
    # the slope of the loss w.r.t. the output node: 2 * error = 6
    assert t.node_slopes[2][0, 0] == 6

    # output weights: top weight's slope = 1 * 6, bottom weight's slope = 3 * 6
    np.testing.assert_array_equal(t.weight_slopes[1].ravel(), [6, 18])

    # slopes at the hidden nodes: each weight out times the slope it feeds (1 x 6, 3 x 6). The
    # slides' rule (sum of the slopes of the weights out) agrees here only because the weights
    # out, 1 and 3, equal the hidden values (test_course_rules_and_numpy shows where it fails).
    np.testing.assert_array_equal(t.node_slopes[1], [[6, 18]])
    np.testing.assert_array_equal(t.input_slopes[0], [[6, 18]])

    # The table: current weight value -> gradient, for the four input -> hidden weights.
    weights = net.layers[0].weights
    gradients = t.weight_slopes[0]
    table = {int(w): g for w, g in zip(weights.ravel(), gradients.ravel(), strict=True)}
    assert table == {0: 0, 1: 6, 2: 0, 3: 18}
    # weights fed by the input node of value 0 (row 0) have gradient 0
    np.testing.assert_array_equal(gradients[0], [0, 0])

