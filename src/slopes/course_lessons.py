"""The course's ten worked examples: what each lesson computes, checks and draws.

Each lesson is a :class:`Lesson`: its question, a ``compute`` function that
prints slopes' numbers and records the course's numbers beside them (on a
:class:`~slopes.course_numbers.CourseNumbers`), and a ``draw`` function that
writes its PNG where the course shows a picture. :data:`LESSONS` lists them in
the course's order; :func:`slopes.lessons.run_lesson` runs one and prints the
body of its functions as the lesson's code.

Where the course's numbers come from. The course is five documents; a
lesson names them so:

- *summary notes*: a summary of DataCamp's "Introduction to Deep Learning in
  Python", chapter 2;
- *notebook N.M*: the same chapter as a numbered notebook (Puteaux), section N.M;
- *slides*: the chapter's slides;
- *exercise notes*: the chapter's exercises with their outputs (NicoDupont);
- *Udacity notes*: Udacity's "Week 1 Neural Networks" (gradient descent,
  the hidden layer, backpropagation).

Sign convention. The course's later lessons write ``error = y - y_hat`` and
``delta_w = learning_rate * delta * x``; slopes writes ``error = predicted -
actual`` and ``slope = dLoss/dw``, and gradient descent steps by
``-learning_rate * slope``. With the loss ``"half_mse"`` (the course's
``E = 1/(2m) sum (y - y_hat)**2``) the two agree: ``delta = -(slope at the
node's input)`` and ``delta_w = -learning_rate * weight_slope``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import slopes
from slopes import Network
from slopes.callbacks import Callback
from slopes.course_numbers import CourseNumbers

__all__ = ["LESSONS", "Lesson", "CourseLossPrint", "ADMISSIONS_ROWS_PRINTED"]


# ------------------------------------------------------------------- lessons
def _network_errors(course: CourseNumbers) -> Any:
    # The course's network: two relu hidden nodes, one relu output, no biases.
    weights_0 = {"node_0": [2, 1], "node_1": [1, 2], "output": [1, 1]}
    input_data, target_actual = np.array([0, 3]), 3
    trace_0 = Network.from_weights(weights_0, activation="relu").trace(input_data, target_actual)
    print(f"weights_0 predict {trace_0.predictions[0, 0]:g}: error_0 = {trace_0.errors[0, 0]:g}")
    course.check("error_0", trace_0.errors[0, 0], "6", "notebook 1.9; exercise notes")

    # Change one weight so the prediction is perfect. The notebook and the exercise notes
    # change node_1 to [1, 0]; the summary notes change the output weights to [1, 0].
    weights_1 = {"node_0": [2, 1], "node_1": [1, 0], "output": [1, 1]}
    trace_1 = Network.from_weights(weights_1, activation="relu").trace(input_data, target_actual)
    print(f"weights_1 predict {trace_1.predictions[0, 0]:g}: error_1 = {trace_1.errors[0, 0]:g}")
    course.check("error_1 (node_1: [1, 0])", trace_1.errors[0, 0], "0",
                 "notebook 1.9; exercise notes")
    weights_1b = {"node_0": [2, 1], "node_1": [1, 2], "output": [1, 0]}
    prediction_1b = Network.from_weights(weights_1b, activation="relu").predict(input_data)[0]
    print(f"weights with output: [1, 0] predict {prediction_1b:g}")
    course.check("perfect prediction (output: [1, 0])", prediction_1b, "3",
                 "summary notes: 'a perfect prediction ... target_actual: 3'")
    return trace_0, trace_1


def _draw_network_errors(result: Any, out: Path) -> None:
    trace_0, trace_1 = result
    draw = slopes.plot.draw_network
    draw(trace_0, title="weights_0: error 6").savefig(out / "01_weights_0.png", dpi=150)
    draw(trace_1, title="weights_1: error 0").savefig(out / "01_weights_1.png", dpi=150)


def _mse_comparison(course: CourseNumbers) -> Any:
    weights_0 = {"node_0": [2, 1], "node_1": [1, 2], "output": [1, 1]}
    weights_1 = {"node_0": [2, 1], "node_1": [1, 1.5], "output": [1, 1.5]}
    input_data = np.array([[0, 3], [1, 2], [-1, -2], [4, 0]])
    target_actuals = np.array([1, 3, 5, 7])

    net_0 = Network.from_weights(weights_0, activation="relu")
    net_1 = Network.from_weights(weights_1, activation="relu")
    mse_0 = net_0.evaluate(input_data, target_actuals, loss="mse")  # sklearn's mean_squared_error
    mse_1 = net_1.evaluate(input_data, target_actuals, loss="mse")
    print("predictions with weights_0:", net_0.predict(input_data).ravel())
    print("predictions with weights_1:", net_1.predict(input_data).ravel())
    print(f"Mean squared error with weights_0: {mse_0:f}")
    print(f"Mean squared error with weights_1: {mse_1:f}")
    course.check("mse_0", mse_0, "37.500000", "notebook 1.10")
    course.check("mse_1", mse_1, "49.890625", "notebook 1.10")
    # The exercise notes print other numbers for the same code, from data they do not show.
    unseen = ("the exercise notes ran this code on pre-loaded data they do not show; with "
              f"the data the notebook shows the MSEs are {mse_0:f} and {mse_1:f}")
    course.check("mse_0, exercise notes", mse_0, "294.000000", "exercise notes", unseen)
    course.check("mse_1, exercise notes", mse_1, "395.062500", "exercise notes", unseen)

    # The slides' table: three predictions and their actual values.
    predictions = np.array([[10.0], [8.0], [6.0]])
    actuals = np.array([[20.0], [3.0], [1.0]])
    errors = (predictions - actuals).ravel()  # error = predicted - actual
    sse, mse = slopes.get_loss("sse"), slopes.get_loss("mse")
    squared = [sse.value(predictions[k:k + 1], actuals[k:k + 1]) for k in range(3)]
    print("errors:", errors, " squared errors:", squared)
    course.check("error, row 10 vs 20", errors[0], "-10", "slides' table")
    course.check("error, row 8 vs 3", errors[1], "5", "slides' table")
    course.check("error, row 6 vs 1", errors[2], "2", "slides' table",
                 f"6 - 1 = {errors[2]:g}; the row's own squared error, 25, is {errors[2]:g} "
                 "squared")
    course.check("squared errors", squared, "100 25 25", "slides' table")
    course.check("Total Squared Error", sse.value(predictions, actuals), "150", "slides")
    course.check("Mean Squared Error", mse.value(predictions, actuals), "50", "slides")


def _slopes_and_updates(course: CourseNumbers) -> Any:
    # No hidden layer: three inputs straight to one output node (identity).
    net = Network.from_weights([[0, 2, 1]])          # weights from the inputs, (3, 1)
    input_data, target = np.array([1, 2, 3]), 0
    learning_rate = 0.01

    trace = net.trace(input_data, target, loss="mse")  # one sample: slope of the loss = 2 * error
    slope = trace.weight_slopes[0].ravel()             # 2 * input_data * error
    print("error:", trace.errors[0, 0], " slope:", slope)
    course.check("error", trace.errors[0, 0], "7", "notebook 2.6; exercise notes")
    course.check("slope", slope, "[14 28 42]", "notebook 2.5; exercise notes")
    # The exercise notes write the slope as 2 * x * (y-xb); their code computes xb - y.
    x, b, y = input_data, np.array([0, 2, 1]), target
    course.check("slope as the exercise notes write it, 2 * x * (y-xb)", slope,
                 2 * x * (y - x @ b), "exercise notes",
                 "the error the code computes is preds - target = xb - y, so the slope of the "
                 "squared error is 2 * x * (xb-y), as the summary notes write it")
    print(trace.explain(0, 2, 0, learning_rate=learning_rate))
    net.layers[0].weights = net.layers[0].weights - learning_rate * trace.weight_slopes[0]
    error_updated = net.trace(input_data, target).errors[0, 0]
    print("updated error:", round(error_updated, 10))
    course.check("updated error", error_updated, "5.04", "notebook 2.6; exercise notes")

    # The slides' example: weights [1, 2], inputs [3, 4], target 6.
    net2 = Network.from_weights([[1, 2]])
    trace2 = net2.trace([3, 4], 6, loss="mse")
    print("error:", trace2.errors[0, 0], " gradient:", trace2.weight_slopes[0].ravel())
    course.check("error", trace2.errors[0, 0], "5", "notebook 2.4; slides")
    course.check("gradient", trace2.weight_slopes[0].ravel(), "array([30, 40])",
                 "notebook 2.4; slides")
    net2.layers[0].weights = net2.layers[0].weights - learning_rate * trace2.weight_slopes[0]
    updated = net2.layers[0].weights.ravel()
    error_updated2 = net2.trace([3, 4], 6).errors[0, 0]
    print("updated weights:", updated, " updated error:", round(error_updated2, 10))
    course.check("error_updated", error_updated2, "2.5", "notebook 2.4")
    course.check("error_updated, slides", error_updated2, "-2.5", "slides",
                 f"the updated weights [{updated[0]:g}, {updated[1]:g}] predict "
                 f"{updated[0]:g} x 3 + {updated[1]:g} x 4 = {error_updated2 + 6:g}, so the "
                 f"error is {error_updated2 + 6:g} - 6 = +{error_updated2:g}")

    # The slides' single weight: value 3 feeds weight 2, prediction 6, actual 10.
    trace3 = Network.from_weights([[2]]).trace([3], 10, loss="mse")
    print(trace3.explain(0, 0, 0, learning_rate=learning_rate))
    course.check("slope of the weight, 2 * -4 * 3", trace3.weight_slopes[0][0, 0], "-24",
                 "notebook 2.2; slides")
    course.check("new weight", 2 - learning_rate * trace3.weight_slopes[0][0, 0], "2.24",
                 "notebook 2.2; slides")
    return trace


def _draw_slopes_and_updates(trace: Any, out: Path) -> None:
    fig = slopes.plot.draw_network(trace, edges="slope",
                                   title="slopes 14, 28, 42 of the three weights")
    fig.savefig(out / "03_slopes.png", dpi=150)


def _repeated_updates(course: CourseNumbers) -> Any:
    net = Network.from_weights([[0, 2, 1]])
    input_data, target = np.array([1, 2, 3]), 0
    mse_hist = []
    for _ in range(20):
        trace = net.trace(input_data, target, loss="mse")
        net.layers[0].weights = net.layers[0].weights - 0.01 * trace.weight_slopes[0]
        mse_hist.append(net.evaluate(input_data, target, loss="mse"))  # after the update
    print("mse_hist:", np.array2string(np.array(mse_hist), precision=4))
    print("each update multiplies the error by", round(1 - 0.01 * 2 * (input_data**2).sum(), 10))
    print("The course prints no numbers here: it only plots mse_hist (04_mse_history.png draws "
          "the same curve, its updates numbered 1 to 20).")
    # The plot's first point is the MSE after one update: the error 5.04 of notebook 2.6, squared.
    course.check("mse_hist[0]", mse_hist[0], 5.04**2, "5.04 ** 2, from notebook 2.6")
    return mse_hist


def _draw_repeated_updates(mse_hist: Any, out: Path) -> None:
    fig = slopes.plot.plot_history({"mean squared error": mse_hist}, xlabel="update")
    fig.savefig(out / "04_mse_history.png", dpi=150)


def _delta_rule(course: CourseNumbers) -> Any:
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


def _draw_delta_rule(trace: Any, out: Path) -> None:
    fig = slopes.plot.draw_network(trace, title="one sigmoid node")
    fig.savefig(out / "05_delta_rule.png", dpi=150)


def _hidden_forward(course: CourseNumbers) -> Any:
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


def _draw_hidden_forward(result: Any, out: Path) -> None:
    net, X = result
    fig = slopes.plot.draw_network(net, X=X, title="forward pass 4-3-2 (sigmoid)")
    fig.savefig(out / "06_hidden_forward.png", dpi=150)


def _backprop_hidden(course: CourseNumbers) -> Any:
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
    course.check("errors lost at the hidden layer, at least", 100 * (1 - steepest**2), "93.75%",
                 "Udacity notes")
    print(f"In this network delta_h / delta_o = W x f'(h) = {delta_h / delta_o:.4g}: the weight "
          f"W = 0.1 shrinks it too, so {100 * (1 - delta_h / delta_o):.4g}% is lost here.")
    return trace


def _draw_backprop_hidden(trace: Any, out: Path) -> None:
    slopes.plot.draw_network(trace, title="backpropagation through a hidden node").savefig(
        out / "07_backprop_hidden.png", dpi=150)


def _last_quiz(course: CourseNumbers) -> Any:
    # The course's figure is missing from its text: the network is rebuilt from its numbers.
    # Input [0, 1]; hidden node_0 has weights [0, 1], node_1 [2, 3], so the hidden nodes have
    # values 1 and 3; the output weights [1, 3] predict 1 x 1 + 3 x 3 = 10.
    net = Network.from_weights({"node_0": [0, 1], "node_1": [2, 3], "output": [1, 3]},
                               activation="relu")
    trace = net.trace([0, 1], 7, loss="mse")   # error 10 - 7 = 3, slope of the loss 2 x 3 = 6
    print(trace.explain(1, 0, 0))
    print(trace.explain(1, 1, 0))
    print(trace.table().to_string())  # one row per weight (a list of dicts without pandas)
    course.check("error", trace.errors[0, 0], "3", "slides")
    course.check("slope of the loss at the output node, 2 x 3", trace.node_slopes[2][0, 0], "6",
                 "notebook 4.4 (quiz answer); exercise notes")
    course.check("top weight's slope, 1 * 6", trace.weight_slopes[1][0, 0], "6", "slides")
    course.check("bottom weight's slope, 3 * 6", trace.weight_slopes[1][1, 0], "18", "slides")
    order = np.argsort(trace.weights[0].ravel())       # the table lists the weights 0, 1, 2, 3
    course.check("gradients of the weights 0, 1, 2, 3", trace.weight_slopes[0].ravel()[order],
                 "0 6 0 18", "slides' table")
    course.check("Actual Target Value", trace.actual[0, 0], "10", "slides",
                 f"with the table's weights the prediction is {trace.predictions[0, 0]:g}, so "
                 f"an error of 3 needs the actual value {trace.actual[0, 0]:g}; the slides' "
                 "figure, which would show how 10 fits, is missing from the course's text")
    return trace


def _draw_last_quiz(trace: Any, out: Path) -> None:
    slopes.plot.draw_network(trace, title="the last quiz, rebuilt: slopes in purple").savefig(
        out / "08_last_quiz.png", dpi=150)


class CourseLossPrint(Callback):
    """Print the training loss as the course's admissions loop does.

    Every tenth of the epochs, after that epoch's update, prints ``Train loss:
    <mse>``: the mean squared error ``np.mean((out - targets) ** 2)`` of the
    network's outputs on the training rows, with ``WARNING - Loss
    Increasing`` when it went up since the last line. (slopes' own
    ``history["loss"]`` is the loss being minimized, measured before each
    batch's update, as Keras reports it; :class:`slopes.callbacks.LossMonitor`
    prints that.)
    """

    def __init__(self, X: np.ndarray, y: np.ndarray) -> None:
        self.X, self.y = X, y
        self.printed: list[float] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if epoch % max(1, self.training.epochs // 10) != 0:
            return
        loss = self.network.evaluate(self.X, self.y, loss="mse")
        warning = "  WARNING - Loss Increasing" if self.printed and self.printed[-1] < loss else ""
        print(f"Train loss: {loss:.6f}{warning}")
        self.printed.append(loss)


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


def _admissions(course: CourseNumbers) -> Any:
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
    history = net.fit(data.features, data.targets, loss="half_mse", learning_rate=1.0,
                      epochs=900, batch_size=None, shuffle=False, verbose=0,
                      callbacks=[CourseLossPrint(data.features, data.targets)])
    predictions = net.predict(data.features_test).ravel() > 0.5
    accuracy = np.mean(predictions == data.targets_test)
    base_rate = max(data.targets_test.mean(), 1 - data.targets_test.mean())
    print(f"Prediction accuracy: {accuracy:.3f}")
    print(f"Base rate (always guessing the most common answer): {base_rate:.3f}")

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
  update (slopes' history["loss"] is the half MSE measured before each update); the course's
  code computes it from x, the last record of its loop, which gives {last_record_loss:.4f} here
  instead of {net.evaluate(data.features, data.targets, loss="mse"):.4f}.""")
    return net, data, history


