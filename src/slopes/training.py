"""The fit loop: batches, epochs, shuffling, validation, callbacks, and the History it returns.

One epoch is one pass over the training data, cut into batches. For each
batch: a forward pass, backpropagation, and one optimizer step. This is the
course's stochastic gradient descent; ``batch_size=None`` is plain (full
batch) gradient descent.
"""

from __future__ import annotations

import contextlib
import math
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .callbacks import Callback, History, ProgressBar, ProgressLog, TrainingRun
from .errors import TrainingDiverged
from .initializers import make_rng
from .losses import Loss, get_loss
from .metrics import get_metric
from .optimizers import Optimizer, get_optimizer
from .validation import check_positive_int, check_X

if TYPE_CHECKING:
    from .network import Network

__all__ = ["History", "TrainingDiverged", "TrainingRun", "fit", "batch_slices"]


def batch_slices(n_samples: int, batch_size: int | None) -> list[slice]:
    """Slices cutting ``n_samples`` rows into batches; the last partial batch is kept."""
    size = n_samples if batch_size is None else batch_size
    return [slice(start, min(start + size, n_samples)) for start in range(0, n_samples, size)]


def fit(
    net: Network,
    X: object,
    y: object,
    loss: str | Loss = "mse",
    optimizer: str | Optimizer = "sgd",
    learning_rate: float | None = None,
    epochs: int = 1,
    batch_size: int | None = None,
    shuffle: bool = True,
    validation_data: tuple[object, object] | None = None,
    validation_split: float = 0.0,
    metrics: Sequence[str] = (),
    callbacks: Sequence[Callback] = (),
    seed: int | np.random.Generator | None = None,
    verbose: int | str = "auto",
) -> History:
    """Train ``net`` by backpropagation and gradient descent.

    Parameters
    ----------
    X : array (n_samples, n_features)
    y : array (n_samples, n_outputs), or (n_samples,) for one output or class labels
    loss : str or Loss
        ``"mse"``, ``"sse"``, ``"half_mse"``, ``"mae"``, ``"binary_crossentropy"``
        (sigmoid output) or ``"categorical_crossentropy"`` (softmax output).
    optimizer : ``"sgd"``, ``"adam"`` or an Optimizer
        By name, it is built with ``learning_rate`` (or its default: 0.01 for
        SGD, 0.001 for Adam). SGD without momentum is ``w -= learning_rate * slope``.
    learning_rate : float > 0 or None
    epochs : int >= 1
    batch_size : int or None
        ``None`` takes the whole training set as one batch; an int cuts it
        into mini-batches, the last partial batch kept.
    shuffle : bool
        Permute the rows (by index, with the seeded generator) every epoch.
    validation_data : (X_val, y_val) or None
    validation_split : float in [0, 1)
        Hold out this fraction of the rows, taken from the end before any
        shuffling (as Keras does), for validation.
    metrics : sequence of ``"accuracy"``, ``"mse"``, ``"mae"``
    callbacks : sequence of Callback
    seed : int, Generator or None
        The same seed gives bit-identical weights and history on one machine.
    verbose : ``"auto"``, 0, 1 or 2
        0 is silent. 1 shows a progress bar when stdout is a terminal and plain
        lines otherwise; 2 always prints plain lines. ``"auto"`` is 1.

    Returns
    -------
    History

    Raises
    ------
    TrainingDiverged
        When the loss, a slope or a weight becomes NaN or infinite. The
        network keeps its last finite weights.
    """
    loss_fn = get_loss(loss)
    net.check_loss_fits(loss_fn)
    opt = get_optimizer(optimizer, learning_rate)
    epochs = check_positive_int("epochs", epochs)
    if batch_size is not None:
        batch_size = check_positive_int("batch_size", batch_size)
    metric_fns = {name: get_metric(name) for name in metrics}
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be Callback objects, got {type(cb).__name__}")
    if verbose not in ("auto", 0, 1, 2):
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2, got {verbose!r}")

    x, _ = check_X(X, net.n_inputs, net.dtype)
    actual = net.check_targets(y, x.shape[0], loss_fn)
    x, actual, x_val, y_val = _validation_set(net, loss_fn, x, actual,
                                              validation_data, validation_split)
    rng = make_rng(seed)

    history = History(params={
        "loss": loss_fn.name, "optimizer": opt.name, **opt.config(), "epochs": epochs,
        "batch_size": batch_size, "shuffle": shuffle, "validation_split": validation_split,
        "metrics": list(metric_fns), "seed": seed if isinstance(seed, int) else None,
    })
    run = TrainingRun(network=net, epochs=epochs, history=history)
    progress = _progress_callback(verbose)
    all_callbacks = callbacks + ([progress] if progress is not None else [])
    for cb in all_callbacks:
        cb.set_training(run)

    n = x.shape[0]
    slices = batch_slices(n, batch_size)
    try:
        # Overflow is detected and reported as TrainingDiverged, not as NumPy warnings.
        with _stop_on_ctrl_c(run), np.errstate(over="ignore", invalid="ignore"):
            for cb in all_callbacks:
                cb.on_train_begin({})
            for epoch in range(epochs):
                for cb in all_callbacks:
                    cb.on_epoch_begin(epoch, {})
                order = rng.permutation(n) if shuffle else None
                sums = dict.fromkeys(["loss", *metric_fns], 0.0)
                seen = 0
                for b, sl in enumerate(slices):
                    rows = sl if order is None else order[sl]
                    xb, yb = x[rows], actual[rows]
                    batch_loss, predicted = _train_step(net, loss_fn, opt, xb, yb,
                                                        epoch, b, history)
                    size = xb.shape[0]
                    seen += size
                    sums["loss"] += batch_loss * size
                    for name, fn in metric_fns.items():
                        sums[name] += fn(predicted, yb) * size
                    for cb in all_callbacks:
                        cb.on_batch_end(b, {"batch": b, "size": size, "loss": batch_loss})
                    if run.interrupted:
                        break
                if run.interrupted and seen < n:
                    break  # a partial epoch is not recorded
                logs = {name: total / seen for name, total in sums.items()}
                if x_val is not None:
                    logs.update(_evaluate(net, loss_fn, metric_fns, x_val, y_val))
                for key, value in logs.items():
                    history.history.setdefault(key, []).append(value)
                history.epoch.append(epoch)
                for cb in all_callbacks:
                    cb.on_epoch_end(epoch, logs)
                if run.stop_training:
                    break
            history.interrupted = run.interrupted
            if run.interrupted and verbose != 0:
                print(f"Training interrupted (Ctrl-C) after {len(history.epoch)} epoch(s); "
                      "keeping the weights and history so far.", file=sys.stderr)
            for cb in all_callbacks:
                cb.on_train_end({})
    finally:
        if isinstance(progress, ProgressBar):
            progress.close()
    return history


