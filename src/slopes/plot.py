"""Pictures of a network and of its training, drawn with matplotlib.

- :func:`draw_network`: the network in the course's style, nodes in columns,
  each edge labelled with its weight; after a trace each node shows its value,
  with the slope of the loss beside it in purple. Input and output nodes can
  carry names (feature names, class names).
- :func:`plot_history` (from :mod:`slopes.curves`): loss and val_loss (and
  metrics, and the learning rate) per epoch, the epochs numbered from 1 as the
  training logs number them, the loss named in words.

matplotlib is optional (``pip install 'slopes[all]'``) and imported only when a
function here is called. Both functions return a ``matplotlib.figure.Figure``:

- ``fig.savefig("net.png")`` (or ``.svg``) always writes the picture;
- once your program uses pyplot (``import matplotlib.pyplot as plt``), the
  figure is also pyplot's current figure, so ``plt.savefig("net.png")`` and
  ``plt.show()`` work as they do after any pyplot plot;
- in Jupyter the returned figure displays itself once (it is not handed to
  the inline backend, which would show it a second time);
- to draw into a layout of your own, pass ``ax``::

      fig, ax = plt.subplots()
      draw_network(trace, ax=ax)
      plt.show()
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .curves import LOSS_WORDS, loss_words, plot_history
from .drawn import chosen_nodes, short_number
from .figures import figure_to_png, new_figure, unmanaged_figures
from .network import Network
from .trace import Trace

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "draw_network",
    "plot_history",
    "figure_to_png",
    "network_repr_png",
    "unmanaged_figures",
    "SLOPE_COLOR",
    "LOSS_WORDS",
    "loss_words",
]

#: The course shows slopes in purple.
SLOPE_COLOR = "#7b2cbf"
_POSITIVE = "#333333"
_NEGATIVE = "#c1121f"
_NODE_FACE = "#dbe9f6"
_NODE_EDGE = "#2b5d8a"
_DX = 2.6  # horizontal distance between columns, in node spacings
_R = 0.27  # node radius
_INCHES = 0.9  # inches per node spacing in a drawing of its own
_LABEL_SIZE = 8  # font size of the weight labels, in points

# ----------------------------------------------------------- sizes of texts
# Advance widths of DejaVu Sans (matplotlib's default font), in ems, with a
# margin: enough to keep labels apart without asking a renderer.
_WIDE = {**dict.fromkeys("0123456789", 0.64), **dict.fromkeys(".,:; ", 0.33),
         "-": 0.37, "=": 0.84, "+": 0.84, "\u2026": 1.0,
         **dict.fromkeys("fijlrtI()[]/", 0.42), **dict.fromkeys("mwMW", 1.0)}


def _text_width(text: str, fontsize: float, inches: float) -> float:
    """Width of one line of ``text`` in data units when one unit is ``inches`` inches."""
    ems = sum(_WIDE.get(c, 0.7) for c in text) * 1.08
    return ems * fontsize / 72 / inches


def _text_height(fontsize: float, inches: float, lines: int = 1) -> float:
    return 1.25 * lines * fontsize / 72 / inches


class _Occupied:
    """Rectangles already drawn on, to place weight labels where nothing else is."""

    def __init__(self) -> None:
        self.boxes: list[tuple[float, float, float, float]] = []

    def add(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.boxes.append((x0, y0, x1, y1))

    def free(self, x0: float, y0: float, x1: float, y1: float) -> bool:
        return all(x1 <= a0 or x0 >= a1 or y1 <= b0 or y0 >= b1
                   for a0, b0, a1, b1 in self.boxes)


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
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    nodes: Mapping[int, Sequence[int]] | None = None,
    left_out_why: Mapping[int, str] | None = None,
    note: str | None = None,
) -> Figure:
    """Draw a network in the course's style, with its values and slopes after a trace.

    Nodes stand in columns, inputs on the left. Each edge is labelled with
    its weight; its width grows with the size of the weight (or of the
    weight's slope, ``edges="slope"``), dark for positive, red for negative.
    Given a :class:`~slopes.trace.Trace`, each node shows its value inside and
    the slope of the loss at its output beside it, in purple. The actual
    value, the error and the loss are written below the network, where no
    edge runs.

    Weight labels never cover one another: each goes to the first free spot
    along its edge, and a label with no free spot is left out (the note below
    the drawing counts them; ``draw_network(..., edge_labels=False)`` drops
    them all).

    Parameters
    ----------
    net_or_trace : Network or Trace
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.
    show_slopes : bool
        Write the slopes of the loss at the nodes (a trace only).
    max_nodes : int >= 2
        A column with more nodes shows the ``max_nodes - 1`` that matter most
        and a line "... 118 more": after a trace, the nodes with the largest
        slope of the loss ``|node slope|`` (summed over the samples); without
        one, those with the largest weights ``|w|`` on their edges.
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
    input_names : sequence of str, optional
        One name per input (the feature names), written beside the inputs.
    output_names : sequence of str, optional
        One name per output node (the class names, or the target's name).
    nodes : mapping of int to sequence of int, optional
        The nodes to show in some columns, overriding the automatic choice:
        ``{0: [3, 7, 1]}`` shows inputs 3, 7 and 1 (column 0 is the inputs,
        column ``k + 1`` the nodes of ``net.layers[k]``).
    left_out_why : mapping of int to str, optional
        For a column of ``nodes``, why its other nodes are left out, written
        under "... 55 more": ``{0: "moved the prediction less"}``. Default:
        "not chosen".
    note : str, optional
        A paragraph written below the drawing, above the caption: what is
        traced and why (the command line says which row of the file and why
        that one). Wrapped to the drawing's width.

    Returns
    -------
    matplotlib.figure.Figure
        Save it with ``fig.savefig("network.png")`` (or ``.svg``); see the
        module's notes for pyplot.
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
    input_names = _names("input_names", input_names, net.n_inputs, "inputs")
    output_names = _names("output_names", output_names, net.n_outputs, "output nodes")
    weights = trace.weights if trace is not None and trace.weights else [
        layer.weights for layer in net.layers]
    biases = trace.biases if trace is not None and trace.biases else [
        layer.bias for layer in net.layers]

    values, slopes, caption = _node_numbers(net, trace, sample, X, output_names)
    if not show_slopes:
        slopes = None
    sizes = net.sizes
    shown = chosen_nodes(net, trace, weights, max_nodes, nodes)
    n_layers = len(net.layers)
    slots = [len(s) + (1 if n > len(s) else 0) for s, n in zip(shown, sizes, strict=True)]
    height = max(slots)

    def pos(level: int, slot: int) -> tuple[float, float]:
        return level * _DX, (slots[level] - 1) / 2 - slot

    # The frame, in node spacings: room for the names beside the inputs and outputs,
    # the headers and title above, the caption and the legend below.
    fig_inches = _INCHES
    left_names = max((_text_width(input_names[i], 8, fig_inches) for i in shown[0]),
                     default=0.0) if input_names else 0.0
    right_names = max((_text_width(output_names[j], 8, fig_inches) for j in shown[-1]),
                      default=0.0) if output_names else 0.0
    caption_lines = caption.count("\n") + 1 if trace is not None and caption else 0
    has_bias = any(b is not None for b in biases)
    x_min = -0.8 - (left_names + 0.1 if left_names else 0.0)
    x_max = n_layers * _DX + max(1.2, _R + 0.2 + right_names)
    title_lines = _wrap(title, 10, fig_inches, x_max - x_min) if title else []
    note_lines = _wrap(note, 8, fig_inches, x_max - x_min) if note else []
    top = (height - 1) / 2
    low = -top
    y_max = top + 0.95 + (_text_height(10, fig_inches, len(title_lines)) + 0.15
                          if title_lines else 0.0)
    note_top = low - _R - (0.5 if has_bias else 0.3)
    caption_top = note_top - (_text_height(8, fig_inches, len(note_lines)) + 0.15
                              if note_lines else 0.0)
    legend_top = caption_top - _text_height(8, fig_inches, caption_lines) - 0.1
    y_min = legend_top - _text_height(7.5, fig_inches) - 0.15

    if ax is None:
        fig = new_figure((fig_inches * (x_max - x_min), fig_inches * (y_max - y_min)))
        ax = fig.add_axes((0, 0, 1, 1))
        inches = fig_inches
    else:
        fig = ax.figure
        width, height_in = fig.get_size_inches() * ax.get_position().size
        inches = min(width / (x_max - x_min), height_in / (y_max - y_min))

    n_edges = sum(len(shown[k]) * len(shown[k + 1]) for k in range(n_layers))
    label_edges = n_edges <= 40 if edge_labels is None else bool(edge_labels)
    edge_sizes = [np.abs(w) for w in weights] if edges == "weight" else [
        np.abs(s) for s in trace.weight_slopes]  # type: ignore[union-attr]
    # A NaN or infinite weight (a diverged network) is drawn thin rather than not at all.
    edge_sizes = [np.where(np.isfinite(e), e, 0.0) for e in edge_sizes]
    biggest = max((float(e[np.ix_(shown[k], shown[k + 1])].max())
                   for k, e in enumerate(edge_sizes)), default=0.0) or 1.0

    occupied = _Occupied()
    for level in range(len(sizes)):
        for slot in range(slots[level]):
            x, y = pos(level, slot)
            occupied.add(x - _R, y - _R, x + _R, y + _R)
    texts_at_nodes = _node_texts(sizes, shown, pos, values, slopes, biases, inches, occupied)

    from matplotlib.patches import Circle

    left_out = 0
    for k, w in enumerate(weights):
        for si, i in enumerate(shown[k]):
            for sj, j in enumerate(shown[k + 1]):
                (x0, y0), (x1, y1) = pos(k, si), pos(k + 1, sj)
                size = float(edge_sizes[k][i, j]) / biggest
                color = SLOPE_COLOR if edges == "slope" else (
                    _NEGATIVE if w[i, j] < 0 else _POSITIVE)
                ax.plot([x0 + _R, x1 - _R], [y0, y1], color=color, alpha=0.35 + 0.5 * size,
                        linewidth=0.4 + 3.2 * size, zorder=1, solid_capstyle="round")
    if label_edges:
        left_out = _label_edges(ax, weights, shown, pos, edges, inches, occupied)

    for level, n in enumerate(sizes):
        for slot, node in enumerate(shown[level]):
            x, y = pos(level, slot)
            ax.add_patch(Circle((x, y), _R, facecolor=_NODE_FACE, edgecolor=_NODE_EDGE,
                                linewidth=1.2, zorder=4))
            for text_args in texts_at_nodes.get((level, node), ()):
                ax.text(*text_args[0], **text_args[1])
            if level == 0 and input_names:
                ax.text(x - _R - 0.08, y, input_names[node], ha="right", va="center",
                        fontsize=8, color="#222222", zorder=5)
            if level == n_layers and output_names:
                ax.text(x + _R + 0.08, y, output_names[node], ha="left", va="center",
                        fontsize=8, color="#222222", zorder=5)
        if n > len(shown[level]):
            x, y = pos(level, len(shown[level]))
            if nodes is not None and level in nodes:
                why = (left_out_why or {}).get(level, "not chosen")
            else:
                why = "smaller |slope|" if trace is not None else "smaller |weights|"
            ax.text(x, y, f"\u2026 {n - len(shown[level])} more\n({why})", ha="center",
                    va="center", fontsize=7.5, color="#555555", zorder=5)
        if level == 0:
            header = "inputs"
        else:
            act = net.layers[level - 1].activation.name
            header = (f"output ({act})" if level == n_layers
                      else f"hidden {level} ({act})")
        ax.text(level * _DX, top + 0.55, header, ha="center", va="bottom", fontsize=9,
                color="#222222")

    middle = (x_min + x_max) / 2
    if note_lines:
        ax.text(middle, note_top, "\n".join(note_lines), ha="center", va="top", fontsize=8,
                color="#222222")
    if trace is not None and caption:
        ax.text(middle, caption_top, caption, ha="center", va="top", fontsize=8,
                color="#222222")
    legend = "edges: weights"
    if values is not None:
        legend += " \u00b7 in the nodes: node values"
    if slopes is not None:
        legend += " \u00b7 purple: slopes of the loss"
    if left_out:
        legend += f" \u00b7 {left_out} weight label(s) left out where they would overlap"
    ax.text(middle, legend_top, legend, ha="center", va="top", fontsize=7.5, color="#555555")
    if title_lines:
        ax.text(middle, y_max - 0.1, "\n".join(title_lines), ha="center", va="top",
                fontsize=10)
    ax.set_xlim(x_min, x_max)
    ax.set_ylim(y_min, y_max)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig


def _wrap(text: str, fontsize: float, inches: float, width: float) -> list[str]:
    """``text``'s lines, each broken at spaces to fit ``width`` data units."""
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        line = ""
        for word in paragraph.split(" "):
            longer = f"{line} {word}" if line else word
            if line and _text_width(longer, fontsize, inches) > width - 0.3:
                lines.append(line)
                line = word
            else:
                line = longer
        lines.append(line)
    return lines


def _names(what: str, names: Sequence[str] | None, count: int, things: str) -> list[str] | None:
    if names is None:
        return None
    if isinstance(names, str):
        raise TypeError(f"{what} must be a list of names, got the string {names!r}")
    names = [str(n) for n in names]
    if len(names) != count:
        raise ValueError(f"{what} has {len(names)} names, but the network has {count} {things}")
    return names


def _node_texts(sizes: list[int], shown: list[list[int]], pos: Any,
                values: list[np.ndarray] | None, slopes: list[np.ndarray] | None,
                biases: list[np.ndarray | None], inches: float,
                occupied: _Occupied) -> dict[tuple[int, int], list[tuple[tuple, dict]]]:
    """The value, slope and bias written at each drawn node; marks where they go."""
    texts: dict[tuple[int, int], list[tuple[tuple, dict]]] = {}
    for level in range(len(sizes)):
        for slot, node in enumerate(shown[level]):
            x, y = pos(level, slot)
            items = texts.setdefault((level, node), [])
            if values is not None:
                text = short_number(values[level][node])
                items.append(((x, y, text), {
                    "ha": "center", "va": "center", "zorder": 5, "fontweight": "bold",
                    "fontsize": 8.5 if len(text) <= 5 else 6.5}))
            if slopes is not None:
                text = short_number(slopes[level][node])
                x0, y0 = x + _R * 0.95, y + _R * 0.95
                occupied.add(x0, y0, x0 + _text_width(text, 8.5, inches) + 0.05,
                             y0 + _text_height(8.5, inches))
                items.append(((x0, y0, text), {
                    "ha": "left", "va": "bottom", "fontsize": 8.5, "color": SLOPE_COLOR,
                    "zorder": 5, "fontweight": "bold",
                    "bbox": {"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                             "alpha": 0.7}}))
            if level > 0 and biases[level - 1] is not None:
                text = f"b {short_number(biases[level - 1][node])}"
                half = _text_width(text, 7, inches) / 2
                occupied.add(x - half, y - _R * 1.15 - _text_height(7, inches), x + half,
                             y - _R * 1.15)
                items.append(((x, y - _R * 1.15, text), {
                    "ha": "center", "va": "top", "fontsize": 7, "color": "#666666",
                    "zorder": 5}))
    return texts


def _label_edges(ax: Axes, weights: list[np.ndarray], shown: list[list[int]], pos: Any,
                 edges: str, inches: float, occupied: _Occupied) -> int:
    """Write each edge's weight at the first free spot along it; return how many found none.

    The spots are tried from near the node fed (where edges into one node fan
    apart) towards the node feeding it. A label's box must not touch another
    label, a node or the texts beside the nodes.
    """
    spots = (0.3, 0.18, 0.42, 0.54, 0.12, 0.66, 0.78)
    pad = 0.15 * _LABEL_SIZE / 72 / inches
    left_out = 0
    for k, w in enumerate(weights):
        for sj, j in enumerate(shown[k + 1]):
            for si, i in enumerate(shown[k]):
                (x0, y0), (x1, y1) = pos(k, si), pos(k + 1, sj)
                text = short_number(w[i, j])
                half_w = _text_width(text, _LABEL_SIZE, inches) / 2 + pad
                half_h = _text_height(_LABEL_SIZE, inches) / 2 + pad
                for t in spots:
                    lx = x1 - _R - t * (x1 - x0 - 2 * _R)
                    ly = y1 + t * (y0 - y1)
                    box = (lx - half_w, ly - half_h, lx + half_w, ly + half_h)
                    if occupied.free(*box):
                        occupied.add(*box)
                        color = (_NEGATIVE if w[i, j] < 0 else _POSITIVE)
                        ax.text(lx, ly, text, fontsize=_LABEL_SIZE, ha="center", va="center",
                                color=color if edges == "weight" else _POSITIVE, zorder=3,
                                gid="weight-label",
                                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                                      "alpha": 0.85})
                        break
                else:
                    left_out += 1
    return left_out


def _node_numbers(
    net: Network, trace: Trace | None, sample: int | None, X: object,
    output_names: Sequence[str] | None = None,
) -> tuple[list[np.ndarray] | None, list[np.ndarray] | None, str | None]:
    """Per-level node values and slopes to print, and a caption for below the drawing."""
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
    one_hot = prefix == "" and bool(np.all((actual == 0) | (actual == 1))) \
        and actual.sum() == 1
    if len(actual) == 1:
        caption = f"{prefix}actual {short_number(actual[0])}, error {short_number(error[0])}"
    elif one_hot:  # one sample of a class: name the actual class and the largest output
        names = output_names or [f"output {j}" for j in range(len(actual))]
        j, top = int(np.argmax(actual)), int(np.argmax(values[-1]))
        caption = (f"actual {names[j]}: its output {short_number(values[-1][j])}, error "
                   f"{short_number(error[j])}; largest output {names[top]}: "
                   f"{short_number(values[-1][top])}")
    else:
        caption = f"{prefix}errors {', '.join(short_number(e) for e in error[:4])}"
    caption += f"\nloss {trace.loss_function.name} = {short_number(trace.loss)}"
    return values, slopes, caption


# ------------------------------------------------------------------ notebooks
def network_repr_png(net: Network) -> bytes | None:
    """The drawing of ``net`` as PNG bytes, or None when matplotlib is missing.

    For ``Network._repr_png_``, so a network displays as its drawing in Jupyter.
    """
    try:
        with unmanaged_figures():
            return figure_to_png(draw_network(net))
    except ImportError:
        return None
