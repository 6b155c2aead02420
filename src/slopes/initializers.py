"""Weight initialization schemes, drawn from a seeded ``numpy.random.Generator``.

slopes never touches NumPy's global random state: the same ``seed`` gives the
same weights, whatever else the program does with ``np.random``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .validation import check_seed

__all__ = ["INITIALIZERS", "initial_weights", "make_rng"]


def _normal(rng: np.random.Generator, n_in: int, n_out: int) -> np.ndarray:
    # The course's choice: normal with std 1/sqrt(n_in) keeps the input of the
    # next node's sigmoid small, whatever the number of inputs.
    return rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_in, n_out))


def _glorot_uniform(rng: np.random.Generator, n_in: int, n_out: int) -> np.ndarray:
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, size=(n_in, n_out))


def _he_normal(rng: np.random.Generator, n_in: int, n_out: int) -> np.ndarray:
    return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))


INITIALIZERS: dict[str, Callable[[np.random.Generator, int, int], np.ndarray]] = {
    "normal": _normal,
    "glorot_uniform": _glorot_uniform,
    "he_normal": _he_normal,
}


def make_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A ``Generator`` from an int seed, an existing ``Generator`` or ``None`` (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    check_seed(seed)  # NumPy's own words for -1 are "expected non-negative integer"
    return np.random.default_rng(seed)


def initial_weights(
    init: str, n_in: int, n_out: int, rng: np.random.Generator, dtype: np.dtype
) -> np.ndarray:
    """Weights of shape ``(n_in, n_out)`` drawn by the scheme named ``init``."""
    if init not in INITIALIZERS:
        raise ValueError(f"unknown init {init!r}; valid names are: {', '.join(INITIALIZERS)}")
    return INITIALIZERS[init](rng, n_in, n_out).astype(dtype)
