"""Where the workers of :mod:`slopes.distributed` get their rows: files, or arrays.

:class:`FileSource` holds one worker's CSV or Parquet files and makes the
passes over them on the worker: the columns' kinds and row counts
(:meth:`FileSource.kinds_pass`), the statistics of the training rows
(:meth:`FileSource.summarize`), the training rows preprocessed and shuffled
within each chunk (:meth:`FileSource.train_chunks`, each epoch) and the sums
that scores are made of (:meth:`FileSource.score`). :class:`ArraySource`
gives rows already in memory the same methods. :func:`find_files` turns a
file, a folder or a glob into the list of files, :func:`spread` shares them
among the workers.
"""

from __future__ import annotations

import glob
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._optional import require
from .commands.arrow_text import arrow_reads_as_pandas
from .commands.chunks import ChunkReader, split_masks
from .commands.pictures import HardestRow
from .commands.report import class_probabilities
from .commands.tables import (
    ENCODING,
    ColumnTypes,
    apply_kinds,
    arrow_column_types,
    csv_errors,
    header_names,
    short_rows,
)
from .distributed_stats import TableSummary
from .errors import CommandError
from .losses import get_loss
from .network import Network
from .preprocessing import TabularPreprocessor

__all__ = ["FileSource", "ArraySource", "find_files", "spread", "blocks", "block_text",
           "score_batches", "add_sums", "merge_kinds", "VALIDATION_BYTES", "SUFFIXES"]

#: The most validation rows one worker keeps in memory, as floats (64 MiB).
VALIDATION_BYTES = 64 * 2**20
SUFFIXES = (".csv", ".parquet")

# ------------------------------------------------------------------------ files
def find_files(data: str | Path | Sequence[str | Path]) -> list[Path]:
    """The CSV or Parquet files ``data`` names: a file, a folder (its ``*.csv`` and
    ``*.parquet``), a glob, or a list of them; sorted by name, all of one format."""
    if isinstance(data, (list, tuple)):
        found = [f for item in data for f in find_files(item)]
    else:
        text = str(data)
        path = Path(text)
        if any(ch in text for ch in "*?["):
            found = [Path(p) for p in glob.glob(text) if Path(p).is_file()]
            if not found:
                raise CommandError(f"{text}: no file matches this pattern")
        elif path.is_dir():
            found = [p for p in path.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file()]
            if not found:
                raise CommandError(f"{text}: the folder holds no .csv or .parquet file")
        elif path.is_file():
            found = [path]
        else:
            raise CommandError(f"{text}: no such file, folder or pattern")
    found = sorted(set(found), key=lambda p: str(p))
    formats = {p.suffix.lower() == ".parquet" for p in found}
    if len(formats) > 1:
        raise CommandError(f"{data}: mixes CSV and Parquet files; give the parts of one table "
                           "in one format")
    return found


def spread(sizes: Sequence[int], n_workers: int) -> list[list[int]]:
    """File indices for each worker: biggest file first, to the least loaded worker."""
    loads = [0] * n_workers
    parts: list[list[int]] = [[] for _ in range(n_workers)]
    for i in sorted(range(len(sizes)), key=lambda i: (-sizes[i], i)):
        k = loads.index(min(loads))
        parts[k].append(i)
        loads[k] += sizes[i]
    return [sorted(p) for p in parts]


def has_quotes(path: Path, read: int = 16 * 2**20) -> bool:
    """Whether the file holds a ``"`` anywhere (a quoted field may hold a line break)."""
    with open(path, "rb") as f:
        while True:
            data = f.read(read)
            if not data:
                return False
            if b'"' in data:
                return True


