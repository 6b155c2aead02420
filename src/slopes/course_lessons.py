"""The course's eleven worked examples: what each lesson computes, checks and draws.

Each lesson is a :class:`Lesson`: its question, a ``compute`` function that
prints slopes' numbers and records the course's numbers beside them (on a
:class:`~slopes.course_numbers.CourseNumbers`), and a ``draw`` function that
writes its PNG where the course shows a picture. :data:`LESSONS` lists them in
the course's order; :func:`slopes.lessons.run_lesson` runs one and prints the
body of its functions as the lesson's code. This module holds the lessons of
DataCamp's chapter (1 to 4, 8 and 10); :mod:`slopes.course_udacity` holds
those of the Udacity notes (5, 6, 7, 9 and 11).

Only numbers the course prints go in a check's course column (the
``course`` of :meth:`CourseNumbers.check`); a value derived from the course
(a formula's value, a square) is printed by the lesson, not checked as the
course's.

Where the course's numbers come from. The course is five documents; a
lesson names them so:

- *summary notes*: a summary of DataCamp's "Introduction to Deep Learning in
  Python", chapter 2;
- *notebook N.M*: the same chapter as a numbered notebook (Puteaux), section N.M;
- *slides*: the chapter's slides;
- *exercise notes*: the chapter's exercises with their outputs (NicoDupont);
- *Udacity notes*: Udacity's "Week 1 Neural Networks" (gradient descent,
  the hidden layer, backpropagation).

Sign convention. The course uses two error signs: ``predicted - actual`` (the
DataCamp exercises and quizzes, the slides' squared-error table, slopes'
``trace.errors``) and ``actual - predicted`` (the slides' baseline network,
the Udacity notes' ``y - y_hat``). :mod:`slopes.course_udacity` says how the
Udacity notes' ``delta`` and ``delta_w`` are slopes' numbers with the sign
turned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import slopes
from slopes import Network
from slopes.course_numbers import CourseNumbers
from slopes.course_udacity import (
    ADMISSIONS_ROWS_PRINTED,
    CourseLossPrint,
    backprop_hidden,
    delta_rule,
    draw_backprop_hidden,
    draw_delta_rule,
    draw_hidden_forward,
    draw_train_admissions,
    hidden_forward,
    numpy_shapes,
    train_admissions,
)

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

    # The slides' "A baseline neural network": actual 13, "Error: Actual - Predicted = 4", then
    # "= 0" (the text reads "o"). Their figure is missing from the course's text, so this relu
    # network is rebuilt (an assumption): it predicts 9, and the changed output weights 13.
    baseline = Network.from_weights({"node_0": [1, 1], "node_1": [-1, 1], "output": [2, -1]},
                                    activation="relu")
    trace_b = baseline.trace([2, 3], 13)
    changed = Network.from_weights({"node_0": [1, 1], "node_1": [-1, 1], "output": [3, -2]},
                                   activation="relu").trace([2, 3], 13)
    print(f"the rebuilt baseline predicts {trace_b.predictions[0, 0]:g}: actual - predicted = "
          f"{-trace_b.errors[0, 0]:g} (slopes' predicted - actual: {trace_b.errors[0, 0]:g}); "
          f"with the output weights [3, -2] it predicts {changed.predictions[0, 0]:g}")
    print("The slides' network is rebuilt, not read: its figure is missing from the course's text.")
    course.check("baseline error, actual - predicted (rebuilt network)", -trace_b.errors[0, 0],
                 "4", "slides, 'A baseline neural network'")
    course.check("baseline error after the change, actual - predicted (rebuilt)",
                 -changed.errors[0, 0], "0", "slides, second 'A baseline neural network' "
                 "(its text reads 'o')")
    return trace_0, trace_1, trace_b


def _draw_network_errors(result: Any, out: Path) -> None:
    trace_0, trace_1, trace_b = result
    draw = slopes.plot.draw_network
    draw(trace_0, title="weights_0: error 6").savefig(out / "01_weights_0.png", dpi=150)
    draw(trace_1, title="weights_1: error 0").savefig(out / "01_weights_1.png", dpi=150)
    draw(trace_b, title="the slides' baseline, rebuilt: actual 13, predicted 9").savefig(
        out / "01_baseline.png", dpi=150)


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
    # The exercise notes print other numbers for the same code: they ran it on pre-loaded data
    # they do not show (other data, not a wrong number). Every input row [4, 3], with the same
    # targets, gives both numbers exactly.
    other_data = np.array([[4, 3], [4, 3], [4, 3], [4, 3]])
    mse_0_other = net_0.evaluate(other_data, target_actuals, loss="mse")
    mse_1_other = net_1.evaluate(other_data, target_actuals, loss="mse")
    print(f"with every input row [4, 3]: {mse_0_other:f} and {mse_1_other:f}")
    course.check("mse_0, exercise notes (other data: every row [4, 3])", mse_0_other,
                 "294.000000", "exercise notes")
    course.check("mse_1, exercise notes (other data: every row [4, 3])", mse_1_other,
                 "395.062500", "exercise notes")

    # The slides' table: three predictions and their actual values.
    predictions = np.array([[10.0], [8.0], [6.0]])
    actuals = np.array([[20.0], [3.0], [1.0]])
    errors = (predictions - actuals).ravel()  # error = predicted - actual, as the table's
    print("The table's Error column is predicted - actual (10 - 20 = -10); the slides' baseline "
          "network (lesson 1) writes Error: Actual - Predicted, the opposite sign.")
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
    print("2 * x * (y-xb), as the exercise notes write it:", 2 * x * (y - x @ b),
          " 2 * x * (xb-y), what their code computes:", 2 * x * (x @ b - y))
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
    # The plot's first point is the MSE after one update, the error of notebook 2.6 squared.
    print("the error after the first update, sqrt(mse_hist[0]):", round(np.sqrt(mse_hist[0]), 10))
    course.check("error after the first update, sqrt(mse_hist[0])", np.sqrt(mse_hist[0]),
                 "5.04", "notebook 2.6; exercise notes (the same first update)")
    return mse_hist


def _draw_repeated_updates(mse_hist: Any, out: Path) -> None:
    fig = slopes.plot.plot_history({"mean squared error": mse_hist}, xlabel="update")
    fig.savefig(out / "04_mse_history.png", dpi=150)


def _last_quiz(course: CourseNumbers) -> Any:
    # The course's figures are missing from its text. Assumed: the quiz's figure (notebook 4.4)
    # and the slides' figure ("Backpropagation in practice") show the same network, rebuilt
    # from the slides' numbers. Input [0, 1]; hidden node_0 has weights [0, 1], node_1 [2, 3],
    # so the hidden nodes have values 1 and 3; the output weights [1, 3] predict 1 x 1 + 3 x 3.
    net = Network.from_weights({"node_0": [0, 1], "node_1": [2, 3], "output": [1, 3]},
                               activation="relu")
    trace = net.trace([0, 1], 7, loss="mse")   # error 10 - 7 = 3, slope of the loss 2 x 3 = 6
    print(trace.explain(1, 0, 0))
    print(trace.explain(1, 1, 0))
    print(trace.explain(0, 1, 0))   # the weight 1, from the input 1 into node_0
    print(trace.table().to_string())  # one row per weight (a list of dicts without pandas)
    course.check("error", trace.errors[0, 0], "3", "slides")
    course.check("top weight's slope, 1 * 6", trace.weight_slopes[1][0, 0], "6", "slides")
    course.check("bottom weight's slope, 3 * 6", trace.weight_slopes[1][1, 0], "18", "slides")
    order = np.argsort(trace.weights[0].ravel())       # the table lists the weights 0, 1, 2, 3
    course.check("gradients of the weights 0, 1, 2, 3", trace.weight_slopes[0].ravel()[order],
                 "0 6 0 18", "slides' table")
    # The quiz asks for the slope of a weight (the one with the question mark), so its 6 is
    # compared with a weight's slope: the weight 1 into node_0, whose node (value 1) is
    # positive as the quiz says. (The top output weight's slope is 6 as well.)
    course.check("the quiz's weight: the weight 1 into node_0, 1 x 1 x 6",
                 trace.weight_slopes[0][1, 0], "6", "notebook 4.4 (quiz answer); exercise notes")
    course.check("Actual Target Value", trace.actual[0, 0], "10", "slides",
                 f"with the output weights [1, 3] the prediction is {trace.predictions[0, 0]:g}, "
                 f"so an error of 3 needs the actual value {trace.actual[0, 0]:g}; with the "
                 "output weights [1, 4] (below) the actual value 10 fits, under the slides' "
                 "node-slope rule")

    # The slides' rule: "the slope of node values is the sum of the slopes of the weights that
    # come out of them". Backpropagation's: the sum of each weight out times the slope of the
    # node it feeds. With the output weights [1, 3], equal to the hidden values 1 and 3, the
    # two readings agree. With [1, 4] they differ, the prediction is 13 and the slides'
    # "Actual Target Value = 10, Error = 3" fits:
    net_b = Network.from_weights({"node_0": [0, 1], "node_1": [2, 3], "output": [1, 4]},
                                 activation="relu")
    trace_b = net_b.trace([0, 1], 10, loss="mse")
    by_rule = trace_b.weight_slopes[1].sum(axis=1)    # slopes of the weights out: 1 x 6, 3 x 6
    by_backprop = trace_b.node_slopes[1][0]           # weights out x 6: 1 x 6, 4 x 6
    table_by_rule = (np.array([0, 1])[:, None] * by_rule).ravel()[order]   # relu's slope is 1
    print(f"output weights [1, 4]: prediction {trace_b.predictions[0, 0]:g}, error "
          f"{trace_b.errors[0, 0]:g}; node slopes by the slides' rule {by_rule}, by "
          f"backpropagation {by_backprop}")
    course.check("error, output weights [1, 4], actual 10", trace_b.errors[0, 0], "3", "slides")
    course.check("top and bottom weights' slopes, output weights [1, 4]",
                 trace_b.weight_slopes[1].ravel(), "6 18", "slides")
    course.check("gradients of the weights 0, 1, 2, 3, output weights [1, 4], slides' rule",
                 table_by_rule, "0 6 0 18", "slides' table")
    course.check("gradients of the weights 0, 1, 2, 3, output weights [1, 4], backpropagation",
                 trace_b.weight_slopes[0].ravel()[order], "0 6 0 18", "slides' table",
                 f"backpropagation gives node_1 the slope {by_backprop[1]:g} (its weight out, 4, "
                 f"x 6), not {by_rule[1]:g} (the slope of its weight out, 3 x 6): with actual "
                 "10 the table follows the slides' rule, which is wrong in general")
    return trace, trace_b


def _draw_last_quiz(result: Any, out: Path) -> None:
    trace, trace_b = result
    slopes.plot.draw_network(trace, title="the last quiz, rebuilt: slopes in purple").savefig(
        out / "08_last_quiz.png", dpi=150)
    slopes.plot.draw_network(trace_b, title="output weights [1, 4]: actual 10, error 3").savefig(
        out / "08_last_quiz_1_4.png", dpi=150)


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
           "Change one weight so the error is 0. And the slides' baseline network: actual 13, "
           "error (actual - predicted) 4, then 0. (Its figure is missing; the network is "
           "rebuilt.)",
           _network_errors, _draw_network_errors),
    Lesson(2, "mse_comparison", "Predictions with multiple points: the mean squared error",
           "Which of two sets of weights predicts the four points [0, 3], [1, 2], [-1, -2], "
           "[4, 0] (actual 1, 3, 5, 7) better, by mean squared error? And the slides' table "
           "of squared errors. (The exercise notes print other numbers, from other data.)",
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
           delta_rule, draw_delta_rule),
    Lesson(6, "hidden_forward", "The forward pass through a hidden layer",
           "A 4-3-2 sigmoid network with inputs and weights drawn with seed 42: what do the "
           "hidden layer and the output layer output?",
           hidden_forward, draw_hidden_forward),
    Lesson(7, "backprop_hidden", "Backpropagation through a hidden layer",
           "x = [0.1, 0.3], weights [0.4, -0.2] into one sigmoid hidden node, W = 0.1 into a "
           "sigmoid output, target 1, learning rate 0.5: what are the error terms and the "
           "weight steps? How much of the error does each sigmoid layer lose?",
           backprop_hidden, draw_backprop_hidden),
    Lesson(8, "last_quiz", "A round of backpropagation (the last quiz)",
           "A relu network's output node receives 6 as the slope of the loss; the hidden "
           "nodes feeding it have values 1 and 3. What are the slopes of their weights, and "
           "of the weights feeding the hidden nodes? Is a node's slope the sum of the slopes "
           "of the weights leaving it, as the slides say? (The quiz's and the slides' figures "
           "are missing; assumed to show the same network, it is rebuilt from their numbers.)",
           _last_quiz, _draw_last_quiz),
    Lesson(9, "admissions", "Training on the admissions data",
           "Prepare the admissions data as the course does, train the course's 6-2-1 sigmoid "
           "network on it, printing the training loss at every tenth of the epochs, then its "
           "accuracy on held-out rows. (The course prints the prepared rows, but no loss and "
           "no accuracy.)",
           train_admissions, draw_train_admissions),
    Lesson(10, "quizzes", "The quizzes: an error, a nudged weight, forward passes",
           "Input [3, 2], actual 5: what is the error? Does changing a weight from 2 to 2.01 "
           "make the prediction better? How many forward passes do 4 updates take? What "
           "are the updates when every error is 0? (The quizzes' figure is missing; the "
           "network is rebuilt from their numbers.)",
           _quizzes, _draw_quizzes),
    Lesson(11, "numpy_shapes", "NumPy's shapes: column vectors, two errors, the weight steps",
           "What do features, features.T, features[:, None] and np.array(features, ndmin=2) "
           "look like? Which two products raise an error, and which message? Which inputs "
           "give the notes' 6x3 matrix hidden_error * inputs[:, None]? (The notes do not say: "
           "the admissions row 11.)",
           numpy_shapes),
)
