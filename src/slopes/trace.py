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
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .losses import Loss

if TYPE_CHECKING:
    from .network import Network

__all__ = ["Trace", "WeightFactors"]

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
        ``sum(node_value * input_slope)``, equal to ``trace.weight_slopes[layer][i, j]``.
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
        if i == "bias":
            node_value = np.ones(self.n_samples, dtype=z.dtype)
            bias = self.biases[layer] if self.biases else net_layer.bias
            weight = float(bias[j]) if bias is not None else 0.0
            slope_array = self.bias_slopes[layer]
            slope = float(slope_array[j]) if slope_array is not None else 0.0
        else:
            node_value = self.node_values[layer][:, i]
            weights = self.weights[layer] if self.weights else net_layer.weights
            weight = float(weights[i, j])
            slope = float(self.weight_slopes[layer][i, j])
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
        )

    def explain(
        self, layer: int, i: int | Literal["bias"], j: int, learning_rate: float = 0.01
    ) -> str:
        """Say in words why weight ``(i, j)`` of ``net.layers[layer]`` has its slope.

        The slope of a weight is the product of the course's three factors::

            slope = node value feeding it
                    x slope of the activation at the node it feeds
                    x slope of the loss at that node's output

        summed over the samples of the batch (a mean loss already divides the
        last factor by the number of samples ``m``). Gradient descent would
        change the weight by ``-learning_rate * slope``.

        Parameters
        ----------
        layer : int
            Index into ``net.layers``, ``0 <= layer < len(net.layers)``.
        i : int or "bias"
            The node feeding the weight, ``0 <= i < net.layers[layer].n_in``.
        j : int
            The node the weight feeds, ``0 <= j < net.layers[layer].n_out``.
        learning_rate : float > 0

        Returns
        -------
        str
            A few lines of text; the numbers are in :meth:`factors`.

        Examples
        --------
        The course's last quiz: the output node receives 6 as the slope of the
        loss, and the hidden node feeding the weight has value 3.

        >>> from slopes import Network
        >>> net = Network.from_weights([[[0, 0], [1, 3]], [[4], [3]]], activation="relu")
        >>> trace = net.trace([0, 1], [10])          # predicts 13: error 3, slope 2 * 3 = 6
        >>> trace.factors(1, 1, 0).slope
        18.0
        >>> print(trace.explain(1, 1, 0).splitlines()[-2])
          slope = 3 x 1 x 6 = 18
        """
        from .validation import check_positive

        lr = check_positive("learning_rate", learning_rate)
        f = self.factors(layer, i, j)
        n_layers = len(self.network.layers)
        act = self.network.layers[f.layer].activation.name
        source = _node_name(f.layer, f.i, n_layers)
        target = _node_name(f.layer + 1, f.j, n_layers)
        what = (f"The bias of {target}" if f.i == "bias"
                else f"The weight from {source} to {target}")
        where = (f"layers[{f.layer}].bias[{f.j}]" if f.i == "bias"
                 else f"layers[{f.layer}].weights[{f.i}, {f.j}]")
        lines = [f"{what} ({where}) is {_num(f.weight)}."]
        loss = self.loss_function.name
        feed = "1 (a bias is a weight fed by a node of value 1)" if f.i == "bias" else None
        if self.n_samples == 1:
            x = _num(f.node_value[0])
            if f.fused is None:
                lines += [
                    "Its slope is the product of three factors:",
                    f"  value of the node feeding it ({source}): {feed or x}",
                    f"  slope of the activation ({act}) at {target}: "
                    f"{_num(f.activation_slope[0])}  (its input z = "
                    f"{_num(self.node_inputs[f.layer][0, f.j])})",
                    f"  slope of the loss ({loss}) at the output of {target}: "
                    f"{_num(f.downstream_slope[0])}",
                    f"  slope = {x} x {_num(f.activation_slope[0])} x "
                    f"{_num(f.downstream_slope[0])} = {_num(f.slope)}",
                ]
            else:
                lines += [
                    "Its slope is the value of the node feeding it times the slope at the "
                    "input of the node it feeds:",
                    f"  value of the node feeding it ({source}): {feed or x}",
                    f"  slope of the loss at the input of {target}, {_fused_words(f.fused)}: "
                    f"{_num(f.input_slope[0])}",
                    f"  slope = {x} x {_num(f.input_slope[0])} = {_num(f.slope)}",
                ]
        else:
            lines += self._batch_lines(f, source, target, act, loss)
        new = f.weight - lr * f.slope
        lines.append(
            f"At learning rate {_num(lr)} gradient descent changes it by "
            f"-{_num(lr)} x {_num(f.slope)} = {_num(-lr * f.slope)}, "
            f"to {_num(f.weight)} {'-' if f.slope >= 0 else '+'} {_num(abs(lr * f.slope))} "
            f"= {_num(new)}."
        )
        return "\n".join(lines)

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
        lines.append(f"  slope = sum of the {m} products = {_num(f.slope)}")
        return lines

    def table(self, learning_rate: float = 0.01) -> Any:
        """One row per weight and bias: its value, its three factors, slope and update.

        Columns: ``layer``, ``from`` (node index, or ``"bias"``), ``to``,
        ``weight``, ``node_value``, ``activation_slope``, ``downstream_slope``,
        ``slope`` and ``update = -learning_rate * slope``.

        For one sample, ``node_value * activation_slope * downstream_slope ==
        slope``. For a batch the factors vary by sample, so the table
        summarizes them: ``node_value`` and ``activation_slope`` are means
        over the samples, ``downstream_slope`` is a sum over the samples (it
        already holds the loss's ``1/m``), and ``slope`` is exact (the sum of
        the per-sample products, as in ``weight_slopes``); their product equals
        the slope only when the factors do not vary across samples. Where the
        node's slope does not factor (fused output pairs, softmax; see
        :class:`WeightFactors`), ``activation_slope`` is NaN and
        ``downstream_slope`` is the slope at the node's input instead.

        Returns
        -------
        pandas.DataFrame, or a list of dicts when pandas is not installed.
        """
        from .validation import check_positive

        lr = check_positive("learning_rate", learning_rate)
        rows: list[dict[str, Any]] = []
        for k, layer in enumerate(self.network.layers):
            sources: list[int | str] = list(range(layer.n_in))
            if self.bias_slopes[k] is not None:
                sources.append("bias")
            for j in range(layer.n_out):
                for i in sources:
                    f = self.factors(k, i, j)
                    if f.fused is None:
                        act = float(f.activation_slope.mean())
                        down = float(f.downstream_slope.sum())
                    else:
                        act, down = float("nan"), float(f.input_slope.sum())
                    rows.append({
                        "layer": k, "from": i, "to": j, "weight": f.weight,
                        "node_value": float(f.node_value.mean()),
                        "activation_slope": act, "downstream_slope": down,
                        "slope": f.slope, "update": -lr * f.slope + 0.0,
                    })
        try:
            import pandas as pd
        except ImportError:
            return rows
        return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))

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
    def _repr_png_(self) -> bytes | None:
        """The drawing of the traced network, for Jupyter (None without matplotlib)."""
        try:
            from .plot import draw_network, figure_to_png
        except ImportError:
            return None
        try:
            return figure_to_png(draw_network(self))
        except ImportError:
            return None

    def __repr__(self) -> str:
        sizes = "-".join(str(v.shape[1]) for v in self.node_values)
        return (
            f"Trace(network {sizes}, {self.n_samples} sample(s), "
            f"loss {self.loss_function.name} = {self.loss:.6g})"
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


def _fused_words(reason: str) -> str:
    if reason == "softmax":
        return "through the softmax (its nodes depend on each other, so only this product is exact)"
    return f"fused ({reason} gives (predicted - actual)/m directly)"


def _num(x: float) -> str:
    """A number as the course writes it: 6, 18, 0.495, 5.04, -2.4e-05."""
    x = float(x)
    if x == 0:
        return "0"
    return f"{x:.6g}"
