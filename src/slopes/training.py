"""The fit loop: batches, epochs, shuffling, validation, callbacks, and the History it returns.

One epoch is one pass over the training data, cut into batches. For each
batch: a forward pass, backpropagation, and one optimizer step. This is the
course's stochastic gradient descent; ``batch_size=None`` is plain (full
batch) gradient descent.

This module checks the arrays, cuts and shuffles the batches and holds out
the validation rows; the loop over epochs and batches, shared with streams
(:mod:`slopes.streaming`), is :func:`slopes.loop.train_epochs`.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .callbacks import Callback, History, TrainingRun
from .errors import TrainingDiverged
from .initializers import make_rng
from .loop import (
    Workspaces,
    check_sample_weight,
    check_settings,
    check_step_options,
    train_epochs,
    validation_logs,
)
from .losses import Loss
from .optimizers import Optimizer
from .streaming import fit_stream, is_stream
from .validation import check_positive_int, check_X

if TYPE_CHECKING:
    from .network import Network

__all__ = ["History", "TrainingDiverged", "TrainingRun", "fit", "batch_slices",
           "check_sample_weight"]


def batch_slices(n_samples: int, batch_size: int | None) -> list[slice]:
    """Slices cutting ``n_samples`` rows into batches; the last partial batch is kept."""
    size = n_samples if batch_size is None else batch_size
    return [slice(start, min(start + size, n_samples)) for start in range(0, n_samples, size)]


def fit(
    net: Network,
    X: object,
    y: object = None,
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
    sample_weight: object = None,
    l1: float = 0.0,
    l2: float = 0.0,
    penalize_bias: bool = False,
    clip_norm: float | None = None,
    clip_value: float | None = None,
) -> History:
    """Train ``net`` by backpropagation and gradient descent.

    Parameters
    ----------
    X : array (n_samples, n_features), or a stream of batches (with ``y=None``)
        A stream (a callable returning a fresh iterator of ``(X_batch,
        y_batch)`` pairs or ``(X_batch, y_batch, sample_weight_batch)``
        triples each epoch, or an iterable of them) is trained batch by
        batch without holding the data; see :mod:`slopes.streaming`.
    y : array (n_samples, n_outputs), or (n_samples,) for one output or class labels
        None when ``X`` is a stream.
    loss : str or Loss
        ``"mse"``, ``"sse"``, ``"half_mse"``, ``"mae"``, ``"binary_crossentropy"``
        (sigmoid output) or ``"categorical_crossentropy"`` (softmax output).
    optimizer : ``"sgd"``, ``"adam"``, ``"adamw"`` or an Optimizer
        By name, it is built with ``learning_rate`` (or its default: 0.01 for
        SGD, 0.001 for Adam). SGD without momentum is ``w -= learning_rate * slope``.
    learning_rate : float > 0 or None
    epochs : int >= 1
    batch_size : int or None
        ``None`` takes the whole training set as one batch; an int cuts it
        into mini-batches, the last partial batch kept.
    shuffle : bool
        Permute the rows (by index, with the seeded generator) every epoch.
    validation_data : (X_val, y_val), (X_val, y_val, sample_weight_val) or None
    validation_split : float in [0, 1)
        Hold out this fraction of the rows, taken from the end before any
        shuffling (as Keras does), for validation; their sample weights go with them.
    metrics : sequence of ``"accuracy"``, ``"mse"``, ``"mae"``
    callbacks : sequence of Callback
    seed : int, Generator or None
        The same seed gives bit-identical weights and history on one machine.
    verbose : ``"auto"``, 0, 1 or 2
        0 is silent. 1 shows a progress bar when stdout is a terminal and plain
        lines otherwise; 2 always prints plain lines. ``"auto"`` is 1.
    sample_weight : array (n_samples,) or None
        Weights ``w_i >= 0`` with a positive sum. Each batch's loss becomes
        ``L = sum_i w_i l_i / sum_i w_i`` over its rows (``sum_i w_i l_i`` for
        ``sse``), and so does its slope, exactly (see :mod:`slopes.losses`):
        with one batch, integer weights train exactly as repeating row ``i``
        ``w_i`` times. A batch whose weights are all 0 is skipped, as if its
        rows were not there. The epoch's ``loss`` weighs each batch by its
        total weight; metrics stay unweighted.
    l1 : float >= 0
    l2 : float >= 0
        Weight penalties of every layer whose own ``l1``/``l2`` is None
        (``Dense(..., l2=...)`` sets one layer's). Each batch descends
        ``loss + l1 * sum|w| + l2 * sum w^2`` over the weights ``w`` of the
        layers, so each weight's slope gains ``l1 * sign(w) + 2 * l2 * w``.
        PyTorch's coupled ``weight_decay=wd`` (slope ``+ wd * w``) is ``l2 =
        wd / 2`` with ``penalize_bias=True``; scikit-learn's ``alpha`` on
        batches of ``b`` rows is ``l2 = alpha / (2 * b)`` (see
        :mod:`slopes.penalties` for both rules in full). The History keeps
        them apart: ``loss`` (and ``val_loss``) is the data loss alone, as
        without a penalty, and ``penalty`` the penalty term, averaged over
        the epoch's batches as the loss is.
    penalize_bias : bool
        Penalize the biases too, with their layer's coefficients.
    clip_norm : float > 0 or None
        Before each optimizer step (after the penalty is added), when the
        L2 norm of all the slopes together exceeds it, multiply every slope
        by ``clip_norm / (norm + 1e-6)``: ``torch.nn.utils.clip_grad_norm_``.
    clip_value : float > 0 or None
        Then put every slope into ``[-clip_value, clip_value]``:
        ``torch.nn.utils.clip_grad_value_``.

    Dropout is a setting of the layers (``Dense(..., dropout=0.5)``,
    ``Network.mlp(..., dropout=0.5)``): each batch draws its masks from a
    generator spawned from ``seed``'s, so a fit with a seed is reproducible.

    Returns
    -------
    History

    Raises
    ------
    TrainingDiverged
        When the loss, a slope or a weight becomes NaN or infinite. The
        network keeps its last finite weights.
    """
    if y is None:
        if is_stream(X):
            return fit_stream(net, X, loss=loss, optimizer=optimizer,
                              learning_rate=learning_rate, epochs=epochs, batch_size=batch_size,
                              shuffle=shuffle, validation_data=validation_data,
                              validation_split=validation_split, metrics=metrics,
                              callbacks=callbacks, seed=seed, verbose=verbose,
                              sample_weight=sample_weight, l1=l1, l2=l2,
                              penalize_bias=penalize_bias, clip_norm=clip_norm,
                              clip_value=clip_value)
    loss_fn, opt, epochs, metric_fns, callbacks = check_settings(
        net, loss, optimizer, learning_rate, epochs, metrics, callbacks, shuffle, seed, verbose)
    options = check_step_options(net, l1, l2, penalize_bias, clip_norm, clip_value, seed)
    if batch_size is not None:
        batch_size = check_positive_int("batch_size", batch_size)
    shuffle = bool(shuffle)

    x, _ = check_X(X, net.n_inputs, net.dtype)
    actual = net.check_targets(y, x.shape[0], loss_fn)
    weights = (None if sample_weight is None
               else check_sample_weight(sample_weight, x.shape[0], net.dtype))
    val_weight = None
    if isinstance(validation_data, (tuple, list)) and len(validation_data) == 3:
        validation_data, val_weight = tuple(validation_data[:2]), validation_data[2]
    x, actual, x_val, y_val = _validation_set(net, loss_fn, x, actual,
                                              validation_data, validation_split)
    w_val = None
    if val_weight is not None:
        w_val = check_sample_weight(val_weight, x_val.shape[0], net.dtype,
                                    name="the sample_weight of validation_data")
    elif weights is not None and x_val is not None and validation_data is None:
        weights, w_val = weights[:x.shape[0]], weights[x.shape[0]:]
        if not weights.sum() > 0:
            raise ValueError(
                "sample_weight is zero for every training row left by validation_split; "
                "at least one weight must be positive"
            )
    rng = make_rng(seed)

    n = x.shape[0]
    slices = batch_slices(n, batch_size)
    # The network's parameters live in the workspace's flat arrays until it is released.
    workspaces = Workspaces(net, loss_fn, n if batch_size is None else min(batch_size, n),
                            options)
    # Unshuffled batches are the same views every epoch: cut them once, from [x, 1] when
    # the first layer folds its bias into its weights (two products fewer per batch) and
    # the copy of x costs at most 64 MB.
    xs = workspaces.current.with_ones(x) if not shuffle and x.nbytes <= 2**26 else x
    fixed = None if shuffle else [
        (xs[sl], actual[sl], None if weights is None else weights[sl]) for sl in slices]

    def batches(epoch: int) -> Iterator[tuple]:
        order = rng.permutation(n) if shuffle else None
        for b, sl in enumerate(slices):
            if order is None:  # views, no copies
                xb, yb, wb = fixed[b]
            else:  # gathered by index into the workspace's buffers
                xb, yb, wb = workspaces.current.gather(order[sl], x, actual, weights)
            if wb is None:
                yield b, xb, yb, None, xb.shape[0]
            else:
                mass = float(wb.sum())
                if mass:  # a batch whose every row weighs 0 is as if it were not there
                    yield b, xb, yb, wb, mass

    def validate(epoch: int) -> dict[str, float]:
        if x_val is None:
            return {}
        return validation_logs(net, loss_fn, metric_fns, x_val, y_val, w_val)

    params = {"batch_size": batch_size, "shuffle": shuffle,
              "validation_split": float(validation_split)}  # np.float32 is no JSON number
    return train_epochs(net, loss_fn, opt, epochs, metric_fns, callbacks, seed, verbose, params,
                        workspaces, batches, validate)


def _validation_set(net: Network, loss_fn: Loss, x: np.ndarray, actual: np.ndarray,
                    validation_data: tuple[object, object] | None, validation_split: float
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    # Any real number type: np.float32(0.2) from a config or an array is as good as 0.2.
    if isinstance(validation_split, (bool, np.bool_)) \
            or not isinstance(validation_split, numbers.Real) or not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
    validation_split = float(validation_split)
    if validation_data is not None:
        if validation_split:
            raise ValueError("give validation_data or validation_split, not both")
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            got = (f"a {type(validation_data).__name__} of {len(validation_data)}"
                   if isinstance(validation_data, (tuple, list))
                   else type(validation_data).__name__)
            # fit has already taken a triple apart, so only other lengths reach here.
            raise ValueError(
                "validation_data must be a pair (X_val, y_val) or a triple "
                f"(X_val, y_val, sample_weight_val), got {got}"
            )
        x_val, _ = check_X(validation_data[0], net.n_inputs, net.dtype, name="X_val")
        y_val = net.check_targets(validation_data[1], x_val.shape[0], loss_fn,
                                  name="y_val", x_name="X_val")
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
