"""``slopes train`` with its defaults, next to scikit-learn's MLP defaults and the baseline.

The command's defaults (hidden layers, learning rate, epochs, patience) were
chosen with this script: on each of seven datasets slopes must come within
0.01 accuracy (classification) or 0.02 R^2 (regression) of the best contender.

For every dataset and each of ``--splits`` seeds the rows are split once,
75% to train and 25% held out (scikit-learn's ``train_test_split``,
stratified for classification), and that split is given to every contender:

- **slopes**: ``slopes train train.csv --target target`` and nothing else
  (the command's defaults: it holds out its own test and validation rows
  from the training file, as it always does, so it trains on about 81% of
  them), then ``slopes predict`` on the held-out rows;
- **MLP**: scikit-learn's ``MLPClassifier()``/``MLPRegressor()`` with their
  defaults (``random_state`` the split's seed), on inputs standardized as the
  command does (a ``StandardScaler`` fitted on the training rows; for
  regression the target too, as the command standardizes it);
- **baseline**: the baseline ``slopes train`` prints: ``LogisticRegression
  (max_iter=1000)`` or ``LinearRegression()`` on the same standardized inputs.

Prints a markdown table (mean +- standard deviation over the splits), and
writes it to ``--out``/defaults.md with the numbers in defaults.json. Run:

    .venv/bin/python benchmarks/defaults.py                      # about 10 minutes
    .venv/bin/python benchmarks/defaults.py --datasets iris --splits 1 --out /tmp/d

``--slopes-args`` adds options to ``slopes train`` to try other settings (a
table made so says it is not the defaults).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import platform
import shlex
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn import datasets
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from slopes.cli import main as slopes_main

ROOT = Path(__file__).resolve().parents[1]
#: How close to the best contender slopes must come: accuracy, R^2.
MARGIN = {"classify": 0.01, "regress": 0.02}
TEST_SIZE = 0.25
TARGET = "target"


def _bunch(loader: Callable) -> Callable[[], tuple[pd.DataFrame, np.ndarray]]:
    def load() -> tuple[pd.DataFrame, np.ndarray]:
        bunch = loader()
        names = [str(n).replace(" ", "_") for n in bunch.feature_names]
        return pd.DataFrame(bunch.data, columns=names), np.asarray(bunch.target)
    return load


def _generated(make: Callable, **kwargs: object) -> Callable[[], tuple[pd.DataFrame, np.ndarray]]:
    def load() -> tuple[pd.DataFrame, np.ndarray]:
        X, y = make(**kwargs, random_state=0)
        return pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])]), y
    return load


#: name -> (task, loader of (features, target)).
DATASETS: dict[str, tuple[str, Callable[[], tuple[pd.DataFrame, np.ndarray]]]] = {
    "iris": ("classify", _bunch(datasets.load_iris)),
    "wine": ("classify", _bunch(datasets.load_wine)),
    "breast_cancer": ("classify", _bunch(datasets.load_breast_cancer)),
    "digits": ("classify", _bunch(datasets.load_digits)),
    "moons": ("classify", _generated(datasets.make_moons, n_samples=2000, noise=0.3)),
    "diabetes": ("regress", _bunch(datasets.load_diabetes)),
    "friedman1": ("regress", _generated(datasets.make_friedman1, n_samples=2000)),
}


def run_slopes(train: pd.DataFrame, test: pd.DataFrame, task: str, folder: Path,
               extra: list[str]) -> tuple[float, float, str]:
    """(score on ``test``, seconds of ``slopes train``, its line about the network)."""
    train_csv, test_csv, model = folder / "train.csv", folder / "test.csv", folder / "model"
    train.to_csv(train_csv, index=False)
    test.drop(columns=[TARGET]).to_csv(test_csv, index=False)
    printed = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(printed):
        code = slopes_main(["train", str(train_csv), "--target", TARGET, "--out", str(model),
                            "--overwrite", *extra])
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"slopes train exited {code}:\n{printed.getvalue()}")
    with contextlib.redirect_stdout(io.StringIO()):
        code = slopes_main(["predict", str(model), str(test_csv), "--out",
                            str(folder / "predicted.csv")])
    if code != 0:
        raise SystemExit(f"slopes predict exited {code}")
    predicted = pd.read_csv(folder / "predicted.csv")[f"predicted_{TARGET}"].to_numpy()
    actual = test[TARGET].to_numpy()
    score = (float(np.mean(predicted == actual)) if task == "classify"
             else float(r2_score(actual, predicted)))
    network = next((line for line in printed.getvalue().splitlines()
                    if line.startswith("Network ")), "")
    return score, seconds, network


def run_sklearn(train: pd.DataFrame, test: pd.DataFrame, task: str, seed: int
                ) -> dict[str, tuple[float, float]]:
    """``{"MLP": (score, seconds), "baseline": (score, seconds)}`` on the same split."""
    X_train, y_train = train.drop(columns=[TARGET]).to_numpy(), train[TARGET].to_numpy()
    X_test, y_test = test.drop(columns=[TARGET]).to_numpy(), test[TARGET].to_numpy()
    if task == "classify":
        models = {"MLP": make_pipeline(StandardScaler(), MLPClassifier(random_state=seed)),
                  "baseline": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))}
    else:
        models = {"MLP": TransformedTargetRegressor(
                      make_pipeline(StandardScaler(), MLPRegressor(random_state=seed)),
                      transformer=StandardScaler()),
                  "baseline": make_pipeline(StandardScaler(), LinearRegression())}
    found = {}
    for name, model in models.items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        predicted = model.predict(X_test)
        score = (float(np.mean(predicted == y_test)) if task == "classify"
                 else float(r2_score(y_test, predicted)))
        found[name] = (score, seconds)
    return found


def measure(name: str, splits: int, extra: list[str]) -> dict:
    """Every contender's score (and seconds) on each split of the dataset ``name``."""
    task, load = DATASETS[name]
    X, y = load()
    data = X.assign(**{TARGET: y})
    result: dict = {"task": task, "rows": len(data), "features": X.shape[1],
                    "classes": int(len(np.unique(y))) if task == "classify" else None,
                    "scores": {"slopes": [], "MLP": [], "baseline": []},
                    "seconds": {"slopes": [], "MLP": [], "baseline": []}}
    for seed in range(splits):
        train, test = train_test_split(data, test_size=TEST_SIZE, random_state=seed,
                                       stratify=y if task == "classify" else None)
        with tempfile.TemporaryDirectory() as tmp:
            score, seconds, network = run_slopes(train, test, task, Path(tmp), extra)
        result["scores"]["slopes"].append(score)
        result["seconds"]["slopes"].append(seconds)
        result["network"] = network
        for contender, (s, t) in run_sklearn(train, test, task, seed).items():
            result["scores"][contender].append(s)
            result["seconds"][contender].append(t)
        print(f"  {name} split {seed}: " + ", ".join(
            f"{c} {v[-1]:.3f}" for c, v in result["scores"].items()), file=sys.stderr,
            flush=True)
    means = {c: statistics.fmean(v) for c, v in result["scores"].items()}
    best = max(means.values())
    result["mean"] = means
    result["std"] = {c: statistics.pstdev(v) for c, v in result["scores"].items()}
    result["best"] = max(means, key=means.__getitem__)
    result["gap"] = best - means["slopes"]
    result["within_margin"] = bool(result["gap"] <= MARGIN[task] + 1e-12)
    return result


