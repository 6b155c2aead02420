"""Learning-rate schedules: callbacks that set the optimizer's learning rate epoch by epoch.

A schedule is a :class:`~slopes.callbacks.Callback`. Give it to ``fit`` with
the others::

    net.fit(X, y, optimizer="sgd", learning_rate=0.1, epochs=100,
            callbacks=[StepLR(step_size=30, gamma=0.1)])

When training starts it reads the optimizer's learning rate, the *base rate*;
before each epoch it sets the rate that epoch trains with
(:class:`ReduceLROnPlateau` decides after each epoch, from a value it logged).
The history logs every epoch's rate as ``lr``; ``history.plot(lr=True)``
draws it. When training ends the optimizer gets its base rate back, so a
second ``fit`` starts the schedule afresh.

Each rule is PyTorch's (``torch.optim.lr_scheduler``), with its names and
defaults, and computes the same numbers to the last bit: where PyTorch
computes a rate from the rate of the epoch before (its "chainable" form),
so does slopes, in the same order of operations. Because that form starts
from the optimizer's current rate, two schedules in one ``fit`` compose as
PyTorch's ``ChainedScheduler`` composes them.

:func:`get_schedule` reads a short text (``"step:10,0.5"``, ``"cosine:100"``,
``"warmup:5+cosine:100"``, ``"plateau:0.5,5"``) or the plain JSON of ``to_dict()``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from .callbacks import Callback, Logs
from .validation import short_repr

__all__ = ["LearningRateSchedule", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LinearWarmup",
           "ReduceLROnPlateau", "SCHEDULES", "SCHEDULE_FORMS", "get_schedule"]

#: The short texts :func:`get_schedule` reads: a name, the values after ':' in order
#: (how many are required), and the form with an example.
_SHORT: dict[str, tuple[tuple[str, ...], int, str]] = {
    "step": (("step_size", "gamma"), 1, "step:STEP_SIZE[,GAMMA] (e.g. step:10,0.5)"),
    "exponential": (("gamma",), 1, "exponential:GAMMA (e.g. exponential:0.95)"),
    "cosine": (("T_max", "eta_min"), 1, "cosine:T_MAX[,ETA_MIN] (e.g. cosine:100)"),
    "warmup": (("warmup_epochs", "start_factor", "end_factor"), 1,
               "warmup:EPOCHS[,START_FACTOR[,END_FACTOR]][+SCHEDULE] (e.g. warmup:5+cosine:100)"),
    "plateau": (("factor", "patience", "monitor"), 0,
                "plateau[:FACTOR[,PATIENCE[,MONITOR]]] (e.g. plateau:0.5,5)"),
}
_WHOLE = {"step_size", "T_max", "warmup_epochs", "patience"}
#: The forms :func:`get_schedule` reads, each with an example.
SCHEDULE_FORMS = tuple(form for _, _, form in _SHORT.values()) + ("none",)


def _number(name: str, value: object, low: float, low_inclusive: bool,
            high: float | None = None, high_inclusive: bool = False) -> float:
    """``value`` as a finite float in the given range, else an error repeating it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {short_repr(value)}")
    if not ((value >= low if low_inclusive else value > low)
            and (high is None or (value <= high if high_inclusive else value < high))):
        bound = f"{'>=' if low_inclusive else '>'} {low:g}" if high is None else (
            f"in {'[' if low_inclusive else '('}{low:g}, {high:g}{']' if high_inclusive else ')'}")
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return float(value)