def _draw_admissions(result: Any, out: Path) -> None:
    net, data, history = result
    history.plot().savefig(out / "09_admissions_loss.png", dpi=150)
    trace = net.trace(data.features_test[:1], data.targets_test[:1], loss="half_mse")
    fig = slopes.plot.draw_network(trace, input_names=data.feature_names, output_names=["admit"],
                       title="the admissions network on the first held-out row")
    fig.savefig(out / "09_admissions_network.png", dpi=150)


def _quizzes(course: CourseNumbers) -> Any:
    # Quizzes 1.7 and 1.8: the figure is missing from the course's text; this relu network is
    # rebuilt from the numbers they state (input [3, 2] predicts 16; node_0 has value 8 and
    # feeds the output through the weight 2; node_1 is negative before relu, so it is 0).
    net = Network.from_weights({"node_0": [2, 1], "node_1": [-1, 1], "output": [2, 1]},
                               activation="relu")
    trace = net.trace([3, 2], 5)
    print(f"hidden values {trace.node_values[1][0]}, prediction {trace.predictions[0, 0]:g}")
    course.check("prediction for input [3, 2]", trace.predictions[0, 0], "16", "exercise notes")
    course.check("error (predicted - actual), actual 5", trace.errors[0, 0], "11",
                 "notebook 1.7; exercise notes")

    # Quiz 1.8: actual 7; the weight from node_0 to the output goes from 2 to 2.01.
    error_before = net.trace([3, 2], 7).errors[0, 0]
    nudged = net.copy()
    nudged.layers[1].weights = nudged.layers[1].weights + [[0.01], [0]]
    error_after = nudged.trace([3, 2], 7).errors[0, 0]
    print(f"error {error_before:g} with the weight 2, {error_after:.6g} with 2.01")
    course.check("error with the weight 2", error_before, "9", "exercise notes")
    course.check("error with the weight 2.01", error_after, "9.08", "exercise notes")
    verdict = "less accurate" if abs(error_after) > abs(error_before) else "more accurate"
    course.check("the predictions become", verdict, "less accurate", "notebook 1.8")

    # Quiz 3.3: 4 updates need 4 forward passes. Count the passes through the first layer.
    layer, passes = net.layers[0], []
    forward = layer.forward
    layer.forward = lambda x: passes.append(len(x)) or forward(x)
    net.fit([[3, 2]], [5], learning_rate=0.001, epochs=4, verbose=0)  # 4 updates
    del layer.forward
    print(f"fit made 4 updates and {len(passes)} forward passes")
    course.check("forward passes for 4 updates", len(passes), "4", "notebook 3.3; exercise notes")

    # Quiz 3.4: when every error is 0 every slope is 0, so every update is 0.
    perfect = Network.from_weights({"node_0": [2, 1], "node_1": [1, 0], "output": [1, 1]},
                                   activation="relu")
    zero = perfect.trace([0, 3], 3)
    largest = max(float(np.abs(s).max()) for s in zero.weight_slopes)
    course.check("largest weight update when the error is 0", 0.01 * largest, "0",
                 "notebook 3.4; exercise notes")
    return trace


