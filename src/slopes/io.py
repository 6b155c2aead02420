"""Model files: weights in safetensors, everything else as JSON metadata. Never pickle.

A model file is one ``.safetensors`` file:

- tensors ``layers.<k>.weights`` (n_in, n_out) and ``layers.<k>.bias`` (n_out,);
- text metadata (safetensors keeps ``dict[str, str]``): ``format`` (``"slopes"``),
  ``format_version``, ``slopes_version``, and JSON strings ``architecture``
  (layer sizes, activations, bias or not, dtype), ``preprocessing``,
  ``training`` (settings), ``history`` (per-epoch values), plus ``checksum``,
  a SHA-256 of all tensors and metadata, so a flipped byte anywhere is noticed;
- optionally, the weights recorded during training (for the epoch slider of
  ``slopes explain --html``): tensors ``snapshots.<e>.layers.<k>.weights`` and
  ``snapshots.<e>.layers.<k>.bias``, the weights after ``e`` epochs (``e = 0``:
  before training), and the JSON entry ``snapshots``, ``{"epochs": [0, ...]}``,
  listing those ``e`` in increasing order. A file without them (written by an
  older slopes, or with no snapshots) has neither the entry nor the tensors.

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

import errno
import hashlib
import json
import math
import os
import re
import reprlib
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .activations import ACTIVATIONS, Activation
from .atomic import FileWriteError, write_atomic
from .errors import ModelFileError
from .layers import FLOAT_DTYPES, Dense
from .network import Network
from .version import __version__

if TYPE_CHECKING:
    from .callbacks import WeightSnapshot, WeightSnapshots

__all__ = ["FORMAT", "FORMAT_VERSION", "MAX_HEADER_BYTES", "MAX_JSON_DEPTH", "MAX_METADATA_CHARS",
           "FileWriteError",
           "ModelFileError", "SavedModel", "save", "load", "load_model", "model_bytes"]

FORMAT = "slopes"
FORMAT_VERSION = 1
_JSON_KEYS = ("architecture", "preprocessing", "training", "history")
#: Longest JSON metadata entry read or written, in characters. A model's
#: metadata is a few kB; preprocessing with many categories stays far below this.
MAX_METADATA_CHARS = 8_000_000
#: Deepest nesting of lists and objects in a JSON metadata entry. slopes writes
#: at most 4 levels; the limit keeps recursive code downstream safe.
MAX_JSON_DEPTH = 32
#: Longest safetensors header (the list of tensors and the metadata) read or written,
#: in bytes. Refused before it is parsed; a model's header is a few kB, and this holds
#: the largest entries :data:`MAX_METADATA_CHARS` allows with room to spare.
MAX_HEADER_BYTES = 64_000_000
# Whole numbers beyond the float range would overflow float() wherever they are used.
_MAX_JSON_INT = 10**308
_OUTPUT_ACTIVATIONS = ("sigmoid", "softmax")
_SNAPSHOT_PREFIX = "snapshots."

_short = reprlib.Repr()
_short.maxstring = _short.maxother = 60
_short.maxlist = _short.maxdict = 6
_short.maxlevel = 3


def _show(value: Any) -> str:
    """A short ``repr`` for messages: long strings and lists are cut, deep ones elided."""
    return _short.repr(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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


# ------------------------------------------------------------------------ JSON
def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads would silently keep the last of two equal keys.
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"the key {_show(key)} appears twice in one object")
        obj[key] = value
    return obj


def _check_json_scalar(item: Any) -> None:
    if isinstance(item, float) and not math.isfinite(item):
        # Python's json reads NaN, Infinity and 1e400 (= inf), which JSON does not allow.
        raise ValueError(f"holds the number {item!r}; JSON numbers must be finite")
    if _is_int(item) and abs(item) >= _MAX_JSON_INT:
        # bit_length, not str(): str() itself refuses ints over 4300 digits.
        digits = int(item.bit_length() * math.log10(2)) + 1
        raise ValueError(f"holds a whole number of about {digits} digits; the limit is 308 "
                         "digits")


def _check_json_value(value: Any) -> None:
    """Raise ``ValueError`` for nesting deeper than :data:`MAX_JSON_DEPTH` or unusable numbers.

    Iterative, so a deep value cannot exhaust the stack here either; only lists and
    objects are stacked, so a list of a million numbers costs no extra memory.
    """
    if not isinstance(value, (dict, list)):
        _check_json_scalar(value)
        return
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth >= MAX_JSON_DEPTH:
            raise ValueError(f"is nested more than {MAX_JSON_DEPTH} levels deep")
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
            else:
                _check_json_scalar(child)


def _parse_json(text: str) -> Any:
    """``json.loads`` with the limits.

    Every problem is a ``ValueError`` whose message completes a sentence about
    the entry: "is not valid JSON: ...", "is nested more than 32 levels deep"...
    """
    if len(text) > MAX_METADATA_CHARS:
        raise ValueError(f"is {len(text):,} characters long; the limit is "
                         f"{MAX_METADATA_CHARS:,} characters ({MAX_METADATA_CHARS // 10**6} MB) "
                         "per entry")
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys)
    except RecursionError as exc:
        raise ValueError(f"is nested more than {MAX_JSON_DEPTH} levels deep") from exc
    except ValueError as exc:
        raise ValueError(f"is not valid JSON: {exc}") from exc
    _check_json_value(value)
    return value


def _to_json(name: str, value: Any) -> str:
    try:
        text = json.dumps(value, allow_nan=False, sort_keys=True)
    except RecursionError as exc:
        raise ValueError(f"{name} is nested more than {MAX_JSON_DEPTH} levels deep") from exc
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be plain JSON data (finite numbers, str, lists, "
                         f"dicts): {exc}") from exc
    try:
        # Refuse to write what load_model would refuse to read.
        _parse_json(text)
    except ValueError as exc:
        raise ValueError(f"{name} cannot be stored: it {exc}") from exc
    return text


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


def _snapshot_name(epoch: int, k: int, what: str) -> str:
    return f"{_SNAPSHOT_PREFIX}{epoch}.layers.{k}.{what}"


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
        if index is not None and (not _is_int(index) or index < 0):
            raise ValueError(f"snapshots[{n}] has epoch {_show(index)}; expected None (before "
                             "training) or a whole number >= 0 counted from 0")
        epoch = 0 if index is None else index + 1
        if epochs and epoch <= epochs[-1]:
            raise ValueError(f"snapshots[{n}] is of epoch {_show(index)}, not after the one "
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
                name = _snapshot_name(epoch, k, what)
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
                snapshots: WeightSnapshots | list[WeightSnapshot] | None = None) -> bytes:
    """The bytes of a model file for ``net`` (see :func:`save`)."""
    from safetensors.numpy import save as st_save

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
    problem = _history_problem(history_values, dict(training or {}))
    if problem:
        raise ValueError(f"{problem}; load would refuse the file")
    epochs, snapshot_tensors = _snapshot_tensors(net, snapshots, history_values)
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "slopes_version": __version__,
        "architecture": _to_json("architecture", _architecture(net)),
        "preprocessing": _to_json("preprocessing", prep),
        "training": _to_json("training", dict(training or {})),
        "history": _to_json("history", history_values),
    }
    if epochs:
        metadata["snapshots"] = _to_json("snapshots", {"epochs": epochs})
    tensors = {**_tensors(net), **snapshot_tensors}
    metadata["checksum"] = _checksum(tensors, metadata)
    data = st_save(tensors, metadata=metadata)
    header = int.from_bytes(data[:8], "little")
    if header > MAX_HEADER_BYTES:
        raise ValueError(f"the model file's header (its tensor list and metadata) would be "
                         f"{header:,} bytes; the limit is {MAX_HEADER_BYTES:,} bytes")
    return data


def _preprocessing_dict(net: Network, preprocessing: Any) -> dict[str, Any] | None:
    """The JSON form of ``preprocessing`` for a model file of ``net``, checked as loading
    checks it: a file that :func:`load_model` would refuse is never written."""
    from .preprocessing import TabularPreprocessor

    if preprocessing is None:
        return None
    expected = ("expected a fitted TabularPreprocessor, its to_dict(), or None")
    if isinstance(preprocessing, TabularPreprocessor):
        params = preprocessing.to_dict()  # an unfitted one says so itself
    elif isinstance(preprocessing, Mapping):
        params = dict(preprocessing)
    else:
        raise TypeError(f"preprocessing is {type(preprocessing).__name__} "
                        f"{_show(preprocessing)}; {expected}")
    try:
        fitted = TabularPreprocessor.from_dict(params)
    except ValueError as exc:
        raise ValueError(f"preprocessing cannot be stored: {exc}; {expected}") from exc
    problem = _preprocessing_problem(fitted, net)
    if problem:
        raise ValueError(f"{problem}; load would refuse the file")
    return params


def save(net: Network, path: str | os.PathLike[str], preprocessing: Any = None,
         training: Mapping[str, Any] | None = None, history: Any = None,
         snapshots: WeightSnapshots | list[WeightSnapshot] | None = None) -> Path:
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
# safetensors' dtype names: the NumPy name (for messages) and the bytes per value.
_SAFETENSORS_DTYPES = {
    "F64": ("float64", 8), "F32": ("float32", 4), "F16": ("float16", 2),
    "BF16": ("bfloat16", 2), "F8_E5M2": ("float8_e5m2", 1), "F8_E4M3": ("float8_e4m3", 1),
    "I64": ("int64", 8), "I32": ("int32", 4), "I16": ("int16", 2), "I8": ("int8", 1),
    "U64": ("uint64", 8), "U32": ("uint32", 4), "U16": ("uint16", 2), "U8": ("uint8", 1),
    "BOOL": ("bool", 1),
}


@dataclass(frozen=True)
class _TensorInfo:
    """A tensor as the file's header describes it, before any of its data is read."""

    dtype: str  # the NumPy name ("float64"), or safetensors' own for a dtype NumPy lacks
    shape: tuple[int, ...]
    nbytes: int


