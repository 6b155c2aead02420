"""Diagnose a network on some data: weight and slope sizes per layer, dead relus, saturation.

The course's warning about deep sigmoid networks: backpropagation multiplies
the slope of the loss by the slope of each activation it passes through, and a
sigmoid's slope is at most 0.25. After a few sigmoid layers the slopes near the
inputs are tiny and those weights barely move (vanishing gradients).
:func:`diagnose` measures this on real data and says so in words.

With a weight penalty (``l1``, ``l2``: the trace of a training step), the
slope of each weight has two parts, one from the data and one from the
penalty (``l1 * sign(w) + 2 * l2 * w``). When the penalty's part is the
larger one in a layer, that layer's weights are pulled towards 0 more than
the data moves them, and :func:`diagnose` warns, naming the layer and both sizes.

>>> import numpy as np, slopes
>>> net = slopes.Network.mlp([4, 8, 1], seed=0)
>>> report = slopes.diagnose(net, np.ones((3, 4)), np.zeros(3))
>>> report.layers[0].activation
'relu'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .losses import Loss
from .network import Network
from .trace import Trace
from .validation import check_positive

__all__ = ["Diagnosis", "LayerDiagnosis", "diagnose"]

#: A sigmoid node counts as saturated when its value is below this or above
#: 1 minus this; a tanh node when ``|a| > 1 - SATURATION``.
SATURATION = 0.01
#: Slopes that shrink by more than this factor from the output layer to the
#: first layer, falling at (almost) every layer, are reported as vanishing.
VANISHING_RATIO = 0.01


@dataclass(frozen=True)
class LayerDiagnosis:
    """What the slopes of one layer look like on the data.

    Attributes
    ----------
    layer : int
        Index into ``net.layers``.
    activation : str
    shape : str
        ``"n_in -> n_out"``.
    mean_abs_slope : float
        Mean ``|slope|`` over the layer's weights.
    slope_norm : float
        ``||weight_slopes||`` (Frobenius norm).
    weight_norm : float
        ``||weights||``.
    update_ratio : float
        ``learning_rate * ||weight_slopes|| / ||weights||``: how big one step
        of gradient descent is compared with the weights (around 1e-3 is
        healthy; NaN when the weights are all 0).
    mean_abs_node_slope : float
        Mean ``|dL/dz|`` at the inputs of the layer's nodes: the size of the
        course's error term ``delta``, what backpropagation hands on.
    node_slope_norm : float
        Size of ``dL/dz`` over the whole layer: the norm over its nodes,
        root-mean-squared over the samples, ``||input_slopes[k]||_F / sqrt(m)``.
        Unlike the mean it does not depend on the layer's width; the
        vanishing-slopes warning compares it from layer to layer.
    dead_fraction : float or None
        relu layers: fraction of nodes never positive on the data (their
        slope is 0 for every sample, so their incoming weights never change).
    saturated_fraction : float or None
        sigmoid and tanh hidden layers: fraction of node values, over nodes
        and samples, within 0.01 of the activation's limits (slope near 0).
        None for the output layer, whose values near the limits are
        confident predictions (see ``confident_fraction``).
    confident_fraction : float or None
        The output layer, when it is sigmoid, tanh or softmax: fraction of
        its outputs within 0.01 of the activation's limits (a softmax row
        whose largest probability is above 0.99). A confident output is what
        a classifier aims for, not a problem; it only stops learning when it
        is confidently *wrong* under a loss that is not fused with the
        activation (``mse`` with a sigmoid output, say), which ``diagnose``
        warns about.
    data_slope_norm : float or None
        ``||weight_slopes - penalty_slopes||``: the size of the part of the
        weights' slopes that comes from the data (None without a penalty on
        the layer's weights).
    penalty_slope_norm : float or None
        ``||penalty_slopes||``: the size of the part from the weight penalty,
        ``l1 * sign(w) + 2 * l2 * w`` (None without a penalty on the layer).
    """

    layer: int
    activation: str
    shape: str
    mean_abs_slope: float
    slope_norm: float
    weight_norm: float
    update_ratio: float
    mean_abs_node_slope: float
    node_slope_norm: float
    dead_fraction: float | None
    saturated_fraction: float | None
    confident_fraction: float | None = None
    data_slope_norm: float | None = None
    penalty_slope_norm: float | None = None

    @property
    def n_nodes(self) -> int:
        """The number of nodes of the layer."""
        return int(self.shape.split("->")[1])


@dataclass
class Diagnosis:
    """Per-layer slope sizes and warnings, from :func:`diagnose`.

    ``str(diagnosis)`` is a printable report; :meth:`table` gives the rows.
    """

    layers: list[LayerDiagnosis]
    warnings: list[str]
    loss: float
    loss_name: str
    learning_rate: float
    n_samples: int
    notes: list[str] = field(default_factory=list)
    penalty: float = 0.0

    @property
    def penalized(self) -> bool:
        """True when the diagnosed slopes include a weight penalty's part."""
        return any(r.penalty_slope_norm is not None for r in self.layers)

    @property
    def vanishing(self) -> bool:
        """True when the slopes shrink layer after layer towards the inputs."""
        return any(w.startswith("Vanishing") for w in self.warnings)

    def table(self) -> Any:
        """One row per layer: a pandas DataFrame, or a list of dicts without pandas."""
        rows = [asdict(row) for row in self.layers]
        try:
            import pandas as pd
        except ImportError:
            return rows
        return pd.DataFrame(rows).set_index("layer")

    def __str__(self) -> str:
        head = (f"Diagnosis on {self.n_samples} sample(s): loss {self.loss_name} = "
                f"{self.loss:.6g}, learning rate {self.learning_rate:g}")
        if self.penalized:
            head += f", penalty = {self.penalty:.6g} (not in the loss)"
        penalty_columns = ("data part", "penalty part") if self.penalized else ()
        columns = ("layer", "activation", "shape", "weight norm", "mean |slope|", "slope norm",
                   *penalty_columns, "update/weight", "node slope norm", "dead", "saturated")
        cells = [
            [str(r.layer), r.activation, r.shape, _g(r.weight_norm), _g(r.mean_abs_slope),
             _g(r.slope_norm),
             *((_g_or_dash(r.data_slope_norm), _g_or_dash(r.penalty_slope_norm))
               if self.penalized else ()),
             _g(r.update_ratio), _g(r.node_slope_norm), _pct(r.dead_fraction),
             _pct(r.saturated_fraction)]
            for r in self.layers
        ]
        widths = [max(len(c), *(len(row[k]) for row in cells)) for k, c in enumerate(columns)]
        lines = [head, "", "  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True))]
        lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True))
                  for row in cells]
        if self.warnings:
            lines += ["", "Warnings:"] + [f"- {w}" for w in self.warnings]
        else:
            checked = ("vanishing slopes, dead relus and saturated nodes in more than half of "
                       "a layer, confidently wrong outputs, oversized steps")
            if self.penalized:
                checked += ", a penalty larger than the data's part of the slopes"
            lines += ["", f"No warnings (checked: {checked})."]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"Diagnosis({len(self.layers)} layers, {len(self.warnings)} warning(s), "
                f"loss {self.loss_name} = {self.loss:.4g})")


