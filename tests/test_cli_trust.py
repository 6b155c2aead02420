"""`slopes train/predict` on a user's real data: no leak, no lost files, no silent surprises.

Each test holds one promise of issue 8; docs/reliability.md lists them all.
Most run the command in-process (``slopes.cli.main``); Ctrl-C, closed pipes
and file permissions need a real process.
"""

from __future__ import annotations

import io
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from cli_run import cli, process  # noqa: E402
from slopes.columns import category_key  # noqa: E402
from slopes.commands.train import split_rows  # noqa: E402
from slopes.io import load_model  # noqa: E402

FAST = ["--epochs", "5", "--hidden", "4"]


def table(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n).round(3)
    color = rng.choice(["red", "green", "blue"], size=n)
    size = rng.integers(1, 4, size=n)
    label = np.where(x + (color == "red") + 0.2 * size > 0.7, "yes", "no")
    return pd.DataFrame({"x": x, "color": color, "size": size, "label": label})


def write_csv(tmp_path: Path, frame: pd.DataFrame, name: str = "data.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def fit_rows(frame: pd.DataFrame, target: str, test_size: float = 0.1,
             validation_split: float = 0.1, seed: int = 0, classify: bool = True
             ) -> pd.DataFrame:
    """The rows ``slopes train`` learns from, found the way it finds them."""
    groups = frame[target].map(category_key).to_numpy(str) if classify else None
    train, _ = split_rows(len(frame), test_size, seed, groups)
    fit, _ = split_rows(len(train), validation_split, seed + 1,
                        None if groups is None else groups[train])
    return frame.iloc[train[fit]]


# ----------------------------------------------------------------- the leak
def test_preprocessing_is_learned_from_the_training_rows_only(capsys, tmp_path):
    frame = table()
    data = write_csv(tmp_path, frame)
    code, out, err = cli(capsys, "train", data, "--target", "label", *FAST, "--out",
                         tmp_path / "m")
    assert code == 0, err
    prep = load_model(tmp_path / "m" / "model.safetensors").preprocessing
    rows = fit_rows(frame, "label")
    assert len(rows) < len(frame)
    assert prep.numeric["x"]["mean"] == pytest.approx(rows["x"].mean(), abs=1e-12)
    assert prep.numeric["x"]["mean"] != pytest.approx(frame["x"].mean(), abs=1e-9)
    assert prep.numeric["x"]["scale"] == pytest.approx(rows["x"].std(ddof=0), abs=1e-12)
    n_train, n_test = len(rows), round(len(frame) * 0.1)
    n_val = len(frame) - n_test - n_train
    assert f"{n_train} rows to train on, {n_val} for validation, {n_test} held out" in out
    assert "learned from the" in out


def test_regression_target_scale_and_fill_means_come_from_training_rows(capsys, tmp_path):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.normal(size=80).round(3), "b": rng.normal(size=80)})
    frame.loc[[5, 17, 40], "b"] = np.nan
    frame["y"] = (3 * frame["a"] + 10 + rng.normal(0, 0.1, 80)).round(3)
    data = write_csv(tmp_path, frame)
    code, _, err = cli(capsys, "train", data, "--target", "y", "--task", "regress",
                       "--fill-missing", *FAST, "--out", tmp_path / "m")
    assert code == 0, err
    prep = load_model(tmp_path / "m" / "model.safetensors").preprocessing
    rows = fit_rows(frame, "y", classify=False)
    assert prep.target_mean == pytest.approx(rows["y"].mean())
    assert prep.target_scale == pytest.approx(rows["y"].std(ddof=0))
    assert prep.numeric["b"]["mean"] == pytest.approx(rows["b"].mean())  # pandas skips NaN


