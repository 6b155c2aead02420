"""Loss functions: each one's value and its slope with respect to the predictions.

All losses take ``predicted`` and ``actual`` of shape ``(n_samples, n_outputs)``
(``m`` samples, ``k`` outputs) and write ``error = predicted - actual``, the
course's sign. The value and the slope of each loss sit a few lines apart so
one can be checked against the other.

Fused pairs. ``binary_crossentropy`` goes with a sigmoid output layer and
``categorical_crossentropy`` with a softmax output layer. For these pairs the
slope of the loss at the output layer's *input* ``z`` (the logits) is simply
``(predicted - actual) / m`` (divided by ``m * k`` for the binary one, whose
mean also runs over outputs). slopes uses that fused slope and computes the
value from the logits, so neither overflows for logits of +-1e4, where
``log(sigmoid(z))`` computed naively gives ``log(0) = -inf``.

Sample weights. Every ``value``, ``slope``, ``value_from_logits`` and
``logit_slope`` takes an optional ``sample_weight`` of shape ``(m,)`` (``w_i >=
0``, positive sum) that weighs each row's loss ``l_i`` and its slope exactly.
A loss that averages its rows becomes

    L = sum_i w_i l_i / sum_i w_i

and ``sse``, which sums them, becomes ``L = sum_i w_i l_i``. Either way
weights of 1 give the unweighted loss, and integer weights give the loss of
the data with row ``i`` repeated ``w_i`` times. The slope at row ``i`` is the
unweighted slope times ``m w_i / sum_i w_i`` (times ``w_i`` for ``sse``).
"""

from __future__ import annotations

import functools

import numpy as np

from .activations import Activation, get_activation, ones_vector

__all__ = [
    "Loss",
    "SSE",
    "MSE",
    "HalfMSE",
    "MAE",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "LOSSES",
    "get_loss",
]


def _weighted_mean(row_losses: np.ndarray, sample_weight: np.ndarray) -> float:
    """``sum_i w_i l_i / sum_i w_i`` for row losses ``l`` (m,) and weights ``w`` (m,)."""
    return float(sample_weight @ row_losses / sample_weight.sum())


def _weigh_rows(slope: np.ndarray, sample_weight: np.ndarray | None,
                mean: bool = True) -> np.ndarray:
    """The slope (m, k) of the weighted loss from the unweighted one.

    Row ``i`` is scaled by ``m w_i / sum w`` for a loss that averages its rows
    (its unweighted slope carries ``1/m``, the weighted one ``w_i / sum w``),
    by ``w_i`` for one that sums them.
    """
    if sample_weight is None:
        return slope
    factors = sample_weight * (len(sample_weight) / sample_weight.sum()) if mean \
        else sample_weight
    slope *= factors[:, None]  # every caller passes an array of its own
    return slope


class Loss:
    """Base class: ``value(predicted, actual)`` and ``slope(predicted, actual)``.

    ``fused_activation`` names the output activation the loss is fused with,
    or is ``None``. A fused loss also has ``value_from_logits`` and
    ``logit_slope``. The built-in losses also take ``sample_weight=`` (see
    the module's notes); a loss of your own needs it only for weighted
    training, as it is passed only when weights are given.
    """

    name: str = "loss"
    fused_activation: str | None = None

    def value(self, predicted: np.ndarray, actual: np.ndarray) -> float:
        raise NotImplementedError

    def slope(self, predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def check_actual(self, actual: np.ndarray) -> None:
        """Raise a ``ValueError`` when targets ``actual`` are outside what the loss means.

        Called once per call of ``Network.check_targets`` (so once per
        ``fit``, ``trace``, ``evaluate``), never per batch. Here: no limits.
        """

    def value_and_predicted(self, z: np.ndarray, actual: np.ndarray,
                            sample_weight: np.ndarray | None = None,
                            out: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """For a fused loss: its value and the output layer's values, both from the logits ``z``.

        The fit loop's one call per batch at the output of a fused pair.
        ``out``, an array shaped like ``z``, may receive the values; use the
        one returned. A loss may compute both together to share work.
        """
        weighted = {} if sample_weight is None else {"sample_weight": sample_weight}
        value = self.value_from_logits(z, actual, **weighted)
        return value, _fused_activation(self.fused_activation).value(z, out=out)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))


class SSE(Loss):
    """Sum of squared errors: ``L = sum_{i,j} (p_ij - y_ij)**2``; slope ``2 * error``."""

    name = "sse"

    def value(self, predicted: np.ndarray, actual: np.ndarray,
              sample_weight: np.ndarray | None = None) -> float:
        error = predicted - actual
        if sample_weight is None:
            return float(np.vdot(error, error))
        return float(sample_weight @ np.square(error).sum(axis=1))

    def slope(self, predicted: np.ndarray, actual: np.ndarray,
              sample_weight: np.ndarray | None = None) -> np.ndarray:
        return _weigh_rows(2 * (predicted - actual), sample_weight, mean=False)


