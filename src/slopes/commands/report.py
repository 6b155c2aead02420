"""The numbers the subcommands report: scores of a network and of simple baselines.

A score means little alone: 0.70 accuracy is poor when 68% of the rows share
one class. So every score is printed next to baselines fitted on the same
training rows: the most common training class (or the training mean, for
regression) and, when scikit-learn is installed, a logistic or linear
regression on the same preprocessed inputs.

Beside the scores, where the errors are: for classification the confusion
matrix (:func:`confusion_matrix`, rows the true class, columns the
predicted one) with each class's precision and recall
(:func:`class_report`, :func:`describe_classes`); for regression a summary
of the residuals ``actual - predicted`` (:func:`residual_summary`,
:func:`describe_residuals`).

Row weights (``slopes train --sample-weight``): the loss, accuracy, mse, mae
and r2 are weighted, ``sum_i w_i s_i / sum_i w_i`` (scikit-learn's
``score(X, y, sample_weight)``); the confusion matrix, precision, recall and
the residual summary count rows, unweighted.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..losses import get_loss

__all__ = ["class_probabilities", "classification_scores", "regression_scores", "describe",
           "baselines", "describe_baselines", "report_training", "outputs_and_loss",
           "SCORE_ROWS", "confusion_matrix", "class_report", "describe_classes",
           "residual_summary", "describe_residuals", "weighted_loss", "MATRIX_MOST_CLASSES"]

#: Rows per slice when scoring: the layers' values of one slice are held at a time.
SCORE_ROWS = 16_384

#: More classes than this: the printed report lists precision and recall only (the
#: matrix would not fit a terminal); metrics.json always has the matrix.
MATRIX_MOST_CLASSES = 12


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


def _r2(predicted: np.ndarray, actual: np.ndarray, weights: np.ndarray | None = None) -> float:
    """``1 - sum w (p - y)^2 / sum w (y - mean_w(y))^2``; NaN when y is constant."""
    w = np.ones(len(actual)) if weights is None else weights
    mean = float(np.sum(w * actual) / np.sum(w))
    spread = float(np.sum(w * (actual - mean) ** 2))
    return (float(1 - np.sum(w * (predicted - actual) ** 2) / spread) if spread > 0
            else float("nan"))


def _mean(values: np.ndarray, weights: np.ndarray | None) -> float:
    return float(np.mean(values) if weights is None
                 else np.sum(weights * values) / np.sum(weights))


def weighted_loss(net: Any, X: np.ndarray, y: np.ndarray, loss: str,
                  weights: np.ndarray | None = None) -> float:
    """``net.evaluate(X, y, loss)``, each row's loss weighted by ``weights`` ``(n,)`` if given:
    ``sum_i w_i l_i / sum_i w_i`` (sse: ``sum_i w_i l_i``), as training weighs them."""
    if weights is None:
        return float(net.evaluate(X, y, loss=loss))
    loss_fn = get_loss(loss)
    actual = net.check_targets(y, X.shape[0], loss_fn)
    zs, values = net.forward(X)
    return float(net.loss_value(loss_fn, zs[-1], values[-1], actual, weights))


def outputs_and_loss(net: Any, X: np.ndarray, y: np.ndarray, loss: str,
                     weights: np.ndarray | None = None,
                     rows: int = SCORE_ROWS) -> tuple[np.ndarray, float]:
    """The network's outputs ``(n, outputs)`` on ``X`` ``(n, features)`` and its loss on ``y``.

    Computed ``rows`` rows at a time, so only one slice's layer values are
    held (a forward pass over millions of rows at once holds each layer's
    values for all of them). Every loss is a mean over rows, or a sum for
    ``sse``: ``L = sum_s W_s L_s / W`` over slices ``s`` (``W_s`` the slice's
    rows, or its summed ``weights`` ``(n,)`` when given; ``sum_s L_s`` for
    ``sse``), the loss of all the rows up to rounding (:func:`weighted_loss`).
    """
    n = len(X)
    if n == 0:  # refused as an unsliced call refuses it: "X has 0 samples"
        return net.predict(X), weighted_loss(net, X, y, loss, weights)
    outputs = []
    total = 0.0
    for start in range(0, n, rows):
        part = slice(start, start + rows)
        w = None if weights is None else weights[part]
        value = weighted_loss(net, X[part], y[part], loss, w)
        if loss == "sse":
            total += value
        else:
            total += value * (len(X[part]) if w is None else float(np.sum(w)))
        outputs.append(net.predict(X[part]))
    whole = n if weights is None else float(np.sum(weights))
    return np.concatenate(outputs), (total if loss == "sse" else total / whole)


def confusion_matrix(actual: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts ``(n_classes, n_classes)``: entry ``[i, j]`` is the rows of class ``i``
    predicted as class ``j`` (class indices ``actual``, ``predicted``, both ``(n,)``)."""
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(actual, np.int64), np.asarray(predicted, np.int64)), 1)
    return counts


