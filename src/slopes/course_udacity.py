"""The course's Udacity lessons: the delta rule, the hidden layer, backpropagation, NumPy's shapes.

Lessons 5, 6, 7, 9 and 11 (:data:`slopes.course_lessons.LESSONS` lists all
eleven in the course's order) answer the examples of the *Udacity notes*
(Udacity's "Week 1 Neural Networks": gradient descent, the hidden layer,
backpropagation, implementing it in NumPy). Each is a ``compute`` function
that prints slopes' numbers and records the course's numbers beside them (on a
:class:`~slopes.course_numbers.CourseNumbers`), and, where the course shows a
picture, a ``draw`` function; :func:`slopes.lessons.run_lesson` prints the
body of each as the lesson's code, so the bodies call only what a reader has
(``np``, ``slopes``, ``Network``) and import nothing.

Sign convention. The Udacity notes write ``error = y - y_hat`` and
``delta_w = learning_rate * delta * x``; slopes writes ``error = predicted -
actual`` and ``slope = dLoss/dw``, and gradient descent steps by
``-learning_rate * slope``. With the loss ``"half_mse"`` (the notes'
``E = 1/(2m) sum (y - y_hat)**2``) the two agree: ``delta = -(slope at the
node's input)`` and ``delta_w = -learning_rate * weight_slope``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import slopes
from slopes import Network
from slopes.callbacks import Callback
from slopes.course_numbers import CourseNumbers

__all__ = ["delta_rule", "draw_delta_rule", "hidden_forward", "draw_hidden_forward",
           "backprop_hidden", "draw_backprop_hidden", "train_admissions", "draw_train_admissions",
           "numpy_shapes", "CourseLossPrint", "ADMISSIONS_ROWS_PRINTED",
           "WEIGHT_STEP_PRINTED"]


def delta_rule(course: CourseNumbers) -> Any:
    # One sigmoid output node. slopes' loss "half_mse" is the course's E = (y - y_hat)**2 / 2,
    # so the course's step  learnrate * (y - y_hat) * f'(h) * x  is  -learnrate * weight slope.
    learnrate = 0.5
    x = np.array([1, 2, 3, 4])
    y = 0.5
    w = np.array([0.5, -0.5, 0.3, 0.1])

    net = Network.from_weights([w], activation="sigmoid")
    trace = net.trace(x, y, loss="half_mse")
    change = -learnrate * trace.weight_slopes[0].ravel()
    print("Neural Network output:", round(trace.predictions[0, 0], 12))
    print("Amount of Error (y - y_hat):", round(-trace.errors[0, 0], 12))
    print("Change in Weights:", change)
    print(trace.explain(0, 0, 0, learning_rate=learnrate))
    course.check("Neural Network output", trace.predictions[0, 0], "0.689974481128",
                 "Udacity notes, quiz answers")
    course.check("Amount of Error", -trace.errors[0, 0], "-0.189974481128",
                 "Udacity notes, quiz answers")
    course.check("Change in Weights", change, "[-0.02031869 -0.04063738 -0.06095608 -0.08127477]",
                 "Udacity notes, quiz answers")
    return trace


def draw_delta_rule(trace: Any, out: Path) -> None:
    fig = slopes.plot.draw_network(trace, title="one sigmoid node")
    fig.savefig(out / "05_delta_rule.png", dpi=150)


def hidden_forward(course: CourseNumbers) -> Any:
    # The course draws its numbers with np.random.seed(42); RandomState(42) gives the same
    # numbers without touching NumPy's global random state.
    random = np.random.RandomState(42)
    X = random.randn(4)
    weights_input_to_hidden = random.normal(0, scale=0.1, size=(4, 3))
    weights_hidden_to_output = random.normal(0, scale=0.1, size=(3, 2))

    net = Network.from_weights([weights_input_to_hidden, weights_hidden_to_output],
                               activation="sigmoid")
    hidden = Network(net.layers[:1])          # the first layer alone gives the hidden values
    print("Hidden-layer Output:", hidden.predict(X))
    print("Output-layer Output:", net.predict(X))
    course.check("Hidden-layer Output", hidden.predict(X), "[ 0.41492192  0.42604313  0.5002434 ]",
                 "Udacity notes, programming quiz")
    course.check("Output-layer Output", net.predict(X), "[ 0.49815196  0.48539772]",
                 "Udacity notes, programming quiz")
    return net, X


def draw_hidden_forward(result: Any, out: Path) -> None:
    net, X = result
    fig = slopes.plot.draw_network(net, X=X, title="forward pass 4-3-2 (sigmoid)")
    fig.savefig(out / "06_hidden_forward.png", dpi=150)


def backprop_hidden(course: CourseNumbers) -> Any:
    # Two inputs, one sigmoid hidden node, one sigmoid output; target 1; learning rate 0.5.
    x, target, learnrate = np.array([0.1, 0.3]), 1, 0.5
    net = Network.from_weights([[0.4, -0.2], [0.1]], activation="sigmoid")
    trace = net.trace(x, target, loss="half_mse")

    h, a, y_hat = trace.node_inputs[0][0, 0], trace.node_values[1][0, 0], trace.predictions[0, 0]
    # The course's error terms delta are minus the slopes at the nodes' inputs.
    delta_o, delta_h = -trace.input_slopes[1][0, 0], -trace.input_slopes[0][0, 0]
    step_W = -learnrate * trace.weight_slopes[1][0, 0]
    step_w = -learnrate * trace.weight_slopes[0].ravel()
    print(f"h = {h:.6g}   a = {a:.6g}   y_hat = {y_hat:.6g}")
    print(f"delta_o = {delta_o:.6g}   delta_h = {delta_h:.6g}")
    print(f"Delta W = {step_W:.6g}   Delta w = {step_w}")
    print(trace.explain(0, 1, 0, learning_rate=learnrate))
    where = "Udacity notes, working through an example"
    course.check("h", h, "-0.02", where)
    course.check("a", a, "0.495", where)
    course.check("y_hat", y_hat, "0.512", where)
    course.check("delta_o", delta_o, "0.122", where)
    course.check("delta_h", delta_h, "0.003", where)
    course.check("Delta W", step_W, "0.0302", where)
    rounded = learnrate * round(delta_h, 3) * x      # the course rounds delta_h first
    course.check("Delta w", step_w, "(0.00015, 0.00045)", where,
                 f"the course multiplies delta_h rounded to 0.003: 0.5 x 0.003 x 0.3 = "
                 f"{rounded[1]:.5f}; unrounded, delta_h = {delta_h:.5g} gives {step_w[1]:.5g}")

    # Vanishing gradients: the sigmoid's slope is at most 0.25, at z = 0.
    sigmoid = slopes.get_activation("sigmoid")
    z = np.linspace(-10, 10, 2001)                    # a grid that includes z = 0
    steepest = sigmoid.slope(z, sigmoid.value(z)).max()
    course.check("the sigmoid's largest slope", steepest, "0.25", "Udacity notes")
    course.check("errors lost at the output layer, at least", 100 * (1 - steepest), "75%",
                 "Udacity notes")
    course.check("errors lost at the hidden layer, at least (when |W| <= 1)",
                 100 * (1 - steepest**2), "93.75%", "Udacity notes")
    print(f"In this network delta_h / delta_o = W x f'(h) = {delta_h / delta_o:.4g}: the weight "
          f"W = 0.1 shrinks it too, so {100 * (1 - delta_h / delta_o):.4g}% is lost here.")
    # The hidden layer's "at least 93.75%" holds only when the weights between the layers are
    # at most 1 in size: delta_h = W x f'(h) x delta_o, and a weight W > 1 gives some back.
    wide = Network.from_weights([[0.4, -0.2], [4.0]], activation="sigmoid")
    wide_trace = wide.trace(x, target, loss="half_mse")
    kept = wide_trace.input_slopes[0][0, 0] / wide_trace.errors[0, 0]   # delta_h / (y - y_hat)
    print(f"With W = 4 instead of 0.1 the hidden layer keeps {100 * kept:.3g}% of the error: "
          f"{100 * (1 - kept):.3g}% is lost, less than 93.75%. The notes' 'at least 93.75%' "
          "holds when the weights between the layers are at most 1 in size (|W| <= 1).")
    return trace


def draw_backprop_hidden(trace: Any, out: Path) -> None:
    slopes.plot.draw_network(trace, title="backpropagation through a hidden node").savefig(
        out / "07_backprop_hidden.png", dpi=150)


class CourseLossPrint(Callback):
    """Print the training loss as the course's admissions loop does.

    Every tenth of the epochs, after that epoch's update, prints ``Train loss:
    <mse>``: the mean squared error ``np.mean((out - targets) ** 2)`` of the
    network's outputs on the training rows, with ``WARNING - Loss
    Increasing`` when it went up since the last line. ``every_epoch`` keeps
    that mean squared error after every epoch's update (what lesson 9 plots),
    ``printed`` the values printed and ``printed_epochs`` their epochs,
    numbered from 1. (slopes' own ``history["loss"]`` is the loss being
    minimized, here half the MSE, measured before each batch's update, as
    Keras reports it; :class:`slopes.callbacks.LossMonitor` prints that.)
    """

    def __init__(self, X: np.ndarray, y: np.ndarray) -> None:
        self.X, self.y = X, y
        self.every_epoch: list[float] = []
        self.printed: list[float] = []
        self.printed_epochs: list[int] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        loss = self.network.evaluate(self.X, self.y, loss="mse")
        self.every_epoch.append(loss)
        if epoch % max(1, self.training.epochs // 10) != 0:
            return
        warning = "  WARNING - Loss Increasing" if self.printed and self.printed[-1] < loss else ""
        print(f"Train loss: {loss:.6f}{warning}")
        self.printed.append(loss)
        self.printed_epochs.append(epoch + 1)


#: The ten standardized rows the Udacity notes print: index, then admit, gre, gpa, rank_1..4.
ADMISSIONS_ROWS_PRINTED = """\
15	0	-0.932334	0.131646	0	0	1	0
115	0	0.279614	1.576859	0	0	1	0
55	1	1.318426	1.603135	0	0	1	0
175	1	0.279614	-0.052290	0	1	0	0
63	1	0.799020	1.208986	0	0	1	0
67	0	0.279614	-0.236227	1	0	0	0
216	0	-2.144282	-1.287291	1	0	0	0
145	0	-1.798011	0.105369	0	0	1	0
286	1	1.837832	-0.446439	1	0	0	0
339	1	0.625884	0.210476	0	0	1	0"""


def train_admissions(course: CourseNumbers) -> Any:
    # The course's data preparation: rank one-hot, gre and gpa standardized over all 400 rows
    # with pandas' std. slopes.datasets.admissions_preprocessor() is slopes'
    # TabularPreprocessor set up to match.
    admissions = slopes.datasets.load_admissions()
    prep = slopes.datasets.admissions_preprocessor()
    for line in ADMISSIONS_ROWS_PRINTED.splitlines():
        index, printed = int(line.split()[0]), " ".join(line.split()[1:])
        row = admissions.loc[[index]]
        ours = [prep.transform_target(row["admit"])[0], *prep.transform(row)[0]]
        course.check(f"row {index}: admit, gre, gpa, rank_1..rank_4", ours, printed,
                     "Udacity notes, data cleanup")

    # The course's network: 6 inputs, 2 sigmoid hidden nodes, 1 sigmoid output, no biases, the
    # weights its np.random.seed(21) draws (from a private RandomState: NumPy's global state is
    # left alone), full-batch gradient descent on E = half MSE.
    data = slopes.datasets.prepare_admissions()   # the same features; 40 rows held out
    random = np.random.RandomState(21)
    scale = 1 / 6**0.5
    initial = [random.normal(scale=scale, size=(6, 2)), random.normal(scale=scale, size=2)]
    net = Network.from_weights(initial, activation="sigmoid")
    losses = CourseLossPrint(data.features, data.targets)   # the MSE after each update
    net.fit(data.features, data.targets, loss="half_mse", learning_rate=1.0, epochs=900,
            batch_size=None, shuffle=False, verbose=0, callbacks=[losses])
    predictions = net.predict(data.features_test).ravel() > 0.5
    accuracy = np.mean(predictions == data.targets_test)
    not_admitted = np.mean(data.targets_test == 0)    # always answering "not admitted"
    print(f"Prediction accuracy: {accuracy:.3f}")
    print(f"Always answering 'not admitted' (the most common answer): {not_admitted:.3f}")
    admitted = int(predictions.sum())
    if accuracy <= not_admitted:
        print(f"The network does no better than always answering 'not admitted': it answers "
              f"'admitted' for {admitted} of the {len(predictions)} held-out rows, and "
              f"{accuracy:.3f} is not above {not_admitted:.3f}.")
    else:
        print(f"The network does better than always answering 'not admitted' ({accuracy:.3f} "
              f"against {not_admitted:.3f}); it answers 'admitted' for {admitted} of the "
              f"{len(predictions)} held-out rows.")

    # The course prints no numbers for this exercise: no loss, no accuracy. How this run differs:
    slow = Network.from_weights(initial, activation="sigmoid")
    slow.fit(data.features, data.targets, loss="half_mse", learning_rate=0.005, epochs=900,
             batch_size=None, shuffle=False, verbose=0)
    start = Network.from_weights(initial, activation="sigmoid")
    mse_start = start.evaluate(data.features, data.targets, loss="mse")
    mse_slow = slow.evaluate(data.features, data.targets, loss="mse")
    out_last = net.predict(data.features[-1])          # the course's loss print uses x, the
    last_record_loss = np.mean((out_last - data.targets) ** 2)  # loop's last record
    print(f"""
