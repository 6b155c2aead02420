"""Update rules: how a weight moves given its slope.

An optimizer is separate from the network. It keeps its state (momentum
buffers, moment estimates) per parameter, in a list aligned with
``net.parameters()``, created on the first step. The rules, defaults and
weight-decay handling are those of ``torch.optim.SGD``, ``torch.optim.Adam``
and ``torch.optim.AdamW``, so a model trained with either library gives the
same numbers.

Weight decay comes two ways. SGD's and Adam's ``weight_decay`` is coupled: it
adds ``weight_decay * p`` to the slope before the rule, the slope of the
penalty ``(weight_decay / 2) * sum p^2`` (``fit(..., l2=weight_decay / 2,
penalize_bias=True)`` is the same step). AdamW's is decoupled: the weight
shrinks by ``learning_rate * weight_decay * p`` beside Adam's step, and the
moments never see it.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .validation import short_repr

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "OPTIMIZERS", "get_optimizer"]


def _check(name: str, value: object, low: float, low_inclusive: bool,
           high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if math.isinf(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    ok_low = value >= low if low_inclusive else value > low
    ok_high = high is None or value < high
    if not (ok_low and ok_high):
        bound = f"{'>=' if low_inclusive else '>'} {low:g}"
        if high is not None:
            bound = f"in [{low:g}, {high:g})"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return float(value)


class Optimizer:
    """Base class. ``updates(params, slopes)`` returns what to subtract from each parameter.

    ``step(params, slopes)`` applies those updates in place. The fit loop uses
    ``updates`` so it can refuse an update that would make a weight
    non-finite.
    """

    name = "optimizer"

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = _check("learning_rate", learning_rate, 0.0, False)
        self.state: list[dict[str, np.ndarray]] | None = None
        self.iterations = 0

    def updates(self, params: list[np.ndarray], slopes: list[np.ndarray]) -> list[np.ndarray]:
        self._start_step(len(params))
        return [self._update(p, g, s) for p, g, s in zip(params, slopes, self.state, strict=True)]

    def flat_updates(self, slopes: np.ndarray, n_params: int, out: np.ndarray) -> bool:
        """The updates of all parameters at once, from their slopes laid end to end.

        ``slopes`` is one flat array holding the slopes of ``n_params``
        parameters one after the other; the updates are written into ``out``
        in the same layout, as :meth:`updates` would compute them, and the
        step is counted. Returns False, writing nothing, when the rule needs
        each parameter apart (momentum, weight decay, Adam): then use
        :meth:`updates`. The fit loop's one call per batch.
        """
        return False

    def _start_step(self, n_params: int) -> None:
        if self.state is None:
            self.state = [{} for _ in range(n_params)]
        elif len(self.state) != n_params:
            raise ValueError(
                f"this optimizer holds state for {len(self.state)} parameters, but got "
                f"{n_params}; use a new optimizer for a different network"
            )
        self.iterations += 1

    def snapshot(self) -> tuple[int, list[dict] | None]:
        """The step count and the state, for :meth:`restore` after a refused step.

        A shallow copy, which costs nothing per number: the rules never change
        an array of the state in place, they write the new values into a
        spare array and swap the two (:meth:`_keep`), so the arrays a snapshot
        holds keep their values. A rule of one's own that changes its state
        arrays in place is not undone by :meth:`restore`.
        """
        return self.iterations, None if self.state is None else [dict(s) for s in self.state]

    def restore(self, snapshot: tuple[int, list[dict] | None]) -> None:
        """Go back to a :meth:`snapshot`: the step it was taken before never happened."""
        self.iterations, self.state = snapshot

    @staticmethod
    def _spare(state: dict, key: str, like: np.ndarray) -> np.ndarray:
        """An array to compute the new ``state[key]`` into, leaving the current one as it is."""
        spare = state.get("spare_" + key)
        return np.empty_like(like) if spare is None else spare

    @staticmethod
    def _keep(state: dict, key: str, new: np.ndarray) -> None:
        """``state[key] = new``; the array it replaces becomes the spare for the next step."""
        state["spare_" + key], state[key] = state.get(key), new

    def step(self, params: list[np.ndarray], slopes: list[np.ndarray]) -> None:
        """Apply one update in place: ``p -= update`` for every parameter."""
        for p, delta in zip(params, self.updates(params, slopes), strict=True):
            p -= delta

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> np.ndarray:
        raise NotImplementedError

    def overflowed(self) -> int | None:
        """The index of the first parameter whose state is no longer finite, or None.

        A state that overflows without making the updates non-finite (which
        the fit loop catches at once) stops training silently; the fit loop
        asks this after the first and the last epoch. None for rules whose
        state cannot do that.
        """
        return None

    def config(self) -> dict[str, float | bool]:
        """The optimizer's settings, for saving with a model."""
        return {k: v for k, v in vars(self).items() if k not in ("state", "iterations")}


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum and weight decay.

    The rule, exactly as ``torch.optim.SGD`` (dampening 0), for each parameter
    ``p`` with slope ``g``::

        g = g + weight_decay * p
        if momentum:
            buf = g if first step else momentum * buf + g
            g = g + momentum * buf if nesterov else buf
        p = p - learning_rate * g

    With the defaults this is the course's ``w -= learning_rate * slope``.
    """

    name = "sgd"

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0) -> None:
        super().__init__(learning_rate)
        self.momentum = _check("momentum", momentum, 0.0, True)
        self.weight_decay = _check("weight_decay", weight_decay, 0.0, True)
        if nesterov and self.momentum == 0:
            raise ValueError(f"nesterov=True needs momentum > 0, got momentum={momentum!r}")
        self.nesterov = bool(nesterov)

    def flat_updates(self, slopes: np.ndarray, n_params: int, out: np.ndarray) -> bool:
        # Plain SGD, learning_rate * slope, is the same for every number: one
        # multiplication covers every parameter. The rest needs each parameter.
        if self.momentum or self.weight_decay or type(self)._update is not SGD._update:
            return False
        self._start_step(n_params)
        np.multiply(slopes, slopes.dtype.type(self.learning_rate), out=out)
        return True

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> np.ndarray:
        dt = p.dtype.type
        if self.weight_decay:
            g = g + dt(self.weight_decay) * p
        if self.momentum:
            buf = self._spare(state, "momentum_buffer", g)
            if "momentum_buffer" not in state:
                np.copyto(buf, g)
            else:
                np.multiply(state["momentum_buffer"], dt(self.momentum), out=buf)
                buf += g
            self._keep(state, "momentum_buffer", buf)
            g = g + dt(self.momentum) * buf if self.nesterov else buf
        return dt(self.learning_rate) * g


class Adam(Optimizer):
    """Adam, exactly as ``torch.optim.Adam`` (L2 weight decay added to the slope).

    For each parameter ``p`` with slope ``g``, at step ``t = 1, 2, ...``::

        g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        denom = sqrt(v) / sqrt(1 - beta2**t) + eps
        p = p - (learning_rate / (1 - beta1**t)) * m / denom

    With ``eps=0`` a weight whose slopes have all been 0 (so ``m = v = 0``)
    does not move: its step ``0/0`` is taken as 0, where PyTorch makes it NaN.
    """

    name = "adam"

    def __init__(self, learning_rate: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(learning_rate)
        self.beta1 = _check("beta1", beta1, 0.0, True, 1.0)
        self.beta2 = _check("beta2", beta2, 0.0, True, 1.0)
        self.eps = _check("eps", eps, 0.0, True)
        self.weight_decay = _check("weight_decay", weight_decay, 0.0, True)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> np.ndarray:
        if self.weight_decay:
            g = g + p.dtype.type(self.weight_decay) * p
        return self._adam_step(p, g, state)

    def _adam_step(self, p: np.ndarray, g: np.ndarray, state: dict) -> np.ndarray:
        """Adam's step for slope ``g`` (the moments updated, kept in ``state``)."""
        dt = p.dtype.type
        if "m" not in state:
            state["m"] = np.zeros_like(p)
            state["v"] = np.zeros_like(p)
            state["t"] = 0
        state["t"] += 1
        t = state["t"]
        # Into the spares, then swapped in: the current moments stay for a snapshot.
        m = np.multiply(state["m"], dt(self.beta1), out=self._spare(state, "m", p))
        m += dt(1 - self.beta1) * g
        v = np.multiply(state["v"], dt(self.beta2), out=self._spare(state, "v", p))
        v += dt(1 - self.beta2) * g * g
        self._keep(state, "m", m)
        self._keep(state, "v", v)
        denom = np.sqrt(v) / dt(math.sqrt(1 - self.beta2**t))
        step = dt(self.learning_rate / (1 - self.beta1**t)) * m
        eps = dt(self.eps)
        if eps:
            denom += eps
            return step / denom
        # eps=0 (or too small for dtype): where v is 0, every slope so far was 0, so m is 0
        # as well, and the step 0/0 is taken as 0, its limit as eps goes to 0. torch.optim.Adam
        # accepts eps=0 too but makes such weights NaN (a dead relu's, a constant column's).
        return np.divide(step, denom, out=np.zeros_like(step), where=denom > 0)


    def overflowed(self) -> int | None:
        """The first parameter whose ``v`` is infinite: a slope beyond ``sqrt(largest float)``.

        Its square overflows, ``v`` becomes infinite and stays so, and every
        later step of that weight is ``m / inf = 0``: the weight stops
        learning, with no NaN to show it (PyTorch's Adam does the same).
        """
        for k, state in enumerate(self.state or ()):
            v = state.get("v")
            if v is not None and v.size and not math.isfinite(v.max()):
                return k
        return None


