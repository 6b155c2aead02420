"""The report of `slopes train`: the confusion matrix with each class's precision and recall
(classification), the residuals' summary (regression); printed and in metrics.json, in
memory and with --stream. The hidden layers chosen without --hidden, said so."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")
sk_metrics = pytest.importorskip("sklearn.metrics")

from cli_run import cli  # noqa: E402
from slopes.commands.report import (  # noqa: E402
    MATRIX_MOST_CLASSES,
    class_report,
    confusion_matrix,
    describe_classes,
    describe_residuals,
    residual_summary,
)
from slopes.commands.train_setup import HIDDEN_FEWEST, HIDDEN_MOST, default_hidden  # noqa: E402


def flowers(path, n=90, seed=0):
    """Three classes with names, separable by x1 and x2, a little noise."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(["rose", "tulip", "lily"], size=n)
    center = {"rose": (0, 0), "tulip": (3, 0), "lily": (0, 3)}
    x = np.array([center[k] for k in kind]) + rng.normal(scale=0.9, size=(n, 2))
    pd.DataFrame({"x1": x[:, 0].round(3), "x2": x[:, 1].round(3), "kind": kind}).to_csv(
        path, index=False)
    return path


def prices(path, n=120, seed=0):
    rng = np.random.default_rng(seed)
    size = rng.uniform(30, 150, size=n).round(1)
    rooms = rng.integers(1, 6, size=n)
    price = (2 * size + 10 * rooms + rng.normal(scale=15, size=n)).round(1)
    pd.DataFrame({"size": size, "rooms": rooms, "price": price}).to_csv(path, index=False)
    return path


# ----------------------------------------------------------- the pieces, against sklearn
@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=60))
def test_confusion_matrix_precision_and_recall_match_scikit_learn(pairs):
    actual = np.array([a for a, _ in pairs])
    predicted = np.array([p for _, p in pairs])
    counts = confusion_matrix(actual, predicted, 4)
    np.testing.assert_array_equal(
        counts, sk_metrics.confusion_matrix(actual, predicted, labels=[0, 1, 2, 3]))
    report = class_report(counts, ["a", "b", "c", "d"])
    for i, name in enumerate("abcd"):
        c = report["per_class"][name]
        if (predicted == i).any():
            assert c["precision"] == pytest.approx(sk_metrics.precision_score(
                actual, predicted, labels=[i], average="macro", zero_division=0))
        else:
            assert c["precision"] is None  # no row predicted as it: 0/0, not 0
        if (actual == i).any():
            assert c["recall"] == pytest.approx(sk_metrics.recall_score(
                actual, predicted, labels=[i], average="macro", zero_division=0))
        else:
            assert c["recall"] is None
        assert c["rows"] == int((actual == i).sum())


def test_the_printed_matrix_names_the_classes_and_shows_dashes_for_none():
    report = class_report(np.array([[3, 0], [2, 0]]), ["cat", "dog"])
    text = describe_classes(report, "test rows")
    lines = text.splitlines()
    assert lines[0] == ("Confusion matrix of the 5 test rows (rows: true class, columns: "
                        "predicted class):")
    assert lines[1].split() == ["cat", "dog", "recall", "rows"]
    assert lines[2].split() == ["cat", "3", "0", "1.000", "3"]
    assert lines[3].split() == ["dog", "2", "0", "0.000", "2"]
    assert lines[4].split() == ["precision", "0.600", "-"]  # nothing predicted dog


def test_many_classes_print_precision_and_recall_only():
    n = MATRIX_MOST_CLASSES + 1
    report = class_report(np.eye(n, dtype=int) * 2, [f"c{i}" for i in range(n)])
    text = describe_classes(report, "test rows")
    assert f"({n} classes; the confusion matrix is in metrics.json)" in text
    assert text.splitlines()[2].split() == ["c0", "1.000", "1.000", "2"]
    assert len(report["confusion_matrix"]["counts"]) == n


def test_residual_summary_matches_numpy_and_names_the_worst_row():
    actual = np.array([10.0, 12.0, 9.0, 20.0, 15.0])
    predicted = np.array([11.0, 12.5, 9.0, 14.0, 15.5])
    s = residual_summary(actual, predicted, rows=[7, 8, 9, 10, 11])
    r = actual - predicted
    assert s["mean"] == pytest.approx(r.mean()) and s["std"] == pytest.approx(r.std())
    assert s["median"] == pytest.approx(np.median(r)) and s["q95"] == pytest.approx(
        np.quantile(r, 0.95))
    assert (s["min"], s["max"], s["max_abs"], s["max_abs_row"]) == (-1.0, 6.0, 6.0, 10)
    text = describe_residuals(s, "test rows", "price")
    assert text.splitlines()[0] == ("Residuals of the 5 test rows (price: actual - predicted): "
                                    "mean 0.8  std 2.619  largest |residual| 6 (row 10)")
    assert text.splitlines()[1].split()[:3] == ["quantiles:", "min", "-1"]


