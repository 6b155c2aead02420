"""Dropout: inverted, seeded, per batch, on hidden layers' output nodes, off outside training."""

from __future__ import annotations

import numpy as np
import pytest

from slopes import Network
from slopes.layers import Dense
from slopes.losses import get_loss
from slopes.penalties import dropout_mask
from slopes.workspace import StepOptions, Workspace


def _data(seed=0, n=64):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)), rng.normal(size=(n, 1))


def test_the_mask_drops_at_the_rate_and_scales_the_kept_nodes():
    mask = dropout_mask(np.random.default_rng(0), (2000, 50), 0.3, np.dtype(np.float64))
    assert set(np.unique(mask)) == {0.0, 1 / 0.7}
    assert (mask == 0).mean() == pytest.approx(0.3, abs=0.005)
    assert mask.mean() == pytest.approx(1.0, abs=0.01)  # the expected value is kept


def _one_step(net, x, y, seed):
    workspace = Workspace(net, get_loss("mse"), x.shape[0],
                          StepOptions(rng=np.random.default_rng(seed)))
    try:
        workspace.forward_backward(x, y)
        masks = [None if m is None else m.copy() for m in workspace.masks]
        hidden = workspace._values[1].copy()
        slopes = [s.copy() for s in workspace.slope_views]
    finally:
        workspace.release()
    return masks, hidden, slopes


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_a_dropped_node_passes_nothing_on_and_gets_no_slope(activation):
    x, y = _data()
    net = Network.mlp([4, 8, 1], activation=activation, seed=0, dropout=0.5)
    masks, hidden, slopes = _one_step(net, x, y, seed=3)
    dropped = masks[0] == 0
    assert masks[1] is None and dropped.any() and (~dropped).any()
    # The hidden values the output layer received: 0 where dropped, a / (1 - p) where kept.
    plain = net.forward(x)[1][1]
    np.testing.assert_allclose(hidden, np.where(dropped, 0.0, plain / 0.5), rtol=1e-14)
    # The slopes are those of the network with the mask as a fixed factor: check them
    # against central differences of that network's loss.
    def loss():
        a = net.layers[0].activation.value(x @ net.layers[0].weights + net.layers[0].bias)
        out = (a * masks[0]) @ net.layers[1].weights + net.layers[1].bias
        return float(np.mean((out - y) ** 2))
    h = 1e-6
    for p, analytic in zip(net.parameters(), slopes, strict=True):
        numeric = np.zeros_like(p)
        for index in np.ndindex(p.shape):
            old = p[index]
            p[index] = old + h
            up = loss()
            p[index] = old - h
            down = loss()
            p[index] = old
            numeric[index] = (up - down) / (2 * h)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_dropout_is_off_in_predict_evaluate_and_the_trace_of_a_prediction():
    x, y = _data()
    net = Network.mlp([4, 8, 1], seed=0, dropout=0.5)
    twin = Network.mlp([4, 8, 1], seed=0)
    np.testing.assert_array_equal(net.predict(x), twin.predict(x))
    assert net.evaluate(x, y) == twin.evaluate(x, y)
    np.testing.assert_array_equal(net.trace(x, y).weight_slopes[0],
                                  twin.trace(x, y).weight_slopes[0])


def test_fit_with_a_seed_is_reproducible_and_another_seed_differs():
    x, y = _data()
    nets = [Network.mlp([4, 8, 1], seed=0, dropout=0.3) for _ in range(3)]
    histories = [net.fit(x, y, epochs=3, batch_size=16, seed=s, verbose=0)
                 for net, s in zip(nets, (7, 7, 8), strict=True)]
    assert histories[0].history == histories[1].history
    np.testing.assert_array_equal(nets[0].layers[0].weights, nets[1].layers[0].weights)
    assert not np.array_equal(nets[0].layers[0].weights, nets[2].layers[0].weights)


def test_dropout_leaves_the_shuffling_order_alone():
    # Without shuffling the masks are the only randomness; with it, the order of rows
    # must be the one a fit without dropout takes (the masks come from a spawned child).
    x, y = _data()
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    Network.mlp([4, 8, 1], seed=0, dropout=0.3).fit(x, y, epochs=2, batch_size=16, seed=rng_a,
                                                    verbose=0)
    Network.mlp([4, 8, 1], seed=0).fit(x, y, epochs=2, batch_size=16, seed=rng_b, verbose=0)
    assert rng_a.random() == rng_b.random()


