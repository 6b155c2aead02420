"""Trace: every number of one forward and backward pass, kept for people to read.

Indexing follows the network's layers. With ``L = len(net.layers)``:

- ``node_values[0]`` is the input ``X``; ``node_values[k + 1]`` are the values
  of the nodes of ``net.layers[k]`` (after its activation). ``L + 1`` entries,
  each ``(n_samples, n_nodes)``.
- ``node_inputs[k]`` is ``z`` of ``net.layers[k]``: the weighted sums its nodes
  receive, before the activation. ``L`` entries.
- ``node_slopes[k]`` is the slope of the loss with respect to
  ``node_values[k]``, same shape. ``L + 1`` entries.
- ``input_slopes[k]`` is the slope of the loss with respect to
  ``node_inputs[k]`` (the activation's slope times the node's slope).
- ``weight_slopes[k]`` and ``bias_slopes[k]`` belong to ``net.layers[k]`` and
  have the shapes of its weights and bias (``None`` without bias).

The course's rule, which :meth:`Trace.explain` spells out with numbers: the
slope of the weight from node ``i`` to node ``j`` of ``net.layers[k]`` is the
product of three factors, summed over the samples of the batch::

    weight_slopes[k][i, j] = sum over samples of
        node_values[k][:, i]                       # value of the node feeding the weight
      * activation.slope(z, a)[:, j]               # slope of the activation at the node fed
      * node_slopes[k + 1][:, j]                   # slope of the loss at that node's output

The last two factors multiply to ``input_slopes[k][:, j]``. For a fused output
pair (sigmoid + binary_crossentropy, softmax + categorical_crossentropy) and
for softmax, whose nodes depend on each other, only that product is exact, and
the explanation uses it.

The trace of a training step (``net.trace(X, y, training=True, l2=...,
clip_norm=...)``) adds what a step of ``fit`` adds. With dropout,
``node_values[k + 1]`` are the values after dropout (what the next layer
receives: 0 for a dropped node), ``node_slopes[k + 1]`` the slope at the
node's own output (0 for a dropped node) and ``dropped[k]`` which nodes were
dropped. With a penalty, ``weight_slopes[k]`` is the slope from the data plus
``penalty_slopes[k]`` (``l1 * sign(w) + 2 * l2 * w``); ``loss`` stays the
data loss and ``penalty`` is the penalty's value. With ``clip_norm``,
``clip_factor`` is what every slope was multiplied by before the step.

Why this module is long: the trace, its table and its explanations in words
share the wording's templates and the number format with the interactive page
(:mod:`slopes.page`); kept together, what :meth:`Trace.explain` prints and
what the page shows for a weight are written once, in one place.
"""

from __future__ import annotations

import copy
import numbers
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .initializers import make_rng
from .losses import Loss, get_loss
from .optimizers import SGD, Optimizer, get_optimizer
from .penalties import (
    check_clip,
    check_penalty,
    clip_factor,
    dropout_mask,
    penalty_slope,
    penalty_value,
)
from .validation import check_bool, check_positive, check_seed, check_X

if TYPE_CHECKING:
    from .network import Network

__all__ = ["Trace", "trace_network", "WeightFactors", "NodeNames", "UpdateStep",
           "explanation_template", "fused_sigmoid_splits"]

#: Columns of :meth:`Trace.table`, in order.
TABLE_COLUMNS = (
    "layer", "from", "to", "weight", "node_value", "activation_slope",
    "downstream_slope", "slope", "update",
)
# Samples listed one by one in an explanation before the rest are summed up.
_SAMPLES_SHOWN = 5


@dataclass(frozen=True)
class WeightFactors:
    """The numbers behind the slope of one weight (or bias) of a traced network.

    Per-sample arrays have shape ``(n_samples,)``.

    Attributes
    ----------
    layer, i, j : int
        The weight ``net.layers[layer].weights[i, j]``; ``i`` is ``"bias"``
        for the bias of node ``j`` (a weight fed by a node whose value is 1).
    weight : float
        Its value when the trace was taken.
    node_value : ndarray (n_samples,)
        Value of the node feeding the weight, ``node_values[layer][:, i]``
        (all ones for a bias).
    activation_slope : ndarray (n_samples,)
        ``f'(z)`` of the activation at the node fed, ``z = node_inputs[layer][:, j]``.
    downstream_slope : ndarray (n_samples,)
        Slope of the loss at the output of the node fed, ``node_slopes[layer + 1][:, j]``
        (already holds the loss's ``1/m`` for a mean loss).
    input_slope : ndarray (n_samples,)
        Slope of the loss at the input ``z`` of the node fed,
        ``input_slopes[layer][:, j]``. Equals ``activation_slope *
        downstream_slope`` except when ``fused`` is true.
    fused : str or None
        ``None`` when the node's slope factors as activation slope times
        downstream slope; otherwise why only their product is exact:
        ``"sigmoid + binary_crossentropy"``, ``"softmax + categorical_crossentropy"``
        (fused output pairs) or ``"softmax"`` (its nodes depend on each other).
    slope : float
        ``sum(node_value * input_slope) + penalty_slope``, equal to
        ``trace.weight_slopes[layer][i, j]``.
    penalty_slope : float
        The part of ``slope`` from the weight penalty, ``l1 * sign(w) + 2 *
        l2 * w`` (0 without one); ``slope - penalty_slope`` comes from the data.
    """

    layer: int
    i: int | str
    j: int
    weight: float
    node_value: np.ndarray
    activation_slope: np.ndarray
    downstream_slope: np.ndarray
    input_slope: np.ndarray
    fused: str | None
    slope: float
    penalty_slope: float = 0.0

    @property
    def data_slope(self) -> float:
        """The part of the slope that comes from the data: the sum of :attr:`products`."""
        return self.slope - self.penalty_slope

    @property
    def products(self) -> np.ndarray:
        """Per-sample ``node_value * input_slope``, ``(n_samples,)``; they sum to ``slope``."""
        return self.node_value * self.input_slope

    def update(self, learning_rate: float = 0.01) -> float:
        """The step gradient descent gives the weight: ``-learning_rate * slope``."""
        return -learning_rate * self.slope


