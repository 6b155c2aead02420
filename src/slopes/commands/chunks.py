"""Reading a table chunk by chunk, and a split of its rows that needs no list of rows.

:class:`ChunkReader` gives a CSV file (pandas ``read_csv(chunksize=...)``) or
a Parquet file (pyarrow's ``ParquetFile.iter_batches``) as DataFrames of at
most ``chunk_rows`` rows, indexed by row number, never the file whole.
:func:`split_masks` puts each row in the training, validation or test part by
a seeded hash of its row number (:func:`row_hash`): the same row always lands
in the same part for a given seed, whatever the chunk it comes in.

The chunks are read by a background thread one chunk ahead of the one in
use (:func:`.tables.read_ahead`): the next chunk is read while the network
trains on this one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .._optional import require
from ..errors import CommandError
from .tables import (
    NA_TEXT,
    ColumnTypes,
    apply_kinds,
    check_unique,
    file_kinds,
    header_names,
    read_ahead,
    typed_csv_chunks,
)

__all__ = ["ChunkReader", "row_hash", "split_masks", "read_ahead"]

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
        #: Each column's kind, once :meth:`decide_kinds` has read the file.
        self.kinds: dict[str, str] | None = None

    def _columns(self) -> list[str]:
        if self.parquet:
            try:
                names = list(self._pq.ParquetFile(self.path).schema_arrow.names)
            except Exception as exc:  # pyarrow raises its own types for bad files
                raise CommandError(f"{self.path}: not a readable Parquet file "
                                   f"({str(exc).splitlines()[0]})") from exc
        else:
            names = header_names(self.path)
            if not names:
                raise CommandError(f"{self.path}: the file is empty; expected a header line "
                                   "and data rows")
        check_unique(self.path, names)
        return names

    def decide_kinds(self, columns: list[str]) -> dict[str, str]:
        """Each of ``columns``' kind (``number``, ``text``, ``boolean``), over the whole file.

        The same rules as :func:`.tables.read_table` (:class:`.tables.ColumnTypes`), in one
        pass over the file read as text; a Parquet file's numeric and boolean columns
        take their kind from its schema, its text columns are decided as a CSV file's are,
        and a column of dates, times, lists or other structures is refused, named.
        """
        if not self.parquet:
            kinds = file_kinds(self.path, self.columns, self.chunk_rows)
        else:
            kinds = self._parquet_kinds(columns)
        self.kinds = {name: kinds[name] for name in columns}
        return self.kinds

    def _parquet_kinds(self, columns: list[str]) -> dict[str, str]:
        pa = require("pyarrow", "reading .parquet files")
        schema = self._pq.ParquetFile(self.path).schema_arrow
        kinds: dict[str, str] = {}
        texts = []
        for name in columns:
            kind = schema.field(name).type
            if pa.types.is_boolean(kind):
                kinds[name] = "boolean"
            elif pa.types.is_integer(kind):
                kinds[name] = "integer"
            elif pa.types.is_floating(kind):
                kinds[name] = "number"
            elif (pa.types.is_string(kind) or pa.types.is_large_string(kind)
                  or (pa.types.is_dictionary(kind) and (pa.types.is_string(kind.value_type)
                                                        or pa.types.is_large_string(
                                                            kind.value_type)))):
                texts.append(name)
            else:
                what = ("dates or times" if pa.types.is_temporal(kind) else
                        "lists" if pa.types.is_list(kind) or pa.types.is_large_list(kind)
                        or pa.types.is_fixed_size_list(kind) else f"values of type {kind}")
                raise CommandError(
                    f"{self.path}: column {name!r} holds {what} (Parquet type {kind}); slopes "
                    "reads numbers, text and true/false, the same from Parquet as from CSV; "
                    f"convert the column (say, dates to Unix seconds) or leave it out with "
                    f"--drop {name}")
        if texts:
            types = ColumnTypes(self.path, texts)
            for frame in self._parquet_chunks(require("pandas", "reading CSV files"), texts):
                types.add(frame.astype(object).where(frame.notna(), None).astype(str)
                          .where(frame.notna(), ""))
            kinds.update(types.kinds())
        return kinds

    def chunks(self, columns: list[str], read_ahead_depth: int | None = None) -> Iterator[Any]:
        """DataFrames of at most ``chunk_rows`` rows holding ``columns``; index = row numbers.

        Each column read as the kind :meth:`decide_kinds` gave it; the next
        chunk read by a thread while the caller works on this one, up to
        ``read_ahead_depth`` chunks ahead (default
        :data:`.tables.READ_AHEAD_CHUNKS`; 0: no thread).
        """
        pd = require("pandas", "reading CSV files")
        kinds = self.kinds if self.kinds is not None else self.decide_kinds(columns)
        if self.parquet:
            yield from read_ahead((_parquet_kinds_applied(pd, frame, kinds)
                                   for frame in self._parquet_chunks(pd, columns)),
                                  read_ahead_depth)
            return
        # All the columns, as read_table reads them: with usecols pandas would not
        # notice a row with more fields than the header.
        for chunk in read_ahead(typed_csv_chunks(self.path, kinds, self.chunk_rows),
                                read_ahead_depth):
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


def _parquet_kinds_applied(pd: Any, frame: Any, kinds: dict[str, str]) -> Any:
    """A Parquet chunk with its text columns read as their kind, as from a CSV file."""
    for name, kind in kinds.items():
        column = frame[name]
        if kind in ("number", "integer") and not pd.api.types.is_numeric_dtype(column):
            frame[name] = pd.to_numeric(column.astype(object), errors="coerce")
        elif kind == "boolean" and not pd.api.types.is_bool_dtype(column):
            frame[name] = column.astype(object).where(column.notna(), "").astype(str)
            frame = apply_kinds(frame, {name: kind})
            frame[name] = frame[name].where(column.notna(), np.nan) \
                if column.isna().any() else frame[name]
        elif kind == "text":
            # As in a CSV file: 'nan', 'None', '' ... are missing cells.
            column = column.astype(object)
            frame[name] = column.where(~column.isin(NA_TEXT), np.nan)
    return frame
