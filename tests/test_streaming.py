"""Training on streams of batches (slopes.streaming) and ``slopes train --stream``."""

from __future__ import annotations

import re

import numpy as np
import pytest

import slopes
from slopes.callbacks import Callback, EarlyStopping
from slopes.optimizers import SGD, Adam


def _data(n: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(float)
    return X, y


def _net(seed: int = 0) -> slopes.Network:
    return slopes.Network.mlp([4, 8, 1], activation="relu", output="sigmoid", seed=seed)


def _batches(X: np.ndarray, y: np.ndarray, size: int, w: np.ndarray | None = None):
    def make():
        for start in range(0, len(X), size):
            sl = slice(start, start + size)
            yield (X[sl], y[sl]) if w is None else (X[sl], y[sl], w[sl])
    return make


def _max_diff(a: slopes.Network, b: slopes.Network) -> float:
    return max(float(np.abs(p - q).max()) for p, q in zip(a.parameters(), b.parameters(),
                                                         strict=True))


FIT = dict(loss="binary_crossentropy", epochs=4, verbose=0, metrics=["accuracy"])


# ------------------------------------------------------------ same as arrays
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "momentum"])
@pytest.mark.parametrize("weighted", [False, True])
def test_stream_gives_the_weights_of_arrays(optimizer: str, weighted: bool) -> None:
    X, y = _data()
    w = np.random.default_rng(1).uniform(0, 2, size=len(X)) if weighted else None

    def opt():
        return SGD(0.1, momentum=0.9) if optimizer == "momentum" else optimizer

    a, b = _net(), _net()
    ha = a.fit(X, y, optimizer=opt(), batch_size=25, shuffle=False, sample_weight=w,
               validation_data=(X[:20], y[:20]), **FIT)
    hb = b.fit(_batches(X, y, 25, w), optimizer=opt(), validation_data=(X[:20], y[:20]), **FIT)
    assert _max_diff(a, b) <= 1e-12
    assert hb.epoch == ha.epoch
    for key, values in ha.history.items():
        np.testing.assert_allclose(hb.history[key], values, rtol=1e-12, atol=0)
    assert hb.params["stream"] is True


def test_a_list_of_batches_is_read_every_epoch() -> None:
    X, y = _data()
    a, b = _net(), _net()
    a.fit(X, y, batch_size=40, shuffle=False, **FIT)
    b.fit(list(_batches(X, y, 40)()), **FIT)
    assert _max_diff(a, b) <= 1e-12


def test_a_generator_trains_one_epoch() -> None:
    X, y = _data()
    a, b = _net(), _net()
    a.fit(X, y, batch_size=30, shuffle=False, **{**FIT, "epochs": 1})
    history = b.fit(_batches(X, y, 30)(), **{**FIT, "epochs": 1})
    assert _max_diff(a, b) <= 1e-12
    assert len(history.history["loss"]) == 1


def test_a_one_shot_iterator_refuses_more_epochs() -> None:
    X, y = _data()
    with pytest.raises(ValueError, match=r"one-shot iterator \(generator\).*epochs=3; pass a "
                                         r"callable that returns a fresh iterator"):
        _net().fit(_batches(X, y, 30)(), **{**FIT, "epochs": 3})


