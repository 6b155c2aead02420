"""The course's worked examples, answered with slopes: ``slopes lessons [N]``.

Each lesson is a question from the course, the slopes code that answers it,
and the numbers it prints, which match the course's. Where the course shows a
picture, the lesson also writes a PNG (a network drawing or a loss curve).

The code a lesson prints is the source of the function it runs (its body),
so what you read is exactly what ran. The scripts in ``examples/course/`` call
:func:`run_lesson` with their number.

Sign convention. The course's later lessons write ``error = y - y_hat`` and
``delta_w = learning_rate * delta * x``; slopes writes ``error = predicted -
actual`` and ``slope = dLoss/dw``, and gradient descent steps by
``-learning_rate * slope``. With the loss ``"half_mse"`` (the course's
``E = 1/(2m) sum (y - y_hat)**2``) the two agree: ``delta = -(slope at the
node's input)`` and ``delta_w = -learning_rate * weight_slope``.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import slopes
from slopes import Network

__all__ = ["LESSONS", "Lesson", "run_lesson", "list_lessons", "register", "run", "main"]


@dataclass(frozen=True)
class Lesson:
    """One worked example of the course.

    ``compute()`` prints the numbers and returns what ``draw(result, out)``
    needs to write its PNG into the folder ``out`` (``draw`` is None where the
    course shows no picture).
    """

    number: int
    slug: str
    title: str
    question: str
    course_answer: str
    compute: Callable[[], Any]
    draw: Callable[[Any, Path], None] | None = None

    @property
    def script(self) -> str:
        """File name of the matching script in ``examples/course/``."""
        return f"{self.number:02d}_{self.slug}.py"


# ------------------------------------------------------------------- lessons
def _network_errors() -> Any:
    # The course's network: two relu hidden nodes, one relu output, no biases.
    weights_0 = {"node_0": [2, 1], "node_1": [1, 2], "output": [1, 1]}
    weights_1 = {"node_0": [2, 1], "node_1": [1, 0], "output": [1, 1]}  # one weight changed
    input_data = np.array([0, 3])
    target_actual = 3

    net_0 = Network.from_weights(weights_0, activation="relu")
    net_1 = Network.from_weights(weights_1, activation="relu")
    trace_0 = net_0.trace(input_data, target_actual)   # error = predicted - actual
    trace_1 = net_1.trace(input_data, target_actual)
    print("prediction with weights_0:", trace_0.predictions[0, 0])
    print("error_0:", trace_0.errors[0, 0])
    print("prediction with weights_1:", trace_1.predictions[0, 0])
    print("error_1:", trace_1.errors[0, 0])
    return trace_0, trace_1


def _draw_network_errors(result: Any, out: Path) -> None:
    from slopes.plot import draw_network

    trace_0, trace_1 = result
    draw_network(trace_0, title="weights_0: error 6").savefig(out / "01_weights_0.png", dpi=150)
    draw_network(trace_1, title="weights_1: error 0").savefig(out / "01_weights_1.png", dpi=150)


def _mse_comparison() -> Any:
    weights_0 = {"node_0": [2, 1], "node_1": [1, 2], "output": [1, 1]}
    weights_1 = {"node_0": [2, 1], "node_1": [1, 1.5], "output": [1, 1.5]}
    input_data = np.array([[0, 3], [1, 2], [-1, -2], [4, 0]])
    target_actuals = np.array([1, 3, 5, 7])

    net_0 = Network.from_weights(weights_0, activation="relu")
    net_1 = Network.from_weights(weights_1, activation="relu")
    mse_0 = net_0.evaluate(input_data, target_actuals, loss="mse")
    mse_1 = net_1.evaluate(input_data, target_actuals, loss="mse")
    print("predictions with weights_0:", net_0.predict(input_data).ravel())
    print("predictions with weights_1:", net_1.predict(input_data).ravel())
    print(f"Mean squared error with weights_0: {mse_0:f}")
    print(f"Mean squared error with weights_1: {mse_1:f}")


def _slopes_and_updates() -> Any:
    # No hidden layer: three inputs straight to one output node (identity).
    net = Network.from_weights([[0, 2, 1]])          # weights from the inputs, (3, 1)
    input_data, target = np.array([1, 2, 3]), 0
    learning_rate = 0.01

    trace = net.trace(input_data, target, loss="mse")  # one sample: slope of the loss = 2 * error
    print("error:", trace.errors[0, 0])
    print("slope:", trace.weight_slopes[0].ravel())      # 2 * input_data * error
    print(trace.explain(0, 2, 0, learning_rate=learning_rate))
    net.layers[0].weights = net.layers[0].weights - learning_rate * trace.weight_slopes[0]
    print("updated error:", round(net.trace(input_data, target).errors[0, 0], 10))

    # The slides' example: weights [1, 2], inputs [3, 4], target 6.
    net2 = Network.from_weights([[1, 2]])
    trace2 = net2.trace([3, 4], 6, loss="mse")
    print("error:", trace2.errors[0, 0], " gradient:", trace2.weight_slopes[0].ravel())
    net2.layers[0].weights = net2.layers[0].weights - learning_rate * trace2.weight_slopes[0]
    print("updated error:", round(net2.trace([3, 4], 6).errors[0, 0], 10))

    # The slides' single weight: value 3 feeds weight 2, prediction 6, actual 10.
    net3 = Network.from_weights([[2]])
    print(net3.trace([3], 10, loss="mse").explain(0, 0, 0, learning_rate=learning_rate))
    return trace


def _draw_slopes_and_updates(trace: Any, out: Path) -> None:
    from slopes.plot import draw_network

    fig = draw_network(trace, edges="slope", title="slopes 14, 28, 42 of the three weights")
    fig.savefig(out / "03_slopes.png", dpi=150)


def _repeated_updates() -> Any:
    net = Network.from_weights([[0, 2, 1]])
    input_data, target = np.array([1, 2, 3]), 0
    mse_hist = []
    for _ in range(20):
        trace = net.trace(input_data, target, loss="mse")
        net.layers[0].weights = net.layers[0].weights - 0.01 * trace.weight_slopes[0]
        mse_hist.append(net.evaluate(input_data, target, loss="mse"))
    print("mse after update 1:", round(mse_hist[0], 10))
    print(f"mse after update 20: {mse_hist[-1]:.4g}")
    print("each update multiplies the error by", round(1 - 0.01 * 2 * (input_data**2).sum(), 10))
    return mse_hist


def _draw_repeated_updates(mse_hist: Any, out: Path) -> None:
    from slopes.plot import plot_history

    fig = plot_history({"mean squared error": mse_hist}, xlabel="iteration")
    fig.savefig(out / "04_mse_history.png", dpi=150)


def _delta_rule() -> Any:
    # One sigmoid output node. slopes' loss "half_mse" is the course's E = (y - y_hat)**2 / 2,
    # so the course's step  learnrate * (y - y_hat) * f'(h) * x  is  -learnrate * weight slope.
    learnrate = 0.5
    x = np.array([1, 2, 3, 4])
    y = 0.5
    w = np.array([0.5, -0.5, 0.3, 0.1])

    net = Network.from_weights([w], activation="sigmoid")
    trace = net.trace(x, y, loss="half_mse")
    print("Neural Network output:", round(trace.predictions[0, 0], 12))
    print("Amount of Error (y - y_hat):", round(-trace.errors[0, 0], 12))
    print("Change in Weights:", -learnrate * trace.weight_slopes[0].ravel())
    print(trace.explain(0, 0, 0, learning_rate=learnrate))
    return trace


def _draw_delta_rule(trace: Any, out: Path) -> None:
    from slopes.plot import draw_network

    draw_network(trace, title="one sigmoid node").savefig(out / "05_delta_rule.png", dpi=150)


def _hidden_forward() -> Any:
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
    return net, X


def _draw_hidden_forward(result: Any, out: Path) -> None:
    from slopes.plot import draw_network

    net, X = result
    fig = draw_network(net, X=X, title="forward pass 4-3-2 (sigmoid)")
    fig.savefig(out / "06_hidden_forward.png", dpi=150)


def _backprop_hidden() -> Any:
    # Two inputs, one sigmoid hidden node, one sigmoid output; target 1; learning rate 0.5.
    x, target, learnrate = np.array([0.1, 0.3]), 1, 0.5
    net = Network.from_weights([[0.4, -0.2], [0.1]], activation="sigmoid")
    trace = net.trace(x, target, loss="half_mse")

    h, a, y_hat = trace.node_inputs[0][0, 0], trace.node_values[1][0, 0], trace.predictions[0, 0]
    print(f"h = {h:.3g}   a = {a:.3f}   y_hat = {y_hat:.3f}")
    # The course's error terms delta are minus the slopes at the nodes' inputs.
    delta_o, delta_h = -trace.input_slopes[1][0, 0], -trace.input_slopes[0][0, 0]
    print(f"delta_o = {delta_o:.3f}   delta_h = {delta_h:.3f}")
    print(f"Delta W = {-learnrate * trace.weight_slopes[1][0, 0]:.4f}")
    # The course rounds delta_h to 0.003 before multiplying: (0.00015, 0.00045).
    print("Delta w =", -learnrate * trace.weight_slopes[0].ravel())
    print(trace.explain(0, 1, 0, learning_rate=learnrate))
    return trace


def _draw_backprop_hidden(trace: Any, out: Path) -> None:
    from slopes.plot import draw_network

    draw_network(trace, title="backpropagation through a hidden node").savefig(
        out / "07_backprop_hidden.png", dpi=150)


def _last_quiz() -> Any:
    # The output node predicts 13 for an actual 10: error 3, so the slope of the loss is
    # 2 * 3 = 6. The hidden nodes feeding it have values 1 and 3; relu slopes are 1.
    net = Network.from_weights([[[0, 0], [1, 3]], [[4], [3]]], activation="relu")
    trace = net.trace([0, 1], 10, loss="mse")
    print(trace.explain(1, 0, 0))
    print(trace.explain(1, 1, 0))
    print("A weight fed by a node of value 0 gets slope",
          trace.factors(0, 0, 1).slope)
    print(trace.table().to_string())  # one row per weight (a list of dicts without pandas)
    return trace


def _draw_last_quiz(trace: Any, out: Path) -> None:
    from slopes.plot import draw_network

    draw_network(trace, title="the last quiz: slopes in purple").savefig(
        out / "08_last_quiz.png", dpi=150)


def _admissions() -> Any:
    from slopes.callbacks import LossMonitor

    data = slopes.datasets.prepare_admissions()
    # The course's network: 6 inputs, 2 sigmoid hidden nodes, 1 sigmoid output, no biases,
    # weights drawn from a normal distribution of scale 1/sqrt(6), full-batch gradient descent
    # on E = half MSE. The course's learning rate 0.005 barely moves in 900 epochs; we use 1.0.
    net = Network.mlp([6, 2, 1], activation="sigmoid", output="sigmoid",
                      init="normal", bias=False, seed=21)
    history = net.fit(data.features, data.targets, loss="half_mse", learning_rate=1.0,
                      epochs=900, batch_size=None, verbose=0, callbacks=[LossMonitor()])

    predictions = net.predict(data.features_test).ravel() > 0.5
    accuracy = np.mean(predictions == data.targets_test)
    base_rate = max(data.targets_test.mean(), 1 - data.targets_test.mean())
    print(f"Prediction accuracy: {accuracy:.3f}")
    print(f"Base rate (always guessing the most common answer): {base_rate:.3f}")
    return history


def _draw_admissions(history: Any, out: Path) -> None:
    history.plot(log_scale=False).savefig(out / "09_admissions_loss.png", dpi=150)


LESSONS: tuple[Lesson, ...] = (
    Lesson(1, "network_errors", "The errors of a network",
           "A relu network with weights node_0 [2, 1], node_1 [1, 2], output [1, 1] gets the "
           "input [0, 3]; the actual value is 3. What is its error (predicted - actual)? "
           "Change one weight so the error is 0.",
           "error_0 = 6, error_1 = 0", _network_errors, _draw_network_errors),
    Lesson(2, "mse_comparison", "Predictions with multiple points: the mean squared error",
           "Which of two sets of weights predicts the four points [0, 3], [1, 2], [-1, -2], "
           "[4, 0] (actual 1, 3, 5, 7) better, by mean squared error?",
           "37.500000 with weights_0, 49.890625 with weights_1", _mse_comparison),
    Lesson(3, "slopes_and_updates", "Slopes and weight updates",
           "Weights [0, 2, 1], input [1, 2, 3], target 0: what are the slopes of the mean "
           "squared error, and the error after one update at learning rate 0.01?",
           "slope [14 28 42]; error 7 -> 5.04. Weights [1, 2], inputs [3, 4], target 6: "
           "error 5, gradient [30 40], updated error 2.5. Slope 2 x -4 x 3 = -24, new "
           "weight 2.24", _slopes_and_updates, _draw_slopes_and_updates),
    Lesson(4, "repeated_updates", "Making multiple updates to weights",
           "Update the weights 20 times at learning rate 0.01 and plot the mean squared error "
           "after each update. What happens?",
           "the MSE falls from 25.4016 to 9.627e-05 (the error shrinks by 0.72 each update)",
           _repeated_updates, _draw_repeated_updates),
    Lesson(5, "delta_rule", "The sigmoid delta rule",
           "One sigmoid node, x = [1, 2, 3, 4], y = 0.5, w = [0.5, -0.5, 0.3, 0.1], "
           "learning rate 0.5: what are the output, the error and the change in weights?",
           "output 0.689974481128, error -0.189974481128, change in weights "
           "[-0.02031869 -0.04063738 -0.06095608 -0.08127477]", _delta_rule, _draw_delta_rule),
    Lesson(6, "hidden_forward", "The forward pass through a hidden layer",
           "A 4-3-2 sigmoid network with inputs and weights drawn with seed 42: what do the "
           "hidden layer and the output layer output?",
           "hidden [0.41492192 0.42604313 0.5002434], output [0.49815196 0.48539772]",
           _hidden_forward, _draw_hidden_forward),
    Lesson(7, "backprop_hidden", "Backpropagation through a hidden layer",
           "x = [0.1, 0.3], weights [0.4, -0.2] into one sigmoid hidden node, W = 0.1 into a "
           "sigmoid output, target 1, learning rate 0.5: what are the error terms and the "
           "weight steps?",
           "h = -0.02, a = 0.495, y_hat = 0.512, delta_o = 0.122, delta_h = 0.003, "
           "Delta W = 0.0302, Delta w = (0.00015, 0.00045) (from delta_h rounded to 0.003)",
           _backprop_hidden, _draw_backprop_hidden),
    Lesson(8, "last_quiz", "A round of backpropagation (the last quiz)",
           "A relu network's output node receives 6 as the slope of the loss; the hidden "
           "nodes feeding it have values 1 and 3. What are the slopes of their weights?",
           "6 and 18; a weight fed by a node of value 0 gets 0", _last_quiz, _draw_last_quiz),
    Lesson(9, "admissions", "Training on the admissions data",
           "Train the course's 6-2-1 sigmoid network on the graduate-school admissions data, "
           "printing the training loss at every tenth of the epochs, then its accuracy on the "
           "test set.",
           "the loss falls (no WARNING - Loss Increasing); test accuracy about 0.7, close to "
           "always guessing 'not admitted': these three features predict admission poorly",
           _admissions, _draw_admissions),
)


# ---------------------------------------------------------------- running one
def _code_of(func: Callable[..., Any]) -> str:
    """The body of ``func`` as a reader would type it: no def line, docstring or final return."""
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):
        return "    (source not available)"
    lines = textwrap.dedent(source).splitlines()
    start = next(k for k, line in enumerate(lines) if line.rstrip().endswith(":")) + 1
    body = lines[start:]
    while body and (not body[-1].strip() or body[-1].lstrip().startswith("return")):
        body.pop()
    return textwrap.indent(textwrap.dedent("\n".join(body)), "    ")


def get_lesson(number: int) -> Lesson:
    """The lesson numbered ``number`` (1..9); an error lists the valid numbers."""
    for lesson in LESSONS:
        if lesson.number == number:
            return lesson
    raise ValueError(f"there is no lesson {number}; lessons are numbered 1 to {len(LESSONS)} "
                     "(run 'slopes lessons' to list them)")


def run_lesson(number: int, out: str | Path | None = ".", show_code: bool = True) -> list[Path]:
    """Run lesson ``number``: print the question, the code, its output and the course's answer.

    Parameters
    ----------
    number : int
        1 to ``len(LESSONS)``.
    out : path or None
        Folder for the lesson's PNG (created if needed); None draws nothing.
    show_code : bool
        Print the code before running it.

    Returns
    -------
    list of Path
        The PNG files written.
    """
    lesson = get_lesson(number)
    print(f"Lesson {lesson.number}: {lesson.title}")
    print()
    print("Question:", lesson.question)
    print()
    if show_code:
        print("Code:")
        print(_code_of(lesson.compute))
        print()
        print("Output:")
    result = lesson.compute()
    print()
    print("The course's answer:", lesson.course_answer)
    written: list[Path] = []
    if lesson.draw is not None and out is not None:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        before = set(folder.glob("*.png"))
        try:
            lesson.draw(result, folder)
        except ImportError as exc:
            print(f"\nNo drawing: {exc}")
            return written
        written = sorted(set(folder.glob(f"{lesson.number:02d}_*.png")) - before) or sorted(
            folder.glob(f"{lesson.number:02d}_*.png"))
        if show_code:
            print()
            print("Drawing:")
            print(_code_of(lesson.draw))
        for path in written:
            print(f"Wrote {path}")
    return written


def list_lessons() -> str:
    """The numbered list of lessons, one per line."""
    lines = ["The course's worked examples; run one with: slopes lessons N [--out DIR]", ""]
    for lesson in LESSONS:
        picture = "  (writes a PNG)" if lesson.draw is not None else ""
        lines.append(f"{lesson.number:>3}. {lesson.title}{picture}")
    return "\n".join(lines)


# ----------------------------------------------------------- command line
_EPILOG = """examples:
  slopes lessons                 list the lessons
  slopes lessons 8               the last quiz: why the slopes are 6 and 18
  slopes lessons 4 --out pics    repeated updates, the MSE history written to pics/
