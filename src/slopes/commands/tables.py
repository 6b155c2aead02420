"""Reading tables for the subcommands: every problem one line, never a traceback.

Each column's type is decided once, for the whole file, before anything is
learned, by the same rules for the in-memory and the streamed paths
(:class:`ColumnTypes`), so both read the same values:

- ``number``: every filled cell is a number, and none is a code written with
  a leading zero; ``integer`` when every one is written as a whole number
  (``12``, not ``12.0``): read as integers when no cell is missing, as pandas does;
- ``text``: anything else, among them codes with leading zeros (the zip code
  ``02139`` stays ``'02139'``, never becomes ``2139``);
- ``boolean``: every filled cell is ``True`` or ``False`` (any case pandas
  reads as booleans).

A cell is missing when it is empty (or blank) or one of pandas' missing-value
strings (:data:`NA_TEXT`: ``nan``, ``None``, ``NA``, ...), in every path. The
file is read as UTF-8, with or without a byte-order mark (Excel's "CSV
UTF-8"). A row with fewer fields than the header, or a row repeating the
header line (two files joined), is an error naming the row.

:func:`read_table` reads a whole CSV file for the in-memory commands;
:func:`header_names`, :func:`csv_errors`, :class:`ColumnTypes` and
:func:`typed_csv_chunks` are what the streamed reader (:mod:`.chunks`)
shares with it. :func:`read_ahead` reads the next chunk in a background
thread while the caller works on the current one (pandas' CSV parser and
NumPy release the interpreter's lock while they work).
"""

from __future__ import annotations

import contextlib
import csv
import os
import queue
import re
import threading
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import numpy as np

from .._optional import require
from ..errors import CommandError
from . import arrow_text

__all__ = ["read_table", "header_names", "csv_errors", "ColumnTypes", "typed_csv_chunks",
           "NA_TEXT", "ENCODING", "COLUMN_KINDS", "READ_OPTIONS", "read_ahead",
           "READ_AHEAD_CHUNKS", "arrow_column_types"]

#: The encoding every path reads CSV files with: UTF-8, a byte-order mark skipped.
ENCODING = "utf-8-sig"
#: Cells read as missing: pandas' default missing-value strings (an empty cell among them).
NA_TEXT = frozenset({"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
                     "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a",
                     "nan", "null"})
#: Rows per chunk of the pass that decides the columns' kinds of a file read whole.
KIND_CHUNK_ROWS = 100_000
#: The kinds of column :class:`ColumnTypes` decides between.
COLUMN_KINDS = ("number", "integer", "text", "boolean")
_BOOLEAN_TEXT = {"True": True, "TRUE": True, "true": True,
                 "False": False, "FALSE": False, "false": False}
_LEADING_ZERO = re.compile(r"^[+-]?0[0-9]")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
#: How every path calls pandas.read_csv (besides dtype and chunks).
READ_OPTIONS = {"skipinitialspace": True, "index_col": False, "encoding": ENCODING}


#: How many chunks a background thread reads ahead of the one in use (0: none, no thread).
READ_AHEAD_CHUNKS = 1
#: Seconds between two looks at whether the caller stopped, for a thread waiting to hand over.
_POLL_SECONDS = 0.05

T = TypeVar("T")


