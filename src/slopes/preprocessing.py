"""Tabular preprocessing: turn a pandas DataFrame into the numbers a network reads.

:class:`TabularPreprocessor` is fitted once on training data and then applied
to any new rows:

- numeric columns are standardized, ``(x - mean) / scale``; a constant column
  keeps a scale of 1, so nothing is divided by zero;
- text columns (and integer columns named in ``categorical``, like the
  course's ``rank``) are one-hot encoded, one column per category seen;
- the target is label-encoded for classification (classes ``0..k-1``), or
  kept as a number for regression, optionally standardized.

pandas does the work; only the learned parameters (column names, categories,
means, scales, classes) are kept, as plain JSON-ready values
(:meth:`TabularPreprocessor.to_dict`), so a model file never needs pickle.
How one column is read (category keys, numbers, the checks that name a row)
is in :mod:`slopes.columns`, which the streamed preprocessing shares.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"gre": [380, 660, 800], "rank": [3, 1, 4], "admit": [0, 1, 1]})
>>> prep = TabularPreprocessor(target="admit", categorical=["rank"]).fit(df)
>>> prep.feature_names
['gre', 'rank=1', 'rank=3', 'rank=4']
>>> prep.transform(df).shape
(3, 4)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ._optional import require
from .columns import (
    MISSING_CATEGORY,
    all_numbers,
    category_codes,
    category_key,
    category_keys,
    category_sort_key,
    check_mostly_numeric_column,
    check_no_infinity,
    distinct_codes,
    guess_task,
    has_leading_zero_codes,
    is_numeric_column,
    pd_to_numeric,
    plain_label,
    show_value,
    standardized,
    standardizer,
)

__all__ = ["TabularPreprocessor"]

TASKS = ("classify", "regress")


def _pandas():
    return require("pandas", "tabular preprocessing")


def _distinct_keys(column: Any) -> set[str]:
    """The category keys of ``column``'s filled cells, once per distinct value."""
    found = distinct_codes(column)
    if found is None:
        return {category_key(v) for v in column.dropna()}
    return {category_key(v) for v in found[1]}


def _first_labels(target: Any) -> dict[str, Any]:
    """``{category key: label}`` of a target column, each key's label from its first cell."""
    found = distinct_codes(target)
    labels: dict[str, Any] = {}
    if found is None or (found[0] < 0).any():
        for value in target:
            labels.setdefault(category_key(value), plain_label(value))
        return labels
    for value in found[1]:  # distinct values in the order of their first cell
        labels.setdefault(category_key(value), plain_label(value))
    return labels


def _rows(index: Iterable[object], limit: int = 5) -> str:
    rows = list(index)
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


