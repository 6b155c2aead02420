"""``slopes train --stream``: train on a CSV (or Parquet) file without loading it whole.

The file is read in chunks of ``--chunk-rows`` rows (pandas
``read_csv(chunksize=...)``; pyarrow's ``ParquetFile.iter_batches`` for
``.parquet``), never all at once, so memory stays flat whatever the file's
size. It follows the steps of the in-memory ``slopes train``:

1. every row is put in the test, validation or training part by a seeded
   hash of its row number (:func:`row_hash`): deterministic for a given
   ``--seed``, about ``--test-size`` of the rows held out for testing and
   ``--validation-split`` of the others for validation, with no list of rows
   kept in memory;
2. one pass over the file learns the preprocessing (means, scales,
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
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .._optional import require
from ..errors import CommandError
from ..io import model_bytes
from ..network import Network
from ..preprocessing import (
    MISSING_CATEGORY,
    TabularPreprocessor,
    _is_numeric,
    _key,
    _keys,
    _plain,
    _show,
    _sort_key,
    pd_to_numeric,
)
from .outputs import (
    OutputFiles,
    _header,
    csv_errors,
    pictures,
    print_written,
    some_rows,
    to_json,
    training_settings,
    warn,
)
from .report import class_probabilities, describe, report_training

__all__ = ["run_train_stream", "stream_reason", "row_hash", "split_masks", "ChunkReader",
           "STREAM_THRESHOLD_BYTES", "DEFAULT_CHUNK_ROWS", "VALIDATION_BYTES"]

#: Files bigger than this (1 GB) are streamed even without ``--stream``.
STREAM_THRESHOLD_BYTES = 1_000_000_000
#: Rows per chunk read from the file (``--chunk-rows``).
DEFAULT_CHUNK_ROWS = 100_000
#: The most memory the validation rows, preprocessed, may take (64 MiB).
VALIDATION_BYTES = 64 * 2**20
#: The most categories a column (or classes a target) may have when streaming.
MAX_CATEGORIES = 1_000
MODEL_FILE = "model.safetensors"


def stream_reason(args: argparse.Namespace) -> str | None:
    """Why ``slopes train`` should stream ``args.data``, or None to load it whole."""
    path = Path(args.data)
    if getattr(args, "stream", False):
        return "--stream"
    if path.suffix.lower() == ".parquet":
        return "a Parquet file"
    try:
        size = path.stat().st_size
    except OSError:
        return None  # the in-memory path reports a missing file
    if path.is_file() and size > STREAM_THRESHOLD_BYTES:
        return f"{size / 1e9:.1f} GB, over the {STREAM_THRESHOLD_BYTES / 1e9:g} GB threshold"
    return None


# ---------------------------------------------------------------------- split
def row_hash(rows: np.ndarray, seed: int) -> np.ndarray:
    """A number in [0, 1) for each row number, fixed by ``seed`` (splitmix64 of both).

    Parameters
    ----------
    rows : array of int (n,)
        Row numbers (row 0 is the first line after the header).
    seed : int

    Returns
    -------
    array of float64 (n,)
        Uniformly spread: about a fraction ``f`` of any rows has a value below ``f``.
    """
    with np.errstate(over="ignore"):
        z = np.asarray(rows, dtype=np.uint64) + np.uint64(
            (seed * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) % 2**64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def split_masks(rows: np.ndarray, seed: int, test_size: float, validation: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boolean masks ``(train, validation, test)`` for row numbers ``rows`` (n,).

    Test rows have ``row_hash < test_size``; validation rows the next band,
    of width ``validation * (1 - test_size)`` (that fraction of the others).
    """
    u = row_hash(rows, seed)
    test = u < test_size
    val = ~test & (u < test_size + validation * (1 - test_size))
    return ~(test | val), val, test


