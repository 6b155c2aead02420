"""The ``slopes`` subcommands demo, train, predict and explain.

Every handler checks and computes everything first and writes its output
files last, all at once (:class:`OutputFiles`), so an error never leaves a
partial output behind. Data and file problems raise :class:`CommandError`
(or ``ValueError``), which ``slopes.cli`` prints as one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._optional import require
from .cli import CommandError
from .io import SavedModel, load_model, model_bytes, write_atomic
from .metrics import mean_absolute_error, mean_squared_error
from .network import Network
from .preprocessing import TabularPreprocessor, guess_task

__all__ = ["register", "OutputFiles", "read_table"]

ROWS_NOTE = "Rows are numbered from 0: row 0 is the first line after the header."

# The demo's defaults learn visibly (the loss falls from 0.13 to 0.10) in about a
# second. The held-out rows are prepare_admissions' default split, not one picked
# for a flattering score: the admissions features predict admission weakly
# (10-fold cross-validated accuracy about 0.70 against 0.68 for always
# predicting "not admitted"), so on 40 rows the test accuracy lands near the base rate.
DEMO_EPOCHS, DEMO_LEARNING_RATE, DEMO_LOSS = 1000, 5.0, "half_mse"
DEMO_SEED, DEMO_SPLIT_SEED = 0, 42
# The course's hidden-layer exercise: 900 epochs, learnrate 0.005, np.random.seed(21).
COURSE_EPOCHS, COURSE_LEARNING_RATE, COURSE_SEED = 900, 0.005, 21


# ------------------------------------------------------------------- outputs
class OutputFiles:
    """Files to write to one directory, kept in memory until :meth:`commit`.

    ``commit`` writes each to a temporary name in the directory and only then
    renames them all into place, so a failure leaves no partial output.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.files: dict[str, bytes] = {}

    def add(self, name: str, data: bytes | str) -> None:
        self.files[name] = data.encode() if isinstance(data, str) else data

    def check(self) -> None:
        """Fail early when the directory cannot be used."""
        if self.directory.exists() and not self.directory.is_dir():
            raise CommandError(f"--out {self.directory}: exists and is not a directory")

    def commit(self) -> list[Path]:
        self.check()
        created = not self.directory.exists()
        self.directory.mkdir(parents=True, exist_ok=True)
        temps: dict[str, str] = {}
        try:
            for name, data in self.files.items():
                fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{name}.", suffix=".tmp")
                temps[name] = tmp
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
            for name, tmp in temps.items():
                os.replace(tmp, self.directory / name)
        except BaseException:
            for tmp in temps.values():
                if os.path.exists(tmp):
                    os.unlink(tmp)
            if created and not any(self.directory.iterdir()):
                self.directory.rmdir()
            raise
        return [self.directory / name for name in self.files]


# ---------------------------------------------------------------------- data
def read_table(path: str | os.PathLike[str]) -> Any:
    """Read a CSV file with pandas; every problem is a one-line ``CommandError``.

    Rows keep pandas' default index: row 0 is the first line after the header.
    """
    pd = require("pandas", "reading CSV files")
    path = Path(path)
    if not path.exists():
        raise CommandError(f"{path}: no such file")
    if path.is_dir():
        raise CommandError(f"{path}: is a directory, expected a CSV file")
    try:
        with warnings.catch_warnings():
            # A first row longer than the header is only a warning in pandas: make it an error.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            data = pd.read_csv(path, skipinitialspace=True, index_col=False)
    except pd.errors.ParserWarning as exc:
        raise CommandError(f"{path}: not a well-formed CSV file: a data row has more fields "
                           "than the header") from exc
    except pd.errors.EmptyDataError as exc:
        raise CommandError(f"{path}: the file is empty; expected a header line and data "
                           "rows") from exc
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().splitlines()[-1]
        for noise in ("Error tokenizing data. ", "C error: "):
            detail = detail.replace(noise, "")
        raise CommandError(f"{path}: not a well-formed CSV file: {detail}") from exc
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path}: not a text CSV file ({exc.reason})") from exc
    if len(data) == 0:
        raise CommandError(f"{path}: has a header ({', '.join(map(str, data.columns))}) but "
                           "no data rows")
    return data


def _in_file(path: str | os.PathLike[str], exc: Exception) -> CommandError:
    return CommandError(f"{path}: {exc}")


