"""Learning-rate schedules: the rules by hand, PyTorch's numbers, fits with them, bad settings."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import slopes
from slopes.callbacks import EarlyStopping
from slopes.schedules import (
    CosineAnnealingLR,
    ExponentialLR,
    LinearWarmup,
    ReduceLROnPlateau,
    StepLR,
    get_schedule,
)

NO_TORCH = "PyTorch is not installed; the rules are checked by hand in the tests without it"


def data(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=n)


def fit_rates(schedule, epochs: int = 8, learning_rate: float = 0.1, **kwargs) -> list[float]:
    X, y = data()
    net = slopes.Network.mlp([3, 4, 1], seed=0)
    history = net.fit(X, y, epochs=epochs, learning_rate=learning_rate, verbose=0,
                      callbacks=[schedule], **kwargs)
    return history.history["lr"]


# ---------------------------------------------------------------- the rules by hand
def test_step_lr_by_hand():
    # lr = 0.1 * 0.5 ** (epoch // 3)
    assert StepLR(3, gamma=0.5).rates(0.1, 8) == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025]
    assert StepLR(2).rates(1.0, 5) == [1.0, 1.0, 0.1, 0.1, 0.1 * 0.1]  # PyTorch's gamma=0.1
    assert StepLR(3, 0.5).closed_form(7, 0.1) == 0.025


def test_exponential_lr_by_hand():
    assert ExponentialLR(0.5).rates(0.8, 5) == [0.8, 0.4, 0.2, 0.1, 0.05]
    assert ExponentialLR(2.0).rates(0.25, 3) == [0.25, 0.5, 1.0]  # a rate may grow


def test_cosine_annealing_by_hand():
    # lr = eta_min + (base - eta_min) * (1 + cos(pi * epoch / T_max)) / 2, base 1, eta_min 0.2:
    # epochs 0..4 of T_max=4: 1, 0.2 + 0.8 * (1 + 0.7071) / 2 = 0.88284, 0.6, 0.31716, 0.2,
    # then back up: epoch 5 = 0.31716, epoch 8 = 1.0.
    rates = CosineAnnealingLR(T_max=4, eta_min=0.2).rates(1.0, 9)
    expected = [1.0, 0.882843, 0.6, 0.317157, 0.2, 0.317157, 0.6, 0.882843, 1.0]
    assert rates == pytest.approx(expected, abs=1e-6)
    schedule = CosineAnnealingLR(4, 0.2)
    assert [schedule.closed_form(e, 1.0) for e in range(9)] == pytest.approx(rates, rel=1e-14)


def test_linear_warmup_by_hand():
    # lr = base * (start + (end - start) * min(epoch, 4) / 4) with start 0.2, end 1
    rates = LinearWarmup(4, start_factor=0.2).rates(0.5, 7)
    assert rates == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.5], rel=1e-15)
    # PyTorch's default start_factor 1/3, and a warm-up down to end_factor 0.5
    assert LinearWarmup(2).rates(3.0, 3) == pytest.approx([1.0, 2.0, 3.0], rel=1e-15)
    assert LinearWarmup(2, 1.0, 0.5).rates(1.0, 4) == pytest.approx([1.0, 0.75, 0.5, 0.5])


def test_warmup_then_another_schedule_by_hand():
    # warm-up 0.5 -> 1 over 2 epochs, then StepLR(2, 0.1) from its own epoch 0 at epoch 2
    schedule = LinearWarmup(2, start_factor=0.5, then=StepLR(2, 0.1))
    assert schedule.rates(1.0, 7) == pytest.approx([0.5, 0.75, 1.0, 1.0, 0.1, 0.1, 0.01])
    cosine = LinearWarmup(1, start_factor=0.1, then=CosineAnnealingLR(2))
    assert cosine.rates(1.0, 4) == pytest.approx([0.1, 1.0, 0.5, 0.0], abs=1e-15)


def test_reduce_on_plateau_by_hand():
    # patience 2: the third epoch in a row without a new best (by 1e-4 of it) reduces
    schedule = ReduceLROnPlateau(factor=0.5, patience=2)
    values = [1.0, 0.9, 0.9, 0.9, 0.9, 0.8, 0.85, 0.85, 0.85, 0.85]
    assert schedule.rates(0.1, values) == [0.1] * 5 + [0.05] * 4 + [0.025]
    assert schedule.reductions == [(4, 0.1, 0.05), (8, 0.05, 0.025)]
    # a fall smaller than threshold * best is no improvement; min_lr bounds the rate
    small = ReduceLROnPlateau(factor=0.1, patience=0, threshold=0.1, min_lr=0.003)
    assert small.rates(0.1, [1.0, 0.95, 0.95, 0.5]) == pytest.approx([0.1, 0.1, 0.01, 0.003])
    # mode="max" for a value that grows; cooldown skips the bad epochs after a reduction
    grows = ReduceLROnPlateau(monitor="val_accuracy", mode="max", patience=0, cooldown=2,
                              factor=0.5)
    assert grows.rates(1.0, [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]) == [1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
    # a NaN is never an improvement
    assert ReduceLROnPlateau(patience=0).rates(1.0, [1.0, math.nan]) == [1.0, 1.0]
    assert ReduceLROnPlateau(patience=0).rates(1.0, [1.0, math.nan, 2.0])[-1] == 0.1


# ------------------------------------------------------------- PyTorch's numbers
def torch_rates(make, base: float, epochs: int, monitored=None) -> list[float]:
    """The learning rate of each epoch as PyTorch's scheduler sets it, stepped after each epoch."""
    torch = pytest.importorskip("torch", reason=NO_TORCH)
    weight = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([weight], lr=base)
    scheduler = make(torch.optim.lr_scheduler, optimizer)
    rates = []
    for epoch in range(epochs):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if monitored is None:
            scheduler.step()
        else:
            scheduler.step(monitored[epoch])
    return rates


