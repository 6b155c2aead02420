"""Weight snapshots: the weights and biases of every layer at one point of training.

A model file stores them (:mod:`slopes.io`) and a training callback records
them (:class:`slopes.callbacks.WeightSnapshots`, :func:`slopes.callbacks.file_snapshots`);
the data type lives here, in the model layer below both, so that the file
format does not depend on a training callback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np

__all__ = ["WeightSnapshot", "SnapshotRecord"]


@dataclass
class WeightSnapshot:
    """The weights and biases of every layer at one point of training.

    ``epoch`` counts from 0 like ``History.epoch`` (the logs print it as
    ``epoch + 1``); ``None`` is before the first update.
    """

    epoch: int | None
    weights: list[np.ndarray]
    biases: list[np.ndarray | None]


class SnapshotRecord(Protocol):
    """What a record of snapshots holds, as :class:`slopes.callbacks.WeightSnapshots` does.

    ``snapshots`` is the list of :class:`WeightSnapshot` kept, ``history`` the
    ``History`` of the fit that recorded them (None before any fit). For type
    annotations only: the model file reads these two attributes by name.
    """

    snapshots: list[WeightSnapshot]
    history: Any