def class_report(counts: np.ndarray, classes: Sequence[Any]) -> dict[str, Any]:
    """The confusion matrix ``counts`` and each class's precision and recall, for metrics.json.

    precision of class ``c`` = ``counts[c, c] / sum_i counts[i, c]`` (of the
    rows predicted ``c``, the share that are ``c``); recall = ``counts[c, c] /
    sum_j counts[c, j]`` (of the rows of class ``c``, the share found). Either
    is None (JSON null) when its denominator is 0: no row predicted as ``c``,
    or no row of ``c``.
    """
    names = [str(c) for c in classes]
    predicted = counts.sum(axis=0)
    actual = counts.sum(axis=1)
    per_class = {}
    for i, name in enumerate(names):
        per_class[name] = {
            "precision": float(counts[i, i] / predicted[i]) if predicted[i] else None,
            "recall": float(counts[i, i] / actual[i]) if actual[i] else None,
            "rows": int(actual[i]), "predicted": int(predicted[i])}
    return {"confusion_matrix": {"classes": names, "rows": "true class",
                                 "columns": "predicted class",
                                 "counts": counts.astype(int).tolist()},
            "per_class": per_class}


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def describe_classes(report: dict[str, Any], what: str) -> str:
    """The confusion matrix and per-class precision and recall as text, for ``what``
    (``"test rows"``); class names label the rows (true) and columns (predicted).

    With more than :data:`MATRIX_MOST_CLASSES` classes only the per-class lines are
    printed (metrics.json has the matrix)."""
    matrix = report["confusion_matrix"]
    names, counts = matrix["classes"], matrix["counts"]
    per_class = report["per_class"]
    label = max(9, *(len(n) for n in names))
    lines = []
    if len(names) <= MATRIX_MOST_CLASSES:
        width = max(5, *(len(n) for n in names), *(len(str(v)) for row in counts for v in row))
        total = sum(map(sum, counts))
        lines.append(f"Confusion matrix of the {total} {what} (rows: true class, columns: "
                     "predicted class):")
        lines.append(f"  {'':<{label}}  " + "  ".join(f"{n:>{width}}" for n in names)
                     + f"  {'recall':>6}  {'rows':>5}")
        for name, row in zip(names, counts, strict=True):
            lines.append(f"  {name:<{label}}  " + "  ".join(f"{v:>{width}}" for v in row)
                         + f"  {_ratio(per_class[name]['recall']):>6}"
                         f"  {per_class[name]['rows']:>5}")
        lines.append(f"  {'precision':<{label}}  " + "  ".join(
            f"{_ratio(per_class[n]['precision']):>{width}}" for n in names))
    else:
        lines.append(f"Precision and recall of each class on the {what} ({len(names)} "
                     "classes; the confusion matrix is in metrics.json):")
        lines.append(f"  {'class':<{label}}  precision  recall   rows")
        for name in names:
            c = per_class[name]
            lines.append(f"  {name:<{label}}  {_ratio(c['precision']):>9}  "
                         f"{_ratio(c['recall']):>6}  {c['rows']:>5}")
    lines.append("  (precision: of the rows predicted as the class, the share right; recall: "
                 "of its rows, the share found)")
    return "\n".join(lines)


