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
from ..errors import CommandError
from ..io import model_bytes
from ..preprocessing import TabularPreprocessor
from .memory import decide
from .options import MODEL_FILE
from .outputs import (
    OutputFiles,
    OutputGuard,
    print_written,
    to_json,
    training_settings,
)
from .pictures import HardestRow, pictures
from .report import (
    baselines,
    classification_scores,
    describe,
    describe_baselines,
    describe_classes,
    describe_residuals,
    regression_scores,
    report_training,
    weighted_loss,
)
from .tables import read_table
from .train_cv import run_cv
from .train_distributed import (
    check_distributed_options,
    distributed_requested,
    run_train_distributed,
)
from .train_setup import (
    CLASSIFY_LOSSES,
    DEFAULT_BATCH_SIZE,
    L2_AGAIN,
    REGRESS_LOSSES,
    TRAIN_OUTPUTS,
    build_network,
    check_loss,
    choose_l2,
    class_keys,
    early_stopping_and_validation,
    fit_options,
    held_out,
    l2_candidates,
    part_weights,
    read_task,
    regularization_settings,
    row_weights,
    select_columns,
    split_rows,
)
from .train_stream import run_train_stream, stream_reason

__all__ = ["run_train", "check_train_options", "split_rows", "cv_folds"]


# --------------------------------------------------------------------- checks
def cv_folds(text: str) -> int:
    """``--cv K``: an integer >= 2 (one fold would hold out nothing to score on)."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected a number of folds, an integer >= 2, got {text!r}") from exc
    if value < 2:
        raise argparse.ArgumentTypeError(
            f"expected a number of folds, an integer >= 2, got {text!r}: cross-validation "
            "holds out each of K parts in turn, so K must be at least 2")
    return value


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
    weight = getattr(args, "sample_weight", None)
    if weight is not None and weight == args.target:
        parser.error(f"--sample-weight names the target {args.target!r}; the weights must be "
                     "another column")
    if weight is not None and args.features and weight in args.features:
        parser.error(f"--features lists the --sample-weight column {weight!r}; a row weight "
                     "is not an input, so list only the columns to learn from")
    if getattr(args, "stream", False) and getattr(args, "no_stream", False):
        parser.error("--stream reads the file in chunks and --no-stream reads it whole; give "
                     "one of them, or neither to let slopes decide from the memory available")
    if getattr(args, "no_stream", False):
        if Path(args.data).suffix.lower() == ".parquet":
            parser.error(f"--no-stream reads a CSV file whole, but {args.data} is a Parquet "
                         "file, which is always streamed; leave out --no-stream")
        if getattr(args, "chunk_rows", None) is not None:
            parser.error(f"--chunk-rows {args.chunk_rows} is for streaming, but --no-stream "
                         "reads the file whole; leave out one of them")
    cv = getattr(args, "cv", None)
    if cv and getattr(args, "stream", False):
        parser.error(f"--cv {cv} needs every row in memory (each fold trains on the others), "
                     "but --stream reads the file in chunks; leave out one of them")
    if cv and args.save_interrupted:
        parser.error(f"--cv {cv} saves no model (it scores the settings), so "
                     "--save-interrupted has nothing to save; leave it out")
    check_distributed_options(args, parser)  # --workers/--scheduler: what a cluster refuses
    if getattr(args, "batch_size", 32) is None and not distributed_requested(args):
        args.batch_size = DEFAULT_BATCH_SIZE  # a cluster chooses its own (train_distributed)
    if getattr(args, "chunk_rows", None) is not None and not getattr(args, "stream", False) \
            and not distributed_requested(args):
        # A size is no request to stream: streaming splits and scores otherwise (a hash
        # split, no regression baseline), so it is asked for by name. Files that
        # stream by themselves (Parquet, or more than memory) take --chunk-rows alone.
        if stream_reason(args) is None:
            parser.error(f"--chunk-rows {args.chunk_rows} is for streaming, but {args.data} "
                         "is read whole; add --stream to read it in chunks, or leave out "
                         "--chunk-rows")


# ---------------------------------------------------------------------- train
def run_train(args: argparse.Namespace) -> int:
    """``slopes train``: see the module's notes (``--cv K``: :func:`.train_cv.run_cv`)."""
    if distributed_requested(args):  # --workers N or --scheduler ADDRESS: a Dask cluster
        return run_train_distributed(args)
    decision = decide(args)
    if decision.stream:  # bigger than memory, or asked: read it chunk by chunk
        _refuse_streamed(args, decision.reason)
        return run_train_stream(args, decision.reason)
    if Path(args.data).is_file():  # else read_table says what is wrong with the path
        print(f"Reading {Path(args.data).name} whole ({decision.reason}); --stream reads it "
              "in chunks.")
    try:
        return run_cv(args) if getattr(args, "cv", None) else _run_in_memory(args)
    except MemoryError as exc:
        # Raised by NumPy, pandas or Python alike; the frames holding the rows are gone.
        raise CommandError(
            f"{args.data}: ran out of memory reading and training on the file whole "
            f"({decision.reason}); use --stream to read it in chunks of --chunk-rows "
            "rows, which keeps memory flat whatever the file's size") from exc


