"""The interactive page: a network's values, slopes and updates in one HTML file.

:func:`report` (``slopes.report``), :meth:`slopes.Trace.to_html` and
``slopes explain ... --html page.html`` write one self-contained HTML file:
the SVG drawing and the JavaScript are inline, nothing is fetched from a
server or the network, and it works opened straight from disk (``file://``).

- The network is drawn as in :func:`slopes.plot.draw_network`: each node
  shows its value and, in purple, the slope of the loss at its output.
- Hovering a weight (an edge, or its label) shows its three factors, its
  slope and its update: the very text :meth:`slopes.Trace.explain` gives.
  Clicking an edge pins its explanation below the drawing. With ``step=``
  (the penalty and clipping of a training step), a penalized weight's slope
  shows as the data's part plus the penalty's, and the update as the clipped
  one, as ``Trace.explain`` words them.
- However crowded the drawing, every weight has a place of its own to point
  at: each edge comes into its node along a short level stretch, 8 px from
  the next one (the nearest edge to the pointer wins); a column whose nodes
  take more than 10 edges each spaces its nodes further apart, so the
  drawing grows taller (the page scrolls), never narrower.
- A slider scrubs through the epochs of training: the weights, the node
  values, the slopes and the loss of each epoch. Training records the
  weights with a :class:`slopes.callbacks.WeightSnapshots` callback; big
  networks keep fewer epochs and draw the nodes that matter most. Model
  files written by ``slopes train`` and ``slopes demo`` keep the weights of
  up to 20 epochs (:func:`slopes.callbacks.file_snapshots`), which
  ``slopes explain --html`` scrubs through.
- Without recorded weights there is nothing to scrub: the page says so in
  words where the slider would be.

The page reads a network and its recorded weights; it never trains. The
HTML template is package data (``slopes/templates/page.html``).
"""

from __future__ import annotations

import html
import inspect
import json
import math
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import write_atomic
from .callbacks import History, WeightSnapshots
from .drawn import chosen_nodes, short_number
from .losses import Loss, get_loss
from .network import Network
from .optimizers import OPTIMIZERS, Optimizer
from .plane import plane_view
from .snapshots import WeightSnapshot
from .trace import NodeNames, Trace, UpdateStep, explanation_template, trace_network
from .validation import check_X

__all__ = ["Page", "report", "notebook_html", "PART_NAMES", "NO_EPOCHS", "STALE_TRACE",
           "STEP_SETTINGS"]

#: The numbers of one explanation that change from epoch to epoch, in the order the
#: page stores them for each edge and each epoch.
PART_NAMES = ("weight", "value", "activation_slope", "z", "loss_slope", "input_slope", "slope",
              "change", "sign", "abs_change", "new", "data_slope", "training", "step_slope")
_STATIC_PARTS = ("what", "where", "source", "target", "activation", "loss", "fused",
                 "learning_rate", "optimizer")
#: The settings of a training step ``report(..., step=)`` passes to every trace it makes.
STEP_SETTINGS = ("l1", "l2", "penalize_bias", "clip_norm", "clip_value")
# The most edge-epochs (drawn edges x epochs shown) a page holds: about 3 MB of HTML.
_EDGE_EPOCH_BUDGET = 30_000
#: What a page without recorded weights says where the slider would be.
#: What a notebook shows above the page of a network whose weights changed after its trace.
STALE_TRACE = ("This is the page of the network's latest trace (net.last_trace); its weights "
               "have changed since (training?), so the page shows the weights of that trace. "
               "Trace it again to see the weights it has now.")
NO_EPOCHS = ("No weights per epoch were given (record them during training with the "
             "WeightSnapshots callback and pass it to slopes.report), so there are no epochs to "
             "scrub through: the page shows one set of weights.")


