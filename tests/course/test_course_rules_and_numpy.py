"""The course's last unchecked items: the node-slope rule, the baseline slides, other data, NumPy.

Courses: seeds 001/002 (notebook 3.2, slides "Backpropagation process", "Backpropagation in
practice", "A baseline neural network"), seed 003 (exercise notes, "Scaling up to multiple
data points") and seed 004 (Udacity notes, "Making a column vector", "Implementing the hidden
layer", "Implementing in Numpy"). Every number the course prints is compared to the digits it
prints.
"""

import numpy as np
import pytest

import slopes

HIDDEN = {"node_0": [0, 1], "node_1": [2, 3]}   # input [0, 1]: hidden values 1 and 3


def slides_rule(trace, layer):
    """The slides' rule: a node's slope is the sum of the slopes of the weights leaving it."""
    return trace.weight_slopes[layer].sum(axis=1)


def test_the_slides_node_slope_rule_is_wrong_in_general():
    """Notebook 3.2 / slides: "The slope of node values is the sum of the slopes for all
    weights that come out of them". A weight's slope is (value feeding it) x (slope at the node
    it feeds), so that sum is the node's value times the sum of the slopes at the nodes it
    feeds; backpropagation weighs those slopes by the weights out. The two agree only when the
    weights out equal the node's value."""
    agree = slopes.Network.from_weights({**HIDDEN, "output": [1, 3]}, activation="relu")
    trace = agree.trace([0, 1], 7, loss="mse")
    np.testing.assert_array_equal(slides_rule(trace, 1), trace.node_slopes[1][0])  # [6, 18]

    rng = np.random.default_rng(0)
    for _ in range(20):
        net = slopes.Network.from_weights([rng.normal(size=(3, 4)), rng.normal(size=(4, 2))],
                                          activation="identity")
        t = net.trace(rng.normal(size=3), rng.normal(size=2), loss="mse")
        values = t.node_values[1][0]
        right = t.node_slopes[1][0]
        fed = t.input_slopes[1][0]                      # slopes at the output nodes' inputs
        np.testing.assert_allclose(slides_rule(t, 1), values * fed.sum(), rtol=1e-12)
        np.testing.assert_allclose(right, net.layers[1].weights @ fed, rtol=1e-12)
        assert not np.allclose(slides_rule(t, 1), right)


def test_the_slides_table_with_actual_10_follows_the_slides_rule():
    """Slides, "Backpropagation in practice": actual 10, error 3, top weight's slope 1 * 6,
    bottom weight's slope 3 * 6, the table 0 6 0 18. With the output weights [1, 4] the
    prediction is 13 and every one of those numbers holds under the slides' rule; under
    backpropagation the table is 0 6 0 24."""
    net = slopes.Network.from_weights({**HIDDEN, "output": [1, 4]}, activation="relu")
    t = net.trace([0, 1], 10, loss="mse")
    assert t.predictions[0, 0] == 13 and t.errors[0, 0] == 3
    np.testing.assert_array_equal(t.weight_slopes[1].ravel(), [6, 18])
    order = np.argsort(t.weights[0].ravel())          # the table's weights 0, 1, 2, 3
    by_rule = (np.array([0, 1])[:, None] * slides_rule(t, 1)).ravel()[order]
    assert [f"{v:g}" for v in by_rule] == ["0", "6", "0", "18"]
    assert [f"{v:g}" for v in t.weight_slopes[0].ravel()[order]] == ["0", "6", "0", "24"]
    assert t.weight_slopes[0][1, 0] == 6               # the quiz's 6 holds in both readings


def test_the_baseline_slides_rebuilt():
    """Slides, "A baseline neural network": actual 13, "Error: Actual - Predicted = 4", then 0
    (the text reads "o"). The figure is missing; this relu network is rebuilt."""
    weights = {"node_0": [1, 1], "node_1": [-1, 1], "output": [2, -1]}
    t = slopes.Network.from_weights(weights, activation="relu").trace([2, 3], 13)
    assert f"{-t.errors[0, 0]:g}" == "4" and t.errors[0, 0] == -4  # the slides' sign, slopes'
    changed = slopes.Network.from_weights({**weights, "output": [3, -2]}, activation="relu")
    assert changed.trace([2, 3], 13).errors[0, 0] == 0


def test_the_exercise_notes_mse_come_from_other_data():
    """Exercise notes: "Mean squared error with weights_0: 294.000000", "... weights_1:
    395.062500". Not wrong numbers: every input row [4, 3], with the targets 1, 3, 5, 7,
    gives both exactly."""
    net_0 = slopes.Network.from_weights({"node_0": [2, 1], "node_1": [1, 2], "output": [1, 1]},
                                        activation="relu")
    net_1 = slopes.Network.from_weights(
        {"node_0": [2, 1], "node_1": [1, 1.5], "output": [1, 1.5]}, activation="relu")
    rows, targets = np.tile([4, 3], (4, 1)), np.array([1, 3, 5, 7])
    assert net_0.evaluate(rows, targets, loss="mse") == 294
    assert net_1.evaluate(rows, targets, loss="mse") == 395.0625
    assert f"{net_1.evaluate(rows, targets, loss='mse'):f}" == "395.062500"