# ---------------------------------------------------------------------- reading
class ChunkReader:
    """The rows of a CSV or Parquet file, chunk by chunk, indexed by their row numbers.

    Parameters
    ----------
    path : path
        A CSV file with a header line, or a ``.parquet`` file.
    chunk_rows : int
        The most rows in one chunk.
    """

    def __init__(self, path: str | Path, chunk_rows: int) -> None:
        self.path = Path(path)
        self.chunk_rows = chunk_rows
        self.parquet = self.path.suffix.lower() == ".parquet"
        if not self.path.exists():
            raise CommandError(f"{self.path}: no such file")
        if self.path.is_dir():
            raise CommandError(f"{self.path}: is a directory, expected a CSV file")
        if self.parquet:
            try:
                self._pq = require("pyarrow.parquet", "reading .parquet files")
            except ImportError as exc:
                raise CommandError(f"{self.path}: reading .parquet files needs pyarrow, which "
                                   "is not installed; install it with: pip install "
                                   "'slopes[all]'") from exc
        self.columns = self._columns()

    def _columns(self) -> list[str]:
        if self.parquet:
            try:
                names = list(self._pq.ParquetFile(self.path).schema_arrow.names)
            except Exception as exc:  # pyarrow raises its own types for bad files
                raise CommandError(f"{self.path}: not a readable Parquet file "
                                   f"({str(exc).splitlines()[0]})") from exc
        else:
            names = _header(self.path)
            if not names:
                raise CommandError(f"{self.path}: the file is empty; expected a header line "
                                   "and data rows")
        seen: dict[str, int] = {}
        for position, name in enumerate(names, start=1):
            if name in seen:
                raise CommandError(f"{self.path}: the header names the column {name!r} twice "
                                   f"(columns {seen[name]} and {position}); column names must "
                                   "be unique")
            seen[name] = position
        return names

    def chunks(self, columns: list[str]) -> Iterator[Any]:
        """DataFrames of at most ``chunk_rows`` rows holding ``columns``; index = row numbers."""
        pd = require("pandas", "reading CSV files")
        if self.parquet:
            yield from self._parquet_chunks(pd, columns)
            return
        with csv_errors(self.path, pd):
            # All the columns, as read_table reads them: with usecols pandas would not
            # notice a row with more fields than the header.
            reader = pd.read_csv(self.path, chunksize=self.chunk_rows, index_col=False,
                                 skipinitialspace=True)
            with reader:
                for chunk in reader:
                    chunk.columns = [str(c).strip() for c in chunk.columns]
                    yield chunk[columns]

    def _parquet_chunks(self, pd: Any, columns: list[str]) -> Iterator[Any]:
        start = 0
        file = self._pq.ParquetFile(self.path)
        try:
            for batch in file.iter_batches(batch_size=self.chunk_rows, columns=columns):
                frame = batch.to_pandas()
                frame.index = pd.RangeIndex(start, start + len(frame))
                start += len(frame)
                yield frame
        finally:
            file.close()


# ---------------------------------------------------------------------- pass 0
class _Moments:
    """Count, mean and sum of squared deviations, merged chunk by chunk (Chan et al.)."""

    def __init__(self) -> None:
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, values: np.ndarray) -> None:
        n = values.size
        if n == 0:
            return
        with np.errstate(over="ignore", invalid="ignore"):
            mean = float(values.mean())
            m2 = float(((values - mean) ** 2).sum())
            total = self.n + n
            delta = mean - self.mean
            self.mean += delta * n / total
            self.m2 += m2 + delta * delta * self.n * n / total
        self.n = total

    @property
    def std(self) -> float:
        return math.sqrt(self.m2 / self.n) if self.n and self.m2 >= 0 else 0.0


