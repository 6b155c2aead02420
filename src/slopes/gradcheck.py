"""Checking backpropagation against central differences, in float64."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .losses import Loss, get_loss
from .validation import check_positive, check_X

if TYPE_CHECKING:
    from .network import Network

__all__ = ["GradientCheck", "check_gradients"]


@dataclass(frozen=True)
class GradientCheck:
    """Result of :func:`check_gradients`.

    Attributes
    ----------
    max_error : float
        Largest relative error over all parameters.
    worst : str
        The parameter with that error, e.g. ``"layers[0].weights[1, 0]"``.
    backprop : float
        Its slope by backpropagation.
    numeric : float
        Its slope by central differences.
    n_checked : int
        Number of parameters compared.
    """

    max_error: float
    worst: str
    backprop: float
    numeric: float
    n_checked: int

    def __float__(self) -> float:
        return self.max_error

    def __str__(self) -> str:
        return (
            f"largest relative error {self.max_error:.3g} at {self.worst} "
            f"(backprop {self.backprop:.10g}, central difference {self.numeric:.10g}; "
            f"{self.n_checked} parameters checked)"
        )


def check_gradients(
    net: Network,
    X: object,
    y: object,
    loss: str | Loss = "mse",
    eps: float = 1e-5,
    floor: float | None = None,
) -> GradientCheck:
    """Compare every backpropagated slope with a central difference, in float64.

    For each parameter ``w``::

        numeric = (L(w + eps) - L(w - eps)) / (2 * eps)
        relative error = |backprop - numeric| / max(|backprop| + |numeric|, floor)

    ``floor`` defaults to ``1e-3 * max(1, |L|)``: a central difference carries
    rounding noise of about ``1e-11 * |L|``, so slopes smaller than the floor
    are compared by their absolute difference (still catching any error above
    about 1e-9) instead of a relative error that would be all noise.

    The network is copied to float64 first, so the check is meaningful for
    float32 networks too, and ``net`` is left untouched.

    Returns
    -------
    GradientCheck
        ``max_error`` is the largest relative error; ``worst`` names the
        parameter it belongs to. Backpropagation is right when it is tiny
        (below 1e-6).
    """
    loss_fn = get_loss(loss)
    eps = check_positive("eps", eps)
    probe = net.astype(np.float64)
    probe.check_loss_fits(loss_fn)
    x, _ = check_X(X, probe.n_inputs, probe.dtype)
    actual = probe.check_targets(y, x.shape[0], loss_fn)

    def loss_at() -> float:
        zs, values = probe.forward(x)
        return probe.loss_value(loss_fn, zs[-1], values[-1], actual)

    zs, values = probe.forward(x)
    if floor is None:
        floor = 1e-3 * max(1.0, abs(probe.loss_value(loss_fn, zs[-1], values[-1], actual)))
    floor = check_positive("floor", floor)
    probe.backward(zs, values, actual, loss_fn)
    analytic = [g.copy() for layer in probe.layers for g in layer.parameter_slopes()]

    worst = (-1.0, "", 0.0, 0.0)
    count = 0
    named = zip(probe.parameter_names(), probe.parameters(), analytic, strict=True)
    for name, param, slopes in named:
        for index in np.ndindex(param.shape):
            original = param[index]
            param[index] = original + eps
            up = loss_at()
            param[index] = original - eps
            down = loss_at()
            param[index] = original
            numeric = (up - down) / (2 * eps)
            a = float(slopes[index])
            error = abs(a - numeric) / max(abs(a) + abs(numeric), floor)
            count += 1
            if error > worst[0]:
                label = f"{name}[{', '.join(map(str, index))}]"
                worst = (error, label, a, numeric)
    return GradientCheck(max_error=worst[0], worst=worst[1], backprop=worst[2],
                         numeric=worst[3], n_checked=count)
