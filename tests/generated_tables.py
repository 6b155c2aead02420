"""Generated CSV tables for differential tests: every door must give slopes' own answers.

A hypothesis strategy, :func:`tables`, draws small CSV files whose columns are
the kinds that have broken a door before, and says which column is which, so
a test can train on the file with ``slopes train`` and compare what two paths
learned or predicted (in memory and streamed, slopes and ONNX, ...).

API
---
``tables(task=None, bom=None, min_rows=40, max_rows=120)``
    A strategy of :class:`GeneratedTable`. ``task`` is ``"classify"``,
    ``"regress"`` or None (either); ``bom`` True/False forces a UTF-8
    byte-order mark at the start of the file (None: drawn).

:class:`GeneratedTable` (frozen dataclass)
    ``text``
        The CSV as text (starting with ``"\\ufeff"`` when ``bom``).
    ``data``
        The CSV as UTF-8 bytes (write it with ``Path.write_bytes``).
    ``target``, ``task``
        The target column's name, and ``"classify"`` (2 or 3 classes, each in
        at least 8 rows) or ``"regress"``.
    ``kinds``
        ``{column: kind}`` for every feature column, kinds from :data:`KINDS`.
    ``categorical``
        The columns to pass as ``--categorical`` (the integer codes).
    ``fill_missing``
        Whether some feature cell is missing (an empty cell, or ``nan``/``None``,
        which pandas reads as missing), so ``--fill-missing`` is needed.
    ``bom``, ``n_rows``
        Whether the file starts with a byte-order mark; the number of data rows.
    ``write(folder, name="table.csv")``
        Writes ``data`` to ``folder/name`` and returns the path.
    ``train_args(path)``
        ``[path, "--target", ..., "--categorical", ..., "--fill-missing"]``: the
        start of a ``slopes train`` command line for this table (add ``--out``,
        ``--epochs``, ... yourself).

Example
-------
>>> from hypothesis import given, settings
>>> @settings(max_examples=20, deadline=None)
... @given(table=tables())
... def test_something(table, tmp_path_factory):
...     path = table.write(tmp_path_factory.mktemp("t"))
...     slopes.cli.main(["train", *table.train_args(path), "--out", ...])
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

__all__ = ["GeneratedTable", "tables", "KINDS"]

#: The kinds of feature column a table may hold, and what each is.
KINDS = {
    "unix_time": "numbers with a large offset and a small spread (1.7e9 +- 5000, decimals)",
    "number": "small numbers, some cells possibly missing",
    "big_code": "integer category codes above 2**24 (100000001, 100000002, ...): --categorical",
    "zip": "codes with leading zeros (02139), to be read as text",
    "text": "text categories: plain, unicode, with spaces, and empty/whitespace/'nan'/'None' "
            "cells (which pandas reads as missing)",
}

ZIPS = ["02139", "00501", "10001", "94105", "07030"]
CODES = [100000001, 100000002, 100000003, 100000004]
WORDS = ["red", "green", "Zürich", "北京", "a b", "x,y", "naïve"]
# Cells pandas reads as missing (its default NA strings, and a blank after skipinitialspace).
MISSING_TEXT = ["", " ", "  ", "nan", "None"]


@dataclass(frozen=True)
class GeneratedTable:
    """One generated CSV table and what each column is; see the module's notes."""

    text: str
    target: str
    task: str
    kinds: dict[str, str]
    categorical: list[str]
    fill_missing: bool
    bom: bool
    n_rows: int
    rows: list[list[str]] = field(repr=False, default_factory=list)

    @property
    def data(self) -> bytes:
        """The file's bytes (UTF-8; the byte-order mark is in ``text``)."""
        return self.text.encode("utf-8")

    def write(self, folder: str | Path, name: str = "table.csv") -> Path:
        """Write the table to ``folder/name``; returns the path."""
        path = Path(folder) / name
        path.write_bytes(self.data)
        return path

    def train_args(self, path: str | Path) -> list[str]:
        """The start of a ``slopes train`` command line for this table."""
        args = [str(path), "--target", self.target]
        if self.categorical:
            args += ["--categorical", *self.categorical]
        if self.fill_missing:
            args.append("--fill-missing")
        return args


@st.composite
def tables(draw: st.DrawFn, task: str | None = None, bom: bool | None = None,
           min_rows: int = 40, max_rows: int = 120) -> GeneratedTable:
    """A strategy of :class:`GeneratedTable`; see the module's notes."""
    n = draw(st.integers(min_rows, max_rows))
    task = task or draw(st.sampled_from(["classify", "regress"]))
    bom = draw(st.booleans()) if bom is None else bom
    chosen = draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=len(KINDS),
                           unique=True))
    columns: dict[str, list[str]] = {}
    kinds: dict[str, str] = {}
    missing_any = False
    for k, kind in enumerate(chosen):
        name = f"{kind}_{k}"
        kinds[name] = kind
        with_missing = draw(st.booleans()) if kind in ("number", "text", "unix_time") else False
        cells: list[str] = []
        for _ in range(n):
            if with_missing and draw(st.integers(0, 9)) == 0:
                cells.append(draw(st.sampled_from(MISSING_TEXT if kind == "text" else ["", " "])))
                missing_any = True
                continue
            if kind == "unix_time":
                cells.append(f"{1.7e9 + draw(st.integers(-5_000_000, 5_000_000)) / 1000:.3f}")
            elif kind == "number":
                cells.append(str(draw(st.integers(-500, 500)) / 10))
            elif kind == "big_code":
                cells.append(str(draw(st.sampled_from(CODES))))
            elif kind == "zip":
                cells.append(draw(st.sampled_from(ZIPS)))
            else:
                cells.append(draw(st.sampled_from(WORDS)))
        columns[name] = cells
    target = "target"
    if task == "classify":
        labels = draw(st.sampled_from([["0", "1"], ["no", "yes"], ["a", "b", "c"],
                                       ["1", "2", "3"]]))
        # Every class in at least 8 rows, so any split leaves it training rows.
        y = [labels[i % len(labels)] for i in range(8 * len(labels))]
        y += [draw(st.sampled_from(labels)) for _ in range(n - len(y))]
        y = draw(st.permutations(y))
    else:
        y = [f"{draw(st.integers(-10_000, 10_000)) / 100:.2f}" for _ in range(n)]
    names = [*columns, target]
    rows = [[columns[c][i] for c in columns] + [y[i]] for i in range(n)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(rows)
    text = ("\ufeff" if bom else "") + buffer.getvalue()
    categorical = [c for c, kind in kinds.items() if kind == "big_code"]
    return GeneratedTable(text=text, target=target, task=task, kinds=kinds,
                          categorical=categorical, fill_missing=missing_any, bom=bom,
                          n_rows=n, rows=rows)
