"""One column of a table, as slopes reads it: category keys, numbers, and the checks.

What the in-memory preprocessing (:class:`~slopes.preprocessing.TabularPreprocessor`)
and the streamed one (``slopes train --stream``) share, so that both read a
column the same way:

- categories and classes: :func:`category_key` (``1``, ``1.0`` and ``"1"`` are
  one category), :func:`category_keys` for a whole column
  (:data:`MISSING_CATEGORY` for a missing cell), :func:`category_sort_key`
  (the order they are stored in), :func:`plain_label` (a class label as JSON);
- numbers: :func:`is_numeric_column`, :func:`pd_to_numeric`, :func:`all_numbers`,
  :func:`has_leading_zero_codes` (``02139`` is a code, not an amount), and the
  standardization of a column, :func:`standardizer` and :func:`standardized`;
- the checks that name a column and a row: :func:`check_mostly_numeric`,
  :func:`check_no_infinity`, :func:`id_like_columns`, and :func:`guess_task`
  for a target column; :func:`show_value` shows a cell in their messages.

pandas is imported when a function needs it (``import slopes`` never does).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._optional import require

__all__ = ["MISSING_CATEGORY", "all_numbers", "category_key", "category_keys",
           "category_codes", "category_sort_key", "check_mostly_numeric",
           "check_mostly_numeric_column", "check_no_infinity", "distinct_codes", "guess_task",
           "has_leading_zero_codes", "id_like_columns", "is_numeric_column", "pd_to_numeric",
           "plain_label", "show_value", "standardized", "standardizer"]

#: The category given to missing values of a categorical column with ``fill_missing``.
MISSING_CATEGORY = "(missing)"
_MAX_CLASSES_GUESSED = 10
#: What ``pandas.api.types.infer_dtype`` says of an object column whose equal cells
#: (those ``pandas.factorize`` merges) always have the same category key.
_FACTORIZED = frozenset({"string", "empty", "integer", "floating", "mixed-integer-float",
                         "boolean"})


def _pandas():
    return require("pandas", "tabular preprocessing")


def category_key(value: object) -> str:
    """The string a category or class is matched by: ``1``, ``1.0`` and ``"1"`` agree."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number) and number == int(number):
            return str(int(number))
        return repr(number)
    return str(value).strip()


