"""ONNX for scikit-learn pipelines holding a slopes estimator, with ``skl2onnx``.

``skl2onnx`` converts a whole pipeline (scalers, encoders, the model) to one
ONNX model, but only the estimators it knows. :func:`register_skl2onnx`
teaches it :class:`~slopes.sklearn.SlopesClassifier` and
:class:`~slopes.sklearn.SlopesRegressor`; call it once, then convert as
usual::

    from skl2onnx import to_onnx
    from slopes.sklearn_onnx import register_skl2onnx

    register_skl2onnx()
    onx = to_onnx(pipeline, X[:1])                 # X float64: the model computes in float64
    onx = to_onnx(pipeline, X[:1], options={SlopesClassifier: {"zipmap": False}})

What the estimator computes goes in as standard operators: its own
``scaler_`` (with ``scale_inputs=True``), each layer as Gemm or MatMul and its
activation (Relu, Max for leaky_relu, Sigmoid, Tanh, Softmax). The graph
computes in the dtype of its input (``X[:1]`` float64 gives double, float32
float), so a float64 ``X`` gives the pipeline's own ``predict_proba`` to
about 1e-15. A classifier's outputs are ``label`` (int64 or string, like
``classes_``) and ``probabilities`` (a sigmoid output ``p`` gives ``[1 - p,
p]``), which skl2onnx turns into a list of dicts (ZipMap, its default) unless
the option ``zipmap`` is False. ONNX's ZipMap takes float32 only, so with it
the probabilities are rounded to float32 (about 6e-8 relative; the labels
come from the float64 ones); ``zipmap=False`` keeps them in float64. A
regressor's output is ``variable`` (n, n_targets).

Needs ``skl2onnx`` (``pip install 'slopes[onnx]'``).
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from .network import Network

__all__ = ["register_skl2onnx"]

_INSTALL = "pip install 'slopes[onnx]'"
_REGISTERED: list[bool] = []


def _skl2onnx() -> Any:
    try:
        return importlib.import_module("skl2onnx")
    except ImportError as exc:
        raise ImportError("converting a scikit-learn pipeline to ONNX needs skl2onnx, which is "
                          f"not installed; install it with: {_INSTALL}") from exc


def register_skl2onnx() -> None:
    """Register slopes' converters with ``skl2onnx`` (once; calling again does nothing).

    After it, ``skl2onnx.to_onnx(pipeline, X[:1])`` converts pipelines that
    hold a :class:`~slopes.sklearn.SlopesClassifier` or
    :class:`~slopes.sklearn.SlopesRegressor`. The classifier takes the
    options ``zipmap`` (True, False or ``'columns'``) and ``nocl``, as
    scikit-learn's own classifiers do.

    Raises
    ------
    ImportError
        When ``skl2onnx`` is not installed (``pip install 'slopes[onnx]'``).
    """
    skl2onnx = _skl2onnx()
    if _REGISTERED:
        return
    from .sklearn import SlopesClassifier, SlopesRegressor

    skl2onnx.update_registered_converter(
        SlopesClassifier, "SlopesClassifier", _classifier_shapes, _convert_classifier,
        options={"zipmap": [True, False, "columns"], "nocl": [True, False]})
    skl2onnx.update_registered_converter(
        SlopesRegressor, "SlopesRegressor", _regressor_shapes, _convert_regressor)
    _REGISTERED.append(True)


# ................................................................ shapes
def _tensor_class(operator: Any) -> type:
    """The skl2onnx tensor type of the outputs: the input's Float or Double (else Float)."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    kind = operator.inputs[0].type
    return DoubleTensorType if isinstance(kind, DoubleTensorType) else FloatTensorType


def _class_labels(estimator: Any) -> np.ndarray:
    """``classes_`` as int64 or as strings, the two label types ONNX classifiers have."""
    classes = np.asarray(estimator.classes_)
    if classes.dtype.kind in "iub":
        return classes.astype(np.int64)
    if classes.dtype.kind == "f":
        if np.all(np.mod(classes, 1) == 0):
            return classes.astype(np.int64)
        raise ValueError(f"the classes {classes.tolist()!r} are numbers with decimals; an ONNX "
                         "classifier's labels are whole numbers (int64) or strings: encode "
                         "the labels before fitting")
    return np.array([str(c) for c in classes], dtype=object)


def _classifier_shapes(operator: Any) -> None:
    from skl2onnx.common.data_types import Int64TensorType, StringTensorType

    n = operator.inputs[0].get_first_dimension()
    labels = _class_labels(operator.raw_operator)
    label_type = Int64TensorType if labels.dtype == np.int64 else StringTensorType
    operator.outputs[0].type = label_type([n])
    operator.outputs[1].type = _probability_class(operator, operator.scope_inst)(
        [n, len(labels)])


def _zipmap(model: Any, options_of: Any) -> bool:
    return options_of.get_options(model, {"zipmap": True})["zipmap"] is not False


def _probability_class(operator: Any, options_of: Any) -> type:
    """The probabilities' tensor type: float for ONNX's ZipMap (float only), else the input's."""
    from skl2onnx.common.data_types import FloatTensorType

    if _zipmap(operator.raw_operator, options_of):
        return FloatTensorType
    return _tensor_class(operator)


def _regressor_shapes(operator: Any) -> None:
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = _tensor_class(operator)([n, operator.raw_operator.network_
                                                        .n_outputs])


