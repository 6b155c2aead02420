"""The public exceptions of slopes, in one module that imports nothing else of slopes.

Catch them as ``slopes.TrainingDiverged``, ``slopes.ModelFileError`` and so on.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["CommandError", "ModelFileError", "TrainingDiverged"]


class TrainingDiverged(RuntimeError):  # noqa: N818 (the public name the issue asks for)
    """The loss, a slope or a weight became NaN or infinite during ``fit``.

    The network keeps its last finite weights. Attributes: ``epoch`` and
    ``batch`` (counted from 0), ``layer`` (index of the first layer whose
    weights or slopes went non-finite, or None when only the loss did), and
    ``history`` (the epochs completed before).
    """

    def __init__(self, message: str, epoch: int, batch: int, layer: int | None,
                 history: Any) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.batch = batch
        self.layer = layer
        self.history = history


class ModelFileError(ValueError):
    """A model file that is missing, unreadable, corrupt, foreign or inconsistent.

    Attributes: ``path`` (the path as the user gave it) and ``problem`` (the
    message without the path).
    """

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class CommandError(Exception):
    """A data or file problem the ``slopes`` command reports as one line on stderr (exit 1)."""