def plain_label(value: object) -> Any:
    """A JSON-ready Python value for a class label (int, float, bool or str)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return int(number) if math.isfinite(number) and number == int(number) else number
    return str(value)


def is_numeric_column(series: Any) -> bool:
    """Whether a pandas Series holds numbers (booleans are not numbers here)."""
    pd = _pandas()
    return bool(pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))


def guess_task(target: Any) -> str:
    """``"classify"`` or ``"regress"`` for a target column (a pandas Series).

    Text, booleans and whole numbers with at most 10 distinct values are
    classes; any other numbers are a regression target.
    """
    values = target.dropna()
    if not is_numeric_column(values):
        return "classify"
    whole = bool(np.all(np.mod(values.to_numpy(float), 1) == 0))
    return "classify" if whole and values.nunique() <= _MAX_CLASSES_GUESSED else "regress"


def pd_to_numeric(column: Any) -> Any:
    """``pandas.to_numeric`` with non-numbers as NaN (so the caller can name the row).

    A column of text cells with few distinct values (categories, codes) is
    converted once per distinct value (:func:`distinct_codes`), not once per
    cell: the same Series, with ``column``'s index.
    """
    pd = _pandas()
    if len(column) and pd.api.types.is_string_dtype(column.dtype):  # object or str cells
        found = distinct_codes(column)
        if found is not None and 2 * len(found[1]) <= len(column):
            codes, distinct = found
            converted = pd.to_numeric(pd.Series(distinct, dtype=object), errors="coerce")
            if (codes < 0).any():  # missing cells: NaN, so floats, as pandas gives
                values = np.append(converted.to_numpy(float), np.nan)[codes]
            else:
                values = converted.to_numpy()[codes]
            return pd.Series(values, index=column.index, name=column.name)
    return pd.to_numeric(column, errors="coerce")


def show_value(value: object) -> str:
    """A cell value for a message: ``'abc'`` for text, ``9`` for numbers (not ``np.int64(9)``)."""
    if hasattr(value, "item"):
        value = value.item()
    return repr(value)


def _isna(value: object) -> bool:
    return bool(_pandas().isna(value))


def distinct_codes(column: Any) -> tuple[np.ndarray, Any] | None:
    """``(codes, distinct)``: each cell's position in ``distinct``, or -1 for a missing cell.

    ``pandas.factorize``: one pass in C, no Python call per cell. Cells that
    compare equal share a code, so a column of Python objects mixing booleans
    and numbers (``True == 1``, yet ``'True'`` and ``'1'`` are two categories)
    cannot be factorized this way: None then, and the caller looks at each
    cell apart.

    Returns
    -------
    codes : array of int (n,)
    distinct : array-like (k,)
        The distinct filled values, in the order of their first cell.
    """
    pd = _pandas()
    if column.dtype == object and pd.api.types.infer_dtype(column, skipna=True) not in _FACTORIZED:
        return None
    codes, distinct = pd.factorize(column, use_na_sentinel=True)
    return np.asarray(codes), distinct


def category_keys(column: Any) -> Any:
    """:func:`category_key` of each cell of ``column`` (``MISSING_CATEGORY`` for a missing one).

    Computed once per distinct value (:func:`distinct_codes`), not once per
    cell (a column of millions of rows has a few categories), except for a
    column of Python objects mixing booleans and numbers, whose cells are
    looked at one by one. An object Series with ``column``'s index.
    """
    pd = _pandas()
    found = distinct_codes(column)
    if found is None:
        keys = column.map(lambda v: MISSING_CATEGORY if _isna(v) else category_key(v))
        return keys.astype(object)
    codes, distinct = found
    table = np.array([category_key(v) for v in distinct] + [MISSING_CATEGORY], dtype=object)
    return pd.Series(table[codes], index=column.index, dtype=object, name=column.name)


def category_codes(column: Any, known: Sequence[str]) -> np.ndarray:
    """Each cell's position in ``known`` (category keys), -1 for a category not there.

    The codes of a one-hot encoding: the cell ``i`` of code ``c >= 0`` is the
    input ``c`` of the column's block. A missing cell is the category
    :data:`MISSING_CATEGORY`. No Python call per cell (:func:`distinct_codes`).

    Returns
    -------
    array of int64 (n,)
    """
    position = {key: k for k, key in enumerate(known)}
    found = distinct_codes(column)
    if found is None:
        keys = category_keys(column)
        return np.array([position.get(key, -1) for key in keys], dtype=np.int64)
    codes, distinct = found
    table = np.array([position.get(category_key(v), -1) for v in distinct]
                     + [position.get(MISSING_CATEGORY, -1)], dtype=np.int64)
    return table[codes]


def category_sort_key(key: str) -> tuple[int, float, str]:
    """The order categories and classes are stored in: numbers as numbers (2 before 10),
    then text alphabetically."""
    try:
        return (0, float(key), key)
    except ValueError:
        return (1, 0.0, key)


def all_numbers(column: Any) -> bool:
    """Whether a text column's filled cells are all numbers (``"1.5"``, ``"7"``)."""
    if is_numeric_column(column) or _pandas().api.types.is_bool_dtype(column):
        return False
    filled = column.dropna()
    return bool(len(filled)) and not _not_numbers(filled).any()


def _per_distinct(filled: Any, test: Any) -> np.ndarray:
    """``test`` (a Series of cells -> a boolean Series) of each cell of ``filled``, as an array,
    computed once per distinct value when the column can be factorized."""
    pd = _pandas()
    found = distinct_codes(filled)
    if found is None:
        return np.asarray(test(filled), dtype=bool)
    codes, distinct = found
    return np.asarray(test(pd.Series(distinct)), dtype=bool)[codes]


def _not_numbers(filled: Any) -> np.ndarray:
    """Which cells of ``filled`` (no missing cell) ``pandas.to_numeric`` does not read."""
    return _per_distinct(filled, lambda cells: pd_to_numeric(cells).isna())


def has_leading_zero_codes(column: Any) -> bool:
    """Whether a text column holds a whole number written with a leading zero (``02139``).

    Such cells are codes (zip codes, account numbers), not amounts: the column
    is one-hot encoded, never standardized, and ``02139`` stays ``'02139'``.
    """
    if is_numeric_column(column) or _pandas().api.types.is_bool_dtype(column):
        return False
    filled = column.dropna()
    return bool(len(filled)) and bool(_per_distinct(
        filled, lambda cells: cells.astype(str).str.strip().str.match(r"^[+-]?0[0-9]")).any())


