"""Metrics reported by ``fit``: numbers for people, not slopes for training.

Each takes ``predicted`` and ``actual`` of shape ``(n_samples, n_outputs)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .losses import MAE, MSE

__all__ = ["METRICS", "accuracy", "mean_squared_error", "mean_absolute_error", "get_metric",
           "get_metrics"]


def accuracy(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Fraction of samples whose class is right.

    One output: the class is ``predicted > 0.5`` (a sigmoid's probability);
    several outputs: the class is the output with the largest value, and
    ``actual`` is one-hot.
    """
    if predicted.shape[1] == 1:
        return float(np.mean((predicted > 0.5) == (actual > 0.5)))
    return float(np.mean(predicted.argmax(axis=1) == actual.argmax(axis=1)))


# The error metrics are the losses' own values: one definition, not two.
mean_squared_error = MSE().value
mean_absolute_error = MAE().value


METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "accuracy": accuracy,
    "mse": mean_squared_error,
    "mae": mean_absolute_error,
}


def get_metric(name: str) -> Callable[[np.ndarray, np.ndarray], float]:
    """The metric function named ``name``; unknown names list the valid ones."""
    if not isinstance(name, str) or name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; valid names are: {', '.join(METRICS)}")
    return METRICS[name]


def get_metrics(metrics: object) -> dict[str, Callable[[np.ndarray, np.ndarray], float]]:
    """The metric functions for a list of names, by name; ``None`` is no metrics.

    A single name where the list goes (``metrics="accuracy"``) is a
    ``TypeError`` showing the list to write, not a complaint about metric 'a'.
    """
    if metrics is None:
        return {}
    if isinstance(metrics, str):
        raise TypeError(
            f"metrics must be a list of names, got the string {metrics!r}; "
            f"write metrics=[{metrics!r}]"
        )
    if isinstance(metrics, dict) or not hasattr(metrics, "__iter__"):
        raise TypeError(
            f"metrics must be a list of names ({', '.join(METRICS)}), got {metrics!r} "
            f"({type(metrics).__name__})"
        )
    return {name: get_metric(name) for name in metrics}
