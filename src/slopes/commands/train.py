"""``slopes train``: a network for any CSV file, scored honestly.

The order of the steps is what makes the scores trustworthy:

1. the rows are split first: held-out test rows, then validation rows taken
   from the training rows (both seeded, and stratified by class for
   classification, so every class has training rows);
2. the preprocessing (means, scales, categories, classes, the means that
   ``--fill-missing`` fills in, the target's scale) is learned from the
   training rows only, so nothing about the held-out rows leaks into the
   model; a held-out row with a category the training rows never had is
   left out of its score, and said so;
3. training stops early when the validation loss stops improving, and the
   weights of the best epoch are kept;
4. the test score is printed next to baselines fitted on the same training
   rows.

Nothing is written until everything worked; Ctrl-C writes nothing unless
``--save-interrupted`` is given; an existing model is not replaced without
``--overwrite``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from .. import callbacks  # looked up when a run starts, as the callbacks are made
from ..columns import category_key, check_mostly_numeric, guess_task, id_like_columns
from ..errors import CommandError
from ..io import model_bytes
from ..preprocessing import TabularPreprocessor
from .options import MODEL_FILE
from .outputs import (
    OutputFiles,
    OutputGuard,
    pictures,
    print_written,
    some_rows,
    to_json,
    training_settings,
    warn,
)
from .report import (
    baselines,
    classification_scores,
    describe,
    describe_baselines,
    regression_scores,
    report_training,
)
from .tables import read_table
from .train_distributed import (
    check_distributed_options,
    distributed_requested,
    run_train_distributed,
)
from .train_setup import (
    CLASSIFY_LOSSES,
    REGRESS_LOSSES,
    TRAIN_OUTPUTS,
    build_network,
    check_loss,
    fit_options,
    regularization_settings,
    select_columns,
)
from .train_stream import run_train_stream, stream_reason

__all__ = ["run_train", "check_train_options", "split_rows"]


# --------------------------------------------------------------------- checks
def check_train_options(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Checks across options, made before any data is read (``parser.error`` exits 2)."""
    if args.early_stopping and args.validation_split == 0:
        parser.error("--early-stopping watches the validation loss, but --validation-split 0 "
                     "leaves no validation rows; give --validation-split > 0 or "
                     "--no-early-stopping")
    if args.loss is not None and args.task is not None:
        allowed = CLASSIFY_LOSSES if args.task == "classify" else REGRESS_LOSSES
        if args.loss not in allowed:
            parser.error(f"--loss {args.loss} does not fit --task {args.task}; choose from "
                         f"{', '.join(allowed)}")
    schedule = getattr(args, "schedule", None)
    monitor = getattr(schedule, "monitor", None)
    if isinstance(monitor, str) and monitor.startswith("val_") and args.validation_split == 0:
        parser.error(f"--schedule plateau watches {monitor}, but --validation-split 0 leaves "
                     "no validation rows; give --validation-split > 0 or a plateau schedule "
                     "on the training loss (plateau:FACTOR,PATIENCE,loss)")
    if args.features and args.target in args.features:
        parser.error(f"--features lists the target {args.target!r}; list only the columns "
                     "to learn from")
    if args.drop and args.target in args.drop:
        parser.error(f"--drop lists the target {args.target!r}; it cannot be dropped")
    check_distributed_options(args, parser)  # --workers/--scheduler: what a cluster refuses
    if getattr(args, "chunk_rows", None) is not None and not getattr(args, "stream", False) \
            and not distributed_requested(args):
        # A size is no request to stream: streaming splits and scores otherwise (a hash
        # split, no regression baseline), so it is asked for by name. Files that
        # stream by themselves (Parquet, over 1 GB) take --chunk-rows alone.
        if stream_reason(args) is None:
            parser.error(f"--chunk-rows {args.chunk_rows} is for streaming, but {args.data} "
                         "is read whole; add --stream to read it in chunks, or leave out "
                         "--chunk-rows")


def _check_target(data: Any, args: argparse.Namespace) -> None:
    missing = data[args.target].isna()
    if missing.any():
        rows = list(data.index[missing])
        shown = ", ".join(map(str, rows[:5])) + (f" and {len(rows) - 5} more"
                                                 if len(rows) > 5 else "")
        raise CommandError(f"{args.data}: the target column {args.target!r} is empty in "
                           f"{len(rows)} row(s) (rows {shown}); drop those rows first")


