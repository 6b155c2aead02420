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
    # The course's last quiz, its network rebuilt from the course's numbers: predicts 10
    # for an actual 7, so the slope at the output is 2 x 3 = 6.
    net = Network.from_weights({"node_0": [0, 1], "node_1": [2, 3], "output": [1, 3]},
                               activation="relu")
    return net.trace([0, 1], 7)


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_draw_trace_saves(tmp_path, suffix):
    fig = draw_network(quiz_trace(), title="quiz")
    path = tmp_path / f"net.{suffix}"
    fig.savefig(path)
    assert path.stat().st_size > 1000
    labels = texts(fig)
    assert "10" in labels and "18" in labels and "6" in labels  # value, slopes
    assert any("actual 7, error 3" in t for t in labels)


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
    assert "\u2026 119 more\n(smaller |slope|)" in texts(fig)
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


# ------------------------------------------------- real data: names, labels, layout
def rendered(fig):
    """Draw ``fig`` with Agg; return a function giving a text's or line's box on the page."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig) if not hasattr(fig.canvas, "get_renderer") else fig.canvas
    canvas.draw()
    renderer = canvas.get_renderer()
    return lambda artist: artist.get_window_extent(renderer)


def weight_labels(fig):
    return [t for ax in fig.axes for t in ax.texts if t.get_gid() == "weight-label"]


def test_inputs_and_outputs_are_named():
    net = Network.mlp([3, 4, 2], activation="relu", output="softmax", seed=0)
    trace = net.trace([[0.5, -1.0, 2.0]], [1], loss="categorical_crossentropy")
    labels = texts(draw_network(trace, input_names=["age", "income", "rooms"],
                                output_names=["cheap", "dear"]))
    assert {"age", "income", "rooms", "cheap", "dear"} <= set(labels)
    with pytest.raises(ValueError, match="input_names has 2 names, but the network has 3 inputs"):
        draw_network(trace, input_names=["a", "b"])
    with pytest.raises(TypeError, match="must be a list of names"):
        draw_network(trace, output_names="cheap")


def test_no_weight_label_covers_another():
    rng = np.random.default_rng(0)
    net = Network.from_weights([rng.normal(size=(6, 5)).round(3), rng.normal(size=(5, 1))],
                               activation=["relu", "sigmoid"])
    trace = net.trace(rng.normal(size=(1, 6)), [1.0], loss="binary_crossentropy")
    fig = draw_network(trace, input_names=[f"x{i}" for i in range(6)], output_names=["yes"])
    box = rendered(fig)
    labels = weight_labels(fig)
    assert len(labels) >= 25  # most of the 35 edges keep their label
    boxes = [box(t) for t in labels]
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            assert not boxes[a].overlaps(boxes[b]), (labels[a].get_text(), labels[b].get_text())
    others = [t for t in fig.axes[0].texts if t.get_gid() != "weight-label" and t.get_text()]
    for label, label_box in zip(labels, boxes, strict=True):
        for other in others:
            assert not label_box.overlaps(box(other)), (label.get_text(), other.get_text())
    left_out = 35 - len(labels)
    legend = [t for t in texts(fig) if t.startswith("edges: weights")][0]
    assert (f"{left_out} weight label(s) left out" in legend) == (left_out > 0)


def test_wide_inputs_show_the_inputs_that_matter_most():
    weights = np.full((30, 1), 0.01)
    weights[[4, 17, 29], 0] = [3.0, -2.0, 5.0]
    net = Network.from_weights([weights])
    names = [f"feature_{i}" for i in range(30)]
    labels = texts(draw_network(net, input_names=names, max_nodes=4))  # by |weight|
    assert {"feature_4", "feature_17", "feature_29"} <= set(labels)
    assert "feature_0" not in labels
    assert "\u2026 27 more\n(smaller |weights|)" in labels
    # After a trace: by |slope of the loss| at the inputs (weight x the output's slope here).
    trace = net.trace(np.ones((1, 30)), [0.0])
    labels = texts(draw_network(trace, input_names=names, max_nodes=4))
    assert {"feature_4", "feature_17", "feature_29"} <= set(labels)
    # Or the inputs asked for.
    labels = texts(draw_network(trace, input_names=names, nodes={0: [0, 1]}))
    assert "feature_0" in labels and "feature_29" not in labels
    with pytest.raises(ValueError, match=r"nodes\[0\] must list nodes 0..29"):
        draw_network(trace, nodes={0: [30]})


def test_caption_never_overlaps_an_edge():
    rng = np.random.default_rng(1)
    net = Network.mlp([2, 9, 1], activation="relu", output="sigmoid", seed=0)
    trace = net.trace(rng.normal(size=(1, 2)), [1.0], loss="binary_crossentropy")
    fig = draw_network(trace, title="caption test")
    box = rendered(fig)
    caption = [t for t in fig.axes[0].texts if "loss binary_crossentropy" in t.get_text()][0]
    caption_box = box(caption)
    lines = fig.axes[0].lines
    assert lines
    for line in lines:
        assert not caption_box.overlaps(box(line))
    nodes = fig.axes[0].patches
    assert caption_box.y1 < min(box(node).y0 for node in nodes)  # below every node


def test_epochs_are_numbered_as_in_the_logs():
    history = History(history={"loss": [3, 2, 1.5]}, epoch=[0, 1, 2])
    line = plot_history(history).axes[0].lines[0]
    assert list(line.get_xdata()) == [1, 2, 3]  # the logs print "epoch 1/3" first
    assert list(plot_history([5.0, 4.0]).axes[0].lines[0].get_xdata()) == [1, 2]


PYPLOT_SCRIPT = """
import sys
import matplotlib
matplotlib.use("Agg")
from slopes import Network
from slopes.plot import draw_network, plot_history, unmanaged_figures
net = Network.from_weights({"node_0": [0, 1], "node_1": [2, 3], "output": [1, 3]},
                           activation="relu")
