"""Training on streams of batches (slopes.streaming) and ``slopes train --stream``."""

from __future__ import annotations

import re

import numpy as np
import pytest

import slopes
from slopes.callbacks import Callback, EarlyStopping
from slopes.optimizers import SGD, Adam


def _data(n: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(float)
    return X, y


def _net(seed: int = 0) -> slopes.Network:
    return slopes.Network.mlp([4, 8, 1], activation="relu", output="sigmoid", seed=seed)


def _batches(X: np.ndarray, y: np.ndarray, size: int, w: np.ndarray | None = None):
    def make():
        for start in range(0, len(X), size):
            sl = slice(start, start + size)
            yield (X[sl], y[sl]) if w is None else (X[sl], y[sl], w[sl])
    return make


def _max_diff(a: slopes.Network, b: slopes.Network) -> float:
    return max(float(np.abs(p - q).max()) for p, q in zip(a.parameters(), b.parameters(),
                                                         strict=True))


FIT = dict(loss="binary_crossentropy", epochs=4, verbose=0, metrics=["accuracy"])


# ------------------------------------------------------------ same as arrays
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "momentum"])
@pytest.mark.parametrize("weighted", [False, True])
def test_stream_gives_the_weights_of_arrays(optimizer: str, weighted: bool) -> None:
    X, y = _data()
    w = np.random.default_rng(1).uniform(0, 2, size=len(X)) if weighted else None

    def opt():
        return SGD(0.1, momentum=0.9) if optimizer == "momentum" else optimizer

    a, b = _net(), _net()
    ha = a.fit(X, y, optimizer=opt(), batch_size=25, shuffle=False, sample_weight=w,
               validation_data=(X[:20], y[:20]), **FIT)
    hb = b.fit(_batches(X, y, 25, w), optimizer=opt(), validation_data=(X[:20], y[:20]), **FIT)
    assert _max_diff(a, b) <= 1e-12
    assert hb.epoch == ha.epoch
    for key, values in ha.history.items():
        np.testing.assert_allclose(hb.history[key], values, rtol=1e-12, atol=0)
    assert hb.params["stream"] is True


def test_a_list_of_batches_is_read_every_epoch() -> None:
    X, y = _data()
    a, b = _net(), _net()
    a.fit(X, y, batch_size=40, shuffle=False, **FIT)
    b.fit(list(_batches(X, y, 40)()), **FIT)
    assert _max_diff(a, b) <= 1e-12


def test_a_generator_trains_one_epoch() -> None:
    X, y = _data()
    a, b = _net(), _net()
    a.fit(X, y, batch_size=30, shuffle=False, **{**FIT, "epochs": 1})
    history = b.fit(_batches(X, y, 30)(), **{**FIT, "epochs": 1})
    assert _max_diff(a, b) <= 1e-12
    assert len(history.history["loss"]) == 1


def test_a_one_shot_iterator_refuses_more_epochs() -> None:
    X, y = _data()
    with pytest.raises(ValueError, match=r"one-shot iterator \(generator\).*epochs=3; pass a "
                                         r"callable that returns a fresh iterator"):
        _net().fit(_batches(X, y, 30)(), **{**FIT, "epochs": 3})


