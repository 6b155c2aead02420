"""What both exports check first, and the packages they need.

:func:`check_network` and :func:`check_preprocessing` are the checks
:mod:`slopes.onnx_export` and :mod:`slopes.torch_export` make before they
build anything: a network of built-in activations, and a fitted
preprocessing that fits it. :data:`ONNX_INSTALL` and :data:`TORCH_INSTALL`
say what to install when ``onnx`` or ``torch`` is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .activations import ACTIVATIONS
from .network import Network
from .preprocessing import TabularPreprocessor

__all__ = ["ONNX_INSTALL", "TORCH_INSTALL", "check_network", "check_preprocessing"]

#: What to install for the ONNX export.
ONNX_INSTALL = "pip install 'slopes[onnx]'"
#: What to install for the PyTorch export (PyTorch is never a dependency of slopes).
TORCH_INSTALL = ("pip install torch (PyTorch is never installed with slopes; pick the build "
                 "for your machine at https://pytorch.org)")


def check_network(net: object) -> Network:
    """``net``, when it is a Network of built-in activations only (ONNX and PyTorch know them)."""
    if not isinstance(net, Network):
        raise TypeError(f"net must be a slopes Network, got {type(net).__name__}")
    for k, layer in enumerate(net.layers):
        act = layer.activation
        if type(act) is not ACTIVATIONS.get(act.name):
            raise ValueError(f"layers[{k}] uses a custom activation {act!r}; only the built-in "
                             f"ones can be exported: {', '.join(ACTIVATIONS)}")
    return net


def check_preprocessing(preprocessing: object, net: Network) -> Any:
    """A fitted TabularPreprocessor (a dict is read with ``from_dict``) that fits ``net``."""
    if preprocessing is None:
        return None
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