class _Column:
    """What the first pass learns about one feature column."""

    def __init__(self, name: str, categorical: bool) -> None:
        self.name = name
        self.categorical = categorical
        self.text = False          # some chunk held text or booleans
        self.boolean = False
        self.filled = 0            # filled cells, all rows
        self.bad: list[tuple[int, Any]] = []  # cells that are not numbers: (row, value)
        self.n_bad = 0
        self.moments = _Moments()  # numbers of the training rows
        self.keys: set[str] | None = set()  # categories of the training rows
        self.missing_rows: list[int] = []
        self.n_missing = 0

    def add(self, column: Any, train: np.ndarray, fill_missing: bool) -> None:
        pd = require("pandas", "reading CSV files")
        missing = column.isna().to_numpy()
        if missing.any():
            self.n_missing += int(missing.sum())
            if len(self.missing_rows) < 5:
                self.missing_rows += column.index[missing][:5].tolist()
        self.filled += int((~missing).sum())
        if pd.api.types.is_bool_dtype(column) or (
                column.dtype == object and column.dropna().map(type).eq(bool).all()
                and (~missing).any()):
            self.boolean = True
        if self.keys is not None:
            values = pd.unique(column[train & ~missing])
            if len(values) > MAX_CATEGORIES:
                self.keys = None  # a numeric column, or too many categories to one-hot
            else:
                self.keys.update(_key(value) for value in values)
                if len(self.keys) > MAX_CATEGORIES:
                    self.keys = None
        if self.categorical or self.boolean:
            return
        if _is_numeric(column):
            values = column.to_numpy(float)
        else:
            self.text = True
            numbers = pd_to_numeric(column)
            bad = (numbers.isna() & column.notna()).to_numpy()
            if bad.any():
                self.n_bad += int(bad.sum())
                if len(self.bad) < 3:
                    self.bad += list(column[bad].items())[:3 - len(self.bad)]
            values = numbers.to_numpy(float)
        infinite = np.isinf(values)
        if infinite.any():
            row = column.index[int(np.argmax(infinite))]
            raise ValueError(f"column {self.name!r} row {row}: expected a finite number, "
                             f"got {_show(column[row])}")
        kept = values[train]
        self.moments.add(kept[~np.isnan(kept)])

    def finish(self, fill_missing: bool) -> tuple[str, Any]:
        """``("numeric", {"mean", "scale"})`` or ``("categorical", [categories])``."""
        if not self.categorical and not self.boolean:
            if self.n_bad and self.n_bad <= 0.5 * self.filled:
                shown = ", ".join(f"row {r}: {_show(v)}" for r, v in self.bad)
                more = f" and {self.n_bad - 3} more" if self.n_bad > 3 else ""
                raise ValueError(
                    f"column {self.name!r} holds numbers except in {self.n_bad} cell(s) "
                    f"({shown}{more}); fix or empty those cells, or list the column as "
                    "categorical to one-hot encode it")
            if not self.n_bad:
                m = self.moments
                if m.n == 0:
                    return "numeric", {"mean": 0.0, "scale": 1.0}
                mean, scale = m.mean, m.std
                if not (math.isfinite(mean) and math.isfinite(scale)):
                    raise ValueError(
                        f"column {self.name!r} holds numbers too large to standardize; "
                        "rescale the column (say, to other units) first")
                return "numeric", {"mean": mean, "scale": scale if scale > 0 else 1.0}
        if self.keys is None:
            raise ValueError(
                f"column {self.name!r} has more than {MAX_CATEGORIES:,} categories in the "
                f"training rows; --stream one-hot encodes at most {MAX_CATEGORIES:,}; leave it "
                f"out with --drop {self.name}")
        keys = set(self.keys)
        if fill_missing:
            keys.add(MISSING_CATEGORY)
        if not keys:
            keys.add(MISSING_CATEGORY)
        return "categorical", sorted(keys, key=_sort_key)


class _Target:
    """What the first pass learns about the target column."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.numeric = True         # every filled value is a number (not a boolean)
        self.whole = True
        self.distinct: dict[str, Any] = {}   # at most 11 keys, all rows, for guessing the task
        self.labels: dict[str, Any] = {}     # training rows' classes, key -> label
        self.counts: dict[str, int] = {}
        self.too_many = False
        self.first_text: tuple[int, Any] | None = None
        self.moments = _Moments()   # training rows, for regression
        self.missing_rows: list[int] = []
        self.n_missing = 0

    def add(self, column: Any, train: np.ndarray) -> None:
        pd = require("pandas", "reading CSV files")
        missing = column.isna().to_numpy()
        if missing.any():
            self.n_missing += int(missing.sum())
            if len(self.missing_rows) < 5:
                self.missing_rows += column.index[missing][:5].tolist()
        filled = column[~missing]
        if len(self.distinct) <= 10:
            for value in pd.unique(filled):
                self.distinct.setdefault(_key(value), value)
        if not self.too_many:
            keys = _keys(filled[train[~missing]])
            for key, count in keys.value_counts().items():
                self.counts[key] = self.counts.get(key, 0) + int(count)
            for value in pd.unique(filled[train[~missing]]):
                self.labels.setdefault(_key(value), _plain(value))
            if len(self.labels) > MAX_CATEGORIES:
                self.too_many = True
        if pd.api.types.is_bool_dtype(column) or not _is_numeric(filled):
            numbers = pd_to_numeric(filled)
            if pd.api.types.is_bool_dtype(filled) or numbers.isna().any():
                if self.numeric:
                    bad = filled[numbers.isna()] if numbers.isna().any() else filled
                    self.first_text = (bad.index[0], bad.iloc[0])
                self.numeric = False
                return
            values = numbers.to_numpy(float)
        else:
            values = filled.to_numpy(float)
        if self.whole and not np.all(np.mod(values, 1) == 0):
            self.whole = False
        self.moments.add(values[train[~missing]])

    def task(self) -> str:
        """``guess_task``'s answer over every row of the file."""
        if not self.numeric:
            return "classify"
        return "classify" if self.whole and len(self.distinct) <= 10 else "regress"


