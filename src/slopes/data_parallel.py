"""Data-parallel training: one network, its rows spread over workers.

Each worker holds a :class:`Shard`: its own rows (a *source* that reads and
preprocesses them, chunk by chunk) and a copy of the network. The client
holds the network that is trained and slopes' own optimizer. Two ways to
combine the workers, both with slopes' own forward and backward passes
(:meth:`Network.forward`, :meth:`Network.backward`) and update rules
(:mod:`slopes.optimizers`):

- **synchronous slope averaging** (:func:`train_slope_averaging`): every
  step, each worker computes the slopes of its share of the batch, ``m_i``
  rows; the client adds them up, weighted by rows,

  .. math:: g = \\frac{1}{M} \\sum_i m_i\\, g_i, \\qquad M = \\sum_i m_i,

  (for the summed loss ``sse``, ``g = sum_i g_i``) and takes **one**
  optimizer step with ``g``: the same step as one process training on the
  concatenated batch (equal to 1e-10 in float64, a test). Costs one round
  trip to every worker per step, so the batch must be big enough to hide it.
- **per-epoch weight averaging** (:func:`train_weight_averaging`): each
  worker trains a whole epoch on its own rows with its own optimizer
  (:meth:`Network.fit`, batches of ``batch_size``), then the client averages
  the weights, weighted by rows, ``W = sum_i m_i W_i / M``: one round trip per
  epoch.

The shards are Dask actors (``client.submit(Shard, ..., actor=True)``); this
module only calls their methods and waits for the answers (``.result()``),
so it runs as well with plain objects (the tests compare both).

A source is any object with

- ``train_chunks(epoch)``: an iterator of ``(X, y)`` training arrays of the
  worker's rows, shuffled as it wants (seeded by the epoch);
- ``score(net, part)``: a dict of sums over the rows of ``part``
  (``"validation"``, ``"train"``, ``"test"``), at least ``rows`` and
  ``loss_sum``.
"""

from __future__ import annotations

import itertools
import os
import resource
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .callbacks import History
from .losses import Loss, get_loss
from .network import Network
from .optimizers import Optimizer, get_optimizer

__all__ = ["Shard", "wait", "flatten", "unflatten", "train_slope_averaging",
           "train_weight_averaging", "AVERAGING"]

#: The ways to combine the workers: slopes every step, or weights every epoch.
AVERAGING = ("slopes", "weights")


