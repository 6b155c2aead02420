"""`slopes train --sample-weight COL`: a column of row weights in the loss, not an input;
the scores weighted; every bad weight refused with the column and rows named."""

from __future__ import annotations

import json

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from cli_run import cli  # noqa: E402
from slopes.io import load_model  # noqa: E402


def conflicting(path, n=120, seed=0, trusted="first"):
    """Two halves that disagree: the first says 'up' when x > 0, the second the opposite.

    ``w`` trusts one half (weight 1) and silences the other (weight 0)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n).round(3)
    half = np.arange(n) % 2 == 0
    label = np.where((x > 0) == half, "up", "down")
    first = half if trusted == "first" else ~half
    pd.DataFrame({"x": x, "w": np.where(first, 1.0, 0.0), "label": label}).to_csv(
        path, index=False)
    return path


def plain(path, weights, n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n).round(3)
    frame = pd.DataFrame({"x": x, "w": weights(n) if callable(weights) else weights,
                          "label": np.where(x > 0, "up", "down")})
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("trusted, up_when_positive", [("first", True), ("second", False)])
def test_the_weights_decide_what_the_network_learns(capsys, tmp_path, trusted,
                                                    up_when_positive):
    data = conflicting(tmp_path / "d.csv", trusted=trusted)
    code, out, err = cli(capsys, "train", data, "--target", "label", "--sample-weight", "w",
                         "--epochs", "60", "--out", tmp_path / "m")
    assert code == 0, err
    assert ("Rows weighted by the column 'w' in the loss (training, validation, early "
            "stopping) and in the scores below") in out
    model = load_model(tmp_path / "m" / "model.safetensors")
    assert model.preprocessing.feature_names == ["x"]  # the weight is not an input
    up = list(model.preprocessing.classes).index("up")
    probe = pd.DataFrame({"x": [-2.0, 2.0]})
    p_up = model.network.predict(model.preprocessing.transform(probe))
    p_up = p_up[:, 0] if up == 1 else 1 - p_up[:, 0]
    assert (p_up[1] > 0.5 > p_up[0]) == up_when_positive
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert metrics["sample_weight"] == "w"
    assert metrics["test"]["weighted"] is True
    assert metrics["test"]["accuracy"] > 0.9  # weighted: the silenced half counts for nothing
    assert "test  loss" in out and "rows, weighted)" in out
    assert model.training["sample_weight"] == "w"


def test_weighted_scores_are_the_weighted_means(capsys, tmp_path):
    rng = np.random.default_rng(3)
    n = 80
    x = rng.normal(size=n).round(3)
    y = (2 * x + rng.normal(scale=0.5, size=n)).round(3)
    w = rng.uniform(0.1, 3.0, size=n).round(2)
    pd.DataFrame({"x": x, "w": w, "y": y}).to_csv(tmp_path / "r.csv", index=False)
    code, out, err = cli(capsys, "train", tmp_path / "r.csv", "--target", "y",
                         "--sample-weight", "w", "--epochs", "30", "--test-size", "0.3",
                         "--out", tmp_path / "m")
    assert code == 0, err
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    model = load_model(tmp_path / "m" / "model.safetensors")
    frame = pd.read_csv(tmp_path / "r.csv")
    # The test rows: those the command held out (the split does not depend on weights).
    from slopes.commands.train import split_rows
    _, test = split_rows(n, 0.3, 0)
    rows = frame.iloc[test]
    prep = model.preprocessing
    predicted = prep.inverse_target(
        model.network.predict(prep.transform(rows.drop(columns=["w"])))[:, 0])
    err2 = (predicted - rows["y"].to_numpy()) ** 2
    weights = rows["w"].to_numpy()
    assert metrics["test"]["mse"] == pytest.approx(np.sum(weights * err2) / weights.sum(),
                                                   rel=1e-6)
    assert metrics["test"]["mse"] != pytest.approx(err2.mean(), rel=1e-3)


def test_predict_needs_no_weight_column(capsys, tmp_path):
    data = plain(tmp_path / "d.csv", lambda n: np.ones(n))
    code, _, err = cli(capsys, "train", data, "--target", "label", "--sample-weight", "w",
                       "--epochs", "3", "--out", tmp_path / "m")
    assert code == 0, err
    pd.DataFrame({"x": [0.5, -0.5]}).to_csv(tmp_path / "new.csv", index=False)
    code, out, err = cli(capsys, "predict", tmp_path / "m", tmp_path / "new.csv")
    assert code == 0, err and "predicted_label" in out


# ----------------------------------------------------------------------- bad weights
@pytest.mark.parametrize("weights, message", [
    (lambda n: ["heavy"] + [1.0] * (n - 1),
     "--sample-weight column 'w' holds text (row 0: 'heavy'); expected numbers >= 0, one "
     "weight per row"),
    (lambda n: [1.0, -2.0] + [1.0] * (n - 2),
     "--sample-weight column 'w' is negative in 1 row(s) (row 1: -2); expected finite "
     "numbers >= 0 (0 leaves a row out of the loss)"),
    (lambda n: [1.0, 1.0, np.nan] + [1.0] * (n - 3),
     "--sample-weight column 'w' is empty in 1 row(s) (row 2: empty); expected finite "
     "numbers >= 0"),
    (lambda n: [np.inf] + [1.0] * (n - 1),
     "--sample-weight column 'w' is infinite in 1 row(s) (row 0: inf); expected finite "
     "numbers >= 0"),
    (lambda n: [0.0] * n,
     "--sample-weight column 'w' is 0 in every row; at least one weight must be > 0"),
    (lambda n: [True, False] * (n // 2),
     "--sample-weight column 'w' holds True/False (row 0: True; row 1: False; row 2: True "
     "and 37 more); expected numbers >= 0, one weight per row"),
])
def test_bad_weights_are_refused_naming_column_and_rows(capsys, tmp_path, weights, message):
    data = plain(tmp_path / "d.csv", weights)
    code, out, err = cli(capsys, "train", data, "--target", "label", "--sample-weight", "w",
                         "--out", tmp_path / "m")
    assert code == 1
    assert err.startswith(f"slopes train: error: {data}: ") and message in err, err
    assert not (tmp_path / "m").exists()


def test_a_missing_weight_column_is_refused(capsys, tmp_path):
    data = plain(tmp_path / "d.csv", 1.0)
    code, out, err = cli(capsys, "train", data, "--target", "label", "--sample-weight",
                         "weight", "--out", tmp_path / "m")
    assert code == 1
    assert (f"slopes train: error: {data}: --sample-weight names 'weight', not a column of "
            "the file; the columns are: x, w, label") in err


def test_a_part_with_only_zero_weights_is_refused(capsys, tmp_path):
    # Weight only on rows the split trains on: the test rows all weigh 0.
    from slopes.columns import category_key
    from slopes.commands.train import split_rows
    n = 40
    data = plain(tmp_path / "d.csv", 1.0, n=n)
    frame = pd.read_csv(data)
    groups = np.array([category_key(v) for v in frame["label"]])
    _, test = split_rows(n, 0.1, 0, groups)  # the command's stratified split
    frame.loc[test, "w"] = 0.0
    frame.to_csv(data, index=False)
    code, out, err = cli(capsys, "train", data, "--target", "label", "--task", "classify",
                         "--sample-weight", "w", "--out", tmp_path / "m")
    assert code == 1
    assert (f"--sample-weight: every one of the {len(test)} test rows has weight 0, so the "
            "test loss is 0/0; give some of them a weight > 0 (or change --seed, the split)"
            ) in err


@pytest.mark.parametrize("extra, message", [
    (["--sample-weight", "label"],
     "--sample-weight names the target 'label'; the weights must be another column"),
    (["--sample-weight", "w", "--features", "x,w"],
     "--features lists the --sample-weight column 'w'; a row weight is not an input, so "
     "list only the columns to learn from"),
])
def test_weight_option_combinations_are_usage_errors(capsys, tmp_path, extra, message):
    data = plain(tmp_path / "d.csv", 1.0)
    code, out, err = cli(capsys, "train", data, "--target", "label", *extra,
                         "--out", tmp_path / "m")
    assert code == 2 and message in err


def test_a_categorical_weight_column_is_refused(capsys, tmp_path):
    data = plain(tmp_path / "d.csv", 1.0)
    code, out, err = cli(capsys, "train", data, "--target", "label", "--sample-weight", "w",
                         "--categorical", "w", "--out", tmp_path / "m")
    assert code == 1
    assert ("--categorical names 'w', the --sample-weight column; a row weight is not an "
            "input") in err


def test_sample_weight_with_stream_is_refused_with_the_reason(capsys, tmp_path):
    data = plain(tmp_path / "d.csv", 1.0)
    code, out, err = cli(capsys, "train", data, "--target", "label", "--sample-weight", "w",
                         "--stream", "--out", tmp_path / "m")
    assert code == 1
    assert ("slopes train: error: --sample-weight is not supported when streaming (--stream):"
            " the streamed path reads no weight column yet; train in memory (--no-stream) or "
            "repeat rows to weight them") in err
    assert not (tmp_path / "m").exists()


def test_cv_uses_the_weights_in_every_fold(capsys, tmp_path):
    data = conflicting(tmp_path / "d.csv", n=90)
    code, out, err = cli(capsys, "train", data, "--target", "label", "--sample-weight", "w",
                         "--cv", 3, "--epochs", "60", "--out", tmp_path / "cv")
    assert code == 0, err
    cv = json.loads((tmp_path / "cv" / "metrics.json").read_text())["cv"]
    assert all(f["weighted"] for f in cv["scores"])
    assert cv["mean"]["accuracy"] > 0.85  # the trusted half's rule, learned in each fold
