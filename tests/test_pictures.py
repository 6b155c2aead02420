"""The pictures `slopes train` and `slopes demo` write: what they name and which row they trace.

network.png names its input and output nodes, traces the held-out row with
the largest loss (checked here against each held-out row's loss computed
one row at a time from the saved model and the CSV), and says which row and
why; loss.png names the loss, labels its curves and has a title. The figures
are caught before they become PNG bytes, so their texts can be read.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

import slopes.commands.pictures as pictures_module  # noqa: E402
from slopes import Network  # noqa: E402
from slopes.cli import main  # noqa: E402
from slopes.columns import category_key  # noqa: E402
from slopes.commands.pictures import (  # noqa: E402
    HardestRow,
    TracedRow,
    row_losses,
    traced_words,
)
from slopes.commands.train import split_rows  # noqa: E402
from slopes.datasets import prepare_admissions  # noqa: E402
from slopes.io import load_model  # noqa: E402
from slopes.losses import LOSSES, MSE  # noqa: E402
from slopes.plot import draw_network, loss_words, plot_history  # noqa: E402


def texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def one_by_one(net, X, y, loss) -> np.ndarray:
    """Each row's loss, the slow and obvious way: evaluate on that row alone."""
    return np.array([net.evaluate(X[i:i + 1], y[i:i + 1], loss=loss) for i in range(len(X))])


# ------------------------------------------------------------------ row losses
NETS = {  # a loss -> the output layer it needs, and targets for it
    "sse": "identity", "mse": "identity", "half_mse": "sigmoid", "mae": "identity",
    "binary_crossentropy": "sigmoid", "categorical_crossentropy": "softmax",
}


def _targets(loss: str, rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    if loss == "categorical_crossentropy":
        return rng.integers(0, k, n)
    if loss == "binary_crossentropy":
        return rng.integers(0, 2, (n, k)).astype(float)
    return rng.normal(size=(n, k))


@pytest.mark.parametrize("loss", sorted(LOSSES))
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 12), k=st.integers(1, 4),
       scale=st.sampled_from([0.1, 1.0, 30.0]))
def test_row_losses_are_each_rows_loss_alone(loss, seed, n, k, scale):
    rng = np.random.default_rng(seed)
    k = max(k, 2) if loss == "categorical_crossentropy" else k
    net = Network.mlp([3, 4, k], activation="tanh", output=NETS[loss], seed=seed)
    X = rng.normal(size=(n, 3)) * scale
    y = _targets(loss, rng, n, k)
    got = row_losses(net, X, y, loss)
    assert got.shape == (n,)
    np.testing.assert_allclose(got, one_by_one(net, X, y, loss), rtol=1e-9, atol=1e-12)


def test_row_losses_of_a_loss_of_your_own_go_row_by_row():
    class Quartic(MSE):
        name = "quartic"

        def value(self, predicted, actual, sample_weight=None):
            return float(np.mean((predicted - actual) ** 4))

    rng = np.random.default_rng(1)
    net = Network.mlp([2, 3, 1], seed=1)
    X, y = rng.normal(size=(7, 2)), rng.normal(size=7)
    np.testing.assert_allclose(row_losses(net, X, y, Quartic()),
                               one_by_one(net, X, y, Quartic()))


def test_row_losses_of_no_rows_and_bad_input():
    net = Network.mlp([2, 3, 1], seed=1)
    assert row_losses(net, np.zeros((0, 2)), np.zeros(0), "mse").shape == (0,)
    with pytest.raises(ValueError, match="X has 3 features, but the network expects 2"):
        row_losses(net, np.zeros((4, 3)), np.zeros(4), "mse")


