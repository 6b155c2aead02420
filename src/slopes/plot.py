"""Pictures of a network and of its training, drawn with matplotlib.

- :func:`draw_network`: the network in the course's style, nodes in columns,
  each edge labelled with its weight; after a trace each node shows its value,
  with the slope of the loss beside it in purple.
- :func:`plot_history`: loss and val_loss (and metrics) per epoch.

matplotlib is optional (``pip install 'slopes[all]'``) and imported only when a
function here is called. The figures are plain ``matplotlib.figure.Figure``
objects, not registered with pyplot: nothing accumulates in pyplot's list of
open figures, a notebook shows a returned figure once, and
``fig.savefig("net.png")`` or ``fig.savefig("net.svg")`` writes a file. To draw
into a window or an existing layout, pass ``ax``::

    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    draw_network(trace, ax=ax)
    plt.show()
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._optional import require
from .network import Network
from .trace import Trace

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .training import History

__all__ = [
    "draw_network",
    "plot_history",
    "figure_to_png",
    "network_repr_png",
    "SLOPE_COLOR",
]

#: The course shows slopes in purple.
SLOPE_COLOR = "#7b2cbf"
_POSITIVE = "#333333"
_NEGATIVE = "#c1121f"
_NODE_FACE = "#dbe9f6"
_NODE_EDGE = "#2b5d8a"
_DX = 2.6  # horizontal distance between columns, in node spacings
_R = 0.27  # node radius


def _matplotlib() -> Any:
    return require("matplotlib", "drawing")


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    _matplotlib()
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


# ------------------------------------------------------------------- network
def draw_network(
    net_or_trace: Network | Trace,
    ax: Axes | None = None,
    show_slopes: bool = True,
    max_nodes: int = 10,
    sample: int | None = None,
    edges: str = "weight",
    edge_labels: bool | None = None,
    X: object = None,
    title: str | None = None,
) -> Figure:
    """Draw a network in the course's style, with its values and slopes after a trace.

    Nodes stand in columns, inputs on the left. Each edge is labelled with
    its weight; its width grows with the size of the weight (or of the
    weight's slope, ``edges="slope"``), dark for positive, red for negative.
    Given a :class:`~slopes.trace.Trace`, each node shows its value inside and
    the slope of the loss at its output beside it, in purple; the output
    column also shows the actual value and the error.

    Parameters
    ----------
    net_or_trace : Network or Trace
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.
    show_slopes : bool
        Write the slopes of the loss at the nodes (a trace only).
    max_nodes : int >= 2
        Columns with more nodes show the first ``max_nodes - 1`` of them and
        a line "... 118 more".
    sample : int, optional
        For a trace of several samples, the sample whose values and slopes
        are shown. By default a batch shows the mean node value over the
        samples and the slope summed over the samples (the slope of the
        batch's loss, which is what the weights' slopes add up), like
        :meth:`Trace.table`.
    edges : {"weight", "slope"}
        What the width of an edge shows (``"slope"`` needs a trace).
    edge_labels : bool, optional
        Label each edge with its weight. By default only when at most 40
        edges are drawn.
    X : array (n_features,) or (1, n_features), optional
        With a Network, one sample to push forward so the nodes show values.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        Save it with ``fig.savefig("network.png")`` (or ``.svg``).
    """
    if not isinstance(max_nodes, (int, np.integer)) or isinstance(max_nodes, bool) \
            or max_nodes < 2:
        raise ValueError(f"max_nodes must be an int >= 2, got {max_nodes!r}")
    if edges not in ("weight", "slope"):
        raise ValueError(f"edges must be 'weight' or 'slope', got {edges!r}")
    trace = net_or_trace if isinstance(net_or_trace, Trace) else None
    if trace is None and not isinstance(net_or_trace, Network):
        raise TypeError(
            f"draw_network needs a Network or a Trace, got {type(net_or_trace).__name__}"
        )
    if trace is None and edges == "slope":
        raise ValueError("edges='slope' needs a Trace (net.trace(X, y)), got a Network")
    net: Network = trace.network if trace is not None else net_or_trace  # type: ignore[assignment]
    weights = trace.weights if trace is not None and trace.weights else [
        layer.weights for layer in net.layers]
    biases = trace.biases if trace is not None and trace.biases else [
        layer.bias for layer in net.layers]

    values, slopes, caption = _node_numbers(net, trace, sample, X)
    if not show_slopes:
        slopes = None
    sizes = net.sizes
    shown = [min(n, max_nodes - 1) if n > max_nodes else n for n in sizes]
    height = max(s + (1 if n > s else 0) for s, n in zip(shown, sizes, strict=True))
    figsize = (max(4.0, 1.9 * len(sizes) + 1.0), max(2.6, 0.85 * height + 1.4))
    fig, ax = _new_axes(ax, figsize)

    def pos(level: int, node: int) -> tuple[float, float]:
        count = shown[level] + (1 if sizes[level] > shown[level] else 0)
        return level * _DX, (count - 1) / 2 - node

    n_edges = sum(shown[k] * shown[k + 1] for k in range(len(net.layers)))
    label_edges = n_edges <= 40 if edge_labels is None else bool(edge_labels)
    edge_sizes = [np.abs(w) for w in weights] if edges == "weight" else [
        np.abs(s) for s in trace.weight_slopes]  # type: ignore[union-attr]
    biggest = max((float(e[: shown[k], : shown[k + 1]].max()) for k, e in enumerate(edge_sizes)),
                  default=0.0) or 1.0
    for k, w in enumerate(weights):
        for i in range(shown[k]):
            for j in range(shown[k + 1]):
                (x0, y0), (x1, y1) = pos(k, i), pos(k + 1, j)
                size = float(edge_sizes[k][i, j]) / biggest
                color = SLOPE_COLOR if edges == "slope" else (
                    _NEGATIVE if w[i, j] < 0 else _POSITIVE)
                ax.plot([x0 + _R, x1 - _R], [y0, y1], color=color, alpha=0.35 + 0.5 * size,
                        linewidth=0.4 + 3.2 * size, zorder=1, solid_capstyle="round")
                if label_edges:
                    t = 0.33  # near the node fed, where edges into one node fan apart
                    lx, ly = x1 - _R - t * (x1 - x0 - 2 * _R), y1 + t * (y0 - y1)
                    ax.text(lx, ly, _fmt(w[i, j]), fontsize=8, ha="center", va="center",
                            color=color if edges == "weight" else _POSITIVE, zorder=3,
                            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                                  "alpha": 0.85})

    from matplotlib.patches import Circle

    n_layers = len(net.layers)
    for level, n in enumerate(sizes):
        for node in range(shown[level]):
            x, y = pos(level, node)
            ax.add_patch(Circle((x, y), _R, facecolor=_NODE_FACE, edgecolor=_NODE_EDGE,
                                linewidth=1.2, zorder=4))
            if values is not None:
                text = _fmt(values[level][node])
                ax.text(x, y, text, ha="center", va="center", zorder=5, fontweight="bold",
                        fontsize=8.5 if len(text) <= 5 else 6.5)
            if slopes is not None:
                ax.text(x + _R * 0.95, y + _R * 0.95, _fmt(slopes[level][node]),
                        ha="left", va="bottom", fontsize=8.5, color=SLOPE_COLOR, zorder=5,
                        fontweight="bold", bbox={"boxstyle": "round,pad=0.1", "fc": "white",
                                                 "ec": "none", "alpha": 0.7})
            if level > 0 and biases[level - 1] is not None:
                ax.text(x, y - _R * 1.15, f"b {_fmt(biases[level - 1][node])}", ha="center",
                        va="top", fontsize=7, color="#666666", zorder=5)
        if n > shown[level]:
            x, y = pos(level, shown[level])
            ax.text(x, y, f"\u2026 {n - shown[level]} more", ha="center", va="center",
                    fontsize=8.5, color="#555555", zorder=5)
        if level == 0:
            header = "inputs"
        else:
            act = net.layers[level - 1].activation.name
            header = (f"output ({act})" if level == n_layers
                      else f"hidden {level} ({act})")
        ax.text(level * _DX, (height - 1) / 2 + 0.55, header, ha="center", va="bottom", fontsize=9,
                color="#222222")

    if trace is not None and caption is not None:
        x = n_layers * _DX
        y_bottom = -(shown[-1] + (1 if sizes[-1] > shown[-1] else 0) - 1) / 2
        ax.text(x, y_bottom - 0.6, caption, ha="center", va="top", fontsize=8, color="#222222")
    legend = "edges: weights"
    if values is not None:
        legend += " \u00b7 in the nodes: node values"
    if slopes is not None:
        legend += " \u00b7 purple: slopes of the loss"
    low = -(height - 1) / 2
    ax.text(n_layers * _DX / 2, low - 1.25, legend, ha="center", va="top", fontsize=7.5,
            color="#555555")
    if title:
        ax.set_title(title, fontsize=10)
    ax.set_xlim(-0.8, n_layers * _DX + 1.2)
    ax.set_ylim(low - 1.6, (height - 1) / 2 + 1.2)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig


def _node_numbers(
    net: Network, trace: Trace | None, sample: int | None, X: object
) -> tuple[list[np.ndarray] | None, list[np.ndarray] | None, str | None]:
    """Per-level node values and slopes to print, and a caption for the output column."""
    if trace is None:
        if X is None:
            return None, None, None
        a = np.asarray(X, dtype=net.dtype).reshape(1, -1)
        if a.shape[1] != net.n_inputs:
            raise ValueError(f"X has {a.shape[1]} features, but the network expects "
                             f"{net.n_inputs}; draw_network shows one sample")
        values = [a[0]]
        for layer in net.layers:
            a = layer.forward(a)[1]
            values.append(a[0])
        return values, None, None
    if X is not None:
        raise ValueError("X is only used with a Network; a Trace already holds its node values")
    m = trace.n_samples
    if sample is None and m == 1:
        sample = 0
    if sample is not None:
        if isinstance(sample, bool) or not isinstance(sample, (int, np.integer)) \
                or not 0 <= sample < m:
            raise IndexError(f"sample = {sample!r} is out of range: the trace has {m} "
                             f"sample(s), so valid samples are 0..{m - 1}")
        values = [v[sample] for v in trace.node_values]
        slopes = [s[sample] for s in trace.node_slopes]
        actual, error = trace.actual[sample], trace.errors[sample]
        prefix = "" if m == 1 else f"sample {sample} of {m}: "
    else:
        values = [v.mean(axis=0) for v in trace.node_values]
        slopes = [s.sum(axis=0) for s in trace.node_slopes]
        actual, error = trace.actual.mean(axis=0), trace.errors.mean(axis=0)
        prefix = f"mean values, summed slopes over {m} samples\nmean "
    if len(actual) == 1:
        caption = f"{prefix}actual {_fmt(actual[0])}, error {_fmt(error[0])}"
    else:
        caption = f"{prefix}errors {', '.join(_fmt(e) for e in error[:4])}"
    caption += f"\nloss {trace.loss_function.name} = {_fmt(trace.loss)}"
    return values, slopes, caption


def _fmt(x: float) -> str:
    """Short numbers for a drawing: 6, 0.495, -0.0203, 1.2e-05."""
    x = float(x)
    if x == 0:
        return "0"
    if x == round(x) and abs(x) < 1e5:
        return str(int(round(x)))
    return f"{x:.3g}"


# ------------------------------------------------------------------- history
def plot_history(
    history: History | Mapping[str, Sequence[float]] | Sequence[float],
    metrics: Sequence[str] | None = None,
    log_scale: bool = False,
    ax: Axes | None = None,
    xlabel: str = "epoch",
) -> Figure:
    """Plot loss and val_loss (and any metric) per epoch.

    Each key ``name`` of ``history.history`` is a line; ``val_name`` is drawn
    dashed in the same colour. Without ``ax``, the loss and each other metric
    get their own panel (their scales differ); with ``ax`` everything goes
    on it.

    Parameters
    ----------
    history : History, dict of lists, or a list of numbers
        What ``net.fit`` returns; a dict ``{"loss": [...]}``; or one list
        (the course's ``mse_hist``), drawn as ``loss``.
    metrics : sequence of str, optional
        Keys to draw (their ``val_`` partners come along). Default: all.
    log_scale : bool
        Logarithmic y axis for the losses, to see a loss that keeps falling
        by factors (metric panels such as accuracy stay linear).
    ax : matplotlib Axes, optional
    xlabel : str
        ``"epoch"``, or e.g. ``"iteration"`` for updates counted one by one.

    Returns
    -------
    matplotlib.figure.Figure
    """
    data, x = _history_data(history)
    names = [k for k in data if not k.startswith("val_") or k[4:] not in data]
    if metrics is not None:
        if isinstance(metrics, str):
            metrics = [metrics]
        unknown = [m for m in metrics if m not in data]
        if unknown:
            raise ValueError(f"metrics {unknown} are not in the history; "
                             f"its keys are {sorted(data)}")
        names = [m for m in names if m in metrics] + [
            m for m in metrics if m.startswith("val_") and m[4:] in data
            and m[4:] not in metrics]
    if not names:
        raise ValueError("the history is empty; nothing to plot")
    groups = _panel_groups(names)
    if ax is not None:
        fig, axes = ax.figure, [ax] * len(groups)
    else:
        fig, first = _new_axes(None, (6.4, 3.2 * len(groups)))
        fig.delaxes(first)
        axes = list(np.atleast_1d(fig.subplots(len(groups), 1, sharex=True)))
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
    color_index = 0
    for panel, group in zip(axes, groups, strict=True):
        for name in group:
            color = colors[color_index % len(colors)]
            color_index += 1
            keys = [name] + ([f"val_{name}"] if f"val_{name}" in data else [])
            for key in keys:
                ys = np.asarray(data[key], dtype=float)
                panel.plot(x[: len(ys)], ys, color=color, label=key,
                           linestyle="--" if key.startswith("val_") else "-",
                           marker="o" if len(ys) <= 25 else None, markersize=3)
        panel.set_ylabel(group[0] if len(group) == 1 else "value")
        if log_scale and (ax is not None or "loss" in group[0]):
            panel.set_yscale("log")
        panel.grid(True, alpha=0.3)
        panel.legend(fontsize=8)
    axes[-1].set_xlabel(xlabel)
    from matplotlib.ticker import MaxNLocator

    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def _history_data(history: object) -> tuple[dict[str, list[float]], np.ndarray]:
    epoch = None
    if hasattr(history, "history") and isinstance(history.history, Mapping):
        data = dict(history.history)
        epoch = getattr(history, "epoch", None)
    elif isinstance(history, Mapping):
        data = dict(history)
    elif isinstance(history, Sequence) or isinstance(history, np.ndarray):
        data = {"loss": list(np.asarray(history, dtype=float).ravel())}
    else:
        raise TypeError("history must be a History, a dict of lists or a list of numbers, "
                        f"got {type(history).__name__}")
    data = {str(k): list(v) for k, v in data.items() if len(v) > 0}
    longest = max((len(v) for v in data.values()), default=0)
    if epoch is not None and len(epoch) == longest:
        x = np.asarray(epoch)
    else:
        x = np.arange(longest)
    return data, x


def _panel_groups(names: list[str]) -> list[list[str]]:
    """Losses share one panel; each other metric gets its own."""
    losses = [n for n in names if "loss" in n]
    others = [[n] for n in names if "loss" not in n]
    return ([losses] if losses else []) + others


# ------------------------------------------------------------------ notebooks
def figure_to_png(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes (what Jupyter's ``_repr_png_`` returns)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def network_repr_png(net: Network) -> bytes | None:
    """The drawing of ``net`` as PNG bytes, or None when matplotlib is missing.

    For ``Network._repr_png_``, so a network displays as its drawing in Jupyter.
    """
    try:
        return figure_to_png(draw_network(net))
    except ImportError:
        return None