def test_batches_of_different_sizes_grow_the_workspace() -> None:
    X, y = _data()
    cuts = [0, 5, 50, 51, 120]
    pieces = [(X[a:b], y[a:b]) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    a, b = _net(), _net()
    for piece in pieces:  # one fit per batch: the same steps as the stream's
        a.fit(*piece, optimizer=SGD(0.1), epochs=1, verbose=0, loss="binary_crossentropy")
    b.fit(pieces, optimizer=SGD(0.1), epochs=1, verbose=0, loss="binary_crossentropy")
    assert _max_diff(a, b) <= 1e-12


# ------------------------------------------------- history, callbacks, validation
def test_validation_stream_matches_validation_arrays() -> None:
    X, y = _data()
    Xv, yv = _data(40, seed=5)
    a, b = _net(), _net()
    ha = a.fit(_batches(X, y, 32), validation_data=(Xv, yv), **FIT)
    hb = b.fit(_batches(X, y, 32), validation_data=_batches(Xv, yv, 7), **FIT)
    np.testing.assert_allclose(hb.history["val_loss"], ha.history["val_loss"], rtol=1e-12)
    np.testing.assert_allclose(hb.history["val_accuracy"], ha.history["val_accuracy"],
                               rtol=1e-12)


def test_sse_validation_stream_sums_the_batches() -> None:
    X, y = _data()
    net = slopes.Network.mlp([4, 3, 1], seed=0)
    ha = net.copy().fit(_batches(X, y, 32), loss="sse", validation_data=(X[:30], y[:30]),
                        verbose=0, learning_rate=0.001)
    hb = net.copy().fit(_batches(X, y, 32), loss="sse",
                        validation_data=_batches(X[:30], y[:30], 8), verbose=0,
                        learning_rate=0.001)
    np.testing.assert_allclose(hb.history["val_loss"], ha.history["val_loss"], rtol=1e-12)


def test_early_stopping_and_callbacks_see_every_batch() -> None:
    X, y = _data()

    class Count(Callback):
        def on_train_begin(self, logs):
            self.batches, self.epochs = 0, 0

        def on_batch_end(self, batch, logs):
            self.batches += 1

        def on_epoch_end(self, epoch, logs):
            self.epochs += 1

    count = Count()
    stopper = EarlyStopping(monitor="val_loss", patience=2)
    net = _net()
    history = net.fit(_batches(X, y, 40), loss="binary_crossentropy", optimizer="sgd",
                      learning_rate=50.0, epochs=50, validation_data=(X, y),
                      callbacks=[stopper, count], verbose=0)
    assert stopper.stopped_epoch is not None and len(history.epoch) < 50
    assert count.epochs == len(history.epoch) and count.batches == 3 * count.epochs
    # restore_best_weights: the network ends with the best epoch's val_loss.
    assert net.evaluate(X, y, loss="binary_crossentropy") == pytest.approx(stopper.best)


def test_divergence_names_epoch_and_batch_and_keeps_finite_weights() -> None:
    X, y = _data()
    X = X * 1e150
    net = slopes.Network.mlp([4, 8, 1], seed=0)
    with pytest.raises(slopes.TrainingDiverged, match=r"epoch 0, batch 0") as info:
        net.fit(_batches(X, y, 40), loss="mse", learning_rate=1e10, epochs=2, verbose=0)
    assert info.value.batch == 0
    assert all(np.isfinite(p).all() for p in net.parameters())


def test_a_stream_with_every_weight_zero_is_refused() -> None:
    X, y = _data()
    with pytest.raises(ValueError, match="every batch of epoch 0 weighs 0"):
        _net().fit(_batches(X, y, 40, np.zeros(len(X))), **FIT)


def test_zero_weight_batches_are_skipped_like_arrays() -> None:
    X, y = _data()
    w = np.ones(len(X))
    w[40:80] = 0
    a, b = _net(), _net()
    a.fit(X, y, batch_size=40, shuffle=False, sample_weight=w, **FIT)
    b.fit(_batches(X, y, 40, w), **FIT)
    assert _max_diff(a, b) <= 1e-12


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize(("batch", "message", "error"), [
    ((np.ones((5, 3)), np.ones(5)), "batch 2: X has 3 features, but the network expects 4",
     ValueError),
    ((np.ones((5, 4)), np.ones(4)), "batch 2: y has 4 rows, but X has 5 samples", ValueError),
    ((np.ones((5, 4)), np.full(5, 2.0)), "batch 2: .*binary_crossentropy", ValueError),
    ((np.full((5, 4), np.nan), np.ones(5)), "batch 2: X contains 20 NaN", ValueError),
    ((np.array([["a"] * 4] * 5), np.ones(5)), "batch 2: X must contain numbers only",
     TypeError),
    ((np.ones((5, 4)), np.ones(5), -np.ones(5)), "batch 2: sample_weight must be >= 0",
     ValueError),
    ((np.ones((5, 4)),), r"batch 2: expected a pair \(X_batch, y_batch\) or a triple "
                         r".*got a tuple of 1", TypeError),
    (np.ones((5, 4)), r"batch 2: expected a pair .*got an array of shape \(5, 4\)", TypeError),
])
def test_a_bad_batch_is_named(batch: object, message: str, error: type) -> None:
    X, y = _data()
    good = list(_batches(X, y, 50)())[:2]
    with pytest.raises(error) as info:
        _net().fit([*good, batch], **FIT)
    assert re.search(message, str(info.value)), str(info.value)


def test_bad_validation_batch_is_named() -> None:
    X, y = _data()
    with pytest.raises(ValueError, match="validation batch 0: X has 2 features"):
        _net().fit(_batches(X, y, 50), validation_data=lambda: iter([(X[:5, :2], y[:5])]),
                     **FIT)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"batch_size": 10}, "batch_size=10 applies to arrays, not to a stream of batches"),
    ({"sample_weight": np.ones(3)}, "sample_weight applies to arrays.*third item"),
    ({"validation_split": 0.2}, r"validation_split=0.2 needs arrays to split"),
    ({"validation_data": 5}, "validation_data must be a pair"),
    ({"epochs": 0}, "epochs"),
    ({"verbose": 7}, "verbose must be"),
])
def test_array_only_options_are_refused_for_streams(kwargs: dict, message: str) -> None:
    X, y = _data()
    with pytest.raises(ValueError, match=message):
        _net().fit(_batches(X, y, 50), **{**FIT, **kwargs})