# ------------------------------------------------------------------ HardestRow
def test_hardest_row_over_chunks_is_the_argmax_over_all_rows():
    rng = np.random.default_rng(2)
    net = Network.mlp([3, 5, 1], output="sigmoid", seed=2)
    X, y = rng.normal(size=(50, 3)) * 3, rng.integers(0, 2, 50).astype(float)
    numbers = np.arange(1000, 1050)
    hardest = HardestRow(net, "binary_crossentropy")
    for start in range(0, 50, 7):  # chunks, as a stream reads them
        hardest.add(X[start:start + 7], y[start:start + 7], numbers[start:start + 7])
    losses = one_by_one(net, X, y, "binary_crossentropy")
    best = hardest.best
    assert best.row == 1000 + int(np.argmax(losses))
    assert best.loss == pytest.approx(losses.max())
    assert best.rows == 50 and best.part == "held-out"
    np.testing.assert_array_equal(best.x, X[[best.row - 1000]])


def test_hardest_row_keeps_the_first_of_equal_losses_and_ignores_nan():
    net = Network.from_weights([np.array([[1.0]])], activation="identity")
    hardest = HardestRow(net, "mse", "training")
    hardest.add(np.array([[1.0], [2.0], [2.0]]), np.array([0.0, 0.0, 0.0]), [5, 6, 7])
    assert hardest.best.row == 6
    net.layers[0].weights[:] = np.nan  # a diverged network: every loss NaN
    hardest.add(np.array([[1.0], [2.0]]), np.array([0.0, 0.0]), [8, 9])
    assert hardest.best.row == 6 and hardest.best.rows == 5
    with pytest.raises(ValueError, match="rows has 1 row numbers for 2 rows of X"):
        hardest.add(np.zeros((2, 1)), np.zeros(2), [1])


def test_traced_words_say_which_row_and_why():
    row = TracedRow(x=np.zeros((1, 2)), y=np.zeros(1), row=17, loss=2.3456, rows=40,
                    part="held-out")
    title, note = traced_words(row, "data.csv", "binary_crossentropy",
                               "slopes explain m data.csv --row 17")
    assert title == "data.csv, row 17: the held-out row with the largest loss"
    assert note.startswith("Traced: row 17, the row with the largest loss of the 40 rows held "
                           "out for testing, which the model never trained on: 2.35 (binary "
                           "cross-entropy).")
    assert note.endswith("slopes explain m data.csv --row 17 explains this one in full.")
    row.part = "training"
    title, note = traced_words(row, "data.csv", "mse", None, "--test-size 0")
    assert title == "data.csv, row 17: the training row with the largest loss"
    assert note.startswith("There is no held-out row (--test-size 0), so this traces instead "
                           "row 17, the row with the largest loss of the 40 training rows: "
                           "2.35 (mean squared error (mse)).")


# ------------------------------------------------------------ plot functions
def test_plot_history_names_the_loss_labels_the_curves_and_marks_the_kept_epoch():
    history = {"loss": [0.9, 0.5, 0.4], "val_loss": [1.0, 0.7, 0.8],
               "accuracy": [0.5, 0.7, 0.8], "val_accuracy": [0.4, 0.6, 0.6]}
    fig = plot_history(history, loss="categorical_crossentropy", title="d.csv: the loss",
                       mark_epoch=2)
    loss_ax, accuracy_ax = fig.axes
    assert loss_ax.get_ylabel() == "loss: categorical cross-entropy"
    assert fig.get_suptitle() == "d.csv: the loss"
    assert [line.get_label() for line in loss_ax.lines] == [
        "loss (training rows)", "val_loss (validation rows)", "weights kept: epoch 2"]
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == [
        "loss (training rows)", "val_loss (validation rows)", "weights kept: epoch 2"]
    assert accuracy_ax.get_ylabel() == "accuracy"
    assert loss_ax.lines[2].get_xdata()[0] == 2
    # Without loss=, the curves keep the history's keys (as before).
    plain = plot_history(history)
    assert plain.axes[0].get_ylabel() == "loss"
    assert [line.get_label() for line in plain.axes[0].lines] == ["loss", "val_loss"]