def test_a_category_only_in_held_out_rows_is_never_seen(capsys, tmp_path):
    frame = table()
    data = frame.copy()
    # Put a category in exactly one row, then find whether it was held out by the split.
    groups = data["label"].map(category_key).to_numpy(str)
    _, test = split_rows(len(data), 0.1, 0, groups)
    row = int(test[0])
    data.loc[row, "color"] = "purple"
    path = write_csv(tmp_path, data)
    code, out, err = cli(capsys, "train", path, "--target", "label", *FAST, "--out",
                         tmp_path / "m")
    assert code == 0, err
    assert (f"warning: 1 test row(s) hold values the training rows never had, so they are "
            f"left out of the test score (row {row}: column 'color' = 'purple')") in err
    prep = load_model(tmp_path / "m" / "model.safetensors").preprocessing
    assert "purple" not in prep.categories["color"]
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert metrics["test"]["rows"] == len(test) - 1


def test_split_is_stratified_and_every_class_trains():
    groups = np.array(["a"] * 50 + ["b"] * 9 + ["c"] * 1)
    kept, taken = split_rows(len(groups), 0.2, 0, groups)
    assert sorted(set(groups[kept])) == ["a", "b", "c"]
    assert (groups[taken] == "a").sum() == 10 and (groups[taken] == "b").sum() == 2
    assert len(np.intersect1d(kept, taken)) == 0 and len(kept) + len(taken) == 60


def test_missing_target_values_are_an_error(capsys, tmp_path):
    frame = table().astype({"label": object})
    frame.loc[4, "label"] = None
    path = write_csv(tmp_path, frame)
    code, _, err = cli(capsys, "train", path, "--target", "label", "--fill-missing", *FAST,
                       "--out", tmp_path / "m")
    assert code == 1
    assert "the target column 'label' is empty in 1 row(s) (rows 4); drop those rows first" in err


# ------------------------------------------------------------ schema surprises
def test_one_text_cell_in_a_numeric_column_is_reported(capsys, tmp_path):
    frame = table().astype({"x": object})
    frame.loc[7, "x"] = "?"
    path = write_csv(tmp_path, frame)
    code, _, err = cli(capsys, "train", path, "--target", "label", "--test-size", "0",
                       *FAST, "--out", tmp_path / "m")
    assert code == 1
    assert ("column 'x' holds numbers except in 1 cell(s) (row 7: '?'); fix or empty "
            "those cells, or list the column as categorical") in err
    assert not (tmp_path / "m").exists()


