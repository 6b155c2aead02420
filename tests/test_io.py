"""Model files: bit-identical round trips, atomic writes, and every kind of bad file."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from safetensors.numpy import save_file

import slopes
from slopes.io import ModelFileError, checksum, load, load_model, save


def _net(dtype=np.float64, bias=True, activation="tanh", output="sigmoid"):
    return slopes.Network.mlp([4, 5, 3, 2], activation=activation, output=output, bias=bias,
                              seed=3, dtype=dtype)


@pytest.fixture
def X():
    return np.random.default_rng(1).normal(size=(7, 4))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
def test_round_trip_is_bit_identical(tmp_path, X, dtype, bias):
    net = _net(dtype, bias)
    path = save(net, tmp_path / "m.safetensors")
    again = load(path)
    assert again.dtype == np.dtype(dtype)
    assert [layer.has_bias for layer in again.layers] == [bias] * 3
    assert np.array_equal(again.predict(X.astype(dtype)), net.predict(X.astype(dtype)))
    for a, b in zip(again.parameters(), net.parameters(), strict=True):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_activation_settings_and_metadata_round_trip(tmp_path):
    net = slopes.Network([slopes.Dense(2, 3, activation=slopes.activations.LeakyRelu(0.2)),
                          slopes.Dense(3, 3, activation="softmax")])
    history = {"loss": [0.9, 0.5], "val_loss": [1.0, float("nan")]}
    save(net, tmp_path / "m.safetensors", preprocessing=None,
         training={"loss": "categorical_crossentropy", "learning_rate": 0.1}, history=history)
    model = load_model(tmp_path / "m.safetensors")
    assert model.network.layers[0].activation.alpha == 0.2
    assert model.training["learning_rate"] == 0.1
    assert model.history == {"loss": [0.9, 0.5], "val_loss": [1.0, None]}
    assert model.metadata["format"] == "slopes"
    assert model.metadata["slopes_version"] == slopes.__version__
    arch = json.loads(model.metadata["architecture"])
    assert arch["sizes"] == [2, 3, 3] and arch["dtype"] == "float64"


def test_preprocessing_is_stored_as_json(tmp_path):
    pd = pytest.importorskip("pandas")
    from slopes.preprocessing import TabularPreprocessor

    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "c": ["x", "y", "x"], "t": [0, 1, 0]})
    prep = TabularPreprocessor(target="t").fit(df)
    net = slopes.Network.mlp([3, 1], output="sigmoid", seed=0)
    save(net, tmp_path / "m.safetensors", preprocessing=prep)
    model = load_model(tmp_path / "m.safetensors")
    assert model.preprocessing.to_dict() == prep.to_dict()
    assert json.loads(model.metadata["preprocessing"])["classes"] == [0, 1]


def test_public_names():
    assert slopes.load is load
    assert slopes.ModelFileError is ModelFileError
    assert issubclass(ModelFileError, ValueError)


def test_atomic_write_leaves_old_file_and_no_temp_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    save(_net(), path)
    before = path.read_bytes()

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        save(_net(bias=False), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]


def test_refuses_custom_activation_and_broken_weights(tmp_path):
    class Cube(slopes.Activation):
        name = "cube"

    net = slopes.Network([slopes.Dense(2, 1, activation=Cube())])
    with pytest.raises(ValueError, match="custom activation"):
        save(net, tmp_path / "m.safetensors")
    net = _net()
    net.layers[0].weights[0, 0] = np.nan  # behind the setter's back
    with pytest.raises(ValueError, match=r"layers\[0\].weights holds NaN"):
        save(net, tmp_path / "m.safetensors")
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------ bad files
def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match=r"nope.safetensors: no such file"):
        load(tmp_path / "nope.safetensors")


@pytest.mark.parametrize("content", [b"", b"abc", b"\x00" * 64, b"not a model at all" * 10])
def test_empty_or_garbage(tmp_path, content):
    path = tmp_path / "m.safetensors"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=str(path.name)):
        load(path)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.99])
def test_truncated(tmp_path, keep):
    path = save(_net(), tmp_path / "m.safetensors")
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ModelFileError, match="m.safetensors: .*(truncated|corrupt|not a valid)"):
        load(path)


def test_every_flipped_byte_is_noticed(tmp_path):
    path = save(_net(bias=False), tmp_path / "m.safetensors")
    data = path.read_bytes()
    for position in range(0, len(data), 7):
        flipped = bytearray(data)
        flipped[position] ^= 0x5A
        path.write_bytes(bytes(flipped))
        with pytest.raises(ModelFileError, match="m.safetensors: "):
            load(path)


def test_byte_flipped_weight_says_checksum(tmp_path):
    path = save(_net(), tmp_path / "m.safetensors")
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        load(path)


def test_foreign_safetensors_file(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"embedding": np.zeros((2, 2), dtype=np.float32)}, str(path))
    with pytest.raises(ModelFileError, match="not a slopes model"):
        load(path)


def _rewrite(path, change):
    """Rewrite a model file with altered metadata/tensors and a matching checksum."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        metadata = dict(f.metadata())
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    change(metadata, tensors)
    metadata["checksum"] = checksum(tensors, metadata)
    save_file(tensors, str(path), metadata=metadata)


