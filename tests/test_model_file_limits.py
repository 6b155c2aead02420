"""Hostile model files are refused from their header, before any tensor data is read.

A file with one extra 2 GB tensor (sparse on disk, so it costs nothing to make)
once took 4.1 GB of memory to refuse; a history of a million epochs took hundreds
of MB. Here the refusals run in a subprocess whose peak memory (``VmHWM``) must
stay far below the size of what the file claims to hold. A memory limit is said to
be one (not a damaged file), an unreadable file is "permission denied" (not "no
such file"), and ``save`` refuses preprocessing that ``load`` would refuse.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import slopes
import slopes.io
from model_file_parts import read_parts, write_parts
from slopes.callbacks import WeightSnapshots, file_snapshots
from slopes.io import ModelFileError, load_model, save
from slopes.preprocessing import TabularPreprocessor

ROOT = Path(__file__).resolve().parents[1]
HUGE = 2**31  # bytes the hostile tensor claims: 2 GB
# What a subprocess that only imports slopes and refuses a file may use at its peak: a
# fraction of HUGE. Python, NumPy and safetensors alone take about 35 MB.
PEAK_LIMIT_MB = 200


# --------------------------------------------------------------------- helpers
def _net() -> slopes.Network:
    return slopes.Network.mlp([3, 4, 1], activation="tanh", output="sigmoid", seed=0)


def _with_huge_tensor(path: Path, name: str, shape: tuple[int, ...]) -> None:
    """Rewrite ``path`` with tensor ``name`` (float64, ``shape``) added or replacing the
    one of that name; its bytes are a hole at the end of the file (``truncate``), so the
    file is as big as the header says while the disk holds none of it."""
    tensors, metadata = read_parts(path)
    tensors.pop(name, None)
    header: dict = {"__metadata__": metadata}
    data = bytearray()
    for key, arr in tensors.items():
        raw = np.ascontiguousarray(arr, dtype="<f8").tobytes()
        header[key] = {"dtype": "F64", "shape": list(arr.shape),
                       "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    nbytes = int(np.prod(shape)) * 8
    header[name] = {"dtype": "F64", "shape": list(shape),
                    "data_offsets": [len(data), len(data) + nbytes]}
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        f.write(data)
        f.truncate(8 + len(text) + len(data) + nbytes)


def _refusal_and_peak(path: Path) -> tuple[str, float]:
    """The error a fresh Python gives loading ``path``, and its peak memory in MB."""
    script = textwrap.dedent("""
        import json, sys
        from slopes.io import ModelFileError, load_model
        try:
            load_model(sys.argv[1])
            message = "loaded"
        except ModelFileError as exc:
            message = str(exc)
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
        with open("/proc/self/status") as f:
            peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
        print(json.dumps([message, peak / 1024]))
    """)
    result = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                            text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    message, peak = json.loads(result.stdout)
    return message, peak


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="peak memory is read from /proc; files are sparse on Linux")


# --------------------------------------------- tensors the metadata does not allow
@linux_only
@pytest.mark.parametrize("name, shape, message", [
    ("zzz", (HUGE // 8,), r"unexpected tensor\(s\) zzz$"),
    ("layers.0.weights", (HUGE // 8,),
     r"tensor 'layers.0.weights' has shape \(268435456,\), expected \(3, 4\)$"),
    ("layers.1.bias", (1, HUGE // 8),
     r"tensor 'layers.1.bias' has shape \(1, 268435456\), expected \(1,\)$"),
    ("snapshots.7.layers.0.weights", (HUGE // 8,),
     r"unexpected tensor\(s\) snapshots.7.layers.0.weights \(snapshot tensors without a "
     r"'snapshots' metadata entry\)$"),
])
def test_a_huge_tensor_is_refused_without_reading_it(tmp_path, name, shape, message):
    path = save(_net(), tmp_path / "m.safetensors")
    _with_huge_tensor(path, name, shape)
    assert path.stat().st_size > HUGE
    refusal, peak = _refusal_and_peak(path)
    assert refusal.startswith(f"{path}: ")
    assert __import__("re").search(message, refusal), refusal
    assert peak < PEAK_LIMIT_MB, f"{peak:.0f} MB to refuse a file claiming {HUGE:,} bytes"


def test_a_huge_snapshot_tensor_of_a_listed_epoch_is_refused_from_the_header(tmp_path):
    net = _net()
    snaps = file_snapshots(net)
    rng = np.random.default_rng(0)
    history = net.fit(rng.normal(size=(8, 3)), np.ones(8), epochs=3, callbacks=[snaps],
                      verbose=0)
    path = save(net, tmp_path / "m.safetensors", history=history, snapshots=snaps)
    _with_huge_tensor(path, "snapshots.2.layers.0.weights", (HUGE // 8,))
    with pytest.raises(ModelFileError, match=r"tensor 'snapshots.2.layers.0.weights' has "
                                             r"shape \(268435456,\), but the network's layer "
                                             r"has \(3, 4\)"):
        load_model(path)


def test_no_tensor_data_is_read_before_the_header_is_checked(tmp_path, monkeypatch):
    """The order itself: safetensors is never opened for a file the header refuses."""
    path = save(_net(), tmp_path / "m.safetensors")
    _with_huge_tensor(path, "zzz", (4,))
    import safetensors

    def never(*args, **kwargs):
        raise AssertionError("tensor data was read before the header was checked")

    monkeypatch.setattr(safetensors, "safe_open", never)
    with pytest.raises(ModelFileError, match=r"unexpected tensor\(s\) zzz"):
        load_model(path)


@pytest.mark.parametrize("damage, message", [
    (lambda h: h["layers.0.bias"].update(shape=[5]),
     r"tensor 'layers.0.bias' of shape \(5,\) and dtype float64 needs 40 bytes, but its "
     r"data_offsets span 32"),
    (lambda h: h["layers.0.bias"].update(data_offsets=[8, 40]),
     r"tensor 'layers.0.bias' starts at byte 8 of the data, not at 0 where the one before ends"),
    (lambda h: h["layers.0.bias"].update(shape=[-4]),
     r"tensor 'layers.0.bias' has shape \[-4\]; expected a list of whole numbers >= 0"),
    (lambda h: h["layers.0.bias"].update(extra=1),
     r"tensor 'layers.0.bias' is described by .*, not by dtype, shape and data_offsets"),
    (lambda h: h["layers.0.bias"].update(data_offsets=[32, 0]),
     r"tensor 'layers.0.bias' has data_offsets \[32, 0\]; expected \[begin, end\] with "
     r"0 <= begin <= end"),
    (lambda h: h.update(__metadata__={"format": 1}),
     r"its __metadata__ is not an object of text values"),
    (lambda h: h.pop(max((k for k in h if k != "__metadata__"),
                         key=lambda k: h[k]["data_offsets"][0])),  # the last tensor of the data
     r"its tensors hold [\d,]+ bytes, but [\d,]+ bytes of data follow the header"),
])
def test_a_header_that_does_not_describe_its_data_is_not_a_safetensors_file(tmp_path, damage,
                                                                            message):
    path = save(_net(), tmp_path / "m.safetensors")
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    assert header["layers.0.bias"]["data_offsets"] == [0, 32]  # the first tensor of the data
    damage(header)
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + raw[8 + n:])
    with pytest.raises(ModelFileError, match="is not a valid safetensors file .truncated, "
                                             "corrupt or another format.: " + message):
        load_model(path)


def test_a_header_length_past_the_end_of_the_file(tmp_path):
    path = save(_net(), tmp_path / "m.safetensors")
    raw = path.read_bytes()
    path.write_bytes((len(raw)).to_bytes(8, "little") + raw[8:])
    with pytest.raises(ModelFileError, match=f"its header length says {len(raw):,} bytes, but "
                                             f"only {len(raw) - 8:,} bytes follow"):
        load_model(path)


def test_a_header_over_the_limit_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    path = save(_net(), tmp_path / "m.safetensors", training={"note": "x" * 5000})
    n = int.from_bytes(path.read_bytes()[:8], "little")
    monkeypatch.setattr(slopes.io, "MAX_HEADER_BYTES", 4096)
    with pytest.raises(ModelFileError, match=f"has a header of {n:,} bytes; the limit is 4,096 "
                                             "bytes .the list of tensors and the metadata"):
        load_model(path)
    # save refuses to write what load would refuse
    with pytest.raises(ValueError, match=r"the model file's header .its tensor list and "
                                         r"metadata. would be [\d,]+ bytes; the limit is 4,096"):
        save(_net(), tmp_path / "other.safetensors", training={"note": "x" * 5000})
    assert not (tmp_path / "other.safetensors").exists()


@linux_only
def test_a_header_of_76_mb_is_refused_in_little_memory(tmp_path):
    """Four history curves of a million epochs each: 76 MB of header, once 322 MB to refuse."""
    path = save(_net(), tmp_path / "m.safetensors")
    tensors, metadata = read_parts(path)
    metadata["history"] = json.dumps({k: [0.123456789012345] * 1_000_000
                                      for k in ("loss", "val_loss", "accuracy", "val_accuracy")})
    write_parts(path, tensors, metadata)
    refusal, peak = _refusal_and_peak(path)
    assert "has a header of 76,0" in refusal and "the limit is 64,000,000 bytes" in refusal
    assert peak < 100, f"{peak:.0f} MB to refuse a 76 MB header"


# ------------------------------------------------------- a history too long
def _trained_file(tmp_path: Path) -> Path:
    """A model file as ``slopes train`` writes one: snapshots, and ``epochs_run`` among the
    training settings."""
    net = _net()
    snaps = WeightSnapshots(max_snapshots=20)
    rng = np.random.default_rng(0)
    history = net.fit(rng.normal(size=(20, 3)), (rng.random(20) > 0.5).astype(float),
                      loss="binary_crossentropy", epochs=19, callbacks=[snaps], verbose=0)
    assert len(snaps.snapshots) == 20  # before training and after each epoch
    return save(net, tmp_path / "m.safetensors", history=history, snapshots=snaps,
                training={"epochs": 19, "epochs_run": 19})


@linux_only
def test_a_million_epoch_history_is_refused_as_too_long_in_little_memory(tmp_path):
    path = _trained_file(tmp_path)
    tensors, metadata = read_parts(path)
    metadata["history"] = json.dumps({"loss": [0.5] * 1_000_000})  # 5 MB, within the limits
    write_parts(path, tensors, metadata)
    refusal, peak = _refusal_and_peak(path)
    assert refusal == (f"{path}: history 'loss' has 1,000,000 epochs, but the training "
                       "settings say 19 ran ('epochs_run'): the history is longer than the run "
                       "it records")
    assert peak < 150, f"{peak:.0f} MB to refuse a history of a million epochs"


def test_save_refuses_a_history_longer_than_the_run(tmp_path):
    with pytest.raises(ValueError, match=r"history 'loss' has 3 epochs, but the training "
                                         r"settings say 2 ran .'epochs_run'.: the history is "
                                         r"longer than the run it records; load would refuse"):
        save(_net(), tmp_path / "m.safetensors", history={"loss": [1.0, 0.5, 0.2]},
             training={"epochs_run": 2})
    assert not list(tmp_path.iterdir())
    # As long as the run, or without epochs_run, it is kept.
    model = load_model(save(_net(), tmp_path / "m.safetensors", training={"epochs_run": 3},
                            history={"loss": [1.0, 0.5, 0.2]}))
    assert model.history == {"loss": [1.0, 0.5, 0.2]}


# ------------------------------------------------------------- memory and access
def test_running_out_of_memory_is_said_as_such(tmp_path, monkeypatch):
    path = save(_net(), tmp_path / "m.safetensors")
    import safetensors

    class NoMemory:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def get_tensor(self, name):
            raise MemoryError

    monkeypatch.setattr(safetensors, "safe_open", NoMemory)
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert str(info.value) == (f"{path}: cannot be read: not enough memory for its 168 bytes of "
                               "tensors (a memory limit, not a damaged file)")


@linux_only
def test_a_model_bigger_than_the_memory_limit_says_memory(tmp_path):
    """A well-formed file of 800 MB of weights under a 400 MB address-space limit."""
    path = save(slopes.Network.mlp([2, 1], seed=0), tmp_path / "m.safetensors")
    tensors, metadata = read_parts(path)
    arch = json.loads(metadata["architecture"])
    arch["sizes"], arch["layers"][0]["n_in"], arch["layers"][0]["n_out"] = [10_000, 10_000], \
        10_000, 10_000
    metadata["architecture"] = json.dumps(arch)
    write_parts(path, {"layers.0.bias": np.zeros(10_000)}, metadata)
    _with_huge_tensor(path, "layers.0.weights", (10_000, 10_000))
    script = textwrap.dedent("""
        import resource, sys
        from slopes.io import ModelFileError, load_model
        import safetensors
        with open("/proc/self/status") as f:
            vm = next(int(line.split()[1]) for line in f if line.startswith("VmSize:"))
        limit = vm * 1024 + 400 * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            load_model(sys.argv[1])
            print("loaded")
        except ModelFileError as exc:
            print(exc)
    """)
    result = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                            text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"{path}: cannot be read: not enough memory for its 800,080,000 bytes of tensors (a "
        "memory limit, not a damaged file)")


def test_a_file_this_user_may_not_read_is_permission_denied(tmp_path, monkeypatch):
    """Injected, so it runs as root too: opening the file raises PermissionError."""
    path = save(_net(), tmp_path / "m.safetensors")
    real_open = open

    def refuse(file, *args, **kwargs):
        if os.fspath(file) == os.fspath(path):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refuse)
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert str(info.value) == f"{path}: cannot be read: Permission denied"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads a file of mode 000 (test_a_file_this_user_may_not_read_"
                           "is_permission_denied injects the error instead)")
def test_a_model_file_of_mode_000_is_permission_denied(tmp_path):
    path = save(_net(), tmp_path / "m.safetensors")
    path.chmod(0)
    try:
        with pytest.raises(ModelFileError) as info:
            load_model(path)
    finally:
        path.chmod(0o644)
    assert str(info.value) == f"{path}: cannot be read: Permission denied"
    assert "no such file" not in str(info.value).lower()


# ---------------------------------------------------- preprocessing save refuses
@pytest.mark.parametrize("preprocessing, error, message", [
    ("hello", TypeError, "preprocessing is str 'hello'; expected a fitted TabularPreprocessor, "
                         r"its to_dict\(\), or None"),
    (42, TypeError, "preprocessing is int 42; expected a fitted TabularPreprocessor"),
    (["a"], TypeError, r"preprocessing is list \['a'\]; expected a fitted TabularPreprocessor"),
    (TabularPreprocessor(), ValueError, r"this TabularPreprocessor is not fitted yet"),
    ({"type": "TabularPreprocessor"}, ValueError,
     r"preprocessing cannot be stored: preprocessing parameters .*; expected a fitted "
     r"TabularPreprocessor, its to_dict\(\), or None"),
])
def test_save_refuses_preprocessing_that_load_would_refuse(tmp_path, preprocessing, error,
                                                           message):
    with pytest.raises(error, match=message):
        save(_net(), tmp_path / "m.safetensors", preprocessing=preprocessing)
    assert not list(tmp_path.iterdir())


def test_a_fitted_preprocessor_and_its_dict_are_both_saved(tmp_path):
    pd = pytest.importorskip("pandas")
    table = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "c": ["x", "y", "x", "y"],
                          "t": [0, 1, 0, 1]})
    prep = TabularPreprocessor(target="t", categorical=["c"]).fit(table)
    net = slopes.Network.mlp([prep.n_features, 2, 1], output="sigmoid", seed=0)
    for given in (prep, prep.to_dict()):
        model = load_model(save(net, tmp_path / "m.safetensors", preprocessing=given))
        assert model.preprocessing.to_dict() == prep.to_dict()
    with pytest.raises(ValueError, match="preprocessing makes 3 features but the network "
                                         "expects 2; load would refuse the file"):
        save(slopes.Network.mlp([2, 1], seed=0), tmp_path / "n.safetensors", preprocessing=prep)
