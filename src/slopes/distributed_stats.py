"""Column statistics that combine exactly across partitions: the preprocessing of a cluster.

Each worker of :mod:`slopes.distributed` summarizes the rows of its own
partitions (:class:`TableSummary`, chunk by chunk), the summaries travel to
the client and are merged (:meth:`TableSummary.merge`), and the merged
summary gives the :class:`~slopes.preprocessing.TabularPreprocessor`
(:meth:`TableSummary.preprocessor`). One pass over the data, whatever the
number of workers.

Sums are kept **exactly** (:class:`ExactMoments`): every float64 value is
an integer times a power of two, ``x = M 2^e`` (``|M| < 2^53``), so the sums
of ``x`` and ``x^2`` over any rows are integers times ``2^BASE``, held as
Python integers. Merging adds integers, which is exact and independent of
the order: the mean ``S1 / n`` and the scale ``sqrt(S2 / n - (S1 / n)^2)``
are the same bits however the rows are split among workers and chunks (one
partition or a hundred), each correctly rounded from the exact value. The
in-memory path computes them in floating point (NumPy's pairwise sums), so
the two agree to the last digits only (relative 1e-12 in the tests).
Categories, classes and counts are sets and integers: equal exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from ._optional import require
from .columns import (
    MISSING_CATEGORY,
    category_key,
    category_sort_key,
    plain_label,
    show_value,
)
from .preprocessing import TabularPreprocessor

__all__ = ["ExactMoments", "ColumnSummary", "TargetSummary", "TableSummary", "MAX_CATEGORIES"]

#: Every sum is an integer times ``2 ** BASE`` (below the square of the smallest float).
BASE = -2400
#: The most categories one column (or classes the target) may have.
MAX_CATEGORIES = 10_000
_SLICE = 1 << 22  # values per integer reduction: sums of 18-bit products stay in int64


class ExactMoments:
    """The count, exact sum and exact sum of squares of float64 values.

    ``S1 = N1 2^BASE`` and ``S2 = N2 2^BASE`` with Python integers ``N1, N2``.

    Examples
    --------
    >>> a, b = ExactMoments(), ExactMoments()
    >>> a.add(np.array([0.1, 0.2])); b.add(np.array([0.3]))
    >>> a.merge(b).mean == ExactMoments().add_all(np.array([0.3, 0.1, 0.2])).mean
    True
    """

    def __init__(self) -> None:
        self.n = 0
        self.n1 = 0
        self.n2 = 0

    def add_all(self, values: np.ndarray) -> ExactMoments:
        self.add(values)
        return self

    def add(self, values: np.ndarray) -> None:
        """Add finite float64 values (n,)."""
        values = np.asarray(values, dtype=np.float64).ravel()
        for start in range(0, values.size, _SLICE):
            self._add(values[start:start + _SLICE])

    def _add(self, values: np.ndarray) -> None:
        if values.size == 0:
            return
        mant, expo = np.frexp(values)             # values = mant 2^expo, 0.5 <= |mant| < 1
        ints = (mant * 2.0**53).astype(np.int64)  # exact: 53-bit integers
        exps = expo.astype(np.int64) - 53
        order = np.argsort(exps, kind="stable")
        ints, exps = ints[order], exps[order]
        starts = np.concatenate(([0], np.flatnonzero(np.diff(exps)) + 1))
        a = ints >> 36                    # ints = a 2^36 + b 2^18 + c, |a| <= 2^17
        b = (ints >> 18) & 0x3FFFF
        c = ints & 0x3FFFF
        parts = [a, b, c, a * a, a * b, a * c, b * b, b * c, c * c]
        sums = [np.add.reduceat(p, starts).tolist() for p in parts]
        for g, e in enumerate(exps[starts].tolist()):
            sa, sb, sc, aa, ab, ac, bb, bc, cc = (s[g] for s in sums)
            self.n1 += ((sa << 36) + (sb << 18) + sc) << (e - BASE)
            square = (aa << 72) + (ab << 55) + ((2 * ac + bb) << 36) + (bc << 19) + cc
            self.n2 += square << (2 * e - BASE)
        self.n += int(values.size)

    def merge(self, other: ExactMoments) -> ExactMoments:
        """Add ``other``'s values to these (exact); returns self."""
        self.n += other.n
        self.n1 += other.n1
        self.n2 += other.n2
        return self

    @property
    def mean(self) -> float:
        """``S1 / n`` correctly rounded (0.0 without values)."""
        if self.n == 0:
            return 0.0
        return float(Fraction(self.n1, self.n << -BASE))

    @property
    def std(self) -> float:
        """The population standard deviation ``sqrt(S2/n - (S1/n)^2)``, from the exact value."""
        if self.n == 0:
            return 0.0
        var = (Fraction(self.n2 * self.n * (1 << -BASE) - self.n1 * self.n1, self.n * self.n)
               / (1 << (-2 * BASE)))
        if var <= 0:
            return 0.0
        shift = 2 * (80 - (var.numerator.bit_length() - var.denominator.bit_length()) // 2)
        shift = max(shift, 0)
        root = math.isqrt((var.numerator << shift) // var.denominator)
        return float(Fraction(root, 1 << (shift // 2)))


class ColumnSummary:
    """What the rows seen so far say about one feature column.

    ``categorical`` columns (text, true/false, or named ``--categorical``)
    collect the category keys of the training rows; the others the exact
    moments of their training rows. A text column whose filled cells are
    mostly numbers counts them, to refuse it as the in-memory path does.
    """

    def __init__(self, name: str, kind: str, categorical: bool) -> None:
        self.name, self.kind = name, kind
        self.categorical = categorical or kind in ("text", "boolean")
        self.rows = 0
        self.filled = 0
        self.n_missing = 0
        self.missing_rows: list[int] = []
        self.moments = ExactMoments()
        self.keys: set[str] | None = set()
        self.n_bad = 0                       # text cells that are not numbers
        self.first_bad: list[tuple[int, Any]] = []

    def add(self, column: Any, train: np.ndarray) -> None:
        """Add a chunk's cells (a Series indexed by row number; ``train`` its mask (n,))."""
        pd = require("pandas", "reading CSV files")
        missing = column.isna().to_numpy()
        self.rows += len(column)
        self.filled += int((~missing).sum())
        if missing.any():
            self.n_missing += int(missing.sum())
            if len(self.missing_rows) < 5:
                self.missing_rows += column.index[missing][:5 - len(self.missing_rows)].tolist()
        kept = column[train & ~missing]
        if self.categorical:
            if self.kind == "text":
                filled = column[~missing]
                bad = pd.to_numeric(filled, errors="coerce").isna().to_numpy()
                self.n_bad += int(bad.sum())
                if len(self.first_bad) < 3 and bad.any():
                    self.first_bad += list(filled[bad].items())[:3 - len(self.first_bad)]
            if self.keys is not None:
                self.keys.update(category_key(v) for v in pd.unique(kept))
                if len(self.keys) > MAX_CATEGORIES:
                    self.keys = None
            return
        values = kept.to_numpy(np.float64)
        infinite = np.isinf(values)
        if infinite.any():
            row = kept.index[int(np.argmax(infinite))]
            raise ValueError(f"column {self.name!r} row {row}: expected a finite number, "
                             f"got {show_value(kept[row])}")
        self.moments.add(values)

    def merge(self, other: ColumnSummary) -> ColumnSummary:
        self.rows += other.rows
        self.filled += other.filled
        self.n_missing += other.n_missing
        self.missing_rows = sorted(self.missing_rows + other.missing_rows)[:5]
        self.moments.merge(other.moments)
        self.keys = (None if self.keys is None or other.keys is None
                     else self.keys | other.keys)
        if self.keys is not None and len(self.keys) > MAX_CATEGORIES:
            self.keys = None
        self.n_bad += other.n_bad
        self.first_bad = sorted(self.first_bad + other.first_bad, key=lambda rv: rv[0])[:3]
        return self

    def finish(self, fill_missing: bool, explicit: bool) -> tuple[str, Any]:
        """``("numeric", {"mean", "scale"})`` or ``("categorical", [keys])``."""
        if not self.categorical:
            m = self.moments
            if m.n == 0:
                return "numeric", {"mean": 0.0, "scale": 1.0}
            mean, scale = m.mean, m.std
            if not (math.isfinite(mean) and math.isfinite(scale)):
                raise ValueError(f"column {self.name!r} holds numbers too large to standardize; "
                                 "rescale the column (say, to other units) first")
            return "numeric", {"mean": mean, "scale": scale if scale > 0 else 1.0}
        if (not explicit and self.kind == "text" and self.n_bad
                and self.n_bad <= 0.5 * self.filled):
            shown = ", ".join(f"row {r}: {show_value(v)}" for r, v in self.first_bad)
            more = f" and {self.n_bad - 3} more" if self.n_bad > 3 else ""
            raise ValueError(
                f"column {self.name!r} holds numbers except in {self.n_bad} cell(s) "
                f"({shown}{more}); fix or empty those cells, or list the column as "
                "categorical to one-hot encode it")
        if self.keys is None:
            raise ValueError(f"column {self.name!r} has more than {MAX_CATEGORIES:,} categories "
                             f"in the training rows; leave it out with --drop {self.name}")
        keys = set(self.keys)
        if fill_missing or not keys:
            keys.add(MISSING_CATEGORY)
        return "categorical", sorted(keys, key=category_sort_key)


class TargetSummary:
    """What the rows seen so far say about the target column (kind from the whole file)."""

    def __init__(self, name: str, kind: str) -> None:
        self.name, self.kind = name, kind
        self.numeric = kind in ("number", "integer")
        self.whole = True
        self.distinct: dict[str, Any] = {}   # at most 11 keys, all rows: guessing the task
        self.labels: dict[str, Any] = {}     # training rows' classes, key -> label
        self.counts: dict[str, int] = {}
        self.moments = ExactMoments()         # training rows, for regression
        self.n_missing = 0
        self.missing_rows: list[int] = []
        self.first_text: tuple[int, Any] | None = None

    def add(self, column: Any, train: np.ndarray) -> None:
        pd = require("pandas", "reading CSV files")
        missing = column.isna().to_numpy()
        if missing.any():
            self.n_missing += int(missing.sum())
            if len(self.missing_rows) < 5:
                self.missing_rows += column.index[missing][:5 - len(self.missing_rows)].tolist()
        filled = column[~missing]
        if len(self.distinct) <= 10:
            for value in pd.unique(filled):
                self.distinct.setdefault(category_key(value), value)
        kept = column[train & ~missing]
        if len(self.labels) <= MAX_CATEGORIES:
            for value, count in kept.value_counts(sort=False).items():
                key = category_key(value)
                self.labels.setdefault(key, plain_label(value))
                self.counts[key] = self.counts.get(key, 0) + int(count)
        if not self.numeric:
            if self.first_text is None and len(filled):
                self.first_text = (filled.index[0], filled.iloc[0])
            return
        values = filled.to_numpy(np.float64)
        if self.whole and not np.all(np.mod(values, 1) == 0):
            self.whole = False
        self.moments.add(kept.to_numpy(np.float64))

    def merge(self, other: TargetSummary) -> TargetSummary:
        self.whole = self.whole and other.whole
        for key, value in other.distinct.items():
            if len(self.distinct) > 10:
                break
            self.distinct.setdefault(key, value)
        for key, label in other.labels.items():
            self.labels.setdefault(key, label)
            self.counts[key] = self.counts.get(key, 0) + other.counts[key]
        self.moments.merge(other.moments)
        self.n_missing += other.n_missing
        self.missing_rows = sorted(self.missing_rows + other.missing_rows)[:5]
        if other.first_text is not None and (self.first_text is None
                                             or other.first_text[0] < self.first_text[0]):
            self.first_text = other.first_text
        return self

    def task(self) -> str:
        """:func:`~slopes.columns.guess_task`'s answer over every row."""
        if not self.numeric:
            return "classify"
        return "classify" if self.whole and len(self.distinct) <= 10 else "regress"


class TableSummary:
    """The summaries of every feature column and the target, plus the rows per part.

    Parameters
    ----------
    features : list of str
    target : str
    kinds : dict of str to str
        Each column's kind, decided over all the partitions (``number``,
        ``integer``, ``text``, ``boolean``).
    categorical : list of str
        Numeric columns to one-hot encode.
    """

    def __init__(self, features: list[str], target: str, kinds: Mapping[str, str],
                 categorical: list[str]) -> None:
        self.features, self.categorical = list(features), list(categorical)
        self.columns = {name: ColumnSummary(name, kinds[name], name in categorical)
                        for name in features}
        self.target = TargetSummary(target, kinds[target])
        self.counts = {"rows": 0, "train": 0, "validation": 0, "test": 0}

    def add(self, chunk: Any, train: np.ndarray, validation: np.ndarray,
            test: np.ndarray) -> None:
        """Add one chunk (a DataFrame indexed by row number) and its part masks (n,)."""
        self.counts["rows"] += len(chunk)
        self.counts["train"] += int(train.sum())
        self.counts["validation"] += int(validation.sum())
        self.counts["test"] += int(test.sum())
        for name, column in self.columns.items():
            column.add(chunk[name], train)
        self.target.add(chunk[self.target.name], train)

    def merge(self, other: TableSummary) -> TableSummary:
        """Add another partition's summary to this one (exact); returns self."""
        for key, value in other.counts.items():
            self.counts[key] += value
        for name, column in self.columns.items():
            column.merge(other.columns[name])
        self.target.merge(other.target)
        return self

    def preprocessor(self, task: str | None, fill_missing: bool) -> TabularPreprocessor:
        """The fitted preprocessing these rows give, as ``TabularPreprocessor.fit`` would.

        Raises ``ValueError`` naming the column (and rows) for missing values
        without ``fill_missing``, too many categories, too few classes, text
        in a regression target.
        """
        target = self.target
        if target.n_missing:
            raise ValueError(f"the target column {target.name!r} is empty in "
                             f"{target.n_missing} row(s) (first rows "
                             f"{', '.join(map(str, target.missing_rows))}); drop those rows first")
        if not fill_missing:
            bad = [c for c in self.columns.values() if c.n_missing]
            if bad:
                where = ", ".join(f"{c.name!r} ({c.n_missing} row(s), first row "
                                  f"{c.missing_rows[0]})" for c in bad)
                raise ValueError(f"missing values in column {where}; fill or drop them, or "
                                 "use --fill-missing")
        numeric, categories = {}, {}
        for name, column in self.columns.items():
            kind, learned = column.finish(fill_missing, name in self.categorical)
            (numeric if kind == "numeric" else categories)[name] = learned
        task = task or target.task()
        params: dict[str, Any] = {
            "type": "TabularPreprocessor", "target": target.name, "task": task,
            "columns": self.features, "numeric": numeric, "categories": categories,
            "categorical": self.categorical, "classes": None,
            "standardize_target": task == "regress", "target_mean": 0.0, "target_scale": 1.0,
            "fill_missing": bool(fill_missing)}
        if task == "classify":
            labels = target.labels
            if len(labels) > MAX_CATEGORIES:
                raise ValueError(f"the target {target.name!r} has more than {MAX_CATEGORIES:,} "
                                 "classes in the training rows; use --task regress if it is a "
                                 "number")
            if len(labels) < 2:
                raise ValueError(f"target column {target.name!r} has {len(labels)} class(es) "
                                 f"({', '.join(labels) or 'none'}); classification needs at "
                                 "least 2")
            params["classes"] = [labels[k] for k in sorted(labels, key=category_sort_key)]
        else:
            if not target.numeric:
                row, value = target.first_text or (0, None)
                raise ValueError(f"target column {target.name!r} must hold numbers for "
                                 f"regression, got {show_value(value)} in row {row}")
            mean, scale = target.moments.mean, target.moments.std
            if not (math.isfinite(mean) and math.isfinite(scale)):
                raise ValueError(f"column {target.name!r} holds numbers too large to "
                                 "standardize; rescale the column (say, to other units) first")
            params["target_mean"], params["target_scale"] = mean, scale if scale > 0 else 1.0
        return TabularPreprocessor.from_dict(params)
