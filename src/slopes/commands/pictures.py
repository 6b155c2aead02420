"""The pictures ``slopes train`` and ``slopes demo`` write, and the row they trace.

- ``loss.png``: the loss per epoch. Its axis names the loss in words
  ("binary cross-entropy"), the legend says which rows each curve is on
  (training, validation), and the epoch whose weights early stopping kept is
  marked.
- ``network.png``: the network with its input nodes named (the columns, a
  one-hot category as ``rank=2``) and its output nodes (``admit=1``, or the
  target), one row traced through it: **the held-out row with the largest
  loss**. On a row the model already gets right with confidence every slope
  is 1e-7 or smaller and shows nothing; the row it gets most wrong has the
  largest slopes, the ones the next training steps would follow. The picture
  says which row (its number in the data file, as ``slopes explain --row N``
  takes it) and why that one. With no held-out row (``--test-size 0``) it
  traces the training row with the largest loss, and says so.

A network of more than 10 inputs shows the 9 that moved the traced row's
prediction most (``|slope x value|``, as ``slopes explain`` ranks them) and
how many more there are.

:func:`row_losses` gives each row's own loss, and :class:`HardestRow` keeps
the row with the largest one, over all the held-out rows at once or over a
stream's chunks one by one.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..losses import LOSSES, Loss, get_loss
from ..network import Network
from ..plot import draw_network, figure_to_png, loss_words, plot_history, unmanaged_figures
from ..validation import check_X
from .outputs import OutputFiles

__all__ = ["row_losses", "HardestRow", "TracedRow", "input_ranking", "output_names",
           "followed_output", "drawn_inputs", "traced_words", "pictures", "SHOWN_INPUTS"]

#: A network with more inputs than this shows only ``SHOWN_INPUTS - 1`` of them.
SHOWN_INPUTS = 10


# ------------------------------------------------------------------ row losses
def row_losses(net: Network, X: object, y: object, loss: str | Loss) -> np.ndarray:
    """The loss of each row alone, ``(n_rows,)``: row ``i``'s ``net.evaluate(X[i:i+1], y[i:i+1])``.

    One forward pass for all rows. With the error ``e = p - y`` of the ``k``
    outputs of a row, and its logits ``z`` (the output layer's input):

    - ``sse``: ``sum_j e_j^2``; ``mse``: ``sum_j e_j^2 / k``;
      ``half_mse``: ``sum_j e_j^2 / 2``; ``mae``: ``sum_j |e_j| / k``;
    - ``binary_crossentropy``: ``(1/k) sum_j log(1 + exp(-z_j)) + z_j (1 - y_j)``;
    - ``categorical_crossentropy``: ``sum_j y_j (logsumexp(z) - z_j)``.

    Another :class:`~slopes.losses.Loss` is computed row by row.

    Parameters
    ----------
    net : Network
    X : array (n_rows, n_features)
    y : array (n_rows,) or (n_rows, n_outputs)
        As ``net.fit`` takes it (class indices for a softmax output).
    loss : str or Loss

    Returns
    -------
    ndarray (n_rows,), float64
    """
    loss_fn = get_loss(loss)
    net.check_loss_fits(loss_fn)
    if np.ndim(X) == 2 and np.shape(X)[0] == 0:
        return np.zeros(0)
    x, _ = check_X(X, net.n_inputs, net.dtype)
    actual = net.check_targets(y, x.shape[0], loss_fn)
    zs, values = net.forward(x)
    z, p = zs[-1], values[-1]
    if type(loss_fn) is not LOSSES.get(loss_fn.name):  # a loss of the user's own
        return np.array([net.loss_value(loss_fn, z[i:i + 1], p[i:i + 1], actual[i:i + 1])
                         for i in range(x.shape[0])])
    z64, a = z.astype(np.float64), actual.astype(np.float64)
    error = p.astype(np.float64) - a
    name = loss_fn.name
    if name == "sse":
        return np.square(error).sum(axis=1)
    if name == "mse":
        return np.square(error).mean(axis=1)
    if name == "half_mse":
        return np.square(error).sum(axis=1) / 2
    if name == "mae":
        return np.abs(error).mean(axis=1)
    if name == "binary_crossentropy":
        return (np.logaddexp(0.0, -z64) + z64 * (1 - a)).mean(axis=1)
    top = z64.max(axis=1, keepdims=True)  # categorical_crossentropy
    log_sum = top + np.log(np.exp(z64 - top).sum(axis=1, keepdims=True))
    return (a * (log_sum - z64)).sum(axis=1)


@dataclass
class TracedRow:
    """One row of the data, picked to be traced, and why.

    Attributes
    ----------
    x : array (1, n_features)
        The row as the network takes it (preprocessed).
    y : array (1,) or (1, n_outputs)
        Its target as the network trains on it.
    row : int
        Its number in the data file (0 is the first line after the header).
    loss : float
        Its loss alone (:func:`row_losses`).
    rows : int
        How many rows it was picked from.
    part : str
        Which rows those were: ``"held-out"`` or ``"training"``.
    """

    x: np.ndarray
    y: np.ndarray
    row: int
    loss: float
    rows: int
    part: str


class HardestRow:
    """The row with the largest loss of all the rows :meth:`add`-ed, batch after batch.

    A NaN loss counts as the smallest; among equal losses the first row added
    is kept.

    Parameters
    ----------
    net : Network
    loss : str or Loss
    part : str
        Which rows these are, for the picture: ``"held-out"`` or ``"training"``.
    """

    def __init__(self, net: Network, loss: str | Loss, part: str = "held-out") -> None:
        self.net = net
        self.loss = loss
        self.part = part
        self.rows = 0
        self.best: TracedRow | None = None

    def add(self, X: np.ndarray, y: np.ndarray, rows: Sequence[Any]) -> None:
        """Rows ``X`` ``(n, n_features)``, their targets ``y`` and row numbers ``rows`` ``(n,)``."""
        n = len(X)
        if n != len(rows):
            raise ValueError(f"rows has {len(rows)} row numbers for {n} rows of X")
        if n == 0:
            return
        losses = row_losses(self.net, X, y, self.loss)
        losses = np.where(np.isnan(losses), -np.inf, losses)
        i = int(np.argmax(losses))
        self.rows += n
        if self.best is None or losses[i] > self.best.loss:
            self.best = TracedRow(x=np.asarray(X[i:i + 1]).copy(), y=np.asarray(y[i:i + 1]).copy(),
                                  row=int(rows[i]), loss=float(losses[i]), rows=self.rows,
                                  part=self.part)
        self.best.rows = self.rows


# ---------------------------------------------------------------- names, inputs
def output_names(prep: Any, n_outputs: int) -> tuple[list[str], int, str]:
    """The output nodes' names, the node an input ranking follows, and what its value is.

    The node is ``-1`` for a softmax output: the predicted class, known once
    a row is traced (:func:`followed_output`). ``prep`` is the model's
    :class:`~slopes.preprocessing.TabularPreprocessor`.
    """
    target = prep.target or "target"
    if prep.task != "classify":
        return [target], 0, f"the predicted {target} (in standardized units)"
    classes = [str(c) for c in prep.classes]
    if n_outputs == 1:  # a sigmoid output: the probability of the second class
        return [f"{target}={classes[1]}"], 0, f"the probability of {target} = {classes[1]}"
    return [f"{target}={c}" for c in classes], -1, ""


def followed_output(prep: Any, trace: Any) -> tuple[int, str]:
    """The output node the input ranking of a one-row trace follows, and what it is in words.

    The predicted class's node for a softmax output; the one output otherwise.
    """
    _, followed, words = output_names(prep, trace.network.n_outputs)
    if followed < 0:
        followed = int(np.argmax(trace.predictions[0]))
        words = f"the probability of {prep.target} = {prep.classes[followed]}"
    return followed, words


def input_ranking(trace: Any, output: int, names: list[str]) -> list[dict[str, Any]]:
    """The inputs of a one-row trace, ranked by ``|slope x value|`` (largest first).

    ``slope`` is the slope of output node ``output`` with respect to the input
    (:meth:`slopes.Trace.prediction_slopes`); ``effect = slope x value``.
    """
    slopes = trace.prediction_slopes(output)[0]
    values = trace.node_values[0][0]
    rows = [{"input": names[i], "index": i, "value": float(values[i]),
             "slope": float(slopes[i]), "effect": float(slopes[i] * values[i])}
            for i in range(len(names))]
    return sorted(rows, key=lambda r: (-abs(r["effect"]), -abs(r["slope"]), r["index"]))


def drawn_inputs(ranking: list[dict[str, Any]]
                 ) -> tuple[dict[int, list[int]] | None, dict[int, str] | None]:
    """The input nodes a picture shows, for ``draw_network(nodes=..., left_out_why=...)``.

    All of them up to :data:`SHOWN_INPUTS`; beyond, the ``SHOWN_INPUTS - 1``
    first of ``ranking`` (:func:`input_ranking`), in their order in the
    network, and the words for the others.
    """
    if len(ranking) <= SHOWN_INPUTS:
        return None, None
    return ({0: sorted(r["index"] for r in ranking[:SHOWN_INPUTS - 1])},
            {0: "moved the prediction less"})


# --------------------------------------------------------------------- words
def traced_words(traced: TracedRow, source: str, loss: str | Loss,
                 explain: str | None = None, no_held_out: str = "") -> tuple[str, str]:
    """The title and the note of ``network.png``: which row is traced, and why that one.

    Parameters
    ----------
    traced : TracedRow
    source : str
        The data, as the picture names it (``"admissions.csv"``).
    loss : str or Loss
    explain : str, optional
        The ``slopes explain`` command that explains this row in full.
    no_held_out : str
        For a training row: why there was no held-out row to trace.
    """
    what = f"{traced.loss:.3g} ({loss_words(loss)})"
    title = f"{source}, row {traced.row}: the {traced.part} row with the largest loss"
    if traced.part == "held-out":
        note = (f"Traced: row {traced.row}, the row with the largest loss of the {traced.rows} "
                f"rows held out for testing, which the model never trained on: {what}. The "
                "model gets this row most wrong, so its slopes are the largest; on a row it "
                "already gets right they are all near 0.")
    else:
        why = f" ({no_held_out})" if no_held_out else ""
        note = (f"There is no held-out row{why}, so this traces instead row {traced.row}, the "
                f"row with the largest loss of the {traced.rows} training rows: {what}. The "
                "model gets this row most wrong, so its slopes are the largest.")
    note += (" Rows count from 0, the first line after the header"
             + (f"; {explain} explains this one in full." if explain else "."))
    return title, note


# ------------------------------------------------------------------- pictures
def pictures(out: OutputFiles, net: Network, history: Any, loss: str, traced: TracedRow | None,
             prep: Any, source: str, explain: tuple[Any, Any] | None = None,
             best_epoch: int | None = None, no_held_out: str = "") -> None:
    """Add ``loss.png`` and ``network.png`` (``traced`` traced through ``net``) to ``out``.

    ``prep`` (the model's preprocessor) names the inputs and outputs;
    ``source`` names the data; ``explain``, the model's folder and the data
    file as given on the command line, makes the ``slopes explain`` command
    the picture suggests; ``best_epoch`` (counted from 0, as ``EarlyStopping.best_epoch``) is marked
    on the loss curve as the epoch whose weights are kept. A run stopped
    (Ctrl-C) before its first epoch ended has no loss to draw: it gets no
    ``loss.png``. Without a row to trace there is no ``network.png``.
    """
    with unmanaged_figures():
        if len(getattr(history, "epoch", []) or []):
            scaled = " (the target standardized)" if prep.task == "regress" else ""
            figure = plot_history(history, loss=loss,
                                  title=f"{source}: the loss per epoch{scaled}",
                                  mark_epoch=None if best_epoch is None else best_epoch + 1)
            out.add("loss.png", figure_to_png(figure))
        if traced is None:
            return
        trace = net.trace(traced.x, traced.y, loss=loss)
        names = list(prep.feature_names)
        outputs = output_names(prep, net.n_outputs)[0]
        nodes, why = drawn_inputs(input_ranking(trace, followed_output(prep, trace)[0],
                                                     names))
        command = None if explain is None else " ".join(
            ["slopes", "explain", *(shlex.quote(str(p)) for p in explain), "--row",
             str(traced.row)])
        title, note = traced_words(traced, source, loss, command, no_held_out)
        if prep.task == "regress":
            note += (f" {prep.target} is drawn in standardized units (0: the training rows' "
                     "mean), as the network predicts it.")
        figure = draw_network(trace, title=title, note=note, input_names=names,
                              output_names=outputs, nodes=nodes, left_out_why=why)
        out.add("network.png", figure_to_png(figure))
