"""Trace: every number of one forward and backward pass, kept for people to read.

Indexing follows the network's layers. With ``L = len(net.layers)``:

- ``node_values[0]`` is the input ``X``; ``node_values[k + 1]`` are the values
  of the nodes of ``net.layers[k]`` (after its activation). ``L + 1`` entries,
  each ``(n_samples, n_nodes)``.
- ``node_inputs[k]`` is ``z`` of ``net.layers[k]``: the weighted sums its nodes
  receive, before the activation. ``L`` entries.
- ``node_slopes[k]`` is the slope of the loss with respect to
  ``node_values[k]``, same shape. ``L + 1`` entries.
- ``input_slopes[k]`` is the slope of the loss with respect to
  ``node_inputs[k]`` (the activation's slope times the node's slope).
- ``weight_slopes[k]`` and ``bias_slopes[k]`` belong to ``net.layers[k]`` and
  have the shapes of its weights and bias (``None`` without bias).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .losses import Loss

if TYPE_CHECKING:
    from .network import Network

__all__ = ["Trace"]


@dataclass
class Trace:
    """Node values, node slopes and weight slopes of one pass over a batch.

    Attributes
    ----------
    network : Network
        The network traced (its weights at the time of the trace are kept in
        ``weights``).
    loss_function : Loss
        The loss the slopes are of.
    predictions : ndarray (n_samples, n_outputs)
    actual : ndarray (n_samples, n_outputs)
    errors : ndarray (n_samples, n_outputs)
        ``predictions - actual``, the course's sign.
    loss : float
    """

    network: Network
    loss_function: Loss
    actual: np.ndarray
    loss: float
    node_values: list[np.ndarray]
    node_inputs: list[np.ndarray]
    node_slopes: list[np.ndarray]
    input_slopes: list[np.ndarray]
    weight_slopes: list[np.ndarray]
    bias_slopes: list[np.ndarray | None]
    weights: list[np.ndarray] = field(default_factory=list)
    biases: list[np.ndarray | None] = field(default_factory=list)

    @property
    def predictions(self) -> np.ndarray:
        """The output layer's node values, ``(n_samples, n_outputs)``."""
        return self.node_values[-1]

    @property
    def errors(self) -> np.ndarray:
        """``predictions - actual``, ``(n_samples, n_outputs)``."""
        return self.predictions - self.actual

    @property
    def n_samples(self) -> int:
        return self.node_values[0].shape[0]

    def __repr__(self) -> str:
        sizes = "-".join(str(v.shape[1]) for v in self.node_values)
        return (
            f"Trace(network {sizes}, {self.n_samples} sample(s), "
            f"loss {self.loss_function.name} = {self.loss:.6g})"
        )
