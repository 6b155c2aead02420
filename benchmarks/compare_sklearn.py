"""SlopesClassifier next to scikit-learn's MLPClassifier on scikit-learn's bundled data.

Both estimators train the same network on the same rows: standardized inputs
(a ``StandardScaler`` fitted on the training rows), one hidden layer of 64 relu
nodes, Adam with learning rate 0.001, batches of 32, 200 epochs, no weight
decay (MLPClassifier's ``alpha=0``), no early stopping, and MLPClassifier told
not to stop before its last epoch (``n_iter_no_change`` above the epochs).
Each dataset is split once, 75% to train and 25% held out (stratified, seed 0).

Reported per dataset and estimator: the held-out accuracy and the median fit
time of ``--repeat`` fits (each from ``random_state=0``). Run:

    .venv/bin/python benchmarks/compare_sklearn.py
    .venv/bin/python benchmarks/compare_sklearn.py --epochs 5 --repeat 1   # seconds
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable

from sklearn.base import ClassifierMixin, clone
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from slopes.sklearn import SlopesClassifier

DATASETS: dict[str, Callable] = {"digits": load_digits, "breast-cancer": load_breast_cancer}
HIDDEN = (64,)


def estimators(epochs: int) -> dict[str, ClassifierMixin]:
    """The two estimators, with the same architecture and training settings."""
    return {
        "SlopesClassifier": SlopesClassifier(
            hidden_layer_sizes=HIDDEN, activation="relu", optimizer="adam",
            learning_rate=0.001, epochs=epochs, batch_size=32, random_state=0),
        "MLPClassifier": MLPClassifier(
            hidden_layer_sizes=HIDDEN, activation="relu", solver="adam",
            learning_rate_init=0.001, max_iter=epochs, batch_size=32, alpha=0.0,
            n_iter_no_change=epochs + 1, random_state=0),
    }


def measure(estimator: ClassifierMixin, data: tuple, repeat: int) -> tuple[float, float]:
    """(held-out accuracy, median fit seconds) of ``StandardScaler`` + ``estimator``."""
    X_train, X_test, y_train, y_test = data
    times = []
    for _ in range(repeat):
        model = make_pipeline(StandardScaler(), clone(estimator))
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, y_train)
        times.append(time.perf_counter() - start)
    return model.score(X_test, y_test), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200, help="epochs of training (200)")
    parser.add_argument("--repeat", type=int, default=3, help="fits per estimator (3)")
    args = parser.parse_args()
    if args.epochs < 1 or args.repeat < 1:
        parser.error(f"--epochs and --repeat must be at least 1, got {args.epochs} "
                     f"and {args.repeat}")
    print(f"hidden layers {HIDDEN}, relu, Adam lr 0.001, batch 32, {args.epochs} epochs; "
          f"median of {args.repeat} fits\n")
    print("| dataset | rows x features | classes | estimator | test accuracy | fit time (s) |")
    print("|---|---|---:|---|---:|---:|")
    for name, load in DATASETS.items():
        X, y = load(return_X_y=True)
        data = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
        for label, estimator in estimators(args.epochs).items():
            accuracy, seconds = measure(estimator, data, args.repeat)
            print(f"| {name} | {X.shape[0]} x {X.shape[1]} | {len(set(y))} | {label} | "
                  f"{accuracy:.3f} | {seconds:.2f} |", flush=True)


if __name__ == "__main__":
    main()
