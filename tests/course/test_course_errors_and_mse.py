"""The course's error and loss examples, reproduced number for number through slopes.

Course: "Optimizing a neural network with backward propagation" (DataCamp,
"Introduction to Deep Learning in Python"), chapter 1 "The need for
optimization" -- seeds 000 and 001 (notebook notes), 002 (slides) and 003
(exercise notes).

Everything is computed with slopes' public API (``Network.from_weights``,
``predict``, ``trace``, ``evaluate``, ``get_loss``); the expected values are
the numbers the course prints. slopes writes ``error = predicted - actual``,
which is the sign the DataCamp course uses in its exercises.
"""

import numpy as np
import pytest

import slopes

# seed 001, 1.9 [task-1] / seed 003 "Coding how weight changes affect accuracy"
WEIGHTS_0 = {"node_0": [2, 1], "node_1": [1, 2], "output": [1, 1]}
WEIGHTS_1_TASK_1 = {"node_0": [2, 1], "node_1": [1, 0], "output": [1, 1]}

# seed 001, 1.10 [task-2] "Scaling up to multiple data points"
WEIGHTS_1_TASK_2 = {
    "node_0": np.array([2, 1]),
    "node_1": np.array([1.0, 1.5]),
    "output": np.array([1.0, 1.5]),
}
INPUT_DATA = np.array([[0, 3], [1, 2], [-1, -2], [4, 0]])
TARGET_ACTUALS = np.array([1, 3, 5, 7])


def test_coding_how_weight_changes_affect_accuracy():
    """Seed 001 1.9 [task-1] (also seeds 000 and 003): relu network, input [0, 3], target 3.

    ``weights_0`` predicts 9, so ``error_0 = 9 - 3`` prints ``6``; changing the
    single weight ``node_1`` to ``[1, 0]`` gives a perfect prediction and
    ``error_1`` prints ``0``.
    """
    input_data = np.array([0, 3])
    target_actual = 3

    net_0 = slopes.Network.from_weights(WEIGHTS_0, activation="relu")
    t0 = net_0.trace(input_data, target_actual, loss="sse")
    assert t0.predictions[0, 0] == 9
    assert t0.errors[0, 0] == 6

    net_1 = slopes.Network.from_weights(WEIGHTS_1_TASK_1, activation="relu")
    t1 = net_1.trace(input_data, target_actual, loss="sse")
    assert t1.predictions[0, 0] == 3
    assert t1.errors[0, 0] == 0
    # predict gives the same number as trace (one sample in, shape (n_outputs,) out)
    np.testing.assert_array_equal(net_1.predict(input_data), [3.0])


def test_scaling_up_to_multiple_data_points():
    """Seed 001 1.10 [task-2]: four points, targets [1, 3, 5, 7], sklearn's mean_squared_error.

    The course prints ``Mean squared error with weights_0: 37.500000`` and
    ``... weights_1: 49.890625``. slopes computes the four predictions in one
    batch (2-D ``X``), not in a loop over the rows.
    """
    net_0 = slopes.Network.from_weights(WEIGHTS_0, activation="relu")
    net_1 = slopes.Network.from_weights(WEIGHTS_1_TASK_2, activation="relu")

    assert net_0.predict(INPUT_DATA).shape == (4, 1)

    t0 = net_0.trace(INPUT_DATA, TARGET_ACTUALS, loss="mse")
    t1 = net_1.trace(INPUT_DATA, TARGET_ACTUALS, loss="mse")
    assert t0.loss == pytest.approx(37.5, abs=5e-7)
    assert t1.loss == pytest.approx(49.890625, abs=5e-7)
    assert f"{t0.loss:f}" == "37.500000"
    assert f"{t1.loss:f}" == "49.890625"

    # evaluate gives the same numbers, and so does get_loss on predict's output
    assert net_0.evaluate(INPUT_DATA, TARGET_ACTUALS, loss="mse") == pytest.approx(37.5, abs=5e-7)
    assert net_1.evaluate(INPUT_DATA, TARGET_ACTUALS, loss="mse") == pytest.approx(
        49.890625, abs=5e-7
    )
    mse = slopes.get_loss("mse")
    actual = TARGET_ACTUALS.reshape(-1, 1).astype(float)
    assert mse.value(net_0.predict(INPUT_DATA), actual) == pytest.approx(37.5, abs=5e-7)
    assert mse.value(net_1.predict(INPUT_DATA), actual) == pytest.approx(49.890625, abs=5e-7)
    # weights_1 is the worse set of weights: "model_output_1 has a higher mean squared error"
    assert t1.loss > t0.loss


def test_squared_error_loss_function_table():
    """Seed 002, slide "Squared error loss function".

    ========== ====== ===== =============
    Prediction Actual Error Squared Error
    ========== ====== ===== =============
    10         20     -10   100
    8          3      5     25
    6          1      2     25
    ========== ====== ===== =============

    Total Squared Error: 150; Mean Squared Error: 50.

    The slide's last row prints the error as 2, a typo: 6 - 1 = 5 (its squared
    error, 25, is right). The test asserts 5.
    """
    predictions = np.array([[10.0], [8.0], [6.0]])
    actuals = np.array([[20.0], [3.0], [1.0]])
    sse = slopes.get_loss("sse")
    mse = slopes.get_loss("mse")

    assert sse.value(predictions, actuals) == 150
    assert mse.value(predictions, actuals) == 50

    # The slope of the squared error is 2 * error, so the Error column is slope / 2.
    np.testing.assert_array_equal(sse.slope(predictions, actuals), [[-20.0], [10.0], [10.0]])
    squared = [sse.value(predictions[i : i + 1], actuals[i : i + 1]) for i in range(3)]
    assert squared == [100, 25, 25]


def test_zero_errors_give_zero_weight_updates():
    """Seed 001 3.4 [quiz-2] "Thinking about backward propagation" (also seed 003).

    "If the predictions were all exactly right, and the errors were all
    exactly 0, ... the updates to all weights in the network would also be 0."
    Checked on the perfect ``weights_1`` network of 1.9 [task-1] (error 0).
    """
    net = slopes.Network.from_weights(WEIGHTS_1_TASK_1, activation="relu")
    t = net.trace(np.array([0, 3]), 3, loss="mse")
    assert t.errors[0, 0] == 0
    for slope in t.weight_slopes:
        np.testing.assert_array_equal(slope, np.zeros_like(slope))
