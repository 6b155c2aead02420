"""The course's remaining worked numbers: the quizzes, the admissions rows, vanishing slopes.

Courses: seed 001 (notebook 1.7, 1.8, 1.9, 3.3) and seed 003 (exercise notes) for
the DataCamp quizzes; seed 000 (summary notes) for the other perfect weights;
seed 004 (Udacity notes) for the standardized admissions rows and the
vanishing-gradient fractions. Every expected value is the number the course
prints, compared to the digits it prints.
"""

import numpy as np
import pytest

import slopes
from slopes.course_udacity import ADMISSIONS_ROWS_PRINTED

# The quizzes' network (notebook 1.7/1.8, exercise notes). Its figure is missing from the
# course's text; this relu network is rebuilt from the numbers the quizzes state: the input
# [3, 2] gives the prediction 16, and node_0 (value 8) feeds the output through the weight 2.
QUIZ = {"node_0": [2, 1], "node_1": [-1, 1], "output": [2, 1]}


def test_quiz_error_of_input_3_2_is_11():
    """Notebook 1.7 / exercise notes: input [3, 2], actual 5: "a prediction of 16, which
    results in an error of 11"."""
    trace = slopes.Network.from_weights(QUIZ, activation="relu").trace([3, 2], 5)
    np.testing.assert_array_equal(trace.node_values[1], [[8, 0]])  # node_1: relu(-1) = 0
    assert trace.predictions[0, 0] == 16
    assert trace.errors[0, 0] == 11


def test_quiz_weight_2_to_2_01_makes_the_error_9_08():
    """Exercise notes: "Increasing the weight to 2.01 would increase the resulting error
    from 9 to 9.08, making the predictions less accurate" (actual 7)."""
    net = slopes.Network.from_weights(QUIZ, activation="relu")
    before = net.trace([3, 2], 7)
    assert before.errors[0, 0] == 9
    net.layers[1].weights = np.array([[2.01], [1.0]])
    after = net.trace([3, 2], 7).errors[0, 0]
    assert f"{after:.2f}" == "9.08"
    assert abs(after) > abs(before.errors[0, 0])  # less accurate
    # The slope says so before any change: d(squared error)/dw = 2 x 9 x 8 = 144 > 0.
    assert before.weight_slopes[1][0, 0] == 144


def test_the_summary_notes_other_perfect_weights():
    """Summary notes: weights_1 = {'node_0': [2, 1], 'node_1': [1, 2], 'output': [1, 0]}
    gives "a perfect prediction (... target_actual: 3)"."""
    net = slopes.Network.from_weights({"node_0": [2, 1], "node_1": [1, 2], "output": [1, 0]},
                                      activation="relu")
    trace = net.trace([0, 3], 3)
    assert trace.predictions[0, 0] == 3 and trace.errors[0, 0] == 0


@pytest.mark.parametrize(("epochs", "batch_size", "n_rows"), [(4, None, 1), (2, 2, 4)])
def test_four_updates_take_four_forward_passes(epochs, batch_size, n_rows):
    """Notebook 3.3 / exercise notes: 4 iterations of slopes and updates need 4 forward
    passes. Counted through the first layer while ``fit`` makes 4 updates (4 epochs of one
    batch, or 2 epochs of 2 batches)."""
    net = slopes.Network.from_weights(QUIZ, activation="relu")
    layer, passes = net.layers[0], []
    forward = layer.forward
    layer.forward = lambda x: passes.append(len(x)) or forward(x)
    history = net.fit(np.tile([[3.0, 2.0]], (n_rows, 1)), np.full(n_rows, 5.0),
                      learning_rate=0.001, epochs=epochs, batch_size=batch_size, shuffle=False,
                      verbose=0)
    assert len(history.epoch) == epochs
    assert len(passes) == 4


# The ten rows the Udacity notes print after standardizing gre and gpa (pandas' std, over all
# 400 rows) and one-hot encoding rank: index, admit, gre, gpa, rank_1..rank_4. Lesson 9 holds
# them as the course prints them; this test checks slopes' preprocessing against them.
ROWS = ADMISSIONS_ROWS_PRINTED


def test_the_standardized_admissions_rows_the_udacity_notes_print():
    pytest.importorskip("pandas")
    from slopes.datasets import admissions_preprocessor

    admissions = slopes.datasets.load_admissions()
    prep = admissions_preprocessor()
    for line in ROWS.splitlines():
        index, admit, gre, gpa, *ranks = line.split("\t")
        row = admissions.loc[[int(index)]]
        features = prep.transform(row)[0]
        assert prep.transform_target(row["admit"])[0] == int(admit)
        assert f"{features[0]:.6f}" == gre, index
        assert f"{features[1]:.6f}" == gpa, index
        assert [f"{v:g}" for v in features[2:]] == ranks
    # prepare_admissions (lesson 9, slopes demo) holds the same numbers.
    split = slopes.datasets.prepare_admissions()
    every = np.concatenate([split.features, split.features_test])
    assert {line.split("\t")[2] for line in ROWS.splitlines()} <= {f"{v:.6f}" for v in every[:, 0]}
    assert {line.split("\t")[3] for line in ROWS.splitlines()} <= {f"{v:.6f}" for v in every[:, 1]}


def test_vanishing_gradient_fractions():
    """Udacity notes: "The maximum derivative of the sigmoid function is 0.25, so the errors in
    the output layer get reduced by at least 75%, and errors in the hidden layer are scaled down
    by at least 93.75%!" (The hidden layer's "at least" holds when the weights between do not
    amplify: |W| <= 1.)"""
    sigmoid = slopes.get_activation("sigmoid")
    z = np.linspace(-20, 20, 4001)
    slope = sigmoid.slope(z, sigmoid.value(z))
    assert slope.max() == 0.25 and z[slope.argmax()] == 0
    assert f"{100 * (1 - slope.max()):g}%" == "75%"
    assert f"{100 * (1 - slope.max() ** 2):g}%" == "93.75%"

    # Through a network: error terms shrink by those fractions at least.
    rng = np.random.default_rng(0)
    for _ in range(200):
        w = rng.uniform(-3, 3, size=2)
        W = rng.uniform(-1, 1)
        net = slopes.Network.from_weights([w, [W]], activation="sigmoid")
        trace = net.trace(rng.normal(size=2), rng.uniform(), loss="half_mse")
        error = abs(trace.errors[0, 0])
        delta_o, delta_h = abs(trace.input_slopes[1][0, 0]), abs(trace.input_slopes[0][0, 0])
        assert delta_o <= 0.25 * error + 1e-15  # at least 75% lost
        assert delta_h <= 0.0625 * error + 1e-15  # at least 93.75% lost


def test_at_least_93_75_percent_needs_weights_at_most_1_in_size():
    """The hidden layer's "at least 93.75%" fails when a weight between the layers is larger
    than 1: in the worked example (x = [0.1, 0.3], w = [0.4, -0.2]) with W = 4 only 89.3% of
    the error is lost."""
    net = slopes.Network.from_weights([[0.4, -0.2], [4.0]], activation="sigmoid")
    trace = net.trace([0.1, 0.3], 1, loss="half_mse")
    kept = trace.input_slopes[0][0, 0] / trace.errors[0, 0]
    assert f"{100 * (1 - kept):.3g}" == "89.3"
    assert 100 * (1 - kept) < 93.75
