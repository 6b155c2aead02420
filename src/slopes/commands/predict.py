"""``slopes predict``: a saved model applied to the rows of a CSV file.

The predictions go to stdout or to ``--out``, written atomically through the
run's :class:`~.outputs.OutputGuard`: ``--out`` never replaces the input CSV or
the model file, nor another model without ``--overwrite``.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from ..errors import CommandError
from ..io import SavedModel, load_model
from .outputs import OutputGuard, some_rows
from .report import class_probabilities
from .tables import read_table

__all__ = ["run_predict", "load_for_tables"]


def load_for_tables(path: str) -> SavedModel:
    """A model file with its preprocessing, which reading CSV columns needs."""
    model = load_model(path)
    if model.preprocessing is None:
        raise CommandError(f"{path}: the model has no stored preprocessing, so it cannot read "
                           "CSV columns; train it with `slopes train` (or `slopes demo`)")
    return model


def run_predict(args: argparse.Namespace) -> int:
    model = load_for_tables(args.model)
    guard = OutputGuard({"the input file": args.data, "the model file": args.model},
                        overwrite=args.overwrite)
    if args.out is not None:
        guard.claim(args.out, "--out")
    data = read_table(args.data)
    prep, net = model.preprocessing, model.network
    try:
        X = prep.transform(data, dtype=net.dtype)
    except ValueError as exc:
        raise CommandError(f"{args.data}: {exc}") from exc
    far = prep.far_out(data, X)
    if far:
        print(f"warning: {len(far)} row(s) lie far outside the training rows' range, so their "
              f"predictions are extrapolations ({some_rows(far)})", file=sys.stderr)
    output = net.predict(X)
    result = data.copy()
    target = prep.target or "target"
    if prep.task == "classify":
        probabilities = class_probabilities(output)
        result[f"predicted_{target}"] = [prep.classes[k] for k in probabilities.argmax(axis=1)]
        for k, label in enumerate(prep.classes):
            result[f"probability_{label}"] = probabilities[:, k]
    else:
        result[f"predicted_{target}"] = prep.inverse_target(output[:, 0])
    # Numbers as Python writes them (the shortest text that reads back the same float):
    # the input columns come back as read, the probabilities to the last digit.
    text = result.to_csv(index=False)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    guard.write(args.out, text, "--out")
    summary = f"Wrote {len(result)} predictions to {args.out}"
    if prep.target in data.columns and prep.task == "classify":
        try:
            actual = prep.transform_target(data[prep.target])
        except ValueError:
            actual = None
        if actual is not None:
            right = np.mean(class_probabilities(output).argmax(axis=1) == actual)
            summary += f" (the file has the target {prep.target!r}: accuracy {right:.3f})"
    print(summary + ".")
    return 0
