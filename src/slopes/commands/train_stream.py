"""``slopes train --stream``: train on a CSV (or Parquet) file without loading it whole.

The file is read in chunks of ``--chunk-rows`` rows (pandas
``read_csv(chunksize=...)``; pyarrow's ``ParquetFile.iter_batches`` for
``.parquet``), never all at once, so memory stays flat whatever the file's
size. It follows the steps of the in-memory ``slopes train``:

1. every row is put in the test, validation or training part by a seeded
   hash of its row number (:func:`.chunks.row_hash`): deterministic for a given
   ``--seed``, about ``--test-size`` of the rows held out for testing and
   ``--validation-split`` of the others for validation, with no list of rows
   kept in memory;
2. one pass over the file (:mod:`.stream_prep`) learns the preprocessing (means, scales,
   categories, classes, the target's scale) from the training rows only,
   and checks every row as the in-memory path does (missing values, stray
   text in numeric columns, infinities), stopping with one line naming the
   column, row and value; the result is the same
   :class:`~slopes.preprocessing.TabularPreprocessor`, stored the same way,
   so ``slopes predict`` reads the model like any other;
3. each epoch is one more pass: the training rows of each chunk are
   shuffled (within the chunk), cut into batches and trained on
   (:func:`slopes.streaming.fit_stream`). The validation rows are kept in
   memory from the first pass (at most :data:`VALIDATION_BYTES` of them;
   beyond that the rest of their hash band trains instead), so early
   stopping works as in memory;
4. a last pass scores the training and test rows, next to the most common
   training class (or the training mean). The logistic (linear) regression
   baseline of the in-memory path needs the rows in memory and is left out.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .. import callbacks  # looked up when a run starts, as the callbacks are made
from .._optional import require
from ..columns import category_key, category_sort_key
from ..errors import CommandError
from ..io import model_bytes
from ..network import Network
from ..preprocessing import TabularPreprocessor
from .chunks import ChunkReader, split_masks
from .memory import FALLBACK_THRESHOLD_BYTES, decide
from .options import MODEL_FILE
from .outputs import (
    OutputFiles,
    OutputGuard,
    print_written,
    some_rows,
    to_json,
    training_settings,
    warn,
)
from .pictures import HardestRow, pictures
from .report import (
    class_probabilities,
    class_report,
    confusion_matrix,
    describe,
    describe_classes,
    describe_residuals,
    report_training,
    residual_summary,
)
from .stream_prep import Moments, learn_preprocessing, preprocessor
from .tables import read_ahead
from .train_setup import (
    TRAIN_OUTPUTS,
    build_network,
    check_loss,
    fit_options,
    regularization_settings,
    select_columns,
)

__all__ = ["run_train_stream", "stream_reason", "STREAM_THRESHOLD_BYTES", "DEFAULT_CHUNK_ROWS",
           "VALIDATION_BYTES", "READ_AHEAD_MIN_BATCH", "read_ahead_depth"]

#: Files over this size (1 GB) stream when the memory a run needs cannot be estimated.
STREAM_THRESHOLD_BYTES = FALLBACK_THRESHOLD_BYTES
#: Rows per chunk read from the file (``--chunk-rows``).
DEFAULT_CHUNK_ROWS = 100_000
#: The most test residuals kept for their quantiles (8 MB); past it, mean, std, min, max.
RESIDUALS_KEPT = 1_000_000
#: The most memory the validation rows, preprocessed, may take (64 MiB).
VALIDATION_BYTES = 64 * 2**20
#: The smallest batch for which a thread reads the next chunk while this one trains.
#: Measured (benchmarks/read_ahead.py, 2 cores): with batches of 32 rows the thread made
#: an epoch 7-8 % slower (training steps are many short Python calls, and the thread's
#: own Python work takes the interpreter's lock from them); with 512 rows, where a step
#: is mostly NumPy work that releases the lock, 0.98-1.11 times as fast.
READ_AHEAD_MIN_BATCH = 256


def read_ahead_depth(batch_size: int) -> int | None:
    """How many chunks the streamed epoch reads ahead for batches of ``batch_size`` rows.

    None (:func:`.tables.read_ahead`'s default, :data:`.tables.READ_AHEAD_CHUNKS`)
    from :data:`READ_AHEAD_MIN_BATCH` rows a batch, else 0 (no thread).
    """
    return None if batch_size >= READ_AHEAD_MIN_BATCH else 0


def stream_reason(args: argparse.Namespace) -> str | None:
    """Why ``slopes train`` should stream ``args.data``, or None to load it whole.

    The memory the run needs against the memory available (:func:`.memory.decide`).
    """
    decision = decide(args)
    return decision.reason if decision.stream else None


# ---------------------------------------------------------------------- scores
class _Scores:
    """Loss, accuracy or mse/mae/r2 of rows seen chunk by chunk; with ``classes``, the
    confusion matrix; for regression, the residuals (their quantiles while at most
    :data:`RESIDUALS_KEPT` of them are kept)."""

    def __init__(self, task: str, loss: str, classes: Any = None) -> None:
        self.task, self.loss = task, loss
        self.classes = classes
        self.confusion = (None if classes is None
                          else np.zeros((len(classes), len(classes)), np.int64))
        self.residuals: list[np.ndarray] | None = []
        self.residual_rows: list[Any] = []
        self.residual_moments = Moments()
        self.residual_range = [np.inf, -np.inf, -1.0, None]  # min, max, max |r|, its row
        self.rows = 0
        self.loss_total = 0.0
        self.right = 0
        self.sq = self.abs = 0.0
        self.actual = Moments()
        self.majority_right = 0
        self.mean_sq = 0.0

    def add(self, net: Network, X: np.ndarray, y: np.ndarray, prep: TabularPreprocessor,
            majority: int | None = None, train_mean: float | None = None,
            rows: Any = None) -> None:
        n = len(y)
        if n == 0:
            return
        batch_loss = net.evaluate(X, y, loss=self.loss)
        self.loss_total += batch_loss if self.loss == "sse" else batch_loss * n
        self.rows += n
        output = net.predict(X)
        if self.task == "classify":
            labels = y.astype(np.int64)
            guessed = class_probabilities(output).argmax(axis=1)
            self.right += int(np.sum(guessed == labels))
            if self.confusion is not None:
                self.confusion += confusion_matrix(labels, guessed, len(self.classes))
            if majority is not None:
                self.majority_right += int(np.sum(labels == majority))
        else:
            predicted = prep.inverse_target(output[:, 0])
            actual = prep.inverse_target(y)
            self.sq += float(np.sum((predicted - actual) ** 2))
            self.abs += float(np.sum(np.abs(predicted - actual)))
            self.actual.add(actual)
            self._add_residuals(actual - predicted, rows)
            if train_mean is not None:
                self.mean_sq += float(np.sum((actual - train_mean) ** 2))

    def _add_residuals(self, r: np.ndarray, rows: Any) -> None:
        rows = list(rows) if rows is not None else list(range(self.rows - len(r), self.rows))
        self.residual_moments.add(r)
        low, high, worst, _ = self.residual_range
        at = int(np.argmax(np.abs(r)))
        self.residual_range[:2] = [min(low, float(r.min())), max(high, float(r.max()))]
        if abs(r[at]) > worst:
            self.residual_range[2:] = [float(abs(r[at])), rows[at]]
        if self.residuals is not None:
            self.residuals.append(r)
            self.residual_rows.extend(rows)
            if len(self.residual_rows) > RESIDUALS_KEPT:
                self.residuals, self.residual_rows = None, []

    def result(self) -> dict[str, Any]:
        loss = self.loss_total if self.loss == "sse" else self.loss_total / self.rows
        if self.task == "classify":
            found = {"loss": loss, "accuracy": self.right / self.rows, "rows": self.rows}
            if self.confusion is not None:
                found.update(class_report(self.confusion, self.classes))
            return found
        spread = self.actual.m2
        found = {"loss": loss, "mse": self.sq / self.rows, "mae": self.abs / self.rows,
                 "r2": 1 - self.sq / spread if spread > 0 else float("nan"), "rows": self.rows}
        if self.residuals is not None:
            r = np.concatenate(self.residuals)
            found["residuals"] = residual_summary(r, np.zeros_like(r), self.residual_rows)
        else:
            m = self.residual_moments
            low, high, worst, row = self.residual_range
            found["residuals"] = {
                "what": "actual - predicted", "rows": m.n, "mean": m.mean, "std": m.std,
                "min": low, "max": high, "max_abs": worst, "max_abs_row": row,
                "quantiles": f"left out: over {RESIDUALS_KEPT:,} rows, and quantiles need "
                             "every residual in memory"}
        return found

    def baseline(self) -> dict[str, dict[str, float]]:
        if self.task == "classify":
            return {"majority_class": {"accuracy": self.majority_right / self.rows}}
        spread = self.actual.m2
        return {"training_mean": {"mse": self.mean_sq / self.rows,
                                  "r2": 1 - self.mean_sq / spread if spread > 0
                                  else float("nan")}}


# ---------------------------------------------------------------------- train
def run_train_stream(args: argparse.Namespace, reason: str) -> int:
    """``slopes train`` reading ``args.data`` chunk by chunk; see the module's notes."""
    pd = require("pandas", "reading CSV files")
    out = OutputFiles(args.out, TRAIN_OUTPUTS,
                      OutputGuard({"the data file": args.data}, overwrite=args.overwrite))
    out.check()
    chunk_rows = getattr(args, "chunk_rows", None) or DEFAULT_CHUNK_ROWS
    reader = ChunkReader(args.data, chunk_rows)
    selected = select_columns(pd.DataFrame(columns=reader.columns), args)
    features = [c for c in selected.columns if c != args.target]
    print(f"Streaming {Path(args.data).name} ({reason}): reading it in chunks of "
          f"{chunk_rows:,} rows, never whole.")
    seed = args.seed
    validation = args.validation_split

    def masks(index: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return split_masks(np.asarray(index), seed, args.test_size, validation)

    # 0. Each column's type, decided once over the whole file (as in memory).
    reader.decide_kinds([*features, args.target])
    # 1-2. The split by hash and the preprocessing, in one pass.
    learned = learn_preprocessing(reader, features, args, masks, VALIDATION_BYTES)
    counts, target = learned["counts"], learned["target"]
    for name, column in learned["columns"].items():
        if column.id_like():
            warn(f"column {name!r} has a different value in every row, like an ID; it cannot "
                 f"help predict new rows and lets the network memorize these; leave it out "
                 f"with --drop {name}")
    task = args.task
    if task is None:
        task = target.task()
        shown = sorted(target.distinct, key=category_sort_key)
        detail = (f"{len(shown)} distinct values: {', '.join(shown[:10])}"
                  if task == "classify" else "numbers with many distinct values")
        print(f"Guessed the task from the target column {args.target!r} ({detail}): "
              f"{'classification' if task == 'classify' else 'regression'}. "
              "Use --task to choose.")
    prep = preprocessor(learned, features, task, args)
    if task == "classify" and target.sorted_by_class():
        warn(f"{target.one_class_chunks} of the {target.chunks_trained} chunks of "
             f"{chunk_rows:,} rows train on one class of {args.target!r} only (is the file "
             "sorted by it?); streaming shuffles rows within a chunk, not across chunks, so "
             "most batches hold one class and the network learns worse; shuffle the file's "
             "rows first (or raise --chunk-rows)")
    n_classes = len(prep.classes) if task == "classify" else 0
    loss = check_loss(args.loss, task, n_classes, args.target)
    dtype = np.dtype(np.float64)
    held = counts["validation"] * prep.n_features * dtype.itemsize
    note = ""
    if held > VALIDATION_BYTES:
        # Keep the first part of the validation band in memory; the rest trains.
        validation = validation * VALIDATION_BYTES / held
        note = (f" (validation capped at {VALIDATION_BYTES / 2**20:g} MB of rows in memory; the "
                "rest of their hash band trains)")
    print(f"Read {counts['rows']:,} rows in {counts['chunks']:,} chunk(s) of at most "
          f"{chunk_rows:,} rows to learn the preprocessing.")

    net = build_network(prep, task, loss, args, seed)
    n_train = counts["train"]
    expected_val = counts["validation"]
    if note:
        n_val_kept = sum(int(masks(np.arange(s, min(s + 2**20, counts["rows"])))[1].sum())
                         for s in range(0, counts["rows"], 2**20))
        n_train += expected_val - n_val_kept
        expected_val = n_val_kept
    print(f"{n_train:,} rows to train on, {expected_val:,} for validation{note}, "
          f"{counts['test']:,} held out for testing (chosen by a hash of the row number, seed "
          f"{seed}); the preprocessing was learned from the training rows only.")

    # 3. Train, a pass over the file per epoch; validation rows kept from the first pass.
    val_chunks: list[tuple[np.ndarray, np.ndarray]] = []
    skipped: dict[str, list] = {"validation": [], "test": []}
    far: dict[str, dict] = {"validation": {}, "test": {}}

    def held_out(rows: Any, name: str, hardest: HardestRow | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
        unseen = prep.unseen(rows)
        if unseen:
            skipped[name] += list(unseen.items())
            rows = rows.drop(index=list(unseen))
        if len(rows) == 0:
            return np.zeros((0, prep.n_features), dtype), np.zeros(0, dtype)
        X = prep.transform(rows, dtype=dtype)
        far[name].update(prep.far_out(rows, X))
        y = prep.transform_target(rows[args.target], dtype=dtype)
        if hardest is not None:  # the row network.png traces
            hardest.add(X, y, rows.index)
        return X, y

    kept = learned["validation_rows"]
    if kept is not None:
        # The validation rows kept from the first pass: known before training, as in memory.
        for rows in kept:
            rows = rows[masks(rows.index)[1]]  # the band, narrowed by the memory cap
            if len(rows):
                try:
                    X_val, y_val = held_out(rows, "validation")
                except ValueError as exc:
                    raise CommandError(f"{args.data}: {exc}") from exc
                if len(y_val):
                    val_chunks.append((X_val, y_val))
        expected_val = sum(len(y) for _, y in val_chunks)
        _warn_held_out(skipped, far, "validation")

    ahead = read_ahead_depth(args.batch_size)

    def prepared(epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        # Run by a background thread (read_ahead) for large batches: the next chunk
        # is read and preprocessed while the network trains on this one.
        for chunk in reader.chunks([*features, args.target], ahead):
            train, val, _ = masks(chunk.index)
            try:
                if epoch == 0 and kept is None and val.any():
                    X_val, y_val = held_out(chunk[val], "validation")
                    if len(y_val):
                        val_chunks.append((X_val, y_val))
                if not train.any():
                    continue
                rows = chunk[train]
                X = prep.transform(rows, dtype=dtype)
                y = prep.transform_target(rows[args.target], dtype=dtype)
            except ValueError as exc:
                raise CommandError(f"{args.data}: {exc}") from exc
            yield X, y

    def batches(epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        rng = np.random.default_rng([seed, epoch])
        for X, y in read_ahead(prepared(epoch), ahead):
            order = rng.permutation(len(y))
            for start in range(0, len(y), args.batch_size):
                take = order[start:start + args.batch_size]
                yield X[take], y[take]

    epochs_started = [0]

    def epoch_batches() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        epoch = epochs_started[0]
        epochs_started[0] += 1
        return batches(epoch)

    early = args.early_stopping if args.early_stopping is not None else expected_val > 0
    if early and expected_val == 0:
        raise CommandError("--early-stopping needs validation rows, but none are left; "
                           "raise --validation-split or use --no-early-stopping")
    stopper = (callbacks.EarlyStopping(monitor="val_loss", patience=args.patience,
                                       restore_best_weights=True) if early else None)
    snapshots = callbacks.file_snapshots(net)  # for the epoch slider of `slopes explain --html`
    schedule = getattr(args, "schedule", None)  # a callback: sets each epoch's learning rate
    history = net.fit(epoch_batches, loss=loss, optimizer=args.optimizer,
                      learning_rate=args.learning_rate, epochs=args.epochs,
                      validation_data=(lambda: iter(val_chunks)) if expected_val else None,
                      metrics=["accuracy"] if task == "classify" else ["mae"],
                      callbacks=[c for c in (schedule, stopper, snapshots) if c],
                      seed=seed, verbose="auto", **fit_options(args))
    if kept is None:
        _warn_held_out(skipped, far, "validation")
    code = report_training(history, stopper, args.epochs, args.save_interrupted)
    if code is not None:
        return code

    # 4. Scores in one more pass, next to the most common class (or the mean).
    majority = None
    train_mean = None
    if task == "classify":
        top = max(target.counts.items(), key=lambda kv: kv[1])[0]
        majority = [category_key(c) for c in prep.classes].index(top)
    else:
        train_mean = target.moments.mean
    classes = prep.classes if task == "classify" else None
    train_scores, test_scores = _Scores(task, loss, classes), _Scores(task, loss, classes)
    # network.png traces the held-out row with the largest loss (or else the training row).
    hardest_test, hardest_train = HardestRow(net, loss), HardestRow(net, loss, "training")
    for chunk in reader.chunks([*features, args.target]):
        train, _, test = masks(chunk.index)
        try:
            if train.any():
                rows = chunk[train]
                X = prep.transform(rows, dtype=dtype)
                y = prep.transform_target(rows[args.target], dtype=dtype)
                train_scores.add(net, X, y, prep, rows=rows.index)
                if hardest_test.best is None:  # needed only while no held-out row is seen
                    hardest_train.add(X, y, rows.index)
            if test.any():
                rows = chunk[test]
                X, y = held_out(rows, "test", hardest_test)
                kept_rows = (rows.index if len(y) == len(rows) else rows.index.drop(
                    [r for r, _ in skipped["test"]], errors="ignore"))
                test_scores.add(net, X, y, prep, majority, train_mean, kept_rows)
        except ValueError as exc:
            raise CommandError(f"{args.data}: {exc}") from exc
    _warn_held_out(skipped, far, "test")
    metrics: dict[str, Any] = {"task": task, "stream": True, "train": train_scores.result()}
    print(describe("train", metrics["train"]))
    if val_chunks:
        val_scores = _Scores(task, loss)
        for X_val, y_val in val_chunks:
            val_scores.add(net, X_val, y_val, prep)
        metrics["validation"] = val_scores.result()
        print(describe("valid", metrics["validation"]))
    if test_scores.rows:
        metrics["test"] = test_scores.result()
        print(describe("test", metrics["test"]))
        metrics["baselines"] = test_scores.baseline()
        name, scores = next(iter(metrics["baselines"].items()))
        values = " ".join(f"{k} {v:.3f}" if k != "mse" else f"{k} {v:.4g}"
                          for k, v in scores.items())
        print(f"base  (fitted on the same training rows) {name.replace('_', ' ')} {values} "
              "(no logistic/linear regression baseline with --stream: it needs the rows in "
              "memory)")
    reported, what = ((metrics["test"], "test rows") if test_scores.rows
                      else (metrics["train"], "training rows"))
    print(describe_classes(reported, what) if task == "classify"
          else describe_residuals(reported["residuals"], what, args.target))
    rows_used = {"train": train_scores.rows,
                 "validation": metrics.get("validation", {}).get("rows", 0),
                 "test": test_scores.rows}
    training = training_settings(history, {
        "command": "train", "data": str(args.data), "target": args.target, "task": task,
        "hidden": args.hidden, "activation": args.activation, "loss": loss,
        "optimizer": args.optimizer, "learning_rate": args.learning_rate,
        "batch_size": args.batch_size,
        "test_size": args.test_size, "validation_split": args.validation_split,
        **regularization_settings(args),
        "seed": seed, "early_stopping": early, "patience": args.patience,
        "best_epoch": None if stopper is None else stopper.best_epoch,
        "interrupted": history.interrupted, "stream": True, "chunk_rows": chunk_rows,
        "split": "hash of the row number", "rows": rows_used,
    })
    out.add(MODEL_FILE, model_bytes(net, prep, training, history, snapshots))
    out.add("metrics.json", to_json(metrics))
    traced = hardest_test.best or hardest_train.best
    pictures(out, net, history, loss, traced, prep, Path(args.data).name,
             explain=(args.out, args.data),
             best_epoch=None if stopper is None else stopper.best_epoch,
             no_held_out="--test-size 0" if args.test_size == 0 else
             "every held-out row holds a value the training rows never had")
    print_written(out.commit())
    return 0


def _warn_held_out(skipped: dict[str, list], far: dict[str, dict], name: str) -> None:
    """Warn of the ``name`` rows left out (never-seen values) or far outside the range."""
    if skipped[name]:
        warn(f"{len(skipped[name])} {name} row(s) hold values the training rows never had, so "
              f"they are left out of the {name} score ({some_rows(dict(skipped[name]))})")
    if far[name]:
        warn(f"{len(far[name])} {name} row(s) lie far outside the training rows' range, so "
              f"their predictions are extrapolations that weigh on the {name} score "
              f"({some_rows(far[name])})")
