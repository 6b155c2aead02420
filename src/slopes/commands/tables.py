"""Reading CSV tables for the subcommands: every problem one line, never a traceback.

:func:`read_table` reads a whole CSV file for the in-memory commands;
:func:`header_names` and :func:`csv_errors` are what the streamed reader
(:mod:`.chunks`) shares with it, so both read a file the same way.
"""

from __future__ import annotations

import contextlib
import csv
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .._optional import require
from ..errors import CommandError

__all__ = ["read_table", "header_names", "csv_errors"]


def header_names(path: Path) -> list[str]:
    """The column names exactly as the header line writes them (pandas renames duplicates)."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
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


def read_table(path: str | os.PathLike[str]) -> Any:
    """Read a CSV file with pandas; every problem is a one-line ``CommandError``.

    Rows keep pandas' default index: row 0 is the first line after the header.
    A column name written twice in the header is an error (pandas would
    silently rename the second one ``name.1``).
    """
    pd = require("pandas", "reading CSV files")
    path = Path(path)
    if not path.exists():
        raise CommandError(f"{path}: no such file")
    if path.is_dir():
        raise CommandError(f"{path}: is a directory, expected a CSV file")
    names = header_names(path)
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in seen:
            raise CommandError(f"{path}: the header names the column {name!r} twice (columns "
                               f"{seen[name]} and {position}); column names must be unique")
        seen[name] = position
    with csv_errors(path, pd):
        data = pd.read_csv(path, skipinitialspace=True, index_col=False)
    data.columns = [str(c).strip() for c in data.columns]
    if len(data) == 0:
        raise CommandError(f"{path}: has a header ({', '.join(map(str, data.columns))}) but "
                           "no data rows")
    return data