"""


def register(subparsers: Any) -> None:
    """Add the ``lessons`` subcommand to the ``slopes`` command."""
    parser = subparsers.add_parser(
        "lessons",
        help="run the course's worked examples with slopes",
        description="List the course's worked examples, or run one: print its question, the "
                    "slopes code that answers it, the numbers (matching the course), and write "
                    "a PNG where the course shows a picture.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("number", nargs="?", type=int, metavar="N",
                        help=f"the lesson to run, 1 to {len(LESSONS)}; omit to list them")
    parser.add_argument("--out", default=".", metavar="DIR",
                        help="folder for the PNG drawings (default: the current folder)")
    parser.add_argument("--no-plot", action="store_true", help="write no PNG")
    parser.add_argument("--no-code", action="store_true", help="do not print the code")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``slopes lessons`` with parsed arguments; returns the exit code."""
    if args.number is None:
        print(list_lessons())
        return 0
    if not 1 <= args.number <= len(LESSONS):
        print(f"slopes lessons: error: there is no lesson {args.number}; lessons are numbered "
              f"1 to {len(LESSONS)}", file=sys.stderr)
        return 2
    run_lesson(args.number, out=None if args.no_plot else args.out,
               show_code=not args.no_code)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m slopes.lessons [N] [--out DIR]``, also used by ``examples/course/``."""
    parser = argparse.ArgumentParser(prog="slopes lessons")
    subparsers = parser.add_subparsers(dest="command")
    register(subparsers)
    args = parser.parse_args(["lessons", *(sys.argv[1:] if argv is None else argv)])
    return run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
