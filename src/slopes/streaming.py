"""Training on data that never sits in memory whole: a stream of batches.

:func:`slopes.training.fit` (and :meth:`Network.fit`) hands its work here when
``X`` is a stream and ``y`` is None. A stream is

- a callable returning a fresh iterator of batches each time it is called
  (called once per epoch: the way to train several epochs on a file), or
- an iterable that can be iterated again (a list of batches, a loader
  object), iterated once per epoch, or
- a one-shot iterator (a generator), which can feed one epoch only.

Each batch is a pair ``(X_batch, y_batch)`` or a triple ``(X_batch, y_batch,
sample_weight_batch)`` of arrays, ``X_batch`` (m, n_features), ``y_batch``
(m, n_outputs) or (m,), ``sample_weight_batch`` (m,). Every batch is checked
as ``fit`` checks arrays, and an error names the batch (counted from 0).
The batches are trained in the order they come (``shuffle`` does not apply:
shuffle inside your stream), each as one step of the optimizer, by the
fit loop arrays use (:func:`slopes.loop.train_epochs`, with its
:class:`~slopes.workspace.Workspace` and its step): the same batches in the same order give
the same weights as ``fit`` on the arrays with ``shuffle=False``. History,
callbacks (EarlyStopping...), ``validation_data`` (arrays, or a stream too)
and :class:`~slopes.errors.TrainingDiverged` work as they do for arrays.

:func:`train_on_batch` is one such step, on one batch
(:meth:`Network.train_on_batch` keeps the optimizer between calls).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .callbacks import Callback, History
from .loop import (
    Workspaces,
    check_sample_weight,
    check_settings,
    check_step_options,
    train_epochs,
    train_step,
    validation_logs,
)
from .losses import Loss, get_loss
from .optimizers import Optimizer, get_optimizer
from .validation import check_X
from .workspace import Workspace

if TYPE_CHECKING:
    from .network import Network

__all__ = ["is_stream", "fit_stream", "train_on_batch", "Batch"]

#: One checked batch: ``x`` (m, n_inputs), ``actual`` (m, n_outputs), weights (m,) or None.
Batch = tuple[np.ndarray, np.ndarray, np.ndarray | None]


def is_stream(X: object) -> bool:
    """Whether ``X`` (given to ``fit`` without ``y``) is a stream of batches, not an array.

    Arrays, pandas objects and anything with ``__array__`` are not streams;
    a callable or any other iterable (lists of batches, generators) is.
    """
    if isinstance(X, (np.ndarray, str, bytes)) or hasattr(X, "__array__") \
            or hasattr(X, "to_numpy"):
        return False
    return callable(X) or isinstance(X, Iterable)


def _describe(value: object) -> str:
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a {type(value).__name__}"


def _epoch_source(data: object, epochs: int, name: str) -> Callable[[int], Iterator]:
    """A function giving the iterator of batches for an epoch; refuses a one-shot one for more."""
    if callable(data):
        def fresh(epoch: int) -> Iterator:
            got = data()
            try:
                return iter(got)
            except TypeError:
                raise TypeError(
                    f"the callable given as {name} must return an iterator of (X_batch, "
                    f"y_batch) pairs, but returned {_describe(got)} (epoch {epoch})"
                ) from None
        return fresh
    if iter(data) is data:  # an iterator: it can be read once
        if epochs > 1:
            raise ValueError(
                f"{name} is a one-shot iterator ({type(data).__name__}), which can be read "
                f"for one epoch only, but epochs={epochs}; pass a callable that returns a "
                f"fresh iterator each epoch instead, e.g. fit(lambda: make_batches(), "
                f"epochs={epochs})"
            )
        return lambda epoch: data
    return lambda epoch: iter(data)


def check_batch(net: Network, loss_fn: Loss, item: object, b: int,
                what: str = "batch") -> Batch | None:
    """One batch as arrays of the network's dtype, or None when all its weights are 0.

    Parameters
    ----------
    item : (X_batch, y_batch) or (X_batch, y_batch, sample_weight_batch)
        ``X_batch`` (m, n_inputs), ``y_batch`` (m, n_outputs) or (m,),
        ``sample_weight_batch`` (m,) or None.
    b : int
        The batch's number, counted from 0, for messages (``"batch 3: ..."``).

    Raises
    ------
    TypeError, ValueError
        Starting ``"batch b: "``, with the check's message.
    """
    if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
        raise TypeError(
            f"{what} {b}: expected a pair (X_batch, y_batch) or a triple (X_batch, y_batch, "
            f"sample_weight_batch), got {_describe(item)}"
            + ("" if what != "batch" else
               " (fit was given no y, so it reads X as a stream of batches; to train on "
               "arrays, pass y too)")
        )
    try:
        x, _ = check_X(item[0], net.n_inputs, net.dtype)
        actual = net.check_targets(item[1], x.shape[0], loss_fn)
        weights = None
        if len(item) == 3 and item[2] is not None:
            raw = np.asarray(item[2])
            if raw.dtype.kind in "biuf" and raw.shape == (x.shape[0],) and not raw.any():
                return None  # every row weighs 0: as if the batch were not there
            weights = check_sample_weight(raw, x.shape[0], net.dtype)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{what} {b}: {exc}") from exc
    return x, actual, weights


def _validation(net: Network, loss_fn: Loss, validation_data: object, epochs: int
                ) -> tuple[Callable[[int], Iterator] | None, tuple | None]:
    """``(stream source, None)`` or ``(None, (x_val, y_val, w_val))`` for ``validation_data``."""
    if validation_data is None:
        return None, None
    if not isinstance(validation_data, (tuple, list)) and is_stream(validation_data):
        return _epoch_source(validation_data, epochs, "validation_data"), None
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError(
            "validation_data must be a pair (X_val, y_val), a triple (X_val, y_val, "
            f"sample_weight_val) or a stream of batches, got {_describe(validation_data)}"
        )
    x_val, _ = check_X(validation_data[0], net.n_inputs, net.dtype, name="X_val")
    y_val = net.check_targets(validation_data[1], x_val.shape[0], loss_fn,
                              name="y_val", x_name="X_val")
    w_val = None
    if len(validation_data) == 3 and validation_data[2] is not None:
        w_val = check_sample_weight(validation_data[2], x_val.shape[0], net.dtype,
                                    name="the sample_weight of validation_data")
    return None, (x_val, y_val, w_val)


def _evaluate_stream(net: Network, loss_fn: Loss, metric_fns: dict,
                     batches: Iterator) -> dict[str, float]:
    """``val_loss`` and ``val_`` metrics over a stream of validation batches.

    The loss is each batch's loss weighed by its rows (or its total sample
    weight), summed for ``sse``: the loss of all the rows at once. Metrics
    (means over rows) are weighed by rows.
    """
    loss_total = mass = 0.0
    rows = 0
    metric_totals = dict.fromkeys(metric_fns, 0.0)
    try:
        for b, item in enumerate(batches):
            checked = check_batch(net, loss_fn, item, b, what="validation batch")
            if checked is None:
                continue
            x, actual, weights = checked
            zs, values = net.forward(x)
            batch_loss = net.loss_value(loss_fn, zs[-1], values[-1], actual, weights)
            batch_mass = x.shape[0] if weights is None else float(weights.sum())
            loss_total += batch_loss if loss_fn.name == "sse" else batch_loss * batch_mass
            mass += batch_mass
            rows += x.shape[0]
            for name, fn in metric_fns.items():
                metric_totals[name] += fn(values[-1], actual) * x.shape[0]
    finally:
        _close(batches)
    if rows == 0:
        raise ValueError("validation_data gave no batches (or only batches that weigh 0)")
    logs = {"val_loss": loss_total if loss_fn.name == "sse" else loss_total / mass}
    for name, total in metric_totals.items():
        logs[f"val_{name}"] = total / rows
    return logs


def _close(batches: object) -> None:
    """Close a generator left early, so that the files it reads are closed too."""
    close = getattr(batches, "close", None)
    if callable(close):
        close()


def fit_stream(
    net: Network,
    batches: object,
    loss: str | Loss = "mse",
    optimizer: str | Optimizer = "sgd",
    learning_rate: float | None = None,
    epochs: int = 1,
    batch_size: int | None = None,
    shuffle: bool = True,
    validation_data: object = None,
    validation_split: float = 0.0,
    metrics: Sequence[str] = (),
    callbacks: Sequence[Callback] = (),
    seed: int | np.random.Generator | None = None,
    verbose: int | str = "auto",
    sample_weight: object = None,
    l1: float = 0.0,
    l2: float = 0.0,
    penalize_bias: bool = False,
    clip_norm: float | None = None,
    clip_value: float | None = None,
) -> History:
    """Train ``net`` on a stream of batches; :func:`slopes.training.fit` with ``y=None``.

    Parameters
    ----------
    batches : callable, iterable or iterator of batches
        Each batch ``(X_batch, y_batch)`` or ``(X_batch, y_batch,
        sample_weight_batch)``: ``X_batch`` (m, n_features), ``y_batch``
        (m, n_outputs) or (m,), ``sample_weight_batch`` (m,). A callable is
        called once per epoch and must return a fresh iterator; an iterator
        (a generator) feeds one epoch only.
    validation_data : (X_val, y_val), (X_val, y_val, sample_weight_val), a stream or None
        A stream is read once per epoch, after the epoch's training.
    batch_size, validation_split, sample_weight
        Only for arrays: they must keep their defaults (None, 0, None).
    shuffle
        Does not apply: the batches are trained in the order they come.

    The other parameters are those of :func:`slopes.training.fit`, the
    penalties (``l1``, ``l2``, ``penalize_bias``), clipping (``clip_norm``,
    ``clip_value``) and the layers' dropout included.

    Returns
    -------
    History
    """
    loss_fn, opt, epochs, metric_fns, callbacks = check_settings(
        net, loss, optimizer, learning_rate, epochs, metrics, callbacks, shuffle, seed, verbose)
    options = check_step_options(net, l1, l2, penalize_bias, clip_norm, clip_value, seed)
    if batch_size is not None:
        raise ValueError(f"batch_size={batch_size!r} applies to arrays, not to a stream of "
                         "batches: they are trained as they come; cut them to the size you want")
    if sample_weight is not None:
        raise ValueError("sample_weight applies to arrays, not to a stream of batches: give "
                         "each batch's weights as a third item, (X_batch, y_batch, "
                         "sample_weight_batch)")
    if validation_split:
        raise ValueError(f"validation_split={validation_split!r} needs arrays to split; with a "
                         "stream of batches give validation_data (arrays or a stream) instead")
    source = _epoch_source(batches, epochs, "the data")
    val_source, val_arrays = _validation(net, loss_fn, validation_data, epochs)
    given = [0]  # the items the current epoch's stream gave, trained or not

    def epoch_batches(epoch: int) -> Iterator[tuple]:
        iterator = source(epoch)
        given[0] = 0
        try:
            for b, item in enumerate(iterator):
                given[0] += 1
                checked = check_batch(net, loss_fn, item, b)
                if checked is not None:  # None: every row weighs 0
                    xb, yb, wb = checked
                    yield b, xb, yb, wb, xb.shape[0] if wb is None else float(wb.sum())
        finally:
            _close(iterator)

    def validate(epoch: int) -> dict[str, float]:
        if val_arrays is not None:
            return validation_logs(net, loss_fn, metric_fns, *val_arrays)
        if val_source is not None:
            return _evaluate_stream(net, loss_fn, metric_fns, val_source(epoch))
        return {}

    def no_batches(epoch: int) -> str:
        if given[0] == 0:
            return f"the data gave no batches in epoch {epoch}"
        return (f"every batch of epoch {epoch} weighs 0; at least one sample weight must be "
                "positive")

    return train_epochs(net, loss_fn, opt, epochs, metric_fns, callbacks, seed, verbose,
                        {"stream": True}, Workspaces(net, loss_fn, options=options),
                        epoch_batches, validate,
                        no_batches)


def train_on_batch(net: Network, X: object, y: object, sample_weight: object = None, *,
                   optimizer: str | Optimizer = "sgd", learning_rate: float | None = None,
                   loss: str | Loss = "mse", batch: int = 0) -> float:
    """One step of ``optimizer`` on one batch; returns the batch's loss before the step.

    The same step as ``fit(X, y, batch_size=None, epochs=1, shuffle=False)``
    takes. An Optimizer object keeps its state (momentum, Adam's moments)
    from one call to the next; a name builds a fresh one each time.
    :meth:`Network.train_on_batch` keeps one for the network. ``batch``
    numbers the step in a :class:`~slopes.errors.TrainingDiverged` message.

    Parameters
    ----------
    X : array (m, n_features)
    y : array (m, n_outputs), or (m,) for one output or class labels
    sample_weight : array (m,) or None
    optimizer, learning_rate, loss
        As for :func:`slopes.training.fit`.
    batch : int
        The step's number, for messages.

    Returns
    -------
    float
        The batch's loss, measured before the update.

    Raises
    ------
    TrainingDiverged
        When the loss, a slope or a new weight is NaN or infinite; the
        weights stay as they were.
    """
    loss_fn = get_loss(loss)
    net.check_loss_fits(loss_fn)
    opt = get_optimizer(optimizer, learning_rate)
    x, _ = check_X(X, net.n_inputs, net.dtype)
    actual = net.check_targets(y, x.shape[0], loss_fn)
    weights = (None if sample_weight is None
               else check_sample_weight(sample_weight, x.shape[0], net.dtype))
    history = History(params={"loss": loss_fn.name, "optimizer": opt.name, **opt.config()})
    workspace = Workspace(net, loss_fn, x.shape[0])
    try:
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            batch_loss, _ = train_step(workspace, opt, x, actual, 0, batch, history, weights)
    finally:
        workspace.release()
    return float(batch_loss)


def train_kept_batch(net: Network, X: object, y: object, sample_weight: object = None, *,
                     optimizer: str | Optimizer = "sgd", learning_rate: float | None = None,
                     loss: str | Loss = "mse") -> float:
    """:meth:`Network.train_on_batch`: :func:`train_on_batch` with the optimizer the network keeps.

    The optimizer comes from :meth:`Network.keep_batch_optimizer`; the step
    is numbered by :attr:`Network.batch_steps`, counted up when it succeeds.
    """
    opt = net.keep_batch_optimizer(optimizer, learning_rate)
    step = net.batch_steps
    value = train_on_batch(net, X, y, sample_weight, optimizer=opt, loss=loss, batch=step)
    net.batch_steps = step + 1
    return value