def same_rates(ours: list[float], theirs: list[float]) -> None:
    assert len(ours) == len(theirs)
    for epoch, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert a == b or abs(a - b) <= 1e-15 * abs(b), (epoch, a, b)


TORCH_CASES = [
    pytest.param(StepLR(7, gamma=0.5), lambda s, o: s.StepLR(o, step_size=7, gamma=0.5),
                 id="StepLR"),
    pytest.param(StepLR(10), lambda s, o: s.StepLR(o, step_size=10), id="StepLR-default"),
    pytest.param(ExponentialLR(0.93), lambda s, o: s.ExponentialLR(o, gamma=0.93),
                 id="ExponentialLR"),
    pytest.param(ExponentialLR(1.01), lambda s, o: s.ExponentialLR(o, gamma=1.01),
                 id="ExponentialLR-growing"),
    pytest.param(CosineAnnealingLR(60), lambda s, o: s.CosineAnnealingLR(o, T_max=60),
                 id="CosineAnnealingLR"),
    pytest.param(CosineAnnealingLR(13, eta_min=0.002),
                 lambda s, o: s.CosineAnnealingLR(o, T_max=13, eta_min=0.002),
                 id="CosineAnnealingLR-restarts"),
    pytest.param(LinearWarmup(10, start_factor=0.05),
                 lambda s, o: s.LinearLR(o, start_factor=0.05, total_iters=10), id="LinearLR"),
    pytest.param(LinearWarmup(5), lambda s, o: s.LinearLR(o), id="LinearLR-default"),
    pytest.param(LinearWarmup(8, 1.0, 0.25),
                 lambda s, o: s.LinearLR(o, start_factor=1.0, end_factor=0.25, total_iters=8),
                 id="LinearLR-decay"),
    pytest.param(LinearWarmup(5, 0.1, then=CosineAnnealingLR(50, eta_min=1e-4)),
                 lambda s, o: s.SequentialLR(o, [s.LinearLR(o, 0.1, total_iters=5),
                                                 s.CosineAnnealingLR(o, 50, eta_min=1e-4)],
                                             milestones=[5]), id="SequentialLR-cosine"),
    pytest.param(LinearWarmup(3, 0.25, then=StepLR(4, 0.7)),
                 lambda s, o: s.SequentialLR(o, [s.LinearLR(o, 0.25, total_iters=3),
                                                 s.StepLR(o, 4, 0.7)], milestones=[3]),
                 id="SequentialLR-step"),
    pytest.param(LinearWarmup(4, 0.5, 0.9, then=ExponentialLR(0.9)),
                 lambda s, o: s.SequentialLR(o, [s.LinearLR(o, 0.5, 0.9, total_iters=4),
                                                 s.ExponentialLR(o, 0.9)], milestones=[4]),
                 id="SequentialLR-exponential"),
]