def test_batches_of_different_sizes_grow_the_workspace() -> None:
    X, y = _data()
    cuts = [0, 5, 50, 51, 120]
    pieces = [(X[a:b], y[a:b]) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    a, b = _net(), _net()
    for piece in pieces:  # one fit per batch: the same steps as the stream's
        a.fit(*piece, optimizer=SGD(0.1), epochs=1, verbose=0, loss="binary_crossentropy")
    b.fit(pieces, optimizer=SGD(0.1), epochs=1, verbose=0, loss="binary_crossentropy")
    assert _max_diff(a, b) <= 1e-12


# ------------------------------------------------- history, callbacks, validation
def test_validation_stream_matches_validation_arrays() -> None:
    X, y = _data()
    Xv, yv = _data(40, seed=5)
    a, b = _net(), _net()
    ha = a.fit(_batches(X, y, 32), validation_data=(Xv, yv), **FIT)
    hb = b.fit(_batches(X, y, 32), validation_data=_batches(Xv, yv, 7), **FIT)
    np.testing.assert_allclose(hb.history["val_loss"], ha.history["val_loss"], rtol=1e-12)
    np.testing.assert_allclose(hb.history["val_accuracy"], ha.history["val_accuracy"],
                               rtol=1e-12)


def test_sse_validation_stream_sums_the_batches() -> None:
    X, y = _data()
    net = slopes.Network.mlp([4, 3, 1], seed=0)
    ha = net.copy().fit(_batches(X, y, 32), loss="sse", validation_data=(X[:30], y[:30]),
                        verbose=0, learning_rate=0.001)
    hb = net.copy().fit(_batches(X, y, 32), loss="sse",
                        validation_data=_batches(X[:30], y[:30], 8), verbose=0,
                        learning_rate=0.001)
    np.testing.assert_allclose(hb.history["val_loss"], ha.history["val_loss"], rtol=1e-12)


def test_early_stopping_and_callbacks_see_every_batch() -> None:
    X, y = _data()

    class Count(Callback):
        def on_train_begin(self, logs):
            self.batches, self.epochs = 0, 0

        def on_batch_end(self, batch, logs):
            self.batches += 1

        def on_epoch_end(self, epoch, logs):
            self.epochs += 1

    count = Count()
    stopper = EarlyStopping(monitor="val_loss", patience=2)
    net = _net()
    history = net.fit(_batches(X, y, 40), loss="binary_crossentropy", optimizer="sgd",
                      learning_rate=50.0, epochs=50, validation_data=(X, y),
                      callbacks=[stopper, count], verbose=0)
    assert stopper.stopped_epoch is not None and len(history.epoch) < 50
    assert count.epochs == len(history.epoch) and count.batches == 3 * count.epochs
    # restore_best_weights: the network ends with the best epoch's val_loss.
    assert net.evaluate(X, y, loss="binary_crossentropy") == pytest.approx(stopper.best)


def test_divergence_names_epoch_and_batch_and_keeps_finite_weights() -> None:
    X, y = _data()
    X = X * 1e150
    net = slopes.Network.mlp([4, 8, 1], seed=0)
    with pytest.raises(slopes.TrainingDiverged, match=r"epoch 0, batch 0") as info:
        net.fit(_batches(X, y, 40), loss="mse", learning_rate=1e10, epochs=2, verbose=0)
    assert info.value.batch == 0
    assert all(np.isfinite(p).all() for p in net.parameters())


def test_a_stream_with_every_weight_zero_is_refused() -> None:
    X, y = _data()
    with pytest.raises(ValueError, match="every batch of epoch 0 weighs 0"):
        _net().fit(_batches(X, y, 40, np.zeros(len(X))), **FIT)


def test_zero_weight_batches_are_skipped_like_arrays() -> None:
    X, y = _data()
    w = np.ones(len(X))
    w[40:80] = 0
    a, b = _net(), _net()
    a.fit(X, y, batch_size=40, shuffle=False, sample_weight=w, **FIT)
    b.fit(_batches(X, y, 40, w), **FIT)
    assert _max_diff(a, b) <= 1e-12


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize(("batch", "message", "error"), [
    ((np.ones((5, 3)), np.ones(5)), "batch 2: X has 3 features, but the network expects 4",
     ValueError),
    ((np.ones((5, 4)), np.ones(4)), "batch 2: y has 4 rows, but X has 5 samples", ValueError),
    ((np.ones((5, 4)), np.full(5, 2.0)), "batch 2: .*binary_crossentropy", ValueError),
    ((np.full((5, 4), np.nan), np.ones(5)), "batch 2: X contains 20 NaN", ValueError),
    ((np.array([["a"] * 4] * 5), np.ones(5)), "batch 2: X must contain numbers only",
     TypeError),
    ((np.ones((5, 4)), np.ones(5), -np.ones(5)), "batch 2: sample_weight must be >= 0",
     ValueError),
    ((np.ones((5, 4)),), r"batch 2: expected a pair \(X_batch, y_batch\) or a triple "
                         r".*got a tuple of 1", TypeError),
    (np.ones((5, 4)), r"batch 2: expected a pair .*got an array of shape \(5, 4\)", TypeError),
])
def test_a_bad_batch_is_named(batch: object, message: str, error: type) -> None:
    X, y = _data()
    good = list(_batches(X, y, 50)())[:2]
    with pytest.raises(error) as info:
        _net().fit([*good, batch], **FIT)
    assert re.search(message, str(info.value)), str(info.value)


def test_bad_validation_batch_is_named() -> None:
    X, y = _data()
    with pytest.raises(ValueError, match="validation batch 0: X has 2 features"):
        _net().fit(_batches(X, y, 50), validation_data=lambda: iter([(X[:5, :2], y[:5])]),
                     **FIT)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"batch_size": 10}, "batch_size=10 applies to arrays, not to a stream of batches"),
    ({"sample_weight": np.ones(3)}, "sample_weight applies to arrays.*third item"),
    ({"validation_split": 0.2}, r"validation_split=0.2 needs arrays to split"),
    ({"validation_data": 5}, "validation_data must be a pair"),
    ({"epochs": 0}, "epochs"),
    ({"verbose": 7}, "verbose must be"),
])
def test_array_only_options_are_refused_for_streams(kwargs: dict, message: str) -> None:
    X, y = _data()
    with pytest.raises(ValueError, match=message):
        _net().fit(_batches(X, y, 50), **{**FIT, **kwargs})


