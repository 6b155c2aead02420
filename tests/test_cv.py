"""`slopes train --cv K`: K folds (stratified for classification), the preprocessing learned
inside each fold only, each fold's score and the mean and spread printed and in metrics.json,
no model saved; combinations that cannot work refused with the reason."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from cli_run import cli  # noqa: E402
from slopes.commands import train_cv  # noqa: E402
from slopes.commands.train_cv import fold_rows  # noqa: E402
from slopes.preprocessing import TabularPreprocessor  # noqa: E402


def two_classes(path, n=60, seed=0, extra=None):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).round(3)
    label = np.where(x[:, 0] + x[:, 1] > 0, "up", "down")
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "label": label})
    if extra is not None:
        frame = frame.assign(**extra(frame))
    frame.to_csv(path, index=False)
    return path


# --------------------------------------------------------------------------- the folds
@settings(max_examples=60, deadline=None)
@given(st.integers(2, 8), st.lists(st.integers(0, 3), min_size=8, max_size=80),
       st.integers(0, 2**32 - 1))
def test_folds_partition_the_rows_and_hold_a_share_of_every_class(k, labels, seed):
    groups = np.array([f"c{v}" for v in labels])
    folds = fold_rows(len(groups), k, seed, groups)
    assert len(folds) == k
    every = np.sort(np.concatenate(folds))
    np.testing.assert_array_equal(every, np.arange(len(groups)))  # each row held out once
    sizes = [len(f) for f in folds]
    assert max(sizes) - min(sizes) <= 1
    for label in set(groups.tolist()):
        per_fold = [int(np.sum(groups[f] == label)) for f in folds]
        assert max(per_fold) - min(per_fold) <= 1  # stratified
    plain = fold_rows(len(groups), k, seed)
    np.testing.assert_array_equal(np.sort(np.concatenate(plain)), np.arange(len(groups)))
    assert max(map(len, plain)) - min(map(len, plain)) <= 1


def test_the_preprocessing_is_learned_inside_each_fold(monkeypatch, capsys, tmp_path):
    # A column that is 1000 in the rows fold 1 holds out and 0 elsewhere: learned on fold
    # 1's training rows its mean is 0; had the held-out rows leaked in, it would be 1000/K.
    k, n = 4, 60
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 2)).round(3)
    label = np.where(x[:, 0] + x[:, 1] > 0, "up", "down")
    from slopes.columns import category_key
    keys = np.array([category_key(v) for v in label])
    folds = fold_rows(n, k, 0, keys)
    z = np.zeros(n)
    z[folds[0]] = 1000.0
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "z": z, "label": label}).to_csv(
        tmp_path / "d.csv", index=False)
    fitted = []

    class Recording(TabularPreprocessor):
        def fit(self, data):
            super().fit(data)
            fitted.append((set(data.index), self.numeric["z"]["mean"]))
            return self

    monkeypatch.setattr(train_cv, "TabularPreprocessor", Recording)
    code, out, err = cli(capsys, "train", tmp_path / "d.csv", "--target", "label", "--cv", k,
                         "--epochs", "3", "--out", tmp_path / "cv")
    assert code == 0, err
    assert len(fitted) == k
    for fold, (rows, mean) in zip(folds, fitted, strict=True):
        assert not rows & set(fold.tolist())  # never the fold's held-out rows
        assert mean == pytest.approx(z[sorted(rows)].mean())
    assert fitted[0][1] == 0.0
    assert all(mean > 0 for _, mean in fitted[1:])


# --------------------------------------------------------------------------- the report
def test_cv_prints_each_fold_and_the_mean_and_spread_and_saves_no_model(capsys, tmp_path):
    data = two_classes(tmp_path / "d.csv")
    code, out, err = cli(capsys, "train", data, "--target", "label", "--cv", 3,
                         "--epochs", "20", "--out", tmp_path / "cv")
    assert code == 0, err
    assert [p.name for p in (tmp_path / "cv").iterdir()] == ["metrics.json"]
    metrics = json.loads((tmp_path / "cv" / "metrics.json").read_text())
    cv = metrics["cv"]
    assert cv["folds"] == 3 and cv["stratified"] and cv["model_saved"] is False
    scores = [f["accuracy"] for f in cv["scores"]]
    assert len(scores) == 3 and sum(f["rows"] for f in cv["scores"]) == 60
    assert cv["mean"]["accuracy"] == pytest.approx(np.mean(scores))
    assert cv["std"]["accuracy"] == pytest.approx(np.std(scores))
    for i, s in enumerate(scores, start=1):
        assert f"fold {i}/3 loss " in out and f"accuracy {s:.3f}" in out
    assert (f"cv    accuracy {np.mean(scores):.3f} ± {np.std(scores):.3f} (mean ± std of 3 "
            "folds;") in out
    assert "logistic regression" in out and "on the same folds" in out
    assert "No model is saved (as scikit-learn's cross_val_score)" in out
    held = cv["held_out"]["confusion_matrix"]
    assert np.array(held["counts"]).sum() == 60
    assert "Confusion matrix of the 60 held-out rows of all folds" in out


def test_cv_regression_reports_r2_and_residuals(capsys, tmp_path):
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 10, size=40).round(2)
    pd.DataFrame({"x": x, "y": (3 * x + rng.normal(size=40)).round(2)}).to_csv(
        tmp_path / "r.csv", index=False)
    code, out, err = cli(capsys, "train", tmp_path / "r.csv", "--target", "y", "--cv", 4,
                         "--epochs", "20", "--out", tmp_path / "cv")
    assert code == 0, err
    cv = json.loads((tmp_path / "cv" / "metrics.json").read_text())["cv"]
    assert cv["stratified"] is False and len(cv["scores"]) == 4
    assert cv["mean"]["r2"] == pytest.approx(np.mean([f["r2"] for f in cv["scores"]]))
    assert cv["held_out"]["residuals"]["rows"] == 40
    assert "cv    r2 " in out and "Residuals of the 40 held-out rows of all folds" in out


# --------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("value, message", [
    ("1", "argument --cv: expected a number of folds, an integer >= 2, got '1': "
          "cross-validation holds out each of K parts in turn, so K must be at least 2"),
    ("0", "argument --cv: expected a number of folds, an integer >= 2, got '0'"),
    ("three", "argument --cv: expected a number of folds, an integer >= 2, got 'three'"),
])
def test_cv_needs_two_folds_or_more(capsys, tmp_path, value, message):
    data = two_classes(tmp_path / "d.csv")
    code, out, err = cli(capsys, "train", data, "--target", "label", "--cv", value,
                         "--out", tmp_path / "cv")
    assert code == 2 and message in err
    assert not (tmp_path / "cv").exists()


def test_cv_with_stream_is_refused(capsys, tmp_path):
    data = two_classes(tmp_path / "d.csv")
    code, out, err = cli(capsys, "train", data, "--target", "label", "--cv", 3, "--stream",
                         "--out", tmp_path / "cv")
    assert code == 2
    assert ("--cv 3 needs every row in memory (each fold trains on the others), but --stream "
            "reads the file in chunks; leave out one of them") in err


def test_cv_of_a_file_that_streams_by_itself_is_refused(capsys, tmp_path):
    pytest.importorskip("pyarrow")
    frame = pd.read_csv(two_classes(tmp_path / "d.csv"))
    frame.to_parquet(tmp_path / "d.parquet")
    code, out, err = cli(capsys, "train", tmp_path / "d.parquet", "--target", "label",
                         "--cv", 3, "--out", tmp_path / "cv")
    assert code == 1
    assert ("slopes train: error: --cv 3 needs every row in memory (each fold trains on the "
            f"others), but {tmp_path / 'd.parquet'} is streamed (a Parquet file)") in err
    assert not (tmp_path / "cv").exists()


def test_cv_with_more_folds_than_rows_of_a_class_is_refused(capsys, tmp_path):
    data = two_classes(tmp_path / "d.csv", n=30,
                       extra=lambda f: {"label": ["rare"] * 3 + list(f["label"][3:])})
    code, out, err = cli(capsys, "train", data, "--target", "label", "--cv", 5,
                         "--out", tmp_path / "cv")
    assert code == 1
    assert ("slopes train: error: --cv 5 needs at least 5 rows of every class (each fold "
            "holds out some of each class), but class 'rare' has 3 row(s); use --cv 3 or "
            "fewer") in err
    assert not (tmp_path / "cv").exists()


def test_cv_with_more_folds_than_rows_is_refused_for_regression(capsys, tmp_path):
    pd.DataFrame({"x": [1.0, 2.5, 3.0], "y": [2.0, 4.5, 6.1]}).to_csv(tmp_path / "r.csv",
                                                                     index=False)
    code, out, err = cli(capsys, "train", tmp_path / "r.csv", "--target", "y", "--task",
                         "regress", "--cv", 4, "--out", tmp_path / "cv")
    assert code == 1
    assert ("--cv 4 needs at least 4 rows (one per fold), but the file has 3; use --cv 3 or "
            "fewer") in err


def test_cv_with_save_interrupted_is_refused(capsys, tmp_path):
    data = two_classes(tmp_path / "d.csv")
    code, out, err = cli(capsys, "train", data, "--target", "label", "--cv", 3,
                         "--save-interrupted", "--out", tmp_path / "cv")
    assert code == 2
    assert ("--cv 3 saves no model (it scores the settings), so --save-interrupted has "
            "nothing to save; leave it out") in err
