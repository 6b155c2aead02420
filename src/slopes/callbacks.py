"""Callbacks: code that runs at fixed points of ``fit``, and can stop it.

``fit`` calls, on every callback, in order::

    on_train_begin(logs)
    for each epoch:  on_epoch_begin(epoch, logs)
                     for each batch: on_batch_end(batch, logs)
                     on_epoch_end(epoch, logs)      # logs: loss, val_loss, metrics
    on_train_end(logs)

A callback reaches the network being trained as ``self.network``, the
optimizer as ``self.training.optimizer`` (a learning-rate schedule sets its
``learning_rate``: see :mod:`slopes.schedules`), and stops training by
setting ``self.training.stop_training = True``.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from .snapshots import WeightSnapshot
from .validation import short_repr

if TYPE_CHECKING:
    from .network import Network
    from .optimizers import Optimizer

__all__ = ["History", "TrainingRun", "Callback", "EarlyStopping", "LossMonitor", "ProgressBar",
           "ProgressLog", "WeightSnapshots", "FileSnapshots", "file_snapshots",
           "FILE_SNAPSHOTS", "FILE_SNAPSHOT_BYTES", "check_callbacks"]

#: The most weight snapshots ``slopes train`` and ``slopes demo`` keep in a model file,
#: the weights before training and after the last epoch run included.
FILE_SNAPSHOTS = 20
#: The most bytes those snapshots add to a model file (all of them together).
FILE_SNAPSHOT_BYTES = 8_000_000

Logs = dict[str, Any]


@dataclass
class History:
    """What happened during ``fit``, like Keras' ``History``.

    Attributes
    ----------
    history : dict of str to list of float
        Per-epoch values: ``loss`` (the mean of the batch losses seen during
        the epoch, each measured before its batch's update, weighted by batch
        size, as Keras reports it), ``val_loss`` when there is validation
        data, each metric with its ``val_`` twin, and ``lr``: the learning
        rate the epoch trained with (the optimizer's, or the one a schedule
        of :mod:`slopes.schedules` set for that epoch), with or without a
        schedule.
    epoch : list of int
        The epochs run, counted from 0.
    params : dict
        The training settings (loss, optimizer, epochs, batch size, seed...).
    interrupted : bool
        True when Ctrl-C stopped training early.
    """

    history: dict[str, list[float]] = field(default_factory=dict)
    epoch: list[int] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def plot(self, **kwargs: Any):  # -> matplotlib Figure
        """Draw the loss (and val_loss, metrics; ``lr=True``: the learning rate) per epoch.

        See :func:`slopes.plot.plot_history`.
        """
        from .plot import plot_history

        return plot_history(self, **kwargs)

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        return f"History({len(self.epoch)} epochs{', ' + last if last else ''})"


@dataclass
class TrainingRun:
    """The state of one ``fit`` call that callbacks can see and change.

    ``optimizer`` is the fit's optimizer (None only for a run made by hand):
    its ``learning_rate`` is read at every step, so a callback that sets it
    in ``on_epoch_begin`` sets the rate of that epoch.
    """

    network: Network
    epochs: int
    history: History
    stop_training: bool = False
    interrupted: bool = False
    optimizer: Optimizer | None = None


class Callback:
    """Base class: override the hooks you need; each does nothing by default."""

    training: TrainingRun

    def set_training(self, training: TrainingRun) -> None:
        self.training = training

    @property
    def network(self):  # -> Network
        return self.training.network

    def on_train_begin(self, logs: Logs) -> None:
        """Before the first epoch."""

    def on_train_end(self, logs: Logs) -> None:
        """After the last epoch (also when a callback or Ctrl-C stopped training)."""

    def on_epoch_begin(self, epoch: int, logs: Logs) -> None:
        """Before epoch ``epoch`` (counted from 0)."""

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        """After epoch ``epoch``; ``logs`` holds that epoch's loss, val_loss and metrics."""

    def on_batch_end(self, batch: int, logs: Logs) -> None:
        """After the update of batch ``batch``; ``logs`` holds ``loss`` and ``size``."""


