"""``slopes explain``: one row traced through a saved model, every value and slope shown.

What it prints, for the row asked for:

- the row, the prediction and the loss;
- the inputs ranked by how much each moved this prediction: the slope of the
  prediction with respect to the input, and that slope times the input's
  value (``--top N`` of them);
- the weights with the largest slopes (``--top N`` per layer, or only layer
  ``--layer K``): each weight's value, the three factors of its slope and the
  update the optimizer the model was trained with would make;
- for a fused output (sigmoid with binary cross-entropy, softmax with
  categorical cross-entropy), in words, why the output layer's activation
  slope is folded into the loss's.

A row without its target (no target column, or an empty cell) explains the
prediction, and says so first: for a class, the predicted class stands in as
the target and the slopes are those of the model's loss against it (the
course's backpropagation starts from the error, target - prediction); for a
number, the slopes are those of the prediction itself (:class:`PredictionItself`),
since against itself every slope would be 0.

It writes ``network.png`` (inputs named by their features, outputs by their
classes) and, with ``--html page.html``, the interactive page, whose slider
scrubs through the epochs whose weights the model file recorded during
training (``slopes train`` and ``slopes demo`` keep up to 20 of them; see
:func:`slopes.callbacks.file_snapshots`). A file without them (from an older
slopes, or of a network too big to record) gets a page that says so. The page
explains each weight as the text does: with the model's penalty and clipping
(the slope as the data's part plus the penalty's) and the schedule's learning
rate of the saved epoch, which the loss curve marks when early stopping kept
the best epoch.
"""

from __future__ import annotations

import argparse
import inspect
import math
from pathlib import Path
from typing import Any

import numpy as np

from .._optional import require
from ..errors import CommandError
from ..losses import Loss
from ..optimizers import OPTIMIZERS
from ..page import report
from ..plot import draw_network, figure_to_png, unmanaged_figures
from ..trace import UpdateStep, fused_sigmoid_splits
from .outputs import OutputFiles, OutputGuard, print_written
from .pictures import drawn_inputs, input_ranking
from .pictures import output_names as node_names
from .predict import load_for_tables
from .report import class_probabilities
from .tables import read_table

__all__ = ["run_explain", "training_optimizer", "training_step", "input_ranking", "DEFAULT_TOP",
           "NO_EPOCHS", "PredictionItself"]

#: Inputs ranked, and weights listed per layer, unless --top says otherwise.
DEFAULT_TOP = 10
#: What the page says when the model file holds no weights per epoch.
NO_EPOCHS = ("This model file holds no weights per epoch (it was written by an older slopes, "
             "or its network is too big to record: slopes train keeps at most 8 MB of them), so "
             "there are no epochs to scrub through: the page shows the saved weights.")


def _cell(row: Any, column: str) -> str:
    value = row[column].iloc[0]
    return str(value.item() if hasattr(value, "item") else value)


def _g(x: float) -> str:
    return f"{x + 0.0:.4g}" if math.isfinite(x) else str(x)


def training_optimizer(training: dict[str, Any]) -> Any:
    """A fresh optimizer of the kind and with the settings a model was trained with.

    ``training`` is the model file's training settings (``SavedModel.training``):
    ``optimizer`` (``"sgd"`` or ``"adam"``; ``"sgd"`` when missing),
    ``learning_rate`` and the optimizer's other settings (momentum, beta1...).
    """
    name = str(training.get("optimizer") or "sgd").lower()
    if name not in OPTIMIZERS:
        raise CommandError(f"the model was trained with the optimizer {name!r}, which this "
                           f"version of slopes does not know (known: {', '.join(OPTIMIZERS)})")
    cls = OPTIMIZERS[name]
    accepted = inspect.signature(cls).parameters
    settings = {k: v for k, v in training.items() if k in accepted and v is not None}
    settings.setdefault("learning_rate", 0.01)
    return cls(**settings)


def training_step(training: dict[str, Any]) -> dict[str, Any]:
    """The penalties and clipping a model was trained with, as ``Network.trace`` takes them.

    ``training`` is the model file's training settings: ``l1``, ``l2``,
    ``penalize_bias``, ``clip_norm`` and ``clip_value`` (each missing one,
    as in a file of an older slopes, is none). The trace then shows each
    weight's slope as the data part plus the penalty part, and the step as
    the clipped one.
    """
    return {"l1": training.get("l1") or 0.0, "l2": training.get("l2") or 0.0,
            "penalize_bias": bool(training.get("penalize_bias", False)),
            "clip_norm": training.get("clip_norm"), "clip_value": training.get("clip_value")}


