"""The checks of a model file's contents: its limits, its JSON entries, and each entry
against the others.

:mod:`slopes.io` reads and writes model files; what it finds in one is checked
here, every problem raising :class:`~slopes.errors.ModelFileError` (when
loading) or ``ValueError`` (when saving what loading would refuse), with a
message that names the entry and says what was expected:

- the limits of a JSON entry (:data:`MAX_METADATA_CHARS`, :data:`MAX_JSON_DEPTH`,
  whole numbers of at most 308 digits, finite numbers, no key twice in an object):
  :func:`parse_json`, :func:`to_json`, :func:`metadata_json`;
- the architecture against the header's tensors (:class:`TensorInfo`):
  :func:`architecture_of`, giving a :class:`LayerSpec` per layer;
- the preprocessing (features, task and classes) against the network's inputs
  and outputs: :func:`preprocessing_problem`;
- the history against the training settings: :func:`check_history`,
  :func:`history_problem`;
- the training settings of penalties, dropout, clipping and the schedule
  (each optional: files of an older slopes have none): :func:`training_problem`,
  :func:`check_training`;
- the snapshots (their epochs against the history, their tensors against the
  network's layers): :func:`snapshot_epochs`, with the tensor names of
  :func:`snapshot_name`.

:func:`show`, :func:`is_int` and :func:`is_number` are the small helpers these
messages and checks share with :mod:`slopes.io` and :mod:`slopes.safetensors_reader`.
"""

from __future__ import annotations

import json
import math
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .activations import ACTIVATIONS, Activation
from .errors import ModelFileError
from .layers import FLOAT_DTYPES
from .network import Network

__all__ = ["MAX_JSON_DEPTH", "MAX_METADATA_CHARS", "MAX_HEADER_BYTES", "SNAPSHOT_PREFIX",
           "LayerSpec", "TensorInfo", "architecture_of", "check_history", "history_problem",
           "check_training", "training_problem", "layer_training_problem",
           "is_int", "is_number", "metadata_json", "parse_json", "preprocessing_problem",
           "show", "snapshot_epochs", "snapshot_name", "to_json", "unique_keys"]

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
#: The start of the name of every snapshot tensor (``snapshots.<e>.layers.<k>.weights``).
SNAPSHOT_PREFIX = "snapshots."

_short = reprlib.Repr()
_short.maxstring = _short.maxother = 60
_short.maxlist = _short.maxdict = 6
_short.maxlevel = 3


def show(value: Any) -> str:
    """A short ``repr`` for messages: long strings and lists are cut, deep ones elided."""
    return _short.repr(value)


def is_int(value: Any) -> bool:
    """Whether ``value`` is a whole number as JSON gives it (an ``int``, not a ``bool``)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """Whether ``value`` is a number as JSON gives it (``int`` or ``float``, not a ``bool``)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class TensorInfo:
    """A tensor as the file's header describes it, before any of its data is read."""

    dtype: str  # the NumPy name ("float64"), or safetensors' own for a dtype NumPy lacks
    shape: tuple[int, ...]
    nbytes: int