def test_duplicate_header_names_are_an_error(capsys, tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("a,b,a,label\n1,2,3,yes\n4,5,6,no\n")
    code, _, err = cli(capsys, "train", path, "--target", "label", "--out", tmp_path / "m")
    assert code == 1
    assert ("dup.csv: the header names the column 'a' twice (columns 1 and 3); column names "
            "must be unique") in err


def test_id_like_columns_get_a_warning(capsys, tmp_path):
    frame = table()
    frame.insert(0, "customer", [f"C{i:04d}" for i in range(len(frame))])
    frame.insert(0, "row_id", np.arange(1000, 1000 + len(frame)))
    path = write_csv(tmp_path, frame)
    code, _, err = cli(capsys, "train", path, "--target", "label", *FAST, "--out",
                       tmp_path / "m")
    assert code == 0, err
    for name in ("row_id", "customer"):
        assert (f"warning: column {name!r} has a different value in every row, like an ID; "
                f"it cannot help predict new rows") in err
        assert f"--drop {name}" in err
    assert "column 'x' has a different value" not in err  # real numbers are not IDs


def test_drop_and_features_choose_the_columns(capsys, tmp_path):
    frame = table()
    frame.insert(0, "row_id", np.arange(len(frame)))
    path = write_csv(tmp_path, frame)
    code, _, err = cli(capsys, "train", path, "--target", "label", "--drop", "row_id", *FAST,
                       "--out", tmp_path / "d")
    assert code == 0, err
    assert "row_id" not in err
    prep = load_model(tmp_path / "d" / "model.safetensors").preprocessing
    assert prep.columns == ["x", "color", "size"]
    code, _, err = cli(capsys, "train", path, "--target", "label", "--features", "x,size",
                       *FAST, "--out", tmp_path / "f")
    assert code == 0, err
    assert load_model(tmp_path / "f" / "model.safetensors").preprocessing.columns == [
        "x", "size"]
    # predict needs only the columns the model learned from
    new = tmp_path / "new.csv"
    frame[["x", "size"]].head(3).to_csv(new, index=False)
    code, out, err = cli(capsys, "predict", tmp_path / "f" / "model.safetensors", new)
    assert code == 0, err
    assert out.splitlines()[0] == "x,size,predicted_label,probability_no,probability_yes"


@pytest.mark.parametrize("args, message", [
    (["--drop", "nope"], "--drop names 'nope', not a column of the file; the columns are: "
                         "x, color, size, label"),
    (["--features", "x,zz"], "--features names 'zz', not a column of the file"),
    (["--categorical", "qq"], "--categorical names 'qq', not a column of the file"),
    (["--features", "x", "--categorical", "size"],
     "--categorical names 'size', which --features/--drop leave out"),
    (["--drop", "x,color,size"], "no feature columns are left to learn from"),
])
def test_column_choices_that_do_not_fit_the_file(capsys, tmp_path, args, message):
    path = write_csv(tmp_path, table())
    code, _, err = cli(capsys, "train", path, "--target", "label", *args, "--out",
                       tmp_path / "m")
    assert code == 1
    assert message in err
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("args, message", [
    (["--features", "x", "--drop", "size"], "argument --drop: not allowed with argument "
                                            "--features"),
    (["--features", "x,label"], "--features lists the target 'label'"),
    (["--drop", "label"], "--drop lists the target 'label'; it cannot be dropped"),
])
def test_column_options_that_contradict_each_other_are_usage_errors(capsys, tmp_path, args,
                                                                     message):
    code, _, err = cli(capsys, "train", tmp_path / "not-read.csv", "--target", "label",
                       *args)
    assert code == 2
    assert message in err
    assert "no such file" not in err


# -------------------------------------------------------- defaults that hold up
def test_validation_and_early_stopping_are_on_by_default(capsys, tmp_path):
    path = write_csv(tmp_path, table(300))
    code, out, err = cli(capsys, "train", path, "--target", "label", "--epochs", "400",
                         "--patience", "3", "--learning-rate", "0.05", "--out", tmp_path / "m")
    assert code == 0, err
    assert "Best val_loss " in out and "(stopped early); the weights of that epoch are kept" in out
    model = load_model(tmp_path / "m" / "model.safetensors")
    best = model.training["best_epoch"]
    assert model.training["early_stopping"] is True
    assert model.training["epochs_run"] == best + 1 + 3  # patience epochs after the best
    assert model.training["rows"]["validation"] > 0
    # The saved weights are the best epoch's: their val_loss is the best recorded one.
    assert min(model.history["val_loss"]) == model.history["val_loss"][best]


def test_no_early_stopping_runs_every_epoch(capsys, tmp_path):
    path = write_csv(tmp_path, table())
    code, out, err = cli(capsys, "train", path, "--target", "label", "--epochs", "7",
                         "--no-early-stopping", "--out", tmp_path / "m")
    assert code == 0, err
    assert load_model(tmp_path / "m" / "model.safetensors").training["epochs_run"] == 7
    assert "Best val_loss" not in out
    code, out, err = cli(capsys, "train", path, "--target", "label", "--epochs", "3",
                         "--validation-split", "0", "--out", tmp_path / "n")
    assert code == 0, err
    assert "0 for validation" in out


def test_baselines_are_printed_beside_the_test_score(capsys, tmp_path):
    path = write_csv(tmp_path, table(200))
    code, out, err = cli(capsys, "train", path, "--target", "label", *FAST, "--out",
                         tmp_path / "m")
    assert code == 0, err
    line = next(s for s in out.splitlines() if s.startswith("base  "))
    assert line.startswith("base  (fitted on the same training rows) majority class accuracy ")
    assert ", logistic regression accuracy " in line
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    majority = metrics["baselines"]["majority_class"]["accuracy"]
    assert 0 < majority < 1
    assert 0 <= metrics["baselines"]["logistic_regression"]["accuracy"] <= 1


def test_regression_baselines(capsys, tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=100)})
    frame["y"] = 4 * frame["a"] + rng.normal(0, 0.1, 100) + 100.5
    path = write_csv(tmp_path, frame)
    code, out, err = cli(capsys, "train", path, "--target", "y", *FAST, "--out", tmp_path / "m")
    assert code == 0, err
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert metrics["baselines"]["training_mean"]["r2"] < 0.1
    assert metrics["baselines"]["linear_regression"]["r2"] > 0.99
    assert "training mean mse " in out and ", linear regression mse " in out