def _rows(rows: list[int], total: int) -> str:
    shown = ", ".join(map(str, rows[:5]))
    return shown + (f" and {total - 5} more" if total > 5 else "")


def _learn(reader: ChunkReader, features: list[str], args: argparse.Namespace,
           masks: Callable[[Any], tuple]) -> dict[str, Any]:
    """The first pass: the preprocessing's parameters, row counts, class counts."""
    columns = {name: _Column(name, name in (args.categorical or [])) for name in features}
    target = _Target(args.target)
    counts = {"rows": 0, "train": 0, "validation": 0, "test": 0, "chunks": 0}
    for chunk in reader.chunks([*features, args.target]):
        train, val, test = masks(chunk.index)
        counts["rows"] += len(chunk)
        counts["chunks"] += 1
        counts["train"] += int(train.sum())
        counts["validation"] += int(val.sum())
        counts["test"] += int(test.sum())
        try:
            for name, column in columns.items():
                column.add(chunk[name], train, args.fill_missing)
        except ValueError as exc:
            raise CommandError(f"{args.data}: {exc}") from exc
        target.add(chunk[args.target], train)
    if counts["rows"] == 0:
        raise CommandError(f"{args.data}: has a header ({', '.join(reader.columns)}) but no "
                           "data rows")
    if target.n_missing:
        raise CommandError(f"{args.data}: the target column {args.target!r} is empty in "
                           f"{target.n_missing} row(s) (rows "
                           f"{_rows(target.missing_rows, target.n_missing)}); drop those "
                           "rows first")
    if not args.fill_missing:
        bad = [c for c in columns.values() if c.n_missing]
        if bad:
            where = ", ".join(f"{c.name!r} ({c.n_missing} row{'s' if c.n_missing != 1 else ''}"
                              f", first row {c.missing_rows[0]})" for c in bad)
            raise CommandError(f"{args.data}: missing values in column {where}; fill or drop "
                               "them, or use --fill-missing")
    if counts["train"] == 0:
        raise CommandError(f"{args.data}: none of its {counts['rows']} rows is left to train "
                           "on after --test-size and --validation-split; lower them")
    numeric, categories = {}, {}
    try:
        for name, column in columns.items():
            kind, learned = column.finish(args.fill_missing)
            (numeric if kind == "numeric" else categories)[name] = learned
    except ValueError as exc:
        raise CommandError(f"{args.data}: {exc}") from exc
    return {"columns": columns, "target": target, "counts": counts, "numeric": numeric,
            "categories": categories}


def _preprocessor(learned: dict[str, Any], features: list[str], task: str,
                  args: argparse.Namespace) -> TabularPreprocessor:
    target: _Target = learned["target"]
    params: dict[str, Any] = {
        "type": "TabularPreprocessor", "target": args.target, "task": task,
        "columns": features, "numeric": learned["numeric"],
        "categories": learned["categories"], "categorical": list(args.categorical or []),
        "classes": None, "standardize_target": task == "regress", "target_mean": 0.0,
        "target_scale": 1.0, "fill_missing": bool(args.fill_missing),
    }
    if task == "classify":
        if target.too_many:
            raise CommandError(f"{args.data}: the target {args.target!r} has more than "
                               f"{MAX_CATEGORIES:,} classes in the training rows; use --task "
                               "regress if it is a number")
        labels = target.labels
        if len(labels) < 2:
            raise CommandError(f"{args.data}: target column {args.target!r} has {len(labels)} "
                               f"class(es) in the training rows ({', '.join(labels) or 'none'})"
                               "; classification needs at least 2")
        params["classes"] = [labels[k] for k in sorted(labels, key=_sort_key)]
    else:
        if not target.numeric:
            row, value = target.first_text
            raise CommandError(f"{args.data}: target column {args.target!r} must hold numbers "
                               f"for regression, got {_show(value)} in row {row}")
        m = target.moments
        if not (math.isfinite(m.mean) and math.isfinite(m.std)):
            raise CommandError(f"{args.data}: column {args.target!r} holds numbers too large "
                               "to standardize; rescale the column (say, to other units) first")
        params["target_mean"] = m.mean
        params["target_scale"] = m.std if m.std > 0 else 1.0
    try:
        return TabularPreprocessor.from_dict(params)
    except ValueError as exc:
        raise CommandError(f"{args.data}: {exc}") from exc


