"""The numbers the subcommands report: scores of a network and of simple baselines.

A score means little alone: 0.70 accuracy is poor when 68% of the rows share
one class. So every score is printed next to baselines fitted on the same
training rows: the most common training class (or the training mean, for
regression) and, when scikit-learn is installed, a logistic or linear
regression on the same preprocessed inputs.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from typing import Any

import numpy as np

from ..metrics import mean_absolute_error, mean_squared_error

__all__ = ["class_probabilities", "classification_scores", "regression_scores", "describe",
           "baselines", "describe_baselines", "report_training", "outputs_and_loss",
           "SCORE_ROWS"]

#: Rows per slice when scoring: the layers' values of one slice are held at a time.
SCORE_ROWS = 16_384


def report_training(history: Any, stopper: Any, epochs: int, save_interrupted: bool
                    ) -> int | None:
    """What ``slopes train`` prints once training ends; 130 when it must write nothing.

    An interrupted run (Ctrl-C) writes nothing unless ``--save-interrupted``
    was given: the exit status 130 is returned. Otherwise prints the best
    epoch ``stopper`` (an EarlyStopping, or None) kept, or how many of
    ``epochs`` ran when fewer did, and returns None.
    """
    if history.interrupted and not save_interrupted:
        print(f"slopes train: interrupted after {len(history.epoch)} epoch(s); nothing was "
              f"written. Add --save-interrupted to keep a partly trained model.",
              file=sys.stderr)
        return 130
    ran = len(history.epoch)
    if stopper is not None and stopper.best_epoch is not None:
        why = "stopped early" if stopper.stopped_epoch is not None else "ran all epochs"
        print(f"Best val_loss {stopper.best:.4f} at epoch {stopper.best_epoch + 1} of {ran} "
              f"({why}); the weights of that epoch are kept.")
    elif ran < epochs:
        print(f"Stopped after {ran} of {epochs} epochs.")
    return None


def class_probabilities(net_output: np.ndarray) -> np.ndarray:
    """Class probabilities ``(n, k)`` from a sigmoid (one output) or softmax output ``(n, k')``."""
    if net_output.shape[1] == 1:
        p = net_output[:, 0]
        return np.column_stack([1.0 - p, p])
    return net_output


def _r2(predicted: np.ndarray, actual: np.ndarray) -> float:
    """``1 - sum (p - y)^2 / sum (y - mean(y))^2``; NaN when y is constant."""
    spread = float(np.sum((actual - actual.mean()) ** 2))
    return float(1 - np.sum((predicted - actual) ** 2) / spread) if spread > 0 else float("nan")


def outputs_and_loss(net: Any, X: np.ndarray, y: np.ndarray, loss: str,
                     rows: int = SCORE_ROWS) -> tuple[np.ndarray, float]:
    """The network's outputs ``(n, outputs)`` on ``X`` ``(n, features)`` and its loss on ``y``.

    Computed ``rows`` rows at a time, so only one slice's layer values are
    held (a forward pass over millions of rows at once holds each layer's
    values for all of them). Every loss is a mean over rows, or a sum for
    ``sse``: ``L = sum_s n_s L_s / n`` over slices ``s`` of ``n_s`` rows
    (``sum_s L_s`` for ``sse``), the loss of all the rows up to rounding.
    """
    n = len(X)
    if n == 0:  # refused as an unsliced call refuses it: "X has 0 samples"
        return net.predict(X), net.evaluate(X, y, loss=loss)
    outputs = []
    total = 0.0
    for start in range(0, n, rows):
        x_slice, y_slice = X[start:start + rows], y[start:start + rows]
        value = net.evaluate(x_slice, y_slice, loss=loss)
        total += value if loss == "sse" else value * len(x_slice)
        outputs.append(net.predict(x_slice))
    return np.concatenate(outputs), (total if loss == "sse" else total / n)


def classification_scores(net: Any, X: np.ndarray, y: np.ndarray, loss: str) -> dict[str, Any]:
    """Loss and accuracy of ``net`` on ``X`` ``(n, features)``, class indices ``y`` ``(n,)``."""
    output, value = outputs_and_loss(net, X, y, loss)
    predicted = class_probabilities(output).argmax(axis=1)
    return {"loss": value, "accuracy": float(np.mean(predicted == y)), "rows": len(y)}


def regression_scores(net: Any, X: np.ndarray, y: np.ndarray, loss: str,
                      prep: Any) -> dict[str, Any]:
    """Loss (on the standardized target), and mse, mae, r2 in the target's own units."""
    output, value = outputs_and_loss(net, X, y, loss)
    predicted = prep.inverse_target(output[:, 0])
    actual = prep.inverse_target(y)
    return {"loss": value,
            "mse": mean_squared_error(predicted, actual),
            "mae": mean_absolute_error(predicted, actual),
            "r2": _r2(predicted, actual), "rows": len(y)}


def describe(name: str, m: dict[str, Any]) -> str:
    """One line such as ``test  loss 0.5012  accuracy 0.725  (40 rows)``."""
    if "accuracy" in m:
        return f"{name:<5} loss {m['loss']:.4f}  accuracy {m['accuracy']:.3f}  ({m['rows']} rows)"
    return (f"{name:<5} loss {m['loss']:.4f}  mse {m['mse']:.4g}  mae {m['mae']:.4g}  "
            f"r2 {m['r2']:.3f}  ({m['rows']} rows)")


def baselines(task: str, X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray,
              y_test: np.ndarray, prep: Any, seed: int = 0) -> dict[str, dict[str, float]]:
    """Scores on the test rows of simple models fitted on the training rows only.

    Classification: ``majority_class`` (always the most common training
    class) and ``logistic_regression``; regression: ``training_mean`` and
    ``linear_regression``. The scikit-learn models are left out when
    scikit-learn is not installed.
    """
    result: dict[str, dict[str, float]] = {}
    if task == "classify":
        majority = int(np.bincount(y_train).argmax())
        result["majority_class"] = {"accuracy": float(np.mean(y_test == majority))}
    else:
        actual = prep.inverse_target(y_test)
        guess = np.full_like(actual, float(np.mean(prep.inverse_target(y_train))))
        result["training_mean"] = {"mse": mean_squared_error(guess, actual),
                                   "r2": _r2(guess, actual)}
    if importlib.util.find_spec("sklearn") is None:
        return result
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LinearRegression, LogisticRegression

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # A baseline that did not fully converge is still a fair yardstick; say nothing.
        warnings.simplefilter("ignore", ConvergenceWarning)
        if task == "classify":
            model = LogisticRegression(max_iter=1000, random_state=seed).fit(X_train, y_train)
            result["logistic_regression"] = {
                "accuracy": float(np.mean(model.predict(X_test) == y_test))}
        else:
            model = LinearRegression().fit(X_train, y_train)
            predicted = prep.inverse_target(model.predict(X_test))
            actual = prep.inverse_target(y_test)
            result["linear_regression"] = {"mse": mean_squared_error(predicted, actual),
                                           "r2": _r2(predicted, actual)}
    return result


def describe_baselines(found: dict[str, dict[str, float]]) -> str:
    """``baselines (fitted on the training rows): majority class accuracy 0.675, ...``."""
    parts = []
    for name, scores in found.items():
        shown = " ".join(f"{k} {v:.3f}" if k != "mse" else f"{k} {v:.4g}"
                         for k, v in scores.items())
        parts.append(f"{name.replace('_', ' ')} {shown}")
    return "base  (fitted on the same training rows) " + ", ".join(parts)
