"""Whether ``slopes train`` reads a file whole or streams it: the memory a run needs.

``slopes train`` without ``--stream`` or ``--no-stream`` estimates the memory
the in-memory path would need and compares it with the memory available:

- **the rows**: the file's size over the bytes per row of its first lines
  (:data:`SAMPLE_BYTES` at most, read as text, never the whole file);
- **the inputs**: 1 per numeric column, one per category for a one-hot
  encoded one, counted in the sampled rows (a column whose sampled values
  nearly all differ, like an ID, is taken to grow with the rows);
- **the need**: :data:`MEMORY_FACTOR` times the float matrix of all those
  rows and inputs, ``rows * inputs * 8`` bytes, plus :data:`FIXED_BYTES` for
  Python and its libraries. The factor is the peak memory of an in-memory
  run over that matrix, measured by ``benchmarks/stream.py``
  (``benchmarks/results/stream.md``), with room to spare;
- **the memory available**: ``MemAvailable`` of ``/proc/meminfo`` (Linux), lowered to
  what a control group (a container's limit) leaves, else
  ``os.sysconf("SC_AVPHYS_PAGES")``. Where none is known (Windows), or the
  first lines cannot be sampled, the file streams when it is over
  :data:`FALLBACK_THRESHOLD_BYTES` (1 GB), as before.

The run streams when its need is over the memory available, and says which
it chose and why (:class:`Decision`).
"""

from __future__ import annotations

import argparse
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._optional import require
from .tables import NA_TEXT, READ_OPTIONS, ColumnTypes

__all__ = ["Decision", "Estimate", "decide", "estimate", "available_memory", "MEMORY_FACTOR",
           "FIXED_BYTES", "SAMPLE_BYTES", "FALLBACK_THRESHOLD_BYTES", "gigabytes"]

#: Peak memory of an in-memory run over its float matrix (rows x inputs x 8 bytes), the
#: fixed part taken off: measured by benchmarks/stream.py, 2.9 for a numeric-only file and
#: 1.3 for a one-hot-heavy one (benchmarks/results/stream.md), with room for files whose
#: long text cells hold more in pandas.
MEMORY_FACTOR = 3.5
#: Python, NumPy, pandas and scikit-learn themselves (measured: about 245 MB).
FIXED_BYTES = 250 * 10**6
#: The most of the file's start read to sample its rows.
SAMPLE_BYTES = 2**20
#: Files over this size stream when the memory available or the rows cannot be known.
FALLBACK_THRESHOLD_BYTES = 1_000_000_000


def gigabytes(n_bytes: float) -> str:
    """``6.1 GB``, ``0.35 GB``: a size for a message."""
    value = n_bytes / 1e9
    return f"{value:.1f} GB" if value >= 1 else f"{value:.2g} GB"


@dataclass(frozen=True)
class Estimate:
    """What a sample of a file's rows says of the in-memory run.

    Attributes
    ----------
    rows : int
        The file's rows, estimated: its size over the sampled bytes per row.
    inputs : int
        The network's inputs: numeric columns plus the one-hot categories.
    matrix_bytes : int
        ``rows * inputs * 8``: the float64 matrix of all the rows.
    needed_bytes : int
        ``MEMORY_FACTOR * matrix_bytes + FIXED_BYTES``.
    """

    rows: int
    inputs: int
    matrix_bytes: int
    needed_bytes: int


@dataclass(frozen=True)
class Decision:
    """Whether to stream, and the reason said: ``the run needs about 6.1 GB, ...``."""

    stream: bool
    reason: str


