"""Penalties, dropout, clipping and schedules wherever a user sets training (issue 18).

- ``slopes train --l2 --l1 --dropout --schedule --clip-norm --optimizer adamw``:
  checked when the command line is read (exit 2, the message names the value),
  passed to the in-memory and the streamed fit, said in the network's line and
  stored in the model file's training settings;
- ``slopes explain`` shows a slope as its data part plus its penalty part and
  the update at the schedule's rate, from the model's own settings;
- model files: the layers' ``dropout``/``l1``/``l2`` and the training's
  settings round trip, are checked on load, and files without them (an older
  slopes') still load.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import slopes
from cli_run import cli
from model_file_parts import read_parts, write_parts
from slopes.io import ModelFileError, load_model, save

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

OPTIONS = ["--l2", "0.01", "--dropout", "0.2", "--schedule", "step:3,0.5", "--clip-norm", "1"]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    n = 80
    x1, x2 = rng.normal(size=n).round(3), rng.uniform(0, 10, size=n).round(2)
    path = tmp_path_factory.mktemp("data") / "c.csv"
    pd.DataFrame({"x1": x1, "x2": x2, "label": np.where(x1 - 0.1 * x2 + 0.5 > 0, "yes", "no")}
                 ).to_csv(path, index=False)
    return path


def _train(capsys, data: Path, out: Path, *extra: str) -> str:
    code, stdout, stderr = cli(capsys, "train", data, "--target", "label", "--epochs", "7",
                               "--hidden", "5", "--out", out, *extra)
    assert code == 0, stderr
    return stdout


# ------------------------------------------------------------ command line
@pytest.mark.parametrize("args, message", [
    (["--l2", "-0.1"], "argument --l2: expected a finite number >= 0, got '-0.1'"),
    (["--l2", "lots"], "argument --l2: expected a number >= 0, got 'lots'"),
    (["--l1", "nan"], "argument --l1: expected a finite number >= 0, got 'nan'"),
    (["--dropout", "1"], "argument --dropout: expected a fraction of the nodes to drop, a "
                         "number in [0, 1), got '1'"),
    (["--dropout", "half"], "argument --dropout: expected a fraction of the nodes to drop, a "
                            "number in [0, 1), got 'half'"),
    (["--schedule", "linear:5"], "argument --schedule: unknown schedule 'linear:5'; expected "
                                 "one of step:STEP_SIZE[,GAMMA]"),
    (["--schedule", "step:0"], "argument --schedule: schedule 'step:0': step_size must be an "
                               "int >= 1, got 0"),
    (["--clip-norm", "0"], "argument --clip-norm: expected a finite number > 0, got '0'"),
    (["--optimizer", "rmsprop"], "argument --optimizer: unknown optimizer 'rmsprop'; choose "
                                 "from sgd, adam, adamw"),
    (["--schedule", "plateau:0.5,2", "--validation-split", "0"],
     "--schedule plateau watches val_loss, but --validation-split 0 leaves no validation rows"),
])
def test_bad_training_options_are_usage_errors(capsys, data, tmp_path, args, message):
    code, _, stderr = cli(capsys, "train", data, "--target", "label", "--out", tmp_path / "m",
                          *args)
    assert code == 2
    assert message in stderr, stderr
    assert not (tmp_path / "m").exists()


def test_help_gives_the_training_options_and_their_defaults(capsys):
    code, stdout, _ = cli(capsys, "train", "--help")
    assert code == 0
    text = " ".join(stdout.split())
    for phrase in ("--l2 LAMBDA", "--l1 LAMBDA", "--dropout RATE", "--clip-norm MAX",
                   "--schedule SCHEDULE", "sgd, adam, adamw (default adam",
                   "(default 0: none)", "(default: no clipping)",
                   "(default none: the same rate every epoch)", "warmup:5+cosine:100"):
        assert phrase in text, phrase


def _check_model(path: Path) -> None:
    model = load_model(path)
    training = model.training
    assert training["l2"] == 0.01 and training["l1"] == 0.0
    assert training["dropout"] == 0.2 and training["clip_norm"] == 1.0
    assert training["schedule"] == {"schedule": "step", "step_size": 3, "gamma": 0.5}
    assert training["optimizer"] == "adamw"
    assert [layer.dropout for layer in model.network.layers] == [0.2, 0.0]
    history = model.history
    epochs = len(history["loss"])
    assert len(history["penalty"]) == epochs and all(p > 0 for p in history["penalty"])
    assert history["lr"] == [0.01 * 0.5 ** (e // 3) for e in range(epochs)]


@pytest.mark.parametrize("stream", [False, True], ids=["in memory", "streamed"])
def test_train_with_the_options_writes_them_to_the_model(capsys, data, tmp_path, stream):
    out = tmp_path / "m"
    stdout = _train(capsys, data, out, *OPTIONS, "--optimizer", "adamw", "--no-early-stopping",
                    *(["--stream"] if stream else []))
    line = next(line for line in stdout.splitlines() if line.startswith("Network "))
    assert ("optimizer adamw, l2 0.01, dropout on hidden layers 0.2, clip-norm 1, schedule "
            "learning rate x 0.5 every 3 epoch(s)") in line
    assert "penalty:" in stdout and "lr: 0.005" in stdout
    _check_model(out / "model.safetensors")


def test_without_the_options_nothing_changes(capsys, data, tmp_path):
    stdout = _train(capsys, data, tmp_path / "m")
    line = next(line for line in stdout.splitlines() if line.startswith("Network "))
    assert line.endswith("loss binary_crossentropy, optimizer adam; predicting 2 classes "
                         "(no, yes).")
    model = load_model(tmp_path / "m" / "model.safetensors")
    assert "penalty" not in model.history
    assert model.training["l2"] == 0.0 and model.training["schedule"] is None
    arch = json.loads(model.metadata["architecture"])
    assert all(set(layer) == {"n_in", "n_out", "activation", "bias"} for layer in arch["layers"])


def test_explain_uses_the_models_penalty_clipping_and_schedule(capsys, data, tmp_path):
    _train(capsys, data, tmp_path / "m", "--l2", "0.05", "--clip-norm", "0.01", "--schedule",
           "step:2,0.5", "--no-early-stopping")
    code, stdout, stderr = cli(capsys, "explain", tmp_path / "m", data, "--row", "0",
                               "--out", tmp_path / "e")
    assert code == 0, stderr
    text = " ".join(stdout.split())
    assert "penalty_slope" in stdout
    assert ("so each weight's slope is the data part, node_value x activation_slope x "
            "downstream_slope, plus the penalty part 2 x l2 x weight (l2 = 0.05)") in text
    assert "The model was trained with clip_norm 0.01: on this row the slopes together are " \
           "longer than that, so every slope is multiplied by" in text
    assert ("the updates below use the rate of epoch 7, the epoch of the saved weights, "
            "0.00125") in text
    # The table's penalty part is 2 x l2 x weight, row by row.
    header = next(line.split() for line in stdout.splitlines() if "penalty_slope" in line
                  and line.split()[0] == "layer")
    rows = [line.split() for line in stdout.splitlines() if re.match(r"\s*\d+ ", line)
            and len(line.split()) == len(header)]
    assert len(rows) >= 4
    for row in rows:
        cell = dict(zip(header, row, strict=True))
        weight, penalty = float(cell["weight"]), float(cell["penalty_slope"])
        expected = 0.0 if cell["from"] == "bias" else 2 * 0.05 * weight  # biases: no penalty
        assert penalty == pytest.approx(expected, rel=2e-3, abs=1e-4)


# --------------------------------------------------------------- model files
def _net() -> slopes.Network:
    return slopes.Network([slopes.Dense(3, 4, activation="tanh", seed=0, dropout=0.25, l2=0.5),
                           slopes.Dense(4, 2, activation="relu", seed=1, l1=0.1),
                           slopes.Dense(2, 1, activation="sigmoid", seed=2)])


TRAINING = {"loss": "binary_crossentropy", "l1": 0.0, "l2": 0.01, "penalize_bias": False,
            "dropout": 0.25, "clip_norm": 1.0, "clip_value": None,
            "schedule": {"schedule": "cosine", "T_max": 10, "eta_min": 0.0}}


def test_layer_and_training_settings_round_trip(tmp_path):
    net = _net()
    save(net, tmp_path / "m.safetensors", training=TRAINING,
         history={"loss": [0.5], "penalty": [0.1], "lr": [0.01]})
    model = load_model(tmp_path / "m.safetensors")
    layers = model.network.layers
    assert [(layer.dropout, layer.l1, layer.l2) for layer in layers] == [
        (0.25, None, 0.5), (0.0, 0.1, None), (0.0, None, None)]
    assert model.training == TRAINING
    assert model.history == {"loss": [0.5], "penalty": [0.1], "lr": [0.01]}
    x = np.random.default_rng(0).normal(size=(5, 3))
    assert np.array_equal(model.network.predict(x), net.predict(x))


def test_a_file_without_the_new_entries_still_loads(tmp_path):
    """A file as an older slopes wrote it: no layer dropout/l1/l2, no training penalty."""
    path = save(_net(), tmp_path / "m.safetensors", training=TRAINING)
    tensors, metadata = read_parts(path)
    arch = json.loads(metadata["architecture"])
    for layer in arch["layers"]:
        for key in ("dropout", "l1", "l2"):
            layer.pop(key, None)
    metadata["architecture"] = json.dumps(arch)
    metadata["training"] = json.dumps({"loss": "binary_crossentropy", "optimizer": "adam",
                                       "learning_rate": 0.01})
    write_parts(path, tensors, metadata)
    model = load_model(path)
    assert [(layer.dropout, layer.l1, layer.l2) for layer in model.network.layers] == [
        (0.0, None, None)] * 3
    assert "l2" not in model.training


def _with(path: Path, key: str, change) -> None:
    tensors, metadata = read_parts(path)
    value = json.loads(metadata[key])
    change(value)
    metadata[key] = json.dumps(value)
    write_parts(path, tensors, metadata)


@pytest.mark.parametrize("key, change, message", [
    ("architecture", lambda a: a["layers"][0].update(dropout=1.5),
     r"architecture layer 0 dropout must be a fraction of the nodes to drop, a number in "
     r"\[0, 1\), got 1.5"),
    ("architecture", lambda a: a["layers"][0].update(dropout="0.2"),
     r"architecture layer 0 dropout must be a fraction .*, got '0.2'"),
    ("architecture", lambda a: a["layers"][2].update(dropout=0.5),
     "architecture layer 2 is the output layer and has dropout 0.5; dropout belongs to hidden "
     "layers only"),
    ("architecture", lambda a: a["layers"][1].update(l1=-0.1),
     r"architecture layer 1 l1 must be a number >= 0 or null \(the fit's\), got -0.1"),
    ("architecture", lambda a: a["layers"][0].update(l2=True),
     r"architecture layer 0 l2 must be a number >= 0 or null \(the fit's\), got True"),
    ("training", lambda t: t.update(l2="0.01"),
     "training l2 must be a number >= 0, got '0.01'"),
    ("training", lambda t: t.update(l1=None), "training l1 must be a number >= 0, got None"),
    ("training", lambda t: t.update(dropout=-0.5),
     r"training dropout must be a fraction of the nodes to drop, a number in \[0, 1\), got -0.5"),
    ("training", lambda t: t.update(clip_norm=0),
     r"training clip_norm must be null \(no clipping\) or a number > 0, got 0"),
    ("training", lambda t: t.update(clip_value="1"),
     r"training clip_value must be null \(no clipping\) or a number > 0, got '1'"),
    ("training", lambda t: t.update(penalize_bias="yes"),
     "training penalize_bias must be true or false, got 'yes'"),
    ("training", lambda t: t.update(schedule="step:10"),
     "training schedule must be null or an object naming its rule, like "
     r'\{"schedule": "step", "step_size": 10\}, got \'step:10\''),
    ("training", lambda t: t.update(schedule={"step_size": 10}),
     "training schedule must be null or an object naming its rule"),
])
def test_bad_training_entries_are_refused_on_load(tmp_path, key, change, message):
    path = save(_net(), tmp_path / "m.safetensors", training=TRAINING)
    _with(path, key, change)
    with pytest.raises(ModelFileError, match=message) as info:
        load_model(path)
    assert str(info.value).startswith(f"{path}: ")


def test_saving_refuses_training_settings_load_would_refuse(tmp_path):
    with pytest.raises(ValueError, match=r"training l2 must be a number >= 0, got -1; load "
                                         "would refuse the file"):
        save(_net(), tmp_path / "m.safetensors", training={"l2": -1})
    assert not (tmp_path / "m.safetensors").exists()