# ------------------------------------------------------------------------ JSON
def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An ``object_pairs_hook`` for ``json.loads`` that refuses a key seen twice in one object."""
    # json.loads would silently keep the last of two equal keys.
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"the key {show(key)} appears twice in one object")
        obj[key] = value
    return obj


def _check_json_scalar(item: Any) -> None:
    if isinstance(item, float) and not math.isfinite(item):
        # Python's json reads NaN, Infinity and 1e400 (= inf), which JSON does not allow.
        raise ValueError(f"holds the number {item!r}; JSON numbers must be finite")
    if is_int(item) and abs(item) >= _MAX_JSON_INT:
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


def parse_json(text: str) -> Any:
    """``json.loads`` with the limits.

    Every problem is a ``ValueError`` whose message completes a sentence about
    the entry: "is not valid JSON: ...", "is nested more than 32 levels deep"...
    """
    if len(text) > MAX_METADATA_CHARS:
        raise ValueError(f"is {len(text):,} characters long; the limit is "
                         f"{MAX_METADATA_CHARS:,} characters ({MAX_METADATA_CHARS // 10**6} MB) "
                         "per entry")
    try:
        value = json.loads(text, object_pairs_hook=unique_keys)
    except RecursionError as exc:
        raise ValueError(f"is nested more than {MAX_JSON_DEPTH} levels deep") from exc
    except ValueError as exc:
        raise ValueError(f"is not valid JSON: {exc}") from exc
    _check_json_value(value)
    return value


def to_json(name: str, value: Any) -> str:
    try:
        text = json.dumps(value, allow_nan=False, sort_keys=True)
    except RecursionError as exc:
        raise ValueError(f"{name} is nested more than {MAX_JSON_DEPTH} levels deep") from exc
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be plain JSON data (finite numbers, str, lists, "
                         f"dicts): {exc}") from exc
    try:
        # Refuse to write what load_model would refuse to read.
        parse_json(text)
    except ValueError as exc:
        raise ValueError(f"{name} cannot be stored: it {exc}") from exc
    return text


def metadata_json(path: Path, metadata: Mapping[str, str], key: str) -> Any:
    if key not in metadata:
        raise ModelFileError(path, f"metadata has no {key!r} entry")
    try:
        return parse_json(metadata[key])
    except ValueError as exc:
        raise ModelFileError(path, f"metadata {key!r} {exc}") from exc


# -------------------------------------------------------------- architecture
def _activation(path: Path, where: str, spec: Any) -> Activation:
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise ModelFileError(path, f"{where} activation must be an object with a 'name', got "
                                   f"{show(spec)}")
    name = spec["name"]
    if name not in ACTIVATIONS:
        raise ModelFileError(path, f"{where} has unknown activation {show(name)}; known: "
                                   f"{', '.join(ACTIVATIONS)}")
    settings = {key: value for key, value in spec.items() if key != "name"}
    for key, value in settings.items():
        # The built-in activations take only numbers; a bool or a numeric string
        # would slip through their range checks.
        if not is_number(value):
            raise ModelFileError(path, f"{where} activation {name!r} setting {show(key)} must "
                                       f"be a number, got {show(value)}")
    try:
        return ACTIVATIONS[name](**settings)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(path, f"{where} activation {name!r} has bad settings "
                                   f"{show(settings)}: {exc}") from exc


@dataclass(frozen=True)
class LayerSpec:
    """A layer as the architecture metadata describes it."""

    n_in: int
    n_out: int
    bias: bool
    activation: Activation
    dropout: float = 0.0
    l1: float | None = None
    l2: float | None = None

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """The shape of each of the layer's tensors (``weights``, and ``bias`` when it has one)."""
        return {"weights": (self.n_in, self.n_out), **({"bias": (self.n_out,)} if self.bias
                                                        else {})}


def _layer_spec(path: Path, k: int, spec: Any, dtype: np.dtype,
                infos: Mapping[str, TensorInfo], last: bool = False) -> LayerSpec:
    where = f"architecture layer {k}"
    if not isinstance(spec, dict):
        raise ModelFileError(path, f"{where} is not an object: {show(spec)}")
    missing = [key for key in ("n_in", "n_out", "activation", "bias") if key not in spec]
    if missing:
        raise ModelFileError(path, f"{where} is incomplete: it has no "
                                   f"{', '.join(map(repr, missing))}")
    n_in, n_out, bias = spec["n_in"], spec["n_out"], spec["bias"]
    for key, value in (("n_in", n_in), ("n_out", n_out)):
        if not is_int(value) or value <= 0:
            raise ModelFileError(path, f"{where} {key} must be a positive whole number, got "
                                       f"{show(value)}")
    if not isinstance(bias, bool):
        raise ModelFileError(path, f"{where} bias must be true or false, got {show(bias)}")
    problem = layer_training_problem(spec, last)
    if problem:
        raise ModelFileError(path, f"{where} {problem}")
    layer = LayerSpec(n_in, n_out, bias, _activation(path, where, spec["activation"]),
                      float(spec.get("dropout", 0.0)),
                      None if spec.get("l1") is None else float(spec["l1"]),
                      None if spec.get("l2") is None else float(spec["l2"]))
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
                                       f"expected {show(shape)}")
    return layer