# --------------------------------------------------- numbers numpy cannot hold
@pytest.mark.parametrize("value, message", [
    (1e200, "column 'x' holds numbers too large to standardize (up to 1e+200); rescale"),
    (-1e200, "column 'x' holds numbers too large to standardize (up to 1e+200)"),
    (float("inf"), "column 'x' row 3: expected a finite number, got inf"),
    (float("-inf"), "column 'x' row 3: expected a finite number, got -inf"),
])
def test_overflowing_and_infinite_columns_are_one_line_errors(capsys, tmp_path, value,
                                                              message):
    frame = table()
    frame.loc[3, "x"] = value
    if abs(value) == 1e200:
        frame.loc[4, "x"] = -value
    path = write_csv(tmp_path, frame)
    code, _, err = cli(capsys, "train", path, "--target", "label", "--test-size", "0",
                       "--validation-split", "0", *FAST, "--out", tmp_path / "m")
    assert code == 1
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Warning" not in err


def test_huge_regression_target_is_one_line_error(capsys, tmp_path):
    frame = pd.DataFrame({"a": np.arange(30.0), "y": [1e200, -1e200] * 15})
    path = write_csv(tmp_path, frame)
    code, _, err = cli(capsys, "train", path, "--target", "y", "--task", "regress", *FAST,
                       "--out", tmp_path / "m")
    assert code == 1
    assert "column 'y' holds numbers too large to standardize" in err
    assert len(err.strip().splitlines()) == 1


def test_no_numpy_warnings_reach_stderr_in_a_real_process(tmp_path):
    frame = table()
    frame.loc[[3, 4], "x"] = [1e200, -1e200]
    path = write_csv(tmp_path, frame)
    proc = process("train", path, "--target", "label", "--out", tmp_path / "m")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert err.strip().splitlines() == [
        "slopes train: error: " + err.strip().split("slopes train: error: ")[1]]
    assert "RuntimeWarning" not in err


@pytest.mark.parametrize("args, message", [
    (["--loss", "mse"], "--loss mse is for regression, but 'label' is a classification target "
                        "(2 classes); use binary_crossentropy or categorical_crossentropy"),
    (["--loss", "mae"], "--loss mae is for regression"),
])
def test_a_regression_loss_on_classes_names_the_option(capsys, tmp_path, args, message):
    path = write_csv(tmp_path, table())
    code, _, err = cli(capsys, "train", path, "--target", "label", *args, *FAST, "--out",
                       tmp_path / "m")
    assert code == 1
    assert message in err


def test_loss_and_task_that_disagree_are_a_usage_error(capsys, tmp_path):
    code, _, err = cli(capsys, "train", tmp_path / "x.csv", "--target", "y", "--task",
                       "classify", "--loss", "mse")
    assert code == 2
    assert "--loss mse does not fit --task classify; choose from binary_crossentropy, " \
           "categorical_crossentropy" in err