The course prints no loss values and no accuracy for this exercise (no output in its notes).
How this run differs from the course's:
- learning rate 1.0, not 0.005: at 0.005 the MSE only goes from {mse_start:.4f} to \
{mse_slow:.4f} in 900 epochs;
- the held-out rows: the course's data_prep.py, which picks its test rows, is not in its
  notes; here 40 of the 400 rows are held out with seed 42 (slopes.datasets.prepare_admissions);
- initial weights: the same draws as the course's np.random.seed(21);
- the loss printed: like the course, the MSE on all the training rows after each tenth epoch's
  update (slopes' history["loss"] is the half MSE measured before each update; the plot
  09_admissions_loss.png draws the printed MSE, after every epoch's update); the course's
  code computes it from x, the last record of its loop, which gives {last_record_loss:.4f} here
  instead of {net.evaluate(data.features, data.targets, loss="mse"):.4f}.""")
    return net, data, losses


def draw_train_admissions(result: Any, out: Path) -> None:
    net, data, losses = result
    # The full MSE the lesson prints ("Train loss"), after every epoch's update; the printed
    # lines are the dots.
    fig = slopes.plot.plot_history({"mean squared error (Train loss)": losses.every_epoch})
    fig.axes[0].plot(losses.printed_epochs, losses.printed, "o", label="printed: Train loss")
    fig.axes[0].legend()
    fig.savefig(out / "09_admissions_loss.png", dpi=150)
    trace = net.trace(data.features_test[:1], data.targets_test[:1], loss="half_mse")
    fig = slopes.plot.draw_network(trace, input_names=data.feature_names, output_names=["admit"],
                       title="the admissions network on the first held-out row")
    fig.savefig(out / "09_admissions_network.png", dpi=150)




#: The matrix the Udacity notes print for ``hidden_error*inputs[:,None]`` ("Implementing in
#: Numpy"), as they print it.
WEIGHT_STEP_PRINTED = """\
array([[ -8.24195994e-04,  -2.71771975e-04,   1.29713395e-03],
       [ -2.87777394e-04,  -9.48922722e-05,   4.52909055e-04],
       [  6.44605731e-04,   2.12553536e-04,  -1.01449168e-03],
       [  0.00000000e+00,   0.00000000e+00,  -0.00000000e+00],
       [  0.00000000e+00,   0.00000000e+00,  -0.00000000e+00],
       [  0.00000000e+00,   0.00000000e+00,  -0.00000000e+00]])"""


def numpy_shapes(course: CourseNumbers) -> Any:
    where = "Udacity notes, making a column vector"
    # The notes print `features` but not how they made it: the first three numbers that
    # np.random.seed(42) draws with randn (the programming quiz's seed) are the ones printed.
    features = np.random.RandomState(42).randn(3)
    one_line = " ".join                                  # the course's lines, joined by a space
    for code, value in [("features", features), ("features.T", features.T),
                        ("features[:, None]", features[:, None]),
                        ("np.array(features, ndmin=2)", np.array(features, ndmin=2)),
                        ("np.array(features, ndmin=2).T", np.array(features, ndmin=2).T)]:
        print(f"{code} has the shape {value.shape}:", repr(value))
    course.check("features", one_line(repr(features).split()),
                 "array([ 0.49671415, -0.1382643 , 0.64768854])", where)
    course.check("features.T (a 1-D array stays a row)", one_line(repr(features.T).split()),
                 "array([ 0.49671415, -0.1382643 , 0.64768854])", where)
    course.check("features[:, None] (a column)", one_line(repr(features[:, None]).split()),
                 "array([[ 0.49671415], [-0.1382643 ], [ 0.64768854]])", where)
    course.check("np.array(features, ndmin=2)",
                 one_line(repr(np.array(features, ndmin=2)).split()),
                 "array([[ 0.49671415, -0.1382643 , 0.64768854]])", where)
    course.check("np.array(features, ndmin=2).T (a column)",
                 one_line(repr(np.array(features, ndmin=2).T).split()),
                 "array([[ 0.49671415], [-0.1382643 ], [ 0.64768854]])", where)

    # The notes' two NumPy errors. First: a (3, 2) weight matrix multiplied from the left.
    weights_input_to_hidden = np.random.RandomState(21).normal(0, 3**-0.5, size=(3, 2))
    try:
        np.dot(weights_input_to_hidden, features)
        message = "no error"
    except ValueError as error:
        message = str(error)
    print("np.dot(weights_input_to_hidden, features) raises ValueError:", message)
    course.check("np.dot(weights (3, 2), features (3,)) raises", message,
                 "shapes (3,2) and (3,) not aligned: 2 (dim 1) != 3 (dim 0)",
                 "Udacity notes, implementing the hidden layer")
    # slopes' Dense layer keeps the notes' order, inputs times weights (n_inputs, n_units):
    layer_only = Network.from_weights([weights_input_to_hidden])       # identity activation
    print("np.dot(features, weights) is what slopes computes:",
          np.allclose(layer_only.predict(features), np.dot(features, weights_input_to_hidden)))

    # Second: the hidden layer's error terms (3,) times the inputs (6,). The inputs are the
    # admissions row 11 (gre 440, gpa 3.22, rank 1), standardized as in lesson 9: the notes
    # do not say so, but the matrix they print is this row's outer product (below).
    admissions = slopes.datasets.load_admissions()
    inputs = slopes.datasets.admissions_preprocessor().transform(admissions.loc[[11]])[0]
    printed_row = np.array([6.44605731e-04, 2.12553536e-04, -1.01449168e-03])  # rank_1: input 1
    try:
        printed_row * inputs
        message = "no error"
    except ValueError as error:
        message = str(error)
    print("hidden_error * inputs raises ValueError:", message)
    course.check("hidden_error (3,) * inputs (6,) raises", message,
                 "operands could not be broadcast together with shapes (3,) (6,)",
                 "Udacity notes, implementing in NumPy")

    # hidden_error * inputs[:, None]: row i is inputs[i] * hidden_error, so the rank_1 row
    # (input 1) is hidden_error itself, printed to 9 digits. Taken as printed it gives the
    # matrix to a relative 2.7e-9; a value inside its rounding gives every printed digit.
    as_printed = printed_row * inputs[:, None]
    numbers = WEIGHT_STEP_PRINTED.translate(str.maketrans("[](),", "     ")).split()[1:]
    course_matrix = np.array(numbers, dtype=float).reshape(6, 3)   # the notes' matrix, read
    nonzero = course_matrix != 0
    relative = np.abs(as_printed - course_matrix)[nonzero] / np.abs(course_matrix[nonzero])
    print(f"with hidden_error as printed, the largest relative difference is {relative.max():.2g}")
    hidden_error = np.array([6.446057312e-04, 2.1255353556e-04, -1.014491683e-03])
    weight_step = hidden_error * inputs[:, None]
    print("hidden_error * inputs[:, None] =", repr(weight_step))
    where = "Udacity notes, implementing in NumPy"
    course.check("hidden_error, the rank_1 row", hidden_error,
                 "6.44605731e-04, 2.12553536e-04, -1.01449168e-03", where)
    course.check("hidden_error * inputs[:, None], admissions row 11", weight_step,
                 " ".join(WEIGHT_STEP_PRINTED.split()), where)   # its lines joined by a space

    # slopes computes the same outer product: a trace's weight slopes of the first layer are
    # the inputs (as a column) times the slopes at the hidden nodes' inputs (a row).
    random = np.random.RandomState(21)
    net = Network.from_weights([random.normal(scale=6**-0.5, size=(6, 3)),
                                random.normal(scale=6**-0.5, size=3)], activation="sigmoid")
    trace = net.trace(inputs, 0, loss="half_mse")       # row 11: not admitted
    outer = inputs[:, None] * trace.input_slopes[0][0]
    print("slopes' weight slopes are inputs[:, None] * input_slopes[0]:",
          np.allclose(trace.weight_slopes[0], outer, rtol=1e-14, atol=0))
    return weight_step
