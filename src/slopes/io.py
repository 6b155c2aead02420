"""Model files: weights in safetensors, everything else as JSON metadata. Never pickle.

A model file is one ``.safetensors`` file:

- tensors ``layers.<k>.weights`` (n_in, n_out) and ``layers.<k>.bias`` (n_out,);
- text metadata (safetensors keeps ``dict[str, str]``): ``format`` (``"slopes"``),
  ``format_version``, ``slopes_version``, and JSON strings ``architecture``
  (layer sizes, activations, bias or not, dtype; a layer's ``dropout``, ``l1``
  and ``l2`` when set), ``preprocessing``, ``training`` (settings: loss,
  optimizer, learning rate..., and the run's ``l1``, ``l2``, ``dropout``,
  ``clip_norm`` and ``schedule`` when it recorded them), ``history``
  (per-epoch values, with ``penalty`` and ``lr`` when logged), plus ``checksum``,
  a SHA-256 of all tensors and metadata, so a flipped byte anywhere is noticed;
- optionally, the weights recorded during training (for the epoch slider of
  ``slopes explain --html``): tensors ``snapshots.<e>.layers.<k>.weights`` and
  ``snapshots.<e>.layers.<k>.bias``, the weights after ``e`` epochs (``e = 0``:
  before training), and the JSON entry ``snapshots``, ``{"epochs": [0, ...]}``,
  listing those ``e`` in increasing order. A file without them (written by an
  older slopes, or with no snapshots) has neither the entry nor the tensors.
  Likewise a file of an older slopes has no ``dropout``, ``l1``, ``l2``,
  ``clip_norm`` or ``schedule`` entries, and loads as trained without them.

Writing is atomic (:func:`slopes.atomic.write_atomic`): a temporary file in the
same directory, then ``os.replace``, so a crash never leaves a half-written
model. The file gets the permissions a new file normally gets (``0o666`` less
the umask), or keeps those of the file it replaces; a failure raises
:class:`~slopes.atomic.FileWriteError` (an ``OSError``, also importable from
here as the error :func:`save` raises) naming the path as given, never the
temporary file.

Loading checks everything and raises :class:`ModelFileError` (a ``ValueError``)
naming the file and the problem, never a raw ``KeyError``, ``JSONDecodeError``,
``RecursionError`` or safetensors error: the header, the checksum, every JSON
entry (at most :data:`MAX_METADATA_CHARS` characters and :data:`MAX_JSON_DEPTH`
levels deep), the architecture against the tensors, the preprocessing
(features, task and classes) against the network's inputs and outputs, and the
snapshots (their epochs against the history, their tensors against the network).

Examples
--------
>>> import slopes, tempfile, os
>>> net = slopes.Network.mlp([2, 3, 1], seed=0)
>>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
>>> _ = save(net, path)
>>> bool((load(path).predict([[1.0, 2.0]]) == net.predict([[1.0, 2.0]])).all())
True
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.numpy

from .activations import ACTIVATIONS, Activation
from .atomic import FileWriteError, write_atomic
from .errors import ModelFileError
from .layers import Dense
from .model_file_checks import (
    MAX_HEADER_BYTES,
    MAX_JSON_DEPTH,
    MAX_METADATA_CHARS,
    SNAPSHOT_PREFIX,
    LayerSpec,
    architecture_of,
    check_history,
    check_training,
    history_problem,
    is_int,
    metadata_json,
    preprocessing_problem,
    show,
    snapshot_epochs,
    snapshot_name,
    to_json,
    training_problem,
)
from .network import Network
from .preprocessing import TabularPreprocessor
from .safetensors_reader import out_of_memory, read_header, read_tensors
from .snapshots import SnapshotRecord, WeightSnapshot
from .version import __version__

__all__ = ["FORMAT", "FORMAT_VERSION", "MAX_HEADER_BYTES", "MAX_JSON_DEPTH", "MAX_METADATA_CHARS",
           "FileWriteError",
           "ModelFileError", "SavedModel", "save", "load", "load_model", "model_bytes", "checksum"]

FORMAT = "slopes"
FORMAT_VERSION = 1
_JSON_KEYS = ("architecture", "preprocessing", "training", "history")


@dataclass
class SavedModel:
    """Everything a model file holds: the network and what came with it.

    Attributes
    ----------
    network : Network
    preprocessing : TabularPreprocessor or None
    training : dict
        Training settings (loss, optimizer, learning rate, epochs...).
    history : dict of str to list of float
        Per-epoch values such as ``loss`` and ``val_loss``.
    metadata : dict of str to str
        The raw metadata of the file (format, versions).
    snapshots : list of WeightSnapshot
        The weights recorded during training, oldest first (empty when the
        file has none): ``epoch`` counts from 0 as in ``History.epoch``, and
        is None for the weights before training. Give them to
        :func:`slopes.report` (``snapshots=model.snapshots``) to scrub
        through the epochs.
    """

    network: Network
    preprocessing: Any = None
    training: dict[str, Any] = field(default_factory=dict)
    history: dict[str, list[float]] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    snapshots: list[WeightSnapshot] = field(default_factory=list)


# ---------------------------------------------------------------------- saving
def _activation_spec(k: int, activation: Activation) -> dict[str, Any]:
    cls = ACTIVATIONS.get(activation.name)
    if cls is None or type(activation) is not cls:
        raise ValueError(
            f"layers[{k}] uses a custom activation {activation!r}; model files can hold only "
            f"the built-in ones: {', '.join(ACTIVATIONS)}"
        )
    return {"name": activation.name, **{key: v for key, v in vars(activation).items()}}


def _layer_training(layer: Dense) -> dict[str, Any]:
    """A layer's ``dropout``, ``l1`` and ``l2``, those set only (a file without them is the
    file an older slopes wrote, and reads back as none)."""
    settings = {"dropout": layer.dropout or None, "l1": layer.l1, "l2": layer.l2}
    return {key: value for key, value in settings.items() if value is not None}


def _architecture(net: Network) -> dict[str, Any]:
    return {
        "dtype": net.dtype.name,
        "sizes": net.sizes,
        "layers": [
            {"n_in": layer.n_in, "n_out": layer.n_out,
             "activation": _activation_spec(k, layer.activation), "bias": layer.has_bias,
             **_layer_training(layer)}
            for k, layer in enumerate(net.layers)
        ],
    }


def _tensors(net: Network) -> dict[str, np.ndarray]:
    tensors = {}
    for k, layer in enumerate(net.layers):
        tensors[f"layers.{k}.weights"] = np.ascontiguousarray(layer.weights)
        if layer.bias is not None:
            tensors[f"layers.{k}.bias"] = np.ascontiguousarray(layer.bias)
    return tensors


def checksum(tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> str:
    """The ``checksum`` entry of a model file: ``"sha256:<hex>"`` of every tensor (name,
    dtype, shape and bytes, in name order) and every other metadata entry."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        arr = tensors[name]
        digest.update(f"{name}|{arr.dtype.str}|{arr.shape}|".encode())
        # The array's own buffer: tobytes() would copy the largest tensor once more.
        digest.update(np.ascontiguousarray(arr).reshape(-1).view(np.uint8))
    for key in sorted(metadata):
        if key != "checksum":
            digest.update(f"{key}={metadata[key]}\n".encode())
    return "sha256:" + digest.hexdigest()


