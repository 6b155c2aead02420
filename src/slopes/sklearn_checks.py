"""The checks of the scikit-learn estimators: their parameters, their labels, their scaler.

:class:`~slopes.sklearn.SlopesClassifier` and :class:`~slopes.sklearn.SlopesRegressor`
check what they are given at the start of ``fit``, in slopes' words where
scikit-learn's own would be unclear:

- :func:`check_params`: every parameter, once, into a frozen :class:`Settings`;
- :func:`check_labels`: class labels scikit-learn would misread (a label
  missing, numbers mixed with text);
- :func:`check_scaler`: a scaler whose mean or scale overflowed;
- :func:`check_number`, :func:`check_dtype` and :func:`python_value`, which the
  estimators also use for ``class_weight``, their tags and their messages.

This module needs no scikit-learn (its types are only named for the reader).
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .activations import ACTIVATIONS, Activation
from .schedules import get_schedule

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator
    from sklearn.preprocessing import StandardScaler

__all__ = ["Settings", "check_params", "check_labels", "check_scaler", "check_number",
           "check_dtype", "python_value", "HIDDEN_ACTIVATIONS", "OPTIMIZER_NAMES"]

#: Activations a hidden layer may use (softmax belongs to the output layer).
HIDDEN_ACTIVATIONS = tuple(name for name in ACTIVATIONS if name != "softmax")
OPTIMIZER_NAMES = ("adam", "sgd")


# ------------------------------------------------------------------------ parameters
@dataclass(frozen=True)
class Settings:
    """The estimator's parameters, checked (by :func:`check_params`, at the start of fit)."""

    sizes: tuple[int, ...]
    activations: tuple[str | Activation, ...]
    optimizer: str
    learning_rate: float
    epochs: int
    batch_size: int | None
    early_stopping: bool
    validation_fraction: float
    patience: int
    weight_decay: float
    alpha: float
    dropout: float
    schedule: object  # None, or what get_schedule reads: text, to_dict() or a schedule
    scale_inputs: bool
    dtype: np.dtype
    verbose: int


def _int_at_least(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return int(value)


def check_number(name: str, value: object, low: float, low_ok: bool,
            high: float | None = None) -> float:
    """``value`` as a finite float with ``low <(=) value (< high)``, else a ValueError in words."""
    ok = (not isinstance(value, bool) and isinstance(value, numbers.Real)
          and math.isfinite(value) and (value >= low if low_ok else value > low)
          and (high is None or value < high))
    if not ok:
        bound = f"{'>=' if low_ok else '>'} {low:g}"
        if high is not None:
            bound = f"in ({low:g}, {high:g})"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return float(value)


def _bool(name: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _hidden_sizes(value: object) -> tuple[int, ...]:
    sizes = (value,) if isinstance(value, numbers.Integral) and not isinstance(value, bool) \
        else value
    # At least one hidden layer: transform returns hidden-layer values, and without one the
    # model is scikit-learn's LogisticRegression or LinearRegression.
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (Sequence, np.ndarray)) \
            or len(sizes) == 0 or any(isinstance(s, bool) or not isinstance(s, numbers.Integral)
                                      or s < 1 for s in sizes):
        raise ValueError(
            "hidden_layer_sizes must be a tuple of ints >= 1, one per hidden layer, with at "
            f"least one (e.g. (100,) or (64, 32)), got {value!r}"
        )
    return tuple(int(s) for s in sizes)


def _hidden_activations(value: object, n_hidden: int) -> tuple[str | Activation, ...]:
    names = ", ".join(HIDDEN_ACTIVATIONS)

    def one(item: object) -> str | Activation:
        if isinstance(item, Activation) and item.name != "softmax":
            return item
        if isinstance(item, str) and item.strip().lower() in HIDDEN_ACTIVATIONS:
            return item.strip().lower()
        raise ValueError(
            f"activation must be one of {names} (or a list of them, one per hidden layer), "
            f"got {item!r}"
        )

    if isinstance(value, (str, Activation)):
        return (one(value),) * n_hidden
    if not isinstance(value, (Sequence, np.ndarray)):
        raise ValueError(
            f"activation must be one of {names} or a list of them, one per hidden layer, "
            f"got {value!r}"
        )
    if len(value) != n_hidden:
        raise ValueError(
            f"activation has {len(value)} entries ({list(value)!r}), but hidden_layer_sizes has "
            f"{n_hidden} hidden layer(s); give one name for all or one per hidden layer"
        )
    return tuple(one(item) for item in value)


def python_value(label: object) -> object:
    """A NumPy scalar as the Python value it holds: messages show ``'a'``, not ``np.str_('a')``."""
    return label.item() if isinstance(label, np.generic) else label


def _missing(label: object) -> bool:
    """None, a float NaN, pandas' NA or NaT: a sample without a label."""
    if label is None or type(label).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(label, (float, np.floating)) and math.isnan(label)


def check_labels(y: object, name: str = "y") -> None:
    """Refuse class labels scikit-learn would misread, in slopes' words.

    Checked on ``y`` as given, before NumPy makes ``[1, 'a']`` the strings
    ``'1'`` and ``'a'`` (and a NaN among strings the string ``'nan'``):
    a label missing (None, NaN), and numbers mixed with text. scikit-learn
    says "Unknown label type" or lets ``'<' not supported between 'NoneType'
    and 'str'`` through for these.
    """
    if hasattr(y, "to_numpy") and not isinstance(y, np.ndarray):
        y = y.to_numpy()  # a pandas Series: object when it holds text or None
    if isinstance(y, np.ndarray) and y.dtype != object:
        if y.dtype.kind == "f" and y.size and np.isnan(y).any():
            i = int(np.flatnonzero(np.isnan(y.ravel()))[0])
            raise ValueError(
                f"{name} has {int(np.isnan(y).sum())} missing label(s) (nan), the first at "
                f"index {i}; expected a class label for every sample: drop those rows or "
                "give them a label"
            )
        return
    if isinstance(y, (str, bytes)) or not hasattr(y, "__len__"):
        return  # scikit-learn's own message for a scalar y names it well
    try:
        labels = np.asarray(y, dtype=object).ravel()
    except (TypeError, ValueError):
        return
    # By type first (a C loop), label by label only when a type says there is more to see.
    types = set(map(type, labels))
    if any(t is type(None) or issubclass(t, (float, np.floating))
           or t.__name__ in ("NAType", "NaTType") for t in types):
        missing = [i for i, label in enumerate(labels) if _missing(label)]
        if missing:
            raise ValueError(
                f"{name} has {len(missing)} missing label(s) "
                f"({python_value(labels[missing[0]])!r}), "
                f"the first at index {missing[0]}; expected a class label for every sample: "
                "drop those rows or give them a label"
            )

    def kind(t: type) -> str | None:
        return ("text" if issubclass(t, (str, bytes)) else "a number"
                if issubclass(t, (numbers.Number, np.number)) else None)

    if {kind(t) for t in types} >= {"text", "a number"}:
        first: dict[str, int] = {}
        for i, label in enumerate(labels):
            first.setdefault(kind(type(label)), i)
        a, b = sorted((first["text"], first["a number"]))
        raise ValueError(
            f"{name} mixes numbers and text as class labels: {python_value(labels[a])!r} at index "
            f"{a} and {python_value(labels[b])!r} at index {b}; expected labels of one kind, all "
            f"numbers or all text (e.g. {name}.astype(str))"
        )


def check_dtype(value: object) -> np.dtype:
    try:
        dt = np.dtype(value) if value is not None else None
    except TypeError:
        dt = None
    # (np.dtype(None) is float64, so None is ruled out before comparing.)
    if dt is None or dt not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"dtype must be 'float64' or 'float32', got {value!r}")
    return dt


