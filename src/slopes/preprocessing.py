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

__all__ = ["TabularPreprocessor", "guess_task", "MISSING_CATEGORY"]

#: The category given to missing values of a categorical column with ``fill_missing``.
MISSING_CATEGORY = "(missing)"
TASKS = ("classify", "regress")
_MAX_CLASSES_GUESSED = 10


def _pandas():
    return require("pandas", "tabular preprocessing")


def _key(value: object) -> str:
    """The string a category or class is matched by: ``1``, ``1.0`` and ``"1"`` agree."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number) and number == int(number):
            return str(int(number))
        return repr(number)
    return str(value).strip()


def _plain(value: object) -> Any:
    """A JSON-ready Python value for a class label (int, float, bool or str)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return int(number) if math.isfinite(number) and number == int(number) else number
    return str(value)


def _is_numeric(series: Any) -> bool:
    pd = _pandas()
    return bool(pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))


def _rows(index: Iterable[object], limit: int = 5) -> str:
    rows = list(index)
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def guess_task(target: Any) -> str:
    """``"classify"`` or ``"regress"`` for a target column (a pandas Series).

    Text, booleans and whole numbers with at most 10 distinct values are
    classes; any other numbers are a regression target.
    """
    values = target.dropna()
    if not _is_numeric(values):
        return "classify"
    whole = bool(np.all(np.mod(values.to_numpy(float), 1) == 0))
    return "classify" if whole and values.nunique() <= _MAX_CLASSES_GUESSED else "regress"


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

    Attributes (after :meth:`fit`)
    ------------------------------
    feature_names : list of str
        The columns of :meth:`transform`'s output: ``gre``, ``rank=1``...
    classes : list or None
        The class labels, in the order of the network's outputs.
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
            if name not in self.categorical and _is_numeric(column):
                values = column.to_numpy(float)
                mean = float(np.nanmean(values)) if np.isfinite(values).any() else 0.0
                scale = float(np.nanstd(values)) if np.isfinite(values).any() else 1.0
                if not np.isfinite(values[~np.isnan(values)]).all():
                    raise ValueError(f"column {name!r} holds infinite values")
                # A constant column keeps scale 1: it becomes all zeros, nothing divides by 0.
                numeric[name] = {"mean": mean, "scale": scale if scale > 0 else 1.0}
            else:
                keys = {_key(v) for v in column.dropna()}
                if self.fill_missing:
                    keys.add(MISSING_CATEGORY)
                categories[name] = sorted(keys, key=_sort_key)
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
            labels = {}
            for value in target:
                labels.setdefault(_key(value), _plain(value))
            if len(labels) < 2:
                raise ValueError(
                    f"target column {self.target!r} has {len(labels)} class(es) "
                    f"({', '.join(labels) or 'none'}); classification needs at least 2"
                )
            self.classes = [labels[k] for k in sorted(labels, key=_sort_key)]
        else:
            if not _is_numeric(target):
                bad = target[pd_to_numeric(target).isna()]
                raise ValueError(
                    f"target column {self.target!r} must hold numbers for regression, "
                    f"got {_show(bad.iloc[0])} in row {bad.index[0]}"
                )
            values = target.to_numpy(float)
            self.classes = None
            if self.standardize_target:
                scale = float(values.std())
                self.target_mean = float(values.mean())
                self.target_scale = scale if scale > 0 else 1.0

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
        hint = "" if self.fill_missing else "; fill or drop them, or use fill_missing=True"
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
        blocks = []
        for name in self.columns:
            column = data[name]
            if name in self.numeric:
                values = self._numeric_values(name, column)
                stats = self.numeric[name]
                blocks.append(((values - stats["mean"]) / stats["scale"]).reshape(-1, 1))
            else:
                blocks.append(self._one_hot(name, column))
        return np.hstack(blocks).astype(dtype)

    def _numeric_values(self, name: str, column: Any) -> np.ndarray:
        numbers_ = pd_to_numeric(column)
        bad = numbers_.isna() & column.notna()
        if bad.any():
            row = bad.idxmax()
            raise ValueError(
                f"column {name!r} row {row}: expected a number, got {_show(column[row])}"
            )
        values = numbers_.to_numpy(float)
        if self.fill_missing:
            values = np.where(np.isnan(values), self.numeric[name]["mean"], values)
        infinite = ~np.isfinite(values)
        if infinite.any():
            row = column.index[int(np.argmax(infinite))]
            raise ValueError(f"column {name!r} row {row}: expected a finite number, got inf")
        return values

    def _one_hot(self, name: str, column: Any) -> np.ndarray:
        pd = _pandas()
        known = self.categories[name]
        keys = column.map(lambda v: MISSING_CATEGORY if _isna(v) else _key(v))
        unseen = ~keys.isin(known)
        if unseen.any():
            row = unseen.idxmax()
            raise ValueError(
                f"column {name!r} row {row}: category {_show(column[row])} was never seen in "
                f"training; known categories: {', '.join(known)}"
            )
        codes = pd.Categorical(keys, categories=known).codes
        return np.eye(len(known))[codes]

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
        if not self.fill_missing or self.task == "classify":
            missing = target.isna()
            if missing.any():
                raise ValueError(
                    f"target column {self.target!r} is missing in "
                    f"{int(missing.sum())} row(s) (rows {_rows(target.index[missing])})"
                )
        if self.task == "classify":
            lookup = {_key(c): i for i, c in enumerate(self.classes)}
            keys = target.map(_key)
            unseen = ~keys.isin(list(lookup))
            if unseen.any():
                row = unseen.idxmax()
                raise ValueError(
                    f"target column {self.target!r} row {row}: class {_show(target[row])} was "
                    f"never seen in training; known classes: "
                    f"{', '.join(map(str, self.classes))}"
                )
            return keys.map(lookup).to_numpy(np.int64)
        values = self._numeric_values(self.target, target)
        return ((values - self.target_mean) / self.target_scale).astype(dtype)

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
        """Rebuild a fitted preprocessor from :meth:`to_dict`'s output (validated)."""
        if not isinstance(params, Mapping) or params.get("type") != "TabularPreprocessor":
            raise ValueError(
                "preprocessing parameters must be a dict with type 'TabularPreprocessor', "
                f"got {type(params).__name__}"
            )
        try:
            prep = cls(target=params["target"], categorical=params.get("categorical", []),
                       task=params["task"],
                       standardize_target=bool(params.get("standardize_target", False)),
                       fill_missing=bool(params.get("fill_missing", False)))
            prep.columns = [str(c) for c in params["columns"]]
            prep.numeric = {
                str(k): {"mean": float(v["mean"]), "scale": float(v["scale"])}
                for k, v in params["numeric"].items()
            }
            prep.categories = {str(k): [str(c) for c in v]
                               for k, v in params["categories"].items()}
            classes = params.get("classes")
            prep.classes = None if classes is None else list(classes)
            prep.target_mean = float(params.get("target_mean", 0.0))
            prep.target_scale = float(params.get("target_scale", 1.0))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"preprocessing parameters are incomplete or malformed: "
                             f"{type(exc).__name__}: {exc}") from exc
        for name in prep.columns:
            if (name in prep.numeric) == (name in prep.categories):
                raise ValueError(
                    f"preprocessing parameters: column {name!r} must be either numeric or "
                    "categorical"
                )
        scales = [s["scale"] for s in prep.numeric.values()] + [prep.target_scale]
        means = [s["mean"] for s in prep.numeric.values()] + [prep.target_mean]
        if not all(math.isfinite(v) for v in scales + means) or min(scales) <= 0:
            raise ValueError("preprocessing parameters: means must be finite and scales > 0")
        if prep.task == "classify" and (not prep.classes or len(prep.classes) < 2):
            raise ValueError("preprocessing parameters: classification needs >= 2 classes")
        return prep

    def __repr__(self) -> str:
        if not self.fitted:
            return f"TabularPreprocessor(target={self.target!r}, not fitted)"
        return (
            f"TabularPreprocessor(target={self.target!r}, task={self.task!r}, "
            f"{len(self.numeric)} numeric, {len(self.categories)} categorical -> "
            f"{self.n_features} features)"
        )


def pd_to_numeric(column: Any) -> Any:
    """``pandas.to_numeric`` with non-numbers as NaN (so the caller can name the row)."""
    return _pandas().to_numeric(column, errors="coerce")


def _show(value: object) -> str:
    """A cell value for a message: ``'abc'`` for text, ``9`` for numbers (not ``np.int64(9)``)."""
    if hasattr(value, "item"):
        value = value.item()
    return repr(value)


def _isna(value: object) -> bool:
    return bool(_pandas().isna(value))


def _sort_key(key: str) -> tuple[int, float, str]:
    # Numbers sort as numbers (2 before 10), then text alphabetically.
    try:
        return (0, float(key), key)
    except ValueError:
        return (1, 0.0, key)