def diagnose(
    net: Network | Trace,
    X: object = None,
    y: object = None,
    loss: str | Loss = "mse",
    learning_rate: float = 0.01,
    *,
    training: bool = False,
    seed: int | np.random.Generator | None = None,
    l1: float = 0.0,
    l2: float = 0.0,
    penalize_bias: bool = False,
) -> Diagnosis:
    """Trace ``net`` on ``(X, y)`` and report, per layer, how big its weights and slopes are.

    For each layer ``k`` (see :class:`LayerDiagnosis`): the norm of its
    weights, mean ``|slope|`` and norm of its weight slopes, ``update_ratio = learning_rate *
    ||slopes|| / ||weights||``, the size of the slopes at its nodes' inputs
    ``dL/dz`` (mean absolute value and norm), the fraction of dead relu
    nodes and of saturated sigmoid/tanh values. Warns in plain words when

    - the slopes at the nodes (``node_slope_norm``) shrink layer after layer,
      by more than a factor 100 from the output layer to the first
      (vanishing gradients);
    - more than half of a relu layer's nodes are dead, or more than half of a
      sigmoid/tanh hidden layer's values are saturated (fewer dead nodes are
      counted in a note, so the words always match the table's ``dead``
      column);
    - more than half of the outputs are confidently wrong under a loss that
      is not fused with the output activation (mse on a sigmoid output),
      where the slope vanishes. Confident outputs as such are no problem:
      they are what a classifier aims for, and a note counts them;
    - one step would change a layer's weights by more than 10% (the learning
      rate may be too large);
    - with a weight penalty, the penalty's part of a layer's weight slopes
      is larger (in norm) than the data's part: ``||l1 * sign(w) + 2 * l2 *
      w|| > ||slope from the data||``. The step then mostly shrinks the
      weights instead of fitting the data (biases are not compared).

    The network is not changed (the trace runs on a copy).

    Parameters
    ----------
    net : Network or Trace
        A network, traced here on ``(X, y)``; or a trace already made
        (``net.trace(X, y, training=True, l2=...)``), diagnosed as it is,
        without ``X``, ``y`` or the trace's settings below.
    X : array (n_samples, n_features)
    y : array (n_samples, n_outputs), or (n_samples,)
    loss : str or Loss
    learning_rate : float > 0
        Used for ``update_ratio`` only.
    training, seed, l1, l2, penalize_bias : as in :meth:`Network.trace`
        Trace one training step (dropout on, with ``seed``) and add the
        weight penalty's slopes, kept apart from the data's. The layers' own
        ``Dense(l1=, l2=)`` count too.

    Returns
    -------
    Diagnosis

    Examples
    --------
    >>> import numpy as np, slopes
    >>> net = slopes.Network.mlp([4, 8, 1], seed=0)
    >>> X, y = np.ones((3, 4)), np.zeros(3)
    >>> report = slopes.diagnose(net, X, y, training=True, l2=100.0)
    >>> [w[:37] for w in report.warnings if w.startswith("Penalty")]
    ['Penalty outweighs the data in layer 0', 'Penalty outweighs the data in layer 1']
    """
    lr = check_positive("learning_rate", learning_rate)
    if isinstance(net, Trace):
        settings = {"X": X is not None, "y": y is not None, "training": training is not False,
                    "seed": seed is not None, "l1": l1 != 0, "l2": l2 != 0,
                    "penalize_bias": penalize_bias is not False}
        given = [name for name, is_given in settings.items() if is_given]
        if given:
            raise TypeError(f"diagnose of a Trace takes no {', '.join(given)}: the trace already "
                            "holds its data and settings; pass a Network to trace it anew")
        trace, net = net, net.network
    elif isinstance(net, Network):
        if X is None or y is None:
            raise TypeError("diagnose of a Network needs X and y (or pass a Trace)")
        trace = net.copy().trace(X, y, loss=loss, training=training, seed=seed, l1=l1, l2=l2,
                                 penalize_bias=penalize_bias)
    else:
        raise TypeError(f"diagnose needs a Network or a Trace, got {type(net).__name__}")
    rows = []
    last = len(net.layers) - 1
    for k, layer in enumerate(net.layers):
        slopes = trace.weight_slopes[k]
        weights = trace.weights[k]
        slope_norm = float(np.linalg.norm(slopes))
        weight_norm = float(np.linalg.norm(weights))
        act = layer.activation.name
        z, a = trace.node_inputs[k], trace.node_values[k + 1]
        dead = float(np.mean(np.all(z <= 0, axis=0))) if act == "relu" else None
        near_limits = _near_limits(act, a)
        saturated = None if k == last else near_limits
        confident = near_limits if k == last else None
        part = trace.penalty_slopes[k] if trace.penalty_slopes else None
        penalty_norm = None if part is None else float(np.linalg.norm(part))
        data_norm = None if part is None else float(np.linalg.norm(slopes - part))
        rows.append(LayerDiagnosis(
            layer=k,
            activation=act,
            shape=f"{layer.n_in} -> {layer.n_out}",
            mean_abs_slope=float(np.mean(np.abs(slopes))),
            slope_norm=slope_norm,
            weight_norm=weight_norm,
            update_ratio=lr * slope_norm / weight_norm if weight_norm > 0 else float("nan"),
            mean_abs_node_slope=float(np.mean(np.abs(trace.input_slopes[k]))),
            node_slope_norm=float(np.linalg.norm(trace.input_slopes[k])
                                  / np.sqrt(trace.n_samples)),
            dead_fraction=dead,
            saturated_fraction=saturated,
            confident_fraction=confident,
            data_slope_norm=data_norm,
            penalty_slope_norm=penalty_norm,
        ))
    warnings, notes = _warnings(rows, lr)
    warnings += _wrong_outputs(rows[-1], trace, notes)
    warnings += _penalty_warnings(rows, trace)
    if not np.isfinite(trace.loss) or trace.loss == 0:
        notes.append(f"the loss is {trace.loss}; slope sizes say little about learning here")
    return Diagnosis(layers=rows, warnings=warnings, loss=trace.loss,
                     loss_name=trace.loss_function.name, learning_rate=lr,
                     n_samples=trace.n_samples, notes=notes, penalty=float(trace.penalty))


