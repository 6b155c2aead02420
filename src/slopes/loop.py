"""The fit loop both ways of training share: epochs of batches, one optimizer step each.

:func:`slopes.training.fit` (arrays) and :func:`slopes.streaming.fit_stream`
(a stream of batches) check their data and hand :func:`train_epochs` the
batches to train; one batch is one :func:`train_step` (forward, backward and
one optimizer step, refused with :class:`~slopes.errors.TrainingDiverged`
when a number becomes NaN or infinite). The loop runs the callbacks, records
the :class:`~slopes.callbacks.History` and stops on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import math
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .callbacks import Callback, History, ProgressBar, ProgressLog, TrainingRun, check_callbacks
from .errors import TrainingDiverged
from .initializers import make_rng
from .losses import Loss, get_loss
from .metrics import get_metrics
from .optimizers import Optimizer, get_optimizer
from .penalties import check_clip, check_penalty
from .validation import check_bool, check_positive_int, check_seed
from .workspace import StepOptions, Workspace

if TYPE_CHECKING:
    from .network import Network

__all__ = ["check_sample_weight", "check_settings", "check_step_options", "Workspaces",
           "train_epochs", "train_step", "validation_logs"]


def check_sample_weight(sample_weight: object, n_samples: int, dtype: np.dtype,
                        name: str = "sample_weight") -> np.ndarray:
    """``sample_weight`` as a new ``(n_samples,)`` array of ``dtype``: finite, >= 0, positive sum.

    Checked once per ``fit``, never per batch. The array is always a copy, so
    training never writes into the caller's weights.
    """
    if hasattr(sample_weight, "to_numpy") and not isinstance(sample_weight, np.ndarray):
        sample_weight = sample_weight.to_numpy()  # pandas Series
    arr = np.asarray(sample_weight)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got an array of dtype {arr.dtype}")
    if arr.ndim != 1 or arr.shape[0] != n_samples:
        raise ValueError(
            f"{name} must be 1-D with one weight per sample, shape ({n_samples},), "
            f"got shape {arr.shape}"
        )
    arr = arr.astype(dtype)  # a copy
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ValueError(
            f"{name} contains {bad.size} NaN or infinite value(s) (first at index {bad[0]}); "
            "expected finite weights >= 0"
        )
    negative = np.flatnonzero(arr < 0)
    if negative.size:
        i = int(negative[0])
        raise ValueError(f"{name} must be >= 0, got {arr[i]:g} at index {i}")
    if not arr.sum() > 0:
        raise ValueError(
            f"{name} is zero for every sample; at least one weight must be positive"
        )
    return arr


def check_settings(net: Network, loss: str | Loss, optimizer: str | Optimizer,
                   learning_rate: float | None, epochs: int, metrics: Sequence[str],
                   callbacks: Sequence[Callback], shuffle: bool, seed: object,
                   verbose: int | str) -> tuple[Loss, Optimizer, int, dict, list[Callback]]:
    """The settings every fit checks, arrays or streams: ``(loss, optimizer, epochs, metrics,
    callbacks)`` as the loop uses them; a bad one raises an error naming it."""
    loss_fn = get_loss(loss)
    net.check_loss_fits(loss_fn)
    opt = get_optimizer(optimizer, learning_rate)
    epochs = check_positive_int("epochs", epochs)
    metric_fns = get_metrics(metrics)
    callbacks = check_callbacks(callbacks)
    check_bool("shuffle", shuffle)
    check_seed(seed)
    # By type first: comparing an array with the tuple raises NumPy's "ambiguous" error.
    verbose_ok = (verbose == "auto" if isinstance(verbose, str)
                  else isinstance(verbose, (int, np.integer)) and verbose in (0, 1, 2))
    if not verbose_ok:
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
    return loss_fn, opt, epochs, metric_fns, callbacks


def check_step_options(net: Network, l1: object, l2: object, penalize_bias: object,
                       clip_norm: object, clip_value: object, seed: object
                       ) -> StepOptions | None:
    """The penalties, clipping and dropout a fit adds to each step, or None when it adds none.

    A bad setting raises an error naming it, what it got and what it expects.
    Dropout masks come from a child of the fit's generator (``seed``), drawn
    apart from the shuffling, whose order therefore stays what it is
    without dropout.
    """
    l1, l2 = check_penalty("l1", l1), check_penalty("l2", l2)
    check_bool("penalize_bias", penalize_bias)
    clip_norm, clip_value = check_clip("clip_norm", clip_norm), check_clip("clip_value", clip_value)
    last = net.layers[-1]
    if last.dropout:
        raise ValueError(
            f"layers[{len(net.layers) - 1}] is the output layer and has dropout={last.dropout:g}; "
            "expected dropout on hidden layers only (dropping an output drops the prediction)")
    dropping = any(layer.dropout for layer in net.layers)
    rng = make_rng(seed).spawn(1)[0] if dropping else None
    options = StepOptions(l1, l2, bool(penalize_bias), clip_norm, clip_value, rng)
    if not (dropping or clip_norm is not None or clip_value is not None
            or options.penalized(net.layers)):
        return None
    return options


def step_params(options: StepOptions | None) -> dict:
    """The history's params for a fit's penalties and clipping: only those it sets."""
    if options is None:
        return {}
    settings = {"l1": options.l1, "l2": options.l2, "penalize_bias": options.penalize_bias,
                "clip_norm": options.clip_norm, "clip_value": options.clip_value}
    return {k: v for k, v in settings.items() if v not in (None, 0.0, False)}


class Workspaces:
    """The fit loop's :class:`Workspace`, made anew when a batch needs another one.

    ``current`` is None until the first batch when no ``rows`` are given.
    """

    def __init__(self, net: Network, loss_fn: Loss, rows: int | None = None,
                 options: StepOptions | None = None) -> None:
        self.net, self.loss_fn, self.options = net, loss_fn, options
        self.current: Workspace | None = (None if rows is None
                                          else Workspace(net, loss_fn, rows, options))

    def for_batch(self, rows: int, watch: bool) -> Workspace:
        """The workspace for a batch of ``rows`` rows.

        A new one when there is none yet, when the batch has more rows than
        its buffers, or (``watch``: callbacks run) when a callback gave a
        layer new arrays: those are trained from then on.
        """
        workspace = self.current
        if workspace is None or rows > workspace.batch_rows or (watch and not workspace.in_sync()):
            rows = rows if workspace is None else max(rows, workspace.batch_rows)
            self.release()
            workspace = self.current = Workspace(self.net, self.loss_fn, rows, self.options)
        return workspace

    def release(self) -> None:
        """Give the layers back their own arrays (see :meth:`Workspace.release`)."""
        if self.current is not None:
            self.current.release()
            self.current = None


def train_epochs(net: Network, loss_fn: Loss, opt: Optimizer, epochs: int, metric_fns: dict,
                 callbacks: list[Callback], seed: object, verbose: int | str,
                 params: dict, workspaces: Workspaces,
                 batches: Callable[[int], Iterator[tuple]],
                 validate: Callable[[int], dict[str, float]],
                 no_batches: Callable[[int], str] | None = None) -> History:
    """The fit loop, for arrays and streams alike: epochs of batches, callbacks, history.

    ``batches(epoch)`` yields ``(b, X_batch, y_batch, sample_weight_batch or
    None, mass)`` for the batches to train, checked already, ``mass`` being
    the batch's rows or the sum of its sample weights (the weight of its loss
    in the epoch's loss); ``validate(epoch)`` returns the validation logs.
    ``params`` adds to the history's params. An epoch with no batch raises
    ``ValueError(no_batches(epoch))``. Always releases ``workspaces``.

    With a penalty (``workspaces.options``), the logs hold ``loss``, the
    data loss as without it, and ``penalty``: the penalty of each batch at
    the weights it started with, averaged as the loss is (``loss +
    penalty`` is what the optimizer descended).
    """
    history = History(params={
        "loss": loss_fn.name, "optimizer": opt.name, **opt.config(), "epochs": epochs,
        "batch_size": None, "shuffle": False, "validation_split": 0.0,
        "metrics": list(metric_fns), "seed": seed if isinstance(seed, int) else None,
        **params, **step_params(workspaces.options),
    })
    penalized = workspaces.options is not None and workspaces.options.penalized(net.layers)
    run = TrainingRun(network=net, epochs=epochs, history=history, optimizer=opt)
    progress = _progress_callback(verbose)
    all_callbacks = callbacks + ([progress] if progress is not None else [])
    for cb in all_callbacks:
        cb.set_training(run)
    watch = bool(all_callbacks)
    try:
        # Overflow is detected and reported as TrainingDiverged, not as NumPy warnings.
        with _stop_on_ctrl_c(run), np.errstate(over="ignore", invalid="ignore", under="ignore"):
            for cb in all_callbacks:
                cb.on_train_begin({})
            for epoch in range(epochs):
                for cb in all_callbacks:
                    cb.on_epoch_begin(epoch, {})
                # Plain variables, not a dict: with one batch per epoch this bookkeeping
                # costs as much as a small network's arithmetic.
                loss_total = mass = penalty_total = 0.0  # mass: the batches' rows or weights
                metric_totals = dict.fromkeys(metric_fns, 0.0)
                used = 0
                finished = False
                epoch_batches = batches(epoch)
                try:
                    for b, xb, yb, wb, batch_mass in epoch_batches:
                        if run.interrupted:
                            break  # a partial epoch is not recorded
                        size = xb.shape[0]
                        workspace = workspaces.for_batch(size, watch)
                        batch_loss, predicted = train_step(workspace, opt, xb, yb, epoch, b,
                                                           history, wb)
                        used += size
                        mass += batch_mass
                        loss_total += batch_loss * batch_mass
                        if penalized:
                            penalty_total += workspace.batch_penalty * batch_mass
                        for name, fn in metric_fns.items():
                            metric_totals[name] += fn(predicted, yb) * size
                        for cb in all_callbacks:
                            cb.on_batch_end(b, {"batch": b, "size": size, "loss": batch_loss})
                    else:
                        finished = True
                finally:
                    epoch_batches.close()  # a stream's file or iterator closes with it
                if not finished:
                    break
                if used == 0:
                    raise ValueError(no_batches(epoch) if no_batches is not None
                                     else f"no batch to train in epoch {epoch}")
                if epoch == 0:
                    _check_optimizer(net, opt, epoch, b, history)
                logs = {"loss": loss_total / mass}
                if penalized:
                    logs["penalty"] = penalty_total / mass
                for name, total in metric_totals.items():
                    logs[name] = total / used
                logs.update(validate(epoch))
                logs["lr"] = opt.learning_rate  # the rate this epoch trained with
                for key, value in logs.items():
                    history.history.setdefault(key, []).append(value)
                history.epoch.append(epoch)
                for cb in all_callbacks:
                    cb.on_epoch_end(epoch, logs)
                if run.stop_training:
                    break
            if len(history.epoch) > 1 and not run.interrupted:
                _check_optimizer(net, opt, history.epoch[-1], b, history)
            history.interrupted = run.interrupted
            if run.interrupted and verbose != 0:
                print(f"Training interrupted (Ctrl-C) after {len(history.epoch)} epoch(s); "
                      "the network keeps the weights it had then.", file=sys.stderr)
            for cb in all_callbacks:
                cb.on_train_end({})
    finally:
        workspaces.release()
        if isinstance(progress, ProgressBar):
            progress.close()
    return history


def train_step(workspace: Workspace, opt: Optimizer, xb: np.ndarray, yb: np.ndarray,
                epoch: int, batch: int, history: History,
                wb: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Forward, backward and one optimizer step on one batch; returns its loss and predictions.

    ``wb`` holds the batch's sample weights, or None. Nothing is written to
    the network unless every new weight is finite.
    """
    batch_loss, predicted = workspace.forward_backward(xb, yb, wb)
    if workspace.options is not None:  # penalties, clipping (dropout is in forward_backward)
        workspace.regularize()
    if not workspace.update(opt, batch_loss):  # its quick check could not vouch for the step
        _check_step(workspace, opt, epoch, batch, batch_loss, history)
        workspace.apply()
    return batch_loss, predicted


