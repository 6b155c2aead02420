"""Export a network, with its preprocessing, to ONNX.

:func:`to_onnx` writes an ONNX model (the standard ``ai.onnx`` operators
only: Gemm or MatMul, Relu, Max, Sigmoid, Tanh, Softmax, and for the
preprocessing Sub, Div, Equal, Concat...), which onnxruntime, or any ONNX
runtime, runs without slopes. :func:`onnx_model` builds it in memory, and
:func:`onnx_feed` builds its inputs from a pandas table the way slopes
reads the table. ``onnx`` is imported inside the functions that need it
(``pip install 'slopes[onnx]'``).

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

:func:`onnx_feed` does all that for a pandas table; the export guide
(docs/guide/export.md) shows the same in a few lines of pandas, without slopes.

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

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._optional import require
from .atomic import write_atomic
from .columns import MISSING_CATEGORY as _MISSING
from .columns import category_key
from .export_checks import ONNX_INSTALL, check_network, check_preprocessing
from .network import Network
from .version import __version__

__all__ = ["to_onnx", "onnx_model", "onnx_feed", "ONNX_OPSET", "ONNX_OPSET_TEXT"]

#: The opset of an exported ONNX model (Softmax over the last axis needs >= 13).
ONNX_OPSET = 13
#: The opset when a text column is one-hot encoded inside the model (``Equal``
#: compares strings from opset 19 on).
ONNX_OPSET_TEXT = 19


def _is_classifier(net: Network, prep: Any) -> bool:
    if prep is not None and prep.task is not None:
        return prep.task == "classify"
    act = net.layers[-1].activation.name
    return (act == "sigmoid" and net.n_outputs == 1) or act == "softmax"


def _category_key(value: object) -> str:
    """:func:`~slopes.columns.category_key`, and ``'(missing)'`` for a missing cell."""
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
    onnx = require("onnx", "exporting to ONNX", ONNX_INSTALL)
    helper, TP = onnx.helper, onnx.TensorProto
    net = check_network(net)
    prep = check_preprocessing(preprocessing, net)
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
        onnx = require("onnx", "onnx_feed", ONNX_INSTALL)
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
    pd = require("pandas", "onnx_feed")
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