@dataclass
class Trace:
    """Node values, node slopes and weight slopes of one pass over a batch.

    Attributes
    ----------
    network : Network
        The network traced (its weights at the time of the trace are kept in
        ``weights``).
    loss_function : Loss
        The loss the slopes are of.
    predictions : ndarray (n_samples, n_outputs)
    actual : ndarray (n_samples, n_outputs)
    errors : ndarray (n_samples, n_outputs)
        ``predictions - actual``, the course's sign.
    loss : float
        The data loss (without the penalty).
    dropped : list of bool ndarray (n_samples, n_out) or None, one per layer
        The nodes dropout dropped in a traced training step (None: no dropout).
    penalty : float
        The penalty's value, ``sum of l1 * sum|w| + l2 * sum w^2`` (0 without one).
    penalty_slopes, penalty_bias_slopes : list of ndarray or None, one per layer
        The penalty's part of ``weight_slopes`` and ``bias_slopes`` (None
        where nothing is penalized).
    clip_factor : float or None
        The factor ``clip_norm`` multiplied every slope by (1: not clipped),
        None without ``clip_norm``.
    """

    network: Network
    loss_function: Loss
    actual: np.ndarray
    loss: float
    node_values: list[np.ndarray]
    node_inputs: list[np.ndarray]
    node_slopes: list[np.ndarray]
    input_slopes: list[np.ndarray]
    weight_slopes: list[np.ndarray]
    bias_slopes: list[np.ndarray | None]
    weights: list[np.ndarray] = field(default_factory=list)
    biases: list[np.ndarray | None] = field(default_factory=list)
    dropped: list[np.ndarray | None] = field(default_factory=list)
    dropout_factors: list[np.ndarray | None] = field(default_factory=list)
    penalty: float = 0.0
    penalty_slopes: list[np.ndarray | None] = field(default_factory=list)
    penalty_bias_slopes: list[np.ndarray | None] = field(default_factory=list)
    penalty_settings: list[tuple[float, float]] = field(default_factory=list)
    clip_factor: float | None = None
    clip_value: float | None = None
    clip_norm: float | None = None

    @property
    def predictions(self) -> np.ndarray:
        """The output layer's node values, ``(n_samples, n_outputs)``."""
        return self.node_values[-1]

    @property
    def errors(self) -> np.ndarray:
        """``predictions - actual``, ``(n_samples, n_outputs)``."""
        return self.predictions - self.actual

    @property
    def n_samples(self) -> int:
        return self.node_values[0].shape[0]

    # ---------------------------------------------------------------- explaining
    def factors(self, layer: int, i: int | Literal["bias"], j: int) -> WeightFactors:
        """The three factors of the slope of weight ``(i, j)`` of ``net.layers[layer]``.

        ``i`` is the node feeding the weight (``0 <= i < n_in``) or ``"bias"``;
        ``j`` the node it feeds (``0 <= j < n_out``). See :class:`WeightFactors`.

        Raises
        ------
        IndexError
            When ``layer``, ``i`` or ``j`` is out of range; the message gives
            the valid range.
        """
        layer, i, j = self._check_weight_index(layer, i, j)
        net_layer = self.network.layers[layer]
        z = self.node_inputs[layer]
        a = self.node_values[layer + 1]
        if self._dropout_factors(layer) is not None:
            a = net_layer.activation.value(z)  # the node's value before dropout
        if i == "bias":
            node_value = np.ones(self.n_samples, dtype=z.dtype)
            bias = self.biases[layer] if self.biases else net_layer.bias
            weight = float(bias[j]) if bias is not None else 0.0
            slope_array = self.bias_slopes[layer]
            slope = float(slope_array[j]) if slope_array is not None else 0.0
            part = self.penalty_bias_slopes[layer] if self.penalty_bias_slopes else None
            penalty = float(part[j]) if part is not None else 0.0
        else:
            node_value = self.node_values[layer][:, i]
            weights = self.weights[layer] if self.weights else net_layer.weights
            weight = float(weights[i, j])
            slope = float(self.weight_slopes[layer][i, j])
            part = self.penalty_slopes[layer] if self.penalty_slopes else None
            penalty = float(part[i, j]) if part is not None else 0.0
        return WeightFactors(
            layer=layer,
            i=i,
            j=j,
            weight=weight,
            node_value=node_value.copy(),
            activation_slope=net_layer.activation.slope(z, a)[:, j].copy(),
            downstream_slope=self.node_slopes[layer + 1][:, j].copy(),
            input_slope=self.input_slopes[layer][:, j].copy(),
            fused=self._fused_reason(layer),
            slope=slope,
            penalty_slope=penalty,
        )

    def explain(
        self,
        layer: int,
        i: int | Literal["bias"],
        j: int,
        learning_rate: float | None = None,
        optimizer: str | Optimizer | None = None,
        input_names: Sequence[str] | None = None,
        output_names: Sequence[str] | None = None,
    ) -> str:
        """Say in words why weight ``(i, j)`` of ``net.layers[layer]`` has its slope.

        The slope of a weight is the product of the course's three factors::

            slope = node value feeding it
                    x slope of the activation at the node it feeds
                    x slope of the loss at that node's output

        summed over the samples of the batch (a mean loss already divides the
        last factor by the number of samples ``m``). The last line gives the
        step: gradient descent changes the weight by ``-learning_rate *
        slope``; with ``optimizer``, by what one step of that optimizer does.

        Parameters
        ----------
        layer : int
            Index into ``net.layers``, ``0 <= layer < len(net.layers)``.
        i : int or "bias"
            The node feeding the weight, ``0 <= i < net.layers[layer].n_in``.
        j : int
            The node the weight feeds, ``0 <= j < net.layers[layer].n_out``.
        learning_rate : float > 0, optional
            For plain gradient descent; 0.01 when neither it nor
            ``optimizer`` is given.
        optimizer : "sgd", "adam", "adamw" or an Optimizer, optional
            Show the step this optimizer takes (see :meth:`updates`); an
            optimizer object that has trained keeps its momentum or moments.
        input_names, output_names : sequence of str, optional
            Names for the inputs (feature names) and the output nodes (class
            names) instead of "input 1" and "output node 0".

        Returns
        -------
        str
            A few lines of text; the numbers are in :meth:`factors`.

        Examples
        --------
        The course's last quiz (its figure is missing; the network is rebuilt
        from its numbers): the output node receives 6 as the slope of the
        loss, and the hidden node feeding the weight has value 3.

        >>> from slopes import Network
        >>> net = Network.from_weights(
        ...     {"node_0": [0, 1], "node_1": [2, 3], "output": [1, 3]}, activation="relu")
        >>> trace = net.trace([0, 1], [7])      # predicts 10: error 3, slope 2 * 3 = 6
        >>> trace.factors(1, 1, 0).slope
        18.0
        >>> print(trace.explain(1, 1, 0).splitlines()[-2])
          slope = 3 x 1 x 6 = 18
        """
        f = self.factors(layer, i, j)
        step = UpdateStep.choose(learning_rate, optimizer)
        change = self.changes(step)[f.layer][1 if f.i == "bias" else 0]
        names = NodeNames(input_names, output_names, self.network)
        single = self.n_samples == 1
        parts = self.explanation_parts(f, names, step, change, single=single)
        if single:
            return explanation_template(f.fused, f.i == "bias", step,
                                        training=True).format(**parts)
        lines = [_WHAT.format(**parts)]
        lines += self._batch_lines(f, parts["source"], parts["target"],
                                   parts["activation"], parts["loss"])
        lines += self.training_lines(f, parts)
        lines.append(step.line.format(**dict(parts, slope=_num(self._step_slope(f)))))
        return "\n".join(lines)

    def training_lines(self, f: WeightFactors, parts: dict[str, str]) -> list[str]:
        """What a training step adds to a weight's slope, in words: dropout, penalty, clipping.

        Empty for the trace of a prediction without penalty or clipping.
        """
        lines = self._dropout_lines(f, parts["source"], parts["target"])
        l1, l2 = (self.penalty_settings[f.layer] if self.penalty_settings else (0.0, 0.0))
        penalized = (self.penalty_slopes if f.i != "bias" else self.penalty_bias_slopes)
        if (l1 or l2) and penalized and penalized[f.layer] is not None:
            words, numbers = [], []
            w = _num(f.weight)
            if l2:
                words.append("2 x l2 x weight (from the L2 penalty)")
                numbers.append(f"2 x {_num(l2)} x {w} (from the L2 penalty)")
            if l1:
                words.append("l1 x sign of the weight (from the L1 penalty)")
                numbers.append(f"{_num(l1)} x {_num(np.sign(f.weight))} (from the L1 penalty)")
            data = ("node value x activation slope x loss slope" if f.fused is None
                    else "node value x input slope")
            if self.n_samples > 1:
                data = f"the sum of the {self.n_samples} products"
            lines += [
                "The penalty adds its slope to the slope from the data:",
                f"  slope = {data} (from the data) + {' + '.join(words)}",
                f"        = {_num(f.data_slope)} (from the data) + {' + '.join(numbers)} "
                f"= {_num(f.slope)}",
            ]
        if self.clip_factor is not None and self.clip_factor != 1:
            lines.append(f"This step was clipped: every slope x {_num(self.clip_factor)} "
                         f"(clip_norm {_num(self.clip_norm)}: the norm of all the slopes "
                         f"together was above it), so this one becomes {_num(f.slope)} x "
                         f"{_num(self.clip_factor)} = {_num(f.slope * self.clip_factor)}.")
        elif self.clip_factor is not None:
            lines.append(f"This step was not clipped: the norm of all the slopes together is "
                         f"below clip_norm {_num(self.clip_norm)}.")
        if self.clip_value is not None:
            before = f.slope * (self.clip_factor or 1.0)
            if abs(before) > self.clip_value:
                lines.append(f"clip_value {_num(self.clip_value)} clips this slope, "
                             f"{_num(before)}, to {_num(self._step_slope(f))}.")
        return lines

    def _dropout_lines(self, f: WeightFactors, source: str, target: str) -> list[str]:
        lines = []
        m = self.n_samples
        ends = [(self._dropout_factors(f.layer), f.j, target, "the slope at its output")]
        if f.layer > 0 and f.i != "bias":
            ends.append((self._dropout_factors(f.layer - 1), f.i, source, "its value"))
        for factors, node, name, what in ends:
            if factors is None:
                continue
            column = factors[:, node]
            scale = _num(column.max()) if column.max() > 0 else None
            dropped = int((column == 0).sum())
            rate = _num(self.network.layers[f.layer if what != "its value" else f.layer - 1]
                        .dropout)
            if m == 1 and dropped:
                lines.append(f"Dropout: {name} was dropped in this step: its weights get no "
                             "slope from this row.")
            elif m == 1:
                lines.append(f"Dropout: {name} was kept in this step (dropout {rate}): {what} "
                             f"is multiplied by 1 / (1 - {rate}) = {scale}.")
            elif dropped:
                lines.append(f"Dropout: {name} was dropped in {dropped} of the {m} rows of this "
                             "step: its weights get no slope from those rows"
                             + (f"; in the others {what} is x {scale}." if scale else "."))
            else:
                lines.append(f"Dropout: {name} was kept in every row of this step (dropout "
                             f"{rate}): {what} is x {scale}.")
        return lines

    def _dropout_factors(self, layer: int) -> np.ndarray | None:
        return self.dropout_factors[layer] if self.dropout_factors else None

    def _step_slope(self, f: WeightFactors) -> float:
        """The slope the optimizer takes for this weight: after clipping, when asked."""
        slope = f.slope * (self.clip_factor or 1.0)
        if self.clip_value is not None:
            slope = min(max(slope, -self.clip_value), self.clip_value)
        return slope

    def step_slopes(self) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """``(weight slopes, bias slopes)`` per layer as the optimizer takes them: clipped."""
        out = []
        for w, b in zip(self.weight_slopes, self.bias_slopes, strict=True):
            pair = []
            for g in (w, b):
                if g is not None and self.clip_factor is not None and self.clip_factor != 1:
                    g = g * self.clip_factor
                if g is not None and self.clip_value is not None:
                    g = np.clip(g, -self.clip_value, self.clip_value)
                pair.append(g)
            out.append((pair[0], pair[1]))
        return out

    def updates(
        self, optimizer: str | Optimizer | None = None, learning_rate: float | None = None
    ) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """How one step would change each weight and bias: ``(weights, bias)`` per layer.

        Plain gradient descent (the default, learning rate 0.01) changes a
        weight by ``-learning_rate * slope``. With ``optimizer`` the change
        is the one that optimizer's step makes: ``"adam"``, ``"sgd"`` or an
        :class:`~slopes.optimizers.Optimizer` object. A new optimizer (or one
        given by name) takes its first step: Adam's is ``-learning_rate *
        slope / (|slope| + eps)``, about ``-learning_rate`` times the slope's
        sign; an optimizer object that has trained keeps its momentum or
        moments. The optimizer itself is not changed (a copy takes the step).

        Returns
        -------
        list of (ndarray, ndarray or None)
            Per layer, arrays shaped like its weights and bias.
        """
        step = UpdateStep.choose(learning_rate, optimizer)
        return self.changes(step)

    def prediction_slopes(self, output: int = 0) -> np.ndarray:
        """How much output node ``output`` changes per unit of each input, ``(n_samples, n_in)``.

        The slope of the prediction itself (the output node's value, after
        its activation: a probability for a sigmoid or softmax output), not
        of the loss, with respect to each input, for each sample. Backward
        through the network as for the loss, starting from slope 1 at that
        output node. ``slope * input value`` is roughly how far the input
        moved the prediction from what an input of 0 would give (for
        standardized inputs, 0 is the training average).

        >>> from slopes import Network
        >>> net = Network.from_weights([[2.0, -1.0]])     # prediction 2 x0 - x1
        >>> net.trace([[1.0, 3.0]], [0.0]).prediction_slopes()
        array([[ 2., -1.]])
        """
        layers = self.network.layers
        output = _index("output", output, self.network.n_outputs,
                        f"the network has {self.network.n_outputs} output node(s)")
        weights = self.weights or [layer.weights for layer in layers]
        value_slope = np.zeros_like(self.node_values[-1])
        value_slope[:, output] = 1
        for k in range(len(layers) - 1, -1, -1):
            input_slope = layers[k].activation.backward(
                self.node_inputs[k], self.node_values[k + 1], value_slope)
            value_slope = input_slope @ weights[k].T
        return value_slope

    def changes(self, step: UpdateStep) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """The change ``step`` makes to each layer's weights and bias: ``[(change_w, change_b)]``.

        ``change_b`` is None for a layer without bias; the optimizer is copied,
        so its state stays as it was.
        """
        weights = self.weights or [layer.weights for layer in self.network.layers]
        biases = self.biases or [layer.bias for layer in self.network.layers]
        params: list[np.ndarray] = []
        slopes: list[np.ndarray] = []
        clipped = self.step_slopes()
        for k in range(len(self.network.layers)):
            params.append(np.array(weights[k], copy=True))
            slopes.append(clipped[k][0])
            if biases[k] is not None:
                params.append(np.array(biases[k], copy=True))
                slopes.append(clipped[k][1])
        deltas = iter(copy.deepcopy(step.optimizer).updates(params, slopes))
        changes: list[tuple[np.ndarray, np.ndarray | None]] = []
        for k in range(len(self.network.layers)):
            change_w = -next(deltas)
            change_b = -next(deltas) if biases[k] is not None else None
            changes.append((change_w, change_b))
        return changes

    def explanation_parts(self, f: WeightFactors, names: NodeNames, step: UpdateStep,
                           change: np.ndarray, single: bool = True) -> dict[str, str]:
        """The words and numbers :func:`explanation_template` puts together."""
        n_layers = len(self.network.layers)
        source = names.node(f.layer, f.i, n_layers)
        target = names.node(f.layer + 1, f.j, n_layers)
        delta = float(change[f.j] if f.i == "bias" else change[f.i, f.j])
        parts = {
            "what": f"The bias of {target}" if f.i == "bias"
            else f"The weight from {source} to {target}",
            "where": f"layers[{f.layer}].bias[{f.j}]" if f.i == "bias"
            else f"layers[{f.layer}].weights[{f.i}, {f.j}]",
            "source": source, "target": target,
            "activation": self.network.layers[f.layer].activation.name,
            "loss": self.loss_function.name,
            "fused": _fused_words(f.fused) if f.fused else "",
            "weight": _num(f.weight), "slope": _num(f.slope),
            "change": _num(delta), "sign": "+" if delta > 0 else "-",
            "abs_change": _num(abs(delta)), "new": _num(f.weight + delta),
            "learning_rate": _num(step.learning_rate), "optimizer": step.description,
        }
        if single:
            parts.update({
                "value": _num(f.node_value[0]),
                "activation_slope": _num(f.activation_slope[0]),
                "z": _num(self.node_inputs[f.layer][0, f.j]),
                "loss_slope": _num(f.downstream_slope[0]),
                "input_slope": _num(f.input_slope[0]),
                # For explanation_template(..., training=True): the slope from the data, the
                # lines a training step adds (dropout, penalty, clipping; each after a
                # newline, empty without them) and the slope the step takes.
                "data_slope": _num(f.data_slope),
                "training": "".join("\n" + line for line in self.training_lines(f, parts)),
                "step_slope": _num(self._step_slope(f)),
            })
        return parts

    def _batch_lines(
        self, f: WeightFactors, source: str, target: str, act: str, loss: str
    ) -> list[str]:
        m = self.n_samples
        if f.fused is None:
            lines = [
                f"Over the batch of {m} samples its slope is the sum over the samples of",
                f"  (value of {source}) x (slope of the activation ({act}) at {target})"
                f" x (slope of the loss ({loss}) at its output);",
                "the loss's 1/m, if it has one, is already inside the last factor:",
                "  sample    node value  x  activation slope  x    loss slope  =  product",
            ]
            for s in range(min(m, _SAMPLES_SHOWN)):
                lines.append(
                    f"  {s:>6}  {_num(f.node_value[s]):>12}  x  {_num(f.activation_slope[s]):>16}"
                    f"  x  {_num(f.downstream_slope[s]):>12}  =  {_num(f.products[s])}"
                )
        else:
            lines = [
                f"Over the batch of {m} samples its slope is the sum over the samples of",
                f"  (value of {source}) x (slope of the loss at the input of {target}, "
                f"{_fused_words(f.fused)});",
                "the loss's 1/m, if it has one, is already inside the last factor:",
                "  sample    node value  x   input slope  =  product",
            ]
            for s in range(min(m, _SAMPLES_SHOWN)):
                lines.append(
                    f"  {s:>6}  {_num(f.node_value[s]):>12}  x  {_num(f.input_slope[s]):>12}"
                    f"  =  {_num(f.products[s])}"
                )
        if m > _SAMPLES_SHOWN:
            rest = float(f.products[_SAMPLES_SHOWN:].sum())
            lines.append(f"  ... {m - _SAMPLES_SHOWN} more samples, whose products sum to "
                         f"{_num(rest)}")
        lines.append(f"  slope = sum of the {m} products = {_num(f.data_slope)}")
        return lines

    def table(
        self, learning_rate: float | None = None, optimizer: str | Optimizer | None = None
    ) -> Any:
        """One row per weight and bias: its value, its three factors, slope and update.

        Columns: ``layer``, ``from`` (node index, or ``"bias"``), ``to``,
        ``weight``, ``node_value``, ``activation_slope``, ``downstream_slope``,
        ``slope`` and ``update``: the change one step makes,
        ``-learning_rate * slope`` for plain gradient descent (learning rate
        0.01 by default), or the step of ``optimizer`` (see :meth:`updates`).

        For one sample, ``node_value * activation_slope * downstream_slope ==
        slope``. For a batch the factors vary by sample, so the table
        summarizes them: ``node_value`` and ``activation_slope`` are means
        over the samples, ``downstream_slope`` is a sum over the samples (it
        already holds the loss's ``1/m``), and ``slope`` is exact (the sum of
        the per-sample products, as in ``weight_slopes``); their product equals
        the slope only when the factors do not vary across samples.

        A sigmoid output fused with binary cross-entropy computes the slope at
        its input, ``(predicted - actual)/m``, in one step, but the factors
        exist: ``activation_slope`` is the sigmoid's own slope ``p(1 - p)``
        and ``downstream_slope`` the loss's slope at the output, and their
        product is the fused slope (to rounding). Only where their product
        is not the fused slope (``p`` is 0 or 1 to the last digit: the
        sigmoid's slope is 0, and the loss's slope at the output infinite or
        clipped), and wherever the slope truly does not
        factor (a softmax: each output depends on every input, so its own
        slope is no single number; see :class:`WeightFactors`),
        ``activation_slope`` is NaN and ``downstream_slope`` is the slope at
        the node's input instead; :meth:`explain` says why in words.

        Returns
        -------
        pandas.DataFrame, or a list of dicts when pandas is not installed.
        """
        changes = self.changes(UpdateStep.choose(learning_rate, optimizer))
        rows: list[dict[str, Any]] = []
        for k, layer in enumerate(self.network.layers):
            sources: list[int | str] = list(range(layer.n_in))
            if self.bias_slopes[k] is not None:
                sources.append("bias")
            change_w, change_b = changes[k]
            for j in range(layer.n_out):
                for i in sources:
                    f = self.factors(k, i, j)
                    if f.fused is None or fused_sigmoid_splits(f):
                        act = float(f.activation_slope.mean())
                        down = float(f.downstream_slope.sum())
                    else:
                        act, down = float("nan"), float(f.input_slope.sum())
                    update = change_b[j] if i == "bias" else change_w[i, j]  # type: ignore[index]
                    rows.append({
                        "layer": k, "from": i, "to": j, "weight": f.weight,
                        "node_value": float(f.node_value.mean()),
                        "activation_slope": act, "downstream_slope": down,
                        "slope": f.slope, "update": float(update) + 0.0,
                    })
        try:
            import pandas as pd
        except ImportError:
            return rows
        return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))

    def to_html(self, path: str | os.PathLike[str] | None = None, sample: int = 0,
                **options: Any) -> Any:
        """The interactive page of this trace: one self-contained HTML file.

        The network drawn with its values and slopes; hovering a weight shows
        the explanation :meth:`explain` gives for it. A trace of several
        samples shows sample ``sample``. ``options`` are those of
        :func:`slopes.report` (``input_names``, ``output_names``,
        ``optimizer``, ``learning_rate``, ``title``...).

        Returns
        -------
        slopes.page.Page
            Written to ``path`` when given; ``page.html`` holds the text.
        """
        from .page import report

        return report(self.traced_network(), self.node_values[0][sample:sample + 1],
                      self.actual[sample:sample + 1], path=path, loss=self.loss_function,
                      **options)

    def traced_network(self) -> Network:
        """A copy of the network with the weights and biases this trace was taken with."""
        net = self.network.copy()
        for layer, w, b in zip(net.layers, self.weights or [], self.biases or [], strict=False):
            layer.weights = w
            if b is not None:
                layer.bias = b
        return net

    def _fused_reason(self, layer: int) -> str | None:
        act = self.network.layers[layer].activation.name
        if layer == len(self.network.layers) - 1 and self.loss_function.fused_activation:
            return f"{self.loss_function.fused_activation} + {self.loss_function.name}"
        if act == "softmax":
            return "softmax"
        return None

    def _check_weight_index(self, layer: object, i: object, j: object) -> tuple[int, Any, int]:
        n_layers = len(self.network.layers)
        layer = _index("layer", layer, n_layers, f"the network has {n_layers} layer(s)")
        dense = self.network.layers[layer]
        if isinstance(i, str) and i == "bias":
            if not dense.has_bias:
                raise IndexError(f"layers[{layer}] has no bias; i must be a node index "
                                 f"0..{dense.n_in - 1}")
        else:
            i = _index("i", i, dense.n_in,
                       f"layers[{layer}] is fed by {dense.n_in} node(s)"
                       + (", or 'bias'" if dense.has_bias else ""))
        j = _index("j", j, dense.n_out, f"layers[{layer}] has {dense.n_out} node(s)")
        return layer, i, j

    # ----------------------------------------------------------------- display
    def _repr_html_(self) -> str | None:
        """The interactive page of this trace, inline in Jupyter (in an iframe of its own)."""
        from .page import notebook_html

        return notebook_html(self)

    def _repr_png_(self) -> bytes | None:
        """The drawing of the traced network, for Jupyter (None without matplotlib)."""
        from .plot import network_repr_png

        return network_repr_png(self)

    def __repr__(self) -> str:
        sizes = "-".join(str(v.shape[1]) for v in self.node_values)
        return (
            f"Trace(network {sizes}, {self.n_samples} sample(s), "
            f"loss {self.loss_function.name} = {self.loss:.6g})"
        )


