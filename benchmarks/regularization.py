"""A wide network overfits a few rows; the L2 penalty and dropout hold it back (issue 18).

The same architecture, trained on few rows of three of scikit-learn's bundled
datasets, four ways in slopes (plain, the L2 penalty, dropout, both) and two
ways in scikit-learn (``MLPClassifier``/``MLPRegressor`` with ``alpha=0`` and
with the same penalty):

- digits (10 classes: softmax + categorical cross-entropy, scikit-learn's log loss),
- breast cancer (2 classes: sigmoid + binary cross-entropy),
- diabetes (regression: identity + ``half_mse``, scikit-learn's squared loss;
  the target is standardized with the training rows' mean and deviation).

Every model starts from the same weights: scikit-learn's (the slopes
networks copy them, see :func:`sklearn_initial_weights`), so the two
libraries differ only in the order they shuffle the rows in. Each dataset
is split once (seed 0; stratified for the classes): a few training rows,
and the rest halved into validation rows (the curves) and test
rows (the scores). Inputs are standardized on the training rows. Every model
has hidden layers ``HIDDEN`` of relu nodes, trains with Adam (learning rate
0.001, batches of ``BATCH`` rows, shuffled, seed 0) for ``--epochs`` epochs,
with no early stopping.

The penalty is scikit-learn's ``alpha``, mapped with the rule in
:mod:`slopes.penalties`: scikit-learn adds ``alpha / 2 * sum(w ** 2) / b`` to
the loss of a batch of ``b`` rows, which is slopes' ``l2 = alpha / (2 * b)``.
The training rows are a multiple of ``BATCH``, so every batch has ``b = BATCH``
rows and the two penalties are the same term. Biases are not penalized
(scikit-learn's rule). scikit-learn's curves come from ``partial_fit``, one
epoch per call.

Reported: the test score (accuracy, or R^2 for diabetes), the validation
loss at the last epoch, its lowest value and that epoch, for each model; the
curves go to the JSON file and the picture. Run (about a minute and a half on
two cores; ``make bench`` runs it)::

    .venv/bin/python benchmarks/regularization.py
    .venv/bin/python benchmarks/regularization.py --quick --out /tmp/r --image /tmp/r/r.png

It writes ``benchmarks/results/regularization.{json,md}`` and
``docs/images/regularization.png``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

import slopes

ROOT = Path(__file__).resolve().parents[1]
HIDDEN = (256, 256)
BATCH = 16
LEARNING_RATE = 0.001
DROPOUT = 0.5
SEED = 0


@dataclass(frozen=True)
class Dataset:
    """How one dataset is loaded, split and trained."""

    load: Callable
    task: str          # "classes" or "regression"
    n_train: int       # a multiple of BATCH
    alpha: float       # scikit-learn's alpha of the penalized models


DATASETS: dict[str, Dataset] = {
    "digits": Dataset(load_digits, "classes", n_train=96, alpha=0.3),
    "breast-cancer": Dataset(load_breast_cancer, "classes", n_train=32, alpha=0.3),
    "diabetes": Dataset(load_diabetes, "regression", n_train=48, alpha=1.0),
}
#: The slopes models: (label, penalized, dropout rate).
VARIANTS = (("plain", False, 0.0), ("L2", True, 0.0), ("dropout", False, DROPOUT),
            ("L2 + dropout", True, DROPOUT))


def split(spec: Dataset) -> dict[str, np.ndarray]:
    """Train / validation / test rows, inputs standardized on the training rows."""
    X, y = spec.load(return_X_y=True)
    stratify = y if spec.task == "classes" else None
    X_train, X_rest, y_train, y_rest = train_test_split(
        X, y, train_size=spec.n_train, stratify=stratify, random_state=SEED)
    stratify = y_rest if spec.task == "classes" else None
    X_val, X_test, y_val, y_test = train_test_split(
        X_rest, y_rest, test_size=0.5, stratify=stratify, random_state=SEED)
    scaler = StandardScaler().fit(X_train)
    parts = {"X_train": X_train, "X_val": X_val, "X_test": X_test}
    parts = {k: scaler.transform(v) for k, v in parts.items()}
    if spec.task == "regression":
        mean, std = y_train.mean(), y_train.std()
        y_train, y_val, y_test = ((v - mean) / std for v in (y_train, y_val, y_test))
    parts.update(y_train=y_train, y_val=y_val, y_test=y_test)
    return parts


def output_and_loss(spec: Dataset, n_classes: int) -> tuple[int, str, str]:
    """Output nodes, output activation and loss: scikit-learn's choices for the task."""
    if spec.task == "regression":
        return 1, "identity", "half_mse"
    if n_classes == 2:
        return 1, "sigmoid", "binary_crossentropy"
    return n_classes, "softmax", "categorical_crossentropy"