def test_loss_words():
    assert loss_words("binary_crossentropy") == "binary cross-entropy"
    assert loss_words(MSE()) == "mean squared error (mse)"
    assert loss_words("half_mse").startswith("half mean squared error")
    assert loss_words("my_loss") == "my_loss"


def test_draw_network_note_is_wrapped_inside_the_figure_and_names_the_left_out_nodes():
    net = Network.mlp([30, 4, 3], output="softmax", seed=0)
    rng = np.random.default_rng(0)
    trace = net.trace(rng.normal(size=(1, 30)), np.array([2]), loss="categorical_crossentropy")
    note = "Traced: " + "a long explanation of why this row " * 12
    fig = draw_network(trace, title="t", note=note, nodes={0: [1, 5, 7]},
                       left_out_why={0: "moved the prediction less"},
                       output_names=["c=a", "c=b", "c=c"])
    shown = texts(fig)
    assert "\u2026 27 more\n(moved the prediction less)" in shown
    wrapped = [t for t in fig.axes[0].texts if t.get_text().startswith("Traced: ")][0]
    assert wrapped.get_text().count("\n") >= 2
    assert " ".join(wrapped.get_text().split()) == " ".join(note.split())
    fig.canvas.draw()
    box = wrapped.get_window_extent()
    width = fig.get_size_inches()[0] * fig.dpi
    assert 0 <= box.x0 and box.x1 <= width
    # one sample of a class: the caption names the actual class and the largest output
    p = trace.predictions[0]
    assert any(t.startswith(f"actual c=c: its output {float(p[2]):.3g}") and
               f"largest output c={'abc'[int(np.argmax(p))]}" in t for t in shown)
    hand_picked = texts(draw_network(trace, nodes={0: [1, 5, 7]}))
    assert "\u2026 27 more\n(not chosen)" in hand_picked


# ----------------------------------------------------------------- the command
@pytest.fixture
def caught(monkeypatch):
    """The figures the command turns into PNG files, by file name; and what HardestRow saw."""
    figures: dict[str, object] = {}
    seen: list[tuple[str, list[int]]] = []
    real_png = pictures_module.figure_to_png
    real_add = HardestRow.add

    def to_png(fig, *args, **kwargs):
        network = any(t.startswith("edges: weights") for t in texts(fig))
        figures["network.png" if network else "loss.png"] = fig
        return real_png(fig, *args, **kwargs)

    def add(self, X, y, rows):
        seen.append((self.part, [int(r) for r in rows]))
        return real_add(self, X, y, rows)

    monkeypatch.setattr(pictures_module, "figure_to_png", to_png)
    monkeypatch.setattr(HardestRow, "add", add)
    return figures, seen


def _frame(n: int = 120, seed: int = 0, wide: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"size": rng.normal(50, 10, n).round(1),
                          "city": rng.choice(["north", "south", "east"], n),
                          "noise": rng.normal(size=n).round(3)})
    for j in range(wide):
        frame[f"pixel_{j}"] = rng.normal(size=n).round(3)
    score = frame["size"] / 10 + (frame["city"] == "north") + rng.normal(size=n)
    frame["label"] = np.where(score > 5.3, "yes", "no")
    return frame


def _traced_row(figure) -> int:
    title = [t for t in texts(figure) if "the held-out row with the largest loss" in t
             or "the training row with the largest loss" in t]
    assert len(title) == 1, texts(figure)
    return int(re.search(r"row (\d+):", title[0]).group(1))


def _held_out_losses(model_dir, csv, rows) -> np.ndarray:
    """Each held-out row's loss, from the saved model and the CSV, one row at a time."""
    model = load_model(model_dir / "model.safetensors")
    data = pd.read_csv(csv).iloc[rows]
    X = model.preprocessing.transform(data, dtype=model.network.dtype)
    y = model.preprocessing.transform_target(data["label"])
    return one_by_one(model.network, X, y, model.training["loss"])