def trace_network(net: Network, X: object, y: object, loss: str | Loss = "mse", *,
                  training: bool = False, seed: int | np.random.Generator | None = None,
                  l1: float = 0.0, l2: float = 0.0, penalize_bias: bool = False,
                  clip_norm: float | None = None, clip_value: float | None = None) -> Trace:
    """:meth:`Network.trace`: the forward and backward pass of ``net``, every number kept.

    With ``training=True`` the layers' dropout drops nodes (masks from
    ``seed``); ``l1``, ``l2`` add the penalties' slopes (kept apart in
    ``penalty_slopes``); ``clip_norm`` and ``clip_value`` set the clipping
    of the step the trace shows (``clip_factor``).
    """
    loss_fn = get_loss(loss)
    net.check_loss_fits(loss_fn)
    check_bool("training", training)
    check_seed(seed)
    l1, l2 = check_penalty("l1", l1), check_penalty("l2", l2)
    check_bool("penalize_bias", penalize_bias)
    clip_norm, clip_value = check_clip("clip_norm", clip_norm), check_clip("clip_value", clip_value)
    x, _ = check_X(X, net.n_inputs, net.dtype)
    x = x.copy()  # the trace owns its numbers: later changes to X don't alter it
    actual = net.check_targets(y, x.shape[0], loss_fn)
    masks: list[np.ndarray | None] = [None] * len(net.layers)
    if training and any(layer.dropout for layer in net.layers):
        if net.layers[-1].dropout:
            raise ValueError(f"layers[{len(net.layers) - 1}] is the output layer and has "
                             f"dropout={net.layers[-1].dropout:g}; expected dropout on hidden "
                             "layers only (dropping an output drops the prediction)")
        rng = make_rng(seed)
        masks = [dropout_mask(rng, (x.shape[0], layer.n_out), layer.dropout, net.dtype)
                 if layer.dropout else None for layer in net.layers]
    zs, values = net.forward(x, masks)
    loss_value = net.loss_value(loss_fn, zs[-1], values[-1], actual)
    node_slopes, input_slopes, w_slopes, b_slopes = net.backward(
        zs, values, actual, loss_fn, for_trace=True, masks=masks
    )
    settings = [layer.penalty_coefficients(l1, l2) for layer in net.layers]
    penalty = 0.0
    penalty_w: list[np.ndarray | None] = []
    penalty_b: list[np.ndarray | None] = []
    for k, (layer, (a, b)) in enumerate(zip(net.layers, settings, strict=True)):
        on = bool(a or b)
        penalty_w.append(penalty_slope(layer.weights, a, b) if on else None)
        penalty_b.append(penalty_slope(layer.bias, a, b)
                         if on and penalize_bias and layer.has_bias else None)
        for part, array, kind in ((penalty_w[k], layer.weights, "weights"),
                                  (penalty_b[k], layer.bias, "bias")):
            if part is not None:
                penalty += penalty_value(array, a, b)
                if kind == "weights":
                    w_slopes[k] = w_slopes[k] + part
                else:
                    b_slopes[k] = b_slopes[k] + part
        layer.weight_slopes, layer.bias_slopes = w_slopes[k], b_slopes[k]
    factor = None
    if clip_norm is not None:
        factor = clip_factor([g for pair in zip(w_slopes, b_slopes, strict=True)
                              for g in pair if g is not None], clip_norm)
    return Trace(
        network=net,
        loss_function=loss_fn,
        actual=actual,
        loss=loss_value,
        node_values=values,
        node_inputs=zs,
        node_slopes=node_slopes,
        input_slopes=input_slopes,
        weight_slopes=w_slopes,
        bias_slopes=b_slopes,
        weights=[layer.weights.copy() for layer in net.layers],
        biases=[None if layer.bias is None else layer.bias.copy() for layer in net.layers],
        dropped=[None if mask is None else mask == 0 for mask in masks],
        dropout_factors=masks,
        penalty=penalty,
        penalty_slopes=penalty_w,
        penalty_bias_slopes=penalty_b,
        penalty_settings=settings,
        clip_factor=factor,
        clip_value=clip_value,
        clip_norm=clip_norm,
    )