def _schedule_rate(training: dict[str, Any], history: dict[str, Any], optimizer: Any) -> str:
    """Set ``optimizer``'s learning rate to the one of the epoch the saved weights are from,
    when a schedule changed it; say so (empty when there was no schedule)."""
    schedule = training.get("schedule")
    rates = history.get("lr") if isinstance(history, dict) else None
    if not schedule or not isinstance(rates, list) or not rates:
        return ""
    best = training.get("best_epoch")
    epoch = best if isinstance(best, int) and not isinstance(best, bool) \
        and 0 <= best < len(rates) else len(rates) - 1
    rate = rates[epoch]
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not rate > 0:
        return ""
    optimizer.learning_rate = float(rate)
    return (f"The model was trained with the learning-rate schedule {schedule.get('schedule')!r}: "
            f"the updates below use the rate of epoch {epoch + 1}, the epoch of the saved "
            f"weights, {_g(float(rate))} (the rate every epoch trained with is in the "
            "history's lr).")


def _step_words(trace: Any, step: dict[str, Any]) -> str:
    """What the penalty and clipping add to the table's slopes, in words (empty without)."""
    lines = []
    l1, l2 = step["l1"], step["l2"]
    if l1 or l2:
        terms = [t for t, on in ((f"2 x l2 x weight (l2 = {_g(l2)})", l2),
                                 (f"l1 x sign(weight) (l1 = {_g(l1)})", l1)) if on]
        lines.append(f"The model was trained with a weight penalty ({trace.penalty:.6g} on these "
                     "weights), so each weight's slope is the data part, node_value x "
                     "activation_slope x downstream_slope, plus the penalty part "
                     f"{' + '.join(terms)}: the column penalty_slope"
                     + ("" if step["penalize_bias"] else "; biases are not penalized") + ".")
    if trace.clip_factor is not None:
        if trace.clip_factor != 1:
            lines.append(f"The model was trained with clip_norm {_g(step['clip_norm'])}: on this "
                         "row the slopes together are longer than that, so every slope is "
                         f"multiplied by {_g(trace.clip_factor)} before the update.")
        else:
            lines.append(f"The model was trained with clip_norm {_g(step['clip_norm'])}: on this "
                         "row the slopes together are shorter than that, so the update is not "
                         "clipped.")
    return "\n".join(lines)