# ------------------------------------------------------------------- the command
def test_classification_report_printed_and_in_metrics(capsys, tmp_path):
    data = flowers(tmp_path / "flowers.csv")
    code, out, err = cli(capsys, "train", data, "--target", "kind", "--epochs", "30",
                         "--out", tmp_path / "m")
    assert code == 0, err
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    test = metrics["test"]
    matrix = test["confusion_matrix"]
    assert matrix["classes"] == ["lily", "rose", "tulip"]
    counts = np.array(matrix["counts"])
    assert counts.sum() == test["rows"]
    assert np.trace(counts) / counts.sum() == pytest.approx(test["accuracy"])
    for i, name in enumerate(matrix["classes"]):
        assert test["per_class"][name]["recall"] == pytest.approx(
            counts[i, i] / counts[i].sum())
    assert "confusion_matrix" in metrics["train"] and "per_class" in metrics["validation"]
    assert (f"Confusion matrix of the {test['rows']} test rows (rows: true class, columns: "
            "predicted class):") in out
    header = out.split("predicted class):\n")[1].splitlines()[0].split()
    assert header == ["lily", "rose", "tulip", "recall", "rows"]


def test_regression_report_residuals_printed_and_in_metrics(capsys, tmp_path):
    data = prices(tmp_path / "prices.csv")
    code, out, err = cli(capsys, "train", data, "--target", "price", "--epochs", "30",
                         "--out", tmp_path / "m")
    assert code == 0, err
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    res = metrics["test"]["residuals"]
    assert res["rows"] == metrics["test"]["rows"]
    assert res["min"] <= res["q25"] <= res["median"] <= res["q75"] <= res["max"]
    assert res["max_abs"] == pytest.approx(max(-res["min"], res["max"]))
    # the largest residual is said with its row number in the file
    frame = pd.read_csv(data)
    assert 0 <= res["max_abs_row"] < len(frame)
    assert res["std"] ** 2 + res["mean"] ** 2 == pytest.approx(metrics["test"]["mse"])
    assert (f"Residuals of the {res['rows']} test rows (price: actual - predicted): mean "
            in out)
    assert "  quantiles: min " in out


def test_stream_prints_the_same_kind_of_report(capsys, tmp_path):
    data = flowers(tmp_path / "flowers.csv", n=150)
    code, out, err = cli(capsys, "train", data, "--target", "kind", "--epochs", "20",
                         "--stream", "--chunk-rows", "40", "--out", tmp_path / "m")
    assert code == 0, err
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    counts = np.array(metrics["test"]["confusion_matrix"]["counts"])
    assert counts.sum() == metrics["test"]["rows"]
    assert np.trace(counts) / counts.sum() == pytest.approx(metrics["test"]["accuracy"])
    assert f"Confusion matrix of the {metrics['test']['rows']} test rows" in out

    data = prices(tmp_path / "prices.csv")
    code, out, err = cli(capsys, "train", data, "--target", "price", "--epochs", "20",
                         "--stream", "--chunk-rows", "50", "--out", tmp_path / "r")
    assert code == 0, err
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    res = metrics["test"]["residuals"]
    assert res["rows"] == metrics["test"]["rows"]
    assert res["std"] ** 2 + res["mean"] ** 2 == pytest.approx(metrics["test"]["mse"])
    assert "Residuals of the" in out and "quantiles: min" in out


def test_stream_residuals_past_the_cap_keep_moments_and_say_why(monkeypatch, capsys,
                                                                  tmp_path):
    from slopes.commands import train_stream
    monkeypatch.setattr(train_stream, "RESIDUALS_KEPT", 5)
    data = prices(tmp_path / "prices.csv")
    code, out, err = cli(capsys, "train", data, "--target", "price", "--epochs", "5",
                         "--stream", "--out", tmp_path / "r")
    assert code == 0, err
    res = json.loads((tmp_path / "r" / "metrics.json").read_text())["test"]["residuals"]
    assert res["quantiles"] == ("left out: over 5 rows, and quantiles need every residual "
                                "in memory")
    assert "median" not in res and res["max_abs"] == pytest.approx(
        max(-res["min"], res["max"]))
    assert "Residuals of the" in out and "quantiles:" not in out


# ------------------------------------------------------------ the hidden layers chosen
@pytest.mark.parametrize("inputs, classes, size", [(64, 10, 128), (4, 3, 16), (30, 2, 64),
                                                    (10, 0, 22), (2, 2, 16), (500, 2, 128)])
