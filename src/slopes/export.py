"""Export a network to ONNX and to PyTorch, and bring a PyTorch network back.

- :func:`to_onnx` writes an ONNX model (the standard ``ai.onnx`` operators
  only: Gemm or MatMul, Relu, Max, Sigmoid, Tanh, Softmax, and for the
  preprocessing Sub, Div, Equal, Concat...), which onnxruntime, or any ONNX
  runtime, runs without slopes. :func:`onnx_model` builds it in memory, and
  :func:`onnx_feed` builds its inputs from a pandas table the way slopes
  reads the table.
- :func:`to_torch` gives a ``torch.nn.Sequential`` with the same weights, to
  train at scale with PyTorch (DDP, Ray Train, Spark's TorchDistributor);
  with the preprocessing, it standardizes its inputs and gives regression
  predictions in the target's units. :func:`torch_features` builds its input
  from a pandas table, and :func:`save_torch` writes it as a file that
  PyTorch loads without slopes (``torch.export``).
- :func:`from_torch` brings a trained ``Sequential`` of ``Linear`` layers and
  activations back as a :class:`~slopes.network.Network`, for ``trace``,
  ``explain`` and ``draw_network``.

Neither ``onnx`` nor ``torch`` is imported by ``import slopes``: each is
imported inside the function that needs it, and a missing one raises an
``ImportError`` saying what to install (``pip install 'slopes[onnx]'``;
PyTorch is never a dependency of slopes).

The ONNX model computes what slopes computes
--------------------------------------------
The network runs in its own dtype (float64 unless it was made float32),
with its weights as they are, and the preprocessing runs in float64, as
:meth:`~slopes.preprocessing.TabularPreprocessor.transform` does: a column of
Unix times (1.7e9 +- 5000) is standardized to the same numbers, and a
category code like 100000001 is compared exactly (float64 holds every whole
number up to 2**53, and slopes' own category keys are float64 numbers). The
probabilities and predictions agree with ``slopes predict`` to about 1e-15
(the order of the sums in a matrix product differs).

The ONNX model's inputs
-----------------------
Without preprocessing, the model has one input ``input``, of the network's
dtype and shape ``(n, n_features)``: the numbers the network reads, already
preprocessed.

With a :class:`~slopes.preprocessing.TabularPreprocessor` (what ``slopes
train`` stores in a model file), the preprocessing runs inside the model and
it takes the raw columns: **one input per column, named after the column,
of shape (n, 1)**, in the order of ``preprocessing.columns``:

- a numeric column is float64 (``double``), standardized inside as
  ``(x - mean) / scale``;
- a categorical column whose categories are all numbers (like the course's
  ``rank``) is float64, one-hot encoded inside by comparing with each
  category;
- a categorical text column is a string tensor, one-hot encoded inside by
  comparing with each category as slopes matches it: the cell's text with
  its surrounding spaces removed (``' red '`` is ``'red'``), a number as
  ``'2'`` or ``'2.5'`` (``2.0`` is ``'2'``), ``True``/``False`` as
  ``'True'``/``'False'``, and a missing cell as ``'(missing)'``. This needs
  ``Equal`` on strings, so such a model uses opset 19 instead of 13.

:func:`onnx_feed` does all that for a pandas table; the README shows the
same in a few lines of pandas, without slopes.

Missing cells and rows slopes refuses
-------------------------------------
With ``fill_missing`` (``slopes train --fill-missing``), NaN in a numeric
column becomes the training mean, and NaN (numbers) or ``'(missing)'``
(text) is the category ``'(missing)'``: what slopes does.

An ONNX model cannot raise errors the way ``slopes predict`` does. Where
slopes refuses a row, the model gives **NaN** probabilities (or
predictions) for it instead of an answer: a missing value without
``fill_missing``, a category never seen in training, an infinite number or
one too large for the learned scale. The ``label`` of such a row means
nothing; check ``numpy.isnan(probabilities).any(axis=1)``.

The ONNX model's outputs
------------------------
- a classifier (a sigmoid output node, or softmax outputs): ``probabilities``
  (n, k), one column per class (a single sigmoid output ``p`` gives
  ``[1 - p, p]``, like ``slopes predict``), and ``label`` (n,): the class
  with the highest probability, as its label from the preprocessing (int64
  when every class is a whole number, else a string), or as its index
  (int64) without preprocessing;
- otherwise ``prediction`` (n, n_outputs), in the target's own units when
  the preprocessing standardized the target.

Both are of the network's dtype.
"""

from __future__ import annotations

import importlib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .activations import ACTIVATIONS, Activation, LeakyRelu
from .layers import Dense, as_float_dtype
from .network import Network
from .preprocessing import MISSING_CATEGORY as _MISSING
from .preprocessing import category_key
from .version import __version__

__all__ = ["to_onnx", "onnx_model", "onnx_feed", "to_torch", "torch_features", "save_torch",
           "from_torch", "ONNX_OPSET", "ONNX_OPSET_TEXT"]

#: The opset of an exported ONNX model (Softmax over the last axis needs >= 13).
ONNX_OPSET = 13
#: The opset when a text column is one-hot encoded inside the model (``Equal``
#: compares strings from opset 19 on).
ONNX_OPSET_TEXT = 19

_ONNX_INSTALL = "pip install 'slopes[onnx]'"
_TORCH_INSTALL = ("pip install torch (PyTorch is never installed with slopes; pick the build "
                  "for your machine at https://pytorch.org)")


