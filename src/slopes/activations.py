"""Activation functions: each one's value and slope (derivative) side by side.

A node receives ``z``, the weighted sum of the values feeding it, and outputs
``a = f(z)``. Backpropagation needs ``f'(z)``, the slope of the activation at
that node; the course multiplies it into every weight's slope.

Every activation works on arrays of shape ``(n_samples, n_nodes)`` and keeps
their dtype. ``value`` and ``backward`` take an optional ``out``, an array of
the result's shape and dtype that the result may be written into (the fit loop
passes preallocated buffers; ``out`` may be ``node_slope`` itself). Always use the
array they return: an activation may return another one (identity returns
``z`` itself).
"""

from __future__ import annotations

import functools
import numbers

import numpy as np

__all__ = [
    "ones_vector",
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

    def value(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        raise NotImplementedError

    def slope(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, z: np.ndarray, a: np.ndarray, node_slope: np.ndarray,
                 out: np.ndarray | None = None) -> np.ndarray:
        """The input slope ``dL/dz`` from the node slope ``dL/da``, both (n_samples, n_nodes).

        slopes uses one name for each derivative: a node's *node slope* is the
        slope of the loss at its output ``a`` (``dL/da``, ``Trace.node_slopes``),
        its *input slope* the slope at its input ``z`` (``dL/dz``,
        ``Trace.input_slopes``). For element-wise activations
        ``input_slope = node_slope * f'(z)``; softmax, whose every output
        depends on every input, overrides it.
        """
        return np.multiply(node_slope, self.slope(z, a), out=out)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(vars(self).items()))))


class Identity(Activation):
    """``f(z) = z``, slope 1. The output of a regression network."""

    name = "identity"

    def value(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return z  # no copy, even with out

    def slope(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return np.ones_like(z)

    def backward(self, z: np.ndarray, a: np.ndarray, node_slope: np.ndarray,
                 out: np.ndarray | None = None) -> np.ndarray:
        return node_slope  # times a slope of 1


class Relu(Activation):
    """``f(z) = max(0, z)``, slope 1 where ``z > 0`` and 0 elsewhere (0 at z = 0)."""

    name = "relu"

    def value(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.maximum(z, 0, out=out)

    def slope(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return (z > 0).astype(z.dtype)

    def backward(self, z: np.ndarray, a: np.ndarray, node_slope: np.ndarray,
                 out: np.ndarray | None = None) -> np.ndarray:
        return np.multiply(node_slope, z > 0, out=out)  # the bool mask keeps node_slope's dtype


class LeakyRelu(Activation):
    """``f(z) = z`` where ``z > 0``, else ``alpha * z``; slope 1 or ``alpha``."""

    name = "leaky_relu"

    def __init__(self, alpha: float = 0.01) -> None:
        if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, numbers.Real):
            # '0.1' would reach a comparison with 0 and NumPy's raw TypeError.
            raise TypeError(f"leaky_relu alpha must be a number in [0, 1), got {alpha!r} "
                            f"({type(alpha).__name__})")
        if not 0 <= alpha < 1:
            raise ValueError(f"leaky_relu alpha must be in [0, 1), got {alpha!r}")
        self.alpha = float(alpha)

    def value(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        # max(z, alpha * z) is z for z > 0 and alpha * z below, as 0 <= alpha < 1.
        scaled = np.multiply(z, z.dtype.type(self.alpha), out=out)
        return np.maximum(z, scaled, out=scaled)

    def slope(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return np.where(z > 0, z.dtype.type(1), z.dtype.type(self.alpha))

    def __repr__(self) -> str:
        return f"LeakyRelu(alpha={self.alpha})"


class Sigmoid(Activation):
    """``f(z) = 1 / (1 + exp(-z))``, slope ``f(z) * (1 - f(z))`` (at most 0.25).

    Computed as written, which is exact to a few units in the last place for
    every ``z``: where ``exp(-z)`` overflows (``z < -88`` in float32, ``-709``
    in float64) it becomes ``inf`` and ``1 / inf`` is 0, the sigmoid rounded
    to the dtype. NumPy's overflow warning for that is switched off here.
    """

    name = "sigmoid"

    def value(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        e = np.negative(z, out=out)
        # exp(-z) overflows to inf for z below -88 (float32) and 1 / (1 + exp(-z)) then is
        # 0; near there it is a subnormal number: both are the right values, not errors.
        with np.errstate(over="ignore", under="ignore"):
            np.exp(e, out=e)
            e += 1
            return np.reciprocal(e, out=e)

    def slope(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return a * (1 - a)


class Tanh(Activation):
    """``f(z) = tanh(z)``, slope ``1 - tanh(z)**2``."""

    name = "tanh"

    def value(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.tanh(z, out=out)

    def slope(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return 1 - a * a


class Softmax(Activation):
    """``f(z)_j = exp(z_j) / sum_k exp(z_k)`` over the nodes of one sample.

    Its slope is a matrix per sample, ``da_j/dz_i = a_j (delta_ij - a_i)``.
    ``slope`` returns the diagonal ``a_j (1 - a_j)`` (what one node sees of its
    own input); ``backward`` applies the whole matrix:
    ``input_slope = a * (node_slope - sum_j node_slope_j a_j)``.
    """

    name = "softmax"

    def value(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        # exp never overflows; ufunc reductions called directly skip the methods' Python layer
        e = np.subtract(z, np.maximum.reduce(z, axis=-1, keepdims=True), out=out)
        with np.errstate(under="ignore"):  # exp of a far negative z - max is 0, as it should
            np.exp(e, out=e)
            e /= np.add.reduce(e, axis=-1, keepdims=True)
        return e

    def slope(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return a * (1 - a)

    def backward(self, z: np.ndarray, a: np.ndarray, node_slope: np.ndarray,
                 out: np.ndarray | None = None) -> np.ndarray:
        weighted = (node_slope * a).sum(axis=-1, keepdims=True)  # before out overwrites node_slope
        input_slope = np.subtract(node_slope, weighted, out=out)
        input_slope *= a
        return input_slope


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Identity, Relu, LeakyRelu, Sigmoid, Tanh, Softmax)
}


@functools.lru_cache(maxsize=16)
def ones_vector(n: int, dtype: np.dtype) -> np.ndarray:
    """A read-only vector of ``n`` ones, kept for reuse: a sum over rows or columns as
    one matrix product (a BLAS call), several times faster than ``sum(axis=...)``
    when the summed axis crosses few numbers per row."""
    ones = np.ones(n, dtype=dtype)
    ones.flags.writeable = False
    return ones


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