def _history_dict(history: Any) -> dict[str, list[float]]:
    if history is None:
        return {}
    values = getattr(history, "history", history)
    if not isinstance(values, Mapping):
        raise TypeError(f"history must be a History or a dict of lists, "
                        f"got {type(history).__name__}")
    # NaN/inf (a diverged run) are stored as None: JSON has no NaN.
    return {str(k): [float(v) if math.isfinite(float(v)) else None for v in vals]
            for k, vals in values.items()}


def _snapshot_tensors(net: Network, snapshots: Any,
                      history: Mapping[str, list[Any]]) -> tuple[list[int], dict[str, np.ndarray]]:
    """The epochs (0: before training) and tensors that store ``snapshots`` in a file.

    Raises ``ValueError`` for snapshots that :func:`load_model` would refuse.
    """
    recorded = list(getattr(snapshots, "snapshots", snapshots) or [])
    if not recorded:
        return [], {}
    ran = history.get("loss")
    if ran is None:
        if all(getattr(snap, "epoch", "missing") is None for snap in recorded):
            ran = []  # only the weights before training (Ctrl-C in the first epoch)
        else:
            raise ValueError("snapshots need the history of the same training run: its "
                             "'loss' says how many epochs ran")
    epochs: list[int] = []
    tensors: dict[str, np.ndarray] = {}
    for n, snap in enumerate(recorded):
        index = getattr(snap, "epoch", "missing")
        if index is not None and (not is_int(index) or index < 0):
            raise ValueError(f"snapshots[{n}] has epoch {show(index)}; expected None (before "
                             "training) or a whole number >= 0 counted from 0")
        epoch = 0 if index is None else index + 1
        if epochs and epoch <= epochs[-1]:
            raise ValueError(f"snapshots[{n}] is of epoch {show(index)}, not after the one "
                             "before it; snapshots must be in the order of training")
        if epoch > len(ran):
            raise ValueError(f"snapshots[{n}] is of epoch {index} (counted from 0), but the "
                             f"history has {len(ran)} epoch(s)")
        weights, biases = list(snap.weights), list(snap.biases)
        if len(weights) != len(net.layers) or len(biases) != len(net.layers):
            raise ValueError(f"snapshots[{n}] has {len(weights)} layer(s) of weights; the "
                             f"network has {len(net.layers)}")
        for k, (layer, w, b) in enumerate(zip(net.layers, weights, biases, strict=True)):
            for what, arr, like in (("weights", w, layer.weights), ("bias", b, layer.bias)):
                if like is None and arr is None:
                    continue
                name = snapshot_name(epoch, k, what)
                if like is None or arr is None:
                    raise ValueError(f"snapshots[{n}] layer {k} has {'no ' if arr is None else ''}"
                                     f"bias, but the network's layer {k} has "
                                     f"{'none' if like is None else 'one'}")
                arr = np.asarray(arr)
                if arr.shape != like.shape:
                    raise ValueError(f"snapshots[{n}] layer {k} {what} have shape {arr.shape}; "
                                     f"the network's are {like.shape}")
                if not np.all(np.isfinite(arr)):
                    raise ValueError(f"snapshots[{n}] layer {k} {what} hold NaN or infinite "
                                     "values")
                tensors[name] = np.ascontiguousarray(arr, dtype=net.dtype)
        epochs.append(epoch)
    return epochs, tensors