def run_explain(args: argparse.Namespace) -> int:
    model = load_for_tables(args.model)
    guard = OutputGuard({"the data file": args.data, "the model file": args.model},
                        overwrite=args.overwrite)
    out = OutputFiles(args.out, ["network.png"], guard)
    out.check()
    html_path = None if args.html is None else guard.claim(args.html, "--html")
    data = read_table(args.data)
    prep, net = model.preprocessing, model.network
    if not 0 <= args.row < len(data):
        raise CommandError(f"{args.data}: there is no row {args.row}; the file has "
                           f"{len(data)} rows, numbered 0 to {len(data) - 1}")
    n_layers = len(net.layers)
    if args.layer is not None and not 0 <= args.layer < n_layers:
        raise CommandError(f"--layer {args.layer}: the model has {n_layers} layers, numbered "
                           f"0 to {n_layers - 1}")
    row = data.iloc[[args.row]]
    # Without the row's target, the prediction stands in for it (_prediction_as_target).
    missing = (f"no target column {prep.target!r} in this row" if prep.target not in data.columns
               else f"the target column {prep.target!r} is empty in this row"
               if bool(row[prep.target].isna().iloc[0]) else "")
    try:
        x = prep.transform(row, dtype=net.dtype)
        y = None if missing else prep.transform_target(row[prep.target])
    except ValueError as exc:
        raise CommandError(f"{args.data}: {exc}") from exc
    loss: str | Loss = model.training.get("loss") or ("mse" if prep.task == "regress" else
                                                      "binary_crossentropy")
    stand_in = None
    if y is None:
        y, loss, stand_in = _prediction_as_target(net, prep, x, loss, missing)
    optimizer = training_optimizer(model.training)
    rate_note = _schedule_rate(model.training, model.history, optimizer)
    step_settings = training_step(model.training)
    trace = net.trace(x, y, loss=loss, **step_settings)
    pd = require("pandas", "explain")
    top = args.top

    values = ", ".join(f"{c}={_cell(row, c)}" for c in prep.columns)
    print(f"Row {args.row} of {args.data}: {values}")
    if stand_in is not None:
        print(stand_in.text)
    actual = "." if missing else f"; actual {_cell(row, prep.target)}."
    predicted = trace.predictions[0]
    output_names, followed, followed_words = node_names(prep, net.n_outputs)
    if prep.task == "classify":
        probabilities = class_probabilities(trace.predictions)[0]
        best = int(probabilities.argmax())
        label = prep.classes[best]
        shown = zip(prep.classes, probabilities, strict=True)
        print(f"Predicted {prep.target} = {label} (probabilities "
              f"{', '.join(f'{c}: {p:.3f}' for c, p in shown)}){actual}")
        if followed < 0:
            followed = best
            followed_words = f"the probability of {prep.target} = {label}"
    else:
        print(f"Predicted {prep.target} = {prep.inverse_target(predicted[0]):.6g}{actual}")
    if stand_in is None:
        print(f"Loss ({loss}) on this row: {trace.loss:.6g}.")
    elif prep.task == "classify":
        print(f"Loss ({loss}) against the predicted class: {trace.loss:.6g}.")

    names = list(prep.feature_names)
    ranking = input_ranking(trace, followed, names)
    print()
    print(f"The inputs that moved this prediction most ({min(top, len(names))} of "
          f"{len(names)}, largest |slope x value| first). slope: how much {followed_words} "
          "changes per unit of the input (after preprocessing); slope x value: roughly how far "
          "this input moved it from an input of 0 (for a standardized column, the training "
          "average):")
    table = pd.DataFrame([{"rank": k + 1, "input": r["input"], "value": _g(r["value"]),
                           "slope": _g(r["slope"]), "slope x value": _g(r["effect"])}
                          for k, r in enumerate(ranking[:top])])
    print(table.to_string(index=False))
    if len(names) > top:
        print(f"... {len(names) - top} more inputs moved it less (--top {len(names)} lists "
              "them all).")

    print()
    if rate_note:
        print(rate_note)
    _print_weights(trace, optimizer, args.layer, top, pd, names, output_names)
    words = _step_words(trace, step_settings)
    if words:
        print(words)
    fused = trace.loss_function.fused_activation
    if fused is not None and (args.layer is None or args.layer == n_layers - 1):
        print(_fused_words(trace, fused, output_names,
                           "actual" if stand_in is None else "predicted"))

    input_nodes, left_out_why = drawn_inputs(ranking)
    with unmanaged_figures():
        figure = draw_network(trace, title=f"{Path(args.data).name}: row {args.row}",
                              input_names=names, output_names=output_names,
                              nodes=input_nodes, left_out_why=left_out_why,
                              note=None if stand_in is None else stand_in.note)
        out.add("network.png", figure_to_png(figure))
    page = None
    if html_path is not None:
        # The same step as the text: the optimizer at the schedule's rate of the saved
        # epoch (_schedule_rate set it), the model's penalty and clipping in every trace.
        page = report(net, x, y, loss=loss, optimizer=optimizer, input_names=names,
                      output_names=output_names, history=model.history or None,
                      snapshots=model.snapshots or None, no_epochs=NO_EPOCHS,
                      final_label=_saved_label(model.training),
                      final_epoch=_saved_epoch(model.training), step=step_settings,
                      title=f"{Path(args.data).name}, row {args.row}: {Path(args.model).name}",
                      row_name=f"Row {args.row} of {Path(args.data).name}"
                      + ("" if stand_in is None else f" ({stand_in.note})"),
                      nodes=input_nodes)
    print_written(out.commit())
    if page is not None:
        guard.write(html_path, page.html, "--html")
        last = model.snapshots[-1].epoch if model.snapshots else None
        scrub = (f"; move the slider through the weights recorded during training, "
                 f"{len(model.snapshots)} snapshots up to "
                 f"{'before training' if last is None else f'epoch {last + 1}'}"
                 if model.snapshots else
                 "; the model file holds no weights per epoch, so there is no slider")
        print(f"Wrote {html_path} (open it in a browser: hover a weight to see its factors"
              f"{scrub})")
    return 0