@pytest.mark.parametrize("stream", [False, True], ids=["in-memory", "stream"])
def test_train_traces_the_held_out_row_with_the_largest_loss(tmp_path, capsys, caught, stream):
    figures, seen = caught
    csv = tmp_path / "data.csv"
    frame = _frame()
    frame.to_csv(csv, index=False)
    out = tmp_path / "model"
    extra = ["--stream", "--chunk-rows", "25"] if stream else []
    assert main(["train", str(csv), "--target", "label", "--out", str(out), "--epochs", "30",
                 "--seed", "3", *extra]) == 0
    capsys.readouterr()
    held = [r for part, rows in seen if part == "held-out" for r in rows]
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(held) == metrics["test"]["rows"] > 1
    if not stream:  # the very rows slopes train held out
        groups = frame["label"].map(category_key).to_numpy(str)
        assert held == sorted(split_rows(len(frame), 0.1, 3, groups)[1].tolist())
    losses = _held_out_losses(out, csv, held)
    row = _traced_row(figures["network.png"])
    assert row == held[int(np.argmax(losses))]
    labels = texts(figures["network.png"])
    assert f"data.csv, row {row}: the held-out row with the largest loss" in labels
    note = " ".join([t for t in labels if t.startswith("Traced: ")][0].split())
    assert f"of the {len(held)} rows held out for testing" in note
    assert f"{losses.max():.3g} (binary cross-entropy)" in note
    assert f"slopes explain {out} {csv} --row {row} explains this one in full" in note
    # the inputs named as the model takes them, the output by its class
    assert {"size", "city=east", "city=north", "city=south", "noise", "label=yes"} <= set(labels)
    loss_ax = figures["loss.png"].axes[0]
    assert loss_ax.get_ylabel() == "loss: binary cross-entropy"
    assert figures["loss.png"].get_suptitle() == "data.csv: the loss per epoch"
    curves = [line.get_label() for line in loss_ax.lines]
    assert curves[:2] == ["loss (training rows)", "val_loss (validation rows)"]
    assert re.fullmatch(r"weights kept: epoch \d+", curves[2])


def test_train_without_held_out_rows_traces_the_training_row_and_says_so(tmp_path, capsys,
                                                                         caught):
    figures, seen = caught
    csv = tmp_path / "data.csv"
    _frame().to_csv(csv, index=False)
    assert main(["train", str(csv), "--target", "label", "--out", str(tmp_path / "m"),
                 "--epochs", "5", "--test-size", "0"]) == 0
    capsys.readouterr()
    assert [part for part, _ in seen] == ["training"]
    training = seen[0][1]
    losses = _held_out_losses(tmp_path / "m", csv, training)
    row = _traced_row(figures["network.png"])
    assert row == training[int(np.argmax(losses))]
    labels = texts(figures["network.png"])
    assert f"data.csv, row {row}: the training row with the largest loss" in labels
    note = " ".join([t for t in labels if t.startswith("There is no")][0].split())
    assert note.startswith(f"There is no held-out row (--test-size 0), so this traces instead "
                           f"row {row}, the row with the largest loss of the {len(training)} "
                           "training rows")


def test_many_inputs_show_the_nine_that_moved_the_prediction_most(tmp_path, capsys, caught):
    figures, _ = caught
    csv = tmp_path / "wide.csv"
    _frame(wide=40).to_csv(csv, index=False)
    out = tmp_path / "m"
    assert main(["train", str(csv), "--target", "label", "--out", str(out), "--epochs",
                 "5"]) == 0
    capsys.readouterr()
    labels = texts(figures["network.png"])
    model = load_model(out / "model.safetensors")
    names = model.preprocessing.feature_names
    assert len(names) == 45
    assert "\u2026 36 more\n(moved the prediction less)" in labels
    row = _traced_row(figures["network.png"])
    data = pd.read_csv(csv).iloc[[row]]
    x = model.preprocessing.transform(data, dtype=model.network.dtype)
    trace = model.network.trace(x, model.preprocessing.transform_target(data["label"]),
                                loss=model.training["loss"])
    effect = np.abs(trace.prediction_slopes(0)[0] * x[0])
    top = {names[i] for i in np.argsort(-effect, kind="stable")[:9]}
    assert top <= set(labels)
    assert not (set(names) - top) & set(labels)