def test_empty_stream_and_bad_callable() -> None:
    with pytest.raises(ValueError, match="the data gave no batches in epoch 0"):
        _net().fit(lambda: iter([]), **FIT)
    with pytest.raises(TypeError, match="must return an iterator of .*returned a int"):
        _net().fit(lambda: 3, **FIT)


def test_y_none_with_an_array_still_says_y_is_missing() -> None:
    X, _ = _data()
    with pytest.raises(TypeError, match="y must be an array of numbers, got None"):
        _net().fit(X, loss="binary_crossentropy", verbose=0)
    with pytest.raises(TypeError, match=r"batch 0: expected a pair .*got a list of 4 \(fit "
                                        r"was given no y, so it reads X as a stream of "
                                        r"batches; to train on arrays, pass y too\)"):
        _net().fit(X.tolist(), loss="binary_crossentropy", verbose=0)


# ------------------------------------------------------------ train_on_batch
def test_train_on_batch_is_one_fit_step_and_keeps_adam_state() -> None:
    X, y = _data()
    a, b = _net(), _net()
    adam = Adam(0.01)
    losses = [a.train_on_batch(X[:60], y[:60], optimizer="adam", learning_rate=0.01,
                               loss="binary_crossentropy"),
              a.train_on_batch(X[60:], y[60:], optimizer="adam", learning_rate=0.01,
                               loss="binary_crossentropy")]
    history = b.fit([(X[:60], y[:60]), (X[60:], y[60:])], optimizer=adam, epochs=1,
                    loss="binary_crossentropy", verbose=0)
    assert _max_diff(a, b) <= 1e-12
    assert isinstance(losses[0], float)
    assert a.batch_optimizer.state[0]["t"] == 2  # the moments carried over
    assert np.mean(losses) == pytest.approx(history.history["loss"][0], rel=1e-12)


def test_train_on_batch_reset_and_sample_weight() -> None:
    X, y = _data()
    w = np.random.default_rng(2).uniform(0, 1, len(X))
    a, b = _net(), _net()
    a.train_on_batch(X, y, optimizer="adam", loss="binary_crossentropy")
    a.reset_optimizer()
    assert a.batch_optimizer is None
    a.train_on_batch(X, y, w, optimizer="adam", loss="binary_crossentropy")
    b.fit(X, y, optimizer="adam", loss="binary_crossentropy", verbose=0, shuffle=False)
    b.fit(X, y, optimizer="adam", loss="binary_crossentropy", verbose=0, shuffle=False,
          sample_weight=w)
    assert _max_diff(a, b) <= 1e-12
    # Another learning rate is another optimizer, started afresh.
    a.train_on_batch(X, y, optimizer="adam", learning_rate=0.5, loss="binary_crossentropy")
    assert a.batch_optimizer.state[0]["t"] == 1


