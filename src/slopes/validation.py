"""Checking and converting user input once, with errors that say what was expected.

Every public entry point (predict, trace, fit, check_gradients) sends its
``X`` and ``y`` through here before any arithmetic, so a wrong shape or a NaN
is reported in words instead of surfacing as a broadcasting error.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["check_X", "check_y", "check_positive", "check_positive_int"]


def _to_float_array(name: str, data: object, dtype: np.dtype) -> np.ndarray:
    if hasattr(data, "to_numpy") and not isinstance(data, np.ndarray):
        data = data.to_numpy()  # pandas DataFrame / Series
    try:
        arr = np.asarray(data)
    except (TypeError, ValueError) as exc:
        # e.g. ragged nested lists
        raise ValueError(f"{name} could not be read as a numeric array: {exc}") from exc
    if arr.dtype == object or arr.dtype.kind in "USVO":
        try:
            arr = arr.astype(dtype)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{name} must contain numbers only, got values of dtype {arr.dtype} "
                f"({_first_non_numeric(arr)!r} is not a number)"
            ) from exc
    elif arr.dtype.kind == "c":
        raise TypeError(f"{name} must contain real numbers, got complex dtype {arr.dtype}")
    elif arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must contain numbers, got dtype {arr.dtype}")
    arr = np.asarray(arr, dtype=dtype)
    bad = ~np.isfinite(arr)
    if bad.any():
        where = np.argwhere(bad)[0]
        raise ValueError(
            f"{name} contains {int(bad.sum())} NaN or infinite value(s) "
            f"(first at index {tuple(int(i) for i in where)}); expected finite numbers"
        )
    return arr


def _first_non_numeric(arr: np.ndarray) -> object:
    for value in arr.ravel():
        try:
            float(value)
        except (TypeError, ValueError):
            return value.item() if isinstance(value, np.generic) else value
    first = arr.ravel()[0]
    return first.item() if isinstance(first, np.generic) else first


def check_X(X: object, n_features: int, dtype: np.dtype) -> tuple[np.ndarray, bool]:
    """``X`` as a ``(n_samples, n_features)`` array of ``dtype``.

    A 1-D ``X`` is one sample. Returns the array and whether the input was a
    single sample (so predictions can be returned 1-D as well).
    """
    arr = _to_float_array("X", X, dtype)
    single = arr.ndim == 1
    if arr.ndim == 0:
        raise ValueError(
            f"X is a single number, but the network expects samples of {n_features} features"
        )
    if single:
        if arr.shape[0] == 0:
            raise ValueError("X has 0 samples; expected at least one")
        if arr.shape[0] != n_features:
            hint = (
                f"; for {arr.shape[0]} samples of one feature pass X.reshape(-1, 1)"
                if n_features == 1
                else ""
            )
            raise ValueError(
                f"X is one sample of {arr.shape[0]} features, "
                f"but the network expects {n_features}{hint}"
            )
        arr = arr.reshape(1, -1)
    elif arr.ndim != 2:
        raise ValueError(f"X must be 1-D or 2-D, got an array of shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError("X has 0 samples; expected at least one")
    if arr.shape[1] != n_features:
        raise ValueError(
            f"X has {arr.shape[1]} features, but the network expects {n_features}"
        )
    return arr, single


def check_y(y: object, n_samples: int, n_outputs: int, dtype: np.dtype,
            class_labels: bool = False) -> np.ndarray:
    """``y`` as a ``(n_samples, n_outputs)`` array of ``dtype``.

    A 1-D ``y`` of length ``n_samples`` is accepted for one output, and a
    scalar for one sample of one output. With ``class_labels`` (categorical
    cross-entropy), a 1-D ``y`` of integers 0..n_outputs-1 is one-hot encoded.
    """
    arr = _to_float_array("y", y, dtype)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim == 1:
        if class_labels and n_outputs > 1 and arr.shape[0] == n_samples:
            labels = arr.astype(np.int64)
            if not np.array_equal(labels, arr) or labels.min() < 0 or labels.max() >= n_outputs:
                raise ValueError(
                    f"y holds class labels, so it must hold integers from 0 to {n_outputs - 1}, "
                    f"got values from {arr.min():g} to {arr.max():g}"
                )
            return np.eye(n_outputs, dtype=dtype)[labels]
        if n_samples == 1 and arr.shape[0] == n_outputs:
            arr = arr.reshape(1, -1)
        elif n_outputs == 1:
            arr = arr.reshape(-1, 1)
        else:
            raise ValueError(
                f"y is 1-D with {arr.shape[0]} values, but the network has {n_outputs} outputs; "
                f"expected y of shape ({n_samples}, {n_outputs})"
            )
    elif arr.ndim != 2:
        raise ValueError(f"y must be 1-D or 2-D, got an array of shape {arr.shape}")
    if arr.shape[0] != n_samples:
        raise ValueError(f"y has {arr.shape[0]} rows, but X has {n_samples} samples")
    if arr.shape[1] != n_outputs:
        raise ValueError(
            f"y has {arr.shape[1]} outputs per sample, but the network has {n_outputs} outputs"
        )
    return arr


def check_positive(name: str, value: object) -> float:
    """``value`` as a float > 0, else a ``ValueError`` repeating it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def check_positive_int(name: str, value: object) -> int:
    """``value`` as an int >= 1, else a ``ValueError`` repeating it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return int(value)
