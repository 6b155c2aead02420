"""Curves of a training run: the loss (and metrics, and the learning rate) per epoch.

:func:`plot_history` draws what ``net.fit`` returns (also reachable as
``slopes.plot.plot_history``); given the loss, its axis names it in words
(:func:`loss_words`: "binary cross-entropy") and the legend says which rows
each curve is on. matplotlib is optional and imported only when a function
here is called.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .figures import new_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .training import History

__all__ = ["plot_history", "loss_words", "LOSS_WORDS"]

#: What each loss is called on a picture's axis.
LOSS_WORDS = {
    "sse": "sum of squared errors (sse)",
    "mse": "mean squared error (mse)",
    "half_mse": "half mean squared error (half_mse, the course's E)",
    "mae": "mean absolute error (mae)",
    "binary_crossentropy": "binary cross-entropy",
    "categorical_crossentropy": "categorical cross-entropy",
}


def loss_words(loss: object) -> str:
    """A loss's name in words, for a picture: ``"binary cross-entropy"``.

    ``loss`` is a loss's name or a :class:`~slopes.losses.Loss`; a loss of
    your own keeps its ``name``.
    """
    name = loss if isinstance(loss, str) else getattr(loss, "name", str(loss))
    return LOSS_WORDS.get(str(name).strip().lower(), str(name))


def plot_history(
    history: History | Mapping[str, Sequence[float]] | Sequence[float],
    metrics: Sequence[str] | None = None,
    log_scale: bool = False,
    ax: Axes | None = None,
    xlabel: str = "epoch",
    lr: bool = False,
    loss: object = None,
    title: str | None = None,
    mark_epoch: int | None = None,
) -> Figure:
    """Plot loss and val_loss (and any metric, and the learning rate) per epoch.

    Each key ``name`` of ``history.history`` is a line; ``val_name`` is drawn
    dashed in the same colour. Without ``ax``, the loss and each other metric
    get their own panel (their scales differ); with ``ax`` everything goes
    on it. Epochs are numbered from 1, as the training logs number them
    (``epoch 1/100``); a plain list is numbered 1, 2, ... too.

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
        ``"epoch"``, or e.g. ``"update"`` for updates counted one by one.
    lr : bool
        Also draw ``lr``, the learning rate of each epoch (:mod:`slopes.schedules`),
        in a panel of its own, or with ``ax`` on a second y axis; so does ``metrics=["lr"]``.
    loss : str or Loss, optional
        The loss the history logged: the losses' y axis names it in words
        (``"binary cross-entropy"``, :func:`loss_words`), and the legend
        says which rows each curve is on (``loss (training rows)``,
        ``val_loss (validation rows)``). Default: the axis reads "loss".
    title : str, optional
        Above the panels (with ``ax``: above ``ax``).
    mark_epoch : int, optional
        An epoch (numbered from 1, as on the x axis) to mark with a dotted
        line, labelled "weights kept: epoch N": the epoch whose weights early
        stopping kept.

    Returns
    -------
    matplotlib.figure.Figure
    """
    data, x = _history_data(history)
    metrics = [metrics] if isinstance(metrics, str) else metrics
    lr = bool(lr) or (metrics is not None and "lr" in metrics)
    if lr and not data.get("lr"):
        raise ValueError("lr=True draws the learning rate a history logs as 'lr', but this one "
                         f"has none; its keys are {sorted(data)}")
    names = [k for k in data if k != "lr" and (not k.startswith("val_") or k[4:] not in data)]
    if metrics is not None:
        metrics = [m for m in metrics if m != "lr"]
        unknown = [m for m in metrics if m not in data]
        if unknown:
            raise ValueError(f"metrics {unknown} are not in the history; "
                             f"its keys are {sorted(data)}")
        names = [m for m in names if m in metrics] + [
            m for m in metrics if m.startswith("val_") and m[4:] in data
            and m[4:] not in metrics]
    if not names and not lr:
        raise ValueError("the history is empty; nothing to plot")
    # Losses share one panel; each other metric, and the learning rate, gets its own.
    losses = [n for n in names if "loss" in n]
    groups = [losses] * bool(losses) + [[n] for n in names if "loss" not in n] + [["lr"]] * lr
    if ax is not None:  # everything on ax; the learning rate on a second y axis at the right
        fig, axes = ax.figure, [ax] * len(groups)
        axes[-1] = ax.twinx() if lr else ax
    else:
        fig = new_figure((6.4, 3.2 * len(groups)), layout="constrained")
        axes = list(np.atleast_1d(fig.subplots(len(groups), 1, sharex=True)))
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
    names = [name for group in groups for name in group]
    for panel, group in zip(axes, groups, strict=True):
        for name in group:
            color = "#555555" if name == "lr" else colors[names.index(name) % len(colors)]
            keys = [name] + ([f"val_{name}"] if f"val_{name}" in data else [])
            for key in keys:
                ys = np.asarray(data[key], dtype=float)
                label = key if loss is None else f"{key} ({_ROWS[key.startswith('val_')]})"
                panel.plot(x[: len(ys)], ys, color=color, label=label,
                           linestyle="--" if key.startswith("val_") else "-",
                           marker="o" if len(ys) <= 25 else None, markersize=3)
        ylabel = {"lr": "learning rate"}.get(group[0], group[0]) if len(group) == 1 else "value"
        if loss is not None and group is losses:
            ylabel = f"loss: {loss_words(loss)}"
        panel.set_ylabel(ylabel)
        if log_scale and (ax is not None or "loss" in group[0]) and group != ["lr"]:
            panel.set_yscale("log")
        panel.grid(True, alpha=0.3)
    if mark_epoch is not None:
        marked = [p for p, g in zip(axes, groups, strict=True) if g != ["lr"]]
        for panel in dict.fromkeys(marked):
            panel.axvline(mark_epoch, color="#555555", linestyle=":", linewidth=1.2,
                          label=f"weights kept: epoch {mark_epoch}")
    for panel in axes if ax is None else []:
        panel.legend(fontsize=8)
    if ax is not None:  # one legend for the lines of both y axes
        axes[-1].legend(handles=[h for a in dict.fromkeys(axes)
                                 for h in a.get_legend_handles_labels()[0]], fontsize=8)
    bottom = axes[-1] if ax is None else ax
    bottom.set_xlabel(xlabel)
    if title:
        if ax is None:
            fig.suptitle(title, fontsize=11)
        else:
            ax.set_title(title, fontsize=11)
    from matplotlib.ticker import MaxNLocator

    bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


_ROWS = {False: "training rows", True: "validation rows"}


def _history_data(history: object) -> tuple[dict[str, list[float]], np.ndarray]:
    """The curves to draw and their x values: epochs counted from 1, as the logs count them."""
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
        x = np.asarray(epoch) + 1  # History counts epochs from 0; the logs print epoch 1/N
    else:
        x = np.arange(1, longest + 1)
    return data, x