def _penalty_warnings(rows: list[LayerDiagnosis], trace: Trace) -> list[str]:
    """A warning per layer whose penalty part of the weight slopes outweighs the data part."""
    warnings = []
    for r in rows:
        if r.penalty_slope_norm is None or r.data_slope_norm is None:
            continue
        if r.penalty_slope_norm <= r.data_slope_norm:
            continue
        l1, l2 = trace.penalty_settings[r.layer] if trace.penalty_settings else (0.0, 0.0)
        setting = " and ".join(f"{name}={value:g}" for name, value in (("l1", l1), ("l2", l2))
                               if value)
        ratio = (f"{r.penalty_slope_norm / r.data_slope_norm:.3g} times"
                 if r.data_slope_norm > 0 else "infinitely")
        warnings.append(
            f"Penalty outweighs the data in layer {r.layer} ({r.shape}): the penalty's part of "
            f"its weight slopes has norm {r.penalty_slope_norm:.3g}, the data's part "
            f"{r.data_slope_norm:.3g} ({ratio} as large, with {setting or 'the penalty'}). "
            "Each step shrinks these weights towards 0 more than it fits the data. "
            "Try a smaller penalty."
        )
    return warnings


def _near_limits(activation: str, a: np.ndarray) -> float | None:
    """Fraction of values within SATURATION of the activation's limits (None: no limits)."""
    if activation == "sigmoid":
        return float(np.mean((a < SATURATION) | (a > 1 - SATURATION)))
    if activation == "tanh":
        return float(np.mean(np.abs(a) > 1 - SATURATION))
    if activation == "softmax":
        return float(np.mean(a.max(axis=1) > 1 - SATURATION))
    return None