# ---------------------------------------------------------------------- helpers
def _index(name: str, value: object, size: int, context: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if not 0 <= int(value) < size:
        raise IndexError(
            f"{name} = {value} is out of range: {context}, so valid {name} are 0..{size - 1}"
        )
    return int(value)


def _node_name(level: int, node: int | str, n_layers: int) -> str:
    """``"input 1"``, ``"node 0 of hidden layer 2"`` or ``"output node 0"``."""
    if node == "bias":
        return "the bias"
    if level == 0:
        return f"input {node}"
    if level == n_layers:
        return f"output node {node}"
    return f"node {node} of hidden layer {level}"


@dataclass(frozen=True)
class NodeNames:
    """Names for the inputs and output nodes in explanations (feature and class names)."""

    inputs: Sequence[str] | None
    outputs: Sequence[str] | None

    def __init__(self, inputs: Sequence[str] | None, outputs: Sequence[str] | None,
                 network: Network) -> None:
        for what, names, count in (("input_names", inputs, network.n_inputs),
                                   ("output_names", outputs, network.n_outputs)):
            if names is not None and (isinstance(names, str) or len(names) != count):
                raise ValueError(f"{what} must give one name for each of the network's "
                                 f"{count}, got {names!r}")
        object.__setattr__(self, "inputs", None if inputs is None else list(map(str, inputs)))
        object.__setattr__(self, "outputs", None if outputs is None else list(map(str, outputs)))

    def node(self, level: int, node: int | str, n_layers: int) -> str:
        if node != "bias" and level == 0 and self.inputs is not None:
            return f"input {node} ({self.inputs[int(node)]})"
        if node != "bias" and level == n_layers and self.outputs is not None:
            return f"output node {node} ({self.outputs[int(node)]})"
        return _node_name(level, node, n_layers)


@dataclass(frozen=True)
class UpdateStep:
    """The update an explanation shows: plain gradient descent, or an optimizer's step."""

    optimizer: Optimizer
    learning_rate: float
    plain: bool
    description: str  # the subject of the explanation's last line ("One step of sgd (...)")
    summary: str  # the same as a phrase on its own ("gradient descent at learning rate 0.5")

    @classmethod
    def choose(cls, learning_rate: float | None, optimizer: str | Optimizer | None) -> UpdateStep:
        if optimizer is None:
            lr = check_positive("learning_rate", 0.01 if learning_rate is None else learning_rate)
            words = f"gradient descent at learning rate {_num(lr)}"
            return cls(SGD(lr), lr, True, words, f"{words}: -learning_rate x slope")
        if isinstance(optimizer, Optimizer) and learning_rate is not None:
            raise ValueError(f"learning_rate={learning_rate!r} was given with an optimizer "
                             f"object, which has its own learning_rate="
                             f"{optimizer.learning_rate!r}; give one or the other")
        if learning_rate is not None:
            check_positive("learning_rate", learning_rate)
        opt = get_optimizer(optimizer, learning_rate)
        settings = ", ".join(f"{k} {_num(v) if not isinstance(v, bool) else v}"
                             for k, v in opt.config().items()
                             if k != "learning_rate" and v not in (0, 0.0, False))
        plain = isinstance(opt, SGD) and opt.momentum == 0 and opt.weight_decay == 0
        first = opt.state is None
        named = f"{opt.name} (learning rate {_num(opt.learning_rate)}"
        named += f", {settings})" if settings else ")"
        if plain:
            what = f"One step of {named}"
            summary = f"one step of {named}: -learning_rate x slope"
        elif first and opt.name == "adam":
            what = f"The first step of {named}, from fresh moments,"
            summary = (f"the first step of {named}, from fresh moments: -learning_rate x slope / "
                       "(|slope| + eps), about -learning_rate times the sign of the slope")
        else:
            what = f"{'The first' if first else 'The next'} step of {named}"
            summary = _lower_first(what) + ("" if first else ", with the state it has so far")
        return cls(opt, opt.learning_rate, plain, what, summary)

    @property
    def line(self) -> str:
        """The explanation's last line, a template filled by ``Trace.explanation_parts``."""
        if self.plain:
            return _PLAIN_STEP
        return _OPTIMIZER_STEP


# The explanations' wording, shared by Trace.explain and the interactive page
# (slopes.page), which fills the same templates with each epoch's numbers.
_WHAT = "{what} ({where}) is {weight}."
_FACTORED = (
    "Its slope is the product of three factors:",
    "  value of the node feeding it ({source}): {value}",
    "  slope of the activation ({activation}) at {target}: {activation_slope}  (its input z "
    "= {z})",
    "  slope of the loss ({loss}) at the output of {target}: {loss_slope}",
    "  slope = {value} x {activation_slope} x {loss_slope} = {slope}",
)
_FUSED = (
    "Its slope is the value of the node feeding it times the slope at the input of the node "
    "it feeds:",
    "  value of the node feeding it ({source}): {value}",
    "  slope of the loss at the input of {target}, {fused}: {input_slope}",
    "  slope = {value} x {input_slope} = {slope}",
)
_SIGMOID_WORDS = (
    "  (the sigmoid's own slope there is {activation_slope} and the loss's slope at its output "
    "{loss_slope}; the fused pair takes their product directly, which never overflows)"
)
_PLAIN_STEP = ("At learning rate {learning_rate} gradient descent changes it by "
               "-{learning_rate} x {slope} = {change}, to {weight} {sign} {abs_change} = {new}.")
_OPTIMIZER_STEP = "{optimizer} changes it by {change}, to {weight} {sign} {abs_change} = {new}."
_BIAS_VALUE = "1 (a bias is a weight fed by a node of value 1)"


def explanation_template(fused: str | None, bias: bool, step: UpdateStep | None = None,
                         training: bool = False) -> str:
    """The text of a one-sample explanation, with ``{name}`` fields for its numbers.

    ``str.format`` with the parts of ``Trace.explanation_parts`` gives
    exactly what :meth:`Trace.explain` prints; the interactive page fills the
    same fields with each epoch's numbers. With ``training`` the template also
    holds what a training step adds (``{training}``: the penalty's part of the
    slope, the clipping, dropout), the data's part of the slope
    (``{data_slope}``) and the slope the step takes (``{step_slope}``): the
    text of any trace, with or without a penalty or clipping.
    """
    lines = [_WHAT, *(_FACTORED if fused is None else _FUSED)]
    if fused == "sigmoid + binary_crossentropy":
        lines.insert(-1, _SIGMOID_WORDS)
    if bias:
        lines[2] = lines[2].replace("{value}", _BIAS_VALUE)
    last = _PLAIN_STEP if step is None else step.line
    if training:
        lines[-1] = lines[-1].replace("{slope}", "{data_slope}") + "{training}"
        last = last.replace("{slope}", "{step_slope}")
    lines.append(last)
    return "\n".join(lines)


def fused_sigmoid_splits(f: WeightFactors) -> bool:
    """Whether a sigmoid fused with binary cross-entropy splits into its two factors here.

    True when the sigmoid's slope and the loss's slope at the output are finite for every
    sample and multiply to the fused slope at the node's input (to rounding); False for a
    saturated sigmoid, whose slope is 0 while the fused slope is not.
    """
    if f.fused != "sigmoid + binary_crossentropy":
        return False
    act, down = f.activation_slope, f.downstream_slope
    if not (np.isfinite(act).all() and np.isfinite(down).all()):
        return False
    tolerance = 1000 * np.finfo(np.result_type(act, down, np.float32)).eps
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.allclose(act * down, f.input_slope, rtol=tolerance, atol=0))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _fused_words(reason: str) -> str:
    if reason == "softmax":
        return ("through the softmax (each of its outputs depends on every input z, so only "
                "this product is exact)")
    return f"fused ({reason} gives (predicted - actual)/m directly)"


def _num(x: float) -> str:
    """A number as the course writes it: 6, 18, 0.495, 5.04, -2.4e-05."""
    x = float(x)
    if x == 0:
        return "0"
    return f"{x:.6g}"