@pytest.mark.parametrize(("schedule", "make"), TORCH_CASES)
@pytest.mark.parametrize("base", [0.1, 0.0123])
def test_every_epoch_has_pytorchs_rate(schedule, make, base):
    theirs = torch_rates(make, base, 70)
    same_rates(schedule.rates(base, 70), theirs)


@pytest.mark.parametrize(("schedule", "make"), TORCH_CASES[::3] + TORCH_CASES[-3:])
def test_a_fit_trains_each_epoch_with_pytorchs_rate(schedule, make):
    theirs = torch_rates(make, 0.05, 55)
    same_rates(fit_rates(schedule, epochs=55, learning_rate=0.05, batch_size=16, seed=0), theirs)


PLATEAU_CASES = [
    ({}, lambda s, o: s.ReduceLROnPlateau(o)),
    ({"factor": 0.5, "patience": 3}, lambda s, o: s.ReduceLROnPlateau(o, factor=0.5, patience=3)),
    ({"factor": 0.3, "patience": 1, "cooldown": 2, "min_lr": 1e-4, "threshold": 0.01},
     lambda s, o: s.ReduceLROnPlateau(o, factor=0.3, patience=1, cooldown=2, min_lr=1e-4,
                                      threshold=0.01)),
    ({"mode": "max", "factor": 0.5, "patience": 2, "threshold_mode": "abs", "threshold": 0.01},
     lambda s, o: s.ReduceLROnPlateau(o, mode="max", factor=0.5, patience=2,
                                      threshold_mode="abs", threshold=0.01)),
    ({"patience": 0, "eps": 1e-3}, lambda s, o: s.ReduceLROnPlateau(o, patience=0, eps=1e-3)),
]


@pytest.mark.parametrize(("settings", "make"), PLATEAU_CASES)
def test_reduce_on_plateau_has_pytorchs_rates_for_the_same_values(settings, make):
    # A noisy curve that falls, flattens, bumps up and flattens again: 80 epochs.
    rng = np.random.default_rng(7)
    values = list(np.concatenate([np.linspace(1.0, 0.4, 20), np.full(25, 0.4),
                                  0.45 + 0.01 * rng.normal(size=20), np.full(15, 0.3)]))
    values = [float(v) for v in values]
    theirs = torch_rates(make, 0.1, len(values), monitored=values)
    ours = ReduceLROnPlateau(**settings).rates(0.1, values)
    same_rates(ours, theirs)
    assert len(set(ours)) > 1  # the case reduces at least once


def test_reduce_on_plateau_in_a_fit_has_pytorchs_rates_for_its_val_loss():
    X, y = data(60)
    net = slopes.Network.mlp([3, 8, 1], seed=0)
    history = net.fit(X, y, epochs=60, learning_rate=0.3, batch_size=8, seed=0, verbose=0,
                      validation_split=0.25,
                      callbacks=[ReduceLROnPlateau(factor=0.5, patience=2)])
    theirs = torch_rates(lambda s, o: s.ReduceLROnPlateau(o, factor=0.5, patience=2), 0.3, 60,
                         monitored=history.history["val_loss"])
    same_rates(history.history["lr"], theirs)
    assert len(set(history.history["lr"])) > 1


# ------------------------------------------------------------------- in a fit
def test_a_fit_logs_the_schedules_rates_and_gives_the_optimizer_back_its_rate():
    X, y = data()
    adam = slopes.optimizers.Adam(learning_rate=0.01)
    schedule = StepLR(2, gamma=0.5)
    history = slopes.Network.mlp([3, 4, 1], seed=0).fit(
        X, y, optimizer=adam, epochs=5, callbacks=[schedule], verbose=0)
    assert history.history["lr"] == [0.01, 0.01, 0.005, 0.005, 0.0025]
    assert adam.learning_rate == 0.01  # a second fit starts the schedule afresh
    assert history.params["learning_rate"] == 0.01


