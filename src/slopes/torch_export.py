"""Export a network to PyTorch, and bring a PyTorch network back.

- :func:`to_torch` gives a ``torch.nn.Sequential`` with the same weights, to
  train at scale with PyTorch (DDP, Ray Train, Spark's TorchDistributor);
  with the preprocessing, it standardizes its inputs and gives regression
  predictions in the target's units. :func:`torch_features` builds its input
  from a pandas table, and :func:`save_torch` writes it as a file that
  PyTorch loads without slopes (``torch.export``).
- :func:`from_torch` brings a trained ``Sequential`` of ``Linear`` layers and
  activations back as a :class:`~slopes.network.Network`, for ``trace``,
  ``explain`` and ``draw_network``.

``torch`` is imported inside the functions that need it; a missing one raises
an ``ImportError`` saying what to install (PyTorch is never a dependency of
slopes).
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ._optional import require
from .activations import ACTIVATIONS, Activation, LeakyRelu
from .atomic import write_atomic
from .export_checks import TORCH_INSTALL, check_network, check_preprocessing
from .layers import Dense, as_float_dtype
from .network import Network
from .preprocessing import TabularPreprocessor

__all__ = ["to_torch", "torch_features", "save_torch", "from_torch"]


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
    preprocessing: it shares the weights. A hidden layer with dropout is
    followed by ``torch.nn.Dropout(p)`` after its activation, so training
    further in PyTorch drops nodes as slopes did; in ``eval()`` (and in
    ``predict``) it does nothing.

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
    net = check_network(net)
    prep = check_preprocessing(preprocessing, net)
    torch = require("torch", "to_torch", TORCH_INSTALL)
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
        if layer.dropout:  # active in train(), nothing in eval(), as in slopes
            modules.append(nn.Dropout(p=layer.dropout))
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
    prep = TabularPreprocessor.from_dict(preprocessing) if isinstance(preprocessing, Mapping) \
        else preprocessing
    if not isinstance(prep, TabularPreprocessor):
        raise TypeError("preprocessing must be a fitted TabularPreprocessor or its to_dict(), "
                        f"got {type(preprocessing).__name__}")
    X = prep.transform(table)  # refuses what slopes refuses; one-hot columns as slopes
    pd = require("pandas", "torch_features")
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
    module = to_torch(net, preprocessing).eval()
    torch = require("torch", "save_torch", TORCH_INSTALL)
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
    mode; the ``p`` of a Dropout after a hidden layer becomes that layer's
    ``dropout``, so training further in slopes drops nodes as PyTorch did) and
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
    torch = require("torch", "from_torch", TORCH_INSTALL)
    nn = torch.nn
    if not isinstance(module, nn.Sequential):
        inner = getattr(module, "module", None)  # DistributedDataParallel, DataParallel
        hint = "; pass its .module" if isinstance(inner, nn.Module) else ""
        raise TypeError(f"from_torch needs a torch.nn.Sequential, got {type(module).__name__}"
                        f"{hint}; {_FROM_TORCH_HELP}")
    target = None if dtype is None else as_float_dtype(dtype)
    # [where, Linear, activation or None, where and repr of the torch activation]
    specs: list[list[Any]] = []
    dropout: dict[int, float] = {}  # the p of a Dropout after Linear number k (and its activation)
    for where, child in _flatten(module, "", nn):
        if _own_forward(child, nn.Dropout) and specs:
            dropout[len(specs) - 1] = float(child.p)
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
    for k, (where, linear, act, w, b) in enumerate(arrays):
        # A Dropout after the last Linear has no slopes counterpart (dropout is for hidden
        # layers), and p = 1 drops everything: both are left out, as in eval().
        rate = dropout.get(k, 0.0)
        rate = rate if k < len(arrays) - 1 and rate < 1 else 0.0
        layer = Dense(linear.in_features, linear.out_features, activation=act,
                      bias=b is not None, dtype=target, dropout=rate)
        for what, value in (("weights", w), ("bias", b)):
            if value is not None and not np.all(np.isfinite(value)):
                raise ValueError(f"module {where} {_short(linear)} holds NaN or infinite "
                                 f"{what}")
        layer.weights = w.T
        if b is not None:
            layer.bias = b
        layers.append(layer)
    return Network(layers)
