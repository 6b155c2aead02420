"""The fit loop's arrays, made once per ``fit``, so that a batch allocates almost nothing.

While ``fit`` runs, every weight and bias of the network lives in one flat
array, :attr:`Workspace.parameters`, and each layer's ``weights`` and ``bias``
are views into it. Their slopes live in a second flat array,
:attr:`Workspace.slopes` (``layer.weight_slopes`` and ``layer.bias_slopes``
are views into it), and the optimizer's updates in a third. One batch then is:

- forward, layer by layer: ``z = x @ weights + bias`` (:meth:`Dense.node_inputs`)
  and ``a = f(z)`` (``Activation.value``), written into the layer's buffers;
- at the output: the loss, the predictions and the slope of the loss at the
  output layer's node inputs. A fused pair (sigmoid + binary cross-entropy,
  softmax + categorical cross-entropy) gets the first two from the logits in
  one call (:meth:`Loss.value_and_predicted`) and the slope is ``p - y``
  scaled (:meth:`Loss.logit_slope`);
- backward, from the last layer: the slopes of each layer's weights and bias,
  written into the flat slopes, and those of the nodes feeding it
  (:meth:`Dense.backward`), times the slope of their activation
  (``Activation.backward``);
- with a fit's :class:`StepOptions` only (none of it runs without them):
  dropout's masks on the hidden node values in the forward pass and on their
  slopes in the backward pass, then the penalties' slopes added to the
  weights' slopes and the slopes clipped (:meth:`regularize`);
- one update of every parameter at once: ``updates = optimizer(slopes)``,
  then ``parameters -= updates``, once one dot product has shown the updates
  finite (:meth:`update`).

These are the steps of :meth:`Network.forward` and :meth:`Network.backward`
(which :meth:`Network.trace` uses), with the same layer, activation and loss
methods: only where the numbers are written changes. When ``fit`` ends, stops
or fails, :meth:`Workspace.release` gives each layer back its own arrays,
holding the trained numbers, and copies of the last batch's slopes.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .layers import Dense
from .penalties import add_penalty_slope, clip_factor, clip_values, dropout_mask

if TYPE_CHECKING:
    from .losses import Loss
    from .network import Network
    from .optimizers import Optimizer

__all__ = ["Workspace", "StepOptions"]


@dataclass
class StepOptions:
    """What a fit adds to each step besides the slopes of the data: penalties, clipping, dropout.

    Attributes
    ----------
    l1, l2 : float
        The fit's penalty coefficients, for the layers whose own ``l1``,
        ``l2`` are None (see :meth:`Dense.penalty_coefficients`).
    penalize_bias : bool
        Whether the biases are penalized too (with their layer's coefficients).
    clip_norm, clip_value : float or None
        Clip the step's slopes by their global L2 norm, then elementwise.
    rng : numpy Generator or None
        Draws the dropout masks (None: no layer drops nodes).
    """

    l1: float = 0.0
    l2: float = 0.0
    penalize_bias: bool = False
    clip_norm: float | None = None
    clip_value: float | None = None
    rng: np.random.Generator | None = None

    def penalties(self, layers: list[Dense]) -> list[tuple[int, float, float]]:
        """``(parameter index, l1, l2)`` of every penalized parameter of ``layers``, in order."""
        out = []
        index = 0
        for layer in layers:
            l1, l2 = layer.penalty_coefficients(self.l1, self.l2)
            for name in ("weights", "bias") if layer.has_bias else ("weights",):
                if (l1 or l2) and (name == "weights" or self.penalize_bias):
                    out.append((index, l1, l2))
                index += 1
        return out

    def penalized(self, layers: list[Dense]) -> bool:
        return bool(self.penalties(layers))


class Workspace:
    """Preallocated arrays for training ``net`` on batches of at most ``batch_rows`` rows.

    Making one points the layers' parameters and slopes at its flat arrays;
    :meth:`release` undoes it. See the module's notes.
    """

    #: Layers with at most this many inputs fold their bias into their weights. The
    #: bias costs a pass over the layer's node inputs and one over their slopes, a
    #: large part of the work when the products are small, and nothing measurable
    #: when each node sums hundreds of inputs; there the odd width n_in + 1 and the
    #: copy of x with a column of ones cost more than they save (measured with
    #: benchmarks/train_mlp.py: tiny and small gain, medium and large lose).
    fold_inputs = 64

    def __init__(self, net: Network, loss_fn: Loss, batch_rows: int,
                 options: StepOptions | None = None) -> None:
        self.net = net
        self.layers = list(net.layers)
        self.loss_fn = loss_fn
        dtype = net.dtype
        params = net.parameters()
        self.n_params = len(params)
        self.parameters = np.concatenate([p.ravel() for p in params])
        self.slopes = np.zeros_like(self.parameters)
        self.updates = np.empty_like(self.parameters)
        self.batch_rows = batch_rows
        # Finite updates whose dot product is finite are below sqrt(largest float) each,
        # so they cannot make a weight below a quarter of the largest float overflow;
        # the fit loop checks every new weight of a network with weights bigger than that.
        self.near_overflow = not np.abs(self.parameters).max() < np.finfo(dtype).max / 4
        # What each layer held before, to give it back (a layer may appear twice).
        self._own = {id(layer): (layer, layer.weights, layer.bias) for layer in self.layers}
        self.param_views: list[np.ndarray] = []
        self.slope_views: list[np.ndarray] = []
        self.update_views: list[np.ndarray] = []
        offset = 0
        self._offsets: list[int] = []
        for p in params:
            self._offsets.append(offset)
            end = offset + p.size
            for flat, views in ((self.parameters, self.param_views),
                                (self.slopes, self.slope_views),
                                (self.updates, self.update_views)):
                views.append(flat[offset:end].reshape(p.shape))
            offset = end
        # Per layer: (weights, bias, weight slopes, bias slopes) views.
        self._held: list[tuple] = []
        self._first: list[int] = []  # per layer, the index of its weights in params
        k = 0
        for layer in self.layers:
            self._first.append(k)
            if layer.has_bias:
                held = (self.param_views[k], self.param_views[k + 1],
                        self.slope_views[k], self.slope_views[k + 1])
                k += 2
            else:
                held = (self.param_views[k], None, self.slope_views[k], None)
                k += 1
            self._held.append(held)
            layer._weights, layer._bias, layer.weight_slopes, layer.bias_slopes = held
        # Layers and activations of one's own may not take out=: they get no buffers.
        self._forward_out = [_takes_out(_function(layer.forward))
                             and _takes_out(_function(layer.activation.value))
                             for layer in self.layers]
        # The bias folded into the weights. A Dense layer's weights (n_in, n_out) and
        # bias (n_out,) lie one after the other in the flat arrays: together they are
        # one (n_in + 1, n_out) array, the weights with the bias as a last row. Its nodes
        # fed by [x, 1] (the node values with a column of ones) then compute
        # z = [x, 1] @ [[W], [b]] = x @ W + b in one product, and the product
        # [x, 1].T @ input_slope holds the weight slopes and, as its last row, the bias
        # slopes: two BLAS calls instead of four, which is most of a small network's time.
        self._stacked = [self._stack(k) for k in range(len(self.layers))]
        # A fit's penalties, clipping and dropout; None (the plain fit) adds nothing per batch.
        self.options = options
        self.batch_penalty = 0.0  # the penalty of the last batch, at the weights it started with
        self.clip_factor = 1.0  # the factor clip_norm scaled the last batch's slopes by
        self._penalties = [] if options is None else options.penalties(self.layers)
        rates = [layer.dropout for layer in self.layers]
        # Per layer, the dropout rate or 0; None when no layer drops nodes.
        self._dropout = rates if options is not None and options.rng is not None \
            and any(rates) else None
        self.masks: list[np.ndarray | None] = [None] * len(self.layers)  # the last batch's
        self._activated: list[np.ndarray | None] = [None] * len(self.layers)
        # Node inputs, node values and slopes, one (batch_rows, n_out) array each per layer;
        # node values that feed a folded layer get a last column of ones.
        self._buffers = []
        for k, layer in enumerate(self.layers):
            ones = k + 1 < len(self.layers) and self._stacked[k + 1] is not None
            values = np.empty((batch_rows, layer.n_out + ones), dtype)
            if ones:
                values[:, -1] = 1
            self._buffers.append((np.empty((batch_rows, layer.n_out), dtype), values,
                                  np.empty((batch_rows, layer.n_out), dtype)))
        # A dropping layer's node values after dropout, which feed the next layer; its
        # buffer above keeps them before dropout, for the slope of its activation.
        self._dropped = [None] * len(self.layers)
        for k, rate in enumerate(self._dropout or ()):
            if rate:
                self._dropped[k] = self._buffers[k][1].copy()  # with the column of ones
        self._by_rows: dict[int, tuple[list, list, list]] = {}
        # This batch's node inputs and node values (inputs first), as Network.forward returns.
        self._zs: list[np.ndarray | None] = [None] * len(self.layers)
        self._values: list[np.ndarray | None] = [None] * (len(self.layers) + 1)
        self._inputs: dict[int, tuple[np.ndarray, ...]] = {}
        self._backward = [_with_out(layer.activation.backward) for layer in self.layers]
        self.fused = loss_fn.fused_activation is not None
        if self.fused:
            self._value_and_predicted = _quiet(loss_fn, "value_and_predicted")
            self._logit_slope = _with_out(_quiet(loss_fn, "logit_slope"))

    # ------------------------------------------------------------------ one batch
    def forward_backward(self, x: np.ndarray, actual: np.ndarray,
                         sample_weight: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """The loss and the predictions for one batch; fills the slopes of every parameter.

        ``x`` (m, n_inputs), ``actual`` (m, n_outputs) and ``sample_weight``
        (m,) or None are checked already and of the network's dtype. The
        predictions returned live in a buffer the next batch overwrites.
        """
        m = x.shape[0]
        zs_out, values_out, slopes_out, backward_out, fed = self._by_rows.get(m) or self._rows(m)
        layers, loss_fn, stacked = self.layers, self.loss_fn, self._stacked
        # Only when given, so that a loss of one's own without sample_weight still works.
        weighted = {} if sample_weight is None else {"sample_weight": sample_weight}
        last = len(layers) - 1
        zs, values = self._zs, self._values
        drop = self._dropout
        if drop is not None:
            masks = self._draw_masks(m)
            dropped_out = self._dropped_rows(m)
        # [x, 1] (from with_ones or gather) feeds a first layer that folds its bias.
        fed[0] = x if x.shape[1] != layers[0].n_in else None
        values[0] = x if fed[0] is None else x[:, :-1]
        for k, layer in enumerate(layers):
            folded = stacked[k] is not None and fed[k] is not None
            if folded:  # z = [x, 1] @ [[W], [b]]
                zs[k] = np.matmul(fed[k], stacked[k][0], out=zs_out[k])
            if k == last and self.fused:  # the output activation comes with the loss
                if not folded:
                    zs[k] = layer.node_inputs(values[k], zs_out[k])
                loss, values[k + 1] = self._value_and_predicted(
                    zs[k], actual, sample_weight, out=values_out[k])
                input_slope = self._logit_slope(values[k + 1], actual, **weighted,
                                            out=slopes_out[k])
            else:
                if folded:
                    values[k + 1] = layer.activation.value(zs[k], out=values_out[k])
                elif self._forward_out[k]:
                    zs[k], values[k + 1] = layer.forward(values[k], (zs_out[k], values_out[k]))
                else:
                    zs[k], values[k + 1] = layer.forward(values[k])
                if fed[k + 1] is not None and values[k + 1] is not values_out[k]:
                    # [values, 1] feeds the next layer, but the activation returned z
                    # itself (identity) or a new array.
                    values[k + 1] = np.copyto(values_out[k], values[k + 1]) or values_out[k]
                if drop is not None and drop[k]:  # inverted dropout of this layer's nodes
                    self._activated[k] = values[k + 1]
                    values[k + 1] = np.multiply(values[k + 1], masks[k], out=dropped_out[k])
        predicted = values[-1]
        if not self.fused:
            loss = loss_fn.value(predicted, actual, **weighted)
            node_slope = loss_fn.slope(predicted, actual, **weighted)
            input_slope = self._backward[last](zs[last], predicted, node_slope,
                                               out=slopes_out[last])
        for k in range(last, -1, -1):
            layer = layers[k]
            out = backward_out[k]  # (weight slopes, bias slopes, slopes of the feeding nodes)
            if stacked[k] is not None and fed[k] is not None:
                # [x, 1].T @ input_slope: the weight slopes, and the bias slopes as a last row.
                np.matmul(fed[k].T, input_slope, out=stacked[k][1])
                node_slope = None
                if k:
                    weights_t = self._held[k][0].T  # (n_out, n_in)
                    product = np.multiply if layer.n_out == 1 else np.matmul
                    node_slope = product(input_slope, weights_t, out=out[2])
            else:
                node_slope = layer.backward(values[k], input_slope, k > 0, out)[2]
            layer.weight_slopes, layer.bias_slopes = out[0], out[1]
            if k:
                activated = values[k]
                if drop is not None and drop[k - 1]:
                    # A dropped node passes no slope back; a kept one, its slope scaled.
                    node_slope *= masks[k - 1]
                    activated = self._activated[k - 1]
                # The node slopes of layer k - 1 become its input slopes, in place.
                input_slope = self._backward[k - 1](zs[k - 1], activated, node_slope,
                                                    out=node_slope)
        return loss, predicted

    def regularize(self) -> None:
        """Add the penalties' slopes to the weights' slopes, then clip the slopes, in place.

        For each penalized parameter ``w`` (``l1``, ``l2`` its layer's
        coefficients): ``slope += l1 * sign(w) + 2 * l2 * w``, and
        :attr:`batch_penalty` becomes the sum of ``l1 * sum|w| + l2 * sum
        w^2`` (the weights before the step). Then, with ``clip_norm``,
        every slope times :attr:`clip_factor` (``clip_grad_norm_``'s factor,
        1 when the norm is small enough), and with ``clip_value`` every slope
        into ``[-clip_value, clip_value]``. The updates array, written only
        by the step that follows, is the scratch space: nothing is allocated.
        """
        options = self.options
        total = 0.0
        for k, l1, l2 in self._penalties:
            total += add_penalty_slope(self.param_views[k], self.slope_views[k], l1, l2,
                                       self.update_views[k])
        self.batch_penalty = total
        if options.clip_norm is not None:
            self.clip_factor = clip_factor(self.slope_views, options.clip_norm)
            if self.clip_factor != 1:
                self.slopes *= self.slopes.dtype.type(self.clip_factor)
        if options.clip_value is not None:
            clip_values(self.slopes, options.clip_value)

    def _draw_masks(self, m: int) -> list[np.ndarray | None]:
        """New dropout factors for a batch of ``m`` rows (0 or ``1 / (1 - rate)``), per layer."""
        rng, dtype = self.options.rng, self.net.dtype
        self.masks = [dropout_mask(rng, (m, layer.n_out), rate, dtype) if rate else None
                      for layer, rate in zip(self.layers, self._dropout, strict=True)]
        return self.masks

    def _dropped_rows(self, m: int) -> list[np.ndarray | None]:
        """The first ``m`` rows of each dropping layer's buffer of node values after dropout."""
        return [None if d is None else d[:m, :layer.n_out]
                for d, layer in zip(self._dropped, self.layers, strict=True)]

    def update(self, optimizer: Optimizer, loss: float) -> bool:
        """The optimizer's step: the updates of every parameter, applied if surely finite.

        Computes :attr:`updates` from :attr:`slopes` and, when ``loss`` is
        finite and one dot product of the updates is too, applies them and
        returns True. The dot product is NaN or infinite whenever an update
        is (a non-finite slope makes a non-finite update), and finite updates
        of weights below a quarter of the largest float keep them finite.
        Otherwise (a non-finite loss or update, merely huge updates whose
        squares overflow, or huge weights) returns False, having changed no
        weight: the fit loop then checks each new weight and calls
        :meth:`apply`, or :meth:`refuse` and stops.
        """
        updates = self.updates
        # The optimizer's state before this step (a plain SGD step only counts itself):
        # a refused step must leave the optimizer as it was.
        self._before = optimizer.iterations, optimizer.state
        if not optimizer.flat_updates(self.slopes, self.n_params, updates):
            self._before = optimizer.snapshot()
            for view, update in zip(self.update_views,
                                    optimizer.updates(self.param_views, self.slope_views),
                                    strict=True):
                np.copyto(view, update)
        if self.near_overflow or not (math.isfinite(loss)
                                      and math.isfinite(np.dot(updates, updates))):
            return False
        np.subtract(self.parameters, updates, out=self.parameters)
        return True

    def refuse(self, optimizer: Optimizer) -> None:
        """Undo the optimizer's side of the last :meth:`update`, which was not applied."""
        optimizer.restore(self._before)

    def apply(self) -> None:
        """``parameters -= updates``: every weight and bias of the network takes its step."""
        np.subtract(self.parameters, self.updates, out=self.parameters)

    def gather(self, rows: np.ndarray, *arrays: np.ndarray | None) -> list[np.ndarray | None]:
        """``array[rows]`` for each array (or None), copied into buffers kept for the next batch.

        The first array is the inputs ``x``: when the first layer folds its
        bias, its rows come back as ``[x[rows], 1]`` (see :meth:`with_ones`).
        """
        out = self._inputs.get(len(rows))
        if out is None:
            out = tuple(None if a is None else np.empty((len(rows), *a.shape[1:]), a.dtype)
                        for a in arrays)
            if arrays and arrays[0] is not None and self._stacked[0] is not None:
                # The inputs, first, gathered into [x, 1] (see with_ones).
                out = (self.with_ones(out[0]), *out[1:])
            self._inputs[len(rows)] = out
        # mode="clip" skips the bounds check that would make take copy through a buffer;
        # rows is a permutation of valid indices.
        taken = [None if a is None else np.take(a, rows, axis=0, mode="clip",
                                                out=o[:, :a.shape[1]] if o.ndim == 2 else o)
                 for a, o in zip(arrays, out, strict=True)]
        if taken and out[0] is not None and out[0].shape[1:] != arrays[0].shape[1:]:
            taken[0] = out[0]  # [x, 1]
        return taken

    def _stack(self, k: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Layer ``k``'s weights with the bias as a last row, and their slopes, or None.

        Two (n_in + 1, n_out) views into :attr:`parameters` and :attr:`slopes`,
        for a plain :class:`Dense` layer with a bias whose node values come
        from the workspace's buffers; None for any other layer (a layer of
        one's own, one used twice, one without bias), which then runs its own
        ``forward`` and ``backward``.
        """
        layer = self.layers[k]
        kind = type(layer)
        plain = (kind.forward is Dense.forward and kind.backward is Dense.backward
                 and kind.node_inputs is Dense.node_inputs)
        if not (plain and layer.has_bias and layer.n_in <= self.fold_inputs
                and self._forward_out[k]
                and (k == 0 or self._forward_out[k - 1])
                and len({id(lay) for lay in self.layers}) == len(self.layers)):
            return None
        start = self._offsets[self._first[k]]
        end = start + (layer.n_in + 1) * layer.n_out
        shape = (layer.n_in + 1, layer.n_out)
        return self.parameters[start:end].reshape(shape), self.slopes[start:end].reshape(shape)

    def with_ones(self, x: np.ndarray) -> np.ndarray:
        """``[x, 1]``: ``x`` (n, n_inputs) and a column of ones, if the first layer folds its bias.

        :meth:`forward_backward` takes batches of it (rows of the result)
        as well as batches of ``x``; with the ones the first layer needs two
        products instead of four. Returns ``x`` itself when the first layer
        does not fold (see :meth:`_stack`).
        """
        if self._stacked[0] is None:
            return x
        out = np.empty((x.shape[0], x.shape[1] + 1), x.dtype)
        out[:, :-1] = x
        out[:, -1] = 1
        return out

    # -------------------------------------------------------------- bookkeeping
    def in_sync(self) -> bool:
        """Whether the network still holds this workspace's arrays (a callback may replace them)."""
        if len(self.net.layers) != len(self.layers):
            return False
        for layer, mine, held in zip(self.net.layers, self.layers, self._held, strict=True):
            if layer is not mine or layer._weights is not held[0] or layer._bias is not held[1]:
                return False
        return True

    def release(self) -> None:
        """Give the layers back their own arrays, holding the current numbers.

        A layer given new arrays meanwhile (``layer.weights = ...`` in a
        callback) keeps those. The slopes of the last batch stay, copied.
        """
        done = set()
        for layer, held in zip(reversed(self.layers), reversed(self._held), strict=True):
            if id(layer) in done:
                continue  # a layer used twice holds the views of its last use
            done.add(id(layer))
            _, weights, bias = self._own[id(layer)]
            for name, own, view in (("_weights", weights, held[0]), ("_bias", bias, held[1])):
                if view is not None and getattr(layer, name) is view:
                    own[...] = view
                    setattr(layer, name, own)
            if layer.weight_slopes is held[2]:
                layer.weight_slopes = held[2].copy()
            if held[3] is not None and layer.bias_slopes is held[3]:
                layer.bias_slopes = held[3].copy()

    def _rows(self, m: int) -> tuple[list, list, list, list, list]:
        """The buffers' first ``m`` rows (every batch has the full number but the last).

        Node inputs, node values and slopes per layer, per layer the arrays
        its backward pass writes into, and per layer its input with a column
        of ones when it folds its bias (else None).
        """
        zs, slopes = ([buffers[i][:m] for buffers in self._buffers] for i in (0, 2))
        values = [buffers[1][:m, :layer.n_out]
                  for buffers, layer in zip(self._buffers, self.layers, strict=True)]
        backward = [(held[2], held[3], slopes[k - 1] if k else None)
                    for k, held in enumerate(self._held)]
        # [node values, 1] feeding each layer that folds its bias (the first: the batch's).
        fed: list[np.ndarray | None] = [None] + [
            (buffers[1] if self._dropped[k] is None else self._dropped[k])[:m]
            if self._stacked[k + 1] is not None else None
            for k, buffers in enumerate(self._buffers[:-1])] + [None]
        views = self._by_rows[m] = (zs, values, slopes, backward, fed)
        return views


def _quiet(loss_fn: Loss, name: str) -> Callable:
    """The loss's method ``name`` without its own ``np.errstate``, when it has such a twin.

    The fused losses wrap their work in ``np.errstate(under="ignore")`` (an
    exponential that underflows to 0 is the right value), which costs about a
    microsecond per call; the fit loop ignores underflow itself, so it calls
    their ``_name`` twin. A subclass that overrides the method itself gets its own.
    """
    for cls in type(loss_fn).__mro__:
        if name in vars(cls):
            if "_" + name in vars(cls):
                return getattr(loss_fn, "_" + name)
            break
    return getattr(loss_fn, name)


def _with_out(method: Callable) -> Callable:
    """``method`` itself when it takes ``out=``, else a wrapper that drops it.

    Activations and losses of one's own may leave ``out`` out; they then
    return new arrays, which the workspace uses as they are.
    """
    if _takes_out(_function(method)):
        return method

    def without_out(*args: object, out: object = None, **kwargs: object) -> np.ndarray:
        return method(*args, **kwargs)

    return without_out


def _function(method: Callable) -> Callable:
    return getattr(method, "__func__", method)


@functools.lru_cache(maxsize=64)
def _takes_out(function: Callable) -> bool:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return "out" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())
