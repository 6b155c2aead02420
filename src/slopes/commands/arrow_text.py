"""The text pass of a CSV file read by pyarrow's multithreaded reader, where it reads as pandas.

:mod:`.tables` decides each column's kind from a pass over the file's cells
as text. pyarrow parses a file in blocks on several cores without a Python
object per cell (2.4 times faster than pandas on a numeric file), but reads
some files differently from pandas; :func:`arrow_reads_as_pandas` says
which files it reads the same, and :func:`arrow_text_chunks` reads them.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .._optional import require

#: Bytes of the file per block of the text pass when pyarrow reads it (:func:`arrow_text_chunks`).
ARROW_BLOCK_BYTES = 1 << 20
_BOM = b"\xef\xbb\xbf"


def arrow_reads_as_pandas(path: Path, n_columns: int, quote_free: bool = False) -> bool:
    """Whether pyarrow's CSV reader gives every cell of ``path`` as pandas reads it here.

    pyarrow parses a file in blocks on several cores, without a Python object
    per cell, but knows no ``skipinitialspace``: a quoted cell after a space
    (``a, "b"``) would keep its quotes. So: pyarrow installed, at least two
    columns, a header line first (no blank line, no quote in it), and no
    space or tab before a quote anywhere in the file (one scan of its bytes).
    Other differences (a short or long row, text that is not UTF-8) make
    pyarrow fail, and the caller reads the file with pandas instead.
    ``quote_free=True`` says the caller knows the file holds no ``"`` at all
    (the file is not scanned).
    """
    if n_columns < 2 or importlib.util.find_spec("pyarrow") is None:
        return False
    if quote_free:
        return True
    with open(path, "rb") as f:
        first = f.readline()
        first = first[len(_BOM):] if first.startswith(_BOM) else first
        if not first.strip() or b'"' in first:
            return False
        f.seek(0)
        last = b""
        while block := f.read(1 << 24):
            both = last + block
            if b' "' in both or b'\t"' in both:
                return False
            last = block[-1:]
    return True


def arrow_text_chunks(path: Path, names: Sequence[str], chunk_rows: int,
                      source: BinaryIO | None = None) -> Iterator[Any]:
    """The data rows of ``path`` as DataFrames of text cells, read by pyarrow in blocks.

    Chunks of ``chunk_rows`` rows (the last one shorter), columns named
    ``names`` (the stripped header), index = row numbers, cells as written (an
    empty cell is ``''``), in pandas' string dtype (Arrow-backed, no Python
    object per cell). pyarrow reads blocks of :data:`ARROW_BLOCK_BYTES` on
    several cores, some blocks ahead (small blocks keep that read-ahead
    small). Only for a file :func:`arrow_reads_as_pandas` accepts; pyarrow's
    own errors reach the caller (``pyarrow.ArrowException``). ``source``, an
    open binary file (the header line, then lines of ``path``), is read
    instead of the whole file; the index then counts its rows from 0.
    """
    pd = require("pandas", "reading CSV files")
    pa = require("pyarrow", "reading CSV files with pyarrow")
    pa_csv = require("pyarrow.csv", "reading CSV files with pyarrow")
    try:
        text = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' own ``str`` (pandas >= 3)
    except TypeError:
        text = pd.StringDtype("pyarrow")
    generated = [f"c{k}" for k in range(len(names))]
    options = {
        "read_options": pa_csv.ReadOptions(column_names=generated, skip_rows=1,
                                           block_size=ARROW_BLOCK_BYTES, use_threads=True),
        "parse_options": pa_csv.ParseOptions(newlines_in_values=True),
        "convert_options": pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in generated},
            strings_can_be_null=False, quoted_strings_can_be_null=False),
    }
    start = 0

    def frame(batches: list) -> Any:
        table = pa.Table.from_batches(batches).combine_chunks()
        found = table.to_pandas(types_mapper=lambda t: text if t == pa.string() else None)
        found.columns = list(names)
        found.index = pd.RangeIndex(start, start + len(found))
        return found

    # An open file, not its path: pyarrow would map a path into memory, and every page
    # of the file read would count in the process's resident memory.
    opened = pa.OSFile(str(path)) if source is None else pa.PythonFile(source, mode="r")
    with opened, pa_csv.open_csv(opened, **options) as reader:
        batches: list = []
        rows = 0
        for batch in reader:
            batches.append(batch)
            rows += batch.num_rows
            if rows >= chunk_rows:
                yield frame(batches)
                start += rows
                batches, rows = [], 0
        if rows:
            yield frame(batches)