def test_empty_stream_and_bad_callable() -> None:
    with pytest.raises(ValueError, match="the data gave no batches in epoch 0"):
        _net().fit(lambda: iter([]), **FIT)
    with pytest.raises(TypeError, match="must return an iterator of .*returned a int"):
        _net().fit(lambda: 3, **FIT)


def test_y_none_with_an_array_still_says_y_is_missing() -> None:
    X, _ = _data()
    with pytest.raises(TypeError, match="y must be an array of numbers, got None"):
        _net().fit(X, loss="binary_crossentropy", verbose=0)


# ------------------------------------------------------------ train_on_batch
def test_train_on_batch_is_one_fit_step_and_keeps_adam_state() -> None:
    X, y = _data()
    a, b = _net(), _net()
    adam = Adam(0.01)
    losses = [a.train_on_batch(X[:60], y[:60], optimizer="adam", learning_rate=0.01,
                               loss="binary_crossentropy"),
              a.train_on_batch(X[60:], y[60:], optimizer="adam", learning_rate=0.01,
                               loss="binary_crossentropy")]
    history = b.fit([(X[:60], y[:60]), (X[60:], y[60:])], optimizer=adam, epochs=1,
                    loss="binary_crossentropy", verbose=0)
    assert _max_diff(a, b) <= 1e-12
    assert isinstance(losses[0], float)
    assert a.batch_optimizer.state[0]["t"] == 2  # the moments carried over
    assert np.mean(losses) == pytest.approx(history.history["loss"][0], rel=1e-12)


def test_train_on_batch_reset_and_sample_weight() -> None:
    X, y = _data()
    w = np.random.default_rng(2).uniform(0, 1, len(X))
    a, b = _net(), _net()
    a.train_on_batch(X, y, optimizer="adam", loss="binary_crossentropy")
    a.reset_optimizer()
    assert a.batch_optimizer is None
    a.train_on_batch(X, y, w, optimizer="adam", loss="binary_crossentropy")
    b.fit(X, y, optimizer="adam", loss="binary_crossentropy", verbose=0, shuffle=False)
    b.fit(X, y, optimizer="adam", loss="binary_crossentropy", verbose=0, shuffle=False,
          sample_weight=w)
    assert _max_diff(a, b) <= 1e-12
    # Another learning rate is another optimizer, started afresh.
    a.train_on_batch(X, y, optimizer="adam", learning_rate=0.5, loss="binary_crossentropy")
    assert a.batch_optimizer.state[0]["t"] == 1


def test_train_on_batch_bad_input_and_divergence() -> None:
    X, y = _data()
    net = _net()
    with pytest.raises(ValueError, match="X has 2 features, but the network expects 4"):
        net.train_on_batch(X[:, :2], y, loss="binary_crossentropy")
    with pytest.raises(ValueError, match="sample_weight must be 1-D"):
        net.train_on_batch(X, y, np.ones(3), loss="binary_crossentropy")
    big = slopes.Network.mlp([4, 8, 1], seed=0)
    before = [p.copy() for p in big.parameters()]
    with pytest.raises(slopes.TrainingDiverged):
        big.train_on_batch(X * 1e200, y, learning_rate=1e10)
    assert all(np.array_equal(p, q) for p, q in zip(big.parameters(), before, strict=True))
