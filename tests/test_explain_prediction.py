"""``slopes explain`` on a row without its target: the prediction explained, and said so.

Classification: the predicted class stands in as the target and the slopes
are those of the model's loss against it (the course's backpropagation
starts from the error, target - prediction). Regression: against the
prediction itself every slope would be 0, so the slopes are those of the
prediction (``PredictionItself``: ``L = p``, slope 1).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from slopes import Network  # noqa: E402
from slopes.cli import main  # noqa: E402
from slopes.commands.explain import PredictionItself  # noqa: E402
from slopes.io import load_model  # noqa: E402


def _frame(n: int = 90, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"size": rng.normal(50, 10, n).round(1),
                          "city": rng.choice(["north", "south", "east"], n),
                          "noise": rng.normal(size=n).round(3)})
    frame["label"] = np.where(frame["size"] / 10 + (frame["city"] == "north") > 5.3, "yes", "no")
    frame["kind"] = np.where(frame["size"] > 55, "big",
                             np.where(frame["size"] < 45, "small", "mid"))
    frame["price"] = (3 * frame["size"] + 20 * (frame["city"] == "south")
                      + rng.normal(size=n)).round(2)
    return frame


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Three models (two classes, three classes, a number) and files without their targets."""
    root = tmp_path_factory.mktemp("explain_prediction")
    frame = _frame()
    frame.to_csv(root / "data.csv", index=False)
    features = frame[["size", "city", "noise"]]
    features.head(5).to_csv(root / "new.csv", index=False)
    empty = frame[["size", "city", "noise", "label"]].head(5).copy()
    empty.loc[2, "label"] = None
    empty.to_csv(root / "empty.csv", index=False)
    for target, drop in (("label", "kind,price"), ("kind", "label,price"),
                         ("price", "label,kind")):
        code = main(["train", str(root / "data.csv"), "--target", target, "--drop", drop,
                     "--out", str(root / target), "--epochs", "20", "--seed", "1"])
        assert code == 0
    return root


