"""Network: an ordered list of dense layers, with two forward paths.

- :meth:`Network.predict` goes forward and keeps nothing (fast, for use).
- :meth:`Network.trace` goes forward keeping every node value, then backward
  computing every slope, layer by layer, and returns a :class:`~slopes.trace.Trace`.

The whole batch goes through in matrix operations; there is no Python loop
over samples anywhere.

Why this module is long: about half of it is the checking of what people
write when they build a network by hand (``Network.from_weights`` reads the
course's ``{'node_0': [...], 'output': [...]}`` dicts and lists of matrices,
and names every mistake); the forward and backward engine itself is short.
Apart, the checks would be a module only ``from_weights`` calls, read next to
nothing it checks for.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .activations import Activation
from .initializers import make_rng
from .layers import Dense, as_float_dtype, check_layers
from .losses import Loss, get_loss
from .optimizers import Optimizer, get_optimizer
from .validation import check_sizes, check_X, check_y, short_repr

if TYPE_CHECKING:  # names for annotations only: these modules stand above (or beside) this one
    from pathlib import Path

    from .callbacks import Callback, History
    from .trace import Trace

__all__ = ["Network"]

ActivationSpec = str | Activation


class Network:
    """A feed-forward network of :class:`~slopes.layers.Dense` layers.

    Parameters
    ----------
    layers : sequence of Dense
        ``layers[k].n_out`` must equal ``layers[k + 1].n_in``, and all layers
        share one dtype.

    Examples
    --------
    >>> net = Network.from_weights(
    ...     {"node_0": [2, 1], "node_1": [1, 2], "output": [1, 1]}, activation="relu")
    >>> net.predict(np.array([0, 3]))
    array([9.])
    """

    #: The latest trace :meth:`trace` took (see :attr:`last_trace`); a class default, so that
    #: networks made without ``__init__`` (unpickled, copied) have none.
    _last_trace: Trace | None = None

    def __init__(self, layers: Sequence[Dense]) -> None:
        layers = check_layers(layers)
        if not layers:
            raise ValueError("a Network needs at least one layer, got an empty list")
        for k in range(len(layers) - 1):
            if layers[k].n_out != layers[k + 1].n_in:
                raise ValueError(
                    f"layers[{k}] has {layers[k].n_out} nodes, but layers[{k + 1}] expects "
                    f"{layers[k + 1].n_in} inputs"
                )
        dtypes = {layer.dtype for layer in layers}
        if len(dtypes) > 1:
            names = ", ".join(f"layers[{k}]: {layer.dtype.name}" for k, layer in enumerate(layers))
            raise ValueError(f"all layers must share one dtype, got {names}")
        self.layers: list[Dense] = layers

    # ------------------------------------------------------------------ building
    @classmethod
    def from_weights(
        cls,
        weights: Mapping[str, object] | Sequence[object],
        activation: ActivationSpec | Sequence[ActivationSpec] = "identity",
        biases: Sequence[object] | None = None,
        dtype: object = np.float64,
    ) -> Network:
        """Build a network from given weights, as the course writes them.

        ``weights`` is either

        - a dict like ``{'node_0': [2, 1], 'node_1': [1, 2], 'output': [1, 1]}``:
          ``node_j`` holds the weights *into* hidden node ``j`` (one per input),
          ``output`` those into the output node (or a list of such lists, one
          per output node). Two hidden layers are written ``node_0_0``,
          ``node_0_1``, ``node_1_0`` ... (``node_<layer>_<node>``);
        - or a list of weight matrices, each ``(n_in, n_out)``; a 1-D array is
          the weights into a single node, ``(n_in, 1)``.

        ``activation`` is one name for every layer or one per layer.
        ``biases`` (list form only) gives one bias vector, or None, per layer;
        without it the layers have no bias, like the course's networks.
        """
        if isinstance(weights, Mapping):
            if biases is not None:
                raise ValueError("biases can only be given with a list of weight matrices")
            matrices = _matrices_from_course_dict(weights)
        elif isinstance(weights, (str, bytes)) or not isinstance(weights, Sequence):
            raise TypeError(
                "weights must be a dict like {'node_0': [...], 'output': [...]} or a list of "
                f"weight matrices, got {type(weights).__name__}"
            )
        else:
            if len(weights) == 0:
                raise ValueError("weights is an empty list; expected one matrix per layer")
            matrices = [_as_matrix(f"weights[{k}]", w) for k, w in enumerate(weights)]
            _check_list_chain(weights, matrices)
        n_layers = len(matrices)
        activations = _per_layer("activation", activation, n_layers)
        bias_vectors = _biases(biases, matrices)
        layers = []
        for k, w in enumerate(matrices):
            b = bias_vectors[k]
            layer = Dense(w.shape[0], w.shape[1], activation=activations[k],
                          bias=b is not None, dtype=dtype)
            layer.weights = w
            if b is not None:
                layer.bias = b
            layers.append(layer)
        return cls(layers)

    @classmethod
    def mlp(
        cls,
        sizes: Sequence[int],
        activation: ActivationSpec = "relu",
        output: ActivationSpec = "identity",
        bias: bool = True,
        init: str = "normal",
        seed: int | np.random.Generator | None = None,
        dtype: object = np.float64,
        dropout: float = 0.0,
    ) -> Network:
        """A multilayer perceptron with layer sizes ``sizes`` (inputs first).

        ``Network.mlp([6, 2, 1], activation="sigmoid", output="sigmoid")`` is
        the course's admissions network. All hidden layers use ``activation``,
        the last one ``output``. One ``seed`` gives reproducible weights for the
        whole network. ``dropout`` in [0, 1) is the dropout rate of every
        hidden layer while training (see :class:`~slopes.layers.Dense`).
        """
        sizes = check_sizes(sizes)
        rng = make_rng(seed)
        layers = [
            Dense(sizes[k], sizes[k + 1],
                  activation=output if k == len(sizes) - 2 else activation,
                  bias=bias, init=init, seed=rng, dtype=dtype,
                  dropout=0.0 if k == len(sizes) - 2 else dropout)
            for k in range(len(sizes) - 1)
        ]
        return cls(layers)

    # ---------------------------------------------------------------- properties
    @property
    def n_inputs(self) -> int:
        return self.layers[0].n_in

    @property
    def n_outputs(self) -> int:
        return self.layers[-1].n_out

    @property
    def dtype(self) -> np.dtype:
        return self.layers[0].dtype

    @property
    def sizes(self) -> list[int]:
        """Number of nodes per layer, inputs first: ``[6, 2, 1]``."""
        return [self.n_inputs] + [layer.n_out for layer in self.layers]

    def parameters(self) -> list[np.ndarray]:
        """All parameter arrays, layer by layer: weights, then bias when present."""
        return [p for layer in self.layers for p in layer.parameters()]

    def parameter_names(self) -> list[str]:
        """Names aligned with :meth:`parameters`: ``layers[0].weights``, ``layers[0].bias``..."""
        names = []
        for k, layer in enumerate(self.layers):
            names.append(f"layers[{k}].weights")
            if layer.has_bias:
                names.append(f"layers[{k}].bias")
        return names

    def astype(self, dtype: object) -> Network:
        """A copy of the network whose layers all use ``dtype``."""
        dt = as_float_dtype(dtype)
        return Network([layer.astype(dt) for layer in self.layers])

    def copy(self) -> Network:
        """An independent copy (weights copied)."""
        return self.astype(self.dtype)

    # ------------------------------------------------------------------- forward
    def predict(self, X: object) -> np.ndarray:
        """The network's outputs for ``X``, keeping nothing.

        ``X`` of shape ``(n_samples, n_features)`` gives ``(n_samples,
        n_outputs)``; a 1-D ``X`` is one sample and gives ``(n_outputs,)``.
        """
        x, single = check_X(X, self.n_inputs, self.dtype)
        out = self._predict(x)
        return out[0] if single else out

    def _predict(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)[1]
        return x

    def evaluate(self, X: object, y: object, loss: str | Loss = "mse") -> float:
        """The value of ``loss`` for the network's predictions on ``X`` against ``y``."""
        loss_fn = get_loss(loss)
        self.check_loss_fits(loss_fn)
        x, _ = check_X(X, self.n_inputs, self.dtype)
        actual = self.check_targets(y, x.shape[0], loss_fn)
        zs, values = self.forward(x)
        return self.loss_value(loss_fn, zs[-1], values[-1], actual)

    # ---------------------------------------------------------- forward+backward
    def trace(self, X: object, y: object, loss: str | Loss = "mse", *, training: bool = False,
              seed: int | np.random.Generator | None = None, l1: float = 0.0, l2: float = 0.0,
              penalize_bias: bool = False, clip_norm: float | None = None,
              clip_value: float | None = None) -> Trace:
        """Forward and backward pass keeping every node value and every slope.

        The slopes of the layers' weights are also stored on the layers
        (``layer.weight_slopes``, ``layer.bias_slopes``).

        Parameters
        ----------
        X : array (n_samples, n_features), or (n_features,) for one sample
        y : array (n_samples, n_outputs), or (n_samples,) for one output
        loss : str or Loss
        training : bool
            False (the default) traces a prediction: no dropout. True traces
            one training step: the layers' dropout drops nodes (masks drawn
            from ``seed``; ``Trace.dropped`` says which).
        seed : int, Generator or None
            For the dropout masks of a training step.
        l1, l2, penalize_bias : as in :meth:`fit`
            The penalties' slopes are added to the weights' slopes and kept
            apart in ``Trace.penalty_slopes``; ``Trace.loss`` stays the data loss.
        clip_norm, clip_value : as in :meth:`fit`
            The step's clipping: ``Trace.clip_factor`` and the updates shown.

        Returns
        -------
        Trace
            Also kept as :attr:`last_trace` (the latest one only), which is what
            Jupyter shows for the network: the interactive page of that trace.
        """
        traced = self._new_trace(X, y, loss, training=training, seed=seed, l1=l1, l2=l2,
                                 penalize_bias=penalize_bias, clip_norm=clip_norm,
                                 clip_value=clip_value)
        self._last_trace = traced
        return traced

    def _new_trace(self, X: object, y: object, loss: str | Loss, **settings: Any) -> Trace:
        """The hand-off of :meth:`trace` to the trace module, which builds the trace."""
        from .trace import trace_network

        return trace_network(self, X, y, loss, **settings)

    @property
    def last_trace(self) -> Trace | None:
        """The trace the latest call of :meth:`trace` returned, or None before the first.

        The network keeps this one trace (each call replaces it) so that a notebook
        cell ending with the network shows that trace's interactive page. It is never
        saved: not in model files (:meth:`save`), pickles, deep copies or :meth:`copy`.
        A trace keeps every node value of its rows, so trace a few rows, not a data set,
        when memory matters; ``del net.last_trace`` lets it go.
        """
        return self._last_trace

    @last_trace.deleter
    def last_trace(self) -> None:
        self.__dict__.pop("_last_trace", None)

    def __getstate__(self) -> dict[str, object]:
        """What pickling and deep copies keep: everything but :attr:`last_trace`."""
        state = self.__dict__.copy()
        state.pop("_last_trace", None)
        return state

    def forward(self, x: np.ndarray, masks: Sequence[np.ndarray | None] | None = None
                ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The forward pass that keeps everything backpropagation needs.

        For each layer ``k``: ``z_k = a_k @ W_k + b_k`` and ``a_{k+1} = f_k(z_k)``,
        with ``a_0 = x``.

        Parameters
        ----------
        x : array (n_samples, n_inputs)
            Already checked and of the network's dtype (see :meth:`predict` for
            the checking path); this is the training loop's fast path.
        masks : list of arrays (n_samples, n_out_k) or None, one per layer, or None
            Dropout's factors (0 for a dropped node, ``1 / (1 - rate)`` for a
            kept one): layer ``k``'s node values are multiplied by ``masks[k]``.

        Returns
        -------
        zs : list of arrays (n_samples, n_out_k), one per layer
            The node inputs (pre-activations).
        values : list of arrays, inputs first
            ``values[0]`` is ``x``; ``values[k + 1]`` holds layer ``k``'s node values.
        """
        zs: list[np.ndarray] = []
        values = [x]
        for k, layer in enumerate(self.layers):
            z, a = layer.forward(values[-1])
            if masks is not None and masks[k] is not None:
                a = a * masks[k]
            zs.append(z)
            values.append(a)
        return zs, values

    def backward(
        self,
        zs: list[np.ndarray],
        values: list[np.ndarray],
        actual: np.ndarray,
        loss_fn: Loss,
        for_trace: bool = False,
        sample_weight: np.ndarray | None = None,
        masks: Sequence[np.ndarray | None] | None = None,
    ) -> tuple[list, list, list, list]:
        """Backpropagation, from the output layer back to the inputs (after :meth:`forward`).

        For each layer, from the last: the slope at its nodes' inputs ``z`` is
        the slope of the activation times the slope of the loss at its nodes;
        its weights' slopes are the feeding node values times that; the
        slopes of the feeding nodes sum over the weights leaving them. Stores
        the weight slopes on the layers as well.

        ``sample_weight`` (n_samples,), already checked, gives the slopes of
        the weighted loss (see :mod:`slopes.losses`): only the loss's slope
        changes, row by row; every layer below passes it on unchanged.

        ``masks``, dropout's factors as given to :meth:`forward`: the slope
        coming back to a layer's node values after dropout is multiplied by
        its mask, so ``node_slopes[k]`` is the slope at the node's own output
        (0 for a dropped node), and the activation's slope is taken at its
        value before dropout.
        """
        n = len(self.layers)
        node_slopes: list = [None] * (n + 1)
        input_slopes: list = [None] * n
        w_slopes: list = [None] * n
        b_slopes: list = [None] * n
        out = values[-1]
        # Passed only when given, so a loss of one's own without sample_weight still works.
        weighted = {} if sample_weight is None else {"sample_weight": sample_weight}
        if loss_fn.fused_activation is not None:
            # Fused pair: the slope at the logits is (p - y)/m, exact and finite.
            # The slope at the output itself is only for people to read.
            if for_trace:
                node_slopes[n] = loss_fn.slope(out, actual, **weighted)
            input_slope = loss_fn.logit_slope(out, actual, **weighted)
        else:
            node_slopes[n] = loss_fn.slope(out, actual, **weighted)
            input_slope = self.layers[-1].activation.backward(zs[-1], out, node_slopes[n])
        for k in range(n - 1, -1, -1):
            layer = self.layers[k]
            input_slopes[k] = input_slope
            need_x = k > 0 or for_trace
            w_slopes[k], b_slopes[k], node_slope = layer.backward(values[k], input_slope, need_x)
            layer.weight_slopes, layer.bias_slopes = w_slopes[k], b_slopes[k]
            node_slopes[k] = node_slope
            if k > 0:
                prev = self.layers[k - 1]
                activated = values[k]
                if masks is not None and masks[k - 1] is not None:
                    node_slope = node_slopes[k] = node_slope * masks[k - 1]
                    activated = prev.activation.value(zs[k - 1])
                input_slope = prev.activation.backward(zs[k - 1], activated, node_slope)
        return node_slopes, input_slopes, w_slopes, b_slopes

    def loss_value(self, loss_fn: Loss, z: np.ndarray, out: np.ndarray,
                   actual: np.ndarray, sample_weight: np.ndarray | None = None) -> float:
        """The loss of outputs ``out`` (node inputs ``z``) against ``actual``, a float.

        A fused loss (sigmoid + binary cross-entropy, softmax + categorical
        cross-entropy) is computed from the logits ``z``, which never overflows.
        With ``sample_weight`` (n_samples,), the weighted loss
        ``sum_i w_i l_i / sum_i w_i`` (see :mod:`slopes.losses`).
        """
        weighted = {} if sample_weight is None else {"sample_weight": sample_weight}
        if loss_fn.fused_activation is not None:
            return loss_fn.value_from_logits(z, actual, **weighted)
        return loss_fn.value(out, actual, **weighted)

    def check_loss_fits(self, loss_fn: Loss) -> None:
        """Raise a ``ValueError`` when a fused loss does not match the output activation."""
        fused = loss_fn.fused_activation
        if fused is not None and self.layers[-1].activation.name != fused:
            raise ValueError(
                f"loss {loss_fn.name!r} needs a {fused} output layer, but the output layer "
                f"uses {self.layers[-1].activation.name!r}"
            )

    def check_targets(self, y: object, n_samples: int, loss_fn: Loss, name: str = "y",
                      x_name: str = "X") -> np.ndarray:
        """``y`` checked and shaped ``(n_samples, n_outputs)`` (class indices for softmax).

        Also checks the values against the loss (``loss_fn.check_actual``):
        once here for the whole ``y``, so the fit loop never re-checks a batch.
        ``name`` and ``x_name`` are what error messages call ``y`` and ``X``.
        """
        actual = check_y(y, n_samples, self.n_outputs, self.dtype,
                         class_labels=loss_fn.fused_activation == "softmax",
                         name=name, x_name=x_name)
        loss_fn.check_actual(actual)
        return actual

    # ---------------------------------------------------------------- files, notebooks
    def save(self, path: str | os.PathLike[str], preprocessing: object = None,
             training: dict | None = None, history: object = None) -> Path:
        """Save to a safetensors model file, atomically; see :func:`slopes.io.save`.

        Load it back with ``slopes.load(path)``.
        """
        from .io import save

        return save(self, path, preprocessing=preprocessing, training=training, history=history)

    def _repr_html_(self) -> str | None:
        """Jupyter shows a traced network as the page of its latest trace (None: untraced)."""
        from .page import notebook_html

        return notebook_html(self)

    def _repr_png_(self) -> bytes | None:
        """Jupyter shows a network as its drawing."""
        from .plot import network_repr_png

        return network_repr_png(self)

    # ------------------------------------------------------------------ training
    def fit(
        self,
        X: object,
        y: object = None,
        loss: str | Loss = "mse",
        optimizer: str | Optimizer = "sgd",
        learning_rate: float | None = None,
        epochs: int = 1,
        batch_size: int | None = None,
        shuffle: bool = True,
        validation_data: tuple | None = None,
        validation_split: float = 0.0,
        metrics: Sequence[str] = (),
        callbacks: Sequence[Callback] = (),
        seed: int | np.random.Generator | None = None,
        verbose: int | str = "auto",
        sample_weight: object = None,
        l1: float = 0.0,
        l2: float = 0.0,
        penalize_bias: bool = False,
        clip_norm: float | None = None,
        clip_value: float | None = None,
    ) -> History:
        """Train this network by backpropagation and gradient descent.

        The same as ``slopes.training.fit(net, X, y, ...)``, whose docstring
        explains each argument in full.

        A Network is not a scikit-learn estimator: in a ``Pipeline``,
        ``GridSearchCV`` or ``cross_val_score`` use
        :class:`slopes.sklearn.SlopesClassifier` or
        :class:`slopes.sklearn.SlopesRegressor`, which build and train a
        Network (their ``network_``) with these same arguments.

        Parameters
        ----------
        X : array (n_samples, n_features), or a stream of batches (with ``y=None``)
            A stream is a callable returning a fresh iterator of ``(X_batch,
            y_batch)`` pairs (or ``(X_batch, y_batch, sample_weight_batch)``
            triples) each epoch, or an iterable of them; a one-shot iterator
            (a generator) trains one epoch only. Each batch is one optimizer
            step, in the order given; see :mod:`slopes.streaming`.
        y : array (n_samples, n_outputs), or (n_samples,) for one output or class labels
            None when ``X`` is a stream.
        loss : str or Loss
            ``"mse"``, ``"sse"``, ``"half_mse"``, ``"mae"``, ``"binary_crossentropy"``
            (sigmoid output) or ``"categorical_crossentropy"`` (softmax output).
        optimizer : ``"sgd"``, ``"adam"``, ``"adamw"`` or an Optimizer
            An Optimizer object keeps its state (momentum, Adam's moments)
            from one call to the next.
        learning_rate : float > 0 or None
            For an optimizer given by name; None is its default.
        epochs : int >= 1
        batch_size : int or None
            None is one batch of all the rows (plain gradient descent).
        shuffle : bool
        validation_data : (X_val, y_val), (X_val, y_val, sample_weight_val) or None
        validation_split : float in [0, 1)
        metrics : sequence of ``"accuracy"``, ``"mse"``, ``"mae"``
        callbacks : sequence of Callback
        seed : int, Generator or None
        verbose : ``"auto"``, 0, 1 or 2
        sample_weight : array (n_samples,) or None
            Each batch's loss is ``sum_i w_i l_i / sum_i w_i`` over its rows.
        l1 : float >= 0
            L1 penalty: each batch descends ``loss + l1 * sum|w|`` over the
            layers' weights (a layer's own ``l1`` wins), each weight's slope
            gains ``l1 * sign(w)``.
        l2 : float >= 0
            L2 penalty: ``loss + l2 * sum w^2``, slope ``+ 2 * l2 * w``.
            PyTorch's coupled ``weight_decay=wd`` is ``l2 = wd / 2``. The
            History's ``loss`` stays the data loss; ``penalty`` is logged apart.
        penalize_bias : bool
            Penalize the biases too.
        clip_norm : float > 0 or None
            Clip each step's slopes by their global L2 norm (``clip_grad_norm_``).
        clip_value : float > 0 or None
            Then clip each slope into ``[-clip_value, clip_value]`` (``clip_grad_value_``).

        Returns
        -------
        History
        """
        from .training import fit

        return fit(self, X, y, loss=loss, optimizer=optimizer, learning_rate=learning_rate,
                   epochs=epochs, batch_size=batch_size, shuffle=shuffle,
                   validation_data=validation_data, validation_split=validation_split,
                   metrics=metrics, callbacks=callbacks, seed=seed, verbose=verbose,
                   sample_weight=sample_weight, l1=l1, l2=l2, penalize_bias=penalize_bias,
                   clip_norm=clip_norm, clip_value=clip_value)

    def train_on_batch(self, X: object, y: object, sample_weight: object = None, *,
                       optimizer: str | Optimizer = "sgd", learning_rate: float | None = None,
                       loss: str | Loss = "mse") -> float:
        """One optimizer step on one batch; returns the batch's loss (before the step).

        The step ``fit(X, y, batch_size=None, epochs=1, shuffle=False)`` takes.
        An optimizer given by name is kept on the network (:attr:`batch_optimizer`)
        so that its state (momentum, Adam's moments) carries over to the next
        call while the name and ``learning_rate`` stay the same; call
        :meth:`reset_optimizer` to start afresh. An Optimizer object keeps
        its own state. See :func:`slopes.streaming.train_on_batch`.

        Parameters
        ----------
        X : array (m, n_features)
        y : array (m, n_outputs), or (m,) for one output or class labels
        sample_weight : array (m,) or None
        optimizer : ``"sgd"``, ``"adam"``, ``"adamw"`` or an Optimizer
        learning_rate : float > 0 or None
        loss : str or Loss

        Returns
        -------
        float
        """
        from .streaming import train_kept_batch

        return train_kept_batch(self, X, y, sample_weight, optimizer=optimizer,
                                learning_rate=learning_rate, loss=loss)

    def keep_batch_optimizer(self, optimizer: str | Optimizer,
                             learning_rate: float | None) -> Optimizer:
        """The optimizer :meth:`train_on_batch` steps with: kept between calls, or given.

        An Optimizer object is used as it is (it keeps its own state); one
        given by name is kept on the network while the name and
        ``learning_rate`` stay the same, a new one built when they change.
        """
        if isinstance(optimizer, Optimizer):
            return get_optimizer(optimizer, learning_rate)  # refuses a second learning rate
        # One optimizer per name and learning rate, kept while they stay the same.
        key = (optimizer.strip().lower() if isinstance(optimizer, str) else optimizer,
               learning_rate)
        kept = getattr(self, "_batch_optimizer", None)
        if kept is None or kept[0] != key:
            kept = self._batch_optimizer = (key, get_optimizer(optimizer, learning_rate))
        return kept[1]

    @property
    def batch_steps(self) -> int:
        """The steps :meth:`train_on_batch` has taken since :meth:`reset_optimizer`."""
        return getattr(self, "_batch_steps", 0)

    @batch_steps.setter
    def batch_steps(self, steps: int) -> None:
        self._batch_steps = steps

    @property
    def batch_optimizer(self) -> Optimizer | None:
        """The optimizer :meth:`train_on_batch` keeps between calls, or None."""
        kept = getattr(self, "_batch_optimizer", None)
        return None if kept is None else kept[1]

    def reset_optimizer(self) -> None:
        """Forget the optimizer :meth:`train_on_batch` kept: the next call starts a fresh one."""
        self._batch_optimizer = None
        self._batch_steps = 0

    def __repr__(self) -> str:
        acts = ", ".join(layer.activation.name for layer in self.layers)
        return (
            f"Network({'-'.join(map(str, self.sizes))}, activations=[{acts}], "
            f"dtype={self.dtype.name})"
        )

    # ---------------------------------------------------------- ONNX and PyTorch
    def to_onnx(self, path: str | os.PathLike[str], preprocessing: object = None) -> Path:
        """Write an ONNX model file (float32, standard opset), atomically.

        Without ``preprocessing`` the model takes ``input`` (n, n_features);
        with a fitted TabularPreprocessor it takes one (n, 1) input per raw
        column, named after it, and preprocesses inside. Outputs ``label`` and
        ``probabilities`` for a classifier, else ``prediction``. Needs
        ``pip install 'slopes[onnx]'``; see :func:`slopes.export.to_onnx`.
        """
        from .export import to_onnx

        return to_onnx(self, path, preprocessing=preprocessing)

    def to_torch(self) -> object:
        """A ``torch.nn.Sequential`` with the same weights; see :func:`slopes.export.to_torch`."""
        from .export import to_torch

        return to_torch(self)

    @classmethod
    def from_torch(cls, module: object, dtype: object = None) -> Network:
        """A network from a ``torch.nn.Sequential`` of Linear layers and activations.

        For ``trace``, ``explain`` and ``draw_network`` of a model trained with
        PyTorch; see :func:`slopes.export.from_torch` for what is accepted.
        """
        from .export import from_torch

        return cls(from_torch(module, dtype=dtype).layers)


# ---------------------------------------------------------------------- helpers
def _first_non_number(arr: np.ndarray) -> object:
    """The first entry of an object or string array that is not a number.

    NumPy turns ``[1, 'x']`` into the strings ``'1'`` and ``'x'``, so an entry
    that cannot be read as a number is named before one that merely is a string.
    """
    items = [v.item() if isinstance(v, np.generic) else v for v in arr.ravel()]
    for item in items:
        try:
            float(item)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return item
    for item in items:
        if isinstance(item, (str, bytes)) or item is None:
            return item
    return items[0]


def _as_numbers(name: str, value: object) -> np.ndarray:
    """``value`` as a float array of finite numbers, else a ``ValueError`` naming ``name``.

    Strings are refused even when they look like numbers: weights are numbers,
    and ``"ab"`` would otherwise reach NumPy's "could not convert string".
    """
    if value is None or isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must hold numbers, got {short_repr(value)}")
    try:
        arr = np.asarray(value)
    except ValueError as exc:
        # NumPy refuses nested lists of different lengths ("inhomogeneous shape").
        raise ValueError(
            f"{name} has rows of different lengths, got {short_repr(value)}; "
            "expected the same number of weights in every row"
        ) from exc
    if arr.dtype.kind == "c":
        raise ValueError(f"{name} must hold real numbers, got {short_repr(value)}")
    if arr.dtype.kind not in "biuf":
        bad = _first_non_number(arr) if arr.size else None
        if arr.dtype.kind in "US" or isinstance(bad, (str, bytes)) or bad is None:
            raise ValueError(
                f"{name} must hold numbers, got {short_repr(bad)} in {short_repr(value)}"
            )
        try:
            arr = arr.astype(float)  # e.g. a list of Fractions or Decimals
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{name} must hold numbers, got {short_repr(bad)} in {short_repr(value)}"
            ) from exc
    arr = arr.astype(float)
    finite = np.isfinite(arr)
    if not finite.all():
        where = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(
            f"{name} contains {int((~finite).sum())} NaN or infinite value(s) (first at index "
            f"{where}), got {short_repr(value)}; expected finite numbers"
        )
    return arr


def _as_matrix(name: str, w: object) -> np.ndarray:
    arr = _as_numbers(name, w)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"{name} must be 1-D or 2-D and non-empty, got shape {arr.shape}")
    return arr


def _check_list_chain(weights: Sequence[object], matrices: list[np.ndarray]) -> None:
    """Refuse consecutive matrices that do not fit, with a hint when 1-D lists were meant as rows.

    ``[[1, 2], [3, 4]]`` is two layers (each entry is a layer), not one 2x2
    matrix; that surprise deserves words, not only the sizes.
    """
    for k in range(len(matrices) - 1):
        n_nodes, n_inputs = matrices[k].shape[1], matrices[k + 1].shape[0]
        if n_nodes != n_inputs:
            hint = ""
            if all(np.ndim(w) == 1 for w in weights):
                hint = (
                    "; each entry of the weights list is one layer (a flat list is the weights "
                    "into a single node), so one matrix is written with an extra pair of "
                    f"brackets: [{short_repr(list(weights))}]"
                )
            raise ValueError(
                f"layers[{k}] has {n_nodes} nodes, but layers[{k + 1}] expects {n_inputs} "
                f"inputs{hint}"
            )


def _biases(biases: object, matrices: list[np.ndarray]) -> list[np.ndarray | None]:
    """One checked bias vector, or None, per layer (all None when ``biases`` is None)."""
    n_layers = len(matrices)
    if biases is None:
        return [None] * n_layers
    if isinstance(biases, (str, bytes)) or not isinstance(biases, (Sequence, np.ndarray)):
        raise ValueError(
            f"biases must be a list with one bias vector (or None) per layer, got "
            f"{short_repr(biases)}"
        )
    if len(biases) != n_layers:
        raise ValueError(f"biases has {len(biases)} entries, but there are {n_layers} layers")
    vectors: list[np.ndarray | None] = []
    for k, b in enumerate(biases):
        if b is None:
            vectors.append(None)
            continue
        vec = np.reshape(_as_numbers(f"biases[{k}]", b), -1)
        n_out = matrices[k].shape[1]
        if vec.size != n_out:
            raise ValueError(
                f"biases[{k}] has {vec.size} values, but layer {k} has {n_out} nodes; "
                "expected one bias per node"
            )
        vectors.append(vec)
    return vectors


_NODE_KEY = re.compile(r"^node_(\d+)(?:_(\d+))?$")
_DICT_EXAMPLE = "{'node_0': [...], 'node_1': [...], 'output': [...]}"


def _matrices_from_course_dict(weights: Mapping[str, object]) -> list[np.ndarray]:
    if "output" not in weights:
        got = f"keys {list(weights)}" if weights else "an empty dict"
        raise ValueError(
            f"the weights dict needs an 'output' entry, got {got}; expected a dict like "
            f"{_DICT_EXAMPLE}"
        )
    # hidden[layer][node] = (key, weights into that node)
    hidden: dict[int, dict[int, tuple[str, np.ndarray]]] = {}
    one_layer_keys: list[str] = []
    layered_keys: list[str] = []
    for key, value in weights.items():
        if key == "output":
            continue
        if not isinstance(key, str):
            raise ValueError(
                f"the keys of the weights dict must be strings like 'node_0' or 'output', "
                f"got {key!r} ({type(key).__name__})"
            )
        match = _NODE_KEY.match(key)
        if match is None:
            raise ValueError(
                f"unexpected key {key!r} in the weights dict; expected 'node_<j>', "
                "'node_<layer>_<j>' or 'output'"
            )
        if match[2] is None:
            layer, node = 0, int(match[1])
            one_layer_keys.append(key)
        else:
            layer, node = int(match[1]), int(match[2])
            layered_keys.append(key)
        if one_layer_keys and layered_keys:
            # node_1 (node 1 of the one hidden layer) next to node_1_0 is ambiguous.
            raise ValueError(
                f"the weights dict mixes 'node_<j>' keys ({one_layer_keys[0]!r}, one hidden "
                f"layer) with 'node_<layer>_<j>' keys ({layered_keys[0]!r}); use one form"
            )
        nodes = hidden.setdefault(layer, {})
        if node in nodes:
            # int() reads node_1 and node_01 alike; keeping the last one would drop weights.
            raise ValueError(
                f"the weights dict keys {nodes[node][0]!r} and {key!r} both name node {node} "
                f"of hidden layer {layer}; expected one key per node"
            )
        vec = _as_numbers(f"weights[{key!r}]", value)
        if vec.ndim != 1:
            raise ValueError(
                f"weights[{key!r}] must be a flat list of weights, got {short_repr(value)}"
            )
        if vec.size == 0:
            raise ValueError(
                f"weights[{key!r}] is empty; expected one weight per node feeding it"
            )
        nodes[node] = (key, vec)
    layers = sorted(hidden)
    if layers != list(range(len(layers))):
        missing = sorted(set(range(layers[-1] + 1)) - set(layers))
        raise ValueError(
            f"the weights dict has hidden layers {layers} but no 'node_{missing[0]}_<j>' keys; "
            f"expected hidden layers numbered 0..{layers[-1]} with none missing"
        )
    matrices = []
    for layer in layers:
        nodes = hidden[layer]
        if sorted(nodes) != list(range(len(nodes))):
            raise ValueError(f"hidden layer {layer} has nodes {sorted(nodes)}; expected 0..n-1")
        lengths = {len(vec) for _, vec in nodes.values()}
        if len(lengths) != 1:
            counts = ", ".join(f"{key!r} has {len(vec)}" for key, vec in
                               (nodes[j] for j in range(len(nodes))))
            raise ValueError(
                f"the nodes of hidden layer {layer} have different numbers of weights: "
                f"{counts}; expected one weight per node feeding them"
            )
        matrices.append(np.column_stack([nodes[j][1] for j in range(len(nodes))]))
    out = _as_numbers("weights['output']", weights["output"])
    if out.ndim not in (1, 2) or out.size == 0:
        raise ValueError(
            "weights['output'] must be a list of weights (one per node feeding the output), "
            f"or one such list per output node, got {short_repr(weights['output'])}"
        )
    out = out.reshape(-1, 1) if out.ndim == 1 else out.T
    matrices.append(out)
    for k in range(len(matrices) - 1):
        if matrices[k].shape[1] != matrices[k + 1].shape[0]:
            raise ValueError(
                f"layer {k} has {matrices[k].shape[1]} nodes, but the weights of layer {k + 1} "
                f"expect {matrices[k + 1].shape[0]} inputs"
            )
    return matrices


def _per_layer(name: str, spec: object, n_layers: int) -> list:
    if isinstance(spec, (str, Activation)) or spec is None:
        return [spec] * n_layers
    if not isinstance(spec, Sequence):
        # activation=5 would otherwise fail as "'int' object is not iterable".
        raise TypeError(
            f"{name} must be a name like 'relu', an Activation object, or a list with one "
            f"per layer, got {short_repr(spec)} ({type(spec).__name__})"
        )
    spec = list(spec)
    if len(spec) != n_layers:
        raise ValueError(
            f"{name} has {len(spec)} entries, but the network has {n_layers} layers; got "
            f"{short_repr(spec)}, expected one {name} for all layers or one per layer"
        )
    for k, item in enumerate(spec):
        if item is not None and not isinstance(item, (str, Activation)):
            raise TypeError(
                f"{name}[{k}] must be a name like 'relu' or an Activation object, got "
                f"{short_repr(item)} ({type(item).__name__})"
            )
    return spec