def _confidently_wrong(activation: str, predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Per output: near a limit of the activation, on the wrong side of the actual value."""
    if activation == "sigmoid":
        near = (predicted < SATURATION) | (predicted > 1 - SATURATION)
        return near & (np.abs(predicted - actual) > 0.5)
    if activation == "tanh":
        return (np.abs(predicted) > 1 - SATURATION) & (np.abs(predicted - actual) > 1)
    return np.zeros(predicted.shape, dtype=bool)


def _wrong_outputs(row: LayerDiagnosis, trace: Any, notes: list[str]) -> list[str]:
    """Notes on confident outputs; a warning when confidently wrong ones stop learning."""
    if row.confident_fraction is None or row.confident_fraction == 0:
        return []
    act, loss = row.activation, trace.loss_function
    notes.append(
        f"{row.confident_fraction:.0%} of the outputs of layer {row.layer} (the output layer, "
        f"{act}) are confident, within {SATURATION:g} of the activation's limits. Confident "
        "outputs are no problem in themselves: a classifier aims for them."
    )
    if loss.fused_activation is not None:
        return []  # the fused slope is predicted - actual: a wrong output always learns
    wrong = _confidently_wrong(act, trace.predictions, trace.actual)
    share = float(np.mean(wrong))
    if share == 0:
        return []
    text = (f"{share:.0%} of the outputs are confidently wrong ({act} near its limits, on the "
            f"wrong side of the actual value). With the loss {loss.name}, the slope there is "
            f"the {act}'s slope, nearly 0, so these rows barely learn.")
    if share > 0.5:
        return [f"Stuck outputs: {text} Try binary_crossentropy (fused with the sigmoid: its "
                "slope is predicted - actual) or smaller initial weights."]
    notes.append(text)
    return []


def _warnings(rows: list[LayerDiagnosis], lr: float) -> tuple[list[str], list[str]]:
    warnings: list[str] = []
    notes: list[str] = []
    sizes = [r.node_slope_norm for r in rows]
    if len(rows) >= 3 and sizes[-1] > 0:
        ratio = sizes[0] / sizes[-1]
        falls = sum(sizes[k] < sizes[k + 1] for k in range(len(sizes) - 1))
        if ratio < VANISHING_RATIO and falls >= len(sizes) - 2:
            chain = " -> ".join(f"{s:.2g}" for s in reversed(sizes))
            sigmoids = [r.layer for r in rows[:-1] if r.activation == "sigmoid"]
            why = (
                f" Each sigmoid layer ({', '.join(map(str, sigmoids))}) multiplies them by its "
                "activation's slope, which is at most 0.25." if sigmoids else ""
            )
            warnings.append(
                "Vanishing slopes: going back from the output layer to the first layer, the size "
                f"of the slopes at the nodes shrinks layer after layer ({chain}), a factor "
                f"{1 / ratio:.3g} in all.{why} The first layers will learn far more slowly "
                "than the last. Try relu (or tanh) hidden layers, fewer layers, or "
                "he_normal initial weights."
            )
    for r in rows:
        if r.dead_fraction:
            dead = round(r.dead_fraction * r.n_nodes)
            what = (f"{r.dead_fraction:.0%} of the nodes of layer {r.layer} ({dead} of "
                    f"{r.n_nodes}) are never positive on this data, so their slope is always 0 "
                    "and their incoming weights never change.")
            if r.dead_fraction > 0.5:
                warnings.append(f"Dead relus: {what} Try a smaller learning rate, leaky_relu "
                                "or other initial weights.")
            else:
                notes.append(f"dead relus: {what} (A warning needs more than half.)")
        if r.saturated_fraction is not None and r.saturated_fraction > 0.5:
            warnings.append(
                f"Saturated {r.activation}: {r.saturated_fraction:.0%} of the values of layer "
                f"{r.layer} are at the activation's limits, where its slope is nearly 0. "
                "Standardize the inputs or start from smaller weights."
            )
        if np.isfinite(r.update_ratio) and r.update_ratio > 0.1:
            warnings.append(
                f"Large steps: at learning rate {lr:g} one update changes the weights of layer "
                f"{r.layer} by {r.update_ratio:.0%} of their size; the loss may jump around "
                "or grow. Try a smaller learning rate."
            )
    return warnings, notes


def _g(x: float) -> str:
    return "nan" if not np.isfinite(x) else f"{x:.3g}"


def _g_or_dash(x: float | None) -> str:
    return "-" if x is None else _g(x)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"