def read_ahead(items: Iterable[T], depth: int | None = None) -> Iterator[T]:
    """The items of ``items``, computed in a background thread up to ``depth`` ahead.

    The same items in the same order: the thread takes them from ``items``
    and puts them in a queue of ``depth`` places (default
    :data:`READ_AHEAD_CHUNKS`), which the caller empties. An exception raised
    by ``items`` is raised in the caller, the same object, after the items
    before it. When the caller stops early (Ctrl-C, an error, a ``break``),
    closing this generator, the thread stops at its next item and closes
    ``items`` (so a file it reads is closed), and the closing waits for it:
    close this generator before closing anything ``items`` reads
    (``contextlib.closing``). ``depth`` 0 iterates ``items`` in the caller,
    no thread.
    """
    depth = READ_AHEAD_CHUNKS if depth is None else depth
    if depth <= 0:
        yield from items
        return
    handover: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand(entry: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                handover.put(entry, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        source = iter(items)
        try:
            for item in source:
                if not hand((True, item)):
                    return
            hand((False, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, raised there
            hand((False, exc))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="slopes-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            more, value = handover.get()
            if not more:
                if value is not None:
                    raise value
                return
            yield value
    finally:
        stop.set()
        # Wait for the thread to let go of ``items`` (it stops at its next item): the
        # caller may close what ``items`` reads once this generator is closed.
        thread.join()


def header_names(path: Path) -> list[str]:
    """The column names exactly as the header line writes them (pandas renames duplicates)."""
    try:
        with open(path, newline="", encoding=ENCODING) as f:
            row = next(csv.reader(f, skipinitialspace=True), None)
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path}: not a text CSV file ({exc.reason})") from exc
    except csv.Error:
        return []  # pandas reports the malformed line below
    return [name.strip() for name in row] if row else []


@contextlib.contextmanager
def csv_errors(path: Path, pd: Any) -> Iterator[None]:
    """pandas' errors while reading the CSV file ``path`` as one-line :class:`CommandError`.

    A first row longer than the header is only a warning in pandas: here it
    is an error too.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            yield
    except pd.errors.ParserWarning as exc:
        raise CommandError(f"{path}: not a well-formed CSV file: a data row has more fields "
                           "than the header") from exc
    except pd.errors.EmptyDataError as exc:
        raise CommandError(f"{path}: the file is empty; expected a header line and data "
                           "rows") from exc
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().splitlines()[-1]
        for noise in ("Error tokenizing data. ", "C error: "):
            detail = detail.replace(noise, "")
        raise CommandError(f"{path}: not a well-formed CSV file: {detail}") from exc
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path}: not a text CSV file ({exc.reason})") from exc


def check_unique(path: Path, names: Sequence[str]) -> None:
    """A :class:`CommandError` if the header names a column twice."""
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in seen:
            raise CommandError(f"{path}: the header names the column {name!r} twice (columns "
                               f"{seen[name]} and {position}); column names must be unique")
        seen[name] = position


class ColumnTypes:
    """Each column's kind (:data:`COLUMN_KINDS`), decided over every row of a file.

    Feed it the file's cells as text, chunk by chunk (:meth:`add`), then read
    :meth:`kinds`. It also refuses, naming the row, a row that repeats the
    header line.

    Parameters
    ----------
    path : path
        The file, for messages.
    names : list of str
        The columns, as the header names them.
    """

    def __init__(self, path: str | Path, names: Sequence[str]) -> None:
        self.path = Path(path)
        self.names = list(names)
        self._not_number: set[str] = set()
        self._not_boolean: set[str] = set()
        self._not_integer: set[str] = set()
        self._filled: set[str] = set()
        self.leading_zero: dict[str, str] = {}  # column -> first code seen with one
        self._many: set[str] = set()  # columns whose cells nearly all differ

    def add(self, text: Any) -> None:
        """Look at a chunk (a DataFrame of ``str`` cells; index = row numbers).

        Vectorized column by column (pandas' string methods, Arrow-backed where
        pyarrow is installed): a cell is never a Python object here, which made
        this pass 15 times slower than reading the file. A column of few
        distinct values (categories, codes, small integers) is tested once per
        distinct value (``pandas.factorize``), not once per cell.
        """
        if not len(text):
            return
        cells = {name: self._distinct(name, text[name]) for name in self.names}
        if len(self.names) > 1:
            # Rows whose first cell is the first column's name, then all the others.
            repeated = self._equal(cells[self.names[0]], self.names[0])
            for name in self.names[1:]:
                if not repeated.any():
                    break
                repeated = repeated & self._equal(cells[name], name)
            if repeated.any():
                row = text.index[int(np.argmax(repeated))]
                raise CommandError(
                    f"{self.path}: row {row} repeats the header line ({', '.join(self.names)}): "
                    "two files joined into one? Remove that line (and check the rows after it)")
        for name in self.names:
            self._look(name, cells[name][0])

    def _distinct(self, name: str, column: Any) -> tuple[Any, np.ndarray | None]:
        """``(values, codes)``: the stripped distinct values and each cell's among them
        (-1: a missing cell, read as ``''``), or every cell stripped and None when
        nearly every cell differs (factorizing would only cost)."""
        pd = require("pandas", "reading CSV files")
        if name in self._many:
            return column.fillna("").str.strip(), None
        codes, distinct = pd.factorize(column)
        if 2 * len(distinct) > len(column):
            self._many.add(name)
        return pd.Series(distinct).fillna("").str.strip(), np.asarray(codes)

    @staticmethod
    def _equal(found: tuple[Any, np.ndarray | None], name: str) -> np.ndarray:
        """Which cells of a column (:meth:`_distinct`'s answer) read ``name``."""
        values, codes = found
        same = (values == name).to_numpy(dtype=bool)
        if codes is None:
            return same
        return np.append(same, name == "")[codes]

    def _look(self, name: str, values: Any) -> None:
        """Update the column's kind from its (stripped) cells or distinct values."""
        pd = require("pandas", "reading CSV files")
        filled = values[~values.isin(NA_TEXT)]
        if filled.empty:
            return
        self._filled.add(name)
        if name not in self._not_boolean and not filled.isin(_BOOLEAN_TEXT).all():
            self._not_boolean.add(name)
        if name in self._not_number:
            return
        # Plain decimal numbers by a regular expression; what it does not match
        # ('inf', '1e+05' spelled otherwise, text) goes to pandas' own test.
        odd = filled[~filled.str.fullmatch(_DECIMAL)]
        if len(odd) and pd.to_numeric(odd, errors="coerce").isna().any():
            self._not_number.add(name)
            return
        zeros = filled.str.match(_LEADING_ZERO)
        if zeros.any():
            self.leading_zero.setdefault(name, str(filled[zeros].iloc[0]))
            self._not_number.add(name)
        elif name not in self._not_integer and not filled.str.fullmatch(_INTEGER).all():
            self._not_integer.add(name)

    def merge(self, other: ColumnTypes) -> ColumnTypes:
        """Add what ``other`` saw (another part of the same table, the same columns).

        The kinds then are those of both parts read as one file: the tests of
        :meth:`add` hold for a column when they hold in every part. Returns self.
        """
        if other.names != self.names:
            raise CommandError(f"{other.path}: its columns ({', '.join(other.names)}) are not "
                               f"those of {self.path} ({', '.join(self.names)}); the parts of "
                               "one table need the same header")
        self._not_number |= other._not_number
        self._not_boolean |= other._not_boolean
        self._not_integer |= other._not_integer
        self._filled |= other._filled
        for name, code in other.leading_zero.items():
            self.leading_zero.setdefault(name, code)
        return self

    def kinds(self) -> dict[str, str]:
        """``{column: kind}`` (:data:`COLUMN_KINDS`); a column never filled is a number."""
        found = {}
        for name in self.names:
            if name not in self._filled:
                found[name] = "number"
            elif name not in self._not_number:
                found[name] = "number" if name in self._not_integer else "integer"
            elif name not in self._not_boolean:
                found[name] = "boolean"
            else:
                found[name] = "text"
        return found


def short_rows(path: Path, n_fields: int) -> None:
    """A :class:`CommandError` naming the first data row with fewer fields than the header.

    pandas reads the missing fields as empty cells; a cut-off line is a fault
    of the file, not missing values to fill in.
    """
    try:
        with open(path, newline="", encoding=ENCODING) as f:
            reader = csv.reader(f, skipinitialspace=True)
            next(reader, None)
            row = -1
            for fields in reader:
                if not fields:
                    continue  # pandas skips blank lines
                row += 1
                if len(fields) < n_fields:
                    raise CommandError(
                        f"{path}: row {row} has {len(fields)} field(s), but the header names "
                        f"{n_fields} columns: a cut-off line? Fix or remove it")
    except (csv.Error, UnicodeDecodeError):
        return  # pandas reports the malformed line


def _read_text(path: Path, pd: Any, chunk_rows: int | None) -> Any:
    return pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=chunk_rows, **READ_OPTIONS)


def _strip_names(frame: Any) -> Any:
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def file_kinds(path: Path, names: Sequence[str], chunk_rows: int | None = None) -> dict[str, str]:
    """The kind of every column of the CSV file ``path``, reading it (chunk by chunk) as text.

    Read by pyarrow's multithreaded reader where it reads the cells as pandas
    does (:func:`.arrow_text.arrow_reads_as_pandas`; 2.4 times faster on a numeric file),
    else, or when pyarrow fails, by pandas.
    """
    pd = require("pandas", "reading CSV files")
    if chunk_rows is not None and arrow_text.arrow_reads_as_pandas(path, len(names)):
        found = arrow_column_types(path, names, chunk_rows)
        if found is not None:  # pyarrow refuses a row shorter than the header itself
            return found[0].kinds()
    types = ColumnTypes(path, names)
    with csv_errors(path, pd):
        if chunk_rows is None:
            types.add(_strip_names(_read_text(path, pd, None)))
        else:
            # The thread stops (closing) before the reader closes: pandas' parser, closed
            # while the thread reads from it, crashed the process.
            with _read_text(path, pd, chunk_rows) as reader, \
                    contextlib.closing(read_ahead(reader)) as chunks:
                start = 0
                for chunk in chunks:
                    chunk.index = pd.RangeIndex(start, start + len(chunk))
                    start += len(chunk)
                    types.add(_strip_names(chunk))
    short_rows(path, len(names))
    return types.kinds()


def arrow_column_types(path: Path, names: Sequence[str], chunk_rows: int,
                       source: BinaryIO | None = None) -> tuple[ColumnTypes, int] | None:
    """The :class:`ColumnTypes` of the rows of ``path`` (or of ``source``, its header
    line then some of its lines) and their number, read by pyarrow's multithreaded
    reader (:func:`.arrow_text.arrow_text_chunks`); None when pyarrow refuses them
    (pandas then reads them, and names the problem)."""
    pa = require("pyarrow", "reading CSV files with pyarrow")
    types, rows = ColumnTypes(path, names), 0
    try:
        for chunk in arrow_text.arrow_text_chunks(path, names, chunk_rows, source):
            types.add(chunk)
            rows += len(chunk)
    except pa.ArrowException:
        return None
    return types, rows


def apply_kinds(frame: Any, kinds: Mapping[str, str]) -> Any:
    """``frame`` (read with :func:`typed_csv_chunks`' dtypes) with booleans made ``bool``,
    and whole numbers ``int64`` where no cell is missing and every one fits in it (a
    larger one stays a float, never wraps around)."""
    for name, kind in kinds.items():
        if kind == "integer" and name in frame.columns and frame[name].notna().all() and \
                frame[name].between(-(2.0**63), 2.0**63, inclusive="left").all():
            frame[name] = frame[name].astype(np.int64)
        if kind == "boolean" and name in frame.columns:
            column = frame[name].map(lambda v: _BOOLEAN_TEXT.get(str(v).strip(), np.nan)
                                     if isinstance(v, str) else v)
            frame[name] = column.astype(bool) if column.notna().all() else column.astype(object)
    return frame


def _dtypes(kinds: Mapping[str, str], names: Sequence[str], header: Sequence[str]) -> dict:
    # read_csv's dtype is keyed by the header's names as written (before stripping).
    by_name = dict(zip(names, header, strict=False))
    return {by_name[n]: ("float64" if k in ("number", "integer") else str)
            for n, k in kinds.items()
            if n in by_name}


def typed_csv_chunks(path: Path, kinds: Mapping[str, str], chunk_rows: int | None
                     ) -> Iterator[Any]:
    """The CSV file read with each column's kind: one DataFrame, or chunks (index = row numbers).

    pandas reads a column of numbers as floats at once, except a quoted blank
    cell (``"  "``), which is missing here as an empty cell is but which
    pandas cannot read as a float: then the file is read again with such
    columns as text, turned into numbers here, and the chunks already given
    are skipped (the chunks are the same rows).
    """
    given = 0
    try:
        for chunk in _typed_chunks(path, kinds, chunk_rows, numbers_as_text=False):
            yield chunk
            given += 1
    except _QuotedBlankError:
        for k, chunk in enumerate(_typed_chunks(path, kinds, chunk_rows, numbers_as_text=True)):
            if k >= given:
                yield chunk


class _QuotedBlankError(Exception):
    """pandas could not read a quoted blank cell of a column of numbers as a float."""


def _typed_chunks(path: Path, kinds: Mapping[str, str], chunk_rows: int | None,
                  numbers_as_text: bool) -> Iterator[Any]:
    pd = require("pandas", "reading CSV files")
    header = _raw_header(path)
    names = [h.strip() for h in header]
    dtype = _dtypes(kinds, names, header)
    numeric = [name for name in names if kinds.get(name) in ("number", "integer")]
    if numbers_as_text:
        dtype.update({raw: str for raw, name in zip(header, names, strict=False)
                      if name in numeric})

    def typed(frame: Any) -> Any:
        frame = _strip_names(frame)
        if numbers_as_text:
            for name in numeric:
                cells = frame[name].str.strip()
                frame[name] = pd.to_numeric(cells.mask(cells.isin(NA_TEXT)), errors="coerce")
        return apply_kinds(frame, kinds)

    with csv_errors(path, pd):
        try:
            reader = pd.read_csv(path, dtype=dtype, chunksize=chunk_rows, **READ_OPTIONS)
            if chunk_rows is None:
                yield typed(reader)
                return
            with reader:
                for chunk in reader:
                    yield typed(chunk)
        except ValueError as exc:
            if numbers_as_text or "could not convert string to float" not in str(exc):
                raise
            raise _QuotedBlankError from exc


def _raw_header(path: Path) -> list[str]:
    pd = require("pandas", "reading CSV files")
    with csv_errors(path, pd):
        return [str(c) for c in pd.read_csv(path, nrows=0, **READ_OPTIONS).columns]


def _read_whole(path: Path, kinds: Mapping[str, str]) -> Any:
    """The whole CSV file read with each column's kind, as one DataFrame.

    Read in chunks, each column's chunks then joined one column at a time
    into a column of its own (no two-dimensional block): about one copy of the
    table in memory at the peak, where pandas reading the file at once holds
    two. The same frame: a column is ``int64`` only when every chunk's is.
    """
    pd = require("pandas", "reading CSV files")
    pieces: dict[str, list] = {}
    names: list[str] = []
    for chunk in typed_csv_chunks(path, kinds, KIND_CHUNK_ROWS):
        names = list(chunk.columns)
        for name in names:
            pieces.setdefault(name, []).append(chunk[name])
        del chunk
    columns = {}
    for name in names:
        parts = pieces.pop(name)
        columns[name] = pd.concat(parts, ignore_index=True)
        del parts
    return pd.DataFrame(columns, columns=names, copy=False)


def read_table(path: str | os.PathLike[str], kinds: Mapping[str, str] | None = None) -> Any:
    """Read a CSV file with pandas; every problem is a one-line ``CommandError``.

    Rows keep pandas' default index: row 0 is the first line after the header.
    A column name written twice in the header is an error (pandas would
    silently rename the second one ``name.1``). Each column's kind is decided
    from the whole file (see the module's notes), unless given in ``kinds``
    (``{column: "number" | "text" | "boolean"}``, say the kinds a model was
    trained with; columns not named are decided from the file).
    """
    path = Path(path)
    if not path.exists():
        raise CommandError(f"{path}: no such file")
    if path.is_dir():
        raise CommandError(f"{path}: is a directory, expected a CSV file")
    names = header_names(path)
    check_unique(path, names)
    decided = file_kinds(path, names, KIND_CHUNK_ROWS)  # chunks: less memory, and faster
    decided.update({k: v for k, v in (kinds or {}).items() if k in decided})
    data = _read_whole(path, decided)
    if len(data) == 0:
        raise CommandError(f"{path}: has a header ({', '.join(map(str, data.columns))}) but "
                           "no data rows")
    return data