def _require(module: str, purpose: str, install: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.split(".")[0]
        raise ImportError(f"{purpose} needs {package}, which is not installed; install it "
                          f"with: {install}") from exc


# ===================================================================== ONNX
def _check_network(net: object) -> Network:
    if not isinstance(net, Network):
        raise TypeError(f"net must be a slopes Network, got {type(net).__name__}")
    for k, layer in enumerate(net.layers):
        act = layer.activation
        if type(act) is not ACTIVATIONS.get(act.name):
            raise ValueError(f"layers[{k}] uses a custom activation {act!r}; only the built-in "
                             f"ones can be exported: {', '.join(ACTIVATIONS)}")
    return net


def _check_preprocessing(preprocessing: object, net: Network) -> Any:
    """A fitted TabularPreprocessor (a dict is read with ``from_dict``) that fits ``net``."""
    if preprocessing is None:
        return None
    from .preprocessing import TabularPreprocessor

    if isinstance(preprocessing, Mapping):
        preprocessing = TabularPreprocessor.from_dict(preprocessing)
    if not isinstance(preprocessing, TabularPreprocessor):
        raise TypeError("preprocessing must be a fitted TabularPreprocessor, its to_dict(), or "
                        f"None, got {type(preprocessing).__name__}")
    prep = preprocessing
    if not prep.fitted:
        raise ValueError("the TabularPreprocessor is not fitted yet; fit it (or load it "
                         "from a model file) before exporting")
    if prep.n_features != net.n_inputs:
        raise ValueError(f"the preprocessing makes {prep.n_features} features "
                         f"({', '.join(prep.feature_names)}), but the network expects "
                         f"{net.n_inputs} inputs")
    if prep.task == "classify":
        k = len(prep.classes)
        act, n_out = net.layers[-1].activation.name, net.n_outputs
        fits = (act, n_out) in (("sigmoid", 1), ("softmax", 2)) if k == 2 \
            else (act, n_out) == ("softmax", k)
        if not fits:
            need = "1 sigmoid output or 2 softmax outputs" if k == 2 else f"{k} softmax outputs"
            raise ValueError(f"the preprocessing has {k} classes, which need {need}, but the "
                             f"network has {n_out} {act} output(s)")
    elif prep.task == "regress" and net.n_outputs != 1:
        raise ValueError(f"the preprocessing regresses one target ({prep.target!r}), but the "
                         f"network has {net.n_outputs} outputs")
    return prep


def _is_classifier(net: Network, prep: Any) -> bool:
    if prep is not None and prep.task is not None:
        return prep.task == "classify"
    act = net.layers[-1].activation.name
    return (act == "sigmoid" and net.n_outputs == 1) or act == "softmax"


def _category_key(value: object) -> str:
    """:func:`~slopes.preprocessing.category_key`, and ``'(missing)'`` for a missing cell."""
    if value is None or (not isinstance(value, str) and _is_missing(value)):
        return _MISSING
    return category_key(value)


def _is_missing(value: object) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (ImportError, TypeError, ValueError):
        return isinstance(value, float) and math.isnan(value)


def _number_key(key: str) -> float | None:
    """The number a category key stands for, or None for text.

    The preprocessing writes a number's key as ``str(int)`` or ``repr(float)``
    of a float64; only keys that read back to themselves are numbers
    (``'02139'`` is text, and so is ``'9007199254740993'``, which float64
    cannot hold: a whole number above 2**53 that is not a float64 never came
    from a number cell). So a float64 input compares such categories exactly.
    """
    try:
        number = float(key)
    except ValueError:
        return None
    if not math.isfinite(number) or _category_key(number) != key:
        return None
    return number


def _numeric_categories(keys: list[str]) -> bool:
    return all(_number_key(k) is not None for k in keys if k != _MISSING)


def _fmt(x: float) -> str:
    return f"{x:.10g}"


def _listing(keys: list[str], text: bool, limit: int = 12) -> str:
    """``'blue', 'green', 'red'`` (at most ``limit`` of them) for a description."""
    shown = [repr(k) if text else k for k in keys if k != _MISSING]
    if len(shown) > limit:
        return f"{', '.join(shown[:limit - 1])}, ... ({len(shown)} categories)"
    return ", ".join(shown)


@dataclass
class _Graph:
    """Nodes, constants and value names of an ONNX graph being built."""

    helper: Any
    numpy_helper: Any
    used: set[str] = field(default_factory=set)
    nodes: list[Any] = field(default_factory=list)
    constants: list[Any] = field(default_factory=list)

    def name(self, hint: str) -> str:
        # Column names are input names: internal names must never collide with them.
        name, n = hint, 1
        while name in self.used:
            n += 1
            name = f"{hint}_{n}"
        self.used.add(name)
        return name

    def const(self, hint: str, value: np.ndarray) -> str:
        name = self.name(hint)
        self.constants.append(self.numpy_helper.from_array(value, name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str, output: str | None = None,
           **attrs: Any) -> str:
        out = output if output is not None else self.name(hint)
        self.nodes.append(self.helper.make_node(op_type, inputs, [out], name=self.name(
            f"{hint}/{op_type}"), **attrs))
        return out


def _nan_where(g: _Graph, condition: str, x: str, hint: str) -> str:
    """``x`` with NaN where ``condition`` holds (float64)."""
    return g.op("Where", [condition, g.const(f"{hint}/nan", np.float64([[np.nan]])), x], hint)


def _one_hot(g: _Graph, TP: Any, name: str, keys: list[str], text: bool) -> str:
    """The (n, k) float64 one-hot block of column ``name`` against its categories ``keys``.

    A row that matches no category (a category never seen, or a missing cell
    without a ``'(missing)'`` category) is NaN: slopes refuses such a row.
    """
    if text:
        # A missing cell is fed as the text '(missing)' (see onnx_feed): one more category.
        hits = g.op("Equal", [name, g.const(f"{name}/categories", np.array([keys],
                                                                           dtype=object))],
                    f"{name}/equal")
    else:
        # NaN stands in for '(missing)' here: it equals nothing, IsNaN finds it below.
        values = [np.nan if k == _MISSING else _number_key(k) for k in keys]
        hits = g.op("Equal", [name, g.const(f"{name}/categories", np.array([values],
                                                                           dtype=np.float64))],
                    f"{name}/equal")
        if _MISSING in keys:
            mask = np.zeros((1, len(keys)), dtype=bool)
            mask[0, keys.index(_MISSING)] = True
            slot = g.op("And", [g.op("IsNaN", [name], f"{name}/is_nan"),
                                g.const(f"{name}/missing_slot", mask)], f"{name}/missing")
            hits = g.op("Or", [hits, slot], f"{name}/hits")
    one_hot = g.op("Cast", [hits], f"{name}/hits_as_numbers", to=TP.DOUBLE)
    # 1/1 or 0/1 in a row with one hit, 0/0 = NaN in a row with none.
    found = g.op("ReduceSum", [one_hot, g.const(f"{name}/axis", np.int64([1]))],
                 f"{name}/found", keepdims=1)
    return g.op("Div", [one_hot, found], f"{name}/one_hot")


def _tabular_inputs(g: _Graph, TP: Any, prep: Any) -> tuple[list[Any], list[str], bool]:
    """Graph inputs (one per column), the float64 feature blocks, and whether any is text."""
    inputs, blocks, any_text = [], [], False
    for name in prep.columns:
        if name in prep.numeric:
            mean, scale = prep.numeric[name]["mean"], prep.numeric[name]["scale"]
            x = name
            doc = f"standardized inside: (x - {_fmt(mean)}) / {_fmt(scale)}"
            if prep.fill_missing:
                x = g.op("Where", [g.op("IsNaN", [name], f"{name}/is_nan"),
                                   g.const(f"{name}/fill", np.float64([[mean]])), name],
                         f"{name}/filled")
                doc += "; NaN (missing) becomes the training mean"
            else:
                doc += "; NaN (missing) gives NaN outputs"
            x = g.op("Sub", [x, g.const(f"{name}/mean", np.float64([[mean]]))],
                     f"{name}/centered")
            z = g.op("Div", [x, g.const(f"{name}/scale", np.float64([[scale]]))],
                     f"{name}/scaled")
            # slopes refuses an infinite value, or one the scale makes infinite: NaN here.
            blocks.append(_nan_where(g, g.op("IsInf", [z], f"{name}/is_inf"), z,
                                     f"{name}/standardized"))
            elem = TP.DOUBLE
        else:
            keys = list(prep.categories[name])
            text = not _numeric_categories(keys)
            any_text = any_text or text
            doc = (f"one-hot encoded inside over {_listing(keys, text)} (any other "
                   f"{'text' if text else 'value'} gives NaN outputs")
            if _MISSING in keys:
                fed = f"fed as the text {_MISSING!r}" if text else "NaN"
                doc += f"; a missing cell ({fed}) is the category {_MISSING!r}"
            doc += ")"
            blocks.append(_one_hot(g, TP, name, keys, text))
            elem = TP.STRING if text else TP.DOUBLE
        inputs.append(g.helper.make_tensor_value_info(name, elem, ["n", 1], doc_string=doc))
    return inputs, blocks, any_text


def _layers(g: _Graph, net: Network, x: str) -> str:
    """The network's layers in its dtype; every operator has a float64 kernel in onnxruntime."""
    dtype = net.dtype
    for k, layer in enumerate(net.layers):
        w = g.const(f"layers.{k}.weights", layer.weights.astype(dtype))
        if layer.has_bias:
            b = g.const(f"layers.{k}.bias", layer.bias.astype(dtype))
            x = g.op("Gemm", [x, w, b], f"layers.{k}/z")
        else:
            x = g.op("MatMul", [x, w], f"layers.{k}/z")
        act = layer.activation
        if act.name == "relu":
            x = g.op("Relu", [x], f"layers.{k}/relu")
        elif act.name == "leaky_relu":
            # max(z, alpha z), as slopes computes it: onnxruntime's LeakyRelu is float32 only.
            scaled = g.op("Mul", [x, g.const(f"layers.{k}/alpha", np.array(
                act.alpha, dtype=dtype))], f"layers.{k}/alpha_z")
            x = g.op("Max", [x, scaled], f"layers.{k}/leaky_relu")
        elif act.name == "sigmoid":
            x = g.op("Sigmoid", [x], f"layers.{k}/sigmoid")
        elif act.name == "tanh":
            x = g.op("Tanh", [x], f"layers.{k}/tanh")
        elif act.name == "softmax":
            x = g.op("Softmax", [x], f"layers.{k}/softmax", axis=-1)
        elif act.name != "identity":  # pragma: no cover (a new built-in activation)
            raise ValueError(f"layers[{k}]: activation {act.name!r} has no ONNX export yet")
    return x


def _class_labels(prep: Any) -> tuple[np.ndarray, str]:
    """The class labels as an int64 or string array, and how the docs call that type."""
    classes = prep.classes
    whole = all(isinstance(c, (int, float)) and not isinstance(c, bool)
                and float(c).is_integer() for c in classes)
    if whole:
        return np.array([int(c) for c in classes], dtype=np.int64), "int64"
    return np.array([str(c) for c in classes], dtype=object), "string"


def onnx_model(net: Network, preprocessing: object = None) -> Any:
    """The ONNX model of ``net`` (and its preprocessing), as an ``onnx.ModelProto``.

    See the module's docstring for the inputs and outputs; each input and
    output of the model also carries its description (``doc_string``). The
    network runs in its own dtype (float64 by default) with its weights
    unchanged, the preprocessing in float64, so the model gives what
    ``net.predict(preprocessing.transform(table))`` gives.

    Parameters
    ----------
    net : Network
    preprocessing : TabularPreprocessor, its ``to_dict()``, or None
        When given, the model takes the raw columns (one (n, 1) input each)
        and applies the preprocessing inside; otherwise it takes ``input``,
        the preprocessed features ``(n, n_features)`` in the network's dtype.

    Raises
    ------
    ImportError
        When ``onnx`` is not installed (``pip install 'slopes[onnx]'``).
    ValueError
        When the preprocessing does not fit the network, the network uses a
        custom activation, or a column has the name of an output.
    """
    onnx = _require("onnx", "exporting to ONNX", _ONNX_INSTALL)
    helper, TP = onnx.helper, onnx.TensorProto
    net = _check_network(net)
    prep = _check_preprocessing(preprocessing, net)
    classifier = _is_classifier(net, prep)
    outputs = ["label", "probabilities"] if classifier else ["prediction"]
    columns = list(prep.columns) if prep is not None else ["input"]
    for name in columns:
        if name in outputs or not name:
            what = f"the name of an output of the ONNX model ({name!r})" if name \
                else "an empty name"
            raise ValueError(f"column {name!r} has {what}; ONNX names must be unique and not "
                             "empty: rename the column and train again")
    g = _Graph(helper, onnx.numpy_helper, used=set(columns) | set(outputs))
    dtype = net.dtype
    elem = TP.DOUBLE if dtype == np.float64 else TP.FLOAT

    if prep is None:
        inputs = [helper.make_tensor_value_info(
            "input", elem, ["n", net.n_inputs],
            doc_string=f"the network's {net.n_inputs} input features, already preprocessed")]
        x, text = "input", False
    else:
        inputs, blocks, text = _tabular_inputs(g, TP, prep)
        x = blocks[0] if len(blocks) == 1 else g.op("Concat", blocks, "features", axis=1)
        if dtype != np.float64:  # transform(dtype=net.dtype): float64, then rounded
            x = g.op("Cast", [x], "features_as_network_dtype", to=elem)
    out = _layers(g, net, x)

    n_out = net.n_outputs
    if classifier:
        if n_out == 1:  # one sigmoid node p: the classes' probabilities are [1 - p, p]
            rest = g.op("Sub", [g.const("one", np.ones((1, 1), dtype=dtype)), out],
                        "one_minus_p")
            g.op("Concat", [rest, out], "probabilities", output="probabilities", axis=1)
        else:
            g.op("Identity", [out], "probabilities", output="probabilities")
        k = max(n_out, 2)
        index = g.op("ArgMax", ["probabilities"], "class_index", axis=1, keepdims=0)
        if prep is not None and prep.task == "classify":
            labels, kind = _class_labels(prep)
            g.op("Gather", [g.const("classes", labels), index], "label", output="label",
                 axis=0)
            shown = _listing([str(c) for c in prep.classes], kind == "string")
            label_doc = f"the most probable class, as its label: {shown}"
            columns_doc = f"in the order {shown}"
            label_type = TP.INT64 if kind == "int64" else TP.STRING
        else:
            g.op("Identity", [index], "label", output="label")
            label_doc = f"the index (0 to {k - 1}) of the most probable class"
            columns_doc = "one column per class"
            label_type = TP.INT64
        graph_outputs = [
            helper.make_tensor_value_info("label", label_type, ["n"], doc_string=label_doc),
            helper.make_tensor_value_info(
                "probabilities", elem, ["n", k],
                doc_string=f"the probability of each class, {columns_doc}"),
        ]
    else:
        doc = "the network's outputs"
        if prep is not None and prep.task == "regress":
            doc = f"the predicted {prep.target!r}"
            if prep.target_scale != 1.0 or prep.target_mean != 0.0:
                # The network learned the standardized target: back to the target's units.
                out = g.op("Mul", [out, g.const("target_scale", np.array(
                    [[prep.target_scale]], dtype=dtype))], "target_scaled")
                out = g.op("Add", [out, g.const("target_mean", np.array(
                    [[prep.target_mean]], dtype=dtype))], "target")
                doc += ", in its own units"
        g.op("Identity", [out], "prediction", output="prediction")
        graph_outputs = [helper.make_tensor_value_info("prediction", elem, ["n", n_out],
                                                       doc_string=doc)]

    opset = ONNX_OPSET_TEXT if text else ONNX_OPSET
    graph = helper.make_graph(g.nodes, "slopes", inputs, graph_outputs, g.constants,
                              doc_string=f"slopes network {'-'.join(map(str, net.sizes))} "
                                         f"({', '.join(a.activation.name for a in net.layers)}"
                                         f"), {dtype.name}")
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="slopes",
                              producer_version=__version__)
    # The oldest IR version that holds this opset, so older runtimes read the file too.
    model.ir_version = helper.find_min_ir_version_for(opsets)
    return model


def to_onnx(net: Network, path: str | os.PathLike[str], preprocessing: object = None) -> Path:
    """Write ``net`` (and its preprocessing) to the ONNX model file ``path``, atomically.

    The model uses only standard ONNX operators (opset 13, or 19 when a text
    column is one-hot encoded inside) and computes in the network's dtype
    (float64 by default), the preprocessing in float64. Without
    ``preprocessing`` it takes ``input`` (n, n_features), the preprocessed
    features; with a :class:`~slopes.preprocessing.TabularPreprocessor` it
    takes one (n, 1) input per raw column, named after the column: float64
    for numbers, strings for text categories (:func:`onnx_feed` builds them
    from a pandas table). Its outputs are ``label`` and ``probabilities``
    (n, k) for a classifier, ``prediction`` otherwise. The module's
    docstring (``help(slopes.export)``) says it all in full.

    Examples
    --------
    >>> net.to_onnx("model.onnx", preprocessing=prep)            # doctest: +SKIP
    >>> import onnxruntime, numpy as np                          # doctest: +SKIP
    >>> session = onnxruntime.InferenceSession("model.onnx")     # doctest: +SKIP
    >>> label, probabilities = session.run(None, {               # doctest: +SKIP
    ...     "gre": np.float64([[380]]), "gpa": np.float64([[3.61]]),
    ...     "rank": np.float64([[3]])})

    Raises
    ------
    ImportError
        When ``onnx`` is not installed (``pip install 'slopes[onnx]'``).
    FileWriteError
        An ``OSError`` naming ``path`` when it cannot be written.
    ValueError, TypeError
        See :func:`onnx_model`.
    """
    from .atomic import write_atomic

    model = onnx_model(net, preprocessing)
    import onnx

    onnx.checker.check_model(model)
    return write_atomic(path, model.SerializeToString())


def _onnx_inputs(model: object) -> list[tuple[str, str]]:
    """``(name, 'double' | 'float' | 'string' | ...)`` of each input of a session or model."""
    if hasattr(model, "get_inputs"):  # an onnxruntime.InferenceSession
        return [(i.name, str(i.type).removeprefix("tensor(").removesuffix(")"))
                for i in model.get_inputs()]
    graph = getattr(model, "graph", None)
    if graph is not None and hasattr(graph, "input"):  # an onnx.ModelProto
        onnx = _require("onnx", "onnx_feed", _ONNX_INSTALL)
        kinds = {onnx.TensorProto.DOUBLE: "double", onnx.TensorProto.FLOAT: "float",
                 onnx.TensorProto.STRING: "string"}
        return [(i.name, kinds.get(i.type.tensor_type.elem_type, "other")) for i in graph.input]
    raise TypeError("model must be an onnxruntime.InferenceSession or an onnx.ModelProto, got "
                    f"{type(model).__name__}")


def onnx_feed(table: Any, model: object) -> dict[str, np.ndarray]:
    """The inputs of an exported ONNX model for the rows of ``table``, read as slopes reads them.

    Parameters
    ----------
    table : pandas.DataFrame
        The raw columns, as ``slopes predict`` reads them from a CSV file
        (``pandas.read_csv(path, skipinitialspace=True)``); other columns
        (the target) are left out.
    model : onnxruntime.InferenceSession or onnx.ModelProto
        A model exported with its preprocessing (:func:`to_onnx`,
        ``slopes export``).

    Returns
    -------
    dict of str to array (n, 1)
        For each input: float64 numbers for a ``double`` input (a missing
        cell is NaN), and for a string input each cell's category key as
        slopes matches it (``' red '`` is ``'red'``, ``2.0`` is ``'2'``, a
        missing cell ``'(missing)'``).

    Raises
    ------
    TypeError
        When ``table`` is not a DataFrame or ``model`` not a session or model.
    ValueError
        Naming the column: a column of the model that ``table`` lacks, a
        cell that is not a number in a numeric column, or a model that takes
        preprocessed features (``input``) rather than columns.
    """
    pd = _require("pandas", "onnx_feed", "pip install 'slopes[all]'")
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    specs = _onnx_inputs(model)
    given = [str(c) for c in table.columns]
    missing = [name for name, _ in specs if name not in given]
    if [name for name, _ in specs] == ["input"] and "input" not in given:
        raise ValueError("the model takes 'input', the preprocessed features (it was exported "
                         "without preprocessing): feed it preprocessing.transform(table), not "
                         "the table")
    if missing:
        raise ValueError(f"the table has no column {', '.join(map(repr, missing))}; the model "
                         f"takes the columns {', '.join(name for name, _ in specs)}")
    table = table.set_axis(given, axis=1)
    feed: dict[str, np.ndarray] = {}
    for name, kind in specs:
        column = table[name]
        if kind == "string":
            feed[name] = column.map(_category_key).to_numpy(object).reshape(-1, 1)
        elif kind in ("double", "float"):
            values = pd.to_numeric(column, errors="coerce")
            bad = values.isna() & column.notna()
            if bad.any():
                row = bad.idxmax()
                cell = column[row]
                cell = cell.item() if hasattr(cell, "item") else cell
                raise ValueError(f"column {name!r} row {row}: expected a number, got {cell!r}")
            dtype = np.float64 if kind == "double" else np.float32
            feed[name] = values.to_numpy(np.float64, na_value=np.nan).astype(
                dtype).reshape(-1, 1)
        else:
            raise ValueError(f"input {name!r} is a tensor({kind}); onnx_feed fills the "
                             "double and string inputs of a model slopes exported")
    return feed


# ================================================================== PyTorch
def _torch_dtype(torch: Any, dtype: np.dtype) -> Any:
    return {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[dtype]


_TORCH_CLASSES: dict[str, type] = {}


def _torch_classes(torch: Any) -> tuple[type, type]:
    """``Standardize`` and ``TargetUnits``, the two modules the preprocessing adds.

    Defined once torch is imported (``import slopes`` never imports it).
    """
    if not _TORCH_CLASSES:
        nn = torch.nn

        class Standardize(nn.Module):
            """``(x - mean) / scale`` in float64, then the network's dtype.

            ``x`` is ``(n, n_features)``: the features in the order of the
            preprocessing's ``feature_names``, numbers raw and one-hot
            columns 0/1 (their mean is 0, their scale 1). With ``fill``, a
            NaN of a numeric column becomes its mean first; an infinite
            result (slopes refuses those rows) becomes NaN.
            """

            def __init__(self, mean: Any, scale: Any, fill: Any, dtype: Any) -> None:
                super().__init__()
                self.register_buffer("mean", mean)
                self.register_buffer("scale", scale)
                self.register_buffer("fill", fill)
                self.dtype = dtype

            def forward(self, x: Any) -> Any:
                x = x.to(torch.float64)
                x = torch.where(torch.isnan(x) & self.fill, self.mean, x)
                z = (x - self.mean) / self.scale
                z = torch.where(torch.isinf(z), torch.full_like(z, math.nan), z)
                return z.to(self.dtype)

            def extra_repr(self) -> str:
                return f"n_features={self.mean.shape[0]}, to={self.dtype}"

        class TargetUnits(nn.Module):
            """``y * scale + mean``: a prediction of the standardized target in its own units."""

            def __init__(self, scale: Any, mean: Any) -> None:
                super().__init__()
                self.register_buffer("scale", scale)
                self.register_buffer("mean", mean)

            def forward(self, y: Any) -> Any:
                return y * self.scale + self.mean

            def extra_repr(self) -> str:
                return f"scale={self.scale.item():.7g}, mean={self.mean.item():.7g}"

        _TORCH_CLASSES.update(Standardize=Standardize, TargetUnits=TargetUnits)
    return _TORCH_CLASSES["Standardize"], _TORCH_CLASSES["TargetUnits"]


def _standardizer(torch: Any, prep: Any, dtype: Any) -> Any:
    Standardize, _ = _torch_classes(torch)
    mean, scale, fill = [], [], []
    for name in prep.columns:
        if name in prep.numeric:
            mean.append(prep.numeric[name]["mean"])
            scale.append(prep.numeric[name]["scale"])
            fill.append(prep.fill_missing)
        else:
            k = len(prep.categories[name])
            mean += [0.0] * k
            scale += [1.0] * k
            fill += [False] * k
    return Standardize(torch.tensor(mean, dtype=torch.float64),
                       torch.tensor(scale, dtype=torch.float64), torch.tensor(fill), dtype)


def to_torch(net: Network, preprocessing: object = None) -> Any:
    """A ``torch.nn.Sequential`` computing exactly what ``net.predict`` computes.

    Each :class:`~slopes.layers.Dense` layer becomes a ``torch.nn.Linear``
    (whose ``weight`` is ``(n_out, n_in)``: slopes' ``weights`` transposed)
    followed by its activation: ``ReLU``, ``LeakyReLU(negative_slope=alpha)``,
    ``Sigmoid``, ``Tanh``, ``Softmax(dim=-1)``, or nothing for identity. The
    dtype stays (float64 gives float64 tensors), and PyTorch's random state
    is not touched.

    With ``preprocessing`` (the :class:`~slopes.preprocessing.TabularPreprocessor`
    of a model ``slopes train`` saved), the Sequential gives the user's
    units:

    - it starts with a ``Standardize`` module: its input is ``(n,
      n_features)`` float64, the features in the order of
      ``preprocessing.feature_names``, **numeric columns raw** (NaN becomes
      the training mean with ``fill_missing``) and **one-hot columns as 0/1**;
      it standardizes the numeric ones in float64, as slopes does, then
      gives the network its dtype. The one-hot encoding of text is not in
      the module (a tensor holds no text): :func:`torch_features` builds the
      input from a pandas table, one-hot encoded by slopes;
    - for a regression with a standardized target, it ends with a
      ``TargetUnits`` module: predictions in the target's units;
    - a classifier gives the network's outputs: a single sigmoid output is
      the probability of the second class (``preprocessing.classes[1]``),
      softmax outputs one probability per class.

    The last activation is part of the Sequential, so its outputs are the
    network's. To train with ``BCEWithLogitsLoss`` or ``CrossEntropyLoss``
    (which want the logits), train ``seq[:-1]`` of the Sequential without
    preprocessing: it shares the weights.

    Parameters
    ----------
    net : Network
    preprocessing : TabularPreprocessor, its ``to_dict()``, or None

    Raises
    ------
    ImportError
        When PyTorch is not installed.
    ValueError
        When a layer uses a custom activation, or the preprocessing does not
        fit the network.
    """
    net = _check_network(net)
    prep = _check_preprocessing(preprocessing, net)
    torch = _require("torch", "to_torch", _TORCH_INSTALL)
    nn = torch.nn
    dtype = _torch_dtype(torch, net.dtype)
    modules = [] if prep is None else [_standardizer(torch, prep, dtype)]
    for layer in net.layers:
        # skip_init: no random initial weights, so torch's global random state stays as it was.
        linear = nn.utils.skip_init(nn.Linear, layer.n_in, layer.n_out, bias=layer.has_bias,
                                    dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(layer.weights.T)))
            if layer.has_bias:
                linear.bias.copy_(torch.from_numpy(np.ascontiguousarray(layer.bias)))
        modules.append(linear)
        act = layer.activation
        if act.name == "relu":
            modules.append(nn.ReLU())
        elif act.name == "leaky_relu":
            modules.append(nn.LeakyReLU(negative_slope=act.alpha))
        elif act.name == "sigmoid":
            modules.append(nn.Sigmoid())
        elif act.name == "tanh":
            modules.append(nn.Tanh())
        elif act.name == "softmax":
            modules.append(nn.Softmax(dim=-1))
    if prep is not None and prep.task == "regress" and (prep.target_scale != 1.0
                                                         or prep.target_mean != 0.0):
        _, TargetUnits = _torch_classes(torch)
        modules.append(TargetUnits(torch.tensor(prep.target_scale, dtype=dtype),
                                   torch.tensor(prep.target_mean, dtype=dtype)))
    return nn.Sequential(*modules)


def torch_features(table: Any, preprocessing: object) -> np.ndarray:
    """The input of :func:`to_torch`'s module with ``preprocessing``, for the rows of ``table``.

    Parameters
    ----------
    table : pandas.DataFrame
        The raw columns, as ``slopes predict`` reads them.
    preprocessing : TabularPreprocessor or its ``to_dict()``

    Returns
    -------
    array (n, n_features) float64
        The columns of ``preprocessing.feature_names``: numeric columns raw
        (a missing cell NaN), categorical ones one-hot encoded (0/1) by
        slopes.

    Raises
    ------
    ValueError
        What ``preprocessing.transform(table)`` raises: a missing column, a
        category never seen in training, a missing value without
        ``fill_missing``, text in a numeric column... naming the column and
        row.
    """
    from .preprocessing import TabularPreprocessor

    prep = TabularPreprocessor.from_dict(preprocessing) if isinstance(preprocessing, Mapping) \
        else preprocessing
    if not isinstance(prep, TabularPreprocessor):
        raise TypeError("preprocessing must be a fitted TabularPreprocessor or its to_dict(), "
                        f"got {type(preprocessing).__name__}")
    X = prep.transform(table)  # refuses what slopes refuses; one-hot columns as slopes
    pd = _require("pandas", "torch_features", "pip install 'slopes[all]'")
    at = 0
    for name in prep.columns:
        if name in prep.numeric:
            column = table[[c for c in table.columns if str(c) == name][0]]
            X[:, at] = pd.to_numeric(column).to_numpy(np.float64, na_value=np.nan)
            at += 1
        else:
            at += len(prep.categories[name])
    return X


def save_torch(net: Network, path: str | os.PathLike[str] | Any,
               preprocessing: object = None) -> Path | None:
    """Write :func:`to_torch`'s module to ``path`` with ``torch.export``, atomically.

    The file (``.pt2``) loads without slopes: ``torch.export.load(path).module()``
    is the module, which takes a float64 tensor ``(n, n_features)`` (with
    ``preprocessing``; otherwise the network's dtype), for any ``n``.

    Parameters
    ----------
    net : Network
    path : path or binary file object
        Where to write; a file object (``io.BytesIO()``) is written to as it is.
    preprocessing : TabularPreprocessor, its ``to_dict()``, or None
        See :func:`to_torch`.

    Returns
    -------
    Path or None
        The path written, or None for a file object.

    Raises
    ------
    ImportError
        When PyTorch is not installed.
    FileWriteError
        An ``OSError`` naming ``path`` when it cannot be written.
    ValueError, TypeError
        See :func:`to_torch`.
    """
    import io

    from .atomic import write_atomic

    module = to_torch(net, preprocessing).eval()
    torch = _require("torch", "save_torch", _TORCH_INSTALL)
    dtype = torch.float64 if preprocessing is not None else _torch_dtype(torch, net.dtype)
    example = torch.zeros((2, net.n_inputs), dtype=dtype)
    program = torch.export.export(module, (example,),
                                  dynamic_shapes=({0: torch.export.Dim("n")},))
    if hasattr(path, "write"):
        torch.export.save(program, path)
        return None
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    return write_atomic(path, buffer.getvalue())


_FROM_TORCH_HELP = ("slopes reads a torch.nn.Sequential of Linear layers, each followed by at "
                    "most one activation (ReLU, LeakyReLU, Sigmoid, Tanh, Softmax); Identity, "
                    "Dropout and Flatten are skipped")


def _is_torch_object(obj: object) -> bool:
    return any(cls.__module__.split(".")[0] == "torch" for cls in type(obj).__mro__)


def _flatten(module: Any, where: str, nn: Any) -> list[tuple[str, Any]]:
    """``(where, module)`` for each module of a Sequential, nested ones opened up."""
    items = []
    for index, child in enumerate(module):
        here = f"{where}[{index}]"
        if isinstance(child, nn.Sequential):
            items.extend(_flatten(child, here, nn))
        else:
            items.append((here, child))
    return items


def _own_forward(module: Any, base: type) -> bool:
    """Whether ``module`` is a ``base`` that computes what ``base`` computes."""
    return isinstance(module, base) and type(module).forward is base.forward


def _short(module: Any) -> str:
    text = repr(module).replace("\n", " ")
    return text if len(text) <= 80 else text[:77] + "..."


def _activation_of(where: str, module: Any, nn: Any) -> Activation | None:
    """The slopes activation of a torch activation module, or None when it is not one."""
    simple = {nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh"}
    for base, name in simple.items():
        if _own_forward(module, base):
            return ACTIVATIONS[name]()
    if _own_forward(module, nn.LeakyReLU):
        alpha = float(module.negative_slope)
        if not 0 <= alpha < 1:
            raise ValueError(f"module {where} {_short(module)} has negative_slope {alpha:g}; "
                             "slopes' leaky_relu needs an alpha in [0, 1)")
        return LeakyRelu(alpha=alpha)
    if _own_forward(module, nn.Softmax):
        if module.dim not in (-1, 1, None):
            raise ValueError(f"module {where} {_short(module)} takes the softmax over dim "
                             f"{module.dim}; slopes' softmax runs over the nodes of each sample: "
                             "dim=-1 (or 1)")
        return ACTIVATIONS["softmax"]()
    return None


def _skipped(module: Any, nn: Any) -> bool:
    """Modules that do nothing to an (n, features) batch in evaluation: left out."""
    if _own_forward(module, nn.Identity) or _own_forward(module, nn.Dropout):
        return True
    return _own_forward(module, nn.Flatten) and (module.start_dim, module.end_dim) == (1, -1)


def _refusal(where: str, module: Any, nn: Any) -> str:
    name = type(module).__name__
    if type(module).__module__ == "torch.nn.modules.activation":
        why = (f"is an activation slopes does not have (slopes has "
               f"{', '.join(ACTIVATIONS)})")
    elif "Norm" in name:
        why = ("normalizes with statistics and parameters of its own, which a slopes layer "
               "does not hold")
    elif "Conv" in name or "Pool" in name:
        why = "works on images or sequences; slopes networks are dense layers only"
    elif isinstance(module, nn.Linear):
        why = "is a Linear layer with a forward of its own, which slopes cannot know"
    else:
        why = "has no slopes equivalent"
    return f"cannot bring module {where} {_short(module)} into slopes: it {why}. {_FROM_TORCH_HELP}"


def _array(torch: Any, where: str, module: Any, what: str, tensor: Any,
           dtype: np.dtype | None) -> np.ndarray:
    t = tensor.detach().cpu()
    if t.dtype not in (torch.float32, torch.float64):
        if dtype is None:
            raise ValueError(f"module {where} {_short(module)} holds {what} of dtype "
                             f"{str(t.dtype).replace('torch.', '')}; slopes computes in float32 "
                             "or float64: pass dtype=np.float32 (or convert the model with "
                             ".float())")
        t = t.to(torch.float64)
    return t.numpy()


def from_torch(module: Any, dtype: object = None) -> Network:
    """A :class:`~slopes.network.Network` computing what the ``torch.nn.Sequential`` computes.

    Each ``Linear`` becomes a :class:`~slopes.layers.Dense` layer (its
    ``weight`` (out, in) transposed to slopes' (n_in, n_out)), with the
    activation that follows it: ``ReLU``, ``LeakyReLU`` (its
    ``negative_slope`` is slopes' ``alpha``, in [0, 1)), ``Sigmoid``, ``Tanh``,
    ``Softmax(dim=-1)`` (or dim 1, or None), and identity when the next
    module is another ``Linear`` or there is none. Nested Sequentials are
    opened up.

    Skipped, since they do nothing to a batch in evaluation: ``Identity``,
    ``Dropout`` (any ``p``: the slopes network is the model in ``eval()``
    mode, and training it further in slopes trains without dropout) and
    ``Flatten()`` (the input is already ``(n, features)``).

    Refused, with the module's position and a reason: anything else
    (``BatchNorm1d``, ``LayerNorm``, ``Conv1d``, ``GELU``, ``LogSoftmax``,
    a Linear subclass with its own ``forward``...), an activation before the
    first Linear or right after another activation, a Softmax over another
    dim, Linear sizes that do not chain.

    Parameters
    ----------
    module : torch.nn.Sequential
        Unwrap a ``DistributedDataParallel`` model first: ``ddp.module``.
    dtype : None, float32 or float64
        None keeps the dtype of the weights (float32 or float64); half
        precision weights need a dtype.

    Raises
    ------
    TypeError
        When ``module`` is not a ``torch.nn.Sequential``.
    ValueError
        Naming the module that cannot be represented, and why.
    ImportError
        When PyTorch is not installed.
    """
    if not _is_torch_object(module):
        raise TypeError(f"from_torch needs a torch.nn.Sequential, got "
                        f"{type(module).__name__}; {_FROM_TORCH_HELP}")
    torch = _require("torch", "from_torch", _TORCH_INSTALL)
    nn = torch.nn
    if not isinstance(module, nn.Sequential):
        inner = getattr(module, "module", None)  # DistributedDataParallel, DataParallel
        hint = "; pass its .module" if isinstance(inner, nn.Module) else ""
        raise TypeError(f"from_torch needs a torch.nn.Sequential, got {type(module).__name__}"
                        f"{hint}; {_FROM_TORCH_HELP}")
    target = None if dtype is None else as_float_dtype(dtype)
    # [where, Linear, activation or None, where and repr of the torch activation]
    specs: list[list[Any]] = []
    for where, child in _flatten(module, "", nn):
        if _own_forward(child, nn.Linear):
            if isinstance(child, nn.modules.lazy.LazyModuleMixin) \
                    and child.has_uninitialized_params():
                raise ValueError(f"module {where} {_short(child)} has no weights yet; run one "
                                 "batch through the model before from_torch")
            specs.append([where, child, None, None, None])
            continue
        if _skipped(child, nn):
            continue
        act = _activation_of(where, child, nn)
        if act is None:
            raise ValueError(_refusal(where, child, nn))
        if not specs:
            raise ValueError(f"module {where} {_short(child)} comes before any Linear layer; "
                             f"a slopes network starts with a layer. {_FROM_TORCH_HELP}")
        if specs[-1][2] is not None:
            raise ValueError(f"module {where} {_short(child)} follows another activation "
                             f"({specs[-1][3]} {specs[-1][4]}); a slopes layer has one "
                             "activation")
        specs[-1][2:] = [act, where, _short(child)]
    if not specs:
        raise ValueError(f"the Sequential has no Linear layer ({len(module)} module(s)); "
                         f"{_FROM_TORCH_HELP}")
    for (w0, a, *_), (w1, b, *_) in zip(specs[:-1], specs[1:], strict=True):
        if a.out_features != b.in_features:
            raise ValueError(f"module {w1} {_short(b)} expects {b.in_features} inputs, but the "
                             f"Linear before it ({w0}) has {a.out_features} outputs")
    arrays = []
    for where, linear, act, *_ in specs:
        w = _array(torch, where, linear, "weights", linear.weight, target)
        b = None if linear.bias is None else _array(torch, where, linear, "a bias",
                                                    linear.bias, target)
        arrays.append((where, linear, act, w, b))
    if target is None:
        kinds = {w.dtype for _, _, _, w, _ in arrays}
        if len(kinds) > 1:
            names = ", ".join(f"{where}: {w.dtype.name}" for where, _, _, w, _ in arrays)
            raise ValueError(f"the Linear layers have different dtypes ({names}); pass "
                             "dtype=np.float32 or np.float64 to choose one")
        target = kinds.pop()
    layers = []
    for where, linear, act, w, b in arrays:
        layer = Dense(linear.in_features, linear.out_features, activation=act,
                      bias=b is not None, dtype=target)
        for what, value in (("weights", w), ("bias", b)):
            if value is not None and not np.all(np.isfinite(value)):
                raise ValueError(f"module {where} {_short(linear)} holds NaN or infinite "
                                 f"{what}")
        layer.weights = w.T
        if b is not None:
            layer.bias = b
        layers.append(layer)
    return Network(layers)