def check_mostly_numeric(data: Any, columns: Sequence[str]) -> None:
    """Refuse columns of numbers with a few stray text cells; see
    :func:`check_mostly_numeric_column`."""
    for name in columns:
        check_mostly_numeric_column(name, data[name])


def check_mostly_numeric_column(name: str, column: Any) -> None:
    """Refuse a column of numbers with a few stray text cells (``'n/a'``, ``'12,5'``).

    pandas reads such a column as text, and it would be one-hot encoded with
    one category per distinct number: a silent wrong model. When at least
    half of the filled cells are numbers, the others are reported instead.
    """
    if is_numeric_column(column) or _pandas().api.types.is_bool_dtype(column):
        return
    filled = column.dropna()
    if filled.empty:
        return
    bad = _pandas().Series(_not_numbers(filled), index=filled.index)
    if not bad.any() or bad.mean() > 0.5:
        return
    rows = filled.index[bad]
    shown = ", ".join(f"row {r}: {show_value(filled[r])}" for r in rows[:3])
    more = f" and {len(rows) - 3} more" if len(rows) > 3 else ""
    raise ValueError(
        f"column {name!r} holds numbers except in {len(rows)} cell(s) ({shown}{more}); "
        "fix or empty those cells, or list the column as categorical to one-hot encode it"
    )


def check_no_infinity(name: str, column: Any, values: np.ndarray) -> None:
    """A ``ValueError`` naming the first row where ``values`` (``column`` as floats) is infinite."""
    infinite = np.isinf(values)
    if infinite.any():
        row = column.index[int(np.argmax(infinite))]
        raise ValueError(f"column {name!r} row {row}: expected a finite number, "
                         f"got {show_value(column[row])}")


def standardizer(name: str, column: Any) -> dict[str, float]:
    """``{"mean", "scale"}`` of a numeric column (NaN ignored), finite or a ``ValueError``."""
    values = column.to_numpy(float)
    check_no_infinity(name, column, values)
    filled = values[~np.isnan(values)]
    if filled.size == 0:
        return {"mean": 0.0, "scale": 1.0}
    with np.errstate(over="ignore", invalid="ignore"):
        # Around the first value: exact differences keep the digits of a small spread
        # at a large offset (Unix times), and the streamed path computes the same way.
        shift = float(filled[0])
        centred = filled - shift
        mean = shift + float(np.mean(centred))
        scale = float(np.std(centred))
    if not (math.isfinite(mean) and math.isfinite(scale)):
        raise ValueError(
            f"column {name!r} holds numbers too large to standardize (up to "
            f"{np.max(np.abs(filled)):.3g}); rescale the column (say, to other units) first"
        )
    # A constant column keeps scale 1: it becomes all zeros, nothing divides by 0.
    return {"mean": mean, "scale": scale if scale > 0 else 1.0}


def standardized(name: str, column: Any, values: np.ndarray,
                  stats: Mapping[str, float]) -> np.ndarray:
    """``(values - mean) / scale`` as a column ``(n, 1)``; a value that overflows is an error."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = ((values - stats["mean"]) / stats["scale"]).reshape(-1, 1)
    bad = ~np.isfinite(out[:, 0]) & ~np.isnan(values)
    if bad.any():
        row = column.index[int(np.argmax(bad))]
        raise ValueError(
            f"column {name!r} row {row}: {show_value(column[row])} is too large for the scale the "
            f"model learned (mean {stats['mean']:.4g}, scale {stats['scale']:.4g})"
        )
    return out


def id_like_columns(data: Any, columns: Sequence[str], min_rows: int = 20) -> list[str]:
    """Columns of ``data`` whose text or whole-number values differ in every row (IDs).

    Such a column cannot generalize to new rows: one-hot encoded, it gives
    one input per row; standardized, a row number. Only tables of at least
    ``min_rows`` rows are judged.
    """
    pd = _pandas()
    found = []
    if len(data) < min_rows:
        return found
    for name in columns:
        column = data[name]
        if column.isna().any() or column.nunique() != len(column):
            continue
        if pd.api.types.is_integer_dtype(column) or not is_numeric_column(column):
            found.append(name)
    return found