# ---------------------------------------------------------------------- split
def split_rows(n: int, fraction: float, seed: int, groups: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Row positions ``(kept, taken)``, ``taken`` about ``fraction`` of the ``n`` rows.

    With ``groups`` (the class of each row) the split is stratified: each
    class gives ``round(fraction * its rows)`` rows, but always keeps at least
    one, so every class has training rows. Seeded; both parts sorted.
    """
    rng = np.random.default_rng(seed)
    if fraction == 0:
        return np.arange(n), np.arange(0)
    if groups is None:
        order = rng.permutation(n)
        n_taken = min(max(int(round(n * fraction)), 1), n - 1)
        return np.sort(order[n_taken:]), np.sort(order[:n_taken])
    taken = []
    for label in sorted(set(groups.tolist()), key=str):
        rows = rng.permutation(np.flatnonzero(groups == label))
        taken.extend(rows[:min(int(round(len(rows) * fraction)), len(rows) - 1)])
    if not taken:
        # Too few rows per class to stratify: take one row of the largest class.
        values, counts = np.unique(groups, return_counts=True)
        rows = np.flatnonzero(groups == values[counts.argmax()])
        if len(rows) > 1:
            taken = [rng.choice(rows)]
    taken_arr = np.sort(np.asarray(taken, dtype=np.int64))
    return np.setdiff1d(np.arange(n), taken_arr), taken_arr


def _class_keys(target: Any) -> np.ndarray:
    return target.map(category_key).to_numpy(str)


def _held_out(prep: TabularPreprocessor, rows: Any, name: str,
              dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, Any]:
    """``(X, y, rows kept)`` for held-out rows, leaving out those with never-seen values."""
    unseen = prep.unseen(rows)
    if unseen:
        warn(f"{len(unseen)} {name} row(s) hold values the training rows never had, so they "
              f"are left out of the {name} score ({some_rows(unseen)})")
        rows = rows.drop(index=list(unseen))
    if len(rows) == 0:
        return np.zeros((0, prep.n_features), dtype), np.zeros(0), rows
    X = prep.transform(rows, dtype=dtype)
    y = prep.transform_target(rows[prep.target], dtype=dtype)
    far = prep.far_out(rows, X)
    if far:
        warn(f"{len(far)} {name} row(s) lie far outside the training rows' range, so their "
              f"predictions are extrapolations that weigh on the {name} score "
              f"({some_rows(far)})")
    return X, y, rows


# ---------------------------------------------------------------------- train
def run_train(args: argparse.Namespace) -> int:
    if distributed_requested(args):  # --workers N or --scheduler ADDRESS: a Dask cluster
        return run_train_distributed(args)
    reason = stream_reason(args)
    if reason is not None:  # bigger than memory, or asked: read it chunk by chunk
        return run_train_stream(args, reason)
    out = OutputFiles(args.out, TRAIN_OUTPUTS,
                      OutputGuard({"the data file": args.data}, overwrite=args.overwrite))
    out.check()
    data = select_columns(read_table(args.data), args)
    _check_target(data, args)
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
    features = [c for c in data.columns if c != args.target]
    try:
        # Stray text in a numeric column is a fault of the file, so look at every row.
        check_mostly_numeric(data, [c for c in features if c not in (args.categorical or [])])
    except ValueError as exc:
        raise CommandError(f"{args.data}: {exc}") from exc
    for name in id_like_columns(data, features):
        warn(f"column {name!r} has a different value in every row, like an ID; it cannot "
              f"help predict new rows and lets the network memorize these; leave it out "
              f"with --drop {name}")

    # 1. Split first: test rows, then validation rows from the training rows.
    groups = _class_keys(data[args.target]) if task == "classify" else None
    train_pos, test_pos = split_rows(len(data), args.test_size, args.seed, groups)
    val_groups = None if groups is None else groups[train_pos]
    fit_sub, val_sub = split_rows(len(train_pos), args.validation_split, args.seed + 1,
                                  val_groups)
    fit_rows = data.iloc[train_pos[fit_sub]]
    val_rows, test_rows = data.iloc[train_pos[val_sub]], data.iloc[test_pos]

    # 2. Learn the preprocessing from the training rows only.
    prep = TabularPreprocessor(target=args.target, categorical=args.categorical or [],
                               task=task, standardize_target=task == "regress",
                               fill_missing=args.fill_missing)
    try:
        X, y = prep.fit_transform(fit_rows)
    except ValueError as exc:
        raise CommandError(f"{args.data}: {exc}") from exc
    n_classes = len(prep.classes) if task == "classify" else 0
    loss = check_loss(args.loss, task, n_classes, args.target)
    try:
        X_val, y_val, val_rows = _held_out(prep, val_rows, "validation", X.dtype)
        X_test, y_test, test_rows = _held_out(prep, test_rows, "test", X.dtype)
    except ValueError as exc:
        raise CommandError(f"{args.data}: {exc}") from exc

    net = build_network(prep, task, loss, args, args.seed)
    print(f"{len(y)} rows to train on, {len(y_val)} for validation, {len(y_test)} held out "
          f"for testing (seed {args.seed}); the preprocessing was learned from the "
          f"{len(y)} training rows only.")

    # 3. Train, stopping early on the validation loss.
    early = args.early_stopping if args.early_stopping is not None else len(y_val) > 0
    if early and len(y_val) == 0:
        raise CommandError("--early-stopping needs validation rows, but none are left; "
                           "raise --validation-split or use --no-early-stopping")
    stopper = (callbacks.EarlyStopping(monitor="val_loss", patience=args.patience,
                                       restore_best_weights=True) if early else None)
    snapshots = callbacks.file_snapshots(net)  # for the epoch slider of `slopes explain --html`
    schedule = getattr(args, "schedule", None)  # a callback: sets each epoch's learning rate
    history = net.fit(X, y, loss=loss, optimizer=args.optimizer,
                      learning_rate=args.learning_rate, epochs=args.epochs,
                      batch_size=args.batch_size,
                      validation_data=(X_val, y_val) if len(y_val) else None,
                      metrics=["accuracy"] if task == "classify" else ["mae"],
                      callbacks=[c for c in (schedule, stopper, snapshots) if c],
                      seed=args.seed, verbose="auto", **fit_options(args))
    code = report_training(history, stopper, args.epochs, args.save_interrupted)
    if code is not None:
        return code

    # 4. Scores next to baselines fitted on the same training rows.
    def scores(X_: np.ndarray, y_: np.ndarray) -> dict[str, Any]:
        if task == "classify":
            return classification_scores(net, X_, y_.astype(np.int64), loss)
        return regression_scores(net, X_, y_, loss, prep)

    metrics: dict[str, Any] = {"task": task, "train": scores(X, y)}
    print(describe("train", metrics["train"]))
    if len(y_val):
        metrics["validation"] = scores(X_val, y_val)
        print(describe("valid", metrics["validation"]))
    if len(y_test):
        metrics["test"] = scores(X_test, y_test)
        print(describe("test", metrics["test"]))
        fitted = y.astype(np.int64) if task == "classify" else y
        held = y_test.astype(np.int64) if task == "classify" else y_test
        metrics["baselines"] = baselines(task, X, fitted, X_test, held, prep, seed=args.seed)
        print(describe_baselines(metrics["baselines"]))
    training = training_settings(history, {
        "command": "train", "data": str(args.data), "target": args.target, "task": task,
        "hidden": args.hidden, "activation": args.activation, "loss": loss,
        "optimizer": args.optimizer, "learning_rate": args.learning_rate,
        "test_size": args.test_size, "validation_split": args.validation_split,
        **regularization_settings(args),
        "seed": args.seed, "early_stopping": early, "patience": args.patience,
        "best_epoch": None if stopper is None else stopper.best_epoch,
        "interrupted": history.interrupted,
        "rows": {"train": len(y), "validation": len(y_val), "test": len(y_test)},
    })
    out.add(MODEL_FILE, model_bytes(net, prep, training, history, snapshots))
    out.add("metrics.json", to_json(metrics))
    shown_X, shown_y, rows = ((X_test, y_test, test_rows) if len(y_test) else (X, y, fit_rows))
    pictures(out, net, history, shown_X, shown_y, loss,
             f"{Path(args.data).name}: row {rows.index[0]}")
    print_written(out.commit())
    return 0