def table(results: dict, splits: int, extra: list[str]) -> str:
    """The markdown table of ``results`` (dataset -> :func:`measure`'s answer)."""
    settings = ("`slopes train DATA.csv --target target`, the command's defaults"
                if not extra else
                f"`slopes train DATA.csv --target target {shlex.join(extra)}` (NOT the defaults)")
    lines = [
        f"Test score, mean ± standard deviation over {splits} seeded split(s) (75% train, 25% "
        "held out; the same split for every contender): accuracy for classification, R² for "
        "regression. slopes is "
        f"{settings}; MLP is scikit-learn's `MLPClassifier()`/`MLPRegressor()` with their "
        "defaults, on standardized inputs (and target); baseline is the logistic/linear "
        "regression `slopes train` prints. Within: slopes within 0.01 accuracy / 0.02 R² of "
        "the best. Time: median seconds of one `slopes train` run (reading, training, "
        "scoring, pictures) and of one MLP fit, on a shared 2-core machine.",
        "",
        "| dataset | rows x features | task | network chosen | slopes | MLP | baseline "
        "| within | slopes s | MLP s |",
        "|---|---|---|---|---:|---:|---:|---|---:|---:|",
    ]
    for name, r in results.items():
        task = ("regression" if r["task"] == "regress" else f"{r['classes']} classes")
        network = r["network"].removeprefix("Network ").split(" ")[0]
        cells = []
        for contender in ("slopes", "MLP", "baseline"):
            text = f"{r['mean'][contender]:.3f} ± {r['std'][contender]:.3f}"
            cells.append(f"**{text}**" if contender == r["best"] else text)
        within = ("yes" if r["within_margin"] else "**no**") + (
            f" ({-r['gap']:+.3f})" if r["best"] != "slopes" else " (best)")
        lines.append(
            f"| {name} | {r['rows']} x {r['features']} | {task} | {network} | "
            f"{' | '.join(cells)} | {within} | "
            f"{statistics.median(r['seconds']['slopes']):.1f} | "
            f"{statistics.median(r['seconds']['MLP']):.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS),
                        help=f"comma-separated, from {', '.join(DATASETS)} (default: all)")
    parser.add_argument("--splits", type=int, default=5, help="seeded splits (default 5)")
    parser.add_argument("--slopes-args", default="", metavar="ARGS",
                        help="options added to `slopes train`, to try other settings")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"),
                        help="folder for defaults.md and defaults.json")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    unknown = [n for n in names if n not in DATASETS]
    if unknown or not names:
        parser.error(f"unknown dataset(s): {', '.join(unknown) or '(none)'}; choose from "
                     f"{', '.join(DATASETS)}")
    if args.splits < 1:
        parser.error(f"--splits must be at least 1, got {args.splits}")
    extra = shlex.split(args.slopes_args)
    results = {name: measure(name, args.splits, extra) for name in names}
    text = table(results, args.splits, extra)
    machine = (f"Python {platform.python_version()}, NumPy {np.__version__}, scikit-learn "
               f"{sklearn.__version__}, {platform.machine()}.")
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "defaults.md").write_text(text + "\n" + machine + "\n", encoding="utf-8")
    (out / "defaults.json").write_text(json.dumps(
        {"splits": args.splits, "test_size": TEST_SIZE, "slopes_args": extra,
         "margin": MARGIN, "machine": machine, "datasets": results}, indent=2) + "\n",
        encoding="utf-8")
    return 0 if all(r["within_margin"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
