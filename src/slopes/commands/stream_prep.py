"""The first pass of ``slopes train --stream``: the preprocessing learned chunk by chunk.

The same :class:`~slopes.preprocessing.TabularPreprocessor` the in-memory
path fits, from the training rows only, without holding them: means and
scales merged chunk by chunk (:class:`Moments`), the categories of each
column, the classes or the scale of the target, and every row checked as
the in-memory path checks it (missing values, stray text in numeric columns,
infinities), stopping with one line that names the column, row and value.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._optional import require
from ..columns import (
    MISSING_CATEGORY,
    category_key,
    category_keys,
    category_sort_key,
    check_no_infinity,
    is_numeric_column,
    pd_to_numeric,
    plain_label,
    show_value,
)
from ..errors import CommandError
from ..preprocessing import TabularPreprocessor
from .chunks import ChunkReader

__all__ = ["learn_preprocessing", "preprocessor", "Moments", "MAX_CATEGORIES"]

#: The most categories a column (or classes a target) may have when streaming.
MAX_CATEGORIES = 1_000


class Moments:
    """Count, mean and sum of squared deviations, merged chunk by chunk (Chan et al.).

    Computed around the first value seen (``shift``), as the in-memory path
    computes them: a small spread at a large offset (Unix times, 1.7e9 +- 0.01)
    keeps its digits.
    """

    def __init__(self) -> None:
        self.n, self._mean, self.m2 = 0, 0.0, 0.0
        self.shift: float | None = None

    @property
    def mean(self) -> float:
        return (self.shift or 0.0) + self._mean

    def add(self, values: np.ndarray) -> None:
        n = values.size
        if n == 0:
            return
        if self.shift is None:
            self.shift = float(values.flat[0])
        with np.errstate(over="ignore", invalid="ignore"):
            values = values - self.shift
            mean = float(values.mean())
            m2 = float(((values - mean) ** 2).sum())
            total = self.n + n
            delta = mean - self._mean
            self._mean += delta * n / total
            self.m2 += m2 + delta * delta * self.n * n / total
        self.n = total

    @property
    def std(self) -> float:
        return math.sqrt(self.m2 / self.n) if self.n and self.m2 >= 0 else 0.0


def _add_keys(keys: set[str], values: Any) -> set[str] | None:
    """``keys`` with the :func:`category_key` of each of ``values``, or None once they
    are more than ``MAX_CATEGORIES`` (a numeric column: no key per cell of the chunk)."""
    for value in values:
        keys.add(category_key(value))
        if len(keys) > MAX_CATEGORIES:
            return None
    return keys


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
        self.moments = Moments()  # numbers of the training rows
        self.keys: set[str] | None = set()  # categories of the training rows
        self.missing_rows: list[int] = []
        self.n_missing = 0
        self.rows = 0
        self.whole = True          # every chunk read as integers
        self.distinct: set[str] | None = set()  # all rows' values, while few (ID-like?)

    def add(self, column: Any, train: np.ndarray, fill_missing: bool) -> None:
        pd = require("pandas", "reading CSV files")
        missing = column.isna().to_numpy()
        self.rows += len(column)
        if self.distinct is not None:
            self.distinct = _add_keys(self.distinct, pd.unique(column[~missing]))
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
                self.keys.update(category_key(value) for value in values)
                if len(self.keys) > MAX_CATEGORIES:
                    self.keys = None
        if self.categorical or self.boolean:
            return
        if is_numeric_column(column):
            values = column.to_numpy(float)
        else:
            self.text = True
            numbers = pd_to_numeric(column)
            bad = (numbers.isna() & column.notna()).to_numpy()
            if bad.any():
                self.n_bad += int(bad.sum())
                if len(self.bad) < 3:
                    self.bad += list(column[bad].iloc[:3 - len(self.bad)].items())
            values = numbers.to_numpy(float)
        check_no_infinity(self.name, column, values)
        # Read as integers (a column of whole numbers without a missing cell), as in memory.
        self.whole = self.whole and pd.api.types.is_integer_dtype(column)
        kept = values[train]
        self.moments.add(kept[~np.isnan(kept)])

    def id_like(self, min_rows: int = 20) -> bool:
        """:func:`~slopes.columns.id_like_columns`' test over every row of the file.

        Known while the column has at most ``MAX_CATEGORIES`` distinct values (so
        for files of at most that many rows); a text column with more is refused
        by :meth:`finish` anyway.
        """
        return (self.distinct is not None and self.rows >= min_rows and not self.n_missing
                and len(self.distinct) == self.rows
                and (self.text or self.categorical or self.whole))

    def finish(self, fill_missing: bool) -> tuple[str, Any]:
        """``("numeric", {"mean", "scale"})`` or ``("categorical", [categories])``."""
        if not self.categorical and not self.boolean:
            if self.n_bad and self.n_bad <= 0.5 * self.filled:
                shown = ", ".join(f"row {r}: {show_value(v)}" for r, v in self.bad)
                more = f" and {self.n_bad - 3} more" if self.n_bad > 3 else ""
                raise ValueError(
                    f"column {self.name!r} holds numbers except in {self.n_bad} cell(s) "
                    f"({shown}{more}); fix or empty those cells, or list the column as "
                    "categorical to one-hot encode it")
            if not self.n_bad and not self.text:
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
        return "categorical", sorted(keys, key=category_sort_key)


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
        self.moments = Moments()   # training rows, for regression
        self.missing_rows: list[int] = []
        self.n_missing = 0
        self.chunks_trained = 0     # chunks with training rows
        self.one_class_chunks = 0   # ... whose training rows are all of one class

    def sorted_by_class(self) -> bool:
        """Whether most chunks (at least half, and at least 2) train on one class only.

        Training shuffles the rows within a chunk, not across chunks: then most
        batches hold a single class, and the network swings from one class to
        the next (a file sorted by its target).
        """
        return (len(self.labels) >= 2 and self.chunks_trained >= 2
                and self.one_class_chunks * 2 >= self.chunks_trained)

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
                self.distinct.setdefault(category_key(value), value)
        if not self.too_many:
            keys = category_keys(filled[train[~missing]])
            if len(keys):
                self.chunks_trained += 1
                self.one_class_chunks += int(keys.nunique() == 1)
            for key, count in keys.value_counts().items():
                self.counts[key] = self.counts.get(key, 0) + int(count)
            for value in pd.unique(filled[train[~missing]]):
                self.labels.setdefault(category_key(value), plain_label(value))
            if len(self.labels) > MAX_CATEGORIES:
                self.too_many = True
        if pd.api.types.is_bool_dtype(column) or not is_numeric_column(filled):
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


def learn_preprocessing(reader: ChunkReader, features: list[str], args: argparse.Namespace,
                        masks: Callable[[Any], tuple], keep_bytes: int = 64 * 2**20
                        ) -> dict[str, Any]:
    """The first pass: the preprocessing's parameters, row counts, class counts.

    Also the validation rows as read (``"validation_rows"``, a list of
    DataFrames), or None when they would take more than about ``keep_bytes``.
    """
    columns = {name: _Column(name, name in (args.categorical or [])) for name in features}
    target = _Target(args.target)
    counts = {"rows": 0, "train": 0, "validation": 0, "test": 0, "chunks": 0}
    # The validation rows, as read, while they are few enough to keep (about
    # ``keep_bytes`` as floats): the network's validation data, known before training.
    validation: list[Any] | None = []
    most_rows = keep_bytes // (8 * (len(features) + 1))
    for chunk in reader.chunks([*features, args.target]):
        train, val, test = masks(chunk.index)
        if validation is not None and val.any():
            validation.append(chunk[val])
            if counts["validation"] + int(val.sum()) > most_rows:
                validation = None  # too many: taken from the first epoch's pass instead
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
            "categories": categories, "validation_rows": validation}


def preprocessor(learned: dict[str, Any], features: list[str], task: str,
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
        params["classes"] = [labels[k] for k in sorted(labels, key=category_sort_key)]
    else:
        if not target.numeric:
            row, value = target.first_text
            raise CommandError(f"{args.data}: target column {args.target!r} must hold numbers "
                               f"for regression, got {show_value(value)} in row {row}")
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