def score(spec: Dataset, predicted: np.ndarray, actual: np.ndarray) -> float:
    """Accuracy (classes) or R^2 (regression) of the network's outputs."""
    if spec.task == "regression":
        return float(r2_score(actual, predicted.ravel()))
    labels = predicted.argmax(axis=1) if predicted.shape[1] > 1 else predicted[:, 0] > 0.5
    return float(np.mean(labels == actual))


def sklearn_initial_weights(sizes: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The weights and biases scikit-learn's MLP starts from with ``random_state=SEED``.

    ``_init_coef`` in ``_multilayer_perceptron.py``: per layer, weights then
    biases uniform in ``+-sqrt(6 / (fan_in + fan_out))`` (relu hidden layers),
    drawn from one ``RandomState(SEED)`` before anything else uses it.
    """
    rng = np.random.RandomState(SEED)
    out = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        weights = rng.uniform(-bound, bound, (fan_in, fan_out))
        out.append((weights, rng.uniform(-bound, bound, fan_out)))
    return out


def train_slopes(spec: Dataset, data: dict, epochs: int, hidden: tuple[int, ...],
                 penalized: bool, dropout: float) -> dict:
    """One slopes model: curves, test score and fit seconds."""
    n_classes = len(np.unique(data["y_train"])) if spec.task == "classes" else 0
    n_out, output, loss = output_and_loss(spec, n_classes)
    sizes = [data["X_train"].shape[1], *hidden, n_out]
    net = slopes.Network.mlp(sizes, activation="relu", output=output, dropout=dropout)
    for layer, (weights, bias) in zip(net.layers, sklearn_initial_weights(sizes), strict=True):
        layer.weights[...], layer.bias[...] = weights, bias
    l2 = spec.alpha / (2 * BATCH) if penalized else 0.0
    start = time.perf_counter()
    history = net.fit(data["X_train"], data["y_train"], loss=loss, optimizer="adam",
                      learning_rate=LEARNING_RATE, epochs=epochs, batch_size=BATCH,
                      validation_data=(data["X_val"], data["y_val"]), seed=SEED, verbose=0,
                      l2=l2)
    seconds = time.perf_counter() - start
    return {"l2": l2, "dropout": dropout, "seconds": seconds,
            "train_loss": [float(v) for v in history["loss"]],
            "val_loss": [float(v) for v in history["val_loss"]],
            "test_score": score(spec, net.predict(data["X_test"]), data["y_test"])}


def train_sklearn(spec: Dataset, data: dict, epochs: int, hidden: tuple[int, ...],
                  alpha: float) -> dict:
    """One scikit-learn model, one epoch per ``partial_fit``: curves, test score, seconds."""
    common = dict(hidden_layer_sizes=hidden, activation="relu", solver="adam",
                  learning_rate_init=LEARNING_RATE, batch_size=BATCH, alpha=alpha,
                  shuffle=True, random_state=np.random.RandomState(SEED))
    # A RandomState, not the int: partial_fit makes a fresh generator from an int at every
    # call, which would shuffle every epoch the same way; this one goes on, as in fit.
    X, y, X_val, y_val = data["X_train"], data["y_train"], data["X_val"], data["y_val"]
    if spec.task == "regression":
        model = MLPRegressor(**common)

        def loss(X_: np.ndarray, y_: np.ndarray) -> float:
            return float(0.5 * np.mean((model.predict(X_) - y_) ** 2))
    else:
        model = MLPClassifier(**common)

        def loss(X_: np.ndarray, y_: np.ndarray) -> float:
            return float(log_loss(y_, model.predict_proba(X_), labels=model.classes_))
    extra = {} if spec.task == "regression" else {"classes": np.unique(y)}
    train_loss, val_loss = [], []
    seconds = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(epochs):
            start = time.perf_counter()
            model.partial_fit(X, y, **extra)
            seconds += time.perf_counter() - start
            train_loss.append(loss(X, y))
            val_loss.append(loss(X_val, y_val))
    test = (model.score(data["X_test"], data["y_test"]))
    return {"alpha": alpha, "seconds": seconds, "train_loss": train_loss,
            "val_loss": val_loss, "test_score": float(test)}


def run(epochs: int, hidden: tuple[int, ...], names: list[str]) -> dict:
    results: dict = {"settings": {
        "hidden": list(hidden), "activation": "relu", "optimizer": "adam",
        "learning_rate": LEARNING_RATE, "batch_size": BATCH, "epochs": epochs,
        "dropout": DROPOUT, "seed": SEED, "init": "scikit-learn's, random_state=0",
        "alpha_to_l2": "l2 = alpha / (2 * batch_size)"},
        "machine": {"python": platform.python_version(), "numpy": np.__version__,
                    "slopes": slopes.__version__, "platform": platform.platform()},
        "datasets": {}}
    import sklearn
    results["machine"]["scikit-learn"] = sklearn.__version__
    for name in names:
        spec = DATASETS[name]
        data = split(spec)
        models: dict[str, dict] = {}
        for label, penalized, dropout in VARIANTS:
            models[f"slopes {label}"] = train_slopes(spec, data, epochs, hidden, penalized,
                                                     dropout)
            print(f"  {name}: slopes {label} done", file=sys.stderr, flush=True)
        for alpha in (0.0, spec.alpha):
            models[f"scikit-learn alpha={alpha:g}"] = train_sklearn(spec, data, epochs,
                                                                    hidden, alpha)
            print(f"  {name}: scikit-learn alpha={alpha:g} done", file=sys.stderr, flush=True)
        results["datasets"][name] = {
            "task": spec.task, "alpha": spec.alpha, "l2": spec.alpha / (2 * BATCH),
            "rows": {part: int(data[f"X_{part}"].shape[0]) for part in ("train", "val", "test")},
            "features": int(data["X_train"].shape[1]),
            "score": "R^2" if spec.task == "regression" else "accuracy",
            "models": models}
    return results


def table(results: dict) -> str:
    """The Markdown table of test scores and validation losses."""
    lines = ["| dataset (train/val/test rows) | model | l2 (alpha) | dropout | test score | "
             "val loss, last epoch | lowest val loss (epoch) |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for name, res in results["datasets"].items():
        rows = res["rows"]
        where = f"{name} ({rows['train']}/{rows['val']}/{rows['test']})"
        for label, m in res["models"].items():
            if label.startswith("slopes"):
                penalty = f"{m['l2']:.4g} ({res['alpha']:g})" if m["l2"] else "0"
                dropout = f"{m['dropout']:g}"
            else:
                penalty = f"({m['alpha']:g})" if m["alpha"] else "0"
                dropout = "0"
            val = np.asarray(m["val_loss"])
            best = int(np.argmin(val))
            lines.append(f"| {where} | {label} | {penalty} | {dropout} | "
                         f"{res['score']} {m['test_score']:.3f} | {val[-1]:.3f} | "
                         f"{val[best]:.3f} ({best + 1}) |")
    return "\n".join(lines)


def curves(results: dict, every: int) -> str:
    """The validation-loss curves, every ``every`` epochs, as a Markdown table per dataset."""
    out = []
    for name, res in results["datasets"].items():
        labels = list(res["models"])
        n = len(res["models"][labels[0]]["val_loss"])
        epochs = sorted({*range(every, n + 1, every), 1, n})
        out += [f"Validation loss per epoch, {name}:", "",
                "| epoch | " + " | ".join(labels) + " |",
                "|---:|" + "---:|" * len(labels)]
        out += [f"| {e} | " + " | ".join(f"{res['models'][k]['val_loss'][e - 1]:.3f}"
                                         for k in labels) + " |" for e in epochs]
        out.append("")
    return "\n".join(out)


def picture(results: dict, path: Path) -> None:
    """Validation loss per epoch: the plain network and the same network with the L2 penalty."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results["datasets"])
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        res = results["datasets"][name]
        models = res["models"]
        epochs = np.arange(1, len(models["slopes plain"]["val_loss"]) + 1)
        plain, penalized = models["slopes plain"]["val_loss"], models["slopes L2"]["val_loss"]
        ax.plot(epochs, plain, color="tab:red", label="plain")
        ax.plot(epochs, penalized, color="tab:blue",
                label=f"l2 = {res['l2']:.3g} (alpha {res['alpha']:g})")
        low = min(min(plain), min(penalized))
        ax.set_ylim(0, max(2.2 * low, max(plain[-1], penalized[-1]) * 1.15))
        best = int(np.argmin(plain))
        ax.plot(best + 1, plain[best], "o", color="tab:red", ms=4)
        rows = res["rows"]
        ax.set_title(f"{name}: {rows['train']} training rows", fontsize=10)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    axes[0][0].set_ylabel("validation loss")
    hidden = "-".join(map(str, results["settings"]["hidden"]))
    fig.suptitle(f"Validation loss per epoch of the same relu network (hidden {hidden}, Adam), "
                 "without and with the L2 penalty (dot: the plain network's lowest)", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs of training (300; 5 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 5 epochs, hidden layers of 16 nodes")
    parser.add_argument("--datasets", default=",".join(DATASETS),
                        help=f"comma-separated, from {', '.join(DATASETS)} (all)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results",
                        help="folder for regularization.json and .md (benchmarks/results)")
    parser.add_argument("--image", type=Path,
                        default=ROOT / "docs" / "images" / "regularization.png",
                        help="the picture (docs/images/regularization.png)")
    args = parser.parse_args()
    names = [n for n in args.datasets.split(",") if n]
    unknown = [n for n in names if n not in DATASETS]
    if unknown or not names:
        parser.error(f"unknown dataset: {', '.join(unknown) or '(none given)'}; "
                     f"expected some of {', '.join(DATASETS)}")
    epochs = args.epochs if args.epochs is not None else (5 if args.quick else 300)
    if epochs < 1:
        parser.error(f"--epochs must be at least 1, got {epochs}")
    hidden = (16, 16) if args.quick else HIDDEN
    start = time.perf_counter()
    results = run(epochs, hidden, names)
    results["seconds"] = time.perf_counter() - start
    command = "python benchmarks/regularization.py" + (" --quick" if args.quick else "")
    results["command"] = command
    md_table = table(results)
    md_curves = curves(results, every=max(1, epochs // 6))
    settings = results["settings"]
    head = (f"hidden layers {settings['hidden']} relu, Adam lr {LEARNING_RATE:g}, batches of "
            f"{BATCH}, {epochs} epochs, seed {SEED}; l2 = alpha / (2 x {BATCH}); "
            f"dropout {DROPOUT:g} on the hidden layers")
    print(head + "\n")
    print(md_table + "\n")
    print(md_curves)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "regularization.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.out / "regularization.md").write_text(
        f"# Regularization on real data\n\n`{command}` ({results['seconds']:.0f} s)\n\n"
        f"{head}\n\n{md_table}\n\n{md_curves}")
    picture(results, args.image)
    print(f"wrote {args.out / 'regularization.json'}, {args.out / 'regularization.md'} and "
          f"{args.image} in {results['seconds']:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