def test_the_schedule_changes_the_training():
    X, y = data()
    plain = slopes.Network.mlp([3, 4, 1], seed=0)
    plain.fit(X, y, epochs=3, learning_rate=0.1, verbose=0, seed=0)
    scheduled = slopes.Network.mlp([3, 4, 1], seed=0)
    scheduled.fit(X, y, epochs=3, learning_rate=0.1, verbose=0, seed=0,
                  callbacks=[StepLR(1, 1.0)])
    assert np.array_equal(plain.layers[0].weights, scheduled.layers[0].weights)  # gamma 1
    warm = slopes.Network.mlp([3, 4, 1], seed=0)
    warm.fit(X, y, epochs=3, learning_rate=0.1, verbose=0, seed=0,
             callbacks=[LinearWarmup(2, 0.5)])
    assert not np.array_equal(plain.layers[0].weights, warm.layers[0].weights)
    # epoch 0 of a warm-up from 0.5 x 0.1 trains exactly as a fit with rate 0.05
    half = slopes.Network.mlp([3, 4, 1], seed=0)
    half.fit(X, y, epochs=1, learning_rate=0.05, verbose=0, seed=0)
    warm = slopes.Network.mlp([3, 4, 1], seed=0)
    warm.fit(X, y, epochs=1, learning_rate=0.1, verbose=0, seed=0,
             callbacks=[LinearWarmup(2, 0.5)])
    assert np.array_equal(half.layers[0].weights, warm.layers[0].weights)


def test_a_stream_of_batches_follows_the_schedule():
    X, y = data()
    batches = [(X[:20], y[:20]), (X[20:], y[20:])]
    net = slopes.Network.mlp([3, 4, 1], seed=0)
    history = net.fit(batches, epochs=6, learning_rate=0.2, verbose=0,
                      callbacks=[ExponentialLR(0.5)])
    assert history.history["lr"] == [0.2, 0.1, 0.05, 0.025, 0.0125, 0.00625]


def test_early_stopping_and_a_schedule_together():
    X, y = data()
    stop = EarlyStopping(monitor="loss", patience=0, min_delta=1e9)  # stops after 2 epochs
    net = slopes.Network.mlp([3, 4, 1], seed=0)
    history = net.fit(X, y, epochs=10, learning_rate=0.1, verbose=0,
                      callbacks=[CosineAnnealingLR(10), stop])
    assert history.history["lr"] == CosineAnnealingLR(10).rates(0.1, 2)
    plateau = ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5, threshold=0.5)
    history = net.fit(X, y, epochs=8, learning_rate=0.1, verbose=0,
                      callbacks=[plateau, EarlyStopping(monitor="loss", patience=3,
                                                        min_delta=1e9)])
    assert len(history.epoch) == 4  # EarlyStopping stopped after 3 epochs without progress
    expected = ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5, threshold=0.5).rates(
        0.1, history.history["loss"])
    assert history.history["lr"] == expected and expected[-1] < 0.1


def test_warmup_and_plateau_compose_as_pytorchs_chained_schedulers():
    values = [1.0, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]
    warmup, plateau = LinearWarmup(3, 0.5), ReduceLROnPlateau(monitor="loss", patience=1,
                                                               factor=0.5)
    X, y = data()

    class Feed(slopes.callbacks.Callback):  # logs a made-up loss so the plateau is known
        def on_epoch_end(self, epoch, logs):
            logs["made_up"] = values[epoch]

    plateau.monitor = "made_up"
    history = slopes.Network.mlp([3, 1], seed=0).fit(
        X, y, epochs=8, learning_rate=1.0, verbose=0, callbacks=[warmup, Feed(), plateau])
    # warm-up 0.5, 0.6667, 0.8333, 1; the plateau halves after epochs 4 and 6
    assert history.history["lr"] == pytest.approx(
        [0.5, 2 / 3, 5 / 6, 1.0, 1.0, 0.5, 0.5, 0.25], rel=1e-15)


def test_plateau_names_a_monitor_the_fit_does_not_log():
    with pytest.raises(ValueError, match=r"^ReduceLROnPlateau monitors 'val_loss', but fit logs "
                                         r"only loss, lr; pass validation_data or "
                                         r"validation_split for val_ values, or change monitor$"):
        fit_rates(ReduceLROnPlateau())


def test_a_schedule_without_an_optimizer_says_so():
    from slopes.callbacks import History, TrainingRun

    schedule = StepLR(2)
    schedule.set_training(TrainingRun(network=None, epochs=3, history=History()))
    with pytest.raises(RuntimeError, match=r"^StepLR sets the optimizer's learning rate, but "
                                           r"this training run gives callbacks no optimizer"):
        schedule.on_train_begin({})