class MSE(Loss):
    """Mean squared error over samples and outputs: ``L = sum (p - y)**2 / (m k)``.

    This is ``sklearn.metrics.mean_squared_error``. Slope ``2 * error / (m k)``:
    for one sample and one output, the course's ``2 * error``.
    """

    name = "mse"

    def value(self, predicted: np.ndarray, actual: np.ndarray,
              sample_weight: np.ndarray | None = None) -> float:
        error = predicted - actual
        if sample_weight is None:
            return float(np.vdot(error, error)) / error.size
        return _weighted_mean(np.square(error).mean(axis=1), sample_weight)

    def slope(self, predicted: np.ndarray, actual: np.ndarray,
              sample_weight: np.ndarray | None = None) -> np.ndarray:
        return _weigh_rows(2 * (predicted - actual) / predicted.size, sample_weight)


class HalfMSE(Loss):
    """The course's ``E = 1/(2m) sum_samples sum_outputs (p - y)**2``; slope ``error / m``.

    With this loss, the course's weight step ``eta * delta * x`` (with
    ``delta = (y - p) f'(h)``) is exactly ``-learning_rate * weight_slope``.
    """

    name = "half_mse"

    def value(self, predicted: np.ndarray, actual: np.ndarray,
              sample_weight: np.ndarray | None = None) -> float:
        error = predicted - actual
        if sample_weight is None:
            return float(np.vdot(error, error)) / (2 * predicted.shape[0])
        return _weighted_mean(np.square(error).sum(axis=1) / 2, sample_weight)

    def slope(self, predicted: np.ndarray, actual: np.ndarray,
              sample_weight: np.ndarray | None = None) -> np.ndarray:
        return _weigh_rows((predicted - actual) / predicted.shape[0], sample_weight)


class MAE(Loss):
    """Mean absolute error: ``L = sum |p - y| / (m k)``; slope ``sign(error) / (m k)``."""

    name = "mae"

    def value(self, predicted: np.ndarray, actual: np.ndarray,
              sample_weight: np.ndarray | None = None) -> float:
        if sample_weight is None:
            return float(np.mean(np.abs(predicted - actual)))
        return _weighted_mean(np.abs(predicted - actual).mean(axis=1), sample_weight)

    def slope(self, predicted: np.ndarray, actual: np.ndarray,
              sample_weight: np.ndarray | None = None) -> np.ndarray:
        return _weigh_rows(np.sign(predicted - actual) / predicted.size, sample_weight)


@functools.cache
def _fused_activation(name: str) -> Activation:
    return get_activation(name)


# Below these, exp(x) is finite in the dtype (its largest numbers are 3.4e38 and 1.8e308).
_EXP_CAP = {np.dtype(np.float32): np.float32(88.0), np.dtype(np.float64): np.float64(709.0)}


def _clip_probabilities(p: np.ndarray) -> np.ndarray:
    eps = np.finfo(p.dtype).eps
    return np.clip(p, eps, 1 - eps)


