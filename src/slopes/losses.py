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
"""

from __future__ import annotations

import numpy as np

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


class Loss:
    """Base class: ``value(predicted, actual)`` and ``slope(predicted, actual)``.

    ``fused_activation`` names the output activation the loss is fused with,
    or is ``None``. A fused loss also has ``value_from_logits`` and
    ``logit_slope``.
    """

    name: str = "loss"
    fused_activation: str | None = None

    def value(self, predicted: np.ndarray, actual: np.ndarray) -> float:
        raise NotImplementedError

    def slope(self, predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))


class SSE(Loss):
    """Sum of squared errors: ``L = sum_{i,j} (p_ij - y_ij)**2``; slope ``2 * error``."""

    name = "sse"

    def value(self, predicted: np.ndarray, actual: np.ndarray) -> float:
        error = predicted - actual
        return float(np.vdot(error, error))

    def slope(self, predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
        return 2 * (predicted - actual)


class MSE(Loss):
    """Mean squared error over samples and outputs: ``L = sum (p - y)**2 / (m k)``.

    This is ``sklearn.metrics.mean_squared_error``. Slope ``2 * error / (m k)``:
    for one sample and one output, the course's ``2 * error``.
    """

    name = "mse"

    def value(self, predicted: np.ndarray, actual: np.ndarray) -> float:
        error = predicted - actual
        return float(np.vdot(error, error)) / error.size

    def slope(self, predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
        return 2 * (predicted - actual) / predicted.size


class HalfMSE(Loss):
    """The course's ``E = 1/(2m) sum_samples sum_outputs (p - y)**2``; slope ``error / m``.

    With this loss, the course's weight step ``eta * delta * x`` (with
    ``delta = (y - p) f'(h)``) is exactly ``-learning_rate * weight_slope``.
    """

    name = "half_mse"

    def value(self, predicted: np.ndarray, actual: np.ndarray) -> float:
        error = predicted - actual
        return float(np.vdot(error, error)) / (2 * predicted.shape[0])

    def slope(self, predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
        return (predicted - actual) / predicted.shape[0]


class MAE(Loss):
    """Mean absolute error: ``L = sum |p - y| / (m k)``; slope ``sign(error) / (m k)``."""

    name = "mae"

    def value(self, predicted: np.ndarray, actual: np.ndarray) -> float:
        return float(np.mean(np.abs(predicted - actual)))

    def slope(self, predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
        return np.sign(predicted - actual) / predicted.size


def _clip_probabilities(p: np.ndarray) -> np.ndarray:
    eps = np.finfo(p.dtype).eps
    return np.clip(p, eps, 1 - eps)


class BinaryCrossentropy(Loss):
    """Binary cross-entropy, averaged over samples and outputs (Keras, PyTorch).

    ``L = -mean(y log p + (1 - y) log(1 - p))``. Fused with a sigmoid output:
    from the logits ``z``, ``L = mean(max(z, 0) - z y + log(1 + exp(-|z|)))``
    and the slope at ``z`` is ``(p - y) / (m k)``.
    """

    name = "binary_crossentropy"
    fused_activation = "sigmoid"

    def value(self, predicted: np.ndarray, actual: np.ndarray) -> float:
        p = _clip_probabilities(predicted)
        return float(-np.mean(actual * np.log(p) + (1 - actual) * np.log1p(-p)))

    def slope(self, predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
        p = _clip_probabilities(predicted)
        return (p - actual) / (p * (1 - p)) / predicted.size

    def value_from_logits(self, z: np.ndarray, actual: np.ndarray) -> float:
        return float(np.mean(np.maximum(z, 0) - z * actual + np.log1p(np.exp(-np.abs(z)))))

    def logit_slope(self, predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
        return (predicted - actual) / predicted.size


class CategoricalCrossentropy(Loss):
    """Categorical cross-entropy on one-hot targets, averaged over samples.

    ``L = -(1/m) sum_i sum_j y_ij log p_ij``. Fused with a softmax output:
    from the logits, ``L = (1/m) sum_i (logsumexp(z_i) - sum_j y_ij z_ij)``
    (for rows of ``y`` summing to 1) and the slope at ``z`` is ``(p - y) / m``.
    """

    name = "categorical_crossentropy"
    fused_activation = "softmax"

    def value(self, predicted: np.ndarray, actual: np.ndarray) -> float:
        p = _clip_probabilities(predicted)
        return float(-np.sum(actual * np.log(p)) / predicted.shape[0])

    def slope(self, predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
        p = _clip_probabilities(predicted)
        return -actual / p / predicted.shape[0]

    def value_from_logits(self, z: np.ndarray, actual: np.ndarray) -> float:
        top = z.max(axis=1, keepdims=True)
        log_sum = top + np.log(np.exp(z - top).sum(axis=1, keepdims=True))
        # -sum_j y_j log p_j with log p_j = z_j - logsumexp(z)
        return float(np.sum(actual * (log_sum - z)) / z.shape[0])

    def logit_slope(self, predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
        # Exact for rows of y that sum to 1 (one-hot or label-smoothed targets).
        return (predicted - actual) / predicted.shape[0]


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
    raise TypeError(f"loss must be a name or a Loss object, got {type(loss).__name__}")
