"""Drawings render headless (Agg) to PNG and SVG files."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

pytest.importorskip("matplotlib")
import matplotlib  # noqa: E402

matplotlib.use("Agg")

from slopes import History, Network  # noqa: E402
from slopes.plot import draw_network, network_repr_png, plot_history  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def quiz_trace():
    net = Network.from_weights([[[0, 0], [1, 3]], [[4], [3]]], activation="relu")
    return net.trace([0, 1], 10)


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_draw_trace_saves(tmp_path, suffix):
    fig = draw_network(quiz_trace(), title="quiz")
    path = tmp_path / f"net.{suffix}"
    fig.savefig(path)
    assert path.stat().st_size > 1000
    labels = texts(fig)
    assert "13" in labels and "18" in labels and "6" in labels  # value, slopes
    assert any("actual 10, error 3" in t for t in labels)


def test_draw_network_without_trace_labels_weights(tmp_path):
    net = Network.from_weights({"node_0": [2, 1], "node_1": [1, 2], "output": [1, 1]},
                               activation="relu")
    fig = draw_network(net)
    fig.savefig(tmp_path / "n.png")
    assert texts(fig).count("2") == 2  # the two weights of value 2
    fig = draw_network(net, X=[0, 3])
    assert "9" in texts(fig)  # the output's value


def test_wide_layer_is_summarized(tmp_path):
    net = Network.mlp([6, 128, 3, 1], seed=0)
    trace = net.trace(np.ones((4, 6)), np.zeros(4))
    fig = draw_network(trace, max_nodes=10)
    assert "\u2026 119 more" in texts(fig)
    fig.savefig(tmp_path / "wide.svg")


def test_batch_trace_mean_or_sample():
    net = Network.from_weights([[[1.0]], [[2.0]]])
    trace = net.trace([[1.0], [3.0]], [0.0, 0.0], loss="sse")
    mean = texts(draw_network(trace))
    assert "2" in mean  # mean input value
    assert any("mean values, summed slopes over 2 samples" in t for t in mean)
    one = texts(draw_network(trace, sample=1))
    assert "6" in one and "12" in one  # output value 6, its slope 2 * 6
    with pytest.raises(IndexError, match="valid samples are 0..1"):
        draw_network(trace, sample=2)


def test_slope_edges_and_bad_arguments():
    trace = quiz_trace()
    draw_network(trace, edges="slope", show_slopes=False)
    with pytest.raises(ValueError, match="edges must be 'weight' or 'slope', got 'size'"):
        draw_network(trace, edges="size")
    with pytest.raises(ValueError, match="needs a Trace"):
        draw_network(trace.network, edges="slope")
    with pytest.raises(TypeError, match="needs a Network or a Trace, got list"):
        draw_network([1, 2])
    with pytest.raises(ValueError, match="max_nodes must be an int >= 2, got 1"):
        draw_network(trace, max_nodes=1)


def test_draw_into_given_axes():
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    assert draw_network(quiz_trace(), ax=ax) is fig


def test_repr_png_for_notebooks():
    assert quiz_trace()._repr_png_().startswith(PNG_MAGIC)
    assert network_repr_png(quiz_trace().network).startswith(PNG_MAGIC)
    assert quiz_trace().network._repr_png_().startswith(PNG_MAGIC)


def test_missing_matplotlib_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    import importlib

    monkeypatch.setattr(importlib, "import_module", lambda name, *a: no_matplotlib(name))
    with pytest.raises(ImportError, match=r"pip install 'slopes\[all\]'"):
        draw_network(quiz_trace())
    assert quiz_trace()._repr_png_() is None
    assert network_repr_png(quiz_trace().network) is None


def test_plot_history(tmp_path):
    history = History(history={"loss": [3, 2, 1.5], "val_loss": [3.5, 2.5, 2.0],
                               "accuracy": [0.5, 0.6, 0.7]}, epoch=[0, 1, 2])
    fig = plot_history(history, log_scale=True)
    assert len(fig.axes) == 2
    assert fig.axes[0].get_yscale() == "log" and fig.axes[1].get_yscale() == "linear"
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert labels == ["loss", "val_loss"]
    fig.savefig(tmp_path / "h.png")
    fig.savefig(tmp_path / "h.svg")
    one = plot_history(history, metrics=["loss"])
    assert len(one.axes) == 1
    assert len(plot_history([25.4, 13.2, 6.8]).axes[0].lines) == 1
    with pytest.raises(ValueError, match=r"metrics \['auc'\] are not in the history"):
        plot_history(history, metrics=["auc"])
    with pytest.raises(ValueError, match="empty"):
        plot_history({})


def test_fit_history_plots(tmp_path):
    net = Network.mlp([2, 3, 1], seed=0)
    X = np.random.default_rng(0).normal(size=(20, 2))
    history = net.fit(X, X.sum(axis=1), epochs=5, learning_rate=0.05,
                      validation_split=0.25, verbose=0, seed=0)
    fig = plot_history(history)
    assert {line.get_label() for line in fig.axes[0].lines} == {"loss", "val_loss"}
    fig.savefig(tmp_path / "fit.png")