def _whole(name: str, value: object, low: int) -> int:
    """``value`` as an int >= ``low``, else an error repeating it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {short_repr(value)}")
    return int(value)


class LearningRateSchedule(Callback):
    """Base class: a callback that sets the optimizer's ``learning_rate`` before each epoch.

    A subclass gives :meth:`rate_at`, the rate of epoch ``epoch`` from the
    rate of the epoch before, as PyTorch computes it. ``name`` is the word
    :func:`get_schedule` reads; ``settings`` are the constructor's arguments.
    """

    name = "schedule"

    def settings(self) -> dict[str, Any]:
        """The constructor's arguments by name, plain JSON values."""
        raise NotImplementedError

    def rate_at(self, epoch: int, rate: float, base_rate: float) -> float:
        """The learning rate of epoch ``epoch`` (from 0).

        ``rate`` is the optimizer's rate now: the one of epoch ``epoch - 1``,
        or for epoch 0 the rate it has when training starts; ``base_rate``
        is the latter.
        """
        raise NotImplementedError

    def closed_form(self, epoch: int, base_rate: float) -> float:
        """The rate of epoch ``epoch`` by the formula of the docstring, without the epochs before.

        Equal to :meth:`rate_at`'s to a few units in the last place; PyTorch
        uses it where a :class:`LinearWarmup` hands over (at epoch 0 of the
        schedule after it).
        """
        raise NotImplementedError

    def rates(self, base_rate: float, epochs: int) -> list[float]:
        """The rates of epochs ``0 .. epochs - 1`` from ``base_rate``, as ``fit`` sets them.

        >>> StepLR(step_size=2, gamma=0.5).rates(0.1, 5)
        [0.1, 0.1, 0.05, 0.05, 0.025]
        """
        base_rate = _number("base_rate", base_rate, 0.0, False)
        rate, out = base_rate, []
        for epoch in range(_whole("epochs", epochs, 0)):
            rate = self.rate_at(epoch, rate, base_rate)
            out.append(rate)
        return out

    # -- as a callback
    def on_train_begin(self, logs: Logs) -> None:
        optimizer = getattr(self.training, "optimizer", None)
        if optimizer is None:
            raise RuntimeError(
                f"{type(self).__name__} sets the optimizer's learning rate, but this training "
                "run gives callbacks no optimizer (TrainingRun.optimizer is None); give the "
                "schedule to fit or fit_stream in callbacks=[...]")
        self.optimizer = optimizer
        self.base_rate = float(optimizer.learning_rate)

    def on_epoch_begin(self, epoch: int, logs: Logs) -> None:
        self.optimizer.learning_rate = self.rate_at(epoch, self.optimizer.learning_rate,
                                                    self.base_rate)

    def on_train_end(self, logs: Logs) -> None:
        self.optimizer.learning_rate = self.base_rate

    # -- saved and shown
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON for a model file, read back by :func:`get_schedule`.

        >>> StepLR(10, gamma=0.5).to_dict()
        {'schedule': 'step', 'step_size': 10, 'gamma': 0.5}
        """
        return {"schedule": self.name, **self.settings()}

    def describe(self) -> str:
        """One line for people: the rule, its settings and the PyTorch class it equals."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.settings())
        return f"{type(self).__name__}({args})"