class PredictionItself(Loss):
    """The prediction itself, as a loss: ``L = mean(p)``, slope ``1 / (m k)`` at each output.

    For one row and one output ``L = p`` and its slope is 1, so every slope a
    trace computes from it is the slope of the prediction: the course's error
    term ``delta = error x f'(h)`` with the error replaced by 1.
    """

    name = "prediction"

    def value(self, predicted: np.ndarray, actual: np.ndarray,
              sample_weight: np.ndarray | None = None) -> float:
        return float(np.mean(predicted))

    def slope(self, predicted: np.ndarray, actual: np.ndarray,
              sample_weight: np.ndarray | None = None) -> np.ndarray:
        return np.full_like(predicted, 1.0 / predicted.size)


class StandIn:
    """What stands in for a row's missing target: said at length (``text``) and short (``note``)."""

    def __init__(self, text: str, note: str) -> None:
        self.text = text
        self.note = note


def _prediction_as_target(net: Any, prep: Any, x: np.ndarray, loss: str | Loss,
                          missing: str) -> tuple[np.ndarray, str | Loss, StandIn]:
    """The target to trace a row without one against, the loss, and the words saying so.

    Classification: the predicted class, with the model's own loss. The
    course's backpropagation starts from an error, target - prediction; with
    the predicted class as the target that error is what separates the
    prediction from certainty, and the slopes and updates are the ones that
    would make the model surer of it. Regression: against the prediction
    itself the error, the loss and every slope would be 0, so the slopes are
    those of the prediction (:class:`PredictionItself`).
    """
    pd = require("pandas", "explain")
    predicted = net.predict(x)
    target = prep.target
    if prep.task == "classify":
        probabilities = class_probabilities(predicted)[0]
        best = int(probabilities.argmax())
        label = prep.classes[best]
        y = prep.transform_target(pd.Series([label]))
        text = (f"{missing}: explaining the prediction ({target}={label}, "
                f"p={probabilities[best]:.2f}) as if it were the target. The slopes below are "
                f"those of the loss ({loss}) against the predicted class: the course's "
                "backpropagation starts from the error, target - prediction, and here that "
                "error is what keeps the prediction from certainty; each update would make the "
                "model surer of its prediction.")
        if 1 - probabilities[best] < 1e-4:
            text += (f" The model is all but certain (p={probabilities[best]:.6f}), so every "
                     "slope below is tiny: no small change of an input or a weight moves this "
                     "prediction.")
        note = (f"{missing[0].upper()}{missing[1:]}: the predicted class {target}={label} "
                f"(p={probabilities[best]:.2f}) stands in as 'actual', and the purple numbers "
                "are slopes of the loss against it")
        return y, loss, StandIn(text, note)
    value = float(prep.inverse_target(predicted[:, 0])[0])
    text = (f"{missing}: explaining the prediction ({target}={value:.6g}) itself. Against the "
            "prediction as its target the error, the loss and every slope would be 0, so the "
            "slopes below are those of the prediction (in standardized units): the course's "
            "error term with the error replaced by 1. Each update would lower the prediction.")
    note = (f"{missing[0].upper()}{missing[1:]}: the prediction itself stands in as 'actual', "
            "and the purple numbers are slopes of the prediction, not of a loss")
    return predicted[:, 0].copy(), PredictionItself(), StandIn(text, note)


def _saved_epoch(training: dict[str, Any]) -> int | None:
    """The epoch (numbered from 1) whose weights the model file holds, when early stopping
    put the best epoch's back; None otherwise (the page then marks no epoch)."""
    best = training.get("best_epoch")
    if isinstance(best, int) and not isinstance(best, bool) and best >= 0:
        return best + 1
    return None


def _saved_label(training: dict[str, Any]) -> str:
    """The page's name for the weights the model file holds (after its last snapshot)."""
    best = training.get("best_epoch")
    if isinstance(best, int) and not isinstance(best, bool) and best >= 0:
        return f"the saved weights (of the best epoch, {best + 1})"
    return "the saved weights"