def _split(n: int, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled row indices ``(train, test)``; ``test_size`` is a fraction of the rows."""
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(n * test_size))
    if test_size > 0 and n_test == 0:
        n_test = 1
    if n - n_test < 1:
        raise CommandError(f"--test-size {test_size} leaves no rows to train on "
                           f"(the data has {n} rows)")
    return np.sort(order[n_test:]), np.sort(order[:n_test])


# ------------------------------------------------------------------ metrics
def _probabilities(net_output: np.ndarray) -> np.ndarray:
    """Class probabilities ``(n, k)`` from a sigmoid (one output) or softmax output."""
    if net_output.shape[1] == 1:
        p = net_output[:, 0]
        return np.column_stack([1.0 - p, p])
    return net_output


def _classification_metrics(net: Network, X: np.ndarray, y: np.ndarray,
                            loss: str) -> dict[str, float]:
    predicted = _probabilities(net.predict(X)).argmax(axis=1)
    majority = np.bincount(y).max() / len(y)
    return {"loss": net.evaluate(X, y, loss=loss), "accuracy": float(np.mean(predicted == y)),
            "rows": len(y), "majority_class_accuracy": float(majority)}


def _regression_metrics(net: Network, X: np.ndarray, y: np.ndarray, loss: str,
                        prep: TabularPreprocessor) -> dict[str, float]:
    predicted = prep.inverse_target(net.predict(X)[:, 0])
    actual = prep.inverse_target(y)
    error = predicted - actual
    spread = float(np.sum((actual - actual.mean()) ** 2))
    return {"loss": net.evaluate(X, y, loss=loss),
            "mse": mean_squared_error(predicted, actual),
            "mae": mean_absolute_error(predicted, actual),
            "r2": float(1 - np.sum(error ** 2) / spread) if spread > 0 else float("nan"),
            "rows": len(y)}


def _describe(name: str, m: dict[str, float]) -> str:
    if "accuracy" in m:
        return (f"{name:<5} loss {m['loss']:.4f}  accuracy {m['accuracy']:.3f}  "
                f"({m['rows']} rows; the most common class alone scores "
                f"{m['majority_class_accuracy']:.3f})")
    return (f"{name:<5} loss {m['loss']:.4f}  mse {m['mse']:.4g}  mae {m['mae']:.4g}  "
            f"r2 {m['r2']:.3f}  ({m['rows']} rows)")


def _pictures(out: OutputFiles, net: Network, history: Any, X: np.ndarray, y: np.ndarray,
              loss: str, title: str) -> None:
    from .plot import draw_network, figure_to_png, plot_history

    out.add("loss.png", figure_to_png(plot_history(history)))
    trace = net.trace(X[:1], y[:1], loss=loss)
    out.add("network.png", figure_to_png(draw_network(trace, title=title)))


def _json(data: Any) -> str:
    def plain(value: Any) -> Any:
        if isinstance(value, float) and not np.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, np.generic):
            return plain(value.item())
        return value

    return json.dumps(plain(data), indent=2) + "\n"


def _training_settings(history: Any, extra: dict[str, Any]) -> dict[str, Any]:
    params = dict(getattr(history, "params", {}) or {})
    params.update(extra)
    params["epochs_run"] = len(getattr(history, "epoch", []) or [])
    return json.loads(_json(params))


def _print_written(paths: Sequence[Path]) -> None:
    if paths:
        folder = paths[0].parent
        print(f"Wrote {', '.join(p.name for p in paths)} to {folder}{os.sep}")


# ---------------------------------------------------------------------- demo
def _course_network() -> Network:
    """The course's initial 6-2-1 weights: ``np.random.seed(21)`` then two ``normal`` draws.

    The course seeds NumPy's global generator; slopes never touches global
    state, so the same numbers come from a private ``RandomState(21)``.
    """
    rng = np.random.RandomState(COURSE_SEED)  # noqa: NPY002 - legacy stream, on purpose
    scale = 1 / 6 ** 0.5
    hidden = rng.normal(scale=scale, size=(6, 2))
    output = rng.normal(scale=scale, size=2)
    return Network.from_weights([hidden, output], activation="sigmoid")


def _demo_preprocessor() -> TabularPreprocessor:
    """A TabularPreprocessor that reproduces ``prepare_admissions``'s features exactly.

    The course standardizes with pandas' ``std`` (ddof=1) over all 400 rows;
    the stored scales are set to match, so ``slopes predict`` on the
    admissions CSV sees the very numbers the demo trained on.
    """
    from .datasets import load_admissions

    data = load_admissions()
    prep = TabularPreprocessor(target="admit", categorical=["rank"], task="classify").fit(data)
    for column in ("gre", "gpa"):
        prep.numeric[column]["scale"] = float(data[column].std())
    return prep


def run_demo(args: argparse.Namespace) -> int:
    from .callbacks import LossMonitor
    from .datasets import load_admissions, prepare_admissions

    out = OutputFiles(args.out)
    out.check()
    epochs = args.epochs or (COURSE_EPOCHS if args.course else DEMO_EPOCHS)
    lr = args.learning_rate or (COURSE_LEARNING_RATE if args.course else DEMO_LEARNING_RATE)
    loss = args.loss or DEMO_LOSS
    split_seed = DEMO_SPLIT_SEED if args.split_seed is None else args.split_seed
    data = prepare_admissions(test_size=0.1, seed=split_seed)
    if args.course and args.seed is None:
        net = _course_network()
        init = "the course's np.random.seed(21) weights (drawn from a private RandomState(21))"
    else:
        seed = DEMO_SEED if args.seed is None else args.seed
        net = Network.mlp([6, 2, 1], activation="sigmoid", output="sigmoid", bias=False,
                          init="normal", seed=seed)
        init = f"normal(0, 1/sqrt(6)) weights, seed {seed}"
    n_train, n_test = len(data.targets), len(data.targets_test)
    print(f"The course's 6-2-1 sigmoid network on the admissions data: {n_train} rows to "
          f"train on, {n_test} held out (split seed {split_seed}).")
    print(f"Inputs: {', '.join(data.feature_names)}. Loss {loss}, learning rate {lr:g}, "
          f"{epochs} epochs of full-batch gradient descent, {init}.")
    history = net.fit(data.features, data.targets, loss=loss, optimizer="sgd",
                      learning_rate=lr, epochs=epochs, shuffle=False,
                      callbacks=[LossMonitor()], verbose=0)
    test_pred = net.predict(data.features_test)[:, 0] > 0.5
    accuracy = float(np.mean(test_pred == data.targets_test))
    base = float(np.mean(data.targets_test == 0))
    overall = float(np.mean(load_admissions()["admit"] == 0))
    train_acc = float(np.mean((net.predict(data.features)[:, 0] > 0.5) == data.targets))
    verdict = "better than" if accuracy > base else "no better than"
    print(f"Prediction accuracy on the {n_test} held-out rows: {accuracy:.3f} "
          f"({int(round(accuracy * n_test))} of {n_test} right), {verdict} always predicting "
          f"'not admitted' ({base:.3f} on these rows, {overall:.3f} on all 400).")
    print(f"Accuracy on the {n_train} training rows: {train_acc:.3f}.")

    y_test = data.targets_test.astype(np.int64)
    metrics = {
        "task": "classify",
        "train": {"loss": history["loss"][-1], "accuracy": train_acc, "rows": n_train},
        "test": {"loss": net.evaluate(data.features_test, data.targets_test, loss=loss),
                 "accuracy": accuracy, "rows": n_test, "majority_class_accuracy": base},
        "base_rate_all_rows": overall,
    }
    training = _training_settings(history, {"command": "demo", "split_seed": split_seed,
                                            "course": bool(args.course), "loss": loss,
                                            "learning_rate": lr})
    out.add("model.safetensors", model_bytes(net, _demo_preprocessor(), training, history))
    out.add("metrics.json", _json(metrics))
    _pictures(out, net, history, data.features_test, y_test, loss,
              "admissions: the first held-out row")
    _print_written(out.commit())
    return 0


# --------------------------------------------------------------------- train
def _parse_hidden(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()] if text.strip() else []
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected layer sizes like 8,8 (or '' for none), got {text!r}") from exc
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be >= 1, got {text!r}")
    return sizes


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from exc
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


def _output_layer(prep: TabularPreprocessor) -> tuple[int, str, str]:
    """(n_outputs, output activation, default loss) for the task."""
    if prep.task == "regress":
        return 1, "identity", "mse"
    if len(prep.classes) == 2:
        return 1, "sigmoid", "binary_crossentropy"
    return len(prep.classes), "softmax", "categorical_crossentropy"


def run_train(args: argparse.Namespace) -> int:
    from .callbacks import EarlyStopping

    out = OutputFiles(args.out)
    out.check()
    data = read_table(args.data)
    columns = [str(c) for c in data.columns]
    if args.target not in columns:
        raise CommandError(f"{args.data}: no column {args.target!r} to predict; the columns "
                           f"are: {', '.join(columns)}")
    task = args.task
    if task is None:
        target = data[args.target]
        task = guess_task(target)
        detail = (f"{target.nunique()} distinct values: "
                  f"{', '.join(map(str, sorted(target.dropna().unique().tolist(), key=str)[:10]))}"
                  if task == "classify" else "numbers with many distinct values")
        print(f"Guessed the task from the target column {args.target!r} ({detail}): "
              f"{'classification' if task == 'classify' else 'regression'}. "
              "Use --task to choose.")
    prep = TabularPreprocessor(target=args.target, categorical=args.categorical or [],
                               task=task, standardize_target=task == "regress",
                               fill_missing=args.fill_missing)
    try:
        X, y = prep.fit_transform(data)
    except ValueError as exc:
        raise _in_file(args.data, exc) from exc
    train_rows, test_rows = _split(len(data), args.test_size, args.seed)
    n_out, output, default_loss = _output_layer(prep)
    loss = args.loss or default_loss
    sizes = [prep.n_features, *args.hidden, n_out]
    init = "he_normal" if args.activation in ("relu", "leaky_relu") else "glorot_uniform"
    net = Network.mlp(sizes, activation=args.activation, output=output, bias=True,
                      init=init, seed=args.seed)
    what = (f"{len(prep.classes)} classes ({', '.join(map(str, prep.classes))})"
            if task == "classify" else f"a number (standardized: mean {prep.target_mean:.4g}, "
                                       f"scale {prep.target_scale:.4g})")
    print(f"Network {'-'.join(map(str, sizes))} ({args.activation} hidden, {output} output), "
          f"loss {loss}, optimizer {args.optimizer}: {len(train_rows)} rows to train on, "
          f"{len(test_rows)} held out; predicting {what}.")
    callbacks = []
    validation_split = args.validation_split
    if args.early_stopping:
        if validation_split == 0:
            validation_split = 0.1
            print("--early-stopping watches val_loss, so 10% of the training rows are "
                  "held out for validation (--validation-split 0.1).")
        callbacks.append(EarlyStopping(monitor="val_loss", patience=args.patience,
                                       restore_best_weights=True))
    history = net.fit(X[train_rows], y[train_rows], loss=loss, optimizer=args.optimizer,
                      learning_rate=args.learning_rate, epochs=args.epochs,
                      batch_size=args.batch_size, validation_split=validation_split,
                      metrics=["accuracy"] if task == "classify" else ["mae"],
                      callbacks=callbacks, seed=args.seed, verbose="auto")
    if len(history.epoch) < args.epochs:
        print(f"Stopped after {len(history.epoch)} of {args.epochs} epochs.")
    measure = (_classification_metrics if task == "classify"
               else lambda n, a, b, lo: _regression_metrics(n, a, b, lo, prep))
    metrics: dict[str, Any] = {"task": task, "train": measure(net, X[train_rows], y[train_rows],
                                                              loss)}
    print(_describe("train", metrics["train"]))
    if len(test_rows):
        metrics["test"] = measure(net, X[test_rows], y[test_rows], loss)
        print(_describe("test", metrics["test"]))
    training = _training_settings(history, {
        "command": "train", "data": str(args.data), "target": args.target, "task": task,
        "hidden": args.hidden, "activation": args.activation, "loss": loss,
        "optimizer": args.optimizer, "learning_rate": args.learning_rate,
        "test_size": args.test_size, "seed": args.seed, "early_stopping": args.early_stopping,
    })
    out.add("model.safetensors", model_bytes(net, prep, training, history))
    out.add("metrics.json", _json(metrics))
    rows = test_rows if len(test_rows) else train_rows
    _pictures(out, net, history, X[rows], y[rows], loss, f"{Path(args.data).name}: row {rows[0]}")
    _print_written(out.commit())
    return 0


# ------------------------------------------------------------------- predict
def _load(path: str) -> SavedModel:
    model = load_model(path)
    if model.preprocessing is None:
        raise CommandError(f"{path}: the model has no stored preprocessing, so it cannot read "
                           "CSV columns; train it with `slopes train` (or `slopes demo`)")
    return model


def run_predict(args: argparse.Namespace) -> int:
    model = _load(args.model)
    if args.out is not None:
        out_path = Path(args.out)
        if out_path.is_dir():
            raise CommandError(f"--out {out_path}: is a directory, expected a file name")
        if not out_path.parent.exists():
            raise CommandError(f"--out {out_path}: the folder {out_path.parent} does not exist")
    data = read_table(args.data)
    prep, net = model.preprocessing, model.network
    try:
        X = prep.transform(data, dtype=net.dtype)
    except ValueError as exc:
        raise _in_file(args.data, exc) from exc
    output = net.predict(X)
    result = data.copy()
    target = prep.target or "target"
    if prep.task == "classify":
        probabilities = _probabilities(output)
        result[f"predicted_{target}"] = [prep.classes[k] for k in probabilities.argmax(axis=1)]
        for k, label in enumerate(prep.classes):
            result[f"probability_{label}"] = probabilities[:, k]
    else:
        result[f"predicted_{target}"] = prep.inverse_target(output[:, 0])
    text = result.to_csv(index=False, float_format="%.6g")
    if args.out is None:
        sys.stdout.write(text)
        return 0
    write_atomic(args.out, text.encode())
    summary = f"Wrote {len(result)} predictions to {args.out}"
    if prep.target in data.columns and prep.task == "classify":
        try:
            actual = prep.transform_target(data[prep.target])
        except ValueError:
            actual = None
        if actual is not None:
            right = np.mean(_probabilities(output).argmax(axis=1) == actual)
            summary += f" (the file has the target {prep.target!r}: accuracy {right:.3f})"
    print(summary + ".")
    return 0


# ------------------------------------------------------------------- explain
def _cell(row: Any, column: str) -> str:
    value = row[column].iloc[0]
    return str(value.item() if hasattr(value, "item") else value)


def run_explain(args: argparse.Namespace) -> int:
    model = _load(args.model)
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
        raise _in_file(args.data, exc) from exc
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
        probabilities = _probabilities(trace.predictions)[0]
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
    from .plot import draw_network, figure_to_png

    out.add("network.png", figure_to_png(draw_network(
        trace, title=f"{Path(args.data).name}: row {args.row}")))
    _print_written(out.commit())
    return 0


# ------------------------------------------------------------------ parsers
def _parser(subparsers: Any, name: str, help_: str, description: str,
            example: str) -> argparse.ArgumentParser:
    return subparsers.add_parser(
        name, help=help_, description=description,
        epilog="example:\n" + example, formatter_class=argparse.RawDescriptionHelpFormatter)


def register(subparsers: Any) -> None:
    """Add the demo, train, predict and explain subcommands to ``slopes``."""
    p = _parser(subparsers, "demo", "train the course's 6-2-1 network on the admissions data",
                "Train the course's 6-2-1 sigmoid network (no bias) on the admissions data "
                "shipped with slopes:\nrank one-hot, gre and gpa standardized, 10% of the rows "
                "held out. Prints the training loss\nat every tenth of the epochs (with the "
                "course's 'WARNING - Loss Increasing') and the test\naccuracy next to the base "
                "rate; writes model.safetensors, metrics.json, loss.png, network.png.\n\n"
                "--course uses the course's exact settings: 900 epochs, learning rate 0.005 and "
                "the\nweights np.random.seed(21) gives (drawn from a private RandomState; slopes "
                "never\ntouches NumPy's global random state). At that learning rate the "
                "network barely moves.",
                "  slopes demo --out slopes-demo\n  slopes demo --course\n"
                "  slopes demo --epochs 300 --learning-rate 2 --seed 3\n")
    p.add_argument("--out", default="slopes-demo", metavar="DIR",
                   help="folder for the output files (default: slopes-demo)")
    p.add_argument("--epochs", type=int, default=None,
                   help=f"passes over the training rows (default {DEMO_EPOCHS}; "
                        f"--course: {COURSE_EPOCHS})")
    p.add_argument("--learning-rate", type=float, default=None,
                   help=f"default {DEMO_LEARNING_RATE:g} (--course: {COURSE_LEARNING_RATE})")
    p.add_argument("--loss", default=None,
                   help=f"default {DEMO_LOSS}, the course's E = 1/(2m) sum (y - y_hat)^2")
    p.add_argument("--seed", type=int, default=None,
                   help=f"seed of the initial weights (default {DEMO_SEED})")
    p.add_argument("--split-seed", type=int, default=None,
                   help=f"seed choosing the 40 held-out rows (default {DEMO_SPLIT_SEED})")
    p.add_argument("--course", action="store_true",
                   help="the course's settings: 900 epochs, learning rate 0.005, seed 21")
    p.set_defaults(func=run_demo)

    p = _parser(subparsers, "train", "train a network on a CSV file",
                "Train a network on any CSV file. Numeric columns are standardized, text "
                "columns\n(and --categorical ones) one-hot encoded; the target is a class "
                "(classification)\nor a number (regression), guessed unless --task is given. "
                "Writes model.safetensors,\nmetrics.json, loss.png and network.png to --out.",
                "  slopes train admissions.csv --target admit --categorical rank --out model\n"
                "  slopes train houses.csv --target price --task regress --hidden 16,16 "
                "--epochs 300\n")
    p.add_argument("data", metavar="DATA.csv", help="CSV file with a header line")
    p.add_argument("--target", required=True, metavar="COL", help="the column to predict")
    p.add_argument("--task", choices=["classify", "regress"], default=None,
                   help="default: guessed from the target column")
    p.add_argument("--hidden", type=_parse_hidden, default=[8, 8], metavar="SIZES",
                   help="hidden layer sizes, comma-separated (default 8,8)")
    p.add_argument("--activation", default="relu",
                   help="hidden layers' activation (default relu)")
    p.add_argument("--loss", default=None, help="default: binary_crossentropy (2 classes), "
                   "categorical_crossentropy (more), mse (regression)")
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="adam")
    p.add_argument("--learning-rate", type=float, default=0.01, help="default 0.01")
    p.add_argument("--epochs", type=int, default=200, help="default 200")
    p.add_argument("--batch-size", type=int, default=32, help="default 32")
    p.add_argument("--test-size", type=_fraction, default=0.1,
                   help="fraction of rows held out for testing (default 0.1)")
    p.add_argument("--validation-split", type=_fraction, default=0.0,
                   help="fraction of the training rows used for val_loss (default 0)")
    p.add_argument("--early-stopping", action="store_true",
                   help="stop when val_loss stops improving and keep the best weights")
    p.add_argument("--patience", type=int, default=10,
                   help="epochs without improvement before early stopping (default 10)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the split, the initial weights and shuffling (default 0)")
    p.add_argument("--categorical", type=lambda s: [c.strip() for c in s.split(",")
                                                    if c.strip()],
                   default=None, metavar="COL,...",
                   help="numeric columns to one-hot encode, like rank")
    p.add_argument("--fill-missing", action="store_true",
                   help="fill missing values (numbers: the column mean; text: a "
                        "'(missing)' category) instead of stopping")
    p.add_argument("--out", default="slopes-model", metavar="DIR",
                   help="folder for the output files (default: slopes-model)")
    p.set_defaults(func=run_train)

    p = _parser(subparsers, "predict", "predict with a saved model",
                "Apply a model saved by `slopes train` or `slopes demo` to the rows of a CSV "
                "file. The file\nneeds the columns the model was trained on (the target column "
                "may be there or not).\nWrites the rows with predicted_<target> and, for "
                "classification, probability_<class>\nfor each class.",
                "  slopes predict slopes-model/model.safetensors new.csv --out predictions.csv\n")
    p.add_argument("model", metavar="MODEL", help="a model.safetensors file")
    p.add_argument("data", metavar="DATA.csv")
    p.add_argument("--out", default=None, metavar="FILE",
                   help="CSV file to write (default: print to stdout)")
    p.set_defaults(func=run_predict)

    p = _parser(subparsers, "explain", "show every value and slope for one row",
                "Trace one row through a saved model and print, for every weight, its value, "
                "the three\nfactors of its slope and the update gradient descent would make. "
                "The row's target must\nbe in the file. Writes network.png with the values "
                "and slopes.\n" + ROWS_NOTE,
                "  slopes explain slopes-demo/model.safetensors admissions.csv --row 0\n")
    p.add_argument("model", metavar="MODEL", help="a model.safetensors file")
    p.add_argument("data", metavar="DATA.csv")
    p.add_argument("--row", type=int, required=True, metavar="N",
                   help="the row to explain (0 is the first data row)")
    p.add_argument("--out", default="slopes-explain", metavar="DIR",
                   help="folder for network.png (default: slopes-explain)")
    p.set_defaults(func=run_explain)