def test_train_on_batch_bad_input_and_divergence() -> None:
    X, y = _data()
    net = _net()
    with pytest.raises(ValueError, match="X has 2 features, but the network expects 4"):
        net.train_on_batch(X[:, :2], y, loss="binary_crossentropy")
    with pytest.raises(ValueError, match="sample_weight must be 1-D"):
        net.train_on_batch(X, y, np.ones(3), loss="binary_crossentropy")
    big = slopes.Network.mlp([4, 8, 1], seed=0)
    before = [p.copy() for p in big.parameters()]
    with pytest.raises(slopes.TrainingDiverged):
        big.train_on_batch(X * 1e200, y, learning_rate=1e10)
    assert all(np.array_equal(p, q) for p, q in zip(big.parameters(), before, strict=True))


# ------------------------------------------------------------ slopes train --stream
pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from slopes import cli  # noqa: E402
from slopes.commands import chunks, train_stream  # noqa: E402
from slopes.commands.chunks import row_hash, split_masks  # noqa: E402
from slopes.commands.train_stream import stream_reason  # noqa: E402
from slopes.preprocessing import TabularPreprocessor  # noqa: E402


def run(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "slopes.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("slopes train: error: ")
    assert "Traceback" not in result.stderr
    return lines[0]


def _frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n).round(3)
    x2 = rng.uniform(0, 10, size=n).round(2)
    color = rng.choice(["red", "green", "blue"], size=n)
    size = rng.integers(1, 4, size=n)
    score = 2 * x1 + (color == "red") - 0.2 * (x2 - 5) + 0.3 * size
    return pd.DataFrame({"x1": x1, "x2": x2, "color": color, "size": size,
                         "label": np.where(score > 0.5, "yes", "no"),
                         "value": (3 * x1 + x2 + rng.normal(0, 0.1, n)).round(4)})


@pytest.fixture(scope="module")
def csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("stream") / "rows.csv"
    _frame().to_csv(path, index=False)
    return path


TRAIN = ("--target", "label", "--drop", "value", "--categorical", "size", "--hidden", "6",
         "--epochs", "15", "--chunk-rows", "25", "--seed", "3")


def test_stream_trains_in_chunks_and_predict_reads_the_model(csv: Path, tmp_path: Path) -> None:
    result = run("train", csv, *TRAIN, "--stream", "--out", tmp_path / "m")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Streaming rows.csv (--stream): reading it in chunks of 25 rows" in out
    assert "Read 200 rows in 8 chunk(s) of at most 25 rows" in out  # never the file whole
    assert "chosen by a hash of the row number, seed 3" in out
    assert "test  loss" in out and "majority class accuracy" in out
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert metrics["stream"] is True and metrics["test"]["accuracy"] > 0.6
    rows = tmp_path / "rows.csv"
    _frame().drop(columns="value").to_csv(rows, index=False)
    predicted = run("predict", tmp_path / "m" / "model.safetensors", rows, "--out",
                    tmp_path / "p.csv")
    assert predicted.returncode == 0, predicted.stderr
    table = pd.read_csv(tmp_path / "p.csv")
    assert (table["predicted_label"] == table["label"]).mean() > 0.7
    assert {"probability_no", "probability_yes"} <= set(table.columns)


def test_streamed_preprocessing_is_the_in_memory_one_on_the_training_rows(
        csv: Path, tmp_path: Path) -> None:
    result = run("train", csv, *TRAIN, "--stream", "--out", tmp_path / "m")
    assert result.returncode == 0, result.stderr
    stored = slopes.io.load_model(tmp_path / "m" / "model.safetensors").preprocessing
    frame = _frame().drop(columns="value")
    train, _, _ = split_masks(np.arange(len(frame)), 3, 0.1, 0.1)
    memory = TabularPreprocessor(target="label", categorical=["size"], task="classify",
                                 standardize_target=False).fit(frame[train])
    a, b = stored.to_dict(), memory.to_dict()
    for name, stats in b["numeric"].items():
        for key in ("mean", "scale"):
            assert a["numeric"][name][key] == pytest.approx(stats[key], rel=1e-12)
    assert {k: v for k, v in a.items() if k != "numeric"} == \
        {k: v for k, v in b.items() if k != "numeric"}