def test_default_hidden_rule(inputs, classes, size):
    sizes, why = default_hidden(inputs, classes)
    assert sizes == [size]
    assert HIDDEN_FEWEST <= size <= HIDDEN_MOST
    assert why.startswith(f"hidden layer {size} (chosen from {inputs} inputs and ")
    assert why.endswith("--hidden to change)")


def test_the_command_says_which_hidden_layers_it_chose(capsys, tmp_path):
    data = flowers(tmp_path / "flowers.csv")
    code, out, err = cli(capsys, "train", data, "--target", "kind", "--epochs", "2",
                         "--out", tmp_path / "m")
    assert code == 0, err
    assert ("Hidden layer 16 (chosen from 2 inputs and 3 classes: 2 x (2 + 3), kept within "
            "16...128; --hidden to change).") in out
    assert "Network 2-16-3 " in out
    code, out, err = cli(capsys, "train", data, "--target", "kind", "--epochs", "2",
                         "--hidden", "8,8", "--out", tmp_path / "n")
    assert code == 0, err
    assert "chosen from" not in out and "Network 2-8-8-3 " in out


# ------------------------------------------------------------- the defaults, measured
def test_defaults_benchmark_quick_run(tmp_path):
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "benchmarks/defaults.py", "--datasets", "iris", "--splits", "1",
         "--slopes-args", "--epochs 2", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600, cwd=root)
    assert result.returncode in (0, 1), result.stderr  # 1: not within the margin
    found = json.loads((tmp_path / "defaults.json").read_text())
    assert found["slopes_args"] == ["--epochs", "2"]
    iris = found["datasets"]["iris"]
    assert set(iris["scores"]) == {"slopes", "MLP", "baseline"}
    table = (tmp_path / "defaults.md").read_text()
    assert "(NOT the defaults)" in table and "| iris | 150 x 4 | 3 classes | 4-16-3 |" in table


def test_the_published_defaults_table_is_of_the_defaults_and_within_the_margin():
    from pathlib import Path
    results = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
    found = json.loads((results / "defaults.json").read_text())
    assert found["slopes_args"] == [] and found["splits"] == 5
    assert set(found["datasets"]) == {"iris", "wine", "breast_cancer", "digits", "moons",
                                      "diabetes", "friedman1"}
    for name, r in found["datasets"].items():
        assert r["within_margin"], name
        # the network the table shows is the one the rule chooses today
        sizes, _ = default_hidden(r["features"], r["classes"] or 0)
        outputs = 1 if (r["classes"] or 0) <= 2 else r["classes"]
        assert r["network"].startswith(
            f"Network {r['features']}-{'-'.join(map(str, sizes))}-{outputs} "), name
    assert "| yes" in (results / "defaults.md").read_text()


# ------------------------------------------------------- regression: l2 by validation
def test_regression_without_l2_tries_two_penalties_and_keeps_the_lower_validation_loss(
        capsys, tmp_path):
    from slopes.io import load_model
    data = prices(tmp_path / "prices.csv")
    code, out, err = cli(capsys, "train", data, "--target", "price", "--epochs", "20",
                         "--out", tmp_path / "m")
    assert code == 0, err
    assert ("Training again with l2 0.1 (an L2 penalty on the weights), to keep whichever "
            "has the lower validation loss:") in out
    kept = [line for line in out.splitlines() if line.startswith("Kept l2 ")]
    assert len(kept) == 1
    losses = {float(part.split(" with l2 ")[1]): float(part.split(" with l2 ")[0])
              for part in kept[0].split("(")[1].split(")")[0].split(", ")}
    assert set(losses) == {0.0, 0.1}
    chosen = min(losses, key=lambda l2: (losses[l2], l2))
    assert kept[0].startswith(f"Kept l2 {chosen:g}: the lower validation loss")
    model = load_model(tmp_path / "m" / "model.safetensors")
    assert model.training["l2"] == chosen
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert metrics["validation"]["loss"] == pytest.approx(losses[chosen], abs=1e-4)


@pytest.mark.parametrize("extra", [["--l2", "0"], ["--l2", "0.01"],
                                   ["--validation-split", "0"]])
def test_one_fit_when_l2_is_given_or_nothing_validates(capsys, tmp_path, extra):
    data = prices(tmp_path / "prices.csv")
    code, out, err = cli(capsys, "train", data, "--target", "price", "--epochs", "5", *extra,
                         "--out", tmp_path / "m")
    assert code == 0, err
    assert "Training again" not in out and "Kept l2" not in out


def test_classification_trains_once_without_a_penalty(capsys, tmp_path):
    from slopes.io import load_model
    data = flowers(tmp_path / "flowers.csv")
    code, out, err = cli(capsys, "train", data, "--target", "kind", "--epochs", "5",
                         "--out", tmp_path / "m")
    assert code == 0, err
    assert "Training again" not in out
    assert load_model(tmp_path / "m" / "model.safetensors").training["l2"] == 0.0