def test_softmax_for_two_classes_when_asked(capsys, tmp_path):
    path = write_csv(tmp_path, table())
    code, out, err = cli(capsys, "train", path, "--target", "label", "--loss",
                         "categorical_crossentropy", *FAST, "--out", tmp_path / "m")
    assert code == 0, err
    assert "softmax output), loss categorical_crossentropy" in out
    code, out, err = cli(capsys, "predict", tmp_path / "m" / "model.safetensors", path)
    assert code == 0, err
    assert "probability_no,probability_yes" in out.splitlines()[0]


# -------------------------------------------------------------- no lost files
def test_predict_refuses_to_overwrite_its_input_or_the_model(capsys, tmp_path):
    path = write_csv(tmp_path, table())
    code, _, err = cli(capsys, "train", path, "--target", "label", *FAST, "--out",
                       tmp_path / "m")
    assert code == 0, err
    model = tmp_path / "m" / "model.safetensors"
    before = (path.read_bytes(), model.read_bytes())
    code, _, err = cli(capsys, "predict", model, path, "--out", path)
    assert code == 1
    assert f"--out {path}: is the input file {path}; refusing to overwrite it" in err
    # the same file through another spelling of its path
    other = tmp_path / "m" / ".." / "data.csv"
    code, _, err = cli(capsys, "predict", model, path, "--out", other)
    assert code == 1 and "is the input file" in err
    code, _, err = cli(capsys, "predict", model, path, "--out", model)
    assert code == 1
    assert f"--out {model}: is the model file {model}; refusing to overwrite it" in err
    assert (path.read_bytes(), model.read_bytes()) == before


def test_train_refuses_to_replace_a_model_without_overwrite(capsys, tmp_path):
    path = write_csv(tmp_path, table())
    out = tmp_path / "m"
    assert cli(capsys, "train", path, "--target", "label", *FAST, "--out", out)[0] == 0
    first = (out / "model.safetensors").read_bytes()
    code, _, err = cli(capsys, "train", path, "--target", "label", *FAST, "--seed", "5",
                       "--out", out)
    assert code == 1
    assert (f"--out {out}: already holds model.safetensors; add --overwrite to replace it, "
            "or choose another --out") in err
    assert (out / "model.safetensors").read_bytes() == first
    code, _, err = cli(capsys, "train", path, "--target", "label", *FAST, "--seed", "5",
                       "--out", out, "--overwrite")
    assert code == 0, err
    assert (out / "model.safetensors").read_bytes() != first


def _interrupt_training(tmp_path: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    frame = table(4000, seed=1)
    path = write_csv(tmp_path, frame, "big.csv")
    proc = process("train", path, "--target", "label", "--epochs", "100000", "--batch-size",
                   "8", "--no-early-stopping", "--out", out, *extra)
    # Wait until training runs (its first plain progress line), then press Ctrl-C once.
    line = proc.stdout.readline()
    while line and not line.startswith("epoch"):
        line = proc.stdout.readline()
    assert line, proc.stderr.read()
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=120)
    return proc.returncode, line + rest, err


def test_ctrl_c_writes_nothing_and_exits_130(tmp_path):
    out = tmp_path / "m"
    out.mkdir()
    (out / "model.safetensors").write_bytes(b"a good model")
    code, _, err = _interrupt_training(tmp_path, out, "--overwrite")
    assert code == 130, err
    assert "nothing was written. Add --save-interrupted to keep a partly trained model." in err
    assert sorted(p.name for p in out.iterdir()) == ["model.safetensors"]
    assert (out / "model.safetensors").read_bytes() == b"a good model"


def test_ctrl_c_with_save_interrupted_keeps_the_partial_model(tmp_path):
    out = tmp_path / "m"
    code, _, err = _interrupt_training(tmp_path, out, "--save-interrupted")
    assert code == 0, err
    model = load_model(out / "model.safetensors")
    assert model.training["interrupted"] is True
    assert 1 <= model.training["epochs_run"] < 100000


