"""Activation functions: each one's value and slope (derivative) side by side.

A node receives ``z``, the weighted sum of the values feeding it, and outputs
``a = f(z)``. Backpropagation needs ``f'(z)``, the slope of the activation at
that node; the course multiplies it into every weight's slope.

Every activation works on arrays of shape ``(n_samples, n_nodes)`` and keeps
their dtype.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "Activation",
    "Identity",
    "Relu",
    "LeakyRelu",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "ACTIVATIONS",
    "get_activation",
]


class Activation:
    """Base class: ``value(z)`` is ``f(z)``, ``slope(z, a)`` is ``f'(z)``.

    ``slope`` receives both ``z`` and ``a = f(z)`` because several slopes are
    cheapest written in terms of the output (sigmoid: ``a * (1 - a)``).
    """

    name: str = "activation"

    def value(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def slope(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, z: np.ndarray, a: np.ndarray, a_slope: np.ndarray) -> np.ndarray:
        """Slope of the loss at ``z`` given the slope of the loss at ``a``.

        For element-wise activations this is ``a_slope * f'(z)``; softmax,
        whose every output depends on every input, overrides it.
        """
        return a_slope * self.slope(z, a)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(vars(self).items()))))


class Identity(Activation):
    """``f(z) = z``, slope 1. The output of a regression network."""

    name = "identity"

    def value(self, z: np.ndarray) -> np.ndarray:
        return z

    def slope(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return np.ones_like(z)

    def backward(self, z: np.ndarray, a: np.ndarray, a_slope: np.ndarray) -> np.ndarray:
        return a_slope  # times a slope of 1


class Relu(Activation):
    """``f(z) = max(0, z)``, slope 1 where ``z > 0`` and 0 elsewhere (0 at z = 0)."""

    name = "relu"

    def value(self, z: np.ndarray) -> np.ndarray:
        return np.maximum(z, 0)

    def slope(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return (z > 0).astype(z.dtype)

    def backward(self, z: np.ndarray, a: np.ndarray, a_slope: np.ndarray) -> np.ndarray:
        return a_slope * (z > 0)  # the bool mask keeps a_slope's dtype


class LeakyRelu(Activation):
    """``f(z) = z`` where ``z > 0``, else ``alpha * z``; slope 1 or ``alpha``."""

    name = "leaky_relu"

    def __init__(self, alpha: float = 0.01) -> None:
        if not 0 <= alpha < 1:
            raise ValueError(f"leaky_relu alpha must be in [0, 1), got {alpha!r}")
        self.alpha = float(alpha)

    def value(self, z: np.ndarray) -> np.ndarray:
        return np.where(z > 0, z, z * z.dtype.type(self.alpha))

    def slope(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return np.where(z > 0, z.dtype.type(1), z.dtype.type(self.alpha))

    def __repr__(self) -> str:
        return f"LeakyRelu(alpha={self.alpha})"


class Sigmoid(Activation):
    """``f(z) = 1 / (1 + exp(-z))``, slope ``f(z) * (1 - f(z))`` (at most 0.25).

    Computed as ``exp(-|z|)`` based branches so ``exp`` never overflows,
    whatever ``z`` is.
    """

    name = "sigmoid"

    def value(self, z: np.ndarray) -> np.ndarray:
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(z.dtype, copy=False)

    def slope(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return a * (1 - a)


class Tanh(Activation):
    """``f(z) = tanh(z)``, slope ``1 - tanh(z)**2``."""

    name = "tanh"

    def value(self, z: np.ndarray) -> np.ndarray:
        return np.tanh(z)

    def slope(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return 1 - a * a


class Softmax(Activation):
    """``f(z)_j = exp(z_j) / sum_k exp(z_k)`` over the nodes of one sample.

    Its slope is a matrix per sample, ``da_j/dz_i = a_j (delta_ij - a_i)``.
    ``slope`` returns the diagonal ``a_j (1 - a_j)`` (what one node sees of its
    own input); ``backward`` applies the whole matrix:
    ``z_slope = a * (a_slope - sum_j a_slope_j a_j)``.
    """

    name = "softmax"

    def value(self, z: np.ndarray) -> np.ndarray:
        shifted = z - z.max(axis=-1, keepdims=True)
        e = np.exp(shifted)
        return e / e.sum(axis=-1, keepdims=True)

    def slope(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return a * (1 - a)

    def backward(self, z: np.ndarray, a: np.ndarray, a_slope: np.ndarray) -> np.ndarray:
        return a * (a_slope - (a_slope * a).sum(axis=-1, keepdims=True))


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Identity, Relu, LeakyRelu, Sigmoid, Tanh, Softmax)
}


def get_activation(activation: str | Activation | None) -> Activation:
    """Return an activation object from a name (``"relu"``) or an object.

    ``None`` means ``"identity"``. An unknown name raises a ``ValueError``
    listing the valid names.
    """
    if activation is None:
        return Identity()
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, str):
        key = activation.strip().lower()
        if key in ACTIVATIONS:
            return ACTIVATIONS[key]()
        raise ValueError(
            f"unknown activation {activation!r}; valid names are: {', '.join(ACTIVATIONS)}"
        )
    raise TypeError(
        f"activation must be a name or an Activation object, got {type(activation).__name__}"
    )
