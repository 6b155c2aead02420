"""The fit loop: batches, epochs, weight updates, and the History it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .losses import Loss, get_loss
from .validation import check_positive, check_positive_int, check_X

if TYPE_CHECKING:
    from .network import Network

__all__ = ["History", "fit", "batch_slices"]


@dataclass
class History:
    """What happened during ``fit``: per-epoch values, like Keras' ``History``.

    ``history["loss"][e]`` is the mean of the batch losses seen during epoch
    ``e`` (each measured before that batch's update).
    """

    history: dict[str, list[float]] = field(default_factory=dict)
    epoch: list[int] = field(default_factory=list)

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        return f"History({len(self.epoch)} epochs{', ' + last if last else ''})"


def batch_slices(n_samples: int, batch_size: int | None) -> list[slice]:
    """Slices cutting ``n_samples`` rows into batches; the last partial batch is kept."""
    size = n_samples if batch_size is None else batch_size
    return [slice(start, min(start + size, n_samples)) for start in range(0, n_samples, size)]


def fit(
    net: Network,
    X: object,
    y: object,
    loss: str | Loss = "mse",
    learning_rate: float = 0.01,
    epochs: int = 1,
    batch_size: int | None = None,
) -> History:
    """Gradient descent: for each batch, ``w -= learning_rate * slope`` for every weight.

    Parameters
    ----------
    X : array (n_samples, n_features)
    y : array (n_samples, n_outputs), or (n_samples,) for one output
    loss : str or Loss
    learning_rate : float > 0
    epochs : int >= 1
        Passes over the whole data.
    batch_size : int or None
        ``None`` uses the full batch each step; an int cuts the data into
        mini-batches, in order, the last partial batch kept.

    Returns
    -------
    History
        ``history["loss"]``: the mean batch loss of each epoch.
    """
    loss_fn = get_loss(loss)
    net._check_loss_fits(loss_fn)
    lr = check_positive("learning_rate", learning_rate)
    epochs = check_positive_int("epochs", epochs)
    if batch_size is not None:
        batch_size = check_positive_int("batch_size", batch_size)
    x, _ = check_X(X, net.n_inputs, net.dtype)
    actual = net._check_y(y, x.shape[0], loss_fn)
    step = net.dtype.type(lr)

    history = History(history={"loss": []})
    slices = batch_slices(x.shape[0], batch_size)
    for epoch in range(epochs):
        batch_losses = np.empty(len(slices))
        for b, sl in enumerate(slices):
            xb, yb = x[sl], actual[sl]
            zs, values = net._forward(xb)
            batch_losses[b] = net._loss_value(loss_fn, zs[-1], values[-1], yb)
            net._backward(zs, values, yb, loss_fn)
            for layer in net.layers:
                layer.weights -= step * layer.weight_slopes
                if layer.bias is not None:
                    layer.bias -= step * layer.bias_slopes
        history.history["loss"].append(float(batch_losses.mean()))
        history.epoch.append(epoch)
    return history