def _cgroup_left() -> int | None:
    """What a cgroup v2 memory limit leaves (``memory.max - memory.current``), if any."""
    root = Path("/sys/fs/cgroup")
    try:
        limit = (root / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(int(limit) - int((root / "memory.current").read_text().strip()), 0)
    except (OSError, ValueError):
        return None


def available_memory() -> int | None:
    """Bytes of memory a new allocation can have now, or None when the system does not say."""
    found = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    found = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        found = None
    if found is None:
        try:
            found = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            found = None
    left = _cgroup_left()
    if left is not None:
        found = left if found is None else min(found, left)
    return found


def _sample(path: Path) -> tuple[Any, int, int] | None:
    """The first rows of the file as text cells, the bytes they take, the header's bytes."""
    pd = require("pandas", "reading CSV files")
    with open(path, "rb") as f:
        head = f.read(SAMPLE_BYTES)
    if len(head) == SAMPLE_BYTES:
        head = head[:head.rfind(b"\n") + 1]  # whole lines only
    first = head.find(b"\n")
    if first < 0 or b"\0" in head:
        return None
    try:
        frame = pd.read_csv(io.BytesIO(head), dtype=str, keep_default_na=False, **READ_OPTIONS)
    except Exception:  # noqa: BLE001 - any unreadable start: the run reports it properly
        return None
    if len(frame) == 0:
        return None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, len(head) - (first + 1), first + 1


def estimate(path: str | os.PathLike[str], args: argparse.Namespace) -> Estimate | None:
    """The rows, inputs and memory of reading ``path`` whole, from its first lines.

    ``args`` gives ``target``, ``features``, ``drop``, ``categorical`` and
    ``fill_missing`` as ``slopes train`` reads them. None when the file's
    start is not a CSV table with at least one row.
    """
    path = Path(path)
    sampled = _sample(path)
    if sampled is None:
        return None
    frame, sample_bytes, header_bytes = sampled
    size = path.stat().st_size - header_bytes
    rows = max(int(round(len(frame) * size / max(sample_bytes, 1))), len(frame))
    target = getattr(args, "target", None)
    names = list(frame.columns)
    features = list(getattr(args, "features", None) or [c for c in names if c != target])
    features = [c for c in features if c in names and c not in (getattr(args, "drop", None)
                                                                 or [])]
    if not features:
        return None
    categorical = set(getattr(args, "categorical", None) or [])
    types = ColumnTypes(path, features)
    try:
        types.add(frame[features])
    except Exception:  # noqa: BLE001 - a repeated header line: the run reports it
        return None
    kinds = types.kinds()
    inputs = 0
    for name in features:
        if kinds[name] in ("number", "integer") and name not in categorical:
            inputs += 1
            continue
        cells = frame[name].str.strip()
        distinct = int(cells[~cells.isin(NA_TEXT)].nunique())
        width = distinct + int(bool(getattr(args, "fill_missing", False)))
        if 2 * distinct > len(frame) and len(frame) >= 20:
            width = int(width * rows / len(frame))  # like an ID: a new value per row
        inputs += max(width, 1)
    matrix = rows * inputs * 8
    return Estimate(rows=rows, inputs=inputs, matrix_bytes=matrix,
                    needed_bytes=int(MEMORY_FACTOR * matrix) + FIXED_BYTES)


def decide(args: argparse.Namespace) -> Decision:
    """Stream or not, and why; see the module's notes.

    ``--stream`` and ``--no-stream`` decide by themselves; a Parquet file
    always streams (the in-memory path reads CSV files).
    """
    path = Path(args.data)
    if getattr(args, "stream", False):
        return Decision(True, "--stream")
    if path.suffix.lower() == ".parquet":
        return Decision(True, "a Parquet file")
    if getattr(args, "no_stream", False):
        return Decision(False, "--no-stream")
    try:
        size = path.stat().st_size
    except OSError:
        return Decision(False, "no such file")  # the in-memory path reports it
    if not path.is_file():
        return Decision(False, "not a file")
    available = available_memory()
    found = estimate(path, args) if available is not None else None
    if found is None:
        if size > FALLBACK_THRESHOLD_BYTES:
            return Decision(True, f"{size / 1e9:.1f} GB, over the "
                                  f"{FALLBACK_THRESHOLD_BYTES / 1e9:g} GB threshold")
        why = ("the memory available is unknown" if available is None
               else "its first rows could not be sampled")
        return Decision(False, f"{gigabytes(size)}, under the "
                               f"{FALLBACK_THRESHOLD_BYTES / 1e9:g} GB threshold ({why})")
    need = (f"the run needs about {gigabytes(found.needed_bytes)} "
            f"(~{found.rows:,} rows x {found.inputs} inputs), "
            f"{gigabytes(available)} is available")
    return Decision(found.needed_bytes > available, need)