def one_line(text):
    return " ".join(text.split())


def test_column_vectors_as_the_notes_print_them():
    """Udacity notes, "Making a column vector": features, features.T, features[:, None],
    np.array(features, ndmin=2) and its .T, as printed (the first three numbers of
    np.random.seed(42)'s randn)."""
    features = np.random.RandomState(42).randn(3)
    row = "array([ 0.49671415, -0.1382643 , 0.64768854])"
    column = "array([[ 0.49671415], [-0.1382643 ], [ 0.64768854]])"
    assert one_line(repr(features)) == row
    assert one_line(repr(features.T)) == row
    assert one_line(repr(features[:, None])) == column
    assert one_line(repr(np.array(features, ndmin=2))) == \
        "array([[ 0.49671415, -0.1382643 , 0.64768854]])"
    assert one_line(repr(np.array(features, ndmin=2).T)) == column


def test_the_notes_two_numpy_errors():
    """Udacity notes: ``np.dot(weights_input_to_hidden, X)`` with weights (3, 2) raises
    "shapes (3,2) and (3,) not aligned: 2 (dim 1) != 3 (dim 0)"; ``hidden_error*inputs``
    with shapes (3,) and (6,) raises "operands could not be broadcast together with shapes
    (3,) (6,)". slopes multiplies in the order that works: inputs times weights."""
    weights, features = np.ones((3, 2)), np.ones(3)
    with pytest.raises(ValueError) as dot:
        np.dot(weights, features)
    assert str(dot.value) == "shapes (3,2) and (3,) not aligned: 2 (dim 1) != 3 (dim 0)"
    with pytest.raises(ValueError) as broadcast:
        np.ones(3) * np.ones(6)
    assert str(broadcast.value).strip() == \
        "operands could not be broadcast together with shapes (3,) (6,)"
    layer = slopes.Network.from_weights([np.arange(6.0).reshape(3, 2)])
    np.testing.assert_array_equal(layer.predict([1.0, 2.0, 3.0]),
                                  np.dot([1.0, 2.0, 3.0], np.arange(6.0).reshape(3, 2)))


PRINTED = np.array([[-8.24195994e-04, -2.71771975e-04, 1.29713395e-03],
                    [-2.87777394e-04, -9.48922722e-05, 4.52909055e-04],
                    [6.44605731e-04, 2.12553536e-04, -1.01449168e-03],
                    [0, 0, 0], [0, 0, 0], [0, 0, 0]])


def test_the_weight_step_matrix_is_the_outer_product_for_admissions_row_11():
    """Udacity notes, "Implementing in Numpy": the 6x3 matrix printed for
    ``hidden_error*inputs[:,None]`` is the outer product for the admissions row 11 (gre 440,
    gpa 3.22, rank 1), standardized as the notes do: with hidden_error read from its rank_1
    row it matches to a relative 2.7e-9; a hidden_error inside that row's rounding gives
    every printed digit. slopes' first-layer weight slopes are that same outer product."""
    pytest.importorskip("pandas")
    admissions = slopes.datasets.load_admissions()
    row = admissions.loc[11]
    assert (row["gre"], row["gpa"], row["rank"]) == (440, 3.22, 1)
    inputs = slopes.datasets.admissions_preprocessor().transform(admissions.loc[[11]])[0]

    as_printed = PRINTED[2] * inputs[:, None]
    relative = np.abs(as_printed - PRINTED)[PRINTED != 0] / np.abs(PRINTED[PRINTED != 0])
    assert 2.6e-9 < relative.max() < 2.8e-9
    # No other row comes close: the gre and gpa rows give row 11's standardized values.
    every = slopes.datasets.admissions_preprocessor().transform(admissions)
    ratios = PRINTED[:2, 0] / PRINTED[2, 0]
    assert np.argmin(np.abs(every[:, :2] - ratios).sum(axis=1)) == 11

    hidden_error = np.array([6.446057312e-04, 2.1255353556e-04, -1.014491683e-03])
    assert [f"{v:.8e}" for v in hidden_error] == [f"{v:.8e}" for v in PRINTED[2]]
    step = hidden_error * inputs[:, None]
    assert [f"{abs(v) if v == 0 else v:.8e}" for v in step.ravel()] == \
        [f"{v:.8e}" for v in PRINTED.ravel()]

    rng = np.random.default_rng(11)
    net = slopes.Network.from_weights([rng.normal(size=(6, 3)), rng.normal(size=3)],
                                      activation="sigmoid")
    t = net.trace(inputs, 0, loss="half_mse")
    np.testing.assert_allclose(t.weight_slopes[0], inputs[:, None] * t.input_slopes[0][0],
                               rtol=1e-14, atol=0)