# ---------------------------------------------------------------------- scores
class _Scores:
    """Loss, accuracy or mse/mae/r2 of rows seen chunk by chunk."""

    def __init__(self, task: str, loss: str) -> None:
        self.task, self.loss = task, loss
        self.rows = 0
        self.loss_total = 0.0
        self.right = 0
        self.sq = self.abs = 0.0
        self.actual = _Moments()
        self.majority_right = 0
        self.mean_sq = 0.0

    def add(self, net: Network, X: np.ndarray, y: np.ndarray, prep: TabularPreprocessor,
            majority: int | None = None, train_mean: float | None = None) -> None:
        n = len(y)
        if n == 0:
            return
        batch_loss = net.evaluate(X, y, loss=self.loss)
        self.loss_total += batch_loss if self.loss == "sse" else batch_loss * n
        self.rows += n
        output = net.predict(X)
        if self.task == "classify":
            labels = y.astype(np.int64)
            self.right += int(np.sum(class_probabilities(output).argmax(axis=1) == labels))
            if majority is not None:
                self.majority_right += int(np.sum(labels == majority))
        else:
            predicted = prep.inverse_target(output[:, 0])
            actual = prep.inverse_target(y)
            self.sq += float(np.sum((predicted - actual) ** 2))
            self.abs += float(np.sum(np.abs(predicted - actual)))
            self.actual.add(actual)
            if train_mean is not None:
                self.mean_sq += float(np.sum((actual - train_mean) ** 2))

    def result(self) -> dict[str, Any]:
        loss = self.loss_total if self.loss == "sse" else self.loss_total / self.rows
        if self.task == "classify":
            return {"loss": loss, "accuracy": self.right / self.rows, "rows": self.rows}
        spread = self.actual.m2
        return {"loss": loss, "mse": self.sq / self.rows, "mae": self.abs / self.rows,
                "r2": 1 - self.sq / spread if spread > 0 else float("nan"), "rows": self.rows}

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
    from ..callbacks import EarlyStopping, file_snapshots
    from .train import _check_loss, _select_columns

    pd = require("pandas", "reading CSV files")
    out = OutputFiles(args.out)
    out.check()
    if out.existing(MODEL_FILE) is not None and not args.overwrite:
        raise CommandError(f"--out {args.out}: already holds {MODEL_FILE}; add --overwrite "
                           "to replace it, or choose another --out")
    chunk_rows = getattr(args, "chunk_rows", None) or DEFAULT_CHUNK_ROWS
    reader = ChunkReader(args.data, chunk_rows)
    selected = _select_columns(pd.DataFrame(columns=reader.columns), args)
    features = [c for c in selected.columns if c != args.target]
    print(f"Streaming {Path(args.data).name} ({reason}): reading it in chunks of "
          f"{chunk_rows:,} rows, never whole.")
    seed = args.seed
    validation = args.validation_split

    def masks(index: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return split_masks(np.asarray(index), seed, args.test_size, validation)

    # 1-2. The split by hash and the preprocessing, in one pass.
    learned = _learn(reader, features, args, masks)
    counts, target = learned["counts"], learned["target"]
    task = args.task
    if task is None:
        task = target.task()
        shown = sorted(target.distinct, key=_sort_key)
        detail = (f"{len(shown)} distinct values: {', '.join(shown[:10])}"
                  if task == "classify" else "numbers with many distinct values")
        print(f"Guessed the task from the target column {args.target!r} ({detail}): "
              f"{'classification' if task == 'classify' else 'regression'}. "
              "Use --task to choose.")
    prep = _preprocessor(learned, features, task, args)
    n_classes = len(prep.classes) if task == "classify" else 0
    loss = _check_loss(args.loss, task, n_classes, args.target)
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

    if task == "regress":
        n_out, output = 1, "identity"
    elif loss == "binary_crossentropy":
        n_out, output = 1, "sigmoid"
    else:
        n_out, output = n_classes, "softmax"
    sizes = [prep.n_features, *args.hidden, n_out]
    init = "he_normal" if args.activation in ("relu", "leaky_relu") else "glorot_uniform"
    net = Network.mlp(sizes, activation=args.activation, output=output, bias=True,
                      init=init, seed=seed)
    what = (f"{n_classes} classes ({', '.join(map(str, prep.classes))})"
            if task == "classify" else f"a number (standardized: mean {prep.target_mean:.4g}, "
                                       f"scale {prep.target_scale:.4g})")
    print(f"Network {'-'.join(map(str, sizes))} ({args.activation} hidden, {output} output), "
          f"loss {loss}, optimizer {args.optimizer}; predicting {what}.")
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

    def held_out(rows: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
        unseen = prep.unseen(rows)
        if unseen:
            skipped[name] += list(unseen.items())
            rows = rows.drop(index=list(unseen))
        if len(rows) == 0:
            return np.zeros((0, prep.n_features), dtype), np.zeros(0, dtype)
        X = prep.transform(rows, dtype=dtype)
        far[name].update(prep.far_out(rows, X))
        return X, prep.transform_target(rows[args.target], dtype=dtype)

    def batches(epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        rng = np.random.default_rng([seed, epoch])
        for chunk in reader.chunks([*features, args.target]):
            train, val, _ = masks(chunk.index)
            try:
                if epoch == 0 and val.any():
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
    stopper = (EarlyStopping(monitor="val_loss", patience=args.patience,
                             restore_best_weights=True) if early else None)
    snapshots = file_snapshots(net)  # for the epoch slider of `slopes explain --html`
    history = net.fit(epoch_batches, loss=loss, optimizer=args.optimizer,
                      learning_rate=args.learning_rate, epochs=args.epochs,
                      validation_data=(lambda: iter(val_chunks)) if expected_val else None,
                      metrics=["accuracy"] if task == "classify" else ["mae"],
                      callbacks=[c for c in (stopper, snapshots) if c], seed=seed,
                      verbose="auto")
    _warn_held_out(skipped, far, "validation")
    code = report_training(history, stopper, args.epochs, args.save_interrupted)
    if code is not None:
        return code

    # 4. Scores in one more pass, next to the most common class (or the mean).
    majority = None
    train_mean = None
    if task == "classify":
        top = max(target.counts.items(), key=lambda kv: kv[1])[0]
        majority = [_key(c) for c in prep.classes].index(top)
    else:
        train_mean = target.moments.mean
    train_scores, test_scores = _Scores(task, loss), _Scores(task, loss)
    first_train: tuple[np.ndarray, np.ndarray, str] | None = None
    first_test: tuple[np.ndarray, np.ndarray, str] | None = None
    for chunk in reader.chunks([*features, args.target]):
        train, _, test = masks(chunk.index)
        try:
            if train.any():
                rows = chunk[train]
                X = prep.transform(rows, dtype=dtype)
                y = prep.transform_target(rows[args.target], dtype=dtype)
                train_scores.add(net, X, y, prep)
                if first_train is None:
                    first_train = (X[:1], y[:1], f"row {rows.index[0]}")
            if test.any():
                X, y = held_out(chunk[test], "test")
                test_scores.add(net, X, y, prep, majority, train_mean)
                if first_test is None and len(y):
                    first_test = (X[:1], y[:1], "a test row")
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
    rows_used = {"train": train_scores.rows,
                 "validation": metrics.get("validation", {}).get("rows", 0),
                 "test": test_scores.rows}
    training = training_settings(history, {
        "command": "train", "data": str(args.data), "target": args.target, "task": task,
        "hidden": args.hidden, "activation": args.activation, "loss": loss,
        "optimizer": args.optimizer, "learning_rate": args.learning_rate,
        "batch_size": args.batch_size,
        "test_size": args.test_size, "validation_split": args.validation_split,
        "seed": seed, "early_stopping": early, "patience": args.patience,
        "best_epoch": None if stopper is None else stopper.best_epoch,
        "interrupted": history.interrupted, "stream": True, "chunk_rows": chunk_rows,
        "split": "hash of the row number", "rows": rows_used,
    })
    out.add(MODEL_FILE, model_bytes(net, prep, training, history, snapshots))
    out.add("metrics.json", to_json(metrics))
    shown = first_test or first_train
    if shown is not None:
        pictures(out, net, history, shown[0], shown[1], loss,
                 f"{Path(args.data).name}: {shown[2]}")
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
