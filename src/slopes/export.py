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

This module gathers the public functions of the two exports in one place:
:mod:`slopes.onnx_export` (what the ONNX model's inputs and outputs are, and
how it computes what slopes computes) and :mod:`slopes.torch_export`.
"""

from __future__ import annotations

from .onnx_export import ONNX_OPSET, ONNX_OPSET_TEXT, onnx_feed, onnx_model, to_onnx
from .torch_export import from_torch, save_torch, to_torch, torch_features

__all__ = ["to_onnx", "onnx_model", "onnx_feed", "to_torch", "torch_features", "save_torch",
           "from_torch", "ONNX_OPSET", "ONNX_OPSET_TEXT"]