def model_bytes(net: Network, preprocessing: Any = None, training: Mapping[str, Any] | None = None,
                history: Any = None,
                snapshots: SnapshotRecord | list[WeightSnapshot] | None = None) -> bytes:
    """The bytes of a model file for ``net`` (see :func:`save`)."""
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    for k, p in enumerate(net.parameters()):
        if not np.all(np.isfinite(p)):
            raise ValueError(f"{net.parameter_names()[k]} holds NaN or infinite values; "
                             "refusing to save a broken network")
    if hasattr(history, "snapshots") and hasattr(history, "history"):  # a WeightSnapshots
        snapshots = history if snapshots is None else snapshots
        history = history.history
    prep = _preprocessing_dict(net, preprocessing)
    history_values = _history_dict(history)
    problem = (training_problem(dict(training or {}))
               or history_problem(history_values, dict(training or {})))
    if problem:
        raise ValueError(f"{problem}; load would refuse the file")
    epochs, snapshot_tensors = _snapshot_tensors(net, snapshots, history_values)
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "slopes_version": __version__,
        "architecture": to_json("architecture", _architecture(net)),
        "preprocessing": to_json("preprocessing", prep),
        "training": to_json("training", dict(training or {})),
        "history": to_json("history", history_values),
    }
    if epochs:
        metadata["snapshots"] = to_json("snapshots", {"epochs": epochs})
    tensors = {**_tensors(net), **snapshot_tensors}
    metadata["checksum"] = checksum(tensors, metadata)
    data = _sorted_header(safetensors.numpy.save(tensors, metadata=metadata))
    header = int.from_bytes(data[:8], "little")
    if header > MAX_HEADER_BYTES:
        raise ValueError(f"the model file's header (its tensor list and metadata) would be "
                         f"{header:,} bytes; the limit is {MAX_HEADER_BYTES:,} bytes")
    return data


def _sorted_header(data: bytes) -> bytes:
    """``data`` (a safetensors file) with its header's entries in sorted order.

    safetensors writes the header from a hash map, in an order that changes
    from one run to the next, so the same model gave other bytes on every save.
    Sorted, the same model and settings give a byte-identical file. The tensor
    data is untouched (its offsets count from the end of the header), and the
    header is padded with spaces to a multiple of 8 bytes, as safetensors pads it.
    """
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + length])
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + data[8 + length:]