def _draw_quizzes(trace: Any, out: Path) -> None:
    fig = slopes.plot.draw_network(
        trace, title="the quizzes' network, rebuilt: input [3, 2], actual 5")
    fig.savefig(out / "10_quizzes.png", dpi=150)


@dataclass(frozen=True)
class Lesson:
    """One worked example of the course.

    ``compute(course)`` prints slopes' numbers, records the course's numbers
    next to them on ``course`` (a :class:`CourseNumbers`), and returns what
    ``draw(result, out)`` needs to write its PNG into the folder ``out``
    (``draw`` is None where the course shows no picture).
    """

    number: int
    slug: str
    title: str
    question: str
    compute: Callable[[CourseNumbers], Any]
    draw: Callable[[Any, Path], None] | None = None

    @property
    def script(self) -> str:
        """File name of the matching script in ``examples/course/``."""
        return f"{self.number:02d}_{self.slug}.py"


LESSONS: tuple[Lesson, ...] = (
    Lesson(1, "network_errors", "The errors of a network",
           "A relu network with weights node_0 [2, 1], node_1 [1, 2], output [1, 1] gets the "
           "input [0, 3]; the actual value is 3. What is its error (predicted - actual)? "
           "Change one weight so the error is 0.",
           _network_errors, _draw_network_errors),
    Lesson(2, "mse_comparison", "Predictions with multiple points: the mean squared error",
           "Which of two sets of weights predicts the four points [0, 3], [1, 2], [-1, -2], "
           "[4, 0] (actual 1, 3, 5, 7) better, by mean squared error? And the slides' table "
           "of squared errors.",
           _mse_comparison),
    Lesson(3, "slopes_and_updates", "Slopes and weight updates",
           "Weights [0, 2, 1], input [1, 2, 3], target 0: what are the slopes of the mean "
           "squared error, and the error after one update at learning rate 0.01? The same for "
           "the slides' weights [1, 2] and the single weight 2.",
           _slopes_and_updates, _draw_slopes_and_updates),
    Lesson(4, "repeated_updates", "Making multiple updates to weights",
           "Update the weights 20 times at learning rate 0.01 and plot the mean squared error "
           "after each update. What happens? (The course answers with a plot, no numbers.)",
           _repeated_updates, _draw_repeated_updates),
    Lesson(5, "delta_rule", "The sigmoid delta rule",
           "One sigmoid node, x = [1, 2, 3, 4], y = 0.5, w = [0.5, -0.5, 0.3, 0.1], "
           "learning rate 0.5: what are the output, the error and the change in weights?",
           _delta_rule, _draw_delta_rule),
    Lesson(6, "hidden_forward", "The forward pass through a hidden layer",
           "A 4-3-2 sigmoid network with inputs and weights drawn with seed 42: what do the "
           "hidden layer and the output layer output?",
           _hidden_forward, _draw_hidden_forward),
    Lesson(7, "backprop_hidden", "Backpropagation through a hidden layer",
           "x = [0.1, 0.3], weights [0.4, -0.2] into one sigmoid hidden node, W = 0.1 into a "
           "sigmoid output, target 1, learning rate 0.5: what are the error terms and the "
           "weight steps? How much of the error does each sigmoid layer lose?",
           _backprop_hidden, _draw_backprop_hidden),
    Lesson(8, "last_quiz", "A round of backpropagation (the last quiz)",
           "A relu network's output node receives 6 as the slope of the loss; the hidden "
           "nodes feeding it have values 1 and 3. What are the slopes of their weights, and "
           "of the weights feeding the hidden nodes? (The course's figure is missing; the "
           "network is rebuilt from its numbers.)",
           _last_quiz, _draw_last_quiz),
    Lesson(9, "admissions", "Training on the admissions data",
           "Prepare the admissions data as the course does, train the course's 6-2-1 sigmoid "
           "network on it, printing the training loss at every tenth of the epochs, then its "
           "accuracy on held-out rows. (The course prints the prepared rows, but no loss and "
           "no accuracy.)",
           _admissions, _draw_admissions),
    Lesson(10, "quizzes", "The quizzes: an error, a nudged weight, forward passes",
           "Input [3, 2], actual 5: what is the error? Does changing a weight from 2 to 2.01 "
           "make the prediction better? How many forward passes do 4 updates take? What "
           "are the updates when every error is 0? (The quizzes' figure is missing; the "
           "network is rebuilt from their numbers.)",
           _quizzes, _draw_quizzes),
)