def _dropout(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value) or not 0 <= value < 1:
        raise ValueError("dropout must be the fraction of each hidden layer's nodes to drop, "
                         f"a finite number in [0, 1), got {value!r}")
    return float(value)


def _schedule(value: object) -> object:
    """``value`` if :func:`slopes.schedules.get_schedule` reads it, else a ValueError saying why."""
    try:
        get_schedule(copy.deepcopy(value))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"schedule must be None, a text such as 'step:10,0.5' or "
                         f"'warmup:5+cosine:100', a dict from to_dict() or a schedule object: "
                         f"{exc}") from None
    return value


def check_params(est: BaseEstimator) -> Settings:
    sizes = _hidden_sizes(est.hidden_layer_sizes)
    if not isinstance(est.optimizer, str) or est.optimizer.strip().lower() not in OPTIMIZER_NAMES:
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {est.optimizer!r}")
    if est.verbose not in (0, 1, 2) or isinstance(est.verbose, float):
        raise ValueError(f"verbose must be 0, 1 or 2, got {est.verbose!r}")
    rs = est.random_state
    if not (rs is None or isinstance(rs, (np.random.RandomState, np.random.Generator))
            or (isinstance(rs, numbers.Integral) and not isinstance(rs, bool)
                and 0 <= rs < 2**32)):
        raise ValueError(
            "random_state must be None, an int from 0 to 2**32 - 1, a numpy RandomState or "
            f"Generator, got {rs!r}"
        )
    return Settings(
        sizes=sizes,
        activations=_hidden_activations(est.activation, len(sizes)),
        optimizer=est.optimizer.strip().lower(),
        learning_rate=check_number("learning_rate", est.learning_rate, 0.0, False),
        epochs=_int_at_least("epochs", est.epochs, 1),
        batch_size=None if est.batch_size is None
        else _int_at_least("batch_size", est.batch_size, 1),
        early_stopping=_bool("early_stopping", est.early_stopping),
        validation_fraction=check_number("validation_fraction", est.validation_fraction, 0.0, False,
                                    1.0),
        patience=_int_at_least("patience", est.patience, 1),
        weight_decay=check_number("weight_decay", est.weight_decay, 0.0, True),
        alpha=check_number("alpha", est.alpha, 0.0, True),
        dropout=_dropout(est.dropout),
        schedule=_schedule(est.schedule),
        scale_inputs=_bool("scale_inputs", est.scale_inputs),
        dtype=check_dtype(est.dtype),
        verbose=int(est.verbose),
    )


def check_scaler(scaler: StandardScaler, X: np.ndarray, names: np.ndarray | None) -> None:
    """Refuse a scaler whose mean or scale overflowed: X held numbers near the float limit."""
    # An overflowed variance leaves scale_ at 1 (scikit-learn treats it as a zero one).
    bad = np.flatnonzero(~(np.isfinite(scaler.mean_) & np.isfinite(scaler.var_)))
    if bad.size:
        j = int(bad[0])
        column = f"column {j}" if names is None else f"column {python_value(names[j])!r}"
        raise ValueError(
            f"X's {column} holds numbers too large to standardize (up to "
            f"{np.abs(X[:, j]).max():g}); divide it by a power of ten before fitting"
        )