def _explain(capsys, *args) -> str:
    code = main(["explain", *map(str, args)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in err
    return out


def _predicted(root, target, row):
    model = load_model(root / target / "model.safetensors")
    data = pd.read_csv(root / "new.csv").iloc[[row]]
    x = model.preprocessing.transform(data, dtype=model.network.dtype)
    return model, x, model.network.predict(x)[0]


def test_two_classes_without_the_target_column(trained, capsys, tmp_path):
    model, _, p = _predicted(trained, "label", 1)
    p_yes = float(p[0])
    label, prob = ("yes", p_yes) if p_yes > 0.5 else ("no", 1 - p_yes)
    out = _explain(capsys, trained / "label", trained / "new.csv", "--row", "1", "--out",
                   tmp_path / "e", "--html", tmp_path / "page.html")
    message = (f"no target column 'label' in this row: explaining the prediction "
               f"(label={label}, p={prob:.2f}) as if it were the target. The slopes below are "
               f"those of the loss ({model.training['loss']}) against the predicted class")
    assert message in out
    assert f"Predicted label = {label} (probabilities no: {1 - p_yes:.3f}, yes: {p_yes:.3f})." \
        in out
    assert "; actual" not in out
    assert re.search(r"Loss \(binary_crossentropy\) against the predicted class: [\d.e-]+\.",
                     out)
    assert (tmp_path / "e" / "network.png").stat().st_size > 1000
    page = (tmp_path / "page.html").read_text()
    assert (f"No target column 'label' in this row: the predicted class label={label} "
            f"(p={prob:.2f}) stands in as 'actual'") in page.replace("\\u0027", "'")


def test_the_loss_is_against_the_predicted_class(trained, capsys, tmp_path):
    model, x, p = _predicted(trained, "kind", 0)
    best = int(np.argmax(p))
    label = model.preprocessing.classes[best]
    out = _explain(capsys, trained / "kind", trained / "new.csv", "--row", "0", "--out",
                   tmp_path / "e")
    assert (f"no target column 'kind' in this row: explaining the prediction (kind={label}, "
            f"p={p[best]:.2f}) as if it were the target") in out
    loss = model.network.evaluate(x, np.array([best]), loss="categorical_crossentropy")
    assert f"Loss (categorical_crossentropy) against the predicted class: {loss:.6g}." in out
    assert "minus 1 for the predicted class" in out  # the fused softmax, in words


def test_an_empty_target_cell_is_explained_as_a_prediction(trained, capsys, tmp_path):
    out = _explain(capsys, trained / "label", trained / "empty.csv", "--row", "2", "--out",
                   tmp_path / "e")
    assert "the target column 'label' is empty in this row: explaining the prediction (label=" \
        in out
    other = _explain(capsys, trained / "label", trained / "empty.csv", "--row", "1", "--out",
                     tmp_path / "e2")
    assert "explaining the prediction" not in other and "; actual " in other


def test_a_number_is_explained_by_the_slopes_of_the_prediction(trained, capsys, tmp_path):
    model, x, p = _predicted(trained, "price", 3)
    value = float(model.preprocessing.inverse_target(p[:1])[0])
    out = _explain(capsys, trained / "price", trained / "new.csv", "--row", "3", "--out",
                   tmp_path / "e", "--html", tmp_path / "page.html", "--top", "50")
    assert (f"no target column 'price' in this row: explaining the prediction "
            f"(price={value:.6g}) itself. Against the prediction as its target the error, the "
            "loss and every slope would be 0, so the slopes below are those of the prediction"
            ) in out
    assert "Loss (" not in out
    # The output layer's weight slopes are the slopes of the prediction: the node values.
    trace = model.network.trace(x, p[:1], loss=PredictionItself())
    last = len(model.network.layers) - 1
    values = trace.node_values[last][0]
    for j, v in enumerate(values):
        assert re.search(rf"\n\s+{last}\s+{j}\s+price\s+\S+\s+{v:.4g}\s+1\s+1\s+{v:.4g}\s", out)
    assert "stands in as 'actual'" in (tmp_path / "page.html").read_text().replace(
        "\\u0027", "'")


def test_prediction_itself_has_the_slopes_of_the_prediction():
    rng = np.random.default_rng(0)
    net = Network.mlp([4, 5, 1], activation="tanh", seed=3)
    x = rng.normal(size=(1, 4))
    p = net.predict(x)
    trace = net.trace(x, p[:, 0], loss=PredictionItself())
    assert trace.loss == pytest.approx(float(p[0, 0]))
    np.testing.assert_allclose(trace.node_slopes[0][0], trace.prediction_slopes(0)[0])
    # each first-layer weight's slope: input value x the prediction's slope at that node's input
    eps = 1e-6
    w = net.layers[0].weights
    w[1, 2] += eps
    up = net.predict(x)[0, 0]
    w[1, 2] -= 2 * eps
    down = net.predict(x)[0, 0]
    w[1, 2] += eps
    assert trace.weight_slopes[0][1, 2] == pytest.approx((up - down) / (2 * eps), rel=1e-6)


def test_a_certain_prediction_says_its_slopes_are_tiny(trained, capsys, tmp_path):
    model = load_model(trained / "label" / "model.safetensors")
    sure = pd.DataFrame({"size": [200.0], "city": ["north"], "noise": [0.0]})
    sure.to_csv(tmp_path / "sure.csv", index=False)
    x = model.preprocessing.transform(sure, dtype=model.network.dtype)
    p_yes = float(model.network.predict(x)[0, 0])
    assert p_yes > 1 - 1e-4  # far beyond the training rows' sizes: certain
    out = _explain(capsys, trained / "label", tmp_path / "sure.csv", "--row", "0", "--out",
                   tmp_path / "e")
    assert (f"The model is all but certain (p={p_yes:.6f}), so every slope below is tiny: no "
            "small change of an input or a weight moves this prediction.") in out
    ordinary = _explain(capsys, trained / "label", trained / "new.csv", "--row", "1", "--out",
                        tmp_path / "e2")
    assert "all but certain" not in ordinary