# ------------------------------------------------------------- names and plain JSON
@pytest.mark.parametrize(("text", "expected"), [
    ("step:10,0.5", StepLR(10, 0.5)),
    ("step:10", StepLR(10)),
    (" Step : 3 , 0.25 ", StepLR(3, 0.25)),
    ("exponential:0.95", ExponentialLR(0.95)),
    ("cosine:100", CosineAnnealingLR(100)),
    ("cosine:100,1e-5", CosineAnnealingLR(100, 1e-5)),
    ("warmup:5", LinearWarmup(5)),
    ("warmup:5,0.1,0.9", LinearWarmup(5, 0.1, 0.9)),
    ("warmup:5+cosine:100", LinearWarmup(5, then=CosineAnnealingLR(100))),
    ("warmup:3,0.2+step:10,0.5", LinearWarmup(3, 0.2, then=StepLR(10, 0.5))),
    ("plateau", ReduceLROnPlateau()),
    ("plateau:0.5,5", ReduceLROnPlateau(factor=0.5, patience=5)),
    ("plateau:0.5,5,loss", ReduceLROnPlateau(monitor="loss", factor=0.5, patience=5)),
])
def test_get_schedule_reads_the_short_text(text, expected):
    schedule = get_schedule(text)
    assert type(schedule) is type(expected)
    assert schedule.to_dict() == expected.to_dict()
    back = get_schedule(json.loads(json.dumps(schedule.to_dict())))
    assert back.to_dict() == schedule.to_dict() and repr(back) == repr(schedule)
    assert "PyTorch's" in schedule.describe()


def test_get_schedule_passes_none_and_schedules_through():
    step = StepLR(2)
    assert get_schedule(step) is step
    assert get_schedule(None) is None and get_schedule("none") is None
    assert repr(LinearWarmup(2, then=StepLR(3))) == (
        "LinearWarmup(warmup_epochs=2, start_factor=0.3333333333333333, end_factor=1.0, "
        "then=StepLR(step_size=3, gamma=0.1))")
    assert StepLR(10, 0.5).describe() == (
        "learning rate x 0.5 every 10 epoch(s): lr = base x 0.5^(epoch // 10) (PyTorch's StepLR)")


FORMS = (r"expected one of step:STEP_SIZE\[,GAMMA\] \(e\.g\. step:10,0\.5\); "
         r"exponential:GAMMA \(e\.g\. exponential:0\.95\); ")


@pytest.mark.parametrize(("given", "error", "message"), [
    ("stepp:10", ValueError, r"^unknown schedule 'stepp:10'; " + FORMS),
    ("step", ValueError, r"^schedule 'step': step takes 1 to 2 value\(s\) after ':', got ''; "
                         r"expected step:STEP_SIZE\[,GAMMA\] \(e\.g\. step:10,0\.5\)$"),
    ("step:10,0.5,3", ValueError, r"^schedule 'step:10,0.5,3': step takes 1 to 2 value\(s\) "
                                  r"after ':', got '10,0.5,3'; expected step:STEP_SIZE"),
    ("step:ten", ValueError, r"^schedule 'step:ten': step_size must be a whole number, got "
                             r"'ten'; expected step:STEP_SIZE\[,GAMMA\]"),
    ("step:2.5", ValueError, r"^schedule 'step:2.5': step_size must be a whole number, got "
                             r"'2.5'"),
    ("step:0", ValueError, r"^schedule 'step:0': step_size must be an int >= 1, got 0; "
                           r"expected step:STEP_SIZE"),
    ("exponential:-0.5", ValueError, r"^schedule 'exponential:-0.5': gamma must be > 0, got "
                                     r"-0.5; expected exponential:GAMMA"),
    ("cosine:100+step:3", ValueError, r"^schedule 'cosine:100\+step:3': '\+' joins a warm-up "
                                      r"and one schedule after it \(warmup:5\+cosine:100\); "
                                      + FORMS),
    ("warmup:5+plateau", ValueError, r"^schedule 'warmup:5\+plateau': then must be the "
                                     r"schedule after the warm-up"),
    ("warmup:2+warmup:3+step:4", ValueError, r"'\+' joins a warm-up and one schedule"),
    (5, TypeError, r"^schedule must be a text such as 'step:10,0.5', a dict from to_dict\(\) or "
                   r"a schedule object, got 5 \(int\)$"),
    ({"schedule": "steps"}, ValueError, r"^a schedule's dict needs 'schedule': one of step, "
                                        r"exponential, cosine, warmup, plateau, got 'steps'$"),
    ({"schedule": "step", "step_size": 2, "gama": 0.5}, ValueError,
     r"^the step schedule \(StepLR\) has no setting 'gama'; its settings are step_size, gamma$"),
])
def test_get_schedule_refuses_with_what_it_got_and_the_forms(given, error, message):
    with pytest.raises(error, match=message):
        get_schedule(given)