def _run_in_memory(args: argparse.Namespace) -> int:
    out = OutputFiles(args.out, TRAIN_OUTPUTS,
                      OutputGuard({"the data file": args.data}, overwrite=args.overwrite))
    out.check()
    table = read_table(args.data)
    data = select_columns(table, args)
    weights = row_weights(table, args)
    del table  # select_columns made a copy of the columns kept
    task = read_task(data, args)

    # 1. Split first: test rows, then validation rows from the training rows.
    groups = class_keys(data[args.target]) if task == "classify" else None
    train_pos, test_pos = split_rows(len(data), args.test_size, args.seed, groups)
    val_groups = None if groups is None else groups[train_pos]
    fit_sub, val_sub = split_rows(len(train_pos), args.validation_split, args.seed + 1,
                                  val_groups)
    fit_rows = data.iloc[train_pos[fit_sub]]
    val_rows, test_rows = data.iloc[train_pos[val_sub]], data.iloc[test_pos]
    del data, groups, val_groups  # the parts are copies: the whole table is not needed again

    # 2. Learn the preprocessing from the training rows only.
    prep = TabularPreprocessor(target=args.target, categorical=args.categorical or [],
                               task=task, standardize_target=task == "regress",
                               fill_missing=args.fill_missing)
    try:
        X, y = prep.fit_transform(fit_rows)
    except ValueError as exc:
        raise CommandError(f"{args.data}: {exc}") from exc
    w = part_weights(weights, fit_rows, "training")
    fit_index = fit_rows.index  # the rows' numbers (residuals, the picture); X holds the rest
    del fit_rows
    n_classes = len(prep.classes) if task == "classify" else 0
    loss = check_loss(args.loss, task, n_classes, args.target)
    try:
        X_val, y_val, val_rows = held_out(prep, val_rows, "validation", X.dtype)
        X_test, y_test, test_rows = held_out(prep, test_rows, "test", X.dtype)
    except ValueError as exc:
        raise CommandError(f"{args.data}: {exc}") from exc
    w_val = part_weights(weights, val_rows, "validation")
    w_test = part_weights(weights, test_rows, "test")

    candidates = l2_candidates(args, task, len(y_val) > 0)
    args.l2 = candidates[0]
    net = build_network(prep, task, loss, args, args.seed)
    print(f"{len(y)} rows to train on, {len(y_val)} for validation, {len(y_test)} held out "
          f"for testing (seed {args.seed}); the preprocessing was learned from the "
          f"{len(y)} training rows only.")
    if weights is not None:
        print(f"Rows weighted by the column {args.sample_weight!r} in the loss (training, "
              "validation, early stopping) and in the scores below; the preprocessing and "
              "the confusion matrix count rows unweighted.")

    # 3. Train, stopping early on the validation loss.
    early, validation = early_stopping_and_validation(args, X_val, y_val, w_val)
    tried: list[tuple[float, float, Any, Any, Any, Any]] = []
    for l2 in candidates:
        if tried:
            print(L2_AGAIN.format(l2=l2))
            args.l2 = l2
            net = build_network(prep, task, loss, args, args.seed, quiet=True)
        stopper = (callbacks.EarlyStopping(monitor="val_loss", patience=args.patience,
                                           restore_best_weights=True) if early else None)
        snapshots = callbacks.file_snapshots(net)  # for the slider of `slopes explain --html`
        schedule = getattr(args, "schedule", None)  # a callback: each epoch's learning rate
        history = net.fit(X, y, loss=loss, optimizer=args.optimizer,
                          learning_rate=args.learning_rate, epochs=args.epochs,
                          batch_size=args.batch_size, validation_data=validation,
                          metrics=["accuracy"] if task == "classify" else ["mae"],
                          callbacks=[c for c in (schedule, stopper, snapshots) if c],
                          seed=args.seed, verbose="auto", sample_weight=w, **fit_options(args))
        code = report_training(history, stopper, args.epochs, args.save_interrupted)
        if code is not None:
            return code
        val_loss = (weighted_loss(net, X_val, y_val, loss, w_val) if len(y_val)
                    else float("nan"))
        tried.append((val_loss, l2, net, stopper, snapshots, history))
        if history.interrupted:
            break
    _, args.l2, net, stopper, snapshots, history = choose_l2(tried)

    # 4. Scores next to baselines fitted on the same training rows.
    def scores(X_: np.ndarray, y_: np.ndarray, w_: np.ndarray | None,
               index: Any) -> dict[str, Any]:
        if task == "classify":
            return classification_scores(net, X_, y_.astype(np.int64), loss, prep.classes, w_)
        return regression_scores(net, X_, y_, loss, prep, w_, list(index))

    metrics: dict[str, Any] = {"task": task, "train": scores(X, y, w, fit_index)}
    if weights is not None:
        metrics["sample_weight"] = args.sample_weight
    print(describe("train", metrics["train"]))
    if len(y_val):
        metrics["validation"] = scores(X_val, y_val, w_val, val_rows.index)
        print(describe("valid", metrics["validation"]))
    if len(y_test):
        metrics["test"] = scores(X_test, y_test, w_test, test_rows.index)
        print(describe("test", metrics["test"]))
        fitted = y.astype(np.int64) if task == "classify" else y
        held = y_test.astype(np.int64) if task == "classify" else y_test
        metrics["baselines"] = baselines(task, X, fitted, X_test, held, prep, seed=args.seed,
                                         w_train=w, w_test=w_test)
        print(describe_baselines(metrics["baselines"]))
    reported, what = ((metrics["test"], "test rows") if len(y_test)
                      else (metrics["train"], "training rows"))
    print(describe_classes(reported, what) if task == "classify"
          else describe_residuals(reported["residuals"], what, args.target))
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
        "sample_weight": getattr(args, "sample_weight", None),
    })
    out.add(MODEL_FILE, model_bytes(net, prep, training, history, snapshots))
    out.add("metrics.json", to_json(metrics))
    # network.png traces the held-out row with the largest loss (or else the training row).
    hardest = HardestRow(net, loss, "held-out" if len(y_test) else "training")
    hardest.add(*((X_test, y_test, test_rows.index) if len(y_test) else (X, y, fit_index)))
    pictures(out, net, history, loss, hardest.best, prep, Path(args.data).name,
             explain=(args.out, args.data),
             best_epoch=None if stopper is None else stopper.best_epoch,
             no_held_out="--test-size 0" if args.test_size == 0 else
             "every held-out row holds a value the training rows never had")
    print_written(out.commit())
    return 0


def _refuse_streamed(args: argparse.Namespace, reason: str) -> None:
    """The options the streamed path cannot follow: a clear error instead of a silent skip."""
    if getattr(args, "cv", None):
        raise CommandError(f"--cv {args.cv} needs every row in memory (each fold trains on "
                           f"the others), but {args.data} is streamed ({reason}); "
                           "cross-validate a sample of the rows that fits in memory")
    if getattr(args, "sample_weight", None) is not None:
        raise CommandError(f"--sample-weight is not supported when streaming ({reason}): the "
                           "streamed path reads no weight column yet; train in memory "
                           "(--no-stream) or repeat rows to weight them")