def _preprocessing_dict(net: Network, preprocessing: Any) -> dict[str, Any] | None:
    """The JSON form of ``preprocessing`` for a model file of ``net``, checked as loading
    checks it: a file that :func:`load_model` would refuse is never written."""
    if preprocessing is None:
        return None
    expected = ("expected a fitted TabularPreprocessor, its to_dict(), or None")
    if isinstance(preprocessing, TabularPreprocessor):
        params = preprocessing.to_dict()  # an unfitted one says so itself
    elif isinstance(preprocessing, Mapping):
        params = dict(preprocessing)
    else:
        raise TypeError(f"preprocessing is {type(preprocessing).__name__} "
                        f"{show(preprocessing)}; {expected}")
    try:
        fitted = TabularPreprocessor.from_dict(params)
    except ValueError as exc:
        raise ValueError(f"preprocessing cannot be stored: {exc}; {expected}") from exc
    problem = preprocessing_problem(fitted, net)
    if problem:
        raise ValueError(f"{problem}; load would refuse the file")
    return params


def save(net: Network, path: str | os.PathLike[str], preprocessing: Any = None,
         training: Mapping[str, Any] | None = None, history: Any = None,
         snapshots: SnapshotRecord | list[WeightSnapshot] | None = None) -> Path:
    """Save ``net`` (and what came with it) to a safetensors model file, atomically.

    Parameters
    ----------
    net : Network
    path : str or PathLike
        Conventionally ``*.safetensors``. Its directory must exist.
    preprocessing : TabularPreprocessor, dict or None
        A fitted :class:`~slopes.preprocessing.TabularPreprocessor` or its
        ``to_dict()``, stored as JSON; it must fit the network's inputs and
        outputs (its features, task and classes), as loading checks.
    training : dict or None
        Training settings, plain JSON values.
    history : History, dict of lists, WeightSnapshots or None
        A :class:`~slopes.callbacks.WeightSnapshots` callback given to
        ``fit`` brings both its history and its snapshots (so
        ``net.save(path, history=callback)`` keeps them).
    snapshots : WeightSnapshots or list of WeightSnapshot, optional
        Weights recorded during training, in the order of training, each of
        an epoch within the history's ``loss`` (which is then required).
        They are stored as they are: record few (see
        :data:`slopes.callbacks.FILE_SNAPSHOTS`), each adds a copy of the weights.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    FileWriteError
        An ``OSError`` naming ``path`` when the file cannot be written.
    TypeError
        When ``preprocessing`` is neither a TabularPreprocessor, a dict nor None.
    ValueError
        When the network holds NaN or a custom activation, the
        preprocessing is not fitted or does not fit the network, the
        metadata is not plain JSON within the limits, the history is longer
        than the ``epochs_run`` of ``training``, or the snapshots do not fit
        the network or the history.
    """
    return write_atomic(path, model_bytes(net, preprocessing, training, history, snapshots))


# --------------------------------------------------------------------- loading
def _check_header(path: Path, metadata: Mapping[str, str]) -> None:
    if "format" not in metadata:
        raise ModelFileError(path, "is a safetensors file but not a slopes model (its "
                                   "metadata has no 'format' entry)")
    if metadata["format"] != FORMAT:
        raise ModelFileError(
            path, f"is a safetensors file but not a slopes model (format "
                  f"{show(metadata['format'])}, expected {FORMAT!r})")
    if "format_version" not in metadata:
        raise ModelFileError(path, "metadata has no 'format_version' entry")
    version = metadata["format_version"]
    # Exactly the digits str(int) writes: " 1", "1.0", "01" or "١" are damage, not versions.
    if not isinstance(version, str) or not re.fullmatch(r"0|[1-9][0-9]*", version):
        raise ModelFileError(path, f"has format version {show(version)}, which is not a "
                                   f"whole number like '{FORMAT_VERSION}'")
    if version != str(FORMAT_VERSION):
        newer = len(version) > len(str(FORMAT_VERSION)) or int(version) > FORMAT_VERSION
        raise ModelFileError(
            path, f"has format version {show(version)}; this slopes reads version "
                  f"{FORMAT_VERSION}" + (" (it was written by a newer slopes)" if newer else ""))


def _network(dtype: np.dtype, specs: list[LayerSpec],
             tensors: Mapping[str, np.ndarray]) -> Network:
    layers = []
    for k, spec in enumerate(specs):
        layer = Dense(spec.n_in, spec.n_out, activation=spec.activation, bias=spec.bias,
                      dtype=dtype, dropout=spec.dropout, l1=spec.l1, l2=spec.l2)
        layer.weights = tensors[f"layers.{k}.weights"]
        if spec.bias:
            layer.bias = tensors[f"layers.{k}.bias"]
        layers.append(layer)
    return Network(layers)