class AdamW(Adam):
    """Adam with decoupled weight decay, exactly as ``torch.optim.AdamW``.

    For each parameter ``p`` (biases included, as in PyTorch) with slope
    ``g``, at step ``t = 1, 2, ...``::

        p = p - learning_rate * weight_decay * p      # the decay, apart from the slope
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        denom = sqrt(v) / sqrt(1 - beta2**t) + eps
        p = p - (learning_rate / (1 - beta1**t)) * m / denom

    Unlike Adam's ``weight_decay`` (added to ``g``, so divided by ``denom``
    with it), the decay here is the same fraction ``learning_rate *
    weight_decay`` of every weight, whatever its slopes. PyTorch's default
    ``weight_decay`` is 0.01, and so is this one's.
    """

    name = "adamw"

    def __init__(self, learning_rate: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, weight_decay: float = 0.01) -> None:
        super().__init__(learning_rate, beta1, beta2, eps, weight_decay)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> np.ndarray:
        step = self._adam_step(p, g, state)
        if self.weight_decay:
            # What PyTorch's p * (1 - lr * wd) takes off, written as an amount to subtract.
            dt = p.dtype.type
            step = step + (p - p * dt(1 - self.learning_rate * self.weight_decay))
        return step


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam, "adamw": AdamW}