def _check_step(workspace: Workspace, opt: Optimizer, epoch: int, batch: int,
                batch_loss: float, history: History) -> None:
    """Raise TrainingDiverged, naming the layer to blame, unless loss and new weights are finite."""
    new_params = [p - d for p, d in zip(workspace.param_views, workspace.update_views,
                                        strict=True)]
    if math.isfinite(batch_loss) and all(np.isfinite(p).all() for p in new_params):
        return
    workspace.refuse(opt)  # the optimizer's state as before this step (Adam's moments...)
    net = workspace.net
    layer = _first_bad_layer(net)
    what = "slopes"
    if layer is None:
        owners = [k for k, lay in enumerate(net.layers) for _ in lay.parameters()]
        bad = [owners[i] for i, p in enumerate(new_params) if not np.isfinite(p).all()]
        layer, what = (bad[0], "weights") if bad else (None, "loss")
    _diverged(net, opt, epoch, batch, layer, what, batch_loss, history)


def _check_optimizer(net: Network, opt: Optimizer, epoch: int, batch: int,
                     history: History) -> None:
    """Raise TrainingDiverged when the optimizer's state overflowed (Adam's ``v``).

    Checked after the first epoch and the last, not per batch: it costs a
    pass over the state, and a state that overflowed stays so. Slopes this
    large come from inputs far from unit size (1e300, or 1e20 in float32).
    """
    k = opt.overflowed()
    if k is None:
        return
    owners = [i for i, layer in enumerate(net.layers) for _ in layer.parameters()]
    layer = owners[k] if k < len(owners) else None
    where = f"layers[{layer}]" if layer is not None else f"parameter {k}"
    biggest = math.sqrt(np.finfo(net.dtype).max)
    raise TrainingDiverged(
        f"training stalled in epoch {epoch}: the slopes of {where} grew beyond {biggest:.3g}, "
        f"so their squares overflow {net.dtype.name} and {type(opt).__name__}'s average of them "
        "became infinite; its steps are then 0 and those weights stop learning. Slopes this large "
        "come from inputs far from unit size: bring them near 1 first (divide by a power of "
        "ten, then standardize: scale_inputs=True or a StandardScaler for the estimators).",
        epoch=epoch, batch=batch, layer=layer, history=history,
    )


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


def validation_logs(net: Network, loss_fn: Loss, metric_fns: dict, x: np.ndarray,
              y: np.ndarray, sample_weight: np.ndarray | None = None) -> dict[str, float]:
    """``val_loss`` and each metric's ``val_`` value of ``net`` on validation arrays."""
    zs, values = net.forward(x)
    logs = {"val_loss": net.loss_value(loss_fn, zs[-1], values[-1], y, sample_weight)}
    for name, fn in metric_fns.items():
        logs[f"val_{name}"] = fn(values[-1], y)
    return logs


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