def architecture_of(path: Path, arch: Any,
                     infos: Mapping[str, TensorInfo]) -> tuple[np.dtype, list[LayerSpec]]:
    """The dtype and layers of the architecture metadata, checked against the header's
    tensors (``infos``, without the snapshots'): names, dtypes and shapes."""
    if not isinstance(arch, dict):
        raise ModelFileError(path, f"architecture must be an object, got {show(arch)}")
    specs = arch.get("layers")
    if not isinstance(specs, list) or not specs:
        raise ModelFileError(path, f"architecture must list at least one layer, got 'layers': "
                                   f"{show(specs)}")
    dtype_name = arch.get("dtype")
    if not isinstance(dtype_name, str) or dtype_name not in {dt.name for dt in FLOAT_DTYPES}:
        raise ModelFileError(path, f"architecture dtype is {show(dtype_name)}; expected "
                                   "float32 or float64")
    dtype = np.dtype(dtype_name)
    layers = [_layer_spec(path, k, spec, dtype, infos, k == len(specs) - 1)
              for k, spec in enumerate(specs)]
    for k in range(len(layers) - 1):
        if layers[k].n_out != layers[k + 1].n_in:
            raise ModelFileError(
                path, f"shapes do not chain: layer {k} has {layers[k].n_out} nodes but layer "
                      f"{k + 1} expects {layers[k + 1].n_in} inputs")
    if "sizes" in arch:
        sizes = arch["sizes"]
        made = [layers[0].n_in] + [layer.n_out for layer in layers]
        # Compared as whole numbers: [2.0, 1] == [2, 1] in Python, but is not what was written.
        if not (isinstance(sizes, list) and all(is_int(s) for s in sizes) and sizes == made):
            raise ModelFileError(path, f"architecture sizes {show(sizes)} do not match its "
                                       f"layers, which make {made}")
    expected = {f"layers.{k}.{what}" for k, layer in enumerate(layers) for what in layer.shapes()}
    extra = sorted(set(infos) - expected)
    if extra:
        raise ModelFileError(path, f"unexpected tensor(s) {', '.join(extra)}")
    return dtype, layers


# ------------------------------------------- penalties, dropout, schedule
def _penalty_problem(name: str, value: Any, optional: bool) -> str | None:
    """Why ``value`` is no penalty coefficient (a finite number >= 0, or null when optional)."""
    if value is None and optional:
        return None
    if not is_number(value) or not math.isfinite(value) or value < 0:
        expected = "a number >= 0" + (" or null (the fit's)" if optional else "")
        return f"{name} must be {expected}, got {show(value)}"
    return None


def _dropout_problem(name: str, value: Any) -> str | None:
    if not is_number(value) or not 0 <= value < 1:
        return (f"{name} must be a fraction of the nodes to drop, a number in [0, 1), got "
                f"{show(value)}")
    return None


def layer_training_problem(spec: Mapping[str, Any], last: bool) -> str | None:
    """Why a layer's ``dropout``, ``l1`` or ``l2`` entry is wrong (each optional), if it is.

    The output layer (``last``) may have no dropout: dropping an output drops the
    prediction, and ``fit`` refuses it.
    """
    for name in ("l1", "l2"):
        problem = _penalty_problem(name, spec.get(name), optional=True)
        if problem:
            return problem
    dropout = spec.get("dropout", 0.0)
    problem = _dropout_problem("dropout", dropout)
    if problem:
        return problem
    if last and dropout:
        return (f"is the output layer and has dropout {show(dropout)}; dropout belongs to "
                "hidden layers only (expected 0 or no 'dropout')")
    return None


def training_problem(training: Mapping[str, Any]) -> str | None:
    """Why the training settings' penalty, dropout, clipping or schedule entry is wrong.

    Each entry is optional (a file of an older slopes has none): ``l1``, ``l2``
    (numbers >= 0), ``penalize_bias`` (true or false), ``dropout`` (in [0, 1)),
    ``clip_norm`` and ``clip_value`` (null or a number > 0), ``schedule`` (null
    or an object naming its rule in ``"schedule"``, as
    ``LearningRateSchedule.to_dict()`` writes it).
    """
    for name in ("l1", "l2"):
        if name in training:
            problem = _penalty_problem(f"training {name}", training[name], optional=False)
            if problem:
                return problem
    if "penalize_bias" in training and not isinstance(training["penalize_bias"], bool):
        return ("training penalize_bias must be true or false, got "
                f"{show(training['penalize_bias'])}")
    if "dropout" in training:
        problem = _dropout_problem("training dropout", training["dropout"])
        if problem:
            return problem
    for name in ("clip_norm", "clip_value"):
        value = training.get(name)
        if value is not None and (not is_number(value) or not math.isfinite(value)
                                  or value <= 0):
            return f"training {name} must be null (no clipping) or a number > 0, got {show(value)}"
    schedule = training.get("schedule")
    if schedule is not None and not (isinstance(schedule, dict)
                                     and isinstance(schedule.get("schedule"), str)
                                     and schedule["schedule"]):
        return ("training schedule must be null or an object naming its rule, like "
                f"{{\"schedule\": \"step\", \"step_size\": 10}}, got {show(schedule)}")
    return None