fig = draw_network(net.trace([0, 1], 7))
assert "matplotlib.pyplot" not in sys.modules  # slopes never imports pyplot by itself
import matplotlib.pyplot as plt
fig = draw_network(net.trace([0, 1], 7))
assert plt.gcf() is fig, "the drawing is pyplot's current figure"
plt.savefig(sys.argv[1])
plt.show()  # Agg: nothing to show, and no error
history = plot_history([3.0, 2.0, 1.0])
assert plt.gcf() is history
plt.savefig(sys.argv[2])
before = plt.get_fignums()
with unmanaged_figures():
    draw_network(net)
assert plt.get_fignums() == before
print("ok")
"""


def test_figures_work_with_plt_savefig_and_plt_show(tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", PYPLOT_SCRIPT, str(tmp_path / "net.png"),
                             str(tmp_path / "loss.png")], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert (tmp_path / "net.png").stat().st_size > 5000
    assert (tmp_path / "loss.png").stat().st_size > 5000


def test_a_diverged_network_is_still_drawn(recwarn):
    net = Network.mlp([2, 2, 1], seed=0)
    net.layers[0].weights[0, 0] = np.inf
    assert "inf" in texts(draw_network(net.trace(np.ones((1, 2)), [0.0])))


# ------------------------------------------------------------------ the learning rate
def test_plot_history_draws_the_learning_rate_when_asked():
    from slopes.schedules import StepLR

    net = Network.mlp([2, 3, 1], seed=0)
    X = np.random.default_rng(0).normal(size=(20, 2))
    history = net.fit(X, X.sum(axis=1), epochs=6, learning_rate=0.1, verbose=0, seed=0,
                      validation_split=0.25, callbacks=[StepLR(2, gamma=0.5)])
    plain = history.plot()  # lr is logged, but not drawn unless asked for
    assert len(plain.axes) == 1
    assert {line.get_label() for line in plain.axes[0].lines} == {"loss", "val_loss"}

    fig = history.plot(lr=True)  # a panel of its own, at the bottom
    assert len(fig.axes) == 2
    rate_panel = fig.axes[-1]
    assert [line.get_label() for line in rate_panel.lines] == ["lr"]
    assert rate_panel.get_ylabel() == "learning rate"
    assert list(rate_panel.lines[0].get_ydata()) == [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    assert list(rate_panel.lines[0].get_xdata()) == [1, 2, 3, 4, 5, 6]
    assert rate_panel.get_xlabel() == "epoch"
    assert plot_history(history, metrics=["lr"]).axes[0].get_ylabel() == "learning rate"
    assert len(plot_history(history, metrics=["loss", "lr"], log_scale=True).axes) == 2


def test_plot_history_with_ax_draws_the_learning_rate_on_a_second_y_axis():
    import matplotlib.figure

    history = History(history={"loss": [3.0, 2.0, 1.5], "lr": [0.1, 0.05, 0.025]},
                      epoch=[0, 1, 2])
    fig = matplotlib.figure.Figure()
    ax = fig.subplots()
    plot_history(history, ax=ax, lr=True)
    assert len(fig.axes) == 2  # ax and its twin
    twin = fig.axes[1]
    assert [line.get_label() for line in ax.lines] == ["loss"]
    assert [line.get_label() for line in twin.lines] == ["lr"]
    assert twin.get_ylabel() == "learning rate"
    assert [t.get_text() for t in twin.get_legend().get_texts()] == ["loss", "lr"]
    assert ax.get_xlabel() == "epoch"


def test_plot_history_lr_needs_a_history_that_logged_it():
    history = History(history={"loss": [3.0, 2.0]}, epoch=[0, 1])
    with pytest.raises(ValueError, match=r"^lr=True draws the learning rate a history logs as "
                                         r"'lr', but this one has none; its keys are \['loss'\]$"):
        plot_history(history, lr=True)