class EarlyStopping(Callback):
    """Stop when ``monitor`` stops improving, and go back to the best weights.

    An epoch improves on the best so far when ``value < best - min_delta``
    (``>`` for metrics that grow, like accuracy). After ``patience`` epochs
    without improvement training stops. With ``restore_best_weights`` the
    best weights come back at the end of training, whether the stop
    triggered or the epochs ran out. A NaN is never an improvement.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 10, min_delta: float = 0.0,
                 restore_best_weights: bool = True, mode: str = "auto") -> None:
        if not isinstance(monitor, str) or not monitor.strip():
            # 5 would reach monitor.removeprefix below, an AttributeError of no help.
            error = TypeError if not isinstance(monitor, str) else ValueError
            raise error(
                "monitor must be the name of a value fit reports, like 'val_loss', 'loss' or "
                f"'val_accuracy', got {monitor!r} ({type(monitor).__name__})"
            )
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"patience must be an int >= 0, got {patience!r}")
        if not isinstance(min_delta, (int, float)) or min_delta < 0 or math.isnan(min_delta):
            raise ValueError(f"min_delta must be >= 0, got {min_delta!r}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.monitor = monitor
        self.patience = patience
        self.min_delta = float(min_delta)
        self.restore_best_weights = restore_best_weights
        if mode == "auto":
            mode = "max" if monitor.removeprefix("val_") == "accuracy" else "min"
        self.mode = mode

    def on_train_begin(self, logs: Logs) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.best_weights: list[np.ndarray] | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None

    def _improved(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        if self.monitor not in logs:
            raise ValueError(
                f"EarlyStopping monitors {self.monitor!r}, but fit reports only "
                f"{', '.join(sorted(k for k in logs if not k.startswith('_')))}; pass "
                "validation_data or validation_split for val_ values, or change monitor"
            )
        value = float(logs[self.monitor])
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = [p.copy() for p in self.network.parameters()]
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.training.stop_training = True

    def on_train_end(self, logs: Logs) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            for p, best in zip(self.network.parameters(), self.best_weights, strict=True):
                p[...] = best


class LossMonitor(Callback):
    """The course's monitor: print the loss at every tenth of the epochs.

    Prints ``Train loss: <loss>`` (and ``Validation loss`` when there is one),
    adding ``WARNING - Loss Increasing`` when the loss went up since the last
    line printed, as the course's training loops do.

    ``monitor`` follows another value of the logs instead: ``"val_loss"``
    (printed as ``Validation loss``) or a metric such as ``"accuracy"``
    (printed as ``Train accuracy``, next to ``Validation accuracy``). For a
    value that should grow (accuracy, r2) the warning says ``Accuracy
    Decreasing`` when it went down.
    """

    def __init__(self, every: int | None = None, monitor: str = "loss",
                 file: IO[str] | None = None) -> None:
        if every is not None and (isinstance(every, bool) or not isinstance(every, int)
                                  or every < 1):
            raise ValueError(f"every must be an int >= 1 or None, got {every!r}")
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(f"monitor must be the name of a logged value such as 'loss', "
                             f"'val_loss' or 'accuracy', got {monitor!r}")
        self.every = every
        self.monitor = monitor
        self.file = file
        base = monitor[4:] if monitor.startswith("val_") else monitor
        self._higher_is_better = "acc" in base or base == "r2"
        words = base.replace("_", " ")
        self._label = f"{'Validation' if monitor.startswith('val_') else 'Train'} {words}"
        self._companion = None if monitor.startswith("val_") else f"val_{monitor}"
        self._companion_label = f"Validation {words}"
        change = "Decreasing" if self._higher_is_better else "Increasing"
        self._warning = f"WARNING - {words[:1].upper()}{words[1:]} {change}"

    def on_train_begin(self, logs: Logs) -> None:
        self.last: float | None = None
        self._every = self.every or max(1, self.training.epochs // 10)

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        if epoch % self._every != 0 and epoch != self.training.epochs - 1:
            return
        if self.monitor not in logs:
            known = ", ".join(repr(k) for k in logs if not k.startswith("_"))
            raise ValueError(f"LossMonitor(monitor={self.monitor!r}): no such value in the "
                             f"logs; this training logs {known}")
        value = float(logs[self.monitor])
        line = f"{self._label}: {value:.6f}"
        if self._companion in logs:
            line += f"  {self._companion_label}: {float(logs[self._companion]):.6f}"
        if self.last is not None and (value < self.last if self._higher_is_better
                                      else value > self.last):
            line += f"  {self._warning}"
        self.last = value
        print(line, file=self.file or sys.stdout, flush=True)


def _format_logs(logs: Logs) -> str:
    # A learning rate such as 1e-05 would print as 0.0000 with 4 decimals.
    return " - ".join(f"{k}: {v:.4g}" if k == "lr" else f"{k}: {v:.4f}"
                      for k, v in logs.items() if not k.startswith("_"))


class ProgressLog(Callback):
    """One plain line every ``every`` epochs: no carriage returns, log files stay readable."""

    def __init__(self, every: int | None = None, file: IO[str] | None = None) -> None:
        self.every = every
        self.file = file

    def on_train_begin(self, logs: Logs) -> None:
        self._every = self.every or max(1, math.ceil(self.training.epochs / 20))
        self._width = len(str(self.training.epochs))

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        n = self.training.epochs
        if (epoch + 1) % self._every == 0 or epoch == n - 1 or epoch == 0:
            print(f"epoch {epoch + 1:>{self._width}}/{n} - {_format_logs(logs)}",
                  file=self.file or sys.stdout, flush=True)


class ProgressBar(Callback):
    """A tqdm progress bar over epochs showing loss and val_loss (for terminals)."""

    def __init__(self, file: IO[str] | None = None) -> None:
        self.file = file
        self.bar = None

    def on_train_begin(self, logs: Logs) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=self.training.epochs, unit="epoch", file=self.file,
                        dynamic_ncols=True, leave=True)

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        shown = {k: f"{v:.4g}" for k, v in logs.items()
                 if k in ("loss", "val_loss") or k.startswith(("accuracy", "val_accuracy"))}
        self.bar.set_postfix(shown, refresh=False)
        self.bar.update(1)

    def on_train_end(self, logs: Logs) -> None:
        self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class WeightSnapshots(Callback):
    """Keep copies of the weights during ``fit``, for the interactive page's epoch slider.

    Records the weights before training and after every ``stride``-th epoch
    (and after the last epoch run), at most about ``max_snapshots`` of them.
    A big network keeps fewer: never more than ``max_values`` numbers in all,
    so memory stays bounded (the stride grows instead). One fit per callback:
    a new fit starts the record afresh.

    When training stops early, the last epoch run is kept as it was;
    :func:`slopes.report` also shows the network's final weights when they
    differ from the last snapshot (the best weights EarlyStopping restored).

    >>> import numpy as np, slopes
    >>> net = slopes.Network.mlp([2, 3, 1], seed=0)
    >>> snapshots = WeightSnapshots(max_snapshots=5)
    >>> history = net.fit(np.ones((4, 2)), np.zeros(4), epochs=20, callbacks=[snapshots],
    ...                   verbose=0)
    >>> [s.epoch for s in snapshots.snapshots]
    [None, 4, 9, 14, 19]
    """

    def __init__(self, max_snapshots: int = 101, max_values: int = 5_000_000) -> None:
        for name, value, low in (("max_snapshots", max_snapshots, 2),
                                 ("max_values", max_values, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        self.max_snapshots = max_snapshots
        self.max_values = max_values
        self.snapshots: list[WeightSnapshot] = []
        self.history: History | None = None
        self.stride = 1

    def _take(self, epoch: int | None) -> WeightSnapshot:
        layers = self.network.layers
        return WeightSnapshot(epoch, [layer.weights.copy() for layer in layers],
                              [None if layer.bias is None else layer.bias.copy()
                               for layer in layers])

    def on_train_begin(self, logs: Logs) -> None:
        self.history = self.training.history
        n_values = max(1, sum(p.size for p in self.network.parameters()))
        keep = max(2, min(self.max_snapshots, self.max_values // n_values))
        self.stride = max(1, math.ceil(self.training.epochs / (keep - 1)))
        self.snapshots = [self._take(None)]
        self._latest: WeightSnapshot | None = None

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        snapshot = self._take(epoch)
        if (epoch + 1) % self.stride == 0 or epoch == self.training.epochs - 1:
            self.snapshots.append(snapshot)
        self._latest = snapshot

    def on_train_end(self, logs: Logs) -> None:
        # Training stopped early (EarlyStopping, Ctrl-C): keep its last epoch too, as it was
        # before any callback put other weights back.
        latest = self._latest
        if latest is not None and self.snapshots[-1].epoch != latest.epoch:
            self.snapshots.append(latest)


class FileSnapshots(WeightSnapshots):
    """:class:`WeightSnapshots` for a model file: evenly spread however early training stops.

    How many epochs will run is not known in advance when EarlyStopping may
    end training, so instead of a stride fixed at the start this records
    every epoch, and whenever the record is full (``keep - 1`` snapshots,
    one place left for the last epoch) it drops every other one and doubles
    the stride. At the end it holds the weights before training, after every
    ``stride``-th epoch (a power of 2) and after the last epoch run: between
    about ``keep / 2`` and ``keep`` snapshots, or every epoch when fewer ran.
    ``keep`` is ``max_snapshots``, lowered so that ``keep`` copies of the
    weights hold at most ``max_values`` numbers (never below 2).

    >>> import numpy as np, slopes
    >>> net = slopes.Network.mlp([2, 3, 1], seed=0)
    >>> snapshots = FileSnapshots(max_snapshots=6)
    >>> _ = net.fit(np.ones((4, 2)), np.zeros(4), epochs=20, callbacks=[snapshots], verbose=0)
    >>> [s.epoch for s in snapshots.snapshots]  # before training, after epochs 8, 16 and 20
    [None, 7, 15, 19]
    """

    def on_train_begin(self, logs: Logs) -> None:
        super().on_train_begin(logs)
        n_values = max(1, sum(p.size for p in self.network.parameters()))
        self.keep = max(2, min(self.max_snapshots, self.max_values // n_values))
        self.stride = 1

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        snapshot = self._take(epoch)
        self._latest = snapshot
        if (epoch + 1) % self.stride:
            return
        self.snapshots.append(snapshot)
        while len(self.snapshots) > self.keep - 1:
            self.stride *= 2
            self.snapshots = [s for s in self.snapshots
                              if s.epoch is None or (s.epoch + 1) % self.stride == 0]


def file_snapshots(net: Network) -> FileSnapshots | None:
    """The callback ``slopes train`` and ``slopes demo`` give ``fit``, for the model file.

    The rule (see :class:`FileSnapshots`): the weights before training, after
    the last epoch run, and after every ``stride``-th epoch between them,
    the stride a power of 2 chosen so that at most :data:`FILE_SNAPSHOTS`
    (20) snapshots are kept, and at most :data:`FILE_SNAPSHOT_BYTES` (8 MB)
    of weights in all (fewer snapshots for a big network). A network so big
    that two copies of its weights exceed 8 MB (a million float64 or two
    million float32 numbers each) gets none: the result is None.

    >>> import slopes
    >>> file_snapshots(slopes.Network.mlp([6, 2, 1])).max_snapshots
    20
    >>> file_snapshots(slopes.Network.mlp([1000, 1000, 1])) is None
    True
    """
    n_values = max(1, sum(p.size for p in net.parameters()))
    budget = FILE_SNAPSHOT_BYTES // net.dtype.itemsize
    if 2 * n_values > budget:
        return None
    return FileSnapshots(max_snapshots=FILE_SNAPSHOTS, max_values=budget)


def check_callbacks(callbacks: object) -> list:
    """``callbacks`` as a list of Callback objects; ``None`` is no callbacks.

    One callback, or a callback class, given where the list goes is the
    common slip, so the message shows how to write the list.
    """
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        cls = type(callbacks).__name__
        raise TypeError(
            f"callbacks must be a list of Callback objects, got one {cls}; "
            f"write callbacks=[{cls}(...)]"
        )
    if isinstance(callbacks, type) and issubclass(callbacks, Callback):
        cls = callbacks.__name__
        raise TypeError(
            f"callbacks must be a list of Callback objects, got the class {cls}; "
            f"write callbacks=[{cls}()]"
        )
    if isinstance(callbacks, (str, bytes, dict)) or not hasattr(callbacks, "__iter__"):
        raise TypeError(
            f"callbacks must be a list of Callback objects, got {short_repr(callbacks)} "
            f"({type(callbacks).__name__})"
        )
    callbacks = list(callbacks)
    for k, cb in enumerate(callbacks):
        if isinstance(cb, type) and issubclass(cb, Callback):
            raise TypeError(
                f"callbacks must be Callback objects, got the class {cb.__name__} at "
                f"callbacks[{k}]; write {cb.__name__}() to make one"
            )
        if not isinstance(cb, Callback):
            raise TypeError(
                f"callbacks must be Callback objects, got {short_repr(cb)} "
                f"({type(cb).__name__}) at callbacks[{k}]"
            )
    return callbacks
