"""``slopes explain``: one row traced through a saved model, every value and slope shown."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._optional import require
from ..errors import CommandError
from .outputs import OutputFiles, print_written, read_table
from .predict import load_for_tables
from .report import class_probabilities

__all__ = ["run_explain"]


def _cell(row: Any, column: str) -> str:
    value = row[column].iloc[0]
    return str(value.item() if hasattr(value, "item") else value)


def run_explain(args: argparse.Namespace) -> int:
    model = load_for_tables(args.model)
    out = OutputFiles(args.out)
    out.check()
    data = read_table(args.data)
    prep, net = model.preprocessing, model.network
    if prep.target not in data.columns:
        raise CommandError(f"{args.data}: explain needs the target column {prep.target!r} to "
                           f"compute the slopes; the columns are: "
                           f"{', '.join(map(str, data.columns))}")
    if not 0 <= args.row < len(data):
        raise CommandError(f"{args.data}: there is no row {args.row}; the file has "
                           f"{len(data)} rows, numbered 0 to {len(data) - 1}")
    row = data.iloc[[args.row]]
    try:
        x = prep.transform(row, dtype=net.dtype)
        y = prep.transform_target(row[prep.target])
    except ValueError as exc:
        raise CommandError(f"{args.data}: {exc}") from exc
    loss = model.training.get("loss") or ("mse" if prep.task == "regress" else
                                          "binary_crossentropy")
    lr = model.training.get("learning_rate") or 0.01
    trace = net.trace(x, y, loss=loss)
    pd = require("pandas", "explain")
    values = ", ".join(f"{c}={_cell(row, c)}" for c in prep.columns)
    print(f"Row {args.row} of {args.data}: {values}")
    inputs = zip(prep.feature_names, x[0], strict=True)
    print(f"Inputs after preprocessing: {', '.join(f'{n}={v:.4g}' for n, v in inputs)}")
    predicted = trace.predictions[0]
    if prep.task == "classify":
        probabilities = class_probabilities(trace.predictions)[0]
        label = prep.classes[int(probabilities.argmax())]
        shown = zip(prep.classes, probabilities, strict=True)
        print(f"Predicted {prep.target} = {label} (probabilities "
              f"{', '.join(f'{c}: {p:.3f}' for c, p in shown)}); "
              f"actual {_cell(row, prep.target)}.")
    else:
        print(f"Predicted {prep.target} = {prep.inverse_target(predicted[0]):.6g}; actual "
              f"{_cell(row, prep.target)}.")
    print(f"Loss ({loss}) on this row: {trace.loss:.6g}. Each weight's slope is the node value "
          "feeding it x the activation's slope x the loss's slope downstream; the update is "
          f"-{lr:g} x slope.")
    table = trace.table(learning_rate=lr)
    if isinstance(table, list):
        table = pd.DataFrame(table)
    with pd.option_context("display.max_rows", 200, "display.width", 120):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    from ..plot import draw_network, figure_to_png

    out.add("network.png", figure_to_png(draw_network(
        trace, title=f"{Path(args.data).name}: row {args.row}")))
    print_written(out.commit())
    return 0
