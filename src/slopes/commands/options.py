"""Types for command-line options: each value is checked when the command line is read.

A bad value is a usage error (exit code 2) found before any data is read,
and argparse's message names the option: ``argument --epochs: expected an
integer >= 1, got '0'``.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..schedules import get_schedule

__all__ = ["positive_int", "positive_float", "fraction", "seed", "hidden_sizes", "column_list",
           "row_number", "choice", "model_file", "output_path", "penalty", "dropout_rate",
           "schedule", "MODEL_FILE", "MAX_LAYER_SIZE", "MAX_HIDDEN_WEIGHTS"]

# The model file `slopes train --out DIR` and `slopes demo --out DIR` write in DIR.
MODEL_FILE = "model.safetensors"

# Layer sizes past these would exhaust memory (or take days) long before they
# trained anything on a table: 65,536 nodes, 10^8 weights between hidden layers.
MAX_LAYER_SIZE = 65_536
MAX_HIDDEN_WEIGHTS = 100_000_000
# NumPy seeds a generator from any non-negative int; 2**32 - 1 keeps seeds portable.
MAX_SEED = 2**32 - 1


def model_file(text: str) -> str:
    """A model file, or a folder `slopes train --out DIR` wrote: DIR/model.safetensors.

    Anything else is returned as given: loading it names what is wrong.
    """
    path = Path(text)
    if path.is_dir():
        if (path / MODEL_FILE).is_file():
            return str(path / MODEL_FILE)
        raise argparse.ArgumentTypeError(
            f"{text} is a folder without a {MODEL_FILE}; expected a model file, or the folder "
            "`slopes train --out` wrote it in")
    return text


def output_path(text: str) -> str:
    """A file or folder name to write (``--out``, ``--html``, ``--onnx``); never empty.

    An empty name would mean the current folder, or nothing at all: a usage
    error. What the path may not replace is checked later, by the command's
    :class:`~slopes.commands.outputs.OutputGuard`.
    """
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a file or folder name, got {text!r}")
    return text


def positive_int(text: str) -> int:
    """An integer >= 1 (``--epochs``, ``--batch-size``, ``--patience``)."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0 (``--learning-rate``); ``nan`` and ``inf`` are refused."""
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from exc
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def penalty(text: str) -> float:
    """A weight penalty's coefficient: a finite number >= 0 (``--l2``, ``--l1``; 0 is none)."""
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from exc
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def dropout_rate(text: str) -> float:
    """The fraction of hidden nodes dropped in each training step: a number in [0, 1)."""
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected a fraction of the nodes to drop, a number in [0, 1), got {text!r}"
        ) from exc
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(
            f"expected a fraction of the nodes to drop, a number in [0, 1), got {text!r}")
    return value


def schedule(text: str) -> Any:
    """A learning-rate schedule in :func:`slopes.schedules.get_schedule`'s short text
    (``step:10,0.5``, ``cosine:100``, ``warmup:5+cosine:100``, ``plateau:0.5,5``, ``none``).

    Returns the schedule (a callback), or None for ``none``.
    """
    try:
        return get_schedule(text)
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def fraction(text: str) -> float:
    """A number in [0, 1) (``--test-size``, ``--validation-split``)."""
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from exc
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


def seed(text: str) -> int:
    """An integer from 0 to 2**32 - 1."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to {MAX_SEED}, "
                                         f"got {text!r}") from exc
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to {MAX_SEED}, "
                                         f"got {text!r}")
    return value


def hidden_sizes(text: str) -> list[int]:
    """Hidden layer sizes like ``8,8`` (``''`` for none), each 1..65,536."""
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()] if text.strip() else []
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected layer sizes like 8,8 (or '' for none), got {text!r}") from exc
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be >= 1, got {text!r}")
    if any(s > MAX_LAYER_SIZE for s in sizes):
        raise argparse.ArgumentTypeError(
            f"layer sizes must be at most {MAX_LAYER_SIZE:,}, got {text!r}")
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    if weights > MAX_HIDDEN_WEIGHTS:
        raise argparse.ArgumentTypeError(
            f"{text!r} needs {weights:,} weights between hidden layers; the limit is "
            f"{MAX_HIDDEN_WEIGHTS:,}")
    return sizes


def row_number(text: str) -> int:
    """A row number >= 0 (row 0 is the first line after the header)."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a row number >= 0, got {text!r}") from exc
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a row number >= 0, got {text!r}")
    return value


def column_list(text: str) -> list[str]:
    """Column names separated by commas: ``rank,id``; at least one."""
    names = [c.strip() for c in text.split(",") if c.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected column names like a,b, got {text!r}")
    return names


def choice(names: list[str], what: str) -> Callable[[str], str]:
    """A type accepting one of ``names`` (case-insensitive), whose error lists them all."""
    def parse(text: str) -> str:
        key = text.strip().lower()
        if key not in names:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {text!r}; choose from {', '.join(names)}")
        return key

    parse.__name__ = what  # argparse names the type in some messages
    return parse
