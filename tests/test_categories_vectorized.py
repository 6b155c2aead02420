"""One-hot encoding through category codes gives exactly the matrix of the per-cell encoding.

:class:`~slopes.preprocessing.TabularPreprocessor` learns categories and
classes, and one-hot encodes, through :func:`slopes.columns.category_codes`
(``pandas.factorize``: one pass in C). The reference below is the previous
implementation, a Python call per cell (:func:`reference_keys`), kept here
verbatim in what it computes: the categories, the classes, the matrix and
the message refusing an unseen category must all be the same.
"""

from __future__ import annotations

import io
import math
import numbers
import sys
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from slopes.columns import (  # noqa: E402
    MISSING_CATEGORY,
    category_codes,
    category_keys,
    category_sort_key,
    check_mostly_numeric_column,
    has_leading_zero_codes,
    plain_label,
)
from slopes.commands.tables import (  # noqa: E402
    READ_OPTIONS,
    ColumnTypes,
    header_names,
    read_table,
)
from slopes.errors import CommandError  # noqa: E402
from slopes.preprocessing import TabularPreprocessor  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from generated_tables import tables  # noqa: E402


# ------------------------------------------------------- the previous implementation
def reference_key(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number) and number == int(number):
            return str(int(number))
        return repr(number)
    return str(value).strip()


def reference_keys(column: pd.Series) -> pd.Series:
    """A Python call per cell, as before."""
    return column.map(lambda v: MISSING_CATEGORY if pd.isna(v) else reference_key(v))


def reference_one_hot(column: pd.Series, known: list[str]) -> np.ndarray:
    keys = reference_keys(column)
    unseen = ~keys.isin(known)
    if unseen.any():
        row = unseen.idxmax()
        raise ValueError(f"row {row}: category {column[row]!r}")
    codes = pd.Categorical(keys, categories=known).codes
    return np.eye(len(known))[codes]


def reference_transform(prep: TabularPreprocessor, data: pd.DataFrame,
                        dtype: object = np.float64) -> np.ndarray:
    """Blocks, ``hstack`` and ``astype``, as ``transform`` was written before."""
    blocks = []
    for name in prep.columns:
        column = data[name]
        if name in prep.numeric:
            values = pd.to_numeric(column, errors="coerce").to_numpy(float)
            stats = prep.numeric[name]
            if prep.fill_missing:
                values = np.where(np.isnan(values), stats["mean"], values)
            blocks.append(((values - stats["mean"]) / stats["scale"]).reshape(-1, 1))
        else:
            blocks.append(reference_one_hot(column, prep.categories[name]))
    return np.hstack(blocks).astype(dtype)


def reference_fit(prep: TabularPreprocessor, data: pd.DataFrame) -> tuple[dict, list | None]:
    """The categories and classes a per-cell pass learns, for ``prep``'s columns."""
    categories = {}
    for name in prep.categories:
        keys = {reference_key(v) for v in data[name].dropna()}
        if prep.fill_missing:
            keys.add(MISSING_CATEGORY)
        categories[name] = sorted(keys, key=category_sort_key)
    classes = None
    if prep.task == "classify":
        labels: dict = {}
        for value in data[prep.target]:
            labels.setdefault(reference_key(value), plain_label(value))
        classes = [labels[k] for k in sorted(labels, key=category_sort_key)]
    return categories, classes


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


# ------------------------------------------------------------------------- tests
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables(min_rows=20, max_rows=80), dtype=st.sampled_from([np.float64, np.float32]))
def test_generated_tables_give_the_same_matrix(table, dtype):
    """Unicode, spaces, 'nan'/'None' text, missing cells, zip codes, codes above 2**24."""
    data = _read(table)
    prep = TabularPreprocessor(target=table.target, categorical=table.categorical,
                               task=table.task, fill_missing=table.fill_missing).fit(data)
    categories, classes = reference_fit(prep, data)
    assert prep.categories == categories
    assert prep.classes == classes
    assert [type(c) for c in prep.classes or []] == [type(c) for c in classes or []]
    assert same(prep.transform(data, dtype=dtype), reference_transform(prep, data, dtype))
    for name in prep.categories:
        assert reference_keys(data[name]).tolist() == category_keys(data[name]).tolist()


