"""Weight penalties, dropout rates and slope clipping: the math, each term beside its slope.

A penalty is a term added to the loss the optimizer descends; its slope is
added to each weight's slope. For a weight array ``w`` with coefficients
``l1, l2 >= 0``::

    penalty            = l1 * sum(|w|) + l2 * sum(w ** 2)
    slope of penalty   = l1 * sign(w)  + 2 * l2 * w           # same shape as w

(``sign(0) = 0``, as PyTorch's autograd of ``abs`` gives.) The fit adds
them to the slopes of the batch's data loss, so a weight's slope is::

    slope = (slope from the data) + l1 * sign(w) + 2 * l2 * w

How ``l2`` relates to the other libraries' settings:

- **PyTorch** ``torch.optim.SGD(weight_decay=wd)`` and ``Adam(weight_decay=wd)``
  (coupled weight decay) add ``wd * w`` to the slope, so they are ``l2 =
  wd / 2`` here (or the same ``weight_decay`` on slopes' own SGD and Adam,
  which follow PyTorch's rule exactly). PyTorch's loss plus
  ``l2 * sum(w ** 2)`` is ``l2`` here, term for term. Coupled weight decay
  in PyTorch applies to every parameter given to the optimizer, biases
  included: ``penalize_bias=True`` to match it. ``AdamW`` is different:
  its decay is decoupled from the slope (see :class:`slopes.optimizers.AdamW`).
- **scikit-learn** ``MLPClassifier``/``MLPRegressor(alpha=a)`` add, in
  ``_multilayer_perceptron.py`` (``_backprop`` and ``_compute_loss_grad``),
  ``(0.5 * a) * sum(w ** 2) / sw_sum`` to each batch's loss and ``a * w /
  sw_sum`` to each weight's slope, where ``sw_sum`` is the batch's number
  of rows (or the sum of its sample weights); biases are not penalized.
  That is ``l2 = a / (2 * sw_sum)`` here: with batches of ``b`` rows,
  ``l2 = alpha / (2 * b)`` (a last, shorter batch of ``r`` rows gets
  ``alpha / (2 * r)`` in scikit-learn, a little more). Its squared loss is
  slopes' ``half_mse``, its log loss ``binary_crossentropy`` or
  ``categorical_crossentropy``.

Clipping scales the slopes of one step, after the penalty is added and
before the optimizer: by their global L2 norm as
``torch.nn.utils.clip_grad_norm_`` (:func:`clip_factor`) and elementwise as
``torch.nn.utils.clip_grad_value_`` (:func:`clip_values`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from .validation import short_repr

__all__ = [
    "check_penalty", "check_dropout", "check_clip", "penalty_value", "penalty_slope",
    "add_penalty_slope", "clip_factor", "clip_values", "dropout_mask", "CLIP_EPS",
]

#: What ``torch.nn.utils.clip_grad_norm_`` adds to the norm before dividing.
CLIP_EPS = 1e-6


def _number(name: str, value: object, expected: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {expected}, got {short_repr(value)} "
                        f"({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return value


def check_penalty(name: str, value: object) -> float:
    """``value`` as a penalty coefficient: a finite float ``>= 0`` (``l1``, ``l2``)."""
    expected = "a finite number >= 0"
    number = _number(name, value, expected)
    if number < 0:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return number


def check_dropout(name: str, value: object) -> float:
    """``value`` as a dropout rate: the fraction of nodes dropped, ``0 <= rate < 1``."""
    expected = "a fraction of the nodes to drop, a number in [0, 1)"
    number = _number(name, value, expected)
    if not 0 <= number < 1:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return number


def check_clip(name: str, value: object) -> float | None:
    """``value`` as a clipping bound: None (no clipping) or a finite float ``> 0``."""
    if value is None:
        return None
    expected = "None or a finite number > 0"
    number = _number(name, value, expected)
    if number <= 0:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return number


def penalty_value(w: np.ndarray, l1: float, l2: float) -> float:
    """``l1 * sum(|w|) + l2 * sum(w ** 2)`` for a weight array ``w`` of any shape."""
    flat = w.ravel()
    total = 0.0
    if l1:
        total += l1 * float(np.abs(flat).sum())
    if l2:
        total += l2 * float(np.dot(flat, flat))
    return total


def penalty_slope(w: np.ndarray, l1: float, l2: float) -> np.ndarray:
    """``l1 * sign(w) + 2 * l2 * w``, the penalty's slope, shaped like ``w``."""
    out = np.zeros_like(w)
    add_penalty_slope(w, out, l1, l2, np.empty_like(w))
    return out


def add_penalty_slope(w: np.ndarray, slopes: np.ndarray, l1: float, l2: float,
                      scratch: np.ndarray) -> float:
    """``slopes += l1 * sign(w) + 2 * l2 * w`` in place; returns the penalty's value.

    ``scratch`` is an array of ``w``'s shape and dtype to compute in (the
    fit loop passes part of its updates array, not yet written in the
    step), so nothing is allocated. One pass over ``w`` per coefficient.
    """
    dt = w.dtype.type
    total = 0.0
    if l2:
        flat = w.ravel()
        total += l2 * float(np.dot(flat, flat))
        np.multiply(w, dt(2 * l2), out=scratch)
        slopes += scratch
    if l1:
        np.abs(w, out=scratch)
        total += l1 * float(scratch.sum())
        np.sign(w, out=scratch)
        scratch *= dt(l1)
        slopes += scratch
    return total


def clip_factor(slopes: Sequence[np.ndarray], max_norm: float) -> float:
    """The factor ``torch.nn.utils.clip_grad_norm_(params, max_norm)`` scales slopes by.

    ``total_norm`` is the L2 norm of all the slopes together (the norm of
    the per-array norms, as PyTorch computes it); the factor is
    ``max_norm / (total_norm + 1e-6)`` when that is below 1, else 1 (no
    clipping). A NaN or infinite slope gives a NaN or 0 factor, which the
    fit loop then reports as a diverged step.
    """
    norms = np.array([np.linalg.norm(g.ravel()) for g in slopes])
    total_norm = float(np.linalg.norm(norms))
    factor = max_norm / (total_norm + CLIP_EPS)
    return factor if factor < 1 or math.isnan(factor) else 1.0


def clip_values(slopes: np.ndarray, clip_value: float) -> None:
    """Every slope into ``[-clip_value, clip_value]``, in place (``clip_grad_value_``)."""
    np.clip(slopes, -clip_value, clip_value, out=slopes)


def dropout_mask(rng: np.random.Generator, shape: tuple[int, int], rate: float,
                 dtype: np.dtype) -> np.ndarray:
    """Inverted dropout's factors, ``(n_samples, n_nodes)``: 0 (dropped) or ``1 / (1 - rate)``.

    Each node of each row is dropped with probability ``rate``, drawn from
    ``rng``; a kept node's value is scaled by ``1 / (1 - rate)`` so that its
    expected value stays what it is without dropout, and prediction needs no
    scaling.
    """
    keep = rng.random(shape) >= rate
    return keep.astype(dtype) * dtype.type(1 / (1 - rate))