def test_stream_regression_and_fill_missing(tmp_path: Path) -> None:
    frame = _frame().drop(columns="label")
    frame.loc[[7, 120], "x2"] = np.nan
    frame.loc[[33], "color"] = np.nan
    path = tmp_path / "reg.csv"
    frame.to_csv(path, index=False)
    result = run("train", path, "--target", "value", "--epochs", "40", "--chunk-rows", "30",
                 "--stream", "--fill-missing", "--out", tmp_path / "m")
    assert result.returncode == 0, result.stderr
    assert "regression" in result.stdout and "training mean mse" in result.stdout
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert metrics["test"]["r2"] > 0.8
    stored = slopes.io.load_model(tmp_path / "m" / "model.safetensors").preprocessing
    assert "(missing)" in stored.categories["color"] and stored.standardize_target


def test_the_hash_holdout_is_deterministic_and_near_the_fraction() -> None:
    rows = np.arange(200_000)
    train, val, test = split_masks(rows, 7, 0.1, 0.2)
    assert test.mean() == pytest.approx(0.1, abs=0.003)
    assert val.mean() == pytest.approx(0.2 * 0.9, abs=0.003)
    assert not (train & test).any() and not (val & test).any() and (train | val | test).all()
    again = split_masks(rows, 7, 0.1, 0.2)
    assert all(np.array_equal(p, q) for p, q in zip((train, val, test), again, strict=True))
    # Chunks do not matter: a row's part depends on its number and the seed only.
    assert np.array_equal(row_hash(rows[1000:2000], 7), row_hash(rows, 7)[1000:2000])
    other = split_masks(rows, 8, 0.1, 0.2)[2]
    assert 0.005 < (other != test).mean() < 0.3


def test_big_files_and_parquet_stream_by_themselves(tmp_path: Path) -> None:
    import argparse

    big = tmp_path / "big.csv"
    with open(big, "wb") as f:
        f.truncate(1_100_000_000)  # sparse: takes no disk
    small = tmp_path / "small.csv"
    small.write_text("a,b\n1,2\n")

    def reason(path: Path, stream: bool = False) -> str | None:
        return stream_reason(argparse.Namespace(data=str(path), stream=stream))

    assert reason(big) == "1.1 GB, over the 1 GB threshold"
    assert reason(small) is None
    assert reason(small, stream=True) == "--stream"
    assert reason(tmp_path / "x.parquet") == "a Parquet file"