def _read(table) -> pd.DataFrame:
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        return read_table(table.write(folder))


OBJECT_COLUMNS = [
    [True, 1, 1.0, False, 0, "True", "1", np.nan],       # True == 1, but two categories
    ["a", 1, 2.5, None, " a ", "a"],                       # text and numbers mixed
    [True, False, np.nan, True],                           # booleans with a missing cell
    [1, 2**70, 2**70 + 1, 1.0, None],                      # integers past float's digits
    ["Zürich", "北京", "nan", "None", "", " ", "x,y"],      # unicode; text that looks missing
    [np.float32(0.1), 0.1, np.nan, -0.0, 0.0, float("inf")],
    [pd.NA, "x", None, "x "],
]


@pytest.mark.parametrize("values", OBJECT_COLUMNS)
def test_object_columns_give_the_per_cell_keys(values):
    column = pd.Series(values, dtype=object, index=range(10, 10 + len(values)))
    assert category_keys(column).tolist() == reference_keys(column).tolist()
    known = sorted(set(reference_keys(column)), key=category_sort_key)
    assert category_codes(column, known).tolist() == pd.Categorical(
        reference_keys(column), categories=known).codes.tolist()


@pytest.mark.parametrize("dtype", [None, "str", "category", "boolean", "Int64"])
def test_typed_columns_give_the_per_cell_keys(dtype):
    values = {"boolean": [True, False, None, True], "Int64": [1, None, 3, 2**40]}.get(
        dtype, ["b", "a", None, "b ", "10", "2"])
    column = pd.Series(values, dtype=dtype)
    assert category_keys(column).tolist() == reference_keys(column).tolist()


def test_an_unseen_category_is_refused_with_the_same_row_and_value():
    train = pd.DataFrame({"color": ["red", "blue", "red"], "y": [0, 1, 0]})
    prep = TabularPreprocessor(target="y").fit(train)
    new = pd.DataFrame({"color": ["red", "purple", "teal"], "y": [0, 1, 0]},
                       index=[7, 8, 9])
    with pytest.raises(ValueError, match="row 8: category 'purple'") as caught:
        prep.transform(new)
    assert str(caught.value) == ("column 'color' row 8: category 'purple' was never seen in "
                                 "training; known categories: blue, red")
    with pytest.raises(ValueError, match=r"row 8: category 'purple'"):
        reference_one_hot(new["color"], prep.categories["color"])
    assert prep.unseen(new) == {8: "column 'color' = 'purple'", 9: "column 'color' = 'teal'"}


def test_an_unseen_mixed_object_category_is_refused_as_before():
    train = pd.DataFrame({"c": pd.Series([1, 2, 1], dtype=object), "y": [0, 1, 0]})
    prep = TabularPreprocessor(target="y", categorical=["c"]).fit(train)
    new = pd.DataFrame({"c": pd.Series([1, True], dtype=object), "y": [0, 1]})
    with pytest.raises(ValueError, match="column 'c' row 1: category True was never seen"):
        prep.transform(new)


def test_text_checks_read_each_distinct_value_as_each_cell():
    column = pd.Series(["1", "2", "x", "2", "3", "4", " 07"] * 3)
    assert has_leading_zero_codes(column)
    with pytest.raises(ValueError, match=r"holds numbers except in 3 cell\(s\) \(row 2: 'x', "
                                         r"row 9: 'x', row 16: 'x'\)"):
        check_mostly_numeric_column("c", column)