def _print_weights(trace: Any, optimizer: Any, layer: int | None, top: int, pd: Any,
                   input_names: list[str], output_names: list[str]) -> None:
    """The weights with the largest slopes, per layer, with the optimizer's update.

    ``from`` names the input for the first layer, ``to`` the output node for the last.
    """
    step = UpdateStep.choose(None, optimizer)
    print(f"The weights with the largest slopes{'' if layer is None else f' in layer {layer}'}"
          f" ({top} per layer at most). Each weight's slope is the value of the node feeding it "
          "x the slope of the activation at the node it feeds x the slope of the loss at that "
          "node's output. update: the change to the weight made by the optimizer the model was "
          f"trained with, {step.summary}, on this row alone"
          + ("" if step.plain else
             " (the model file keeps the optimizer's settings, not its state)") + ".")
    rows = trace.table(optimizer=optimizer)
    if isinstance(rows, list):
        rows = pd.DataFrame(rows)
    fused = trace.loss_function.fused_activation is not None
    last = len(trace.network.layers) - 1
    parts = []
    for k in ([layer] if layer is not None else range(last + 1)):
        chunk = rows[rows["layer"] == k]
        chunk = chunk.reindex(chunk["slope"].abs().sort_values(ascending=False,
                                                                kind="stable").index)
        parts.append((k, len(chunk), chunk.head(top)))
    shown = pd.concat([p[2] for p in parts])
    cells = shown.astype(object)
    if any(a or b for a, b in trace.penalty_settings or ()):
        cells.insert(list(cells.columns).index("slope") + 1, "penalty_slope", [
            _g(trace.factors(int(k), "bias" if i == "bias" else int(i), int(j)).penalty_slope)
            for k, i, j in zip(shown["layer"], shown["from"], shown["to"], strict=True)])
    for column in ("weight", "node_value", "activation_slope", "downstream_slope", "slope",
                   "update"):
        cells[column] = [_g(float(v)) for v in shown[column]]
    if fused:
        # Where the table could not split the fused slope (a softmax, a saturated sigmoid).
        apart = shown["activation_slope"].isna() & (shown["layer"] == last)
        cells.loc[apart, "activation_slope"] = "fused"
    first_layer = shown["layer"] == 0
    cells.loc[first_layer, "from"] = [i if i == "bias" else input_names[int(i)]
                                      for i in shown.loc[first_layer, "from"]]
    last_layer = shown["layer"] == last
    cells.loc[last_layer, "to"] = [output_names[int(j)] for j in shown.loc[last_layer, "to"]]
    with pd.option_context("display.max_rows", 10_000, "display.width", 140):
        print(cells.to_string(index=False))
    for k, total, chunk in parts:
        if total > len(chunk):
            print(f"... layer {k} has {total - len(chunk)} more weights with smaller slopes "
                  f"(--top {total} lists them all).")


def _fused_words(trace: Any, fused: str, output_names: list[str],
                 actual_word: str = "actual") -> str:
    """How the output layer's slopes come from the fused pair, with this row's numbers.

    A sigmoid's two factors are in the table (``Trace.table``) unless the
    prediction is 0 or 1 to the last digit; then, as for a softmax, its
    activation_slope reads "fused".
    """
    p = trace.predictions[0]
    actual = trace.actual[0]
    input_slope = trace.input_slopes[-1][0]
    if fused == "sigmoid":
        a = float(trace.factors(len(trace.network.layers) - 1, 0, 0).activation_slope[0])
        loss_slope = float(trace.node_slopes[-1][0, 0])
        at_input = (f"the slope of the loss at the input of the output node ({output_names[0]}) "
                    f"is predicted - actual = {p[0]:.4g} - {actual[0]:g} = "
                    f"{float(input_slope[0]):.4g}")
        if fused_sigmoid_splits(trace.factors(len(trace.network.layers) - 1, 0, 0)):
            return (f"In the output layer, the sigmoid and the binary cross-entropy are "
                    f"computed as one: {at_input}. The table shows it taken apart: the "
                    f"sigmoid's slope p(1 - p) = {_g(a)} (activation_slope) times the loss's "
                    f"slope at the output, {_g(loss_slope)} (downstream_slope), gives the same "
                    "number; computed in one step it never overflows, even when p is 0 or 1 "
                    "to the last digit.")
        return (f"In the output layer, activation_slope reads \"fused\": the sigmoid and the "
                f"binary cross-entropy are computed as one, so {at_input}, its "
                f"downstream_slope. The prediction is 0 or 1 to the last digit, so the "
                f"sigmoid's slope p(1 - p) = {_g(a)} times the loss's slope at the output, "
                f"{_g(loss_slope)}, does not give it; computed in one step it never overflows.")
    j = int(np.argmax(actual))
    return (f"In the output layer, activation_slope reads \"fused\": the softmax and the "
            f"categorical cross-entropy are computed as one, so the slope of the loss at the "
            f"input of each output node is its probability minus 1 for the {actual_word} class "
            f"({output_names[j]}: {p[j]:.4g} - 1 = {float(input_slope[j]):.4g}) and its "
            "probability "
            "for the others; that is its downstream_slope. A softmax node's own slope is not "
            "one number (each output depends on every input), so it is not shown apart.")