#: The quantiles of the residuals summarized: (name in metrics.json, fraction).
QUANTILES = (("min", 0.0), ("q05", 0.05), ("q25", 0.25), ("median", 0.5), ("q75", 0.75),
             ("q95", 0.95), ("max", 1.0))


def residual_summary(actual: np.ndarray, predicted: np.ndarray,
                     rows: Sequence[Any] | None = None) -> dict[str, Any]:
    """The residuals ``r = actual - predicted`` ``(n,)`` summarized, in the target's units.

    ``mean``, ``std`` (population, ``sqrt(mean (r - mean r)^2)``), the
    quantiles of :data:`QUANTILES` (linear interpolation, NumPy's default),
    ``max_abs`` = ``max |r|`` and ``max_abs_row``, the row (of ``rows``, the
    rows' numbers in the file; else the position) where it is.
    """
    r = np.asarray(actual, np.float64) - np.asarray(predicted, np.float64)
    worst = int(np.argmax(np.abs(r)))
    summary: dict[str, Any] = {"what": "actual - predicted", "rows": len(r),
                               "mean": float(r.mean()), "std": float(r.std())}
    summary.update({name: float(np.quantile(r, q)) for name, q in QUANTILES})
    summary["max_abs"] = float(abs(r[worst]))
    summary["max_abs_row"] = rows[worst] if rows is not None else worst
    if isinstance(summary["max_abs_row"], np.generic):
        summary["max_abs_row"] = summary["max_abs_row"].item()
    return summary


def describe_residuals(summary: dict[str, Any], what: str, target: str) -> str:
    """Two lines: the residuals' mean, std and largest size; then their quantiles."""
    g = "{:.4g}".format
    first = (f"Residuals of the {summary['rows']} {what} ({target}: actual - predicted): "
             f"mean {g(summary['mean'])}  std {g(summary['std'])}  largest |residual| "
             f"{g(summary['max_abs'])} (row {summary['max_abs_row']})")
    if "median" not in summary:
        return first
    shown = "  ".join(f"{name.replace('q0', '').replace('q', '').replace('median', '50')}"
                      f"{'' if name in ('min', 'max') else '%'} {g(summary[name])}"
                      for name, _ in QUANTILES)
    return first + "\n  quantiles: " + shown


def classification_scores(net: Any, X: np.ndarray, y: np.ndarray, loss: str,
                          classes: Sequence[Any] | None = None,
                          weights: np.ndarray | None = None) -> dict[str, Any]:
    """Loss and accuracy of ``net`` on ``X`` ``(n, features)``, class indices ``y`` ``(n,)``.

    With ``classes`` (the class labels, in the network's output order) also
    the confusion matrix and each class's precision and recall
    (:func:`class_report`). ``weights`` ``(n,)`` weigh the loss and accuracy.
    """
    output, value = outputs_and_loss(net, X, y, loss, weights)
    predicted = class_probabilities(output).argmax(axis=1)
    scores: dict[str, Any] = {"loss": value,
                              "accuracy": _mean((predicted == y).astype(float), weights),
                              "rows": len(y)}
    if weights is not None:
        scores["weighted"] = True
    if classes is not None:
        scores.update(class_report(confusion_matrix(y, predicted, len(classes)), classes))
    return scores


