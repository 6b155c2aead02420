"""Checking and converting user input once, with errors that say what was expected.

Every public entry point (predict, trace, fit, check_gradients) sends its
``X`` and ``y`` through here before any arithmetic, so a wrong shape or a NaN
is reported in words instead of surfacing as a broadcasting error.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "check_X",
    "check_y",
    "check_positive",
    "check_positive_int",
    "check_bool",
    "check_seed",
    "check_sizes",
    "short_repr",
]


def short_repr(value: object, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters so an error message stays one line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _to_float_array(name: str, data: object, dtype: np.dtype) -> np.ndarray:
    if data is None:
        # np.asarray(None) would become a NaN and be reported as one.
        raise TypeError(f"{name} must be an array of numbers, got None")
    if hasattr(data, "to_numpy") and not isinstance(data, np.ndarray):
        data = data.to_numpy()  # pandas DataFrame / Series
    try:
        arr = np.asarray(data)
    except (TypeError, ValueError) as exc:
        if "inhomogeneous" in str(exc):
            # NumPy's own words ("inhomogeneous shape after 1 dimensions") mean ragged lists.
            raise ValueError(
                f"{name} could not be read as a numeric array: its rows have different "
                f"lengths, got {short_repr(data)}; expected every row to hold the same "
                "number of values"
            ) from exc
        raise ValueError(f"{name} could not be read as a numeric array: {exc}") from exc
    if arr.dtype.kind in "US" or arr.dtype == object and _has_text(arr):
        # Text is refused even when it reads as numbers ('0.5', '1'): a column read as
        # text is a parsing mistake upstream, and labels '0'/'1' are not the numbers 0/1.
        bad = _first_text(data, arr)
        reason = "is not a number"
        try:
            float(bad)
        except (TypeError, ValueError):
            pass
        else:
            reason = (f"is text, not a number; convert it first, e.g. "
                      f"np.asarray({name}, dtype=float)")
        raise TypeError(f"{name} must contain numbers only, got text ({bad!r} {reason})")
    source = arr
    if arr.dtype == object or arr.dtype.kind == "V":
        try:
            with np.errstate(over="ignore"):  # a float too large for dtype: reported below
                arr = arr.astype(dtype)
        except OverflowError as exc:  # a Python int beyond the float range: 10**400
            big = _first_too_large(arr, dtype)
            raise ValueError(
                f"{name} contains a number too large for {np.dtype(dtype).name}, "
                f"{short_repr(big, 30)} (about 10**{len(str(abs(big))) - 1}); expected finite "
                f"numbers of size below {np.finfo(dtype).max:.3g}"
            ) from exc
        except (TypeError, ValueError) as exc:
            what = "Python objects" if arr.dtype == object else f"dtype {arr.dtype}"
            raise TypeError(
                f"{name} must contain numbers only, got {what} "
                f"({_first_non_numeric(arr)!r} is not a number)"
            ) from exc
    elif arr.dtype.kind == "c":
        raise TypeError(f"{name} must contain real numbers, got complex dtype {arr.dtype}")
    elif arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must contain numbers, got dtype {arr.dtype}")
    # Row order (C), converted once here where the data comes in: every batch of the fit
    # loop takes whole rows, and rows of a column-ordered array (what a pandas DataFrame
    # gives) are strided, which made training 8 to 17 times slower. One copy at most: the
    # dtype conversion and the reordering are the same copy.
    with np.errstate(over="ignore"):  # 1e300 in float32: reported below, in words
        arr = np.asarray(arr, dtype=dtype, order="C")
    # A NaN or an infinity makes the sum of squares non-finite: one BLAS pass over the
    # numbers, where isfinite makes three. Huge values overflow it too: look closer then,
    # without NumPy's "overflow encountered in dot" warning for finite numbers like 1e200.
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.dot(arr.ravel(), arr.ravel())
    if math.isfinite(total):
        return arr
    bad = ~np.isfinite(arr)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        first = source[where]
        if arr is not source and math.isfinite(first):
            # Finite as given, infinite in dtype: 1e300 in a float32 network.
            was_finite = np.isfinite(np.asarray(source[bad], dtype=np.float64))
            raise ValueError(
                f"{name} contains {int(was_finite.sum())} number(s) too large for "
                f"{np.dtype(dtype).name} (first at index {where}: {float(first):g}); "
                f"expected finite numbers of size below {np.finfo(dtype).max:.3g}"
            )
        raise ValueError(
            f"{name} contains {int(bad.sum())} NaN or infinite value(s) "
            f"(first at index {where}); expected finite numbers"
        )
    return arr


def _has_text(arr: np.ndarray) -> bool:
    """Whether an object array holds a str or bytes entry."""
    return any(issubclass(t, (str, bytes)) for t in set(map(type, arr.ravel())))


def _first_text(data: object, arr: np.ndarray) -> object:
    """The first entry of ``data`` that cannot be read as a number, else the first text entry.

    NumPy turns ``[[1.0, '2']]`` into the strings ``'1.0'`` and ``'2'``: the
    entries are looked up in ``data`` as given, so the message shows the
    ``'2'`` the user wrote and not the ``'1.0'`` NumPy made of a number.
    """
    if arr.dtype != object and not isinstance(data, np.ndarray):
        try:
            given = np.asarray(data, dtype=object)
        except (TypeError, ValueError):
            given = arr
        if given.shape == arr.shape:
            arr = given
    items = [value.item() if isinstance(value, np.generic) else value for value in arr.ravel()]
    texts = [value for value in items if isinstance(value, (str, bytes))]
    for value in texts:
        try:
            float(value)
        except (TypeError, ValueError):
            return value
    return texts[0] if texts else items[0]


def _first_too_large(arr: np.ndarray, dtype: np.dtype) -> object:
    limit = float(np.finfo(dtype).max)  # a Python float: compared with an int exactly
    for value in arr.ravel():
        if isinstance(value, numbers.Integral) and abs(value) > limit:
            return value
    return arr.ravel()[0]


def _first_non_numeric(arr: np.ndarray) -> object:
    for value in arr.ravel():
        try:
            float(value)
        except (TypeError, ValueError):
            return value.item() if isinstance(value, np.generic) else value
    first = arr.ravel()[0]
    return first.item() if isinstance(first, np.generic) else first


def check_X(X: object, n_features: int, dtype: np.dtype,
            name: str = "X") -> tuple[np.ndarray, bool]:
    """``X`` as a ``(n_samples, n_features)`` array of ``dtype``.

    A 1-D ``X`` is one sample. Returns the array and whether the input was a
    single sample (so predictions can be returned 1-D as well). ``name`` is
    what the error messages call the array (``"X_val"`` for validation data).
    """
    arr = _to_float_array(name, X, dtype)
    single = arr.ndim == 1
    if arr.ndim == 0:
        raise ValueError(
            f"{name} is a single number, but the network expects samples of {n_features} features"
        )
    if single:
        if arr.shape[0] == 0:
            raise ValueError(f"{name} has 0 samples; expected at least one")
        if arr.shape[0] != n_features:
            hint = (
                f"; for {arr.shape[0]} samples of one feature pass {name}.reshape(-1, 1)"
                if n_features == 1
                else ""
            )
            raise ValueError(
                f"{name} is one sample of {arr.shape[0]} features, "
                f"but the network expects {n_features}{hint}"
            )
        arr = arr.reshape(1, -1)
    elif arr.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D, got an array of shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} has 0 samples; expected at least one")
    if arr.shape[1] != n_features:
        raise ValueError(
            f"{name} has {arr.shape[1]} features, but the network expects {n_features}"
        )
    return arr, single


def check_y(y: object, n_samples: int, n_outputs: int, dtype: np.dtype,
            class_labels: bool = False, name: str = "y", x_name: str = "X") -> np.ndarray:
    """``y`` as a ``(n_samples, n_outputs)`` array of ``dtype``.

    A 1-D ``y`` of length ``n_samples`` is accepted for one output, and a
    scalar for one sample of one output. With ``class_labels`` (categorical
    cross-entropy), a 1-D ``y`` of integers 0..n_outputs-1 is one-hot encoded.
    ``name`` and ``x_name`` are what the error messages call ``y`` and its ``X``.
    """
    arr = _to_float_array(name, y, dtype)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim == 1:
        if class_labels and n_outputs > 1 and arr.shape[0] == n_samples:
            labels = arr.astype(np.int64)
            if not np.array_equal(labels, arr) or labels.min() < 0 or labels.max() >= n_outputs:
                fractions = np.flatnonzero(labels != arr)
                # A fraction strictly between the smallest and largest label hides in the range.
                among = (f", among them {arr[fractions[0]]:g} at index {fractions[0]}, "
                         "which is not an integer"
                         if fractions.size and arr.min() == int(arr.min())
                         and arr.max() == int(arr.max()) else "")
                raise ValueError(
                    f"{name} holds class labels, so it must hold integers from 0 to "
                    f"{n_outputs - 1}, got values from {arr.min():g} to {arr.max():g}{among}"
                )
            return np.eye(n_outputs, dtype=dtype)[labels]
        if n_samples == 1 and arr.shape[0] == n_outputs:
            arr = arr.reshape(1, -1)
        elif n_outputs == 1:
            arr = arr.reshape(-1, 1)
        else:
            raise ValueError(
                f"{name} is 1-D with {arr.shape[0]} values, but the network has {n_outputs} "
                f"outputs; expected {name} of shape ({n_samples}, {n_outputs})"
            )
    elif arr.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D, got an array of shape {arr.shape}")
    if arr.shape[0] != n_samples:
        raise ValueError(f"{name} has {arr.shape[0]} rows, but {x_name} has {n_samples} samples")
    if arr.shape[1] != n_outputs:
        raise ValueError(
            f"{name} has {arr.shape[1]} outputs per sample, but the network has {n_outputs} outputs"
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


def check_bool(name: str, value: object) -> bool:
    """``value`` as a bool; anything but True or False is a ``TypeError`` repeating it.

    Strict on purpose: ``shuffle="no"`` is truthy and would silently shuffle.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {short_repr(value)}")
    return bool(value)


