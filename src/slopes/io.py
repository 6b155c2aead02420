"""Model files: weights in safetensors, everything else as JSON metadata. Never pickle.

A model file is one ``.safetensors`` file:

- tensors ``layers.<k>.weights`` (n_in, n_out) and ``layers.<k>.bias`` (n_out,);
- text metadata (safetensors keeps ``dict[str, str]``): ``format`` (``"slopes"``),
  ``format_version``, ``slopes_version``, and JSON strings ``architecture``
  (layer sizes, activations, bias or not, dtype), ``preprocessing``,
  ``training`` (settings), ``history`` (per-epoch values), plus ``checksum``,
  a SHA-256 of all tensors and metadata, so a flipped byte anywhere is noticed.

Writing is atomic: a temporary file in the same directory, then ``os.replace``,
so a crash never leaves a half-written model. Loading checks everything and
raises :class:`ModelFileError` (a ``ValueError``) naming the file and the
problem, never a raw ``KeyError``, ``JSONDecodeError`` or safetensors error.

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
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .activations import ACTIVATIONS, Activation
from .errors import ModelFileError
from .layers import FLOAT_DTYPES, Dense
from .network import Network

__all__ = ["FORMAT", "FORMAT_VERSION", "ModelFileError", "SavedModel", "save", "load",
           "load_model", "model_bytes", "write_atomic"]

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
    """

    network: Network
    preprocessing: Any = None
    training: dict[str, Any] = field(default_factory=dict)
    history: dict[str, list[float]] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------- saving
def _activation_spec(k: int, activation: Activation) -> dict[str, Any]:
    cls = ACTIVATIONS.get(activation.name)
    if cls is None or type(activation) is not cls:
        raise ValueError(
            f"layers[{k}] uses a custom activation {activation!r}; model files can hold only "
            f"the built-in ones: {', '.join(ACTIVATIONS)}"
        )
    return {"name": activation.name, **{key: v for key, v in vars(activation).items()}}