def flatten(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """The arrays laid end to end: one float array (sum of sizes,)."""
    return np.concatenate([a.ravel() for a in arrays])


def unflatten(flat: np.ndarray, like: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Cut ``flat`` back into arrays shaped as ``like`` (views of ``flat``)."""
    out, start = [], 0
    for a in like:
        out.append(flat[start:start + a.size].reshape(a.shape))
        start += a.size
    return out


def _set_parameters(net: Network, flat: np.ndarray) -> None:
    for p, new in zip(net.parameters(), unflatten(flat, net.parameters()), strict=True):
        p[...] = new


def _summed(loss_fn: Loss) -> bool:
    """Whether the loss adds the rows up (``sse``) instead of averaging them."""
    return loss_fn.name == "sse"


class Shard:
    """One worker's rows and a copy of the network (a Dask actor, or a plain object).

    Parameters
    ----------
    source : object
        Reads and preprocesses the worker's rows; see the module's notes.
    """

    def __init__(self, source: Any) -> None:
        self.source = source
        self.net: Network | None = None
        self.loss_fn: Loss | None = None
        self.optimizer: Optimizer | None = None
        self._chunks: Any = iter(())
        self._X = self._y = None
        self._at = 0

    # ------------------------------------------------------------ set-up and reading
    def call(self, method: str, *args: Any) -> Any:
        """``source.<method>(*args)``: the passes over the rows (kinds, statistics...)."""
        return getattr(self.source, method)(*args)

    def info(self) -> dict[str, Any]:
        """The process id, and its peak resident memory in bytes (Linux ``ru_maxrss``)."""
        return {"pid": os.getpid(),
                "peak_memory": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}

    def ping(self, payload: np.ndarray) -> np.ndarray:
        """Send ``payload`` back: the round trip's cost, measured by the client."""
        return payload

    def set_network(self, net: Network, loss: str) -> None:
        """The network to compute slopes with (a copy) and its loss; forgets the optimizer."""
        self.net = net.copy()
        self.loss_fn = get_loss(loss)
        self.net.check_loss_fits(self.loss_fn)
        self.optimizer = None

    # ------------------------------------------------------------ slope averaging
    def begin_epoch(self, epoch: int) -> None:
        """Start reading this epoch's training rows (``source.train_chunks(epoch)``)."""
        self._chunks = iter(self.source.train_chunks(epoch))
        self._X = self._y = None
        self._at = 0

    def _take(self, rows: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The next ``rows`` training rows (fewer at the end of the epoch), or None."""
        xs, ys, need = [], [], rows
        while need > 0:
            if self._X is None or self._at >= len(self._X):
                nxt = next(self._chunks, None)
                if nxt is None:
                    break
                X, y = nxt
                self._X = X
                self._y = self.net.check_targets(y, len(X), self.loss_fn)
                self._at = 0
                continue
            stop = min(self._at + need, len(self._X))
            xs.append(self._X[self._at:stop])
            ys.append(self._y[self._at:stop])
            need -= stop - self._at
            self._at = stop
        if not xs:
            return None
        if len(xs) == 1:
            return xs[0], ys[0]
        return np.concatenate(xs), np.concatenate(ys)

    def slopes(self, params: np.ndarray, rows: int) -> tuple[int, float, np.ndarray | None]:
        """The slopes of the loss over this worker's next ``rows`` rows, at ``params``.

        Returns
        -------
        m : int
            The rows used (0 when the epoch's rows are used up).
        loss_sum : float
            The batch loss before the step, times ``m`` (summed losses: as is).
        slopes : array (n_parameters,) or None
            ``m g_i`` for averaged losses, ``g_i`` for ``sse``: the share of the
            step's slope before the client divides by all the rows.
        """
        batch = self._take(rows)
        if batch is None:
            return 0, 0.0, None
        X, y = batch
        net, loss_fn = self.net, self.loss_fn
        _set_parameters(net, params)
        zs, values = net.forward(X)
        loss = net.loss_value(loss_fn, zs[-1], values[-1], y)
        net.backward(zs, values, y, loss_fn)
        grads = flatten([g for layer in net.layers for g in layer.parameter_slopes()])
        m = len(X)
        if _summed(loss_fn):
            return m, float(loss), grads
        return m, float(loss) * m, grads * m

    # ------------------------------------------------------------ weight averaging
    def train_epoch(self, params: np.ndarray, epoch: int, optimizer: str,
                    learning_rate: float | None, batch_size: int, seed: int,
                    options: dict[str, Any]) -> tuple[int, float, np.ndarray]:
        """One epoch of :meth:`Network.fit` on this worker's rows, from ``params``.

        The worker's optimizer (its Adam moments...) carries over between
        epochs. Returns ``(rows, loss_sum, new parameters (n_parameters,))``.
        """
        net = self.net
        _set_parameters(net, params)
        if self.optimizer is None:
            self.optimizer = get_optimizer(optimizer, learning_rate)
        rows = [0]

        def batches() -> Any:
            for X, y in self.source.train_chunks(epoch):
                rows[0] += len(X)
                for start in range(0, len(X), batch_size):
                    yield X[start:start + batch_size], y[start:start + batch_size]

        stream = batches()
        first = next(stream, None)
        if first is None:  # no training rows here this epoch: the weights as they came
            return 0, 0.0, flatten(net.parameters())
        history = net.fit(itertools.chain([first], stream), loss=self.loss_fn,
                          optimizer=self.optimizer, epochs=1,
                          seed=np.random.default_rng([seed, epoch]), verbose=0, **options)
        loss = history.history["loss"][-1] if history.history.get("loss") else 0.0
        return rows[0], float(loss) * rows[0], flatten(net.parameters())

    def score(self, params: np.ndarray, part: str | list[str],
              hardest: Sequence[str] = ()) -> dict[str, Any]:
        """``source.score(net, part, hardest)`` at ``params``: sums over the rows of
        ``part`` (with ``hardest``, also the row of those parts with the largest loss)."""
        _set_parameters(self.net, params)
        if hardest:
            return self.source.score(self.net, part, hardest)
        return self.source.score(self.net, part)


# ------------------------------------------------------------------------ clients
def wait(futures: list[Any]) -> list[Any]:
    """The answers of the calls, in order (an actor call's answer, or a plain value)."""
    return [f.result() if hasattr(f, "result") else f for f in futures]


def _validation(shards: Sequence[Any], flat: np.ndarray) -> float | None:
    parts = wait([s.score(flat, "validation") for s in shards])
    rows = sum(p["rows"] for p in parts)
    if not rows:
        return None
    loss = sum(p["loss_sum"] for p in parts)
    return loss / rows


class _Stopper:
    """Early stopping on the validation loss, keeping the best epoch's weights."""

    def __init__(self, patience: int | None) -> None:
        self.patience = patience
        self.best = np.inf
        self.best_epoch: int | None = None
        self.best_params: np.ndarray | None = None
        self.waited = 0

    def stop(self, epoch: int, val_loss: float | None, flat: np.ndarray) -> bool:
        if self.patience is None or val_loss is None:
            return False
        if val_loss < self.best:
            self.best, self.best_epoch, self.best_params = val_loss, epoch, flat.copy()
            self.waited = 0
            return False
        self.waited += 1
        return self.waited >= self.patience


def _record(history: History, epoch: int, loss: float, val_loss: float | None, lr: float,
            seconds: float, on_epoch: Callable[[int, dict], None] | None) -> None:
    logs = {"loss": loss, **({} if val_loss is None else {"val_loss": val_loss}), "lr": lr}
    history.epoch.append(epoch)
    for key, value in logs.items():
        history.history.setdefault(key, []).append(float(value))
    if on_epoch is not None:
        on_epoch(epoch, {**logs, "seconds": seconds})


def _end_epoch(shards: Sequence[Any], params: list[np.ndarray], history: History,
               stopper: _Stopper, epoch: int, train_loss: float, lr: float, started: float,
               on_epoch: Callable[[int, dict], None] | None) -> bool:
    """After an epoch: the validation loss at the network's weights, the epoch recorded,
    and whether early stopping ends training."""
    flat = flatten(params)
    val_loss = _validation(shards, flat)
    _record(history, epoch, train_loss, val_loss, lr, time.perf_counter() - started, on_epoch)
    return stopper.stop(epoch, val_loss, flat)


def _keep_best(net: Network, stopper: _Stopper, history: History) -> History:
    """The best epoch's weights back in ``net`` (with early stopping), said in ``history``."""
    if stopper.best_params is not None:
        _set_parameters(net, stopper.best_params)
    history.params["best_epoch"] = stopper.best_epoch
    return history


def train_slope_averaging(net: Network, shards: Sequence[Any], loss: str,
                          optimizer: str | Optimizer, learning_rate: float | None,
                          epochs: int, rows_per_worker: int | Sequence[int],
                          patience: int | None = None,
                          on_epoch: Callable[[int, dict], None] | None = None) -> History:
    """Train ``net`` in place: one optimizer step per batch, slopes summed over workers.

    Parameters
    ----------
    net : Network
        Trained in place (the client's copy); every shard must have had
        ``set_network``.
    shards : list of Shard (actors or objects)
    loss : str
    optimizer : str or Optimizer
        Slopes' own; its state lives on the client.
    epochs : int
    rows_per_worker : int or list of int
        Each worker's share of a step's batch: the batch is their sum while
        every worker has rows left.
    patience : int or None
        Early stopping on ``val_loss`` (the best epoch's weights kept); None: off.
    on_epoch : callable(epoch, logs) or None

    Returns
    -------
    History
        ``loss`` (the mean of the batch losses before each step, weighted by
        rows), ``val_loss`` when there are validation rows, ``lr``.
    """
    loss_fn = get_loss(loss)
    opt = get_optimizer(optimizer, learning_rate)
    shares = ([rows_per_worker] * len(shards) if isinstance(rows_per_worker, int)
              else list(rows_per_worker))
    params = net.parameters()
    history = History(params={"loss": loss, "optimizer": opt.name, "epochs": epochs,
                              "batch_size": sum(shares), "averaging": "slopes",
                              "workers": len(shards)})
    stopper = _Stopper(patience)
    for epoch in range(epochs):
        started = time.perf_counter()
        wait([s.begin_epoch(epoch) for s in shards])
        total_rows, total_loss = 0, 0.0
        while True:
            flat = flatten(params)
            answers = wait([s.slopes(flat, m) for s, m in zip(shards, shares, strict=True)])
            rows = sum(a[0] for a in answers)
            if rows == 0:
                break
            grads = [a[2] for a in answers if a[0]]
            g = grads[0] if len(grads) == 1 else np.sum(grads, axis=0)
            if not _summed(loss_fn):
                g = g / rows
            opt.step(params, unflatten(g, params))
            total_rows += rows
            total_loss += sum(a[1] for a in answers)
        train_loss = total_loss / total_rows if total_rows else float("nan")
        if _end_epoch(shards, params, history, stopper, epoch, train_loss, opt.learning_rate,
                      started, on_epoch):
            break
    return _keep_best(net, stopper, history)


def train_weight_averaging(net: Network, shards: Sequence[Any], loss: str, optimizer: str,
                           learning_rate: float | None, epochs: int, batch_size: int,
                           seed: int = 0, patience: int | None = None,
                           options: dict[str, Any] | None = None,
                           on_epoch: Callable[[int, dict], None] | None = None) -> History:
    """Train ``net`` in place: each worker an epoch on its rows, then the weights averaged.

    ``W = sum_i m_i W_i / M`` after every epoch (``m_i`` the rows worker ``i``
    trained on). Each worker keeps its own optimizer (``optimizer`` by name,
    ``learning_rate``) from epoch to epoch; ``options`` are :meth:`Network.fit`'s
    ``l1``, ``l2``, ``clip_norm``. The other parameters and the History are
    those of :func:`train_slope_averaging`.
    """
    params = net.parameters()
    history = History(params={"loss": loss, "optimizer": optimizer, "epochs": epochs,
                              "batch_size": batch_size, "averaging": "weights",
                              "workers": len(shards)})
    stopper = _Stopper(patience)
    lr = get_optimizer(optimizer, learning_rate).learning_rate
    for epoch in range(epochs):
        started = time.perf_counter()
        flat = flatten(params)
        answers = wait([s.train_epoch(flat, epoch, optimizer, learning_rate, batch_size,
                                       seed + k, dict(options or {}))
                         for k, s in enumerate(shards)])
        rows = sum(a[0] for a in answers)
        if rows:
            mean = np.sum([a[0] * a[2] for a in answers if a[0]], axis=0) / rows
            _set_parameters(net, mean)
        train_loss = sum(a[1] for a in answers) / rows if rows else float("nan")
        if _end_epoch(shards, params, history, stopper, epoch, train_loss, lr, started,
                      on_epoch):
            break
    return _keep_best(net, stopper, history)