def check_training(path: Path, training: Any) -> None:
    """Refuse training settings that are not an object, or whose optional entries are wrong."""
    if not isinstance(training, dict):
        raise ModelFileError(path, f"training metadata must be a JSON object, got "
                                   f"{show(training)}")
    problem = training_problem(training)
    if problem:
        raise ModelFileError(path, problem)


# ---------------------------------------------- preprocessing and history
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
            return (f"the preprocessing regresses one target ({show(prep.target)}) but the "
                    f"network has {outputs}; it needs one output per target")
    return None


def preprocessing_problem(prep: Any, net: Network) -> str | None:
    """Why the fitted preprocessing ``prep`` does not fit ``net``'s inputs and outputs."""
    if prep.n_features != net.n_inputs:
        return (f"preprocessing makes {prep.n_features} features but the network expects "
                f"{net.n_inputs}")
    return _task_problem(prep, net)


def history_problem(history: Mapping[str, Any], training: Mapping[str, Any]) -> str | None:
    """Why ``history`` is longer than the run the training settings record, if it is."""
    ran = training.get("epochs_run")
    if not is_int(ran) or ran < 0:
        return None
    for name, values in history.items():
        if isinstance(values, list) and len(values) > ran:
            return (f"history {show(name)} has {len(values):,} epochs, but the training "
                    f"settings say {ran:,} ran ('epochs_run'): the history is longer than the "
                    "run it records")
    return None


def check_history(path: Path, history: Any, training: Mapping[str, Any]) -> None:
    if not isinstance(history, dict):
        raise ModelFileError(path, f"history metadata must be a JSON object, got "
                                   f"{show(history)}")
    for name, values in history.items():
        if not isinstance(values, list):
            raise ModelFileError(path, f"history {show(name)} must be a list of numbers (one "
                                       f"per epoch), got {show(values)}")
        for epoch, value in enumerate(values):
            # None stands for a NaN or infinite value of a diverged run.
            if value is not None and not is_number(value):
                raise ModelFileError(path, f"history {show(name)} must be a list of numbers, "
                                           f"got {show(value)} at epoch {epoch}")
    problem = history_problem(history, training)
    if problem:
        raise ModelFileError(path, problem)


# ----------------------------------------------------------------- snapshots
def _some(names: list[str]) -> str:
    """The first six ``names``, and `` ...`` when there are more."""
    return ", ".join(names[:6]) + (" ..." if len(names) > 6 else "")


def snapshot_name(epoch: int, k: int, what: str) -> str:
    return f"{SNAPSHOT_PREFIX}{epoch}.layers.{k}.{what}"


def snapshot_epochs(path: Path, metadata: Mapping[str, str], infos: Mapping[str, TensorInfo],
                     dtype: np.dtype, specs: list[LayerSpec],
                     history: dict[str, Any]) -> tuple[list[int], list[str]]:
    """The epochs of the weights recorded during training and the names of their tensors,
    checked against the header's tensors (names, dtypes, shapes) and the history."""
    names = sorted(name for name in infos if name.startswith(SNAPSHOT_PREFIX))
    if "snapshots" not in metadata:
        if names:
            raise ModelFileError(path, f"unexpected tensor(s) {_some(names)} (snapshot "
                                       "tensors without a 'snapshots' metadata entry)")
        return [], []
    entry = metadata_json(path, metadata, "snapshots")
    if not isinstance(entry, dict) or set(entry) != {"epochs"}:
        raise ModelFileError(path, f"snapshots metadata must be an object with one key, "
                                   f"'epochs', got {show(entry)}")
    epochs = entry["epochs"]
    if not isinstance(epochs, list) or not epochs:
        raise ModelFileError(path, f"snapshots epochs must be a non-empty list of whole "
                                   f"numbers, got {show(epochs)}")
    losses = history.get("loss")
    if losses is None and epochs == [0]:
        losses = []  # only the weights before training: no epoch ran
    if not isinstance(losses, list):
        raise ModelFileError(path, "has snapshots but its history has no 'loss' to say how "
                                   "many epochs ran")
    for n, epoch in enumerate(epochs):
        if not is_int(epoch) or epoch < 0:
            raise ModelFileError(path, f"snapshots epochs must be whole numbers >= 0, got "
                                       f"{show(epoch)} at position {n}")
        if n and epoch <= epochs[n - 1]:
            raise ModelFileError(path, f"snapshots epochs must increase, but {epoch} follows "
                                       f"{epochs[n - 1]} at position {n}")
        if epoch > len(losses):
            raise ModelFileError(path, f"snapshots epoch {epoch} is past the end of training: "
                                       f"the history has {len(losses)} epoch(s)")
    expected = {snapshot_name(epoch, k, what): shape
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