def test_dropout_changes_training_and_the_global_random_state_is_untouched():
    x, y = _data()
    state = np.random.get_state()[1].copy()  # noqa: NPY002 (the legacy state is what must stay)
    a = Network.mlp([4, 8, 1], seed=0, dropout=0.5)
    b = Network.mlp([4, 8, 1], seed=0)
    a.fit(x, y, epochs=2, seed=1, verbose=0)
    b.fit(x, y, epochs=2, seed=1, verbose=0)
    assert not np.array_equal(a.layers[0].weights, b.layers[0].weights)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002


def test_dropout_in_a_stream_and_with_folded_and_unfolded_layers():
    x, y = _data()
    wide = np.random.default_rng(0).normal(size=(64, 80))  # > 64 inputs: not folded
    for data, sizes in ((x, [4, 8, 6, 1]), (wide, [80, 8, 1])):
        a = Network.mlp(sizes, seed=0, dropout=0.25)
        b = Network.mlp(sizes, seed=0, dropout=0.25)
        ha = a.fit(data, y, epochs=2, batch_size=16, shuffle=False, seed=3, verbose=0)
        batches = [(data[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]
        hb = b.fit(lambda batches=batches: iter(batches), epochs=2, seed=3, verbose=0)
        assert ha.history["loss"] == pytest.approx(hb.history["loss"], rel=1e-13)


def test_mlp_sets_dropout_on_hidden_layers_only_and_repr_shows_it():
    net = Network.mlp([4, 8, 8, 1], dropout=0.2)
    assert [layer.dropout for layer in net.layers] == [0.2, 0.2, 0.0]
    assert "dropout=0.2" in repr(net.layers[0])
    assert net.copy().layers[0].dropout == 0.2


@pytest.mark.parametrize("rate, error, message", [
    (1.0, ValueError, "dropout must be a fraction of the nodes to drop, a number in [0, 1), "
                      "got 1.0"),
    (-0.1, ValueError, "got -0.1"),
    ("x", TypeError, "dropout must be a fraction of the nodes to drop, a number in [0, 1), "
                     "got 'x' (str)"),
    (None, TypeError, "got None (NoneType)"),
])
def test_bad_dropout_rates_are_named(rate, error, message):
    with pytest.raises(error) as info:
        Dense(3, 2, dropout=rate)
    assert message in str(info.value)
    with pytest.raises(error) as info:
        Network.mlp([3, 2, 1], dropout=rate)
    assert message in str(info.value)


def test_dropout_on_the_output_layer_is_refused_at_fit():
    x, y = _data()
    net = Network([Dense(4, 3, "relu"), Dense(3, 1, dropout=0.5)])
    with pytest.raises(ValueError, match=r"layers\[1\] is the output layer and has "
                                         r"dropout=0.5; expected dropout on hidden layers only"):
        net.fit(x, y, verbose=0)


def test_to_torch_emits_dropout_after_the_activation_and_from_torch_reads_it_back():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (never a dependency "
                                "of slopes); to_torch and from_torch need it")
    net = Network.mlp([4, 8, 6, 1], activation="tanh", seed=0, dropout=0.25)
    seq = net.to_torch()
    kinds = [type(m).__name__ for m in seq]
    assert kinds == ["Linear", "Tanh", "Dropout", "Linear", "Tanh", "Dropout", "Linear"]
    assert seq[2].p == 0.25
    x, _ = _data()
    seq.eval()  # off in eval(), as in predict
    with torch.no_grad():
        np.testing.assert_allclose(seq(torch.from_numpy(x)).numpy(), net.predict(x), rtol=1e-12)
    back = Network.from_torch(seq)
    assert [layer.dropout for layer in back.layers] == [0.25, 0.25, 0.0]
    np.testing.assert_array_equal(back.predict(x), net.predict(x))


def test_onnx_export_ignores_dropout(tmp_path):
    pytest.importorskip("onnx", reason="onnx is not installed (the export extra)")
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
    net = Network.mlp([4, 8, 1], activation="relu", seed=0, dropout=0.5)
    path = net.to_onnx(tmp_path / "m.onnx")
    session = ort.InferenceSession(str(path))
    x, _ = _data()
    feed = {session.get_inputs()[0].name: x}
    out = session.run(None, feed)[0]
    np.testing.assert_allclose(out, net.predict(x), rtol=1e-4, atol=1e-5)
