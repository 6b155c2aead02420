"""Pages of three sizes for the browser tests: the demo's admissions network, a 30-input and a
64-input model (the inputs drawn chosen as ``slopes explain`` chooses them), and make_moons."""

from __future__ import annotations

import numpy as np

from slopes import Network
from slopes.callbacks import WeightSnapshots
from slopes.page import report


def explain_inputs(net: Network, x: np.ndarray, y: np.ndarray, loss: str, count: int = 9):
    """The ``count`` inputs with the largest |slope x value| for output 0, as ``slopes explain``
    draws them (its ``input_ranking``)."""
    trace = net.trace(x, y, loss=loss)
    effect = np.abs(trace.prediction_slopes(0)[0] * trace.node_values[0][0])
    return sorted(np.argsort(-effect, kind="stable")[:count].tolist())


def wide_page(path, n_inputs: int, n_hidden: int, n_outputs: int, seed: int = 0):
    """A trained model of ``n_inputs`` inputs; its page at ``path`` (drawn inputs chosen as
    ``slopes explain`` does). Returns the network, X, y, the snapshots and the page."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(120, n_inputs))
    if n_outputs == 1:
        y = (X[:, :3].sum(axis=1) > 0).astype(float)
        loss, output = "binary_crossentropy", "sigmoid"
        names = ["yes"]
    else:
        y = np.abs(X[:, :n_outputs]).argmax(axis=1)
        loss, output = "categorical_crossentropy", "softmax"
        names = [f"digit {k}" for k in range(n_outputs)]
    net = Network.mlp([n_inputs, n_hidden, n_outputs], activation="tanh", output=output, seed=0)
    snapshots = WeightSnapshots(max_snapshots=21)
    net.fit(X, y, loss=loss, learning_rate=0.1, epochs=20, batch_size=16,
            callbacks=[snapshots], seed=0, verbose=0)
    inputs = [f"pixel {k}" for k in range(n_inputs)]
    nodes = {0: explain_inputs(net, X[3:4], y[3:4], loss)}
    page = report(net, X, y, path=path, history=snapshots, row=3, loss=loss, learning_rate=0.1,
                  input_names=inputs, output_names=names, nodes=nodes,
                  title=f"A {n_inputs}-input model")
    return net, X, y, snapshots, page


def demo_page(path):
    """The admissions network as ``slopes demo`` trains it (6 inputs, 3 hidden nodes)."""
    from slopes.datasets import prepare_admissions

    data = prepare_admissions()
    net = Network.mlp([6, 3, 1], activation="tanh", output="sigmoid", seed=0)
    snapshots = WeightSnapshots()
    net.fit(data.features, data.targets, loss="binary_crossentropy", learning_rate=0.1,
            epochs=30, batch_size=32, callbacks=[snapshots], seed=0, verbose=0)
    page = report(net, data.features, data.targets, path=path, history=snapshots, row=0,
                  learning_rate=0.1, input_names=data.feature_names, output_names=["admit=1"])
    return net, data, snapshots, page


def moons(n: int = 200, noise: float = 0.15, seed: int = 0):
    """scikit-learn's ``make_moons`` (two interleaving half circles), without scikit-learn."""
    rng = np.random.default_rng(seed)
    half = n // 2
    t_out, t_in = np.linspace(0, np.pi, half), np.linspace(0, np.pi, n - half)
    X = np.vstack([np.c_[np.cos(t_out), np.sin(t_out)],
                   np.c_[1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5]])
    X += rng.normal(scale=noise, size=X.shape)
    y = np.r_[np.zeros(half), np.ones(n - half)]
    return X, y