class TabularPreprocessor:
    """One-hot encoding and standardization for a table, fitted once, stored as JSON.

    Parameters
    ----------
    target : str or None
        The column to predict; it is left out of the features.
    categorical : sequence of str
        Numeric columns to one-hot encode instead of standardizing (the
        course's ``rank``). Text and boolean columns are always categorical.
    task : ``"classify"``, ``"regress"`` or None
        What the target is; ``None`` guesses it with :func:`guess_task`.
    standardize_target : bool
        For regression, train on the standardized target (and turn
        predictions back into the target's units with :meth:`inverse_target`).
    fill_missing : bool
        ``False`` (the default) makes a missing value an error that names the
        columns and rows. ``True`` fills it: the column's mean for a numeric
        column, the category ``"(missing)"`` for a categorical one.

    Attributes
    ----------
    feature_names : list of str
        After :meth:`fit`: the columns of :meth:`transform`'s output: ``gre``, ``rank=1``...
    classes : list or None
        After :meth:`fit`: the class labels, in the order of the network's outputs.
    """

    def __init__(
        self,
        target: str | None = None,
        categorical: Sequence[str] = (),
        task: str | None = None,
        standardize_target: bool = False,
        fill_missing: bool = False,
    ) -> None:
        if task is not None and task not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)} or None, got {task!r}")
        if isinstance(categorical, str):
            categorical = [c.strip() for c in categorical.split(",") if c.strip()]
        self.target = target
        self.categorical = list(categorical)
        self.task = task
        self.standardize_target = bool(standardize_target)
        self.fill_missing = bool(fill_missing)
        self.columns: list[str] | None = None
        self.numeric: dict[str, dict[str, float]] = {}
        self.categories: dict[str, list[str]] = {}
        self.classes: list[Any] | None = None
        self.target_mean = 0.0
        self.target_scale = 1.0

    # ------------------------------------------------------------------ fitting
    @property
    def fitted(self) -> bool:
        return self.columns is not None

    def fit(self, data: Any) -> TabularPreprocessor:
        """Learn columns, means, scales, categories and classes from ``data`` (a DataFrame)."""
        pd = _pandas()
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
        if len(data) == 0:
            raise ValueError("the data has a header but no rows; expected at least one row")
        names = [str(c) for c in data.columns]
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"column names must be unique, got {', '.join(dupes)} twice")
        if self.target is not None and self.target not in names:
            raise ValueError(
                f"target column {self.target!r} is not in the data; columns are: "
                f"{', '.join(names)}"
            )
        unknown = [c for c in self.categorical if c not in names]
        if unknown:
            raise ValueError(
                f"categorical column(s) {', '.join(map(repr, unknown))} not in the data; "
                f"columns are: {', '.join(names)}"
            )
        if self.target in self.categorical:
            raise ValueError(f"the target {self.target!r} cannot also be a categorical feature")
        features = [c for c in names if c != self.target]
        if not features:
            raise ValueError(
                f"the data has no feature columns besides the target {self.target!r}"
            )
        self._check_missing(data, names if not self.fill_missing else [self.target]
                            if self.target else [])
        numeric: dict[str, dict[str, float]] = {}
        categories: dict[str, list[str]] = {}
        for name in features:
            column = data[name]
            if name not in self.categorical:
                check_mostly_numeric_column(name, column)
                if all_numbers(column) and not has_leading_zero_codes(column):
                    # Text cells that are all numbers (a slice of a table whose stray
                    # text cells fell elsewhere): standardize them, don't one-hot them.
                    column = pd_to_numeric(column)
            if name not in self.categorical and is_numeric_column(column):
                numeric[name] = standardizer(name, column)
            else:
                keys = _distinct_keys(column)
                if self.fill_missing:
                    keys.add(MISSING_CATEGORY)
                categories[name] = sorted(keys, key=category_sort_key)
        self.columns = features
        self.numeric = numeric
        self.categories = categories
        if self.target is not None:
            self._fit_target(data[self.target])
        return self

    def _fit_target(self, target: Any) -> None:
        task = self.task or guess_task(target)
        self.task = task
        if task == "classify":
            labels = _first_labels(target)
            if len(labels) < 2:
                raise ValueError(
                    f"target column {self.target!r} has {len(labels)} class(es) "
                    f"({', '.join(labels) or 'none'}); classification needs at least 2"
                )
            self.classes = [labels[k] for k in sorted(labels, key=category_sort_key)]
        else:
            if not is_numeric_column(target):
                bad = target[pd_to_numeric(target).isna()]
                raise ValueError(
                    f"target column {self.target!r} must hold numbers for regression, "
                    f"got {show_value(bad.iloc[0])} in row {bad.index[0]}"
                )
            stats = standardizer(self.target, target)
            self.classes = None
            if self.standardize_target:
                self.target_mean, self.target_scale = stats["mean"], stats["scale"]

    def _check_missing(self, data: Any, columns: Sequence[str]) -> None:
        columns = [c for c in columns if c is not None and c in data.columns]
        if not columns:
            return
        missing = data[columns].isna()
        counts = missing.sum()
        bad = counts[counts > 0]
        if bad.empty:
            return
        rows = missing.any(axis=1)
        where = ", ".join(f"{name!r} ({int(n)} row{'s' if n != 1 else ''})"
                          for name, n in bad.items())
        hint = "" if self.fill_missing else ("; fill or drop them, or use fill_missing=True "
                                             "(slopes train --fill-missing)")
        raise ValueError(
            f"missing values in {int(rows.sum())} row(s) (rows {_rows(data.index[rows])}): "
            f"column {where}{hint}"
        )

    # ---------------------------------------------------------------- transform
    @property
    def feature_names(self) -> list[str]:
        """Names of the output columns of :meth:`transform`, in order."""
        self._check_fitted()
        names: list[str] = []
        for name in self.columns:
            if name in self.numeric:
                names.append(name)
            else:
                names.extend(f"{name}={c}" for c in self.categories[name])
        return names

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    def transform(self, data: Any, dtype: object = np.float64) -> np.ndarray:
        """The feature matrix ``(n_samples, n_features)`` for ``data`` (a DataFrame).

        ``data`` must have exactly the fitted columns (the target column may be
        there too, and is ignored). Raises a ``ValueError`` naming any missing
        or extra column, a category never seen in fitting, or a value that is
        not a number in a numeric column, with its row.
        """
        pd = _pandas()
        self._check_fitted()
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
        self._check_columns(data)
        if len(data) == 0:
            raise ValueError("the data has a header but no rows; expected at least one row")
        if not self.fill_missing:
            self._check_missing(data, self.columns)
        # One matrix, filled column by column: its own size once, plus one column's
        # temporaries (no blocks, no hstack, no astype copy of the whole).
        out = np.empty((len(data), self.n_features), dtype=np.dtype(dtype))
        start = 0
        for name in self.columns:
            column = data[name]
            if name in self.numeric:
                values = self._numeric_values(name, column)
                out[:, start] = standardized(name, column, values, self.numeric[name])[:, 0]
                start += 1
            else:
                width = len(self.categories[name])
                self._one_hot(name, column, out[:, start:start + width])
                start += width
        return out

    def _numeric_values(self, name: str, column: Any, fill: bool = True) -> np.ndarray:
        numbers_ = pd_to_numeric(column)
        bad = numbers_.isna() & column.notna()
        if bad.any():
            row = bad.idxmax()
            raise ValueError(
                f"column {name!r} row {row}: expected a number, got {show_value(column[row])}"
            )
        values = numbers_.to_numpy(float)
        if self.fill_missing and fill:
            values = np.where(np.isnan(values), self.numeric[name]["mean"], values)
        check_no_infinity(name, column, values)
        return values

    def _one_hot(self, name: str, column: Any, out: np.ndarray) -> None:
        """Write ``column``'s one-hot block into ``out`` ``(n, categories)``: 1 at each
        cell's category code (:func:`~slopes.columns.category_codes`), 0 elsewhere."""
        known = self.categories[name]
        codes = category_codes(column, known)
        unseen = codes < 0
        if unseen.any():
            row = column.index[int(np.argmax(unseen))]
            raise ValueError(
                f"column {name!r} row {row}: category {show_value(column[row])} was never seen in "
                f"training; known categories: {', '.join(known)}"
            )
        out[...] = 0
        out[np.arange(len(codes)), codes] = 1

    def _check_columns(self, data: Any) -> None:
        given = [str(c) for c in data.columns]
        missing = [c for c in self.columns if c not in given]
        extra = [c for c in given if c not in self.columns and c != self.target]
        problems = []
        if missing:
            problems.append(f"missing column(s) {', '.join(map(repr, missing))}")
        if extra:
            problems.append(f"unexpected column(s) {', '.join(map(repr, extra))}")
        if problems:
            raise ValueError(
                f"{' and '.join(problems)}; the model expects the columns "
                f"{', '.join(self.columns)}"
                + (f" (and optionally the target {self.target!r})" if self.target else "")
            )

    def transform_target(self, target: Any, dtype: object = np.float64) -> np.ndarray:
        """The target for training: class indices ``(n,)`` or numbers ``(n,)``."""
        self._check_fitted()
        if self.target is None:
            raise ValueError("this preprocessor was fitted without a target column")
        # A missing target is never filled in: a made-up answer would be learned as true.
        missing = target.isna()
        if missing.any():
            raise ValueError(
                f"target column {self.target!r} is missing in "
                f"{int(missing.sum())} row(s) (rows {_rows(target.index[missing])})"
            )
        if self.task == "classify":
            lookup = {category_key(c): i for i, c in enumerate(self.classes)}
            keys = category_keys(target)
            unseen = ~keys.isin(list(lookup))
            if unseen.any():
                row = unseen.idxmax()
                raise ValueError(
                    f"target column {self.target!r} row {row}: class {show_value(target[row])} was "
                    f"never seen in training; known classes: "
                    f"{', '.join(map(str, self.classes))}"
                )
            return keys.map(lookup).to_numpy(np.int64)
        values = self._numeric_values(self.target, target, fill=False)
        stats = {"mean": self.target_mean, "scale": self.target_scale}
        return standardized(self.target, target, values, stats)[:, 0].astype(dtype)

    def unseen(self, data: Any) -> dict[Any, str]:
        """Rows of ``data`` holding a category or class never seen in fitting.

        Returns ``{row: "column 'color' = 'purple'"}`` for each such row (the
        first unseen value of the row), so a caller can leave those rows out
        of a score and say which they were; :meth:`transform` refuses them.
        """
        self._check_fitted()
        found: dict[Any, str] = {}
        checks = [(name, self.categories[name]) for name in self.columns
                  if name in self.categories and name in data.columns]
        if self.task == "classify" and self.target in data.columns:
            checks.append((self.target, [category_key(c) for c in self.classes]))
        for name, known in checks:
            column = data[name]
            keys = category_keys(column)
            for row in column.index[~keys.isin(known)]:
                found.setdefault(row, f"{'class' if name == self.target else 'column'} "
                                      f"{name!r} = {show_value(column[row])}")
        return found

    def far_out(self, data: Any, X: np.ndarray, limit: float = 100.0) -> dict[Any, str]:
        """Rows whose numbers lie far outside the fitting rows' range.

        ``X`` is ``transform(data)``: a standardized value past ``limit``
        (default 100) standard deviations from the fitting rows' mean is
        nothing the network learned from, and its prediction an
        extrapolation. Returns ``{row: "column 'gre' = 1e+200 (3.1e+197
        standard deviations from the training mean)"}`` for each such row
        (its farthest value), so a caller can say which rows they were.
        """
        self._check_fitted()
        names = self.feature_names
        numeric = [k for k, name in enumerate(names) if name in self.numeric]
        if not numeric or len(X) == 0:
            return {}
        distance = np.abs(np.asarray(X[:, numeric], dtype=np.float64))
        rows = np.flatnonzero(distance.max(axis=1) > limit)
        found: dict[Any, str] = {}
        for r in rows:
            k = numeric[int(distance[r].argmax())]
            name, row = names[k], data.index[r]
            found[row] = (f"column {name!r} = {show_value(data[name].iloc[r])} "
                          f"({distance[r].max():.2g} standard deviations from the training mean)")
        return found

    def inverse_target(self, values: np.ndarray) -> np.ndarray:
        """Regression predictions back in the target's units."""
        return np.asarray(values) * self.target_scale + self.target_mean

    def fit_transform(self, data: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`fit`, then ``(transform(data), transform_target(data[target]))``."""
        self.fit(data)
        y = None if self.target is None else self.transform_target(data[self.target])
        return self.transform(data), y

    def _check_fitted(self) -> None:
        if self.columns is None:
            raise ValueError("this TabularPreprocessor is not fitted yet; call fit(data) first")

    # -------------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        """The learned parameters as plain JSON-ready values."""
        self._check_fitted()
        return {
            "type": "TabularPreprocessor",
            "target": self.target,
            "task": self.task,
            "columns": list(self.columns),
            "numeric": {k: dict(v) for k, v in self.numeric.items()},
            "categories": {k: list(v) for k, v in self.categories.items()},
            "categorical": list(self.categorical),
            "classes": None if self.classes is None else list(self.classes),
            "standardize_target": self.standardize_target,
            "target_mean": self.target_mean,
            "target_scale": self.target_scale,
            "fill_missing": self.fill_missing,
        }

    @classmethod
    def from_dict(cls, params: Mapping[str, Any]) -> TabularPreprocessor:
        """Rebuild a fitted preprocessor from :meth:`to_dict`'s output, checking every value.

        The parameters usually come from a model file, so nothing is coerced:
        a number written as a string or a list where an object belongs is an
        error, not a surprise at prediction time.

        Raises
        ------
        ValueError
            Naming the first entry that is missing, of the wrong type or
            inconsistent with the others (columns that are neither numeric
            nor categorical, duplicate classes such as ``1`` and ``"1"``, a
            scale that is not a positive finite number...).
        """
        def short(value: Any) -> str:
            text = repr(value) if isinstance(value, (str, bool, numbers.Real)) or value is None \
                else f"a {type(value).__name__}"
            return text if len(text) <= 60 else text[:57] + "..."

        def fail(problem: str) -> ValueError:
            return ValueError(f"preprocessing parameters: {problem}")

        def number(where: str, value: Any) -> float:
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise fail(f"{where} must be a number, got {short(value)}")
            try:
                result = float(value)
            except OverflowError:
                result = math.inf
            if not math.isfinite(result):
                raise fail(f"{where} must be a finite number, got {short(value)}")
            return result

        def names(where: str, value: Any) -> list[str]:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise fail(f"{where} must be a list of strings, got {short(value)}")
            seen = set()
            for item in value:
                if item in seen:
                    raise fail(f"{where} names {item!r} twice")
                seen.add(item)
            return list(value)

        def flag(key: str) -> bool:
            value = params.get(key, False)
            if not isinstance(value, bool):
                raise fail(f"{key} must be true or false, got {short(value)}")
            return value

        if not isinstance(params, Mapping) or params.get("type") != "TabularPreprocessor":
            got = (f"type {short(params.get('type'))}" if isinstance(params, Mapping)
                   else type(params).__name__)
            raise ValueError(
                "preprocessing parameters must be a dict with type 'TabularPreprocessor', "
                f"got {got}"
            )
        missing = [k for k in ("target", "task", "columns", "numeric", "categories")
                   if k not in params]
        if missing:
            raise ValueError("preprocessing parameters are incomplete or malformed: no "
                             f"{', '.join(map(repr, missing))} entry")
        target, task = params["target"], params["task"]
        if target is not None and not isinstance(target, str):
            raise fail(f"target must be a column name (a string) or null, got {short(target)}")
        if task is not None and (not isinstance(task, str) or task not in TASKS):
            raise fail(f"task must be 'classify', 'regress' or null, got {short(task)}")
        if target is not None and task is None:
            raise fail(f"the target {target!r} needs a task, 'classify' or 'regress'")
        columns = names("columns", params["columns"])
        if not columns:
            raise fail("columns is empty; a preprocessor makes at least one feature")
        if target in columns:
            raise fail(f"the target {target!r} is also listed as a feature column")
        numeric: dict[str, dict[str, float]] = {}
        if not isinstance(params["numeric"], Mapping):
            raise fail("numeric must be an object mapping column names to {mean, scale}, got "
                       f"{short(params['numeric'])}")
        for name, stats in params["numeric"].items():
            where = f"numeric[{name!r}]"
            if not isinstance(stats, Mapping) or not {"mean", "scale"} <= set(stats):
                raise fail(f"{where} must be an object with a mean and a scale, got "
                           f"{short(stats)}")
            numeric[name] = {"mean": number(f"{where} mean", stats["mean"]),
                             "scale": number(f"{where} scale", stats["scale"])}
            if numeric[name]["scale"] <= 0:
                raise fail(f"{where} scale must be > 0, got {short(stats['scale'])}")
        if not isinstance(params["categories"], Mapping):
            raise fail("categories must be an object mapping column names to lists of "
                       f"categories, got {short(params['categories'])}")
        categories = {name: names(f"categories[{name!r}]", values)
                      for name, values in params["categories"].items()}
        for name, values in categories.items():
            if not values:
                raise fail(f"categories[{name!r}] is empty; a categorical column needs at least "
                           "one category")
        for name in columns:
            if (name in numeric) == (name in categories):
                raise fail(f"column {name!r} must be either numeric or categorical")
        unused = [name for name in (*numeric, *categories) if name not in columns]
        if unused:
            raise fail(f"numeric or categories name column(s) {', '.join(map(repr, unused))} "
                       "that are not in columns")
        target_mean = number("target_mean", params.get("target_mean", 0.0))
        target_scale = number("target_scale", params.get("target_scale", 1.0))
        if target_scale <= 0:
            raise fail(f"target_scale must be > 0, got {short(params.get('target_scale'))}")
        classes = params.get("classes")
        if task == "classify":
            if not isinstance(classes, list):
                raise fail(f"classes must be a list of class labels, got {short(classes)}")
            seen: dict[str, Any] = {}
            for label in classes:
                if not isinstance(label, (str, bool, numbers.Real)):
                    raise fail(f"class {short(label)} is not a string, number or true/false")
                if isinstance(label, numbers.Real) and not isinstance(label, bool):
                    number("a class", label)
                key = category_key(label)  # how transform_target matches labels: 1, 1.0, "1" agree
                if key in seen:
                    raise fail(f"classes {short(seen[key])} and {short(label)} are the same "
                               f"class (both read as {key!r})")
                seen[key] = label
            if len(classes) < 2:
                raise fail(f"classification needs >= 2 classes, got {len(classes)}")
        elif classes is not None:
            raise fail(f"classes are only for task 'classify', but the task is {task!r}")
        prep = cls(target=target, categorical=names("categorical", params.get("categorical", [])),
                   task=task, standardize_target=flag("standardize_target"),
                   fill_missing=flag("fill_missing"))
        prep.columns = columns
        prep.numeric = numeric
        prep.categories = categories
        prep.classes = None if classes is None else list(classes)
        prep.target_mean = target_mean
        prep.target_scale = target_scale
        return prep

    def __repr__(self) -> str:
        if not self.fitted:
            return f"TabularPreprocessor(target={self.target!r}, not fitted)"
        return (
            f"TabularPreprocessor(target={self.target!r}, task={self.task!r}, "
            f"{len(self.numeric)} numeric, {len(self.categories)} categorical -> "
            f"{self.n_features} features)"
        )