def blocks(path: Path, n_blocks: int) -> list[tuple[int, int]]:
    """``(start, end)`` byte ranges of whole lines covering the data rows of a CSV file.

    Cut evenly, each cut moved forward to the start of the next line; a file
    holding a ``"`` is not cut (a quoted field may hold a line break): one
    block, ``[(None, None)]``, the file whole.
    """
    size = path.stat().st_size
    if n_blocks <= 1 or has_quotes(path):
        return [(None, None)]
    with open(path, "rb") as f:
        first = len(f.readline())
        cuts = [first]
        for k in range(1, n_blocks):
            at = first + (size - first) * k // n_blocks
            f.seek(max(at - 1, first))
            f.readline()
            cuts.append(min(f.tell(), size))
    cuts.append(size)
    ranges = [(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a]
    return ranges or [(None, None)]


class BlockFile(io.RawIOBase):
    """A file's header line, then its bytes ``[start, end)``, read on demand (never whole)."""

    def __init__(self, path: Path, start: int, end: int) -> None:
        super().__init__()
        self._file = open(path, "rb")  # closed with this reader
        self._header = self._file.readline()
        self._file.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        if self._header:
            n = min(len(view), len(self._header))
            view[:n] = self._header[:n]
            self._header = self._header[n:]
            return n
        n = min(len(view), self._left)
        if n <= 0:
            return 0
        got = self._file.readinto(view[:n])
        self._left -= got
        return got

    def close(self) -> None:
        self._file.close()
        super().close()


def block_text(path: Path, start: int | None, end: int | None) -> Any:
    """The file itself (``start`` None), or its header line and bytes ``[start, end)``,
    read as pandas asks for them (:class:`BlockFile`), never held whole."""
    if start is None:
        return path
    return io.BufferedReader(BlockFile(path, start, end), buffer_size=2**20)


# ------------------------------------------------------------------------ sources
class FileSource:
    """One worker's files: read, summarized, preprocessed and scored there.

    Parameters
    ----------
    files : list of (path, index) or (path, index, start, end)
        The worker's parts and their place among all the parts (files in name
        order, each file's blocks in order): a whole file, or the lines of a CSV
        file from byte ``start`` to byte ``end`` (:func:`blocks`).
    columns : list of str
        The feature columns, then the target.
    settings : dict
        ``target``, ``categorical``, ``seed``, ``test_size``, ``validation_split``,
        ``chunk_rows``, ``names`` (the header every file must have).
    """

    def __init__(self, files: list[tuple], columns: list[str],
                 settings: dict[str, Any]) -> None:
        self.files = [(Path(f[0]), f[1], *(tuple(f[2:4]) if len(f) > 2 else (None, None)))
                      for f in files]
        self.columns = list(columns)
        self.settings = dict(settings)
        self.kinds: dict[str, str] | None = None
        self.offsets: dict[int, int] = {}
        self.prep: TabularPreprocessor | None = None
        self.loss = "mse"
        self._validation_rows: list[Any] | None = []
        self._validation: list[tuple[np.ndarray, np.ndarray]] | None = None
        self.skipped = {"validation": 0, "test": 0}

    # ---------------------------------------------------------------- pass 1: kinds
    def kinds_pass(self) -> tuple[str, Any, dict[int, int]]:
        """``("csv", ColumnTypes, rows)`` or ``("parquet", {column: kind}, rows)``;
        ``rows``: {file index: data rows}."""
        pd = require("pandas", "reading CSV files")
        rows: dict[int, int] = {}
        names = self.settings["names"]
        if self.files and self.files[0][0].suffix.lower() == ".parquet":
            kinds: dict[str, str] = {}
            for path, index, _, _ in self.files:
                reader = self._reader(path)
                for name, kind in reader.decide_kinds(self.columns).items():
                    kinds[name] = merge_kinds(kinds.get(name), kind, name, path)
                pq = require("pyarrow.parquet", "reading .parquet files")
                rows[index] = int(pq.ParquetFile(path).metadata.num_rows)
            return "parquet", kinds, rows
        types = ColumnTypes(self.files[0][0] if self.files else "", names)
        for path, index, start, end in self.files:
            header = header_names(path)
            if header != names:
                raise CommandError(f"{path}: its header ({', '.join(header)}) is not that of "
                                   f"the first file ({', '.join(names)}); the parts of one "
                                   "table need the same header")
            counted = None
            # A block is cut only from a file with no quote at all (``blocks``).
            if start is not None and arrow_reads_as_pandas(path, len(names), quote_free=True):
                text = block_text(path, start, end)
                try:
                    counted = arrow_column_types(path, names, self.settings["chunk_rows"], text)
                finally:
                    text.close()
            if counted is None:
                counted = self._pandas_kinds(pd, path, names, start, end)
            part, count = counted
            if start is None:
                short_rows(path, len(names))
            types.merge(part)
            rows[index] = count
        return "csv", types, rows

    def _pandas_kinds(self, pd: Any, path: Path, names: list[str], start: int | None,
                      end: int | None) -> tuple[ColumnTypes, int]:
        part, count = ColumnTypes(path, names), 0
        text = block_text(path, start, end)
        try:
            with csv_errors(path, pd), pd.read_csv(
                    text, dtype=str, keep_default_na=False, skipinitialspace=True,
                    index_col=False, encoding=ENCODING,
                    chunksize=self.settings["chunk_rows"]) as reader:
                for chunk in reader:
                    chunk.columns = [str(c).strip() for c in chunk.columns]
                    chunk.index = pd.RangeIndex(count, count + len(chunk))
                    count += len(chunk)
                    part.add(chunk)
        finally:
            if not isinstance(text, Path):
                text.close()
        return part, count

    def _reader(self, path: Path) -> ChunkReader:
        return ChunkReader(path, self.settings["chunk_rows"])

    def _chunks(self) -> Iterator[tuple[int, Any, tuple]]:
        """``(file index, chunk, (train, validation, test) masks)``; index = global rows."""
        s = self.settings
        for path, index, start, end in self.files:
            if start is None:
                reader = self._reader(path)
                reader.kinds = {c: self.kinds[c] for c in self.columns}
                chunks = reader.chunks(self.columns)
            else:
                chunks = self._block_chunks(path, start, end)
            for chunk in chunks:
                chunk.index = chunk.index + self.offsets[index]
                masks = split_masks(np.asarray(chunk.index), s["seed"], s["test_size"],
                                    s["validation_split"])
                yield index, chunk, masks

    def _block_chunks(self, path: Path, start: int, end: int) -> Iterator[Any]:
        """The typed chunks of a block of lines, read as ``ChunkReader`` reads a file."""
        pd = require("pandas", "reading CSV files")
        options = {"skipinitialspace": True, "index_col": False, "encoding": ENCODING}
        header, text = block_text(path, 0, 0), block_text(path, start, end)
        try:
            with csv_errors(path, pd):
                raw = [str(c) for c in pd.read_csv(header, nrows=0, **options).columns]
                kinds = {c: self.kinds[c] for c in self.columns}
                dtype = {name: ("float64" if kinds[name.strip()] in ("number", "integer")
                                else str) for name in raw if name.strip() in kinds}
                with pd.read_csv(text, dtype=dtype, chunksize=self.settings["chunk_rows"],
                                 **options) as reader:
                    for chunk in reader:
                        chunk.columns = [str(c).strip() for c in chunk.columns]
                        yield apply_kinds(chunk, kinds)[self.columns]
        finally:
            header.close()
            text.close()

    # ---------------------------------------------------------------- pass 2: statistics
    def summarize(self, kinds: dict[str, str], offsets: dict[int, int]) -> TableSummary:
        """The summary of this worker's rows (keeps its validation rows, while few)."""
        self.kinds, self.offsets = dict(kinds), dict(offsets)
        s = self.settings
        features = self.columns[:-1]
        summary = TableSummary(features, s["target"], self.kinds, s["categorical"])
        most = VALIDATION_BYTES // (8 * len(self.columns))
        kept = 0
        self._validation_rows = []
        for index, chunk, (train, val, test) in self._chunks():
            try:
                summary.add(chunk, train, val, test)
            except ValueError as exc:
                raise CommandError(f"{self._where(index)}: {exc}") from exc
            if self._validation_rows is not None and val.any():
                self._validation_rows.append(chunk[val])
                kept += int(val.sum())
                if kept > most:
                    self._validation_rows = None
        return summary

    def _where(self, index: int) -> str:
        """The file of index ``index``, and how its rows are numbered."""
        path = next(p for p, i, _, _ in self.files if i == index)
        first = self.offsets.get(index, 0)
        return str(path) if first == 0 else (f"{path} (rows counted across the files in name "
                                             f"order: its first row is row {first})")

    # ---------------------------------------------------------------- training
    def prepare(self, prep: TabularPreprocessor, loss: str) -> dict[str, int]:
        """Take the preprocessing and loss; preprocess the kept validation rows."""
        self.prep, self.loss = prep, loss
        self._validation = None
        if self._validation_rows is not None:
            self._validation = [xy for rows in self._validation_rows
                                for xy in [self._held(rows, "validation")] if len(xy[1])]
            self._validation_rows = None
        return dict(self.skipped)

    def _held(self, rows: Any, part: str) -> tuple[np.ndarray, np.ndarray]:
        X, y, _ = self._held_rows(rows, part)
        return X, y

    def _held_rows(self, rows: Any, part: str) -> tuple[np.ndarray, np.ndarray, Any]:
        """``rows`` preprocessed, without those holding a value the training rows never
        had (counted in ``skipped``): X, y and the row numbers kept."""
        prep = self.prep
        unseen = prep.unseen(rows)
        if unseen:
            self.skipped[part] = self.skipped.get(part, 0) + len(unseen)
            rows = rows.drop(index=list(unseen))
        if len(rows) == 0:
            return np.zeros((0, prep.n_features)), np.zeros(0), rows.index
        return (prep.transform(rows, dtype=np.float64),
                prep.transform_target(rows[prep.target], dtype=np.float64), rows.index)

    def train_chunks(self, epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """This worker's training rows, chunk by chunk, shuffled within each chunk."""
        prep = self.prep
        seed = self.settings["seed"]
        for index, chunk, (train, _, _) in self._chunks():
            if not train.any():
                continue
            rows = chunk[train]
            try:
                X = prep.transform(rows, dtype=np.float64)
                y = prep.transform_target(rows[prep.target], dtype=np.float64)
            except ValueError as exc:
                raise CommandError(f"{self._where(index)}: {exc}") from exc
            order = np.random.default_rng([seed, epoch, index, int(rows.index[0])]).permutation(
                len(y))
            yield X[order], y[order]

    def _part(self, part: str) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if part == "validation" and self._validation is not None:
            yield from self._validation
            return
        which = {"train": 0, "validation": 1, "test": 2}[part]
        for _, chunk, masks in self._chunks():
            if masks[which].any():
                X, y = self._held(chunk[masks[which]], part)
                if len(y):
                    yield X, y

    def score(self, net: Network, part: str | list[str],
              hardest: Sequence[str] = ()) -> dict[str, Any]:
        """Sums over the rows of ``part``: rows, loss_sum; right and class counts
        (classification) or sq, abs, s1, s2 of the errors and targets (regression).

        A list of parts gives ``{part: sums}``, reading the files once for all of
        them; with ``hardest`` (some of ``"train"`` and ``"test"``, among ``part``),
        also ``"hardest": {part: TracedRow or None}``, the row of each with the
        largest loss, found in the same pass (the row ``network.png`` traces; its
        number counted across the files, as the messages count them). Rows holding
        a value the training rows never had are left out of both.
        """
        if isinstance(part, str):
            return score_batches(net, self._part(part), self.loss, self.prep)
        wrong = [p for p in hardest if p not in ("train", "test") or p not in part]
        if wrong:
            raise ValueError(f"hardest names {wrong}; it takes 'train' and 'test', among the "
                             f"parts scored ({part})")
        result: dict[str, Any] = {}
        if "validation" in part and self._validation is not None:
            result["validation"] = score_batches(net, iter(self._validation), self.loss,
                                                 self.prep)
        rest = [p for p in part if p not in result]
        for p in rest:
            result[p] = score_batches(net, iter(()), self.loss, self.prep)
        found = {p: HardestRow(net, self.loss, "held-out" if p == "test" else "training")
                 for p in hardest}
        if rest:
            columns = {"train": 0, "validation": 1, "test": 2}
            for index, chunk, masks in self._chunks():
                for p in rest:
                    mask = masks[columns[p]]
                    if mask.any():
                        try:
                            X, y, kept = self._held_rows(chunk[mask], p)
                        except ValueError as exc:
                            raise CommandError(f"{self._where(index)}: {exc}") from exc
                        add_sums(result[p], score_batches(net, iter([(X, y)]), self.loss,
                                                          self.prep))
                        if p in found:
                            found[p].add(X, y, kept)
        if hardest:
            result["hardest"] = {p: h.best for p, h in found.items()}
        return result


class ArraySource:
    """Rows already in memory: ``X`` (n, n_features) and ``y`` (n,) or (n, n_outputs).

    ``train_chunks`` gives the rows in ``rows_per_chunk`` slices, in order
    (``shuffle=False``) or shuffled within each slice (seeded by the epoch).
    ``validation`` is an optional ``(X_val, y_val)``.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, rows_per_chunk: int = 100_000,
                 shuffle: bool = True, seed: int = 0, loss: str = "mse",
                 validation: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self.X, self.y = np.asarray(X), np.asarray(y)
        self.rows_per_chunk, self.shuffle, self.seed, self.loss = (rows_per_chunk, shuffle,
                                                                   seed, loss)
        self.validation = validation

    def train_chunks(self, epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        rng = np.random.default_rng([self.seed, epoch])
        for start in range(0, len(self.X), self.rows_per_chunk):
            X = self.X[start:start + self.rows_per_chunk]
            y = self.y[start:start + self.rows_per_chunk]
            if self.shuffle:
                order = rng.permutation(len(X))
                X, y = X[order], y[order]
            yield X, y

    def score(self, net: Network, part: str) -> dict[str, Any]:
        if part == "validation":
            batches = [self.validation] if self.validation is not None else []
        else:
            batches = [(self.X, self.y)] if part == "train" else []
        return score_batches(net, iter(batches), self.loss, None)


def score_batches(net: Network, batches: Iterator[tuple[np.ndarray, np.ndarray]], loss: str,
                  prep: TabularPreprocessor | None) -> dict[str, Any]:
    """The sums :meth:`FileSource.score` returns, over ``batches`` of ``(X, y)``."""
    loss_fn = get_loss(loss)
    sums: dict[str, Any] = {"rows": 0, "loss_sum": 0.0, "right": 0, "counts": {}, "sq": 0.0,
                            "abs": 0.0, "s1": 0.0, "s2": 0.0}
    classify = prep is not None and prep.task == "classify"
    for X, y in batches:
        n = len(y)
        if n == 0:
            continue
        batch_loss = net.evaluate(X, y, loss=loss_fn)
        sums["loss_sum"] += batch_loss if loss_fn.name == "sse" else batch_loss * n
        sums["rows"] += n
        if prep is None:
            continue
        out = net.predict(X)
        if classify:
            labels = y.astype(np.int64)
            sums["right"] += int(np.sum(class_probabilities(out).argmax(axis=1) == labels))
            for label, count in zip(*np.unique(labels, return_counts=True), strict=True):
                sums["counts"][int(label)] = sums["counts"].get(int(label), 0) + int(count)
        else:
            predicted, actual = prep.inverse_target(out[:, 0]), prep.inverse_target(y)
            sums["sq"] += float(np.sum((predicted - actual) ** 2))
            sums["abs"] += float(np.sum(np.abs(predicted - actual)))
            sums["s1"] += float(np.sum(actual))
            sums["s2"] += float(np.sum(actual ** 2))
    return sums


def merge_kinds(a: str | None, b: str, name: str, where: Any) -> str:
    """One column's kind over two Parquet files (``integer`` and ``number`` make ``number``)."""
    if a is None or a == b:
        return b
    if {a, b} == {"integer", "number"}:
        return "number"
    raise CommandError(f"{where}: column {name!r} holds {b} values, but {a} in another file; "
                       "the parts of one table need the same column types")


def add_sums(total: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    """Add the sums ``more`` (of :func:`score_batches`) to ``total``; returns ``total``."""
    for key, value in more.items():
        if key == "counts":
            for label, count in value.items():
                total["counts"][label] = total["counts"].get(label, 0) + count
        else:
            total[key] += value
    return total