def test_a_large_table_transforms_without_a_call_per_cell(monkeypatch):
    """100,000 rows of 3 categories: category_key runs once per distinct value."""
    import slopes.columns as columns_module
    import slopes.preprocessing as prep_module

    calls = [0]
    original = columns_module.category_key

    def counted(value):
        calls[0] += 1
        return original(value)

    data = pd.DataFrame({"c": pd.Series(["a", "b", "c"] * 33_334, dtype=object),
                         "x": np.arange(100_002.0), "y": [0, 1] * 50_001})
    monkeypatch.setattr(columns_module, "category_key", counted)
    monkeypatch.setattr(prep_module, "category_key", counted)
    prep = TabularPreprocessor(target="y").fit(data)
    X = prep.transform(data)
    assert X.shape == (100_002, 4)
    assert calls[0] < 100


# ------------------------------------------------- column kinds, once per distinct value
class ReferenceColumnTypes(ColumnTypes):
    """ColumnTypes.add as it was: every test on every cell."""

    def add(self, text):
        import re

        from slopes.commands.tables import NA_TEXT
        boolean = {"True", "TRUE", "true", "False", "FALSE", "false"}
        decimal = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
        cells = {name: text[name].fillna("").str.strip() for name in self.names}
        if len(self.names) > 1:
            repeated = (cells[self.names[0]] == self.names[0]).to_numpy()
            for name in self.names[1:]:
                repeated = repeated & (cells[name] == name).to_numpy()
            if repeated.any():
                raise ValueError(f"row {text.index[int(np.argmax(repeated))]}")
        for name in self.names:
            column = cells[name]
            filled = column[~column.isin(NA_TEXT)]
            if filled.empty:
                continue
            self._filled.add(name)
            if name not in self._not_boolean and not filled.isin(boolean).all():
                self._not_boolean.add(name)
            if name in self._not_number:
                continue
            odd = filled[~filled.str.fullmatch(decimal)]
            if len(odd) and pd.to_numeric(odd, errors="coerce").isna().any():
                self._not_number.add(name)
                continue
            zeros = filled.str.match(r"^[+-]?0[0-9]")
            if zeros.any():
                self.leading_zero.setdefault(name, str(filled[zeros].iloc[0]))
                self._not_number.add(name)
            elif name not in self._not_integer and not filled.str.fullmatch(
                    r"[+-]?[0-9]+").all():
                self._not_integer.add(name)


def _kinds(cls, path, chunk_rows):
    names = header_names(path)
    types = cls(path, names)
    with pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=chunk_rows,
                     **READ_OPTIONS) as reader:
        start = 0
        for chunk in reader:
            chunk.index = pd.RangeIndex(start, start + len(chunk))
            start += len(chunk)
            chunk.columns = [str(c).strip() for c in chunk.columns]
            types.add(chunk)
    return types.kinds(), types.leading_zero


EXTRA_CELLS = ["TRUE", "false", " 7", "007", "-0.5", "1e5", "inf", "+3", ".5", "x", ""]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables(min_rows=20, max_rows=60), chunk_rows=st.sampled_from([3, 7, 50]),
       extra=st.lists(st.sampled_from(EXTRA_CELLS), min_size=0, max_size=60))
def test_column_kinds_are_decided_as_before(table, chunk_rows, extra, tmp_path_factory):
    """The kind of every column, and the first code with a leading zero, as a pass over
    every cell decided them (generated tables, with a column of odd cells besides)."""
    folder = tmp_path_factory.mktemp("kinds")
    frame = pd.read_csv(io.BytesIO(table.data), dtype=str, keep_default_na=False,
                        encoding="utf-8-sig")
    cells = (extra * (len(frame) // max(len(extra), 1) + 1))[:len(frame)] if extra else \
        ["1"] * len(frame)
    frame["odd"] = cells
    path = folder / "t.csv"
    frame.to_csv(path, index=False)
    assert _kinds(ColumnTypes, path, chunk_rows) == _kinds(ReferenceColumnTypes, path,
                                                           chunk_rows)


def test_a_repeated_header_line_is_found_in_a_factorized_column(tmp_path):
    path = tmp_path / "joined.csv"
    path.write_text("a,b\n" + "1,x\n2,y\n" * 20 + "a,b\n" + "3,x\n")
    with pytest.raises(CommandError, match="row 40 repeats the header line"):
        _kinds(ColumnTypes, path, 100)