def test_demo_traces_its_held_out_row_with_the_largest_loss(tmp_path, capsys, caught):
    figures, _ = caught
    assert main(["demo", "--out", str(tmp_path / "d"), "--epochs", "50"]) == 0
    capsys.readouterr()
    model = load_model(tmp_path / "d" / "model.safetensors")
    split = prepare_admissions(test_size=0.1, seed=42)
    losses = one_by_one(model.network, split.features_test, split.targets_test, "half_mse")
    row = int(split.test_rows[int(np.argmax(losses))])
    labels = texts(figures["network.png"])
    assert f"the admissions data, row {row}: the held-out row with the largest loss" in labels
    assert {"gre", "gpa", "rank=1", "rank=2", "rank=3", "rank=4", "admit=1"} <= set(labels)
    note = " ".join([t for t in labels if t.startswith("Traced: ")][0].split())
    assert "of the 40 rows held out for testing" in note
    assert "(half mean squared error (half_mse, the course's E))" in note
    assert figures["loss.png"].axes[0].get_ylabel() == \
        "loss: half mean squared error (half_mse, the course's E)"
    assert figures["loss.png"].get_suptitle() == "the admissions data: the loss per epoch"


def test_admissions_split_names_its_held_out_rows():
    from slopes.datasets import load_admissions

    split = prepare_admissions(test_size=0.1, seed=42)
    data = load_admissions()
    assert len(split.test_rows) == 40
    np.testing.assert_array_equal(data["admit"].to_numpy(float)[split.test_rows],
                                  split.targets_test)
    np.testing.assert_allclose(data["gre"].to_numpy(float)[split.test_rows],
                               split.features_test[:, 0] * data["gre"].std()
                               + data["gre"].mean())


def test_a_regression_picture_names_its_target_and_its_units(tmp_path, capsys, caught):
    figures, seen = caught
    csv = tmp_path / "houses.csv"
    frame = _frame().drop(columns="label")
    frame["price"] = 3 * frame["size"] + np.arange(len(frame)) % 7
    frame.to_csv(csv, index=False)
    assert main(["train", str(csv), "--target", "price", "--out", str(tmp_path / "m"),
                 "--epochs", "5"]) == 0
    capsys.readouterr()
    labels = texts(figures["network.png"])
    assert "price" in labels  # the output node
    note = " ".join([t for t in labels if t.startswith("Traced: ")][0].split())
    assert "(mean squared error (mse))" in note
    assert note.endswith("price is drawn in standardized units (0: the training rows' mean), "
                         "as the network predicts it.")
    assert figures["loss.png"].get_suptitle() == \
        "houses.csv: the loss per epoch (the target standardized)"
    assert figures["loss.png"].axes[0].get_ylabel() == "loss: mean squared error (mse)"


def test_characters_the_font_cannot_draw_are_said_once(tmp_path):
    """A column named in Chinese: matplotlib warns once per character; slopes once, naming them."""
    import warnings

    from slopes.figures import figure_to_png, new_figure

    fig = new_figure((3, 2))
    fig.text(0.1, 0.5, "北京 北京 上海")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = figure_to_png(fig)
    assert png.startswith(b"\x89PNG")
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1, messages
    assert messages[0].startswith("the picture's font has no glyph for 4 character(s) of its "
                                  "text (CJK UNIFIED IDEOGRAPH-5317, ")
    assert messages[0].endswith("and 1 more); they are drawn as empty boxes")