def _arch_change(fn):
    def change(metadata, tensors):
        arch = json.loads(metadata["architecture"])
        fn(arch, tensors)
        metadata["architecture"] = json.dumps(arch)
    return change


@pytest.mark.parametrize("change, message", [
    (lambda m, t: m.update(format_version="2"), "format version '2'.*newer slopes"),
    (lambda m, t: m.update(architecture="{not json"), "'architecture' is not valid JSON"),
    (lambda m, t: m.pop("history"), "no 'history' entry"),
    (_arch_change(lambda a, t: a["layers"][1]["activation"].update(name="swish")),
     "unknown activation 'swish'"),
    (_arch_change(lambda a, t: a.update(dtype="int32")), "expected float32 or float64"),
    (_arch_change(lambda a, t: a["layers"][1].update(n_in=4)),
     r"layers.1.weights' has shape \(5, 3\), expected \(4, 3\)"),
    (lambda m, t: t.update({"layers.0.weights": t["layers.0.weights"].astype(np.float32)}),
     "dtype float32, but the architecture says float64"),
    (lambda m, t: t["layers.2.weights"].__setitem__((0, 0), np.inf), "NaN or infinite"),
    (lambda m, t: t.pop("layers.1.bias"), "'layers.1.bias' is missing"),
    (lambda m, t: t.update(extra=np.zeros(2)), r"unexpected tensor\(s\) extra"),
])
def test_inconsistent_contents(tmp_path, change, message):
    path = save(_net(), tmp_path / "m.safetensors")
    _rewrite(path, change)
    with pytest.raises(ModelFileError, match=message):
        load(path)


def test_shapes_must_chain(tmp_path):
    path = save(_net(), tmp_path / "m.safetensors")

    def change(metadata, tensors):
        arch = json.loads(metadata["architecture"])
        arch["layers"][1].update(n_in=5, n_out=4)
        arch["layers"][2].update(n_in=3)
        tensors["layers.1.weights"] = np.zeros((5, 4))
        tensors["layers.1.bias"] = np.zeros(4)
        metadata["architecture"] = json.dumps(arch)

    _rewrite(path, change)
    with pytest.raises(ModelFileError, match="shapes do not chain: layer 1 has 4 nodes"):
        load(path)


def test_no_pickle_in_io_module():
    import inspect

    import slopes.io

    assert "import pickle" not in inspect.getsource(slopes.io)


def test_network_save_and_slopes_load_round_trip(tmp_path):
    import slopes

    net = slopes.Network.mlp([3, 4, 2], activation="tanh", output="softmax", seed=5)
    X = np.random.default_rng(0).normal(size=(6, 3))
    path = net.save(tmp_path / "net.safetensors")
    loaded = slopes.load(path)
    assert np.array_equal(loaded.predict(X), net.predict(X))
    assert loaded.sizes == [3, 4, 2] and loaded.layers[1].activation.name == "softmax"


def test_the_same_model_gives_a_byte_identical_file(tmp_path):
    """safetensors writes its header from a hash map; slopes sorts it, so a save repeats."""
    import json
    import subprocess
    import sys

    code = ("import numpy as np, slopes, sys\n"
            "net = slopes.Network.mlp([3, 4, 1], activation='relu', output='sigmoid', seed=0)\n"
            "X = np.random.default_rng(0).normal(size=(20, 3)); y = X[:, 0] > 0\n"
            "h = net.fit(X, y.astype(float), loss='binary_crossentropy', epochs=3, seed=0,\n"
            "            verbose=0)\n"
            "net.save(sys.argv[1], training={'seed': 0, 'epochs': 3, 'note': 'x'}, history=h)\n")
    files = []
    for k in range(3):  # separate processes: a hash map's order changes between them
        path = tmp_path / f"m{k}.safetensors"
        subprocess.run([sys.executable, "-c", code, str(path)], check=True)
        files.append(path.read_bytes())
    assert files[0] == files[1] == files[2]
    length = int.from_bytes(files[0][:8], "little")
    header = json.loads(files[0][8:8 + length])
    assert list(header) == sorted(header)
    assert list(header["__metadata__"]) == sorted(header["__metadata__"])
    assert (8 + length) % 8 == 0  # the tensor data stays 8-byte aligned