@dataclass
class Page:
    """An interactive page: ``html`` is the whole self-contained file.

    ``page.write("page.html")`` saves it; in Jupyter the page shows inline.
    """

    html: str
    path: Path | None = None

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to ``path`` (atomically: no partial file on failure)."""
        self.path = write_atomic(path, self.html.encode("utf-8"))
        return self.path

    def _repr_html_(self) -> str:
        return notebook_html(self)

    def __repr__(self) -> str:
        where = f", written to {self.path}" if self.path else ""
        return f"Page({len(self.html):,} characters{where})"


def report(
    net: Network,
    X: object,
    y: object,
    path: str | os.PathLike[str] | None = None,
    *,
    history: History | WeightSnapshots | dict[str, list[float]] | None = None,
    snapshots: WeightSnapshots | list[WeightSnapshot] | None = None,
    row: int = 0,
    loss: str | Loss | None = None,
    optimizer: str | Optimizer | None = None,
    learning_rate: float | None = None,
    input_names: list[str] | None = None,
    output_names: list[str] | None = None,
    title: str | None = None,
    max_nodes: int = 10,
    max_epochs: int = 101,
    nodes: dict[int, list[int]] | None = None,
    no_epochs: str | None = None,
    final_label: str | None = None,
    row_name: str | None = None,
    final_epoch: int | None = None,
    plane: bool = True,
    step: dict[str, Any] | None = None,
) -> Page:
    """Write the interactive page of ``net`` on row ``row`` of ``(X, y)``.

    The page draws the network traced on that row, explains every weight
    on hover exactly as :meth:`slopes.Trace.explain` does, and, given the
    weights recorded during training, lets a slider scrub through the
    epochs. With more rows in ``X``, each epoch also shows the loss over
    all of them.

    Parameters
    ----------
    net : Network
        Its current weights are the last epoch shown.
    X : array (n_samples, n_features)
    y : array (n_samples, n_outputs) or (n_samples,)
    path : path, optional
        Where to write the HTML file.
    history : History, WeightSnapshots or dict of lists, optional
        What ``fit`` returned (the loss per epoch, drawn as a curve), or
        the :class:`~slopes.callbacks.WeightSnapshots` callback given to
        ``fit``, which knows both its history and the weights it recorded.
    snapshots : WeightSnapshots or list of WeightSnapshot, optional
        The weights recorded during training, when ``history`` is not the
        callback itself. Without them the page shows the current weights.
    row : int
        The row of ``X`` drawn and explained.
    loss : str or Loss, optional
        Default: the loss of the training run in ``history``, else ``"mse"``.
    optimizer, learning_rate : optional
        The update each explanation shows (see :meth:`slopes.Trace.updates`).
        Default: the optimizer and settings of the training run in
        ``history`` (its first step), else gradient descent at 0.01.
    input_names, output_names : list of str, optional
        Feature names and class names for the drawing and the explanations.
    title : str, optional
    max_nodes : int >= 2
        A column with more nodes draws the ``max_nodes - 1`` whose slopes
        are largest at the last epoch (as :func:`slopes.plot.draw_network`).
    max_epochs : int >= 2
        The most epochs the slider holds (spread evenly, the first and last
        always kept); big networks get fewer, so the file stays a few MB.
    nodes : dict of int to list of int, optional
        The nodes to draw in some columns, as in :func:`slopes.plot.draw_network`.
    no_epochs : str, optional
        What the page says instead of showing a slider when there is only
        one set of weights to show (default: :data:`NO_EPOCHS`).
    final_label : str, optional
        The slider's name for ``net``'s own weights when they differ from
        the last snapshot (default: "the network's weights now").
    row_name : str, optional
        What the page calls the row it explains (default: ``"Row <row>"``),
        say ``"Row 3 of data.csv"`` when ``X`` holds that one row.
    final_epoch : int, optional
        The epoch (numbered from 1, as the logs number them) whose weights
        ``net`` holds when they are not the last recorded ones (early stopping
        put the best epoch's weights back): the loss curve marks it on the
        slider's last frame.
    plane : bool
        Show the plane view (:mod:`slopes.plane`): each drawn hidden and output
        node's value over the plane of two inputs, with the rows of ``X``.
    step : dict, optional
        The settings of the training step each epoch's trace shows, as
        :meth:`slopes.Network.trace` takes them: ``l1``, ``l2``,
        ``penalize_bias``, ``clip_norm``, ``clip_value``. A penalized weight's
        explanation then gives its slope as the data's part plus the penalty's,
        and the update as the clipped one, as :meth:`slopes.Trace.explain` of
        that trace words it.

    Returns
    -------
    Page
        ``page.html`` is the file's text; ``page.path`` where it was written.
    """
    if not isinstance(net, Network):
        raise TypeError(f"report needs a Network, got {type(net).__name__}")
    for name, value, low in (("max_nodes", max_nodes, 2), ("max_epochs", max_epochs, 2)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    if isinstance(history, WeightSnapshots):
        snapshots = snapshots if snapshots is not None else history
        history = history.history
    params = dict(getattr(history, "params", {}) or {})
    loss_fn = get_loss(loss if loss is not None else params.get("loss", "mse"))
    if optimizer is None and learning_rate is None and params.get("optimizer"):
        optimizer = _optimizer_from(params)
    update = UpdateStep.choose(learning_rate, optimizer)
    settings = _step_settings(step)
    names = NodeNames(input_names, output_names, net)
    x_all, y_all = _rows(net, X, y, loss_fn)
    if isinstance(row, bool) or not isinstance(row, (int, np.integer)) \
            or not 0 <= row < len(x_all):
        raise IndexError(f"row = {row!r} is out of range: X has {len(x_all)} row(s), so valid "
                         f"rows are 0..{len(x_all) - 1}")
    x_row, y_row = x_all[row:row + 1], y_all[row:row + 1]

    frames = _frames(net, snapshots, final_label)
    # trace_network, not net.trace: the page leaves the network's last_trace as it was.
    final = trace_network(net, x_row, y_row, loss=loss_fn, **settings)
    shown = chosen_nodes(net, final, [layer.weights for layer in net.layers], max_nodes,
                         nodes)
    edges = [(k, i, j) for k in range(len(net.layers))
             for j in shown[k + 1] for i in shown[k]]
    edges += [(k, "bias", j) for k, layer in enumerate(net.layers) if layer.has_bias
              for j in shown[k + 1]]
    budget = max(2, min(max_epochs, _EDGE_EPOCH_BUDGET // max(1, len(edges))))
    frames = _spread(frames, budget)

    data = _page_data(net, frames, x_row, y_row, x_all, y_all, loss_fn, update, names, shown,
                      edges, history, row, title, settings)
    for column, why in zip(data["columns"], _why_drawn(net, final, shown, nodes, names),
                           strict=True):
        column["why"] = why
    data["final_epoch"] = None if final_epoch is None else int(final_epoch)
    data["plane"] = (plane_view(net, [f[2] for f in frames], final, x_row, x_all, y_all, shown,
                                names.inputs) if plane else None)
    data["no_epochs"] = NO_EPOCHS if no_epochs is None else str(no_epochs)
    data["row_name"] = f"Row {row}" if row_name is None else str(row_name)
    page = Page(_fill_template(data, title or "slopes: a network, its values and slopes"))
    if path is not None:
        page.write(path)
    return page


# ---------------------------------------------------------------- the numbers
def _step_settings(step: object) -> dict[str, Any]:
    """``report``'s ``step``, checked: a mapping with only keys ``Network.trace`` takes."""
    if step is None:
        return {}
    if not isinstance(step, dict):
        raise TypeError(f"step must be a dict of training-step settings "
                        f"({', '.join(STEP_SETTINGS)}), got {type(step).__name__}")
    unknown = sorted(str(k) for k in step if k not in STEP_SETTINGS)
    if unknown:
        raise ValueError(f"step has unknown setting(s) {', '.join(unknown)}; known: "
                         f"{', '.join(STEP_SETTINGS)}")
    return dict(step)


def _optimizer_from(params: dict[str, Any]) -> Optimizer:
    """A fresh optimizer of the kind and settings a training run used."""
    cls = OPTIMIZERS.get(str(params["optimizer"]).lower())
    if cls is None:
        raise ValueError(f"unknown optimizer {params['optimizer']!r} in the training settings; "
                         f"known: {', '.join(OPTIMIZERS)}")
    accepted = inspect.signature(cls).parameters
    return cls(**{k: v for k, v in params.items() if k in accepted and v is not None})


def _rows(net: Network, X: object, y: object, loss_fn: Loss) -> tuple[np.ndarray, np.ndarray]:
    x, _ = check_X(X, net.n_inputs, net.dtype)
    actual = np.asarray(y)
    if actual.ndim == 0:
        actual = actual.reshape(1)
    if len(actual) != len(x):
        raise ValueError(f"X has {len(x)} row(s) but y has {len(actual)}; expected one target "
                         "per row")
    net.check_targets(actual, len(x), loss_fn)  # a clear error now, not in the middle
    return x, actual


def _frames(net: Network, snapshots: Any,
            final_label: str | None = None) -> list[tuple[str, int | None, Network]]:
    """(label, epoch shown as in the logs or None, network with those weights) per epoch."""
    recorded = getattr(snapshots, "snapshots", snapshots) or []
    planned = None
    training = getattr(snapshots, "training", None)
    if training is not None:
        planned = training.epochs
    frames = []
    for snap in recorded:
        copy = net.copy()
        for layer, w, b in zip(copy.layers, snap.weights, snap.biases, strict=True):
            layer.weights = w
            if b is not None:
                layer.bias = b
        if snap.epoch is None:
            label, shown = "before training", 0
        else:
            shown = snap.epoch + 1
            label = f"epoch {shown}" + (f" of {planned}" if planned else "")
        frames.append((label, shown, copy))
    if not frames or not all(np.array_equal(a, b) for a, b in
                             zip(frames[-1][2].parameters(), net.parameters(), strict=True)):
        label = "the network's weights now" if frames else "the network's weights"
        if final_label is not None:
            label = str(final_label)
        frames.append((label, None, net.copy()))
    return frames


def _spread(frames: list, budget: int) -> list:
    """At most ``budget`` frames, evenly spread, the first and the last always kept."""
    if len(frames) <= budget:
        return frames
    picks = np.unique(np.round(np.linspace(0, len(frames) - 1, budget)).astype(int))
    return [frames[k] for k in picks]


def _named(values: np.ndarray, names: list[str] | None) -> str:
    """``"name 0.97"`` for each output value (or the bare values without names)."""
    if names is None:
        return ", ".join(short_number(v) for v in values)
    return ", ".join(f"{name} {short_number(v)}" for name, v in zip(names, values, strict=True))


def _page_data(net: Network, frames: list, x_row: np.ndarray, y_row: np.ndarray,
               x_all: np.ndarray, y_all: np.ndarray, loss_fn: Loss, step: UpdateStep,
               names: NodeNames, shown: list[list[int]], edges: list[tuple[int, Any, int]],
               history: Any, row: int, title: str | None,
               settings: dict[str, Any]) -> dict[str, Any]:
    n_layers = len(net.layers)
    last_trace: Trace | None = None
    frame_data = []
    for label, epoch, frame_net in frames:
        trace = trace_network(frame_net, x_row, y_row, loss=loss_fn, **settings)
        last_trace = trace
        changes = trace.changes(step)
        parts = []
        for k, i, j in edges:
            f = trace.factors(k, i, j)
            change = changes[k][1 if i == "bias" else 0]
            every = trace.explanation_parts(f, names, step, change)
            parts.append([every[p] for p in PART_NAMES])
        entry = {
            "label": label,
            "epoch": epoch,
            "values": [[short_number(trace.node_values[level][0, n]) for n in shown[level]]
                       for level in range(n_layers + 1)],
            "slopes": [[short_number(trace.node_slopes[level][0, n]) for n in shown[level]]
                       for level in range(n_layers + 1)],
            "weights": [_finite(_edge_weight(trace, e)) for e in edges],
            "parts": parts,
            "prediction": _named(trace.predictions[0], names.outputs),
            "predicted": [short_number(v) for v in trace.predictions[0]],
            "loss": f"{trace.loss:.6g}",
            "loss_all": (f"{frame_net.evaluate(x_all, y_all, loss=loss_fn):.6g}"
                         if len(x_all) > 1 else None),
        }
        frame_data.append(entry)
    assert last_trace is not None
    static = []
    templates = []
    importance = []
    for k, i, j in edges:
        f = last_trace.factors(k, i, j)
        importance.append(abs(float(f.slope)) if math.isfinite(f.slope) else 0.0)
        zero = np.zeros_like(last_trace.weights[k])
        every = last_trace.explanation_parts(
            f, names, step, zero if i != "bias" else np.zeros(net.layers[k].n_out))
        static.append([every[p] for p in _STATIC_PARTS])
        templates.append(explanation_template(f.fused, i == "bias", step, training=True))
    columns = []
    for level, n in enumerate(net.sizes):
        if level == 0:
            header, node_names = "inputs", names.inputs
        else:
            act = net.layers[level - 1].activation.name
            header = f"output ({act})" if level == n_layers else f"hidden {level} ({act})"
            node_names = names.outputs if level == n_layers else None
        columns.append({
            "header": header, "nodes": shown[level], "hidden": n - len(shown[level]),
            "names": [node_names[m] for m in shown[level]] if node_names else None,
            "bias": level > 0 and net.layers[level - 1].has_bias,
        })
    curves = {}
    values = getattr(history, "history", history)
    if isinstance(values, dict):
        curves = {str(k): [float(v) if math.isfinite(v) else None for v in vals]
                  for k, vals in values.items() if "loss" in str(k) and len(vals)}
    one_each = np.size(y_row[0]) == net.n_outputs
    actual = _named(np.ravel(y_row[0]), names.outputs if one_each else None)
    return {
        "outputs": names.outputs,
        "actual_values": [short_number(v) for v in np.ravel(y_row[0])],
        "actual_is_class": not one_each,
        # The edges from the largest |slope| at the last epoch shown down: labelled first.
        "label_order": sorted(range(len(edges)), key=lambda e: (-importance[e], e)),
        "title": title or "",
        "row": row,
        "n_rows": len(x_all),
        "actual": actual,
        "loss_name": loss_fn.name,
        "step": step.summary,
        "columns": columns,
        "edges": [[k, -1 if i == "bias" else i, j] for k, i, j in edges],
        "edge_slots": [[shown[k + 1].index(j), -1 if i == "bias" else shown[k].index(i)]
                       for k, i, j in edges],
        "part_names": list(PART_NAMES),
        "static_names": list(_STATIC_PARTS),
        "static": static,
        "templates": templates,
        "frames": frame_data,
        "curves": curves,
    }


def _why_drawn(net: Network, final: Trace, shown: list[list[int]],
               nodes: dict[int, list[int]] | None,
               names: NodeNames) -> list[list[str] | None]:
    """How the drawn nodes of each column were chosen: [short caption, sentence] or None.

    A column drawn whole needs none. Otherwise the words name a measure only when
    every node drawn is at least as large by it as every node not drawn: the
    ``|slope|`` of the loss at the node (how :func:`slopes.drawn.chosen_nodes`
    chooses), or, for the inputs, ``|slope x value|`` with the slope of an output's
    value (how ``slopes explain`` chooses them).
    """
    whys: list[list[str] | None] = []
    for level, n in enumerate(net.sizes):
        drawn = shown[level]
        if len(drawn) == n:
            whys.append(None)
            continue
        others = [m for m in range(n) if m not in drawn]
        measures = []
        if level == 0:
            values = final.node_values[0][0]
            for o in range(net.n_outputs):
                output = names.node(len(net.layers), o, len(net.layers))
                measures.append((np.abs(final.prediction_slopes(o)[0] * values),
                                 "|slope x value|",
                                 f"the largest |slope x value| on this row (the slope of "
                                 f"{output}'s value with respect to the input, times the input, "
                                 "as slopes explain ranks inputs)"))
        measures.append((np.abs(final.node_slopes[level][0]), "|slope|",
                         "the largest |slope| of the loss at the node, on this row"))
        why = None
        for size, short, words in measures:
            if np.all(np.isfinite(size)) and size[drawn].min() >= size[others].max():
                why = [short, words]
                break
        what = "inputs" if level == 0 else "nodes"
        if why is None:
            hand = nodes is not None and level in nodes
            whys.append(["not drawn", f"The {len(drawn)} {what} drawn of {n} were "
                         f"{'chosen by hand' if hand else 'chosen by size'}; "
                         f"{len(others)} are not drawn."])
        else:
            whys.append([f"smaller {why[0]}", f"The {len(drawn)} {what} drawn of {n} are those "
                         f"with {why[1]}; the other {len(others)} have a smaller {why[0]}."])
    return whys


def notebook_html(obj: object, height: int = 780) -> str | None:
    """The page of ``obj`` for a notebook cell: an iframe holding the whole page.

    ``obj`` is a :class:`Page`, a :class:`slopes.Trace` (its page), or a
    :class:`slopes.Network`: the page of its latest trace (:attr:`~slopes.Network.last_trace`),
    or None when it has none, so that Jupyter shows the network another way (its drawing).
    When the network's weights changed after that trace (it trained since), a line above
    the page says that the page shows the weights of the trace. The page sits in its own
    document (``srcdoc``), so several pages in one notebook never share ids, styles or
    scripts, and the notebook's styles never reach the page.
    """
    note = ""
    if isinstance(obj, Network):
        trace = obj.last_trace
        if trace is None:
            return None
        if not _traced_weights_are(obj, trace):
            note = f"<p>{html.escape(STALE_TRACE, quote=False)}</p>"
        obj = trace
    if isinstance(obj, Trace):
        obj = obj.to_html()
    if not isinstance(obj, Page):
        raise TypeError(f"notebook_html needs a Page, a Trace or a Network, got "
                        f"{type(obj).__name__}")
    page = obj
    return note + (f'<iframe srcdoc="{html.escape(page.html, quote=True)}" class="slopes-page" '
                   f'title="slopes page" style="width: 100%; height: {int(height)}px; '
                   'border: 1px solid #ddd"></iframe>')


def _traced_weights_are(net: Network, trace: Trace) -> bool:
    """Whether ``net`` still has the weights and biases ``trace`` was taken with."""
    now = [(layer.weights, layer.bias) for layer in net.layers]
    then = list(zip(trace.weights or [], trace.biases or [], strict=False))
    return len(now) == len(then) and all(
        np.array_equal(w, tw) and (b is None) == (tb is None)
        and (b is None or np.array_equal(b, tb))
        for (w, b), (tw, tb) in zip(now, then, strict=True))


def _finite(x: float) -> float | None:
    """``x`` to 4 digits for the drawing; None (JSON's null) when it is NaN or infinite."""
    return float(f"{x:.4g}") if math.isfinite(x) else None


def _edge_weight(trace: Trace, edge: tuple[int, Any, int]) -> float:
    k, i, j = edge
    if i == "bias":
        return float(trace.biases[k][j])  # type: ignore[index]
    return float(trace.weights[k][i, j])


# Inside <script>, "</script" ends the element and "<!--" (followed by "<script") makes the
# parser swallow the rest of the page; "&" is escaped with them as JSON's and HTML's own
# guides do. "<", ">" and "&" are never JSON syntax, so every one is inside a string, where
# "\\u003c" is the same character.
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})
_PLACEHOLDER = re.compile(r"\{\{(TITLE|DATA)\}\}")


def _script_json(data: Any) -> str:
    """``data`` as JSON that can sit as it is inside an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` become ``\\u003c``, ``\\u003e`` and ``\\u0026``: no string in
    ``data`` can end the element or open a comment, and ``json.loads`` gives back the
    same strings.
    """
    return json.dumps(data, separators=(",", ":"), allow_nan=False).translate(_SCRIPT_SAFE)


def _fill_template(data: dict[str, Any], title: str) -> str:
    template = resources.files("slopes").joinpath("templates/page.html").read_text("utf-8")
    fills = {"TITLE": html.escape(title), "DATA": _script_json(data)}
    # One pass: text put in one placeholder (a file named "{{DATA}}.csv" in the title)
    # is never searched for the next placeholder.
    return _PLACEHOLDER.sub(lambda m: fills[m.group(1)], template)