def _snapshot_list(epochs: list[int], specs: list[LayerSpec],
                   tensors: Mapping[str, np.ndarray]) -> list[WeightSnapshot]:
    return [WeightSnapshot(
        None if epoch == 0 else epoch - 1,
        [tensors[snapshot_name(epoch, k, "weights")] for k in range(len(specs))],
        [tensors[snapshot_name(epoch, k, "bias")] if spec.bias else None
         for k, spec in enumerate(specs)]) for epoch in epochs]


def load_model(path: str | os.PathLike[str]) -> SavedModel:
    """Read a model file completely: the network, its preprocessing, settings and history.

    The file's header (the list of tensors with their dtypes and shapes, and
    the metadata) is read and checked first: every tensor must be one the
    architecture and the snapshots entry call for, of their dtype and shape,
    so the tensor data read afterwards is exactly what they allow, never
    more; a file with an extra or oversized tensor is refused without
    reading it.

    Raises
    ------
    ModelFileError
        When the file is missing, unreadable (no permission; not enough
        memory, which is said as such), truncated, corrupt, altered,
        foreign, of an unknown format version, or its contents are
        inconsistent: a header over :data:`MAX_HEADER_BYTES`, metadata that
        is not JSON within the limits, an architecture that does not match
        the tensors, preprocessing whose features, task or classes do not
        fit the network's inputs and outputs, training settings that are not
        an object (or whose ``l1``, ``l2``, ``penalize_bias``, ``dropout``,
        ``clip_norm``, ``clip_value`` or ``schedule`` is of the wrong type or
        range), a layer's ``dropout``, ``l1`` or ``l2`` out of range, a
        history that is not lists of numbers or is longer than
        the ``epochs_run`` the training settings record, or snapshots whose
        epochs are not increasing whole numbers within the history's
        ``loss`` or whose tensors do not match the network's layers.
    """
    path = Path(path)
    infos, metadata = read_header(path, MAX_HEADER_BYTES)
    _check_header(path, metadata)
    parsed = {key: metadata_json(path, metadata, key) for key in _JSON_KEYS}
    dtype, specs = architecture_of(
        path, parsed["architecture"],
        {k: v for k, v in infos.items() if not k.startswith(SNAPSHOT_PREFIX)})
    training, history = parsed["training"], parsed["history"]
    check_training(path, training)
    check_history(path, history, training)
    epochs, snapshot_names = snapshot_epochs(path, metadata, infos, dtype, specs, history)
    # Every tensor in the header is now one the metadata calls for, with its dtype and
    # shape: only now is any data read, and it is no more than the metadata allows.
    try:
        tensors = read_tensors(path, infos)
        if metadata.get("checksum") != checksum(tensors, metadata):
            raise ModelFileError(path, "checksum mismatch: the file was altered or damaged "
                                       "after it was written")
        layer_names = [f"layers.{k}.{what}" for k, spec in enumerate(specs)
                       for what in spec.shapes()]
        for name in layer_names + snapshot_names:
            if not np.all(np.isfinite(tensors[name])):
                raise ModelFileError(path, f"tensor {name!r} holds NaN or infinite values")
        net = _network(dtype, specs, tensors)
        snapshots = _snapshot_list(epochs, specs, tensors)
    except MemoryError as exc:
        total = sum(info.nbytes for info in infos.values())
        raise out_of_memory(path, f"its {total:,} bytes of tensors") from exc
    prep = parsed["preprocessing"]
    if prep is not None:
        try:
            prep = TabularPreprocessor.from_dict(prep)
        except ValueError as exc:
            raise ModelFileError(path, str(exc)) from exc
        problem = preprocessing_problem(prep, net)
        if problem:
            raise ModelFileError(path, problem)
    return SavedModel(network=net, preprocessing=prep, training=training, history=history,
                      metadata=dict(metadata), snapshots=snapshots)


def load(path: str | os.PathLike[str]) -> Network:
    """The network saved in the model file ``path`` (see :func:`load_model` for the rest).

    Raises
    ------
    ModelFileError
        When the file is missing, unreadable, truncated, corrupt, foreign or inconsistent.
    """
    return load_model(path).network