@pytest.mark.parametrize(("make", "message"), [
    (lambda: StepLR(0), r"^step_size must be an int >= 1, got 0$"),
    (lambda: StepLR(2.0), r"^step_size must be an int >= 1, got 2\.0$"),
    (lambda: StepLR(True), r"^step_size must be an int >= 1, got True$"),
    (lambda: StepLR(3, gamma=-0.1), r"^gamma must be > 0, got -0\.1$"),
    (lambda: StepLR(3, gamma=0), r"^gamma must be > 0, got 0$"),
    (lambda: ExponentialLR(math.nan), r"^gamma must be a finite number, got nan$"),
    (lambda: ExponentialLR("0.9"), r"^gamma must be a finite number, got '0\.9'$"),
    (lambda: CosineAnnealingLR(0), r"^T_max must be an int >= 1, got 0$"),
    (lambda: CosineAnnealingLR(10, eta_min=-1e-3), r"^eta_min must be >= 0, got -0\.001$"),
    (lambda: LinearWarmup(0), r"^warmup_epochs must be an int >= 1, got 0$"),
    (lambda: LinearWarmup(5, start_factor=0), r"^start_factor must be in \(0, 1\], got 0$"),
    (lambda: LinearWarmup(5, start_factor=1.5), r"^start_factor must be in \(0, 1\], got 1\.5$"),
    (lambda: LinearWarmup(5, end_factor=2), r"^end_factor must be in \[0, 1\], got 2$"),
    (lambda: LinearWarmup(5, then=ReduceLROnPlateau()),
     r"^then must be the schedule after the warm-up: a StepLR, ExponentialLR, "
     r"CosineAnnealingLR or LinearWarmup without a then of its own, got ReduceLROnPlateau\("),
    (lambda: LinearWarmup(5, then="cosine:10"), r"then must be the schedule after the warm-up"),
    (lambda: ReduceLROnPlateau(factor=1.0), r"^factor must be in \(0, 1\), got 1\.0$"),
    (lambda: ReduceLROnPlateau(factor=0), r"^factor must be in \(0, 1\), got 0$"),
    (lambda: ReduceLROnPlateau(patience=-1), r"^patience must be an int >= 0, got -1$"),
    (lambda: ReduceLROnPlateau(cooldown=1.5), r"^cooldown must be an int >= 0, got 1\.5$"),
    (lambda: ReduceLROnPlateau(threshold=-1), r"^threshold must be >= 0, got -1$"),
    (lambda: ReduceLROnPlateau(min_lr=-1), r"^min_lr must be >= 0, got -1$"),
    (lambda: ReduceLROnPlateau(mode="auto"), r"^mode must be 'min' or 'max', got 'auto'$"),
    (lambda: ReduceLROnPlateau(threshold_mode="relative"),
     r"^threshold_mode must be 'rel' or 'abs', got 'relative'$"),
    (lambda: ReduceLROnPlateau(monitor=""),
     r"^monitor must be the name of a value fit logs, like 'val_loss', 'loss' or "
     r"'val_accuracy', got '' \(str\)$"),
    (lambda: ReduceLROnPlateau(monitor=None), r"got None \(NoneType\)$"),
    (lambda: StepLR(2).rates(0, 3), r"^base_rate must be > 0, got 0$"),
    (lambda: StepLR(2).rates(0.1, -1), r"^epochs must be an int >= 0, got -1$"),
])
def test_bad_settings_are_refused_with_what_was_given_and_what_is_expected(make, message):
    with pytest.raises(ValueError, match=message):
        make()