# ............................................................. converters
class _Emitter:
    """Adds nodes and constants to skl2onnx's container under unique names."""

    def __init__(self, scope: Any, container: Any, dtype: np.dtype) -> None:
        from onnx import TensorProto

        self.scope, self.container, self.dtype = scope, container, np.dtype(dtype)
        self.elem = TensorProto.DOUBLE if self.dtype == np.float64 else TensorProto.FLOAT

    def const(self, hint: str, value: np.ndarray) -> str:
        from onnx import TensorProto

        name = self.scope.get_unique_variable_name(hint)
        value = np.asarray(value)
        if value.dtype == object:
            self.container.add_initializer(name, TensorProto.STRING, list(value.shape),
                                           [str(v).encode() for v in value.ravel()])
        else:
            elem = TensorProto.INT64 if value.dtype == np.int64 else self.elem
            value = value if value.dtype == np.int64 else value.astype(self.dtype)
            self.container.add_initializer(name, elem, list(value.shape),
                                           value.ravel().tolist())
        return name

    def op(self, op_type: str, inputs: list[str], hint: str, output: str | None = None,
           **attrs: Any) -> str:
        out = output or self.scope.get_unique_variable_name(hint)
        self.container.add_node(op_type, inputs, [out],
                                name=self.scope.get_unique_operator_name(f"Slopes{op_type}"),
                                **attrs)
        return out


def _dtype(operator: Any) -> np.dtype:
    from skl2onnx.common.data_types import DoubleTensorType

    return np.dtype(np.float64 if isinstance(operator.inputs[0].type, DoubleTensorType)
                    else np.float32)


def _network_outputs(operator: Any, e: _Emitter) -> str:
    """The estimator's scaler and network, from the operator's input to the network's outputs."""
    estimator = operator.raw_operator
    net: Network = estimator.network_
    x = operator.inputs[0].full_name
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    if not isinstance(operator.inputs[0].type, (DoubleTensorType, FloatTensorType)):
        x = e.op("Cast", [x], "slopes_input", to=e.elem)
    scaler = getattr(estimator, "scaler_", None)
    if scaler is not None:
        # StandardScaler.transform: (X - mean_) / scale_, its scale_ already 1 where 0.
        scale = scaler.scale_ if scaler.scale_ is not None else np.ones_like(scaler.mean_)
        x = e.op("Sub", [x, e.const("slopes_mean", scaler.mean_[None, :])], "slopes_centered")
        x = e.op("Div", [x, e.const("slopes_scale", scale[None, :])], "slopes_scaled")
    for k, layer in enumerate(net.layers):
        w = e.const(f"slopes_weights_{k}", layer.weights)
        if layer.has_bias:
            x = e.op("Gemm", [x, w, e.const(f"slopes_bias_{k}", layer.bias)], f"slopes_z_{k}")
        else:
            x = e.op("MatMul", [x, w], f"slopes_z_{k}")
        act = layer.activation.name
        if act == "relu":
            x = e.op("Relu", [x], f"slopes_a_{k}")
        elif act == "leaky_relu":  # max(z, alpha z): onnxruntime's LeakyRelu is float32 only
            scaled = e.op("Mul", [x, e.const(f"slopes_alpha_{k}", np.array(
                layer.activation.alpha))], f"slopes_alpha_z_{k}")
            x = e.op("Max", [x, scaled], f"slopes_a_{k}")
        elif act == "sigmoid":
            x = e.op("Sigmoid", [x], f"slopes_a_{k}")
        elif act == "tanh":
            x = e.op("Tanh", [x], f"slopes_a_{k}")
        elif act == "softmax":
            x = e.op("Softmax", [x], f"slopes_a_{k}", axis=1)
        elif act != "identity":
            raise ValueError(f"layers[{k}] of the estimator's network uses the activation "
                             f"{act!r}, which has no ONNX conversion")
    return x


def _convert_classifier(scope: Any, operator: Any, container: Any) -> None:
    e = _Emitter(scope, container, _dtype(operator))
    labels = _class_labels(operator.raw_operator)
    out = _network_outputs(operator, e)
    if len(labels) == 2 and operator.raw_operator.network_.n_outputs == 1:
        rest = e.op("Sub", [e.const("slopes_one", np.ones((1, 1))), out], "slopes_one_minus_p")
        probabilities = e.op("Concat", [rest, out], "slopes_probabilities", axis=1)
    else:
        probabilities = out
    # ZipMap (the default) takes float32 only: the label comes from the probabilities first.
    cast = e.dtype == np.float64 and _zipmap(operator.raw_operator, container)
    if cast:
        e.op("Cast", [probabilities], "slopes_probabilities_float",
             output=operator.outputs[1].full_name, to=_onnx_float())
    else:
        e.op("Identity", [probabilities], "slopes_probabilities",
             output=operator.outputs[1].full_name)
    index = e.op("ArgMax", [probabilities], "slopes_class_index", axis=1, keepdims=0)
    e.op("Gather", [e.const("slopes_classes", labels), index], "slopes_label",
         output=operator.outputs[0].full_name, axis=0)


def _onnx_float() -> int:
    from onnx import TensorProto

    return TensorProto.FLOAT


def _convert_regressor(scope: Any, operator: Any, container: Any) -> None:
    e = _Emitter(scope, container, _dtype(operator))
    out = _network_outputs(operator, e)
    e.op("Identity", [out], "slopes_prediction", output=operator.outputs[0].full_name)