def test_output_files_respect_the_umask(tmp_path):
    path = write_csv(tmp_path, table())
    for umask, mode in ((0o022, 0o644), (0o077, 0o600), (0o002, 0o664)):
        out = tmp_path / f"m{umask:o}"
        proc = process("train", path, "--target", "label", *FAST, "--out", out,
                       preexec_fn=lambda u=umask: os.umask(u))
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        for file in out.iterdir():
            assert stat.S_IMODE(file.stat().st_mode) == mode, (file, umask)
        pred = tmp_path / f"p{umask:o}.csv"
        proc = process("predict", out / "model.safetensors", path, "--out", pred,
                       preexec_fn=lambda u=umask: os.umask(u))
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert stat.S_IMODE(pred.stat().st_mode) == mode


def test_errors_name_the_folder_the_user_gave(capsys, tmp_path):
    path = write_csv(tmp_path, table())
    blocker = tmp_path / "report.txt"  # a file where the output folder's parent should be
    blocker.write_text("not a folder")
    code, _, err = cli(capsys, "train", path, "--target", "label", *FAST, "--out",
                       blocker / "m")
    assert code == 1
    assert f"--out {blocker / 'm'}" in err
    assert ".tmp" not in err and "Traceback" not in err
    assert blocker.read_text() == "not a folder"


def test_a_closed_pipe_ends_quietly():
    proc = process("lessons", "7")
    proc.stdout.close()  # the reader goes away before slopes writes
    proc.wait(timeout=120)
    err = proc.stderr.read()
    assert err == ""
    assert proc.returncode == 141


def test_a_closed_pipe_ends_quietly_in_a_shell_pipeline():
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(f"'{sys.executable}' -m slopes.cli lessons 7 | head -n 1",
                            shell=True, capture_output=True, text=True, env=env, timeout=120)
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == 1


# ------------------------------------------------------ option values, exit 2
@pytest.mark.parametrize("args, message", [
    (["--epochs", "0"], "argument --epochs: expected an integer >= 1, got '0'"),
    (["--epochs", "ten"], "argument --epochs: expected an integer >= 1, got 'ten'"),
    (["--learning-rate", "nan"], "argument --learning-rate: expected a finite number > 0, "
                                 "got 'nan'"),
    (["--learning-rate", "inf"], "argument --learning-rate: expected a finite number > 0"),
    (["--learning-rate", "-0.1"], "argument --learning-rate: expected a finite number > 0"),
    (["--batch-size", "-1"], "argument --batch-size: expected an integer >= 1, got '-1'"),
    (["--activation", "swish"], "argument --activation: unknown activation 'swish'; choose "
                                "from identity, relu, leaky_relu, sigmoid, tanh"),
    (["--activation", "softmax"], "argument --activation: unknown activation 'softmax'"),
    (["--loss", "hinge"], "argument --loss: unknown loss 'hinge'; choose from"),
    (["--seed", "-1"], "argument --seed: expected an integer from 0 to 4294967295, got '-1'"),
    (["--seed", "99999999999"], "argument --seed: expected an integer from 0 to 4294967295"),
    (["--hidden", "0"], "argument --hidden: layer sizes must be >= 1, got '0'"),
    (["--hidden", "8,-2"], "argument --hidden: layer sizes must be >= 1"),
    (["--hidden", "100000000"], "argument --hidden: layer sizes must be at most 65,536"),
    (["--hidden", "60000,60000"], "argument --hidden: '60000,60000' needs 3,600,000,000 "
                                  "weights between hidden layers; the limit is 100,000,000"),
    (["--patience", "0"], "argument --patience: expected an integer >= 1, got '0'"),
    (["--test-size", "1"], "argument --test-size: expected a number in [0, 1), got '1'"),
    (["--validation-split", "-0.2"], "argument --validation-split: expected a number in "
                                     "[0, 1)"),
    (["--validation-split", "0", "--early-stopping"],
     "--early-stopping watches the validation loss, but --validation-split 0 leaves no "
     "validation rows"),
    (["--task", "cluster"], "argument --task: invalid choice: 'cluster'"),
    (["--drop", ","], "argument --drop: expected column names like a,b, got ','"),
])
def test_bad_option_values_are_usage_errors_before_the_data_is_read(capsys, tmp_path, args,
                                                                    message):
    code, out, err = cli(capsys, "train", tmp_path / "never-read.csv", "--target", "y", *args)
    assert code == 2
    assert message in err, err
    assert "never-read.csv" not in err  # found before the file was opened
    assert err.startswith("usage: slopes train")