def check_seed(seed: object) -> None:
    """Refuse a seed NumPy would refuse, in words: an int >= 0, a Generator or None."""
    if seed is None or isinstance(seed, np.random.Generator):
        return
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"seed must be an int, a numpy Generator or None, got {short_repr(seed)}"
        )
    if seed < 0:
        # NumPy's own message for this is "expected non-negative integer".
        raise ValueError(f"seed must be an int >= 0, a numpy Generator or None, got {seed}")


def check_sizes(sizes: object) -> list[int]:
    """``sizes`` of ``Network.mlp`` as a list of ints >= 1, inputs first, at least two.

    A bad entry is named by its place and its role (inputs, a hidden layer,
    outputs), not as the ``n_in``/``n_out`` of a layer the user never wrote.
    """
    if (isinstance(sizes, (str, bytes, dict)) or not hasattr(sizes, "__iter__")
            or isinstance(sizes, np.ndarray) and sizes.ndim != 1):
        raise TypeError(
            "sizes must be a list of layer sizes, inputs first, like [2, 3, 1], got "
            f"{short_repr(sizes)} ({type(sizes).__name__})"
        )
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least 2 entries (inputs and outputs), got {sizes}")
    for k, n in enumerate(sizes):
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < 1:
            role = ("the number of inputs" if k == 0 else "the number of outputs"
                    if k == len(sizes) - 1 else f"the size of hidden layer {k - 1}")
            raise ValueError(
                f"sizes[{k}] ({role}) must be a positive int, got {short_repr(n)}; "
                f"sizes was {short_repr(sizes)}"
            )
    return [int(n) for n in sizes]