def regression_scores(net: Any, X: np.ndarray, y: np.ndarray, loss: str, prep: Any,
                      weights: np.ndarray | None = None,
                      rows: Sequence[Any] | None = None) -> dict[str, Any]:
    """Loss (on the standardized target), and mse, mae, r2 in the target's own units,
    weighted by ``weights`` ``(n,)`` if given; ``residuals``: :func:`residual_summary`
    (``rows``: the rows' numbers in the file)."""
    output, value = outputs_and_loss(net, X, y, loss, weights)
    predicted = prep.inverse_target(output[:, 0])
    actual = prep.inverse_target(y)
    scores: dict[str, Any] = {"loss": value,
                              "mse": _mean((predicted - actual) ** 2, weights),
                              "mae": _mean(np.abs(predicted - actual), weights),
                              "r2": _r2(predicted, actual, weights), "rows": len(y)}
    if weights is not None:
        scores["weighted"] = True
    scores["residuals"] = residual_summary(actual, predicted, rows)
    return scores


def describe(name: str, m: dict[str, Any]) -> str:
    """One line such as ``test  loss 0.5012  accuracy 0.725  (40 rows)``."""
    rows = f"({m['rows']} rows{', weighted' if m.get('weighted') else ''})"
    if "accuracy" in m:
        return f"{name:<5} loss {m['loss']:.4f}  accuracy {m['accuracy']:.3f}  {rows}"
    return (f"{name:<5} loss {m['loss']:.4f}  mse {m['mse']:.4g}  mae {m['mae']:.4g}  "
            f"r2 {m['r2']:.3f}  {rows}")


def baselines(task: str, X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray,
              y_test: np.ndarray, prep: Any, seed: int = 0,
              w_train: np.ndarray | None = None,
              w_test: np.ndarray | None = None) -> dict[str, dict[str, float]]:
    """Scores on the test rows of simple models fitted on the training rows only.

    Classification: ``majority_class`` (always the most common training
    class) and ``logistic_regression``; regression: ``training_mean`` and
    ``linear_regression``. The scikit-learn models are left out when
    scikit-learn is not installed. With row weights ``w_train`` and
    ``w_test`` ``(n,)``, the baselines are fitted with them (the class of the
    largest total weight, the weighted mean) and scored with them.
    """
    result: dict[str, dict[str, float]] = {}
    if task == "classify":
        majority = int(np.bincount(y_train, weights=w_train).argmax())
        result["majority_class"] = {
            "accuracy": _mean((y_test == majority).astype(float), w_test)}
    else:
        actual = prep.inverse_target(y_test)
        guess = np.full_like(actual, _mean(prep.inverse_target(y_train), w_train))
        result["training_mean"] = {"mse": _mean((guess - actual) ** 2, w_test),
                                   "r2": _r2(guess, actual, w_test)}
    if importlib.util.find_spec("sklearn") is None:
        return result
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LinearRegression, LogisticRegression

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # A baseline that did not fully converge is still a fair yardstick; say nothing.
        warnings.simplefilter("ignore", ConvergenceWarning)
        if task == "classify":
            model = LogisticRegression(max_iter=1000, random_state=seed).fit(
                X_train, y_train, sample_weight=w_train)
            result["logistic_regression"] = {
                "accuracy": _mean((model.predict(X_test) == y_test).astype(float), w_test)}
        else:
            model = LinearRegression().fit(X_train, y_train, sample_weight=w_train)
            predicted = prep.inverse_target(model.predict(X_test))
            actual = prep.inverse_target(y_test)
            result["linear_regression"] = {"mse": _mean((predicted - actual) ** 2, w_test),
                                           "r2": _r2(predicted, actual, w_test)}
    return result


def describe_baselines(found: dict[str, dict[str, float]]) -> str:
    """``baselines (fitted on the training rows): majority class accuracy 0.675, ...``."""
    parts = []
    for name, scores in found.items():
        shown = " ".join(f"{k} {v:.3f}" if k != "mse" else f"{k} {v:.4g}"
                         for k, v in scores.items())
        parts.append(f"{name.replace('_', ' ')} {shown}")
    return "base  (fitted on the same training rows) " + ", ".join(parts)
