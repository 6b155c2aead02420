"""The in-memory path's memory: one preallocated matrix, scores computed in slices.

- :meth:`TabularPreprocessor.transform` fills one matrix: the memory it
  allocates (``tracemalloc`` sees NumPy's allocations) is the matrix plus a
  column's temporaries, not the blocks, their ``hstack`` and an ``astype`` copy;
- the scores of ``slopes train`` are computed in slices
  (:func:`slopes.commands.report.outputs_and_loss`) and equal, to 1e-12, what
  one forward pass over all the rows gives (the previous way), for
  classification and regression and every loss;
- ``benchmarks/stream.py`` runs (on tiny files) and reports the memory ratio.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from slopes import Network  # noqa: E402
from slopes.commands import report  # noqa: E402
from slopes.commands.report import (  # noqa: E402
    class_probabilities,
    classification_scores,
    outputs_and_loss,
    regression_scores,
)
from slopes.metrics import mean_absolute_error, mean_squared_error  # noqa: E402
from slopes.preprocessing import TabularPreprocessor  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def one_hot_heavy(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x0": rng.normal(size=n), "x1": rng.normal(size=n)})
    for name, k in (("color", 4), ("city", 10), ("shop", 20), ("brand", 20)):
        frame[name] = pd.Series(np.array([f"{name}{j}" for j in range(k)])[
            rng.integers(0, k, size=n)], dtype="str")
    frame["label"] = rng.integers(0, 2, size=n)
    return frame


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_transform_allocates_the_matrix_once(dtype):
    data = one_hot_heavy(40_000)
    prep = TabularPreprocessor(target="label").fit(data)
    prep.transform(data.iloc[:10], dtype=dtype)  # warm up pandas' caches
    tracemalloc.start()
    try:
        X = prep.transform(data, dtype=dtype)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert X.shape == (40_000, 56) and X.dtype == dtype
    # Before: blocks (1x in float64), their hstack (1x), the astype copy: 3x in float64.
    # Now: the matrix and one column's temporaries (a few float64 columns of n rows).
    column = 40_000 * 8
    assert peak < X.nbytes + 12 * column, (peak, X.nbytes)


def _previous_scores(net, X, y, loss, prep=None):
    """What slopes train computed before: one forward pass over all the rows."""
    if prep is None:
        predicted = class_probabilities(net.predict(X)).argmax(axis=1)
        return {"loss": net.evaluate(X, y, loss=loss),
                "accuracy": float(np.mean(predicted == y)), "rows": len(y)}
    predicted = prep.inverse_target(net.predict(X)[:, 0])
    actual = prep.inverse_target(y)
    spread = float(np.sum((actual - actual.mean()) ** 2))
    return {"loss": net.evaluate(X, y, loss=loss),
            "mse": mean_squared_error(predicted, actual),
            "mae": mean_absolute_error(predicted, actual),
            "r2": float(1 - np.sum((predicted - actual) ** 2) / spread), "rows": len(y)}


# What the report adds to the scores (the confusion matrix, the residuals): not scores of rows.
REPORT_KEYS = {"residuals", "confusion_matrix", "per_class"}


def _close(a: dict, b: dict) -> None:
    assert a.keys() - REPORT_KEYS == b.keys() - REPORT_KEYS
    for key in a.keys() & b.keys():
        if key in REPORT_KEYS:
            assert a[key] == b[key], key
        else:
            assert a[key] == pytest.approx(b[key], rel=1e-12, abs=1e-12), key


@pytest.mark.parametrize("rows", [1, 7, 1000, 5000])
@pytest.mark.parametrize("n_classes,loss", [(2, "binary_crossentropy"),
                                            (3, "categorical_crossentropy"), (2, "mse")])
def test_classification_scores_in_slices_equal_one_pass(monkeypatch, rows, n_classes, loss):
    rng = np.random.default_rng(n_classes)
    X = rng.normal(size=(2345, 6))
    y = rng.integers(0, n_classes, size=2345)
    output = ("sigmoid" if loss != "categorical_crossentropy" else "softmax")
    outputs = 1 if n_classes == 2 else n_classes
    net = Network.mlp([6, 9, 5, outputs], activation="relu",
                      output=output, seed=3)
    target = y if loss != "mse" else y.reshape(-1, 1).astype(float)
    monkeypatch.setattr(report, "SCORE_ROWS", rows)
    monkeypatch.setattr(report.outputs_and_loss, "__defaults__", (None, rows))
    new = classification_scores(net, X, target if loss == "mse" else y, loss)
    old = _previous_scores(net, X, target if loss == "mse" else y, loss)
    _close(new, old)


@pytest.mark.parametrize("loss", ["mse", "sse", "half_mse", "mae"])
def test_regression_scores_in_slices_equal_one_pass(monkeypatch, loss):
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"a": rng.normal(size=3001), "b": rng.choice(["u", "v"], 3001),
                         "t": rng.normal(50, 10, size=3001)})
    prep = TabularPreprocessor(target="t", task="regress", standardize_target=True)
    X, y = prep.fit_transform(data)
    net = Network.mlp([X.shape[1], 8, 1], activation="tanh",
                      output="identity", seed=0)
    monkeypatch.setattr(report.outputs_and_loss, "__defaults__", (None, 250))
    _close(regression_scores(net, X, y, loss, prep), _previous_scores(net, X, y, loss, prep))


def test_scores_of_no_rows_are_refused_as_before():
    net = Network.mlp([2, 1], output="sigmoid", seed=0)
    with pytest.raises(ValueError, match="X has 0 samples"):
        outputs_and_loss(net, np.zeros((0, 2)), np.zeros(0), "binary_crossentropy")


def _previous_transform(self, data, dtype=np.float64):
    """TabularPreprocessor.transform as it was: blocks, a per-cell one-hot, hstack, astype."""
    from slopes.columns import category_key

    blocks = []
    for name in self.columns:
        column = data[name]
        if name in self.numeric:
            values = pd.to_numeric(column, errors="coerce").to_numpy(float)
            stats = self.numeric[name]
            blocks.append(((values - stats["mean"]) / stats["scale"]).reshape(-1, 1))
        else:
            keys = column.map(category_key)
            codes = pd.Categorical(keys, categories=self.categories[name]).codes
            blocks.append(np.eye(len(self.categories[name]))[codes])
    return np.hstack(blocks).astype(dtype)


def _previous_outputs_and_loss(net, X, y, loss, rows=None):
    return net.predict(X), net.evaluate(X, y, loss=loss)


TABLES = {
    "one-hot": (lambda: one_hot_heavy(1500, seed=4), "label"),
    "regression": (lambda: pd.DataFrame({"x": np.arange(600.0) % 17,
                                         "c": ["p", "q", "r"] * 200,
                                         "t": np.arange(600.0) * 0.5 + 3}), "t"),
    "three classes": (lambda: pd.DataFrame({"x": np.sin(np.arange(900.0)),
                                            "k": np.arange(900) % 4,
                                            "y": ["a", "b", "c"] * 300}), "y"),
}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_train_gives_the_previous_results(tmp_path, capsys, monkeypatch, name):
    """`slopes train` end to end: the model and metrics of the previous implementation
    (blocks + hstack, one forward pass over all the rows), to 1e-12."""
    from slopes.cli import main

    make, target = TABLES[name]
    path = tmp_path / "t.csv"
    make().to_csv(path, index=False)
    args = ["train", str(path), "--target", target, "--epochs", "4", "--no-stream",
            "--batch-size", "64"]
    monkeypatch.setattr(report, "SCORE_ROWS", 100)
    monkeypatch.setattr(report.outputs_and_loss, "__defaults__", (None, 100))
    assert main([*args, "--out", str(tmp_path / "new")]) == 0
    with monkeypatch.context() as patch:
        patch.setattr(TabularPreprocessor, "transform", _previous_transform)
        patch.setattr(report, "outputs_and_loss", _previous_outputs_and_loss)
        assert main([*args, "--out", str(tmp_path / "old")]) == 0
    capsys.readouterr()
    new = json.loads((tmp_path / "new" / "metrics.json").read_text())
    old = json.loads((tmp_path / "old" / "metrics.json").read_text())
    assert new.keys() == old.keys()
    for part in ("train", "validation", "test"):
        _close(new[part], old[part])
    assert new["baselines"] == old["baselines"]
    assert ((tmp_path / "new" / "model.safetensors").read_bytes()
            == (tmp_path / "old" / "model.safetensors").read_bytes())


def test_the_stream_benchmark_reports_the_memory_ratio(tmp_path):
    result = subprocess.run(
        [sys.executable, "benchmarks/stream.py", "--mb", "0.3", "--dir", str(tmp_path),
         "--out", str(tmp_path / "stream.md"), "--json", str(tmp_path / "stream.json")],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    results = json.loads((tmp_path / "stream.json").read_text())
    assert [(r["shape"], r["path"]) for r in results] == [
        ("numeric", "in memory"), ("numeric", "--stream"),
        ("one-hot", "in memory"), ("one-hot", "--stream")]
    assert [r["inputs"] for r in results] == [12, 12, 58, 58]
    assert all(r["peak_mb"] > 0 and r["ratio"] > 0 and r["rows_per_second"] > 0
               and r["test_accuracy"] > 0.6 for r in results)
    table = (tmp_path / "stream.md").read_text()
    assert "| peak / matrix | (peak - fixed) / matrix |" in table
    assert list(tmp_path.glob("slopes-stream-*")) == []  # the files are deleted