def _not_safetensors(path: Path, why: str) -> ModelFileError:
    return ModelFileError(path, "is not a valid safetensors file (truncated, corrupt or another "
                                f"format): {why}")


def _out_of_memory(path: Path, what: str) -> ModelFileError:
    # Not "damaged": the same file may load on a machine with more memory.
    return ModelFileError(path, f"cannot be read: not enough memory for {what} (a memory "
                                "limit, not a damaged file)")


def _file_size(path: Path) -> int:
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise ModelFileError(path, "no such file") from exc
    except OSError as exc:  # e.g. a folder on the way that this user may not enter
        raise ModelFileError(path, f"cannot be read: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(info.st_mode):
        raise ModelFileError(path, "is not a file")
    size = info.st_size
    if size < 8:
        raise ModelFileError(path, f"is {size} bytes long: empty or truncated, not a model file")
    return size


def _header_bytes(path: Path, size: int) -> bytes:
    """The JSON header of the safetensors file ``path``: its length first, then at most
    :data:`MAX_HEADER_BYTES` bytes; nothing of the tensor data."""
    try:
        with open(path, "rb") as f:
            n = int.from_bytes(f.read(8), "little")
            if n > size - 8:
                raise _not_safetensors(path, f"its header length says {n:,} bytes, but only "
                                             f"{size - 8:,} bytes follow")
            if n > MAX_HEADER_BYTES:
                raise ModelFileError(
                    path, f"has a header of {n:,} bytes; the limit is {MAX_HEADER_BYTES:,} "
                          f"bytes (the list of tensors and the metadata, each entry at most "
                          f"{MAX_METADATA_CHARS:,} characters)")
            raw = f.read(n)
    except OSError as exc:  # a file this user may not read gets here, not "no such file"
        raise ModelFileError(path, f"cannot be read: {exc.strerror or exc}") from exc
    except MemoryError as exc:
        raise _out_of_memory(path, "its header") from exc
    if len(raw) != n:  # the file shrank while it was read
        raise _not_safetensors(path, f"its header of {n:,} bytes is cut short")
    return raw


def _tensor_info(path: Path, name: str, entry: Any) -> tuple[_TensorInfo, int, int]:
    """The header's description of tensor ``name`` and where its data lies."""
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise _not_safetensors(path, f"tensor {_show(name)} is described by "
                                     f"{_show(entry)}, not by dtype, shape and data_offsets")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(dtype, str):
        raise _not_safetensors(path, f"tensor {_show(name)} has dtype {_show(dtype)}")
    if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
        raise _not_safetensors(path, f"tensor {_show(name)} has shape {_show(shape)}; expected "
                                     "a list of whole numbers >= 0")
    if not (isinstance(offsets, list) and len(offsets) == 2
            and all(_is_int(o) and o >= 0 for o in offsets) and offsets[0] <= offsets[1]):
        raise _not_safetensors(path, f"tensor {_show(name)} has data_offsets {_show(offsets)}; "
                                     "expected [begin, end] with 0 <= begin <= end")
    begin, end = offsets
    known = _SAFETENSORS_DTYPES.get(dtype)
    if known is not None and math.prod(shape) * known[1] != end - begin:
        raise _not_safetensors(
            path, f"tensor {_show(name)} of shape {tuple(shape)} and dtype {known[0]} needs "
                  f"{math.prod(shape) * known[1]:,} bytes, but its data_offsets span "
                  f"{end - begin:,}")
    return _TensorInfo(known[0] if known else dtype, tuple(shape), end - begin), begin, end


def _read_header(path: Path) -> tuple[dict[str, _TensorInfo], dict[str, str]]:
    """The tensors the header of ``path`` describes, and its metadata; no tensor data is read.

    The checks are those safetensors makes: the header is a JSON object, each tensor's
    bytes fit its dtype and shape, and the tensors fill the rest of the file exactly.
    """
    size = _file_size(path)
    raw = _header_bytes(path, size)
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys)
    except MemoryError as exc:
        raise _out_of_memory(path, f"its header of {len(raw):,} bytes") from exc
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _not_safetensors(path, f"its header is not JSON text: {exc}") from exc
    if not isinstance(header, dict):
        raise _not_safetensors(path, f"its header is {_show(header)}, not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _not_safetensors(path, "its __metadata__ is not an object of text values")
    infos: dict[str, _TensorInfo] = {}
    spans = []
    for name, entry in header.items():
        infos[name], begin, end = _tensor_info(path, name, entry)
        spans.append((begin, end, name))
    reached = 0
    for begin, end, name in sorted(spans):
        if begin != reached:
            raise _not_safetensors(path, f"tensor {_show(name)} starts at byte {begin:,} of the "
                                         f"data, not at {reached:,} where the one before ends")
        reached = end
    data = size - 8 - len(raw)
    if reached != data:
        raise _not_safetensors(path, f"its tensors hold {reached:,} bytes, but {data:,} bytes "
                                     "of data follow the header")
    return infos, metadata


def _read_tensors(path: Path, infos: Mapping[str, _TensorInfo]) -> dict[str, np.ndarray]:
    """The data of the tensors ``infos`` names, which the header checks have let through."""
    from safetensors import safe_open

    total = sum(info.nbytes for info in infos.values())
    try:
        with safe_open(str(path), framework="numpy") as f:
            return {name: f.get_tensor(name) for name in infos}
    except MemoryError as exc:
        raise _out_of_memory(path, f"its {total:,} bytes of tensors") from exc
    except OSError as exc:
        if exc.errno == errno.ENOMEM:
            raise _out_of_memory(path, f"its {total:,} bytes of tensors") from exc
        raise ModelFileError(path, f"cannot be read: {exc.strerror or exc}") from exc
    except Exception as exc:  # safetensors raises its own error types for bad files
        if "os error 12" in str(exc):  # ENOMEM, from mapping the file into memory
            raise _out_of_memory(path, f"its {total:,} bytes of tensors") from exc
        if "os error 13" in str(exc):  # EACCES: the file's permissions changed meanwhile
            raise ModelFileError(path, "cannot be read: Permission denied") from exc
        raise _not_safetensors(path, str(exc)) from exc


def _metadata_json(path: Path, metadata: Mapping[str, str], key: str) -> Any:
    if key not in metadata:
        raise ModelFileError(path, f"metadata has no {key!r} entry")
    try:
        return _parse_json(metadata[key])
    except ValueError as exc:
        raise ModelFileError(path, f"metadata {key!r} {exc}") from exc


def _check_header(path: Path, metadata: Mapping[str, str]) -> None:
    if "format" not in metadata:
        raise ModelFileError(path, "is a safetensors file but not a slopes model (its "
                                   "metadata has no 'format' entry)")
    if metadata["format"] != FORMAT:
        raise ModelFileError(
            path, f"is a safetensors file but not a slopes model (format "
                  f"{_show(metadata['format'])}, expected {FORMAT!r})")
    if "format_version" not in metadata:
        raise ModelFileError(path, "metadata has no 'format_version' entry")
    version = metadata["format_version"]
    # Exactly the digits str(int) writes: " 1", "1.0", "01" or "١" are damage, not versions.
    if not isinstance(version, str) or not re.fullmatch(r"0|[1-9][0-9]*", version):
        raise ModelFileError(path, f"has format version {_show(version)}, which is not a "
                                   f"whole number like '{FORMAT_VERSION}'")
    if version != str(FORMAT_VERSION):
        newer = len(version) > len(str(FORMAT_VERSION)) or int(version) > FORMAT_VERSION
        raise ModelFileError(
            path, f"has format version {_show(version)}; this slopes reads version "
                  f"{FORMAT_VERSION}" + (" (it was written by a newer slopes)" if newer else ""))


def _activation(path: Path, where: str, spec: Any) -> Activation:
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise ModelFileError(path, f"{where} activation must be an object with a 'name', got "
                                   f"{_show(spec)}")
    name = spec["name"]
    if name not in ACTIVATIONS:
        raise ModelFileError(path, f"{where} has unknown activation {_show(name)}; known: "
                                   f"{', '.join(ACTIVATIONS)}")
    settings = {key: value for key, value in spec.items() if key != "name"}
    for key, value in settings.items():
        # The built-in activations take only numbers; a bool or a numeric string
        # would slip through their range checks.
        if not _is_number(value):
            raise ModelFileError(path, f"{where} activation {name!r} setting {_show(key)} must "
                                       f"be a number, got {_show(value)}")
    try:
        return ACTIVATIONS[name](**settings)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(path, f"{where} activation {name!r} has bad settings "
                                   f"{_show(settings)}: {exc}") from exc


@dataclass(frozen=True)
class _LayerSpec:
    """A layer as the architecture metadata describes it."""

    n_in: int
    n_out: int
    bias: bool
    activation: Activation

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """The shape of each of the layer's tensors (``weights``, and ``bias`` when it has one)."""
        return {"weights": (self.n_in, self.n_out), **({"bias": (self.n_out,)} if self.bias
                                                        else {})}


def _layer_spec(path: Path, k: int, spec: Any, dtype: np.dtype,
                infos: Mapping[str, _TensorInfo]) -> _LayerSpec:
    where = f"architecture layer {k}"
    if not isinstance(spec, dict):
        raise ModelFileError(path, f"{where} is not an object: {_show(spec)}")
    missing = [key for key in ("n_in", "n_out", "activation", "bias") if key not in spec]
    if missing:
        raise ModelFileError(path, f"{where} is incomplete: it has no "
                                   f"{', '.join(map(repr, missing))}")
    n_in, n_out, bias = spec["n_in"], spec["n_out"], spec["bias"]
    for key, value in (("n_in", n_in), ("n_out", n_out)):
        if not _is_int(value) or value <= 0:
            raise ModelFileError(path, f"{where} {key} must be a positive whole number, got "
                                       f"{_show(value)}")
    if not isinstance(bias, bool):
        raise ModelFileError(path, f"{where} bias must be true or false, got {_show(bias)}")
    layer = _LayerSpec(n_in, n_out, bias, _activation(path, where, spec["activation"]))
    # Checked in the header, before any data is read: the sizes come from the file.
    for what, shape in layer.shapes().items():
        tensor_name = f"layers.{k}.{what}"
        info = infos.get(tensor_name)
        if info is None:
            raise ModelFileError(path, f"tensor {tensor_name!r} is missing")
        if info.dtype != dtype.name:
            raise ModelFileError(path, f"tensor {tensor_name!r} has dtype {info.dtype}, "
                                       f"but the architecture says {dtype.name}")
        if info.shape != shape:
            raise ModelFileError(path, f"tensor {tensor_name!r} has shape {info.shape}, "
                                       f"expected {_show(shape)}")
    return layer


def _architecture_of(path: Path, arch: Any,
                     infos: Mapping[str, _TensorInfo]) -> tuple[np.dtype, list[_LayerSpec]]:
    """The dtype and layers of the architecture metadata, checked against the header's
    tensors (``infos``, without the snapshots'): names, dtypes and shapes."""
    if not isinstance(arch, dict):
        raise ModelFileError(path, f"architecture must be an object, got {_show(arch)}")
    specs = arch.get("layers")
    if not isinstance(specs, list) or not specs:
        raise ModelFileError(path, f"architecture must list at least one layer, got 'layers': "
                                   f"{_show(specs)}")
    dtype_name = arch.get("dtype")
    if not isinstance(dtype_name, str) or dtype_name not in {dt.name for dt in FLOAT_DTYPES}:
        raise ModelFileError(path, f"architecture dtype is {_show(dtype_name)}; expected "
                                   "float32 or float64")
    dtype = np.dtype(dtype_name)
    layers = [_layer_spec(path, k, spec, dtype, infos) for k, spec in enumerate(specs)]
    for k in range(len(layers) - 1):
        if layers[k].n_out != layers[k + 1].n_in:
            raise ModelFileError(
                path, f"shapes do not chain: layer {k} has {layers[k].n_out} nodes but layer "
                      f"{k + 1} expects {layers[k + 1].n_in} inputs")
    if "sizes" in arch:
        sizes = arch["sizes"]
        made = [layers[0].n_in] + [layer.n_out for layer in layers]
        # Compared as whole numbers: [2.0, 1] == [2, 1] in Python, but is not what was written.
        if not (isinstance(sizes, list) and all(_is_int(s) for s in sizes) and sizes == made):
            raise ModelFileError(path, f"architecture sizes {_show(sizes)} do not match its "
                                       f"layers, which make {made}")
    expected = {f"layers.{k}.{what}" for k, layer in enumerate(layers) for what in layer.shapes()}
    extra = sorted(set(infos) - expected)
    if extra:
        raise ModelFileError(path, f"unexpected tensor(s) {', '.join(extra)}")
    return dtype, layers


def _network(dtype: np.dtype, specs: list[_LayerSpec],
             tensors: Mapping[str, np.ndarray]) -> Network:
    layers = []
    for k, spec in enumerate(specs):
        layer = Dense(spec.n_in, spec.n_out, activation=spec.activation, bias=spec.bias,
                      dtype=dtype)
        layer.weights = tensors[f"layers.{k}.weights"]
        if spec.bias:
            layer.bias = tensors[f"layers.{k}.bias"]
        layers.append(layer)
    return Network(layers)


def _task_problem(prep: Any, net: Network) -> str | None:
    """Why the preprocessing's task and classes do not fit the network's output layer."""
    act = net.layers[-1].activation.name
    n_out = net.n_outputs
    outputs = f"{n_out} {act} output{'s' if n_out != 1 else ''}"
    if prep.task == "classify":
        k = len(prep.classes)
        if act not in _OUTPUT_ACTIVATIONS:
            return (f"the preprocessing classifies ({k} classes) but the network has "
                    f"{outputs}; classification needs a sigmoid or softmax output layer")
        if k == 2:
            fits, need = (act, n_out) in (("sigmoid", 1), ("softmax", 2)), \
                "1 sigmoid output or 2 softmax outputs"
        else:
            fits, need = (act, n_out) == ("softmax", k), f"{k} softmax outputs"
        if not fits:
            return (f"the preprocessing has {k} classes, which need {need}, but the network "
                    f"has {outputs}")
    elif prep.task == "regress":
        if act == "softmax":
            return (f"the preprocessing regresses but the network has {outputs}; softmax "
                    "outputs always sum to 1, so a regression must not use one")
        if n_out != 1:
            return (f"the preprocessing regresses one target ({_show(prep.target)}) but the "
                    f"network has {outputs}; it needs one output per target")
    return None


def _preprocessing_problem(prep: Any, net: Network) -> str | None:
    """Why the fitted preprocessing ``prep`` does not fit ``net``'s inputs and outputs."""
    if prep.n_features != net.n_inputs:
        return (f"preprocessing makes {prep.n_features} features but the network expects "
                f"{net.n_inputs}")
    return _task_problem(prep, net)


def _history_problem(history: Mapping[str, Any], training: Mapping[str, Any]) -> str | None:
    """Why ``history`` is longer than the run the training settings record, if it is."""
    ran = training.get("epochs_run")
    if not _is_int(ran) or ran < 0:
        return None
    for name, values in history.items():
        if isinstance(values, list) and len(values) > ran:
            return (f"history {_show(name)} has {len(values):,} epochs, but the training "
                    f"settings say {ran:,} ran ('epochs_run'): the history is longer than the "
                    "run it records")
    return None


def _check_history(path: Path, history: Any, training: Mapping[str, Any]) -> None:
    if not isinstance(history, dict):
        raise ModelFileError(path, f"history metadata must be a JSON object, got "
                                   f"{_show(history)}")
    for name, values in history.items():
        if not isinstance(values, list):
            raise ModelFileError(path, f"history {_show(name)} must be a list of numbers (one "
                                       f"per epoch), got {_show(values)}")
        for epoch, value in enumerate(values):
            # None stands for a NaN or infinite value of a diverged run.
            if value is not None and not _is_number(value):
                raise ModelFileError(path, f"history {_show(name)} must be a list of numbers, "
                                           f"got {_show(value)} at epoch {epoch}")
    problem = _history_problem(history, training)
    if problem:
        raise ModelFileError(path, problem)


def _some(names: list[str]) -> str:
    """The first six ``names``, and `` ...`` when there are more."""
    return ", ".join(names[:6]) + (" ..." if len(names) > 6 else "")


def _snapshot_epochs(path: Path, metadata: Mapping[str, str], infos: Mapping[str, _TensorInfo],
                     dtype: np.dtype, specs: list[_LayerSpec],
                     history: dict[str, Any]) -> tuple[list[int], list[str]]:
    """The epochs of the weights recorded during training and the names of their tensors,
    checked against the header's tensors (names, dtypes, shapes) and the history."""
    names = sorted(name for name in infos if name.startswith(_SNAPSHOT_PREFIX))
    if "snapshots" not in metadata:
        if names:
            raise ModelFileError(path, f"unexpected tensor(s) {_some(names)} (snapshot "
                                       "tensors without a 'snapshots' metadata entry)")
        return [], []
    entry = _metadata_json(path, metadata, "snapshots")
    if not isinstance(entry, dict) or set(entry) != {"epochs"}:
        raise ModelFileError(path, f"snapshots metadata must be an object with one key, "
                                   f"'epochs', got {_show(entry)}")
    epochs = entry["epochs"]
    if not isinstance(epochs, list) or not epochs:
        raise ModelFileError(path, f"snapshots epochs must be a non-empty list of whole "
                                   f"numbers, got {_show(epochs)}")
    losses = history.get("loss")
    if losses is None and epochs == [0]:
        losses = []  # only the weights before training: no epoch ran
    if not isinstance(losses, list):
        raise ModelFileError(path, "has snapshots but its history has no 'loss' to say how "
                                   "many epochs ran")
    for n, epoch in enumerate(epochs):
        if not _is_int(epoch) or epoch < 0:
            raise ModelFileError(path, f"snapshots epochs must be whole numbers >= 0, got "
                                       f"{_show(epoch)} at position {n}")
        if n and epoch <= epochs[n - 1]:
            raise ModelFileError(path, f"snapshots epochs must increase, but {epoch} follows "
                                       f"{epochs[n - 1]} at position {n}")
        if epoch > len(losses):
            raise ModelFileError(path, f"snapshots epoch {epoch} is past the end of training: "
                                       f"the history has {len(losses)} epoch(s)")
    expected = {_snapshot_name(epoch, k, what): shape
                for epoch in epochs for k, spec in enumerate(specs)
                for what, shape in spec.shapes().items()}
    for name, shape in expected.items():
        info = infos.get(name)
        if info is None:
            raise ModelFileError(path, f"tensor {name!r} is missing (the snapshots metadata "
                                       "lists its epoch)")
        if info.dtype != dtype.name:
            raise ModelFileError(path, f"tensor {name!r} has dtype {info.dtype}, but the "
                                       f"architecture says {dtype.name}")
        if info.shape != shape:
            raise ModelFileError(path, f"tensor {name!r} has shape {info.shape}, but the "
                                       f"network's layer has {shape}")
    extra = [name for name in names if name not in expected]
    if extra:
        raise ModelFileError(path, f"unexpected tensor(s) {_some(extra)} (not of an epoch "
                                   "the snapshots metadata lists, or not of a layer)")
    return epochs, list(expected)


def _snapshot_list(epochs: list[int], specs: list[_LayerSpec],
                   tensors: Mapping[str, np.ndarray]) -> list[WeightSnapshot]:
    from .callbacks import WeightSnapshot

    return [WeightSnapshot(
        None if epoch == 0 else epoch - 1,
        [tensors[_snapshot_name(epoch, k, "weights")] for k in range(len(specs))],
        [tensors[_snapshot_name(epoch, k, "bias")] if spec.bias else None
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
        an object, a history that is not lists of numbers or is longer than
        the ``epochs_run`` the training settings record, or snapshots whose
        epochs are not increasing whole numbers within the history's
        ``loss`` or whose tensors do not match the network's layers.
    """
    path = Path(path)
    infos, metadata = _read_header(path)
    _check_header(path, metadata)
    parsed = {key: _metadata_json(path, metadata, key) for key in _JSON_KEYS}
    dtype, specs = _architecture_of(
        path, parsed["architecture"],
        {k: v for k, v in infos.items() if not k.startswith(_SNAPSHOT_PREFIX)})
    training, history = parsed["training"], parsed["history"]
    if not isinstance(training, dict):
        raise ModelFileError(path, f"training metadata must be a JSON object, got "
                                   f"{_show(training)}")
    _check_history(path, history, training)
    epochs, snapshot_names = _snapshot_epochs(path, metadata, infos, dtype, specs, history)
    # Every tensor in the header is now one the metadata calls for, with its dtype and
    # shape: only now is any data read, and it is no more than the metadata allows.
    try:
        tensors = _read_tensors(path, infos)
        if metadata.get("checksum") != _checksum(tensors, metadata):
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
        raise _out_of_memory(path, f"its {total:,} bytes of tensors") from exc
    prep = parsed["preprocessing"]
    if prep is not None:
        from .preprocessing import TabularPreprocessor

        try:
            prep = TabularPreprocessor.from_dict(prep)
        except ValueError as exc:
            raise ModelFileError(path, str(exc)) from exc
        problem = _preprocessing_problem(prep, net)
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
