"""``slopes explain`` on real data: inputs ranked, --top, --layer, fused outputs, the optimizer.

Run in-process through ``slopes.cli.main`` (tests/test_cli.py drives the same
command through a subprocess).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from slopes.cli import main  # noqa: E402
from slopes.commands.explain import (  # noqa: E402
    input_ranking,
    training_optimizer,
    training_step,
)
from slopes.io import load_model  # noqa: E402


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 80
    frame = pd.DataFrame({
        "size": rng.normal(50, 10, n).round(1),
        "age": rng.integers(1, 40, n),
        "city": rng.choice(["north", "south", "east"], n),
        "noise": rng.normal(size=n).round(3),
    })
    frame["label"] = np.where(frame["size"] / 10 - frame["age"] / 20 + (frame["city"] == "north")
                              > 4, "yes", "no")
    frame["kind"] = np.where(frame["size"] > 55, "big", np.where(frame["size"] < 45, "small",
                                                                  "mid"))
    frame["price"] = (3 * frame["size"] - frame["age"] + rng.normal(size=n)).round(2)
    root = tmp_path_factory.mktemp("explain")
    for target in ("label", "kind", "price"):  # one file per target: explain wants its columns
        frame[["size", "age", "city", "noise", target]].to_csv(root / f"{target}.csv",
                                                                 index=False)
    return root, frame


def train(root, target, *extra, name=None):
    """A model trained on ``{target}.csv`` (into ``model-{name}``), and that file."""
    path = root / f"{target}.csv"
    out = root / f"model-{name or target}"
    if not (out / "model.safetensors").exists():
        code = main(["train", str(path), "--target", target, "--hidden", "5", "--epochs",
                     "15", "--seed", "0", "--out", str(out), *extra])
        assert code == 0
    return out / "model.safetensors", path


def weight_rows(out):
    """The rows of the weight table: layer, from, to, weight, ..., slope, update."""
    section = out.split("The weights with the largest slopes")[1]
    return [line.split() for line in section.splitlines() if re.match(r"\s+\d+\s", line)]


def explain(capsys, *args):
    capsys.readouterr()
    code = main(["explain", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_inputs_ranked_by_how_much_each_moved_the_prediction(data, capsys, tmp_path):
    root, frame = data
    model_path, path = train(root, "label")
    code, out, _ = explain(capsys, model_path, path, "--row", 4, "--out", tmp_path / "e")
    assert code == 0
    model = load_model(model_path)
    prep, net = model.preprocessing, model.network
    columns = ["size", "age", "city", "noise"]
    x = prep.transform(frame[columns].iloc[[4]])
    # The slope of the predicted probability, by central differences, times the input.
    slopes = np.array([(net.predict(x + step)[0, 0] - net.predict(x - step)[0, 0]) / 2e-6
                       for step in np.eye(x.shape[1]) * 1e-6])
    effect = slopes * x[0]
    order = np.argsort(-np.abs(effect), kind="stable")
    section = out.split("The inputs that moved this prediction most")[1].split("\n\n")[0]
    assert "the probability of label = yes changes per unit of the input" in section
    rows = [line.split() for line in section.splitlines()[2:] if line.strip()[:1].isdigit()]
    assert [r[1] for r in rows] == [prep.feature_names[k] for k in order]
    for r, k in zip(rows, order, strict=True):
        assert float(r[3]) == pytest.approx(slopes[k], rel=1e-3, abs=1e-6)
        assert float(r[4]) == pytest.approx(effect[k], rel=1e-3, abs=1e-6)
    trace = net.trace(x, prep.transform_target(frame["label"].iloc[[4]]),
                      loss="binary_crossentropy")
    ranking = input_ranking(trace, 0, prep.feature_names)
    assert [r["index"] for r in ranking] == list(order)


def test_top_and_layer_choose_what_is_listed(data, capsys, tmp_path):
    root, _ = data
    model_path, path = train(root, "label")
    code, out, _ = explain(capsys, model_path, path, "--row", 0, "--top", 2, "--out",
                           tmp_path / "e")
    assert code == 0
    ranking = out.split("The inputs that moved")[1].split("\n\n")[0]
    assert len([line for line in ranking.splitlines() if re.match(r"\s+\d+ ", line)]) == 2
    assert "... 4 more inputs moved it less (--top 6 lists them all)." in ranking
    table = weight_rows(out)
    assert [r[0] for r in table] == ["0", "0", "1", "1"]
    assert table[2][2] == "label=yes"  # the output node by its class
    slopes = [abs(float(r[7])) for r in table]
    assert slopes[0] >= slopes[1] and slopes[2] >= slopes[3]  # largest slopes first
    # layer 0: 6 inputs and a bias into 5 nodes
    assert "... layer 0 has 33 more weights with smaller slopes (--top 35 lists them all)." in out
    code, out, _ = explain(capsys, model_path, path, "--row", 0, "--layer", 1, "--out",
                           tmp_path / "e")
    weights = out.split("The weights with the largest slopes in layer 1")[1]
    table = [line.split() for line in weights.splitlines() if re.match(r"\s+\d\s", line)]
    assert {r[0] for r in table} == {"1"} and len(table) == 6  # 5 weights and the bias
    code, _, err = explain(capsys, model_path, path, "--row", 0, "--layer", 2, "--out",
                           tmp_path / "e")
    assert code == 1
    assert err.strip() == ("slopes explain: error: --layer 2: the model has 2 layers, "
                           "numbered 0 to 1")


def test_a_fused_output_is_explained_in_words_not_nan(data, capsys, tmp_path):
    root, frame = data
    model_path, path = train(root, "label")
    code, out, _ = explain(capsys, model_path, path, "--row", 1, "--out", tmp_path / "e")
    assert code == 0
    assert "nan" not in out.lower()
    model = load_model(model_path)
    x = model.preprocessing.transform(frame[["size", "age", "city", "noise"]].iloc[[1]])
    p = model.network.predict(x)[0, 0]
    actual = 1.0 if frame["label"].iloc[1] == "yes" else 0.0
    weights = out.split("The weights with the largest slopes")[1]
    rows = [line.split() for line in weights.splitlines() if re.match(r"\s+1\s", line)]
    # The sigmoid's own slope and the loss's slope at the output, taken apart in the table.
    assert len(rows) == 6
    assert all(r[5] == f"{p * (1 - p):.4g}" for r in rows)  # activation_slope
    assert all(float(r[5]) * float(r[6]) == pytest.approx(p - actual, rel=1e-3) for r in rows)
    assert ("the slope of the loss at the input of the output node (label=yes) is predicted - "
            f"actual = {p:.4g} - {actual:g} = {p - actual:.4g}") in out
    assert f"the sigmoid's slope p(1 - p) = {p * (1 - p):.4g} (activation_slope)" in out
    assert "The table shows it taken apart" in out


def test_a_saturated_sigmoid_reads_fused():
    from slopes import Network
    from slopes.commands.explain import _fused_words, _print_weights

    net = Network.from_weights([np.array([[100.0]])], activation="sigmoid")
    trace = net.trace([[10.0]], [0], loss="binary_crossentropy")
    words = _fused_words(trace, "sigmoid", ["yes"])
    assert words == (
        'In the output layer, activation_slope reads "fused": the sigmoid and the binary '
        "cross-entropy are computed as one, so the slope of the loss at the input of the output "
        "node (yes) is predicted - actual = 1 - 0 = 1, its downstream_slope. The prediction is "
        "0 or 1 to the last digit, so the sigmoid's slope p(1 - p) = 0 times the loss's slope "
        "at the output, 4.504e+15, does not give it; computed in one step it never overflows.")
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        _print_weights(trace, None, None, 5, pd, ["x"], ["yes"])
    row = printed.getvalue().splitlines()[-1].split()
    assert row[:6] == ["0", "x", "yes", "100", "10", "fused"] and row[6] == "1"


def test_the_update_is_the_trained_optimizers_step(data, capsys, tmp_path):
    root, frame = data
    model_path, path = train(root, "label")  # slopes train's default optimizer: adam, 0.01
    model = load_model(model_path)
    assert model.training["optimizer"] == "adam"
    adam = training_optimizer(model.training)
    assert (type(adam).__name__, adam.learning_rate, adam.beta2) == ("Adam", 0.01, 0.999)
    code, out, _ = explain(capsys, model_path, path, "--row", 2, "--top", 40, "--out",
                           tmp_path / "e")
    assert "the first step of adam (learning rate 0.01, beta1 0.9, beta2 0.999, eps 1e-08)" in out
    assert "the model file keeps the optimizer's settings, not its state" in out
    table = weight_rows(out)
    assert len(table) == 35 + 6  # every weight and bias: --top 40
    for row in table:
        slope, update = float(row[7]), float(row[8])
        expected = 0 if slope == 0 else -0.01 * np.sign(slope)  # Adam's first step
        assert update == pytest.approx(expected, abs=2e-4)
    # A model trained with plain SGD shows -learning_rate x slope.
    sgd_path, kind_path = train(root, "kind", "--optimizer", "sgd", "--learning-rate", "0.2",
                                name="kind-sgd")
    code, out, _ = explain(capsys, sgd_path, kind_path, "--row", 2, "--out", tmp_path / "e2")
    assert "one step of sgd (learning rate 0.2): -learning_rate x slope" in out
    table = weight_rows(out)
    assert table
    for row in table:
        assert float(row[8]) == pytest.approx(-0.2 * float(row[7]), rel=2e-3, abs=1e-6)


def test_softmax_and_regression_models(data, capsys, tmp_path):
    root, frame = data
    kind, kind_path = train(root, "kind")
    code, out, _ = explain(capsys, kind, kind_path, "--row", 3, "--out", tmp_path / "k")
    assert code == 0
    predicted = re.search(r"Predicted kind = (\w+)", out).group(1)
    assert f"how much the probability of kind = {predicted} changes" in out
    assert "softmax and the categorical cross-entropy are computed as one" in out
    assert "nan" not in out.lower()
    price, price_path = train(root, "price")
    code, out, _ = explain(capsys, price, price_path, "--row", 3, "--out", tmp_path / "p")
    assert code == 0
    assert "how much the predicted price (in standardized units) changes" in out
    assert "fused" not in out


def test_html_page_and_drawing(data, capsys, tmp_path):
    root, _ = data
    model_path, path = train(root, "label")
    page = tmp_path / "page.html"
    code, out, _ = explain(capsys, model_path, path, "--row", 0, "--out", tmp_path / "e",
                           "--html", page)
    assert code == 0
    assert f"Wrote {page} (open it in a browser" in out
    html = page.read_text()
    assert '"names":["size","age","city=east","city=north","city=south","noise"]' in html
    assert '"label=yes"' in html and "the first step of adam" in html
    assert sorted(p.name for p in (tmp_path / "e").iterdir()) == ["network.png"]
    code, _, err = explain(capsys, model_path, path, "--row", 0, "--out", tmp_path / "e",
                           "--html", tmp_path / "missing" / "page.html")
    assert code == 1 and "--html" in err and "does not exist" in err


def page_text(html, edge, frame=-1):
    """The data block of a page, and the hover text of ``edge`` at ``frame`` (as the page's
    script fills it)."""
    block = re.search(r'<script type="application/json" id="slopes-data">(.*?)</script>', html,
                      flags=re.S).group(1)
    data = json.loads(block)
    parts = dict(zip(data["static_names"], data["static"][edge], strict=True))
    parts.update(zip(data["part_names"], data["frames"][frame]["parts"][edge], strict=True))
    return data, re.sub(r"\{(\w+)\}", lambda m: parts.get(m.group(1), m.group(0)),
                        data["templates"][edge])


def test_html_page_shows_the_penalty_the_clipping_and_the_schedules_rate(data, capsys,
                                                                          tmp_path):
    root, frame = data
    model_path, path = train(root, "label", "--l2", "0.01", "--clip-norm", "1", "--schedule",
                             "step:5,0.5", "--optimizer", "sgd", "--learning-rate", "0.4",
                             name="label-l2")
    model = load_model(model_path)
    best = model.training["best_epoch"]
    assert isinstance(best, int)
    page = tmp_path / "page.html"
    code, out, _ = explain(capsys, model_path, path, "--row", 3, "--out", tmp_path / "e",
                           "--html", page)
    assert code == 0
    html = page.read_text()
    data, _ = page_text(html, 0)
    assert data["final_epoch"] == best + 1  # the loss curve marks the saved epoch
    rate = model.history["lr"][best]
    assert rate < 0.4  # the schedule lowered it
    assert data["step"] == f"one step of sgd (learning rate {rate:.6g}): -learning_rate x slope"
    # Every weight's hover text is Trace.explain of the trace with the model's penalty and
    # clipping, at the schedule's rate of the saved epoch; a weight's names the L2 penalty.
    prep, net = model.preprocessing, model.network
    row = frame[["size", "age", "city", "noise", "label"]].iloc[[3]]
    trace = net.trace(prep.transform(row, dtype=net.dtype),
                      prep.transform_target(row["label"]), loss=model.training["loss"],
                      **training_step(model.training))
    optimizer = training_optimizer(model.training)
    optimizer.learning_rate = rate
    names = list(prep.feature_names)
    penalized = 0
    for edge, (k, i, j) in enumerate(data["edges"]):
        _, text = page_text(html, edge)
        expected = trace.explain(k, "bias" if i < 0 else i, j, optimizer=optimizer,
                                 input_names=names, output_names=["label=yes"])
        assert text == expected
        assert "clip_norm 1" in text
        if i >= 0:
            penalized += 1
            assert "The penalty adds its slope to the slope from the data:" in text
            assert "(from the data) + 2 x l2 x weight (from the L2 penalty)" in text
            assert "+ 2 x 0.01 x " in text
        else:
            assert "L2 penalty" not in text  # biases are not penalized
    assert penalized > 0
    assert "(from the L2 penalty)" in html  # in the page's data block itself