def get_optimizer(optimizer: str | Optimizer, learning_rate: float | None = None) -> Optimizer:
    """An optimizer from a name (with ``learning_rate``, or its default) or an object."""
    if isinstance(optimizer, Optimizer):
        if learning_rate is not None:
            raise ValueError(
                f"learning_rate={learning_rate!r} was given to fit, but the optimizer object "
                f"already has learning_rate={optimizer.learning_rate!r}; set it on the optimizer"
            )
        return optimizer
    if isinstance(optimizer, str):
        key = optimizer.strip().lower()
        if key not in OPTIMIZERS:
            raise ValueError(
                f"unknown optimizer {optimizer!r}; valid names are: {', '.join(OPTIMIZERS)}"
            )
        cls = OPTIMIZERS[key]
        return cls() if learning_rate is None else cls(learning_rate=learning_rate)
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        cls = optimizer.__name__
        name = f" or optimizer={optimizer.name!r}" if optimizer.name in OPTIMIZERS else ""
        raise TypeError(
            f"optimizer must be a name or an Optimizer object, got the class {cls}; "
            f"write optimizer={cls}(){name}"
        )
    raise TypeError(
        f"optimizer must be a name ({', '.join(OPTIMIZERS)}) or an Optimizer object, got "
        f"{short_repr(optimizer)} ({type(optimizer).__name__})"
    )