def _train_step(net: Network, loss_fn: Loss, opt: Optimizer, xb: np.ndarray, yb: np.ndarray,
                epoch: int, batch: int, history: History) -> tuple[float, np.ndarray]:
    """Forward, backward and one optimizer step on one batch; returns its loss and predictions.

    Nothing is written to the network unless every new weight is finite.
    """
    zs, values = net.forward(xb)
    batch_loss = net.loss_value(loss_fn, zs[-1], values[-1], yb)
    net.backward(zs, values, yb, loss_fn)
    params = net.parameters()
    slopes = [g for layer in net.layers for g in layer.parameter_slopes()]
    # Non-finite slopes make non-finite new weights, so one check of the new
    # weights (a sum propagates NaN and inf) covers both on the hot path; the
    # slow path below finds the layer to blame.
    new_params = [p - d for p, d in zip(params, opt.updates(params, slopes), strict=True)]
    if not (math.isfinite(batch_loss) and all(math.isfinite(p.sum()) for p in new_params)):
        layer = _first_bad_layer(net)
        what = "slopes"
        if layer is None:
            owners = [k for k, lay in enumerate(net.layers) for _ in lay.parameters()]
            bad = [owners[i] for i, p in enumerate(new_params) if not np.isfinite(p).all()]
            layer, what = (bad[0], "weights") if bad else (None, "loss")
        _diverged(net, opt, epoch, batch, layer, what, batch_loss, history)
    for p, new in zip(params, new_params, strict=True):
        p[...] = new
    return batch_loss, values[-1]


def _first_bad_layer(net: Network) -> int | None:
    """Index of the first layer with a non-finite slope, or None."""
    for k, layer in enumerate(net.layers):
        if any(not np.isfinite(g).all() for g in layer.parameter_slopes()):
            return k
    return None


def _diverged(net: Network, opt: Optimizer, epoch: int, batch: int, layer: int | None,
              what: str, batch_loss: float, history: History) -> None:
    where = (f"the {what} of layers[{layer}] became NaN or infinite" if layer is not None
             else f"the loss (at the output of layers[{len(net.layers) - 1}]) became NaN or "
             "infinite")
    lr = opt.learning_rate
    raise TrainingDiverged(
        f"training diverged at epoch {epoch}, batch {batch}: {where} (batch loss {batch_loss:g}). "
        f"The network keeps its last finite weights. Try a lower learning rate, "
        f"e.g. learning_rate={lr / 10:g} instead of {lr:g}.",
        epoch=epoch, batch=batch, layer=layer, history=history,
    )


def _evaluate(net: Network, loss_fn: Loss, metric_fns: dict, x: np.ndarray,
              y: np.ndarray) -> dict[str, float]:
    zs, values = net.forward(x)
    logs = {"val_loss": net.loss_value(loss_fn, zs[-1], values[-1], y)}
    for name, fn in metric_fns.items():
        logs[f"val_{name}"] = fn(values[-1], y)
    return logs


def _validation_set(net: Network, loss_fn: Loss, x: np.ndarray, actual: np.ndarray,
                    validation_data: tuple[object, object] | None, validation_split: float
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)) \
            or not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
    if validation_data is not None:
        if validation_split:
            raise ValueError("give validation_data or validation_split, not both")
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("validation_data must be a pair (X_val, y_val)")
        x_val, _ = check_X(validation_data[0], net.n_inputs, net.dtype)
        y_val = net.check_targets(validation_data[1], x_val.shape[0], loss_fn)
        return x, actual, x_val, y_val
    if not validation_split:
        return x, actual, None, None
    split = int(x.shape[0] * (1 - validation_split))
    if split < 1 or split >= x.shape[0]:
        raise ValueError(
            f"validation_split={validation_split} of {x.shape[0]} samples leaves "
            f"{split} for training and {x.shape[0] - split} for validation; both need at least 1"
        )
    return x[:split], actual[:split], x[split:], actual[split:]


def _progress_callback(verbose: int | str) -> Callback | None:
    if verbose == 0:
        return None
    if verbose in ("auto", 1) and sys.stdout.isatty():
        return ProgressBar()
    return ProgressLog()


@contextlib.contextmanager
def _stop_on_ctrl_c(run: TrainingRun) -> Iterator[None]:
    """While training, a first Ctrl-C stops after the current batch; a second one aborts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        if run.interrupted:
            raise KeyboardInterrupt
        run.interrupted = True
        run.stop_training = True

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
