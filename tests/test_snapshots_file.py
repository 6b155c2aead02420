"""Weight snapshots in model files: recorded by ``slopes train``/``demo``, checked on loading.

``slopes train`` and ``slopes demo`` keep the weights of at most 20 points of
training (before training, the last epoch run, evenly strided epochs between,
at most 8 MB in all) so that ``slopes explain --html`` can scrub through the
epochs. Loading cross-checks them against the network and the history like
everything else in the file: every mismatch is a ``ModelFileError`` naming it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save as st_save

import slopes
from model_file_parts import read_parts, write_parts
from slopes.callbacks import (
    FILE_SNAPSHOT_BYTES,
    FILE_SNAPSHOTS,
    EarlyStopping,
    FileSnapshots,
    WeightSnapshots,
    file_snapshots,
)
from slopes.io import ModelFileError, load_model, model_bytes, save
from slopes.snapshots import WeightSnapshot

ROOT = Path(__file__).resolve().parents[1]
ADMISSIONS = ROOT.parent / "shared" / "data" / "admissions.csv"


# --------------------------------------------------------------------- helpers
def _trained(epochs: int = 12, sizes=(3, 4, 1), dtype: str = "float64",
             callback: WeightSnapshots | None = None):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, sizes[0]))
    y = (X[:, 0] > 0).astype(float)
    net = slopes.Network.mlp(list(sizes), activation="tanh", output="sigmoid", seed=0,
                             dtype=dtype)
    callback = callback or file_snapshots(net)
    history = net.fit(X, y, loss="binary_crossentropy", learning_rate=0.5, epochs=epochs,
                      callbacks=[callback], seed=0, verbose=0)
    return net, history, callback


def _saved(tmp_path: Path, epochs: int = 12) -> Path:
    net, history, snaps = _trained(epochs)
    return save(net, tmp_path / "m.safetensors", history=history, snapshots=snaps)




def _fails(path: Path, message: str) -> ModelFileError:
    with pytest.raises(ModelFileError, match=message) as info:
        load_model(path)
    assert str(info.value).startswith(f"{path}: ")
    return info.value


def _set_epochs(path: Path, epochs: object) -> None:
    tensors, metadata = read_parts(path)
    metadata["snapshots"] = json.dumps({"epochs": epochs})
    write_parts(path, tensors, metadata)


# ------------------------------------------------------------ writing, reading
def test_snapshots_come_back_as_they_were_recorded(tmp_path):
    net, history, snaps = _trained(12)
    path = save(net, tmp_path / "m.safetensors", history=history, snapshots=snaps)
    model = load_model(path)
    assert [s.epoch for s in model.snapshots] == [s.epoch for s in snaps.snapshots]
    assert model.snapshots[0].epoch is None and model.snapshots[-1].epoch == 11
    for loaded, recorded in zip(model.snapshots, snaps.snapshots, strict=True):
        for a, b in zip(loaded.weights + loaded.biases, recorded.weights + recorded.biases,
                        strict=True):
            assert a.dtype == net.dtype and np.array_equal(a, b)
    _, metadata = read_parts(path)
    assert json.loads(metadata["snapshots"]) == {"epochs": list(range(13))}
    # The network itself is the trained one, not a snapshot's.
    assert np.array_equal(model.network.layers[0].weights, net.layers[0].weights)


def test_net_save_with_the_callback_as_history_keeps_both(tmp_path):
    net, _, snaps = _trained(5)
    model = load_model(net.save(tmp_path / "m.safetensors", history=snaps))
    assert len(model.history["loss"]) == 5
    assert [s.epoch for s in model.snapshots] == [None, 0, 1, 2, 3, 4]


def test_plain_weight_snapshots_and_float32_are_stored_too(tmp_path):
    net, history, snaps = _trained(20, dtype="float32", callback=WeightSnapshots(max_snapshots=5))
    model = load_model(save(net, tmp_path / "m.safetensors", history=history, snapshots=snaps))
    assert [s.epoch for s in model.snapshots] == [None, 4, 9, 14, 19]
    assert model.snapshots[1].weights[0].dtype == np.float32


def test_files_without_snapshots_load_as_before(tmp_path):
    net, history, _ = _trained(3)
    path = save(net, tmp_path / "m.safetensors", history=history)
    tensors, metadata = read_parts(path)
    assert "snapshots" not in metadata and not any(k.startswith("snapshots.") for k in tensors)
    assert load_model(path).snapshots == []
    empty = save(net, tmp_path / "empty.safetensors", history=history, snapshots=[])
    assert read_parts(empty)[1] == metadata


# -------------------------------------------------------------- the file rule
def test_file_snapshots_keep_at_most_20_first_and_last_included():
    for epochs in (1, 7, 19, 20, 21, 64, 100, 333):
        _, _, snaps = _trained(epochs, sizes=(2, 2, 1))
        kept = [s.epoch for s in snaps.snapshots]
        assert len(kept) <= FILE_SNAPSHOTS
        assert kept[0] is None and kept[-1] == epochs - 1
        assert kept[1:] == sorted(set(kept[1:]))
        if epochs + 1 <= FILE_SNAPSHOTS - 1:
            assert kept[1:] == list(range(epochs))  # every epoch when few ran
        else:
            assert len(kept) >= FILE_SNAPSHOTS // 2  # never thinned below half
            stride = snaps.stride
            assert all((e + 1) % stride == 0 for e in kept[1:-1])


def test_file_snapshots_spread_over_a_run_that_stopped_early():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(30, 2)), rng.normal(size=30)
    net = slopes.Network.mlp([2, 3, 1], seed=0)
    snaps = file_snapshots(net)
    stopper = EarlyStopping(monitor="loss", patience=1, min_delta=10.0)
    history = net.fit(X, y, epochs=500, callbacks=[stopper, snaps], verbose=0)
    assert len(history.epoch) == 2
    assert [s.epoch for s in snaps.snapshots] == [None, 0, 1]


def test_file_snapshots_stay_within_8_mb_and_skip_networks_too_big():
    net = slopes.Network.mlp([300, 300, 1], seed=0)  # 90,601 numbers: 725 kB a copy
    snaps = file_snapshots(net)
    assert isinstance(snaps, FileSnapshots)
    one_copy = sum(p.nbytes for p in net.parameters())
    X, y = np.zeros((2, 300)), np.zeros(2)
    net.fit(X, y, epochs=40, callbacks=[snaps], verbose=0)
    assert len(snaps.snapshots) * one_copy <= FILE_SNAPSHOT_BYTES
    assert len(snaps.snapshots) >= 3
    # 811,801 numbers: two float64 copies (13 MB) exceed 8 MB; two float32 copies fit.
    assert file_snapshots(slopes.Network.mlp([900, 900, 1], seed=0)) is None
    assert file_snapshots(slopes.Network.mlp([900, 900, 1], seed=0, dtype="float32"))


# ------------------------------------------------------- writing refuses these
def _snapshot(net, epoch, **change):
    snap = WeightSnapshot(epoch, [layer.weights.copy() for layer in net.layers],
                          [layer.bias.copy() for layer in net.layers])
    for key, value in change.items():
        setattr(snap, key, value)
    return snap


@pytest.mark.parametrize("make, message", [
    (lambda net: [_snapshot(net, 1), _snapshot(net, 1)],
     r"snapshots\[1\] is of epoch 1, not after the one before it"),
    (lambda net: [_snapshot(net, 2), _snapshot(net, None)],
     r"snapshots\[1\] is of epoch None, not after the one before it"),
    (lambda net: [_snapshot(net, 3)],
     r"snapshots\[0\] is of epoch 3 \(counted from 0\), but the history has 3 epoch\(s\)"),
    (lambda net: [_snapshot(net, -1)], r"snapshots\[0\] has epoch -1; expected None"),
    (lambda net: [_snapshot(net, 1.0)], r"snapshots\[0\] has epoch 1.0; expected None"),
    (lambda net: [_snapshot(net, 0, weights=[np.zeros((2, 2)), net.layers[1].weights])],
     r"snapshots\[0\] layer 0 weights have shape \(2, 2\); the network's are \(3, 4\)"),
    (lambda net: [_snapshot(net, 0, weights=[net.layers[0].weights])],
     r"snapshots\[0\] has 1 layer\(s\) of weights; the network has 2"),
    (lambda net: [_snapshot(net, 0, biases=[None, net.layers[1].bias])],
     r"snapshots\[0\] layer 0 has no bias, but the network's layer 0 has one"),
    (lambda net: [_snapshot(net, 0, weights=[np.full((3, 4), np.nan), net.layers[1].weights])],
     r"snapshots\[0\] layer 0 weights hold NaN or infinite values"),
])
def test_writing_refuses_snapshots_that_would_not_load(tmp_path, make, message):
    net, history, _ = _trained(3)
    with pytest.raises(ValueError, match=message):
        save(net, tmp_path / "m.safetensors", history=history, snapshots=make(net))
    assert not (tmp_path / "m.safetensors").exists()


def test_writing_snapshots_needs_the_history():
    net, _, snaps = _trained(3)
    for history in (None, {"val_loss": [1.0, 0.5, 0.2]}):
        with pytest.raises(ValueError, match="snapshots need the history of the same training "
                                             "run: its 'loss' says how many epochs ran"):
            model_bytes(net, history=history, snapshots=snaps)


def test_the_weights_before_training_need_no_history(tmp_path):
    """Ctrl-C in the first epoch: the one snapshot is of the weights before training."""
    net, _, snaps = _trained(3)
    first = snaps.snapshots[:1]
    assert first[0].epoch is None
    for history in (None, {}):
        model = load_model(save(net, tmp_path / "m.safetensors", history=history,
                                snapshots=first))
        assert [s.epoch for s in model.snapshots] == [None] and model.history == {}
        np.testing.assert_array_equal(model.snapshots[0].weights[0], first[0].weights[0])
    with pytest.raises(ValueError, match="snapshots need the history of the same training run"):
        save(net, tmp_path / "m.safetensors", snapshots=snaps.snapshots[:2])


def test_writing_a_bias_the_network_has_not(tmp_path):
    net = slopes.Network([slopes.Dense(2, 1, bias=False)])
    snap = WeightSnapshot(None, [np.zeros((2, 1))], [np.zeros(1)])
    with pytest.raises(ValueError, match=r"snapshots\[0\] layer 0 has bias, but the network's "
                                         r"layer 0 has none"):
        model_bytes(net, history={"loss": [1.0]}, snapshots=[snap])


# ------------------------------------------------------ loading checks these
@pytest.mark.parametrize("epochs, message", [
    ([0, 3, 3], r"snapshots epochs must increase, but 3 follows 3 at position 2"),
    ([0, 5, 2], r"snapshots epochs must increase, but 2 follows 5 at position 2"),
    ([0, 13], r"snapshots epoch 13 is past the end of training: the history has 12 epoch\(s\)"),
    ([-1, 2], r"snapshots epochs must be whole numbers >= 0, got -1 at position 0"),
    ([0, 2.0], r"snapshots epochs must be whole numbers >= 0, got 2.0 at position 1"),
    ([0, True], r"snapshots epochs must be whole numbers >= 0, got True at position 1"),
    ([0, "2"], r"snapshots epochs must be whole numbers >= 0, got '2' at position 1"),
    ([], r"snapshots epochs must be a non-empty list of whole numbers, got \[\]"),
    ("0,1", r"snapshots epochs must be a non-empty list of whole numbers, got '0,1'"),
])
def test_epochs_must_be_increasing_whole_numbers_within_the_history(tmp_path, epochs, message):
    path = _saved(tmp_path)
    _set_epochs(path, epochs)
    _fails(path, message)


@pytest.mark.parametrize("entry, message", [
    ("[0, 1]", r"snapshots metadata must be an object with one key, 'epochs', got \[0, 1\]"),
    ('{"epochs": [0], "more": 1}', r"snapshots metadata must be an object with one key"),
    ("{}", r"snapshots metadata must be an object with one key, 'epochs', got \{\}"),
    ("{epochs: [0]}", r"metadata 'snapshots' is not valid JSON"),
])
def test_the_snapshots_entry_must_be_an_object_with_epochs(tmp_path, entry, message):
    path = _saved(tmp_path)
    tensors, metadata = read_parts(path)
    metadata["snapshots"] = entry
    write_parts(path, tensors, metadata)
    _fails(path, message)


def test_an_epoch_listed_without_its_tensors(tmp_path):
    path = _saved(tmp_path, epochs=12)
    tensors, metadata = read_parts(path)
    del tensors["snapshots.4.layers.1.bias"]
    write_parts(path, tensors, metadata)
    _fails(path, r"tensor 'snapshots.4.layers.1.bias' is missing \(the snapshots metadata "
                 r"lists its epoch\)")


def test_tensors_of_an_epoch_not_listed(tmp_path):
    path = _saved(tmp_path, epochs=12)
    _set_epochs(path, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12])
    _fails(path, r"unexpected tensor\(s\) snapshots.11.layers.0.bias, "
                 r"snapshots.11.layers.0.weights, .* \(not of an epoch the snapshots metadata "
                 r"lists, or not of a layer\)")


def test_a_tensor_of_a_layer_the_network_has_not(tmp_path):
    path = _saved(tmp_path)
    tensors, metadata = read_parts(path)
    tensors["snapshots.0.layers.2.weights"] = np.zeros((1, 1))
    write_parts(path, tensors, metadata)
    _fails(path, r"unexpected tensor\(s\) snapshots.0.layers.2.weights \(not of an epoch")


def test_snapshot_tensors_without_the_metadata_entry(tmp_path):
    path = _saved(tmp_path)
    tensors, metadata = read_parts(path)
    del metadata["snapshots"]
    write_parts(path, tensors, metadata)
    _fails(path, r"unexpected tensor\(s\) snapshots.0.layers.0.bias, .* \.\.\. \(snapshot "
                 r"tensors without a 'snapshots' metadata entry\)")


@pytest.mark.parametrize("replacement, message", [
    (np.zeros((4, 3)), r"tensor 'snapshots.6.layers.0.weights' has shape \(4, 3\), but the "
                       r"network's layer has \(3, 4\)"),
    (np.zeros(12), r"tensor 'snapshots.6.layers.0.weights' has shape \(12,\), but the "
                   r"network's layer has \(3, 4\)"),
    (np.zeros((3, 4), np.float32), r"tensor 'snapshots.6.layers.0.weights' has dtype float32, "
                                   r"but the architecture says float64"),
    (np.full((3, 4), np.inf), r"tensor 'snapshots.6.layers.0.weights' holds NaN or infinite "
                              r"values"),
])
def test_snapshot_tensors_must_match_the_network(tmp_path, replacement, message):
    path = _saved(tmp_path)
    tensors, metadata = read_parts(path)
    tensors["snapshots.6.layers.0.weights"] = replacement
    write_parts(path, tensors, metadata)
    _fails(path, message)


@pytest.mark.parametrize("history", [{}, {"val_loss": [0.5] * 12}])
def test_snapshots_need_the_loss_history(tmp_path, history):
    path = _saved(tmp_path)
    tensors, metadata = read_parts(path)
    metadata["history"] = json.dumps(history)
    write_parts(path, tensors, metadata)
    _fails(path, "has snapshots but its history has no 'loss' to say how many epochs ran")


def test_a_changed_snapshot_breaks_the_checksum(tmp_path):
    path = _saved(tmp_path)
    tensors, metadata = read_parts(path)
    tensors["snapshots.3.layers.0.weights"] = tensors["snapshots.3.layers.0.weights"] + 1
    path.write_bytes(st_save(tensors, metadata=metadata))  # the old checksum
    _fails(path, "checksum mismatch")


# --------------------------------------------------------------- the commands
def run(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "slopes.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def admissions_csv(directory: Path) -> Path:
    """The admissions table beside the project (../shared/data), or the copy slopes ships."""
    if ADMISSIONS.is_file():
        return ADMISSIONS
    from slopes.datasets import load_admissions

    path = directory / "admissions.csv"
    load_admissions().to_csv(path, index=False)
    return path


def page_data(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="slopes-data">(.*?)</script>', html,
                      re.S)
    assert found is not None
    return json.loads(found.group(1).replace("<\\/", "</"))


@pytest.fixture(scope="module")
def cli_model(tmp_path_factory):
    pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")
    root = tmp_path_factory.mktemp("cli")
    data = admissions_csv(root)
    result = run("train", data, "--target", "admit", "--categorical", "rank", "--hidden", "3",
                 "--epochs", "60", "--seed", "0", "--out", root / "model")
    assert result.returncode == 0, result.stderr
    return root / "model" / "model.safetensors", data


def test_slopes_train_records_snapshots_in_the_model_file(cli_model):
    path, _ = cli_model
    model = load_model(path)
    ran = len(model.history["loss"])
    epochs = [s.epoch for s in model.snapshots]
    assert 3 <= len(epochs) <= FILE_SNAPSHOTS
    assert epochs[0] is None and epochs[-1] == ran - 1


def test_explain_html_scrubs_through_the_epochs_slopes_train_recorded(cli_model, tmp_path):
    path, data = cli_model
    model = load_model(path)
    page = tmp_path / "page.html"
    result = run("explain", path, data, "--row", 5, "--out", tmp_path / "e", "--html", page)
    assert result.returncode == 0, result.stderr
    last = model.snapshots[-1].epoch + 1
    assert (f"move the slider through the weights recorded during training, "
            f"{len(model.snapshots)} snapshots up to epoch {last})") in result.stdout
    frames = page_data(page.read_text())["frames"]
    assert len(frames) >= 4
    assert frames[0]["label"] == "before training"
    assert [f["epoch"] for f in frames[:len(model.snapshots)]] == \
        [0] + [s.epoch + 1 for s in model.snapshots[1:]]
    assert [f["label"] for f in frames[1:len(model.snapshots)]] == \
        [f"epoch {s.epoch + 1}" for s in model.snapshots[1:]]
    best = model.training["best_epoch"]
    if len(frames) > len(model.snapshots):  # early stopping put the best weights back
        assert frames[-1]["label"] == f"the saved weights (of the best epoch, {best + 1})"
    assert len({json.dumps(f["weights"]) for f in frames}) == len(frames)
    assert "no weights per epoch" not in page.read_text().split("slopes-data")[0]


def test_slopes_demo_records_snapshots(tmp_path):
    pytest.importorskip("matplotlib")
    result = run("demo", "--epochs", "100", "--out", tmp_path / "demo")
    assert result.returncode == 0, result.stderr
    model = load_model(tmp_path / "demo" / "model.safetensors")
    epochs = [s.epoch for s in model.snapshots]
    assert epochs[0] is None and epochs[-1] == 99 and 10 <= len(epochs) <= FILE_SNAPSHOTS


def test_a_file_without_snapshots_gets_a_page_that_says_so(cli_model, tmp_path):
    from slopes.commands.explain import NO_EPOCHS

    path, data = cli_model
    model = load_model(path)
    old = tmp_path / "old.safetensors"  # as an older slopes wrote it
    save(model.network, old, model.preprocessing, model.training, model.history)
    assert load_model(old).snapshots == []
    page = tmp_path / "page.html"
    result = run("explain", old, data, "--row", 5, "--out", tmp_path / "e", "--html", page)
    assert result.returncode == 0, result.stderr
    assert "the model file holds no weights per epoch, so there is no slider" in result.stdout
    payload = page_data(page.read_text())
    assert len(payload["frames"]) == 1 and payload["no_epochs"] == NO_EPOCHS