class StepLR(LearningRateSchedule):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    ``lr(epoch) = base_rate * gamma ** (epoch // step_size)``, epochs counted
    from 0; exactly ``torch.optim.lr_scheduler.StepLR(optimizer, step_size,
    gamma)``, which multiplies the rate of the epoch before by ``gamma`` at
    epochs ``step_size, 2 * step_size, ...``.

    Parameters
    ----------
    step_size : int >= 1
        Epochs between two decays.
    gamma : float > 0
        The factor (PyTorch's default 0.1).

    >>> StepLR(step_size=2, gamma=0.5).rates(0.1, 5)
    [0.1, 0.1, 0.05, 0.05, 0.025]
    """

    name = "step"

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = _whole("step_size", step_size, 1)
        self.gamma = _number("gamma", gamma, 0.0, False)

    def settings(self) -> dict[str, Any]:
        return {"step_size": self.step_size, "gamma": self.gamma}

    def rate_at(self, epoch: int, rate: float, base_rate: float) -> float:
        if epoch == 0 or epoch % self.step_size != 0:
            return rate
        return rate * self.gamma

    def closed_form(self, epoch: int, base_rate: float) -> float:
        return base_rate * self.gamma ** (epoch // self.step_size)

    def describe(self) -> str:
        return (f"learning rate x {self.gamma:g} every {self.step_size} epoch(s): "
                f"lr = base x {self.gamma:g}^(epoch // {self.step_size}) (PyTorch's StepLR)")


class ExponentialLR(LearningRateSchedule):
    """Multiply the learning rate by ``gamma`` every epoch.

    ``lr(epoch) = base_rate * gamma ** epoch``; exactly
    ``torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma)``, which
    computes ``lr(epoch) = lr(epoch - 1) * gamma``.

    Parameters
    ----------
    gamma : float > 0
        Below 1 the rate decays; above 1 it grows (a learning-rate range test).

    >>> ExponentialLR(0.5).rates(0.1, 4)
    [0.1, 0.05, 0.025, 0.0125]
    """

    name = "exponential"

    def __init__(self, gamma: float) -> None:
        self.gamma = _number("gamma", gamma, 0.0, False)

    def settings(self) -> dict[str, Any]:
        return {"gamma": self.gamma}

    def rate_at(self, epoch: int, rate: float, base_rate: float) -> float:
        return rate if epoch == 0 else rate * self.gamma

    def closed_form(self, epoch: int, base_rate: float) -> float:
        return base_rate * self.gamma**epoch

    def describe(self) -> str:
        return (f"learning rate x {self.gamma:g} every epoch: lr = base x {self.gamma:g}^epoch "
                "(PyTorch's ExponentialLR)")


class CosineAnnealingLR(LearningRateSchedule):
    """Lower the learning rate from the base rate to ``eta_min`` along half a cosine.

    ``lr(epoch) = eta_min + (base_rate - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``:
    the base rate at epoch 0, ``eta_min`` at epoch ``T_max``, then back up
    (a period of ``2 * T_max`` epochs; usually ``T_max`` is the number of
    epochs). Exactly ``torch.optim.lr_scheduler.CosineAnnealingLR(optimizer,
    T_max, eta_min)``, which computes each rate from the one before::

        lr(e) = (1 + cos(pi * e / T_max)) / (1 + cos(pi * (e - 1) / T_max))
                * (lr(e - 1) - eta_min) + eta_min
        lr(e) = lr(e - 1) + (base_rate - eta_min) * (1 - cos(pi / T_max)) / 2
                when (e - 1 - T_max) % (2 * T_max) == 0   (the turn at the bottom)

    Parameters
    ----------
    T_max : int >= 1
        Epochs from the base rate down to ``eta_min``.
    eta_min : float >= 0
        The lowest rate (default 0: the epoch ``T_max`` itself trains with rate 0).

    >>> [round(r, 6) for r in CosineAnnealingLR(T_max=4).rates(1.0, 5)]
    [1.0, 0.853553, 0.5, 0.146447, 0.0]
    """

    name = "cosine"

    def __init__(self, T_max: int, eta_min: float = 0.0) -> None:
        self.T_max = _whole("T_max", T_max, 1)
        self.eta_min = _number("eta_min", eta_min, 0.0, True)

    def settings(self) -> dict[str, Any]:
        return {"T_max": self.T_max, "eta_min": self.eta_min}

    def rate_at(self, epoch: int, rate: float, base_rate: float) -> float:
        # PyTorch's expressions, term for term, so that the rounding is the same.
        if epoch == 0:
            return rate
        if (epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            return rate + (base_rate - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
        return ((1 + math.cos(math.pi * epoch / self.T_max))
                / (1 + math.cos(math.pi * (epoch - 1) / self.T_max))
                * (rate - self.eta_min) + self.eta_min)

    def closed_form(self, epoch: int, base_rate: float) -> float:
        return (self.eta_min + (base_rate - self.eta_min)
                * (1 + math.cos(math.pi * epoch / self.T_max)) / 2)

    def describe(self) -> str:
        return (f"cosine from the base rate down to {self.eta_min:g} over {self.T_max} epochs: "
                f"lr = {self.eta_min:g} + (base - {self.eta_min:g}) x (1 + cos(pi x epoch / "
                f"{self.T_max})) / 2 (PyTorch's CosineAnnealingLR)")


class LinearWarmup(LearningRateSchedule):
    """Raise the learning rate in a straight line over the first epochs, then hand over.

    ``lr(epoch) = base_rate * (start_factor + (end_factor - start_factor) *
    min(epoch, warmup_epochs) / warmup_epochs)``: ``start_factor * base_rate``
    at epoch 0, ``end_factor * base_rate`` from epoch ``warmup_epochs`` on.
    Exactly ``torch.optim.lr_scheduler.LinearLR(optimizer, start_factor,
    end_factor, total_iters=warmup_epochs)``, which computes each rate from
    the one before::

        lr(e) = lr(e - 1) * (1 + (end_factor - start_factor)
                / (warmup_epochs * start_factor + (e - 1) * (end_factor - start_factor)))

    With ``then``, the other schedule takes over at epoch ``warmup_epochs``
    and runs from its own epoch 0 (its first rate by its formula):
    exactly ``SequentialLR(optimizer, [LinearLR(...), then],
    milestones=[warmup_epochs])``.

    Parameters
    ----------
    warmup_epochs : int >= 1
        PyTorch's ``total_iters``.
    start_factor : float in (0, 1]
        The first epoch's rate as a fraction of the base rate (PyTorch's default 1/3).
    end_factor : float in [0, 1]
    then : StepLR, ExponentialLR, CosineAnnealingLR or LinearWarmup, optional
        The schedule after the warm-up (not ReduceLROnPlateau, which
        SequentialLR refuses too: give it as a second callback instead).

    >>> [round(r, 12) for r in LinearWarmup(4, start_factor=0.2).rates(1.0, 6)]
    [0.2, 0.4, 0.6, 0.8, 1.0, 1.0]
    >>> LinearWarmup(2, start_factor=0.5, then=StepLR(1, gamma=0.5)).rates(1.0, 5)
    [0.5, 0.75, 1.0, 0.5, 0.25]
    """

    name = "warmup"

    def __init__(self, warmup_epochs: int, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, then: LearningRateSchedule | None = None) -> None:
        self.warmup_epochs = _whole("warmup_epochs", warmup_epochs, 1)
        self.start_factor = _number("start_factor", start_factor, 0.0, False, 1.0, True)
        self.end_factor = _number("end_factor", end_factor, 0.0, True, 1.0, True)
        if then is not None and (not isinstance(then, (StepLR, ExponentialLR, CosineAnnealingLR,
                                                       LinearWarmup))
                                 or getattr(then, "then", None) is not None):
            raise ValueError(
                "then must be the schedule after the warm-up: a StepLR, ExponentialLR, "
                "CosineAnnealingLR or LinearWarmup without a then of its own, got "
                f"{short_repr(then)}; to reduce on plateau after a warm-up, give both: "
                "callbacks=[LinearWarmup(...), ReduceLROnPlateau(...)]")
        self.then = then

    def settings(self) -> dict[str, Any]:
        settings = {"warmup_epochs": self.warmup_epochs, "start_factor": self.start_factor,
                    "end_factor": self.end_factor}
        if self.then is not None:
            settings["then"] = self.then.to_dict()
        return settings

    def rate_at(self, epoch: int, rate: float, base_rate: float) -> float:
        if self.then is not None and epoch >= self.warmup_epochs:
            if epoch == self.warmup_epochs:  # SequentialLR restarts `then` by its formula
                return self.then.closed_form(0, base_rate)
            return self.then.rate_at(epoch - self.warmup_epochs, rate, base_rate)
        if epoch == 0:
            return rate * self.start_factor
        if epoch > self.warmup_epochs:
            return rate
        change = self.end_factor - self.start_factor
        return rate * (1.0 + change / (self.warmup_epochs * self.start_factor
                                       + (epoch - 1) * change))

    def closed_form(self, epoch: int, base_rate: float) -> float:
        return base_rate * (self.start_factor + (self.end_factor - self.start_factor)
                            * min(self.warmup_epochs, epoch) / self.warmup_epochs)

    def describe(self) -> str:
        text = (f"linear warm-up from {self.start_factor:g} x base to {self.end_factor:g} x base "
                f"over {self.warmup_epochs} epoch(s) (PyTorch's LinearLR)")
        return text if self.then is None else f"{text}, then {self.then.describe()}"


class ReduceLROnPlateau(LearningRateSchedule):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving.

    After each epoch, exactly as ``torch.optim.lr_scheduler.ReduceLROnPlateau``
    fed that epoch's ``logs[monitor]``:

    - the value improves on the best so far when ``value < best * (1 -
      threshold)`` (``mode="min"``, ``threshold_mode="rel"``), ``value <
      best - threshold`` (``"abs"``), and for ``mode="max"`` ``value > best *
      (1 + threshold)`` or ``value > best + threshold``; a NaN never does;
    - otherwise the epoch is a bad one; in the ``cooldown`` epochs after a
      reduction bad epochs are not counted;
    - after more than ``patience`` bad epochs in a row, the next epochs train
      with ``lr = max(lr * factor, min_lr)`` (unchanged when that lowers the
      rate by ``eps`` or less).

    Parameters
    ----------
    monitor : str
        A value ``fit`` logs: ``"val_loss"`` (needs validation data),
        ``"loss"``, a metric or its ``val_`` twin.
    factor : float in (0, 1)
    patience : int >= 0
    threshold : float >= 0
    mode : ``"min"`` or ``"max"``
    threshold_mode : ``"rel"`` or ``"abs"``
    cooldown : int >= 0
    min_lr : float >= 0
    eps : float >= 0

    Attributes
    ----------
    reductions : list of (epoch, old rate, new rate)
        The reductions of the last fit, after the epoch that made them.

    >>> ReduceLROnPlateau(factor=0.5, patience=1).rates(1.0, [3, 2, 2, 2, 2, 2])
    [1.0, 1.0, 1.0, 1.0, 0.5, 0.5]
    """

    name = "plateau"

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, mode: str = "min", threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float = 0.0, eps: float = 1e-8) -> None:
        if not isinstance(monitor, str) or not monitor.strip() or "," in monitor:
            raise ValueError(
                "monitor must be the name of a value fit logs, like 'val_loss', 'loss' or "
                f"'val_accuracy', got {short_repr(monitor)} ({type(monitor).__name__})")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {short_repr(mode)}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got "
                             f"{short_repr(threshold_mode)}")
        self.monitor = monitor
        self.factor = _number("factor", factor, 0.0, False, 1.0, False)
        self.patience = _whole("patience", patience, 0)
        self.threshold = _number("threshold", threshold, 0.0, True)
        self.mode = mode
        self.threshold_mode = threshold_mode
        self.cooldown = _whole("cooldown", cooldown, 0)
        self.min_lr = _number("min_lr", min_lr, 0.0, True)
        self.eps = _number("eps", eps, 0.0, True)
        self.reset()

    def settings(self) -> dict[str, Any]:
        return {"factor": self.factor, "patience": self.patience, "monitor": self.monitor,
                "threshold": self.threshold, "mode": self.mode,
                "threshold_mode": self.threshold_mode, "cooldown": self.cooldown,
                "min_lr": self.min_lr, "eps": self.eps}

    def describe(self) -> str:
        return (f"learning rate x {self.factor:g} after {self.patience + 1} epoch(s) in a row "
                f"without {self.monitor} {'falling' if self.mode == 'min' else 'rising'} by "
                f"{self.threshold:g}{' of its best' if self.threshold_mode == 'rel' else ''}, "
                f"never below {self.min_lr:g} (PyTorch's ReduceLROnPlateau)")

    def reset(self) -> None:
        """Forget the best value and the counts: a fresh start, as every fit makes."""
        self.best = math.inf if self.mode == "min" else -math.inf
        self.bad_epochs = self.cooldown_left = 0
        self.reductions: list[tuple[int, float, float]] = []

    def improved(self, value: float) -> bool:
        """Whether ``value`` beats the best so far by the threshold."""
        # best * (1 - threshold) rounds as PyTorch's best * rel_epsilon: the same float.
        step = self.threshold if self.mode == "max" else -self.threshold
        bar = self.best * (1.0 + step) if self.threshold_mode == "rel" else self.best + step
        return value > bar if self.mode == "max" else value < bar

    def observe(self, value: float, rate: float, epoch: int = 0) -> float:
        """Take one epoch's value of ``monitor``; return the rate for the next epoch."""
        if self.improved(value):
            self.best, self.bad_epochs = value, 0
        else:
            self.bad_epochs += 1
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.bad_epochs = 0  # bad epochs in the cooldown are not counted
        if self.bad_epochs > self.patience:
            new_rate = max(rate * self.factor, self.min_lr)
            if rate - new_rate > self.eps:
                self.reductions.append((epoch, rate, new_rate))
                rate = new_rate
            self.cooldown_left, self.bad_epochs = self.cooldown, 0
        return rate

    def rates(self, base_rate: float, monitored: Sequence[float]) -> list[float]:  # type: ignore[override]
        """The rate of each epoch, given the ``monitor`` value each epoch logs (``monitored``)."""
        rate = _number("base_rate", base_rate, 0.0, False)
        self.reset()
        out = []
        for epoch, value in enumerate(monitored):
            out.append(rate)
            rate = self.observe(float(value), rate, epoch)
        return out

    def on_train_begin(self, logs: Logs) -> None:
        super().on_train_begin(logs)
        self.reset()

    def on_epoch_begin(self, epoch: int, logs: Logs) -> None:
        """Nothing: this schedule decides after each epoch."""

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        if self.monitor not in logs:
            raise ValueError(
                f"ReduceLROnPlateau monitors {self.monitor!r}, but fit logs only "
                f"{', '.join(sorted(k for k in logs if not k.startswith('_')))}; pass "
                "validation_data or validation_split for val_ values, or change monitor")
        self.optimizer.learning_rate = self.observe(float(logs[self.monitor]),
                                                    self.optimizer.learning_rate, epoch)