@pytest.mark.parametrize("command, args, message", [
    ("demo", ["--epochs", "0"], "argument --epochs: expected an integer >= 1"),
    ("demo", ["--learning-rate", "nan"], "argument --learning-rate: expected a finite number"),
    ("demo", ["--seed", "-3"], "argument --seed: expected an integer from 0"),
    ("demo", ["--loss", "bogus"], "argument --loss: unknown loss 'bogus'"),
    ("explain", ["m", "d.csv", "--row", "-1"], "argument --row: expected a row number >= 0"),
])
def test_bad_option_values_in_other_commands(capsys, command, args, message):
    code, _, err = cli(capsys, command, *args)
    assert code == 2
    assert message in err


def test_held_out_and_predicted_rows_far_outside_the_training_range_are_named(capsys, tmp_path):
    # A held-out row 1e6 standard deviations out is scored, but not without a word: its
    # prediction is an extrapolation that can swamp the score early stopping watches.
    frame = table()
    fit = fit_rows(frame, "label")
    held_out = [r for r in frame.index if r not in fit.index]
    far_row = held_out[0]
    frame.loc[far_row, "x"] = 1e6
    path = write_csv(tmp_path, frame)
    code, out, err = cli(capsys, "train", path, "--target", "label", *FAST,
                         "--out", tmp_path / "m")
    assert code == 0, err
    warnings = [line for line in err.splitlines() if "far outside" in line]
    assert len(warnings) == 1
    assert ("row(s) lie far outside the training rows' range, so their predictions are "
            "extrapolations that weigh on the ") in warnings[0]
    assert f"(row {far_row}: column 'x' = 1000000.0 (" in warnings[0]
    assert "standard deviations from the training mean))" in warnings[0]
    # slopes predict says the same of the rows it is given.
    code, out, err = cli(capsys, "predict", tmp_path / "m", path, "--out", tmp_path / "p.csv")
    assert code == 0, err
    assert err.startswith("warning: 1 row(s) lie far outside the training rows' range, so "
                          f"their predictions are extrapolations (row {far_row}: column 'x' = "
                          "1000000.0 (")
    # Rows within the range get no warning.
    code, out, err = cli(capsys, "predict", tmp_path / "m", write_csv(tmp_path, table(), "ok.csv"))
    assert code == 0 and "far outside" not in err


def test_predict_writes_every_digit_and_copies_the_input_columns(capsys, tmp_path):
    """The input columns come back as read; the probabilities are not rounded to 6 digits."""
    frame = table()
    frame["x"] = frame["x"] + 0.123456789012
    frame["t"] = 1_700_000_000.25 + np.arange(len(frame))  # a Unix time, to the quarter second
    path = write_csv(tmp_path, frame)
    assert cli(capsys, "train", path, "--target", "label", *FAST, "--out", tmp_path / "m")[0] == 0
    code, out, err = cli(capsys, "predict", tmp_path / "m", path)
    assert code == 0, err
    written = pd.read_csv(io.StringIO(out))
    assert written["x"].tolist() == pd.read_csv(path)["x"].tolist()
    assert written["t"].tolist() == frame["t"].tolist()
    model = load_model(tmp_path / "m" / "model.safetensors")
    X = model.preprocessing.transform(pd.read_csv(path), dtype=model.network.dtype)
    p = model.network.predict(X)[:, 0]
    assert written["probability_yes"].tolist() == p.tolist()