def test_parquet_streams(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow", reason="pyarrow is not installed (slopes[all] adds it)")
    path = tmp_path / "rows.parquet"
    _frame().to_parquet(path)
    result = run("train", path, *TRAIN, "--out", tmp_path / "m")
    assert result.returncode == 0, result.stderr
    assert "Streaming rows.parquet (a Parquet file)" in result.stdout
    assert "Read 200 rows in 8 chunk(s)" in result.stdout
    csv = tmp_path / "rows.csv"
    _frame().drop(columns="value").to_csv(csv, index=False)
    predicted = run("predict", tmp_path / "m" / "model.safetensors", csv)
    assert predicted.returncode == 0, predicted.stderr


def test_parquet_without_pyarrow_names_the_extra(tmp_path: Path, monkeypatch, capsys) -> None:
    path = tmp_path / "rows.parquet"
    path.write_bytes(b"PAR1")

    def missing(module: str, purpose: str):
        if module.startswith("pyarrow"):
            raise ImportError("no pyarrow")
        return __import__(module)

    monkeypatch.setattr(chunks, "require", missing)
    code = cli.main(["train", str(path), "--target", "label", "--out", str(tmp_path / "m")])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err == (f"slopes train: error: {path}: reading .parquet files needs pyarrow, which "
                   "is not installed; install it with: pip install 'slopes[all]'")


def test_validation_rows_beyond_the_memory_cap_train(csv: Path, tmp_path: Path, monkeypatch,
                                                    capsys) -> None:
    monkeypatch.setattr(train_stream, "VALIDATION_BYTES", 8 * 9 * 10)  # 10 rows of 9 features
    monkeypatch.setenv("MPLBACKEND", "Agg")
    code = cli.main(["train", str(csv), *TRAIN, "--validation-split", "0.3", "--stream",
                     "--out", str(tmp_path / "m")])
    assert code == 0
    out = capsys.readouterr().out
    match = re.search(r"([\d,]+) rows to train on, ([\d,]+) for validation \(validation capped",
                      out)
    assert match, out
    assert int(match.group(2)) <= 15
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert metrics["validation"]["rows"] == int(match.group(2))


# --------------------------------------------------------------- bad files
def _write(tmp_path: Path, frame: pd.DataFrame, name: str = "bad.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("change", "args", "message"), [
    (lambda f: f, ("--target", "nope"),
     "bad.csv: no column 'nope' to predict; the columns are: x1, x2, color, size, label, value"),
    (lambda f: f.assign(x2=f.x2.astype(object).where(f.index != 47, "abc")),
     ("--target", "label"),
     "bad.csv: column 'x2' holds numbers except in 1 cell(s) (row 47: 'abc'); fix or empty "
     "those cells, or list the column as categorical to one-hot encode it"),
    (lambda f: f.assign(x1=f.x1.where(f.index != 61)), ("--target", "label"),
     "bad.csv: missing values in column 'x1' (1 row, first row 61); fill or drop them, or "
     "use --fill-missing"),
    (lambda f: f.assign(label=f.label.where(~f.index.isin([5, 90]))), ("--target", "label"),
     "bad.csv: the target column 'label' is empty in 2 row(s) (rows 5, 90); drop those rows "
     "first"),
    (lambda f: f.assign(x1=f.x1.where(f.index != 150, np.inf)), ("--target", "label"),
     "bad.csv: column 'x1' row 150: expected a finite number, got inf"),
    (lambda f: f.assign(value=f.value.astype(object).where(f.index != 3, "abc")),
     ("--target", "value", "--task", "regress"),
     "bad.csv: target column 'value' must hold numbers for regression, got 'abc' in row 3"),
    (lambda f: f.assign(label="yes"), ("--target", "label", "--task", "classify"),
     "bad.csv: target column 'label' has 1 class(es) in the training rows (yes); "
     "classification needs at least 2"),
    (lambda f: f, ("--target", "label", "--loss", "mse"),
     "--loss mse is for regression, but 'label' is a classification target (2 classes)"),
])
def test_bad_input_stops_with_one_line(tmp_path: Path, change, args: tuple,
                                       message: str) -> None:
    path = _write(tmp_path, change(_frame()))
    result = run("train", path, *args, "--stream", "--chunk-rows", "20", "--out",
                 tmp_path / "m")
    line = one_line_error(result)
    assert message in line, line
    assert not (tmp_path / "m").exists()


def test_bad_csv_files(tmp_path: Path) -> None:
    twice = tmp_path / "twice.csv"
    twice.write_text("a,a,label\n1,2,x\n")
    out = ("--out", tmp_path / "m")
    assert "the header names the column 'a' twice" in one_line_error(
        run("train", twice, "--target", "label", "--stream", *out))
    empty = tmp_path / "empty.csv"
    empty.write_text("a,label\n")
    assert "has a header (a, label) but no data rows" in one_line_error(
        run("train", empty, "--target", "label", "--stream", *out))
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,label\n" + "1,x\n" * 30 + "1,2,3\n")
    assert "not a well-formed CSV file" in one_line_error(
        run("train", ragged, "--target", "label", "--stream", "--chunk-rows", "10", *out))
    assert "no such file" in one_line_error(
        run("train", tmp_path / "none.csv", "--target", "label", "--stream", *out))
    assert not (tmp_path / "m").exists()


def test_stream_names_held_out_rows_far_outside_the_training_range(tmp_path: Path) -> None:
    frame = _frame()
    _, _, test = split_masks(np.arange(len(frame)), 3, 0.1, 0.1)
    far_row = int(np.flatnonzero(test)[0])
    frame.loc[far_row, "x1"] = 1e6
    path = tmp_path / "far.csv"
    frame.to_csv(path, index=False)
    result = run("train", path, *TRAIN, "--stream", "--out", tmp_path / "m")
    assert result.returncode == 0, result.stderr
    assert (f"warning: 1 test row(s) lie far outside the training rows' range, so their "
            f"predictions are extrapolations that weigh on the test score (row {far_row}: "
            "column 'x1' = 1000000.0 (") in result.stderr