#: The schedules by the name :func:`get_schedule` reads.
SCHEDULES: dict[str, type[LearningRateSchedule]] = {
    "step": StepLR, "exponential": ExponentialLR, "cosine": CosineAnnealingLR,
    "warmup": LinearWarmup, "plateau": ReduceLROnPlateau}


def get_schedule(schedule: object) -> LearningRateSchedule | None:
    """A schedule from its short text, its :meth:`~LearningRateSchedule.to_dict`, or itself.

    The short text (spaces and case do not matter)::

        step:STEP_SIZE[,GAMMA]                     StepLR(step_size, gamma=0.1)
        exponential:GAMMA                          ExponentialLR(gamma)
        cosine:T_MAX[,ETA_MIN]                     CosineAnnealingLR(T_max, eta_min=0)
        warmup:EPOCHS[,START_FACTOR[,END_FACTOR]]  LinearWarmup(EPOCHS, 1/3, 1.0)
        warmup:...+SCHEDULE                        LinearWarmup(..., then=SCHEDULE)
        plateau[:FACTOR[,PATIENCE[,MONITOR]]]      ReduceLROnPlateau(monitor="val_loss",
                                                                     factor=0.1, patience=10)
        none                                       no schedule (None)

    None gives None; a schedule object is returned as it is.

    >>> get_schedule("step:10,0.5")
    StepLR(step_size=10, gamma=0.5)
    >>> get_schedule("warmup:5+cosine:100").then
    CosineAnnealingLR(T_max=100, eta_min=0.0)
    >>> get_schedule({"schedule": "step", "step_size": 10, "gamma": 0.5})
    StepLR(step_size=10, gamma=0.5)
    """
    if schedule is None or isinstance(schedule, LearningRateSchedule):
        return schedule
    if isinstance(schedule, Mapping):
        return _from_dict(schedule)
    if not isinstance(schedule, str):
        raise TypeError(f"schedule must be a text such as 'step:10,0.5', a dict from to_dict() "
                        f"or a schedule object, got {short_repr(schedule)} "
                        f"({type(schedule).__name__})")
    text = "".join(schedule.split()).lower()
    if text in ("none", ""):
        return None
    first, plus, rest = text.partition("+")
    warmup = _from_text(first, schedule)
    if not plus:
        return warmup
    if not isinstance(warmup, LinearWarmup) or "+" in rest:
        raise ValueError(f"schedule {schedule!r}: '+' joins a warm-up and one schedule after "
                         f"it (warmup:5+cosine:100); expected one of {'; '.join(SCHEDULE_FORMS)}")
    then = _from_text(rest, schedule)
    try:
        return LinearWarmup(warmup.warmup_epochs, warmup.start_factor, warmup.end_factor, then)
    except ValueError as error:
        raise ValueError(f"schedule {schedule!r}: {error}") from None


