"""``slopes predict``: a saved model applied to the rows of a CSV file.

The predictions go to stdout or to ``--out``, written atomically; ``--out``
never replaces the input CSV or the model file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ..errors import CommandError
from ..io import SavedModel, load_model, write_atomic
from .outputs import same_file, some_rows
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
    if args.out is not None:
        out_path = Path(args.out)
        if out_path.is_dir():
            raise CommandError(f"--out {out_path}: is a directory, expected a file name")
        if not out_path.parent.exists():
            raise CommandError(f"--out {out_path}: the folder {out_path.parent} does not exist")
        for option, given in (("the input file", args.data), ("the model file", args.model)):
            if out_path.exists() and same_file(out_path, given):
                raise CommandError(f"--out {out_path}: is {option} {given}; refusing to "
                                   "overwrite it, choose another --out")
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
    text = result.to_csv(index=False, float_format="%.6g")
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        write_atomic(args.out, text.encode())
    except OSError as exc:
        raise CommandError(f"--out {args.out}: cannot write: {exc.strerror or exc}") from exc
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