def _architecture(net: Network) -> dict[str, Any]:
    return {
        "dtype": net.dtype.name,
        "sizes": net.sizes,
        "layers": [
            {"n_in": layer.n_in, "n_out": layer.n_out,
             "activation": _activation_spec(k, layer.activation), "bias": layer.has_bias}
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


def _checksum(tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(tensors):
        arr = tensors[name]
        digest.update(f"{name}|{arr.dtype.str}|{arr.shape}|".encode())
        digest.update(np.ascontiguousarray(arr).tobytes())
    for key in sorted(metadata):
        if key != "checksum":
            digest.update(f"{key}={metadata[key]}\n".encode())
    return "sha256:" + digest.hexdigest()


def _to_json(name: str, value: Any) -> str:
    try:
        return json.dumps(value, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be plain JSON data (finite numbers, str, lists, "
                         f"dicts): {exc}") from exc


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


def model_bytes(net: Network, preprocessing: Any = None, training: Mapping[str, Any] | None = None,
                history: Any = None) -> bytes:
    """The bytes of a model file for ``net`` (see :func:`save`)."""
    from safetensors.numpy import save as st_save

    from . import __version__

    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    for k, p in enumerate(net.parameters()):
        if not np.all(np.isfinite(p)):
            raise ValueError(f"{net.parameter_names()[k]} holds NaN or infinite values; "
                             "refusing to save a broken network")
    prep = preprocessing.to_dict() if hasattr(preprocessing, "to_dict") else preprocessing
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "slopes_version": __version__,
        "architecture": _to_json("architecture", _architecture(net)),
        "preprocessing": _to_json("preprocessing", prep),
        "training": _to_json("training", dict(training or {})),
        "history": _to_json("history", _history_dict(history)),
    }
    tensors = _tensors(net)
    metadata["checksum"] = _checksum(tensors, metadata)
    return st_save(tensors, metadata=metadata)


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``.

    The temporary file lives in the same directory (so the replace is atomic)
    and is removed if anything fails; ``path`` is either the old file or the
    complete new one, never half of it.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def save(net: Network, path: str | os.PathLike[str], preprocessing: Any = None,
         training: Mapping[str, Any] | None = None, history: Any = None) -> Path:
    """Save ``net`` (and what came with it) to a safetensors model file, atomically.

    Parameters
    ----------
    net : Network
    path : str or PathLike
        Conventionally ``*.safetensors``. Its directory must exist.
    preprocessing : TabularPreprocessor, dict or None
        Stored as JSON (``to_dict()`` when it has one).
    training : dict or None
        Training settings, plain JSON values.
    history : History, dict of lists or None

    Returns
    -------
    Path
        The path written.
    """
    return write_atomic(path, model_bytes(net, preprocessing, training, history))


# --------------------------------------------------------------------- loading
def _read(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    from safetensors import safe_open

    if not path.exists():
        raise ModelFileError(path, "no such file")
    if not path.is_file():
        raise ModelFileError(path, "is not a file")
    size = path.stat().st_size
    if size < 8:
        raise ModelFileError(path, f"is {size} bytes long: empty or truncated, not a model file")
    try:
        with safe_open(str(path), framework="numpy") as f:
            metadata = f.metadata() or {}
            tensors = {name: f.get_tensor(name) for name in f.keys()}
    except OSError as exc:
        raise ModelFileError(path, f"cannot be read: {exc.strerror or exc}") from exc
    except Exception as exc:  # safetensors raises its own error types for bad files
        raise ModelFileError(
            path, f"is not a valid safetensors file (truncated, corrupt or another format): "
                  f"{exc}") from exc
    return tensors, dict(metadata)


def _metadata_json(path: Path, metadata: Mapping[str, str], key: str) -> Any:
    if key not in metadata:
        raise ModelFileError(path, f"metadata has no {key!r} entry")
    try:
        return json.loads(metadata[key])
    except ValueError as exc:
        raise ModelFileError(path, f"metadata {key!r} is not valid JSON: {exc}") from exc


def _check_header(path: Path, metadata: Mapping[str, str]) -> None:
    if metadata.get("format") != FORMAT:
        raise ModelFileError(
            path, f"is a safetensors file but not a slopes model (format "
                  f"{metadata.get('format')!r}, expected {FORMAT!r})")
    version = metadata.get("format_version")
    if version != str(FORMAT_VERSION):
        raise ModelFileError(
            path, f"has format version {version!r}; this slopes reads version {FORMAT_VERSION}"
                  + (" (it was written by a newer slopes)" if str(version).isdigit()
                     and int(version) > FORMAT_VERSION else ""))


def _layer_from_spec(path: Path, k: int, spec: Any, dtype: np.dtype,
                     tensors: Mapping[str, np.ndarray]) -> Dense:
    if not isinstance(spec, Mapping):
        raise ModelFileError(path, f"architecture layer {k} is not an object")
    try:
        n_in, n_out, bias = spec["n_in"], spec["n_out"], spec["bias"]
        act = dict(spec["activation"])
        name = act.pop("name")
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(path, f"architecture layer {k} is incomplete: {exc!r}") from exc
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (n_in, n_out)):
        raise ModelFileError(path, f"layer {k} sizes must be positive ints, got "
                                   f"n_in={n_in!r}, n_out={n_out!r}")
    if name not in ACTIVATIONS:
        raise ModelFileError(path, f"layer {k} has unknown activation {name!r}; known: "
                                   f"{', '.join(ACTIVATIONS)}")
    try:
        activation = ACTIVATIONS[name](**act)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(path, f"layer {k} activation {name!r} has bad settings {act}: "
                                   f"{exc}") from exc
    expected = {f"layers.{k}.weights": (n_in, n_out)}
    if bias:
        expected[f"layers.{k}.bias"] = (n_out,)
    layer = Dense(n_in, n_out, activation=activation, bias=bool(bias), dtype=dtype)
    for tensor_name, shape in expected.items():
        arr = tensors.get(tensor_name)
        if arr is None:
            raise ModelFileError(path, f"tensor {tensor_name!r} is missing")
        if arr.dtype != dtype:
            raise ModelFileError(path, f"tensor {tensor_name!r} has dtype {arr.dtype.name}, "
                                       f"but the architecture says {dtype.name}")
        if arr.shape != shape:
            raise ModelFileError(path, f"tensor {tensor_name!r} has shape {arr.shape}, "
                                       f"expected {shape}")
        if not np.all(np.isfinite(arr)):
            raise ModelFileError(path, f"tensor {tensor_name!r} holds NaN or infinite values")
    layer.weights = tensors[f"layers.{k}.weights"]
    if bias:
        layer.bias = tensors[f"layers.{k}.bias"]
    return layer


def _network(path: Path, arch: Any, tensors: Mapping[str, np.ndarray]) -> Network:
    if not isinstance(arch, Mapping) or not isinstance(arch.get("layers"), list) \
            or not arch["layers"]:
        raise ModelFileError(path, "architecture must list at least one layer")
    try:
        dtype = np.dtype(arch.get("dtype"))
    except TypeError as exc:
        raise ModelFileError(path, f"architecture dtype {arch.get('dtype')!r} is not a "
                                   "dtype") from exc
    if dtype not in FLOAT_DTYPES:
        raise ModelFileError(path, f"architecture dtype is {dtype.name}; expected float32 or "
                                   "float64")
    layers = [_layer_from_spec(path, k, spec, dtype, tensors)
              for k, spec in enumerate(arch["layers"])]
    for k in range(len(layers) - 1):
        if layers[k].n_out != layers[k + 1].n_in:
            raise ModelFileError(
                path, f"shapes do not chain: layer {k} has {layers[k].n_out} nodes but layer "
                      f"{k + 1} expects {layers[k + 1].n_in} inputs")
    expected = set(_tensors(Network(layers)))
    extra = sorted(set(tensors) - expected)
    if extra:
        raise ModelFileError(path, f"unexpected tensor(s) {', '.join(extra)}")
    return Network(layers)


def load_model(path: str | os.PathLike[str]) -> SavedModel:
    """Read a model file completely: the network, its preprocessing, settings and history.

    Raises
    ------
    ModelFileError
        When the file is missing, truncated, corrupt, altered, foreign, of an
        unknown format version, or its contents are inconsistent.
    """
    path = Path(path)
    tensors, metadata = _read(path)
    _check_header(path, metadata)
    if metadata.get("checksum") != _checksum(tensors, metadata):
        raise ModelFileError(path, "checksum mismatch: the file was altered or damaged "
                                   "after it was written")
    parsed = {key: _metadata_json(path, metadata, key) for key in _JSON_KEYS}
    net = _network(path, parsed["architecture"], tensors)
    prep = parsed["preprocessing"]
    if prep is not None:
        from .preprocessing import TabularPreprocessor

        try:
            prep = TabularPreprocessor.from_dict(prep)
        except ValueError as exc:
            raise ModelFileError(path, str(exc)) from exc
        if prep.n_features != net.n_inputs:
            raise ModelFileError(path, f"preprocessing makes {prep.n_features} features but "
                                       f"the network expects {net.n_inputs}")
    training, history = parsed["training"], parsed["history"]
    if not isinstance(training, dict) or not isinstance(history, dict):
        raise ModelFileError(path, "training and history metadata must be JSON objects")
    return SavedModel(network=net, preprocessing=prep, training=training, history=history,
                      metadata=dict(metadata))


def load(path: str | os.PathLike[str]) -> Network:
    """The network saved in the model file ``path`` (see :func:`load_model` for the rest).

    Raises
    ------
    ModelFileError
        When the file is missing, truncated, corrupt, foreign or inconsistent.
    """
    return load_model(path).network