def _from_text(text: str, whole_text: str) -> LearningRateSchedule:
    name, colon, args = text.partition(":")
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {whole_text!r}; "
                         f"expected one of {'; '.join(SCHEDULE_FORMS)}")
    names, required, form = _SHORT[name]
    values = args.split(",") if colon else []
    if not required <= len(values) <= len(names) or "" in values:
        raise ValueError(f"schedule {whole_text!r}: {name} takes {required} to {len(names)} "
                         f"value(s) after ':', got {args!r}; expected {form}")
    kwargs: dict[str, Any] = {}
    for key, value in zip(names, values, strict=False):
        if key == "monitor":
            kwargs[key] = value
            continue
        try:
            kwargs[key] = int(value) if key in _WHOLE else float(value)
        except ValueError:
            kind = "a whole number" if key in _WHOLE else "a number"
            raise ValueError(f"schedule {whole_text!r}: {key} must be {kind}, got {value!r}; "
                             f"expected {form}") from None
    try:
        return SCHEDULES[name](**kwargs)
    except ValueError as error:
        raise ValueError(f"schedule {whole_text!r}: {error}; expected {form}") from None


def _from_dict(settings: Mapping[str, Any]) -> LearningRateSchedule:
    name = settings.get("schedule")
    if name not in SCHEDULES:
        raise ValueError(f"a schedule's dict needs 'schedule': one of {', '.join(SCHEDULES)}, "
                         f"got {short_repr(name)}")
    kwargs = {k: v for k, v in settings.items() if k != "schedule"}
    cls = SCHEDULES[name]
    known = cls.__init__.__code__.co_varnames[1:cls.__init__.__code__.co_argcount]
    unknown = sorted(set(kwargs) - set(known))
    if unknown:
        raise ValueError(f"the {name} schedule ({cls.__name__}) has no setting "
                         f"{', '.join(map(repr, unknown))}; its settings are {', '.join(known)}")
    if name == "warmup" and kwargs.get("then") is not None:
        kwargs["then"] = get_schedule(kwargs["then"])
    return cls(**kwargs)