class BinaryCrossentropy(Loss):
    """Binary cross-entropy, averaged over samples and outputs (Keras, PyTorch).

    ``L = -mean(y log p + (1 - y) log(1 - p))``. Fused with a sigmoid output:
    from the logits ``z``, ``L = mean(log(1 + exp(-z)) + z (1 - y))``, which
    never overflows (see :meth:`value_and_predicted`), and the slope at ``z``
    is ``(p - y) / (m k)``.
    """

    name = "binary_crossentropy"
    fused_activation = "sigmoid"

    def value(self, predicted: np.ndarray, actual: np.ndarray,
              sample_weight: np.ndarray | None = None) -> float:
        p = _clip_probabilities(predicted)
        terms = actual * np.log(p) + (1 - actual) * np.log1p(-p)
        if sample_weight is None:
            return float(-np.mean(terms))
        return _weighted_mean(-terms.mean(axis=1), sample_weight)

    def slope(self, predicted: np.ndarray, actual: np.ndarray,
              sample_weight: np.ndarray | None = None) -> np.ndarray:
        p = _clip_probabilities(predicted)
        return _weigh_rows((p - actual) / (p * (1 - p)) / predicted.size, sample_weight)

    def check_actual(self, actual: np.ndarray) -> None:
        """Targets must be probabilities in [0, 1]: outside, the loss has no minimum."""
        low, high = float(actual.min()), float(actual.max())
        if not (low >= 0 and high <= 1):  # written so that NaN fails too
            raise ValueError(
                f"binary_crossentropy needs targets between 0 and 1, got values from "
                f"{low:g} to {high:g}"
            )

    def value_from_logits(self, z: np.ndarray, actual: np.ndarray,
                          sample_weight: np.ndarray | None = None) -> float:
        return self.value_and_predicted(z, actual, sample_weight)[0]

    def value_and_predicted(self, z: np.ndarray, actual: np.ndarray,
                            sample_weight: np.ndarray | None = None,
                            out: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """The loss and the sigmoid of the logits ``z``, sharing ``d = 1 + exp(-z)``.

        The sigmoid is ``p = 1 / d``; each term of the loss is ``log(1 +
        exp(z)) - z y = log(d) + z (1 - y)``. ``-z`` is capped where ``exp``
        would overflow (88 in float32, 709 in float64): there ``log(d)``
        becomes ``-z``, which it equals to within ``exp(z)``, and ``p`` is
        about 1e-38 (1e-308) instead of 0. No overflow, no warning to silence.
        """
        with np.errstate(under="ignore"):  # exp of a far negative number is 0: right, no error
            return self._value_and_predicted(z, actual, sample_weight, out)

    def _value_and_predicted(self, z: np.ndarray, actual: np.ndarray,
                             sample_weight: np.ndarray | None = None,
                             out: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        cap = _EXP_CAP.get(z.dtype)
        if cap is None:
            z = np.asarray(z, dtype=np.float64)
            cap = _EXP_CAP[z.dtype]
        if (sample_weight is None and z.flags.c_contiguous and actual.flags.c_contiguous
                and z.shape == actual.shape and z.min() >= -cap):
            # No exp can overflow: four fewer passes. Each term is log(d) + z - z y,
            # and the sum of z y is one dot product.
            d = np.negative(z, out=out)
            np.exp(d, out=d)
            d += 1
            terms = np.log(d)
            terms += z
            value = (float(np.add.reduce(terms, axis=None))
                     - float(np.dot(z.ravel(), actual.ravel()))) / terms.size
            return value, np.reciprocal(d, out=d)
        d = np.negative(z, out=out)
        np.minimum(d, cap, out=d)
        np.exp(d, out=d)
        d += 1
        terms = np.log(d)
        np.maximum(terms, np.negative(z), out=terms)  # log(1 + exp(-z)), also past the cap
        z_not_y = z * actual
        np.subtract(z, z_not_y, out=z_not_y)  # z (1 - y): exact for targets 0 and 1
        terms += z_not_y
        if sample_weight is None:
            value = float(np.add.reduce(terms, axis=None)) / terms.size
        else:
            value = _weighted_mean(terms.mean(axis=1), sample_weight)
        return value, np.reciprocal(d, out=d)

    def logit_slope(self, predicted: np.ndarray, actual: np.ndarray,
                    sample_weight: np.ndarray | None = None,
                    out: np.ndarray | None = None) -> np.ndarray:
        with np.errstate(under="ignore"):
            return self._logit_slope(predicted, actual, sample_weight, out)

    def _logit_slope(self, predicted: np.ndarray, actual: np.ndarray,
                     sample_weight: np.ndarray | None = None,
                     out: np.ndarray | None = None) -> np.ndarray:
        slope = np.subtract(predicted, actual, out=out)
        slope /= slope.size
        return slope if sample_weight is None else _weigh_rows(slope, sample_weight)


class CategoricalCrossentropy(Loss):
    """Categorical cross-entropy on one-hot targets, averaged over samples.

    ``L = -(1/m) sum_i sum_j y_ij log p_ij``. Fused with a softmax output:
    from the logits, ``L = (1/m) sum_i (logsumexp(z_i) - sum_j y_ij z_ij)``
    (for rows of ``y`` summing to 1) and the slope at ``z`` is ``(p - y) / m``.
    """

    name = "categorical_crossentropy"
    fused_activation = "softmax"

    def value(self, predicted: np.ndarray, actual: np.ndarray,
              sample_weight: np.ndarray | None = None) -> float:
        terms = actual * np.log(_clip_probabilities(predicted))
        if sample_weight is None:
            return float(-np.sum(terms) / predicted.shape[0])
        return _weighted_mean(-terms.sum(axis=1), sample_weight)

    def slope(self, predicted: np.ndarray, actual: np.ndarray,
              sample_weight: np.ndarray | None = None) -> np.ndarray:
        p = _clip_probabilities(predicted)
        return _weigh_rows(-actual / p / predicted.shape[0], sample_weight)

    def check_actual(self, actual: np.ndarray) -> None:
        """Each target row must be one-hot or probabilities: >= 0 and summing to 1.

        The fused slope ``(p - y) / m`` is the loss's slope only for such rows.
        """
        # One reduction first, and row sums as one BLAS product: checked once per fit,
        # this still costs a tenth of a second per million rows done row by row.
        negative = np.flatnonzero((actual < 0).any(axis=1)) if not actual.min() >= 0 else ()
        if len(negative):
            row = int(negative[0])
            raise ValueError(
                "categorical_crossentropy needs targets >= 0 (one-hot rows or probabilities), "
                f"but row {row} holds {actual[row].min():g}"
            )
        sums = actual @ ones_vector(actual.shape[1], actual.dtype)
        # Probabilities computed in float32 sum to 1 only up to rounding.
        eps = float(np.finfo(np.result_type(actual.dtype, np.float32)).eps)
        tol = max(1e-6, 1000 * eps) * actual.shape[1]
        bad = np.flatnonzero(~(np.abs(sums - 1) <= tol))
        if bad.size:
            row = int(bad[0])
            raise ValueError(
                "categorical_crossentropy needs each target row to sum to 1 (one-hot or "
                f"probabilities), but row {row} sums to {sums[row]:g}; for class labels "
                "pass a 1-D y of integers"
            )

    def value_from_logits(self, z: np.ndarray, actual: np.ndarray,
                          sample_weight: np.ndarray | None = None) -> float:
        return self.value_and_predicted(z, actual, sample_weight)[0]

    def value_and_predicted(self, z: np.ndarray, actual: np.ndarray,
                            sample_weight: np.ndarray | None = None,
                            out: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """The loss and the softmax of the logits ``z``, sharing their exponentials.

        With ``top = max_j z_j`` in each row, ``p = exp(z - top) / s`` with
        ``s = sum_j exp(z_j - top)``, and ``-sum_j y_j log p_j = sum_j y_j
        (top + log s - z_j)``: no ``log(0)``, no overflow.
        """
        with np.errstate(under="ignore"):  # exp of a far negative z - top is 0, as it should
            return self._value_and_predicted(z, actual, sample_weight, out)

    def _value_and_predicted(self, z: np.ndarray, actual: np.ndarray,
                             sample_weight: np.ndarray | None = None,
                             out: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        top = np.maximum.reduce(z, axis=1)
        e = np.subtract(z, top[:, None], out=out)
        np.exp(e, out=e)
        sums = np.matmul(e, ones_vector(z.shape[1], e.dtype))  # each row's sum, in one BLAS call
        e /= sums[:, None]  # the softmax
        log_sum = np.log(sums, out=sums)
        log_sum += top
        minus_log_p = np.subtract(log_sum[:, None], z)
        if sample_weight is None:
            return float(np.vdot(actual, minus_log_p)) / z.shape[0], e
        minus_log_p *= actual
        return _weighted_mean(np.add.reduce(minus_log_p, axis=1), sample_weight), e

    def logit_slope(self, predicted: np.ndarray, actual: np.ndarray,
                    sample_weight: np.ndarray | None = None,
                    out: np.ndarray | None = None) -> np.ndarray:
        with np.errstate(under="ignore"):  # a tiny p - y over m may be 0 or subnormal
            return self._logit_slope(predicted, actual, sample_weight, out)

    def _logit_slope(self, predicted: np.ndarray, actual: np.ndarray,
                     sample_weight: np.ndarray | None = None,
                     out: np.ndarray | None = None) -> np.ndarray:
        # Exact for rows of y that sum to 1 (one-hot or label-smoothed targets).
        slope = np.subtract(predicted, actual, out=out)
        slope /= slope.shape[0]
        return slope if sample_weight is None else _weigh_rows(slope, sample_weight)


LOSSES: dict[str, type[Loss]] = {
    cls.name: cls
    for cls in (SSE, MSE, HalfMSE, MAE, BinaryCrossentropy, CategoricalCrossentropy)
}


def get_loss(loss: str | Loss) -> Loss:
    """Return a loss object from a name (``"mse"``) or an object.

    An unknown name raises a ``ValueError`` listing the valid names.
    """
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str):
        key = loss.strip().lower()
        if key in LOSSES:
            return LOSSES[key]()
        raise ValueError(f"unknown loss {loss!r}; valid names are: {', '.join(LOSSES)}")
    if isinstance(loss, type) and issubclass(loss, Loss):
        raise TypeError(
            f"loss must be a name or a Loss object, got the class {loss.__name__}; "
            f"write loss={loss.__name__}()"
        )
    raise TypeError(
        f"loss must be a name or a Loss object, got {loss!r} ({type(loss).__name__})"
    )
