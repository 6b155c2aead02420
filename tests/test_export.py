"""Export to ONNX and PyTorch, and import from PyTorch (slopes.export, `slopes export`).

The ONNX tests need onnx and onnxruntime, which the `all` extra installs (`make
test`); they skip only when those are missing. The PyTorch tests skip when torch
is not installed: PyTorch is never a dependency of slopes, not even for tests.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import slopes
from slopes.activations import Activation, LeakyRelu
from slopes.cli import main

HAS_ONNX = all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxruntime"))
HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_PANDAS = importlib.util.find_spec("pandas") is not None
needs_onnx = pytest.mark.skipif(not HAS_ONNX, reason="onnx and onnxruntime are not installed "
                                "(pip install 'slopes[onnx]')")
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed (never a "
                                 "dependency of slopes)")
needs_pandas = pytest.mark.skipif(not HAS_PANDAS, reason="pandas is not installed")

# What an exported model may use: the standard ai.onnx operators the issue names,
# plus those the preprocessing and the outputs need. Each has a float64 kernel in
# onnxruntime's CPU provider (LeakyRelu has not: the export composes it from Mul and Max).
STANDARD_OPS = {"Gemm", "MatMul", "Relu", "Max", "Sigmoid", "Tanh", "Softmax", "Sub",
                "Div", "Mul", "Add", "Equal", "IsNaN", "IsInf", "Where", "And", "Or", "Cast",
                "Concat", "ReduceSum", "ArgMax", "Gather", "Identity"}


def _X(n: int = 9, d: int = 4, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d))


def _net(sizes, activation="relu", output="identity", bias=True, dtype=np.float64, seed=0):
    return slopes.Network.mlp(sizes, activation=activation, output=output, bias=bias,
                              seed=seed, dtype=dtype)


def _mixed_net(dtype=np.float64, output="sigmoid", n_out=1, bias=True):
    """Hidden layers with tanh, leaky_relu(0.2) and relu: every activation in one network."""
    net = _net([4, 6, 5, 5, n_out], activation="tanh", output=output, bias=bias, dtype=dtype)
    net.layers[1].activation = LeakyRelu(alpha=0.2)
    net.layers[2].activation = slopes.get_activation("relu")
    return net


def _close(actual, expected, dtype=np.float64):
    """Within 1e-6 relative in float64 (1e-12 absolute near 0); float32 within its precision."""
    if np.dtype(dtype) == np.float64:
        np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-12)
    else:
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


# ====================================================================== ONNX
def _session(model):
    import onnxruntime as ort

    data = model if isinstance(model, (str, Path)) else model.SerializeToString()
    return ort.InferenceSession(str(data) if isinstance(data, Path) else data,
                                providers=["CPUExecutionProvider"])


def _checked(net, prep=None):
    import onnx

    from slopes.export import onnx_model

    model = onnx_model(net, prep)
    onnx.checker.check_model(model, full_check=True)
    assert {n.op_type for n in model.graph.node} <= STANDARD_OPS
    assert [(o.domain, o.version >= 13) for o in model.opset_import] == [("", True)]
    return model


def _probabilities(net, X):
    out = net.predict(X.astype(net.dtype))
    return np.column_stack([1 - out[:, 0], out[:, 0]]) if out.shape[1] == 1 else out


@needs_onnx
@pytest.mark.parametrize("output, n_out", [("sigmoid", 1), ("softmax", 3), ("softmax", 2)])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_onnx_classifier_matches_slopes(output, n_out, bias, dtype):
    net = _mixed_net(output=output, n_out=n_out, bias=bias, dtype=dtype)
    model = _checked(net)
    assert model.opset_import[0].version == 13
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("Gemm" if bias else "MatMul") == 4 and ("MatMul" in ops) != bias
    session = _session(model)
    kind = "tensor(double)" if dtype == np.float64 else "tensor(float)"
    assert [(i.name, i.type, i.shape) for i in session.get_inputs()] == [("input", kind, ["n", 4])]
    assert [o.name for o in session.get_outputs()] == ["label", "probabilities"]
    X = _X()
    label, probabilities = session.run(None, {"input": X.astype(dtype)})
    expected = _probabilities(net, X)
    assert probabilities.shape == (len(X), max(n_out, 2)) and probabilities.dtype == dtype
    _close(probabilities, expected, dtype)
    assert label.dtype == np.int64 and label.shape == (len(X),)
    np.testing.assert_array_equal(label, expected.argmax(axis=1))


@needs_onnx
@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "sigmoid", "tanh", "identity"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_onnx_every_activation_in_the_networks_dtype(activation, dtype):
    """Each activation runs in float64 (onnxruntime has no float64 LeakyRelu: Max(z, alpha z))."""
    net = _net([3, 7, 2], activation=activation, dtype=dtype, seed=3)
    if activation == "leaky_relu":
        net.layers[0].activation = LeakyRelu(alpha=0.3)
    X = _X(n=50, d=3) * 4
    (prediction,) = _session(_checked(net)).run(None, {"input": X.astype(dtype)})
    assert prediction.dtype == dtype
    _close(prediction, net.predict(X.astype(dtype)), dtype)


@needs_onnx
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_onnx_regression_outputs_prediction(dtype):
    net = _net([3, 5, 2], activation="sigmoid", output="identity", dtype=dtype)
    session = _session(_checked(net))
    assert [o.name for o in session.get_outputs()] == ["prediction"]
    X = _X(d=3)
    (prediction,) = session.run(None, {"input": X.astype(dtype)})
    assert prediction.shape == (len(X), 2) and prediction.dtype == dtype
    _close(prediction, net.predict(X.astype(dtype)), dtype)


@needs_onnx
def test_onnx_several_sigmoid_outputs_are_predictions_not_classes():
    net = _net([3, 4, 2], output="sigmoid")
    (prediction,) = _session(_checked(net)).run(None, {"input": _X(d=3)})
    _close(prediction, net.predict(_X(d=3)))


@needs_onnx
def test_to_onnx_writes_a_file_atomically(tmp_path):
    import onnx

    net = _mixed_net()
    path = tmp_path / "model.onnx"
    path.write_bytes(b"old")
    assert net.to_onnx(path) == path
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    label, probabilities = _session(path).run(None, {"input": _X()})
    _close(probabilities, _probabilities(net, _X()))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]  # no temporary left


# --------------------------------------------------------------- preprocessing
def _frame(n=80, seed=0, missing=False):
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "gre": rng.normal(580, 115, n).round(),
        "gpa": rng.uniform(2, 4, n).round(2),
        "rank": rng.integers(1, 5, n),
        "color": rng.choice(["red", "green", "blue"], n),
        "admit": rng.choice(["no", "yes"], n),
    })
    if missing:
        frame.loc[[1, 5], "gre"] = np.nan
        frame["rank"] = frame["rank"].astype(float)
        frame.loc[[2, 6], "rank"] = np.nan
        frame.loc[[3, 7], "color"] = np.nan
    return frame


def _feeds(session, frame):
    """The raw columns, with slopes' own helper (docs/guide/export.md shows the same in pandas)."""
    from slopes.export import onnx_feed

    return onnx_feed(frame, session)


def _prep(frame, **kwargs):
    from slopes.preprocessing import TabularPreprocessor

    return TabularPreprocessor(**kwargs).fit(frame)


@needs_onnx
@needs_pandas
def test_onnx_with_preprocessing_takes_the_raw_columns():
    frame = _frame()
    prep = _prep(frame, target="admit", categorical=["rank"])
    net = _mixed_net()
    net = slopes.Network([slopes.Dense(prep.n_features, 6, "tanh", seed=0), *net.layers[1:]])
    model = _checked(net, prep)
    assert model.opset_import[0].version == 19  # Equal on strings
    session = _session(model)
    assert [(i.name, i.type, i.shape) for i in session.get_inputs()] == [
        ("gre", "tensor(double)", ["n", 1]), ("gpa", "tensor(double)", ["n", 1]),
        ("rank", "tensor(double)", ["n", 1]), ("color", "tensor(string)", ["n", 1])]
    label, probabilities = session.run(None, _feeds(session, frame.drop(columns="admit")))
    expected = _probabilities(net, prep.transform(frame))
    _close(probabilities, expected)
    assert label.tolist() == [prep.classes[k] for k in expected.argmax(axis=1)]
    docs = {i.name: i.doc_string for i in model.graph.input}
    assert docs["gre"].startswith("standardized inside: (x - ")
    assert docs["gre"].endswith("; NaN (missing) gives NaN outputs")
    assert docs["rank"] == ("one-hot encoded inside over 1, 2, 3, 4 (any other value gives NaN "
                            "outputs)")
    assert docs["color"] == ("one-hot encoded inside over 'blue', 'green', 'red' (any other "
                             "text gives NaN outputs)")


@needs_onnx
@needs_pandas
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_onnx_large_offsets_and_codes_above_2_to_24_are_exact(dtype):
    """Unix times (1.7e9 +- 5000) and codes 100000001..3 (float32 merges them), exactly."""
    import pandas as pd

    rng = np.random.default_rng(5)
    n = 300
    frame = pd.DataFrame({"time": 1.7e9 + rng.integers(-5000, 5000, n),
                          "code": rng.choice([100000001, 100000002, 100000003], n)})
    frame["y"] = (frame.time - 1.7e9 + 4000 * (frame.code - 100000002) > 0).astype(int)
    prep = _prep(frame, target="y", categorical=["code"])
    assert np.float32(100000001) == np.float32(100000002) == np.float32(100000003)
    net = _net([prep.n_features, 8, 1], activation="tanh", output="sigmoid", dtype=dtype, seed=1)
    net.fit(prep.transform(frame, dtype=dtype), frame.y.to_numpy(dtype), epochs=40,
            loss="binary_crossentropy", optimizer="adam", learning_rate=0.05, verbose=0, seed=0)
    session = _session(_checked(net, prep))
    label, probabilities = session.run(None, _feeds(session, frame))
    expected = _probabilities(net, prep.transform(frame, dtype=dtype))
    _close(probabilities, expected, dtype)
    assert label.tolist() == expected.argmax(axis=1).tolist()
    assert np.mean(label == frame.y) > 0.9  # the codes are told apart: the model learned them


@needs_onnx
@needs_pandas
@pytest.mark.parametrize("classes, kind", [([0, 1], np.int64), ([False, True], object),
                                           ([1.5, 2.5], object)])
def test_onnx_label_is_the_class_label(classes, kind):
    frame = _frame().drop(columns="color")
    frame["admit"] = np.where(frame["admit"] == "yes", classes[1], classes[0])
    prep = _prep(frame, target="admit", task="classify")
    net = _net([prep.n_features, 4, 1], output="sigmoid")
    model = _checked(net, prep)
    assert model.opset_import[0].version == 13  # no text input
    session = _session(model)
    label, probabilities = session.run(None, _feeds(session, frame))
    assert label.dtype == kind
    expected = [prep.classes[k] for k in _probabilities(
        net, prep.transform(frame)).argmax(axis=1)]
    assert label.tolist() == (expected if kind == np.int64 else [str(c) for c in expected])


@needs_onnx
@needs_pandas
def test_onnx_multiclass_with_preprocessing():
    frame = _frame()
    frame["admit"] = np.where(frame.gpa > 3.3, "high", np.where(frame.gpa < 2.6, "low", "mid"))
    prep = _prep(frame, target="admit", categorical=["rank"])
    net = _net([prep.n_features, 5, 3], activation="leaky_relu", output="softmax")
    session = _session(_checked(net, prep))
    label, probabilities = session.run(None, _feeds(session, frame))
    expected = net.predict(prep.transform(frame))
    _close(probabilities, expected)
    assert label.tolist() == [prep.classes[k] for k in expected.argmax(axis=1)]


@needs_onnx
@needs_pandas
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_onnx_regression_predicts_in_the_targets_units(dtype):
    frame = _frame().drop(columns="admit")
    frame["score"] = frame.gpa * 3 + (frame.color == "red") + 1
    prep = _prep(frame, target="score", standardize_target=True)
    assert prep.target_scale != 1
    net = _net([prep.n_features, 4, 1], activation="tanh", dtype=dtype)
    model = _checked(net, prep)
    session = _session(model)
    (prediction,) = session.run(None, _feeds(session, frame))
    expected = prep.inverse_target(net.predict(prep.transform(frame, dtype=dtype)))
    assert prediction.shape == (len(frame), 1) and prediction.dtype == dtype
    _close(prediction, expected, dtype)
    assert model.graph.output[0].doc_string == "the predicted 'score', in its own units"


@needs_onnx
@needs_pandas
def test_onnx_fill_missing_inside_the_model():
    frame = _frame(missing=True)
    frame.loc[9, "color"] = "  red "  # slopes strips the spaces: the category 'red'
    prep = _prep(frame, target="admit", categorical=["rank"], fill_missing=True)
    net = _net([prep.n_features, 5, 1], output="sigmoid", seed=2)
    model = _checked(net, prep)
    session = _session(model)
    feeds = _feeds(session, frame)
    assert feeds["color"][[3, 7, 9], 0].tolist() == ["(missing)", "(missing)", "red"]
    assert np.isnan(feeds["gre"][[1, 5], 0]).all() and np.isnan(feeds["rank"][[2, 6], 0]).all()
    label, probabilities = session.run(None, feeds)
    _close(probabilities, _probabilities(net, prep.transform(frame)))
    docs = {i.name: i.doc_string for i in model.graph.input}
    assert docs["gre"].endswith("; NaN (missing) becomes the training mean")
    assert docs["rank"].endswith("; a missing cell (NaN) is the category '(missing)')")
    assert docs["color"].endswith("; a missing cell (fed as the text '(missing)') is the "
                                  "category '(missing)')")


@needs_onnx
@needs_pandas
def test_onnx_gives_nan_where_slopes_refuses_the_row():
    """A category never seen, a missing value without fill_missing, an infinite number."""
    frame = _frame()
    prep = _prep(frame, target="admit", categorical=["rank"])
    net = _net([prep.n_features, 4, 1], output="sigmoid")
    session = _session(_checked(net, prep))
    rows = frame.head(6).copy()
    rows.loc[0, "color"] = "purple"
    rows.loc[1, "rank"] = 9
    rows.loc[2, "gre"] = np.nan
    rows["color"] = rows["color"].astype(object)
    rows.loc[3, "color"] = None
    rows.loc[4, "gpa"] = np.inf
    for k, message in enumerate(["category 'purple' was never seen in training",
                                 "category 9 was never seen in training", "missing values",
                                 "missing values", "expected a finite number"]):
        with pytest.raises(ValueError, match=message):
            prep.transform(rows.iloc[[k]])
    _, probabilities = session.run(None, _feeds(session, rows))
    assert np.isnan(probabilities[:5]).all()
    _close(probabilities[5:], _probabilities(net, prep.transform(rows.iloc[5:])))


@needs_onnx
@needs_pandas
def test_onnx_preprocessing_as_a_dict_and_many_categories_shortened():
    import pandas as pd

    frame = pd.DataFrame({"city": [f"c{i}" for i in range(30)] * 2, "y": [0, 1] * 30})
    prep = _prep(frame, target="y")
    net = _net([30, 2, 1], output="sigmoid")
    model = _checked(net, prep.to_dict())
    assert model.graph.input[0].doc_string.startswith(
        "one-hot encoded inside over 'c0', 'c1', 'c10',")
    assert "... (30 categories)" in model.graph.input[0].doc_string
    session = _session(model)
    _, probabilities = session.run(None, _feeds(session, frame))
    _close(probabilities, _probabilities(net, prep.transform(frame)))


@needs_onnx
@needs_pandas
def test_onnx_feed_reads_cells_as_slopes_reads_them():
    import pandas as pd

    from slopes.export import onnx_feed, onnx_model

    frame = pd.DataFrame({"n": [1, 2, 3, 4], "zip": ["02139", " x ", "abc", None],
                          "b": [True, False, True, True], "y": [0, 1, 0, 1]})
    prep = _prep(frame, target="y", fill_missing=True)
    model = onnx_model(_net([prep.n_features, 1], output="sigmoid"), prep)
    feed = onnx_feed(frame, model)  # a ModelProto works too
    assert feed["zip"][:, 0].tolist() == ["02139", "x", "abc", "(missing)"]
    assert feed["b"][:, 0].tolist() == ["True", "False", "True", "True"]
    assert feed["n"].dtype == np.float64 and feed["n"].shape == (4, 1)
    later = pd.DataFrame({"n": [1], "zip": [2.0], "b": [True]})  # 2.0 is slopes' '2'
    assert onnx_feed(later, model)["zip"].tolist() == [["2"]]


@needs_onnx
@needs_pandas
def test_onnx_feed_bad_input():
    import pandas as pd

    from slopes.export import onnx_feed, onnx_model

    frame = _frame()
    prep = _prep(frame, target="admit")
    model = onnx_model(_net([prep.n_features, 1], output="sigmoid"), prep)
    with pytest.raises(TypeError, match="table must be a pandas DataFrame, got dict"):
        onnx_feed({"gre": [1]}, model)
    with pytest.raises(TypeError, match="model must be an onnxruntime.InferenceSession or an "
                                        "onnx.ModelProto, got str"):
        onnx_feed(frame, "model.onnx")
    with pytest.raises(ValueError, match="the table has no column 'gpa', 'color'; the model "
                                         "takes the columns gre, gpa, rank, color"):
        onnx_feed(frame[["gre", "rank"]], model)
    bad = frame.assign(gre=frame.gre.astype(object))
    bad.loc[4, "gre"] = "n/a"
    with pytest.raises(ValueError, match="column 'gre' row 4: expected a number, got 'n/a'"):
        onnx_feed(bad, model)
    bare = onnx_model(_net([3, 1], output="sigmoid"))
    with pytest.raises(ValueError, match="the model takes 'input', the preprocessed features"):
        onnx_feed(pd.DataFrame({"a": [1.0]}), bare)


# ------------------------------------------------------------------ bad input
class Twice(Activation):
    name = "twice"

    def value(self, z):
        return 2 * z


@needs_onnx
def test_to_onnx_bad_paths(tmp_path):
    from slopes.atomic import FileWriteError

    net = _net([2, 1])
    with pytest.raises(FileWriteError, match=r"cannot write .*nowhere/m.onnx: the folder "
                                             r".*nowhere does not exist"):
        net.to_onnx(tmp_path / "nowhere" / "m.onnx")
    with pytest.raises(FileWriteError, match=r"cannot write .*: .* is a folder"):
        net.to_onnx(tmp_path)


@needs_onnx
def test_to_onnx_bad_networks(tmp_path):
    from slopes.export import onnx_model, to_onnx

    with pytest.raises(TypeError, match="net must be a slopes Network, got list"):
        to_onnx([1, 2], tmp_path / "m.onnx")
    net = slopes.Network([slopes.Dense(2, 1, activation=Twice())])
    with pytest.raises(ValueError, match=r"layers\[0\] uses a custom activation Twice\(\); "
                                         "only the built-in ones can be exported"):
        onnx_model(net)
    with pytest.raises(TypeError, match="preprocessing must be a fitted TabularPreprocessor, "
                                        "its to_dict.., or None, got str"):
        onnx_model(_net([2, 1]), "gre,gpa")
    assert not (tmp_path / "m.onnx").exists()


@needs_onnx
@needs_pandas
def test_to_onnx_preprocessing_that_does_not_fit():
    from slopes.export import onnx_model
    from slopes.preprocessing import TabularPreprocessor

    frame = _frame()
    prep = _prep(frame, target="admit", categorical=["rank"])
    with pytest.raises(ValueError, match=r"the preprocessing makes 9 features \(gre, gpa, "
                                         r"rank=1, .*\), but the network expects 4 inputs"):
        onnx_model(_net([4, 1], output="sigmoid"), prep)
    with pytest.raises(ValueError, match="the preprocessing has 2 classes, which need 1 sigmoid "
                                         "output or 2 softmax outputs, but the network has 3 "
                                         r"softmax output\(s\)"):
        onnx_model(_net([9, 3], output="softmax"), prep)
    regress = _prep(frame.drop(columns="admit"), target="gpa")
    with pytest.raises(ValueError, match=r"the preprocessing regresses one target \('gpa'\), "
                                         "but the network has 2 outputs"):
        onnx_model(_net([regress.n_features, 2]), regress)
    with pytest.raises(ValueError, match="the TabularPreprocessor is not fitted yet"):
        onnx_model(_net([9, 1]), TabularPreprocessor(target="admit"))
    with pytest.raises(ValueError, match="preprocessing parameters"):
        onnx_model(_net([9, 1]), {"type": "TabularPreprocessor"})


@needs_onnx
@needs_pandas
def test_to_onnx_refuses_a_column_named_like_an_output():
    from slopes.export import onnx_model

    frame = _frame().rename(columns={"gpa": "label"})
    prep = _prep(frame, target="admit")
    with pytest.raises(ValueError, match="column 'label' has the name of an output of the ONNX "
                                         r"model \('label'\); ONNX names must be unique"):
        onnx_model(_net([prep.n_features, 1], output="sigmoid"), prep)


def test_missing_onnx_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` now fails
    with pytest.raises(ImportError, match=r"exporting to ONNX needs onnx, which is not "
                                          r"installed; install it with: pip install "
                                          r"'slopes\[onnx\]'"):
        _net([2, 1]).to_onnx(tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_import_slopes_imports_neither_onnx_nor_torch():
    code = ("import sys, slopes, slopes.export, slopes.cli; slopes.cli.build_parser(); "
            "print(sorted({'onnx', 'onnxruntime', 'torch'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# ======================================================================= CLI
@pytest.fixture
def model_file(tmp_path):
    """A classifier saved with its preprocessing, as `slopes train` saves it, and its CSV."""
    frame = _frame()
    prep = _prep(frame, target="admit", categorical=["rank"])
    net = _net([prep.n_features, 6, 1], activation="tanh", output="sigmoid", seed=4)
    frame.to_csv(tmp_path / "data.csv", index=False)
    return net.save(tmp_path / "model.safetensors", preprocessing=prep)


def _error(capsys, argv) -> str:
    assert main(argv) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert lines[0].startswith("slopes export: error: ")
    return lines[0]


@needs_onnx
@needs_pandas
def test_cli_export_gives_what_slopes_predict_gives(model_file, tmp_path, capsys):
    import pandas as pd

    from slopes.commands.tables import read_table

    out = tmp_path / "model.onnx"
    assert main(["export", str(model_file), "--onnx", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == (f"Wrote {out} (ONNX opset 19, float64). It preprocesses the columns "
                          "itself.")
    assert printed[1] == "Inputs, one (n, 1) tensor per column:"
    assert printed[2].split()[:4] == ["gre", "float64", "standardized", "inside:"]
    assert printed[5].split()[:2] == ["color", "string"]
    assert printed[6] == "Outputs:"
    assert printed[7].split() == ["label", "(n,)", "string", "the", "most", "probable", "class,",
                                  "as", "its", "label:", "'no',", "'yes'"]
    assert printed[8].split()[:4] == ["probabilities", "(n,", "2)", "float64"]
    predictions = tmp_path / "predictions.csv"
    assert main(["predict", str(model_file), str(tmp_path / "data.csv"), "--out",
                 str(predictions)]) == 0
    capsys.readouterr()
    expected = pd.read_csv(predictions)
    session = _session(out)
    table = pd.read_csv(tmp_path / "data.csv", skipinitialspace=True)
    label, probabilities = session.run(None, _feeds(session, table))
    # slopes predict writes 6 significant digits; the numbers it computes agree to 1e-6.
    np.testing.assert_allclose(probabilities, expected[["probability_no", "probability_yes"]],
                               rtol=5e-6)
    assert label.tolist() == expected["predicted_admit"].tolist()
    model = slopes.io.load_model(model_file)
    data = read_table(tmp_path / "data.csv")
    _close(probabilities, _probabilities(model.network, model.preprocessing.transform(data)))


def test_cli_export_bad_model_files(tmp_path, capsys):
    missing = tmp_path / "nope.safetensors"
    line = _error(capsys, ["export", str(missing), "--onnx", str(tmp_path / "m.onnx")])
    assert line.endswith(f"{missing}: no such file")
    bare = _net([6, 2, 1], output="sigmoid").save(tmp_path / "bare.safetensors")
    line = _error(capsys, ["export", str(bare), "--onnx", str(tmp_path / "m.onnx")])
    assert line == (f"slopes export: error: {bare}: the model has no stored preprocessing (it "
                    "was saved from Python, not by `slopes train`), so there are no columns to "
                    f"name the inputs after; from Python, with net = slopes.load({str(bare)!r}),"
                    f" net.to_onnx({str(tmp_path / 'm.onnx')!r}) exports the network alone, "
                    "with one input of shape (n, 6)")
    line = _error(capsys, ["export", str(bare), "--onnx", "m.onnx", "--torch", "m.pt2"])
    assert line.endswith("net.to_onnx('m.onnx') and slopes.export.save_torch(net, 'm.pt2') "
                         "export the network alone, with one input of shape (n, 6)")
    assert not (tmp_path / "m.onnx").exists()


@needs_pandas
def test_cli_export_bad_output_paths(model_file, tmp_path, capsys):
    before = model_file.read_bytes()
    for option in ("--onnx", "--torch"):
        line = _error(capsys, ["export", str(model_file), option,
                               str(tmp_path / "no" / "m.onnx")])
        assert line.endswith(f"{option} {tmp_path / 'no' / 'm.onnx'}: the folder "
                             f"{tmp_path / 'no'} does not exist")
        line = _error(capsys, ["export", str(model_file), option, str(tmp_path)])
        assert line.endswith(f"{option} {tmp_path}: is a directory, expected a file name")
        line = _error(capsys, ["export", str(model_file), option, str(model_file)])
        assert line.endswith(f"{option} {model_file}: is the model file {model_file}; refusing "
                             f"to overwrite it, choose another {option}")
    line = _error(capsys, ["export", str(model_file), "--onnx", str(tmp_path / "m"),
                           "--torch", str(tmp_path / "m")])
    assert line.endswith(f"--torch {tmp_path / 'm'}: is also written by --onnx {tmp_path / 'm'} "
                         "in this run; two outputs cannot share a file, choose another name")
    assert model_file.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "model.safetensors"]


@needs_pandas
def test_cli_export_without_onnx_installed(model_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    line = _error(capsys, ["export", str(model_file), "--onnx", str(tmp_path / "m.onnx")])
    assert line == ("slopes export: error: exporting to ONNX needs onnx, which is not "
                    "installed; install it with: pip install 'slopes[onnx]'")
    assert not (tmp_path / "m.onnx").exists()


@needs_pandas
def test_cli_export_torch_without_torch_installed(model_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    line = _error(capsys, ["export", str(model_file), "--onnx", str(tmp_path / "m.onnx"),
                           "--torch", str(tmp_path / "m.pt2")])
    assert line == ("slopes export: error: to_torch needs torch, which is not installed; "
                    "install it with: pip install torch (PyTorch is never installed with "
                    "slopes; pick the build for your machine at https://pytorch.org)")
    assert not (tmp_path / "m.onnx").exists()  # nothing written when one of the two fails


@needs_onnx
@needs_pandas
def test_cli_export_unwritable_folder(model_file, tmp_path, capsys, monkeypatch):
    import errno

    import slopes.io

    def refuse(path, *args, **kwargs):  # what a read-only folder does, even for root
        raise PermissionError(errno.EACCES, "Permission denied", path)

    monkeypatch.setattr(slopes.io.os, "open", refuse)
    line = _error(capsys, ["export", str(model_file), "--onnx", str(tmp_path / "m.onnx")])
    assert line.endswith(f"--onnx {tmp_path / 'm.onnx'}: cannot write: permission denied "
                         f"(folder {tmp_path} is not writable)")
    assert not (tmp_path / "m.onnx").exists()


def test_cli_export_usage_and_subprocess(tmp_path):
    """Through the real command: a usage error exits 2, a bad file exits 1 with one line."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    run = [sys.executable, "-m", "slopes.cli", "export"]
    usage = subprocess.run([*run, "m.safetensors"], capture_output=True, text=True, env=env,
                           timeout=60)
    assert usage.returncode == 2
    assert usage.stderr.splitlines()[-1] == ("slopes export: error: nothing to write: give "
                                             "--onnx FILE, --torch FILE, or both")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model at all")
    result = subprocess.run([*run, str(bad), "--onnx", str(tmp_path / "m.onnx")],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(
        f"slopes export: error: {bad}: is not a valid safetensors file")


# =================================================================== PyTorch
def _linears(seq):
    import torch

    return [m for m in seq.modules() if isinstance(m, torch.nn.Linear)]


@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bias", [True, False])
def test_to_torch_has_the_same_weights_and_outputs(dtype, bias):
    import torch

    net = _mixed_net(dtype=dtype, output="softmax", n_out=3, bias=bias)
    state = torch.random.get_rng_state()
    seq = net.to_torch()
    assert torch.equal(torch.random.get_rng_state(), state)  # no random initial weights drawn
    assert [type(m).__name__ for m in seq] == ["Linear", "Tanh", "Linear", "LeakyReLU", "Linear",
                                               "ReLU", "Linear", "Softmax"]
    assert seq[3].negative_slope == 0.2 and seq[7].dim == -1
    for linear, layer in zip(_linears(seq), net.layers, strict=True):
        assert linear.weight.dtype == {np.float32: torch.float32, np.float64: torch.float64}[dtype]
        assert np.array_equal(linear.weight.detach().numpy(), layer.weights.T)
        assert (linear.bias is None) != bias
        if bias:
            assert np.array_equal(linear.bias.detach().numpy(), layer.bias)
    X = _X().astype(dtype)
    out = seq(torch.from_numpy(X)).detach().numpy()
    np.testing.assert_allclose(out, net.predict(X), rtol=0,
                               atol=1e-10 if dtype == np.float64 else 1e-6)


@needs_torch
def test_identity_output_adds_no_module():
    assert [type(m).__name__ for m in _net([3, 4, 2], activation="sigmoid").to_torch()] == [
        "Linear", "Sigmoid", "Linear"]


def _torch_loss(name):
    import torch

    nn = torch.nn
    return {
        # name: (slopes output, torch loss, whether torch sees the logits, targets)
        "binary_crossentropy": ("sigmoid", nn.BCEWithLogitsLoss(), True, "binary"),
        "mse": ("identity", nn.MSELoss(), False, "numbers"),
        "sse": ("identity", nn.MSELoss(reduction="sum"), False, "numbers"),
        "mae": ("identity", nn.L1Loss(), False, "numbers"),
        "categorical_crossentropy": ("softmax", nn.CrossEntropyLoss(), True, "classes"),
    }[name]


@needs_torch
@pytest.mark.parametrize("loss", ["binary_crossentropy", "mse", "sse", "mae",
                                  "categorical_crossentropy"])
def test_weight_slopes_equal_torch_gradients(loss):
    """The same loss in both: slopes' trace and torch's autograd agree to 1e-10 in float64."""
    import torch

    output, torch_loss, logits, targets = _torch_loss(loss)
    n_out = {"binary": 1, "numbers": 2, "classes": 3}[targets]
    net = _mixed_net(output=output, n_out=n_out)
    X = _X(n=16)
    rng = np.random.default_rng(5)
    y = {"binary": rng.integers(0, 2, (16, 1)).astype(float),
         "numbers": rng.normal(size=(16, 2)),
         "classes": rng.integers(0, 3, 16)}[targets]
    trace = net.trace(X, y, loss=loss)
    seq = net.to_torch()
    model = seq[:-1] if logits else seq
    value = torch_loss(model(torch.from_numpy(X)), torch.from_numpy(y))
    value.backward()
    assert abs(value.item() - net.evaluate(X, y, loss=loss)) < 1e-10
    for k, linear in enumerate(_linears(seq)):
        np.testing.assert_allclose(linear.weight.grad.numpy().T, trace.weight_slopes[k],
                                   rtol=0, atol=1e-10)
        np.testing.assert_allclose(linear.bias.grad.numpy(), trace.bias_slopes[k],
                                   rtol=0, atol=1e-10)


@needs_torch
def test_round_trip_slopes_torch_slopes_after_training_in_torch():
    import torch

    net = _mixed_net()
    X = _X(n=32)
    y = (X[:, 0] + X[:, 1] > 0).astype(float)
    seq = net.to_torch()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y).reshape(-1, 1)
    for _ in range(20):  # plain SGD (torch.optim's first step takes seconds to set up)
        seq.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(seq[:-1](Xt), yt).backward()
        with torch.no_grad():
            for p in seq.parameters():
                p -= 0.5 * p.grad
    back = slopes.Network.from_torch(seq)
    assert isinstance(back, slopes.Network) and back.sizes == net.sizes
    assert [layer.activation for layer in back.layers] == [layer.activation
                                                           for layer in net.layers]
    assert not np.allclose(back.layers[0].weights, net.layers[0].weights)  # it trained
    with torch.no_grad():
        np.testing.assert_allclose(back.predict(X), seq(Xt).numpy(), rtol=0, atol=1e-10)
    trace = back.trace(X[:1], y[:1], loss="binary_crossentropy")
    assert "slope" in trace.explain(3, 0, 0)
    assert back.to_torch()[0].weight.tolist() == seq[0].weight.tolist()


@needs_torch
def test_from_torch_draws_and_explains():
    pytest.importorskip("matplotlib")
    import torch

    from slopes.plot import draw_network

    torch.manual_seed(0)
    nn = torch.nn
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    net = slopes.Network.from_torch(seq)
    trace = net.trace([[0.5, -1.0]], [[2.0]], loss="mse")
    figure = draw_network(trace)
    assert figure.axes
    assert trace.explain(1, 0, 0).startswith("The weight from")


@needs_torch
@pytest.mark.filterwarnings("ignore:Implicit dimension choice for softmax")
def test_from_torch_skips_identity_dropout_flatten_and_opens_nested():
    import torch

    nn = torch.nn
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Flatten(), nn.Linear(3, 4), nn.Dropout(0.5), nn.ReLU(), nn.Identity(),
                        nn.Sequential(nn.Linear(4, 5, bias=False), nn.Softmax(dim=1)),
                        nn.Linear(5, 2), nn.Softmax())
    seq.eval()
    net = slopes.Network.from_torch(seq)
    assert [layer.activation.name for layer in net.layers] == ["relu", "softmax", "softmax"]
    assert [layer.has_bias for layer in net.layers] == [True, False, True]
    assert net.dtype == np.float32
    X = _X(d=3).astype(np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(net.predict(X), seq(torch.from_numpy(X)).numpy(), atol=1e-6)
    as64 = slopes.Network.from_torch(seq, dtype=np.float64)
    assert as64.dtype == np.float64
    assert np.array_equal(as64.layers[0].weights, net.layers[0].weights.astype(np.float64))
    half = slopes.Network.from_torch(nn.Sequential(nn.Linear(3, 2).half()), dtype="float32")
    assert half.dtype == np.float32


def _bad_sequentials():
    import torch

    nn = torch.nn

    class Doubled(nn.Linear):
        def forward(self, x):
            return 2 * super().forward(x)

    nan = nn.Linear(2, 2)
    with torch.no_grad():
        nan.weight[0, 0] = float("nan")
    seq_help = r"slopes reads a torch.nn.Sequential of Linear layers"
    return [
        (nn.Linear(2, 3), TypeError, r"from_torch needs a torch.nn.Sequential, got Linear; "
                                     + seq_help),
        (nn.parallel.DataParallel(nn.Sequential(nn.Linear(2, 2))), TypeError,
         "got DataParallel; pass its .module"),
        (nn.Sequential(), ValueError, r"the Sequential has no Linear layer \(0 module\(s\)\)"),
        (nn.Sequential(nn.ReLU(), nn.Linear(2, 2)), ValueError,
         r"module \[0\] ReLU\(\) comes before any Linear layer"),
        (nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)), ValueError,
         r"cannot bring module \[1\] BatchNorm1d\(3, .* into slopes: it normalizes with "
         "statistics and parameters of its own"),
        (nn.Sequential(nn.Conv1d(1, 2, 3)), ValueError,
         r"cannot bring module \[0\] Conv1d\(1, 2, .* works on images or sequences"),
        (nn.Sequential(nn.Linear(2, 3), nn.GELU()), ValueError,
         r"module \[1\] GELU\(approximate='none'\) into slopes: it is an activation slopes "
         r"does not have \(slopes has identity, relu, leaky_relu, sigmoid, tanh, softmax\)"),
        (nn.Sequential(nn.Linear(2, 3), nn.LogSoftmax(dim=1)), ValueError,
         r"LogSoftmax\(dim=1\) into slopes: it is an activation slopes does not have"),
        (nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Tanh()), ValueError,
         r"module \[2\] Tanh\(\) follows another activation \(\[1\] ReLU\(\)\); a slopes layer "
         "has one activation"),
        (nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=0)), ValueError,
         r"module \[1\] Softmax\(dim=0\) takes the softmax over dim 0; slopes' softmax runs "
         "over the nodes of each sample: dim=-1"),
        (nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(1.5)), ValueError,
         r"module \[1\] LeakyReLU\(negative_slope=1.5\) has negative_slope 1.5; slopes' "
         r"leaky_relu needs an alpha in \[0, 1\)"),
        (nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.Linear(4, 1))), ValueError,
         r"module \[1\]\[0\] Linear\(in_features=4, .*\) expects 4 inputs, but the Linear "
         r"before it \(\[0\]\) has 3 outputs"),
        (nn.Sequential(nn.Linear(2, 3).half()), ValueError,
         r"module \[0\] Linear\(.*\) holds weights of dtype float16; slopes computes in float32 "
         "or float64: pass dtype=np.float32"),
        (nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1).double()), ValueError,
         r"the Linear layers have different dtypes \(\[0\]: float32, \[1\]: float64\); pass "
         "dtype="),
        (nn.Sequential(nan), ValueError, r"module \[0\] Linear\(.*\) holds NaN or infinite "
                                         "weights"),
        (nn.Sequential(Doubled(2, 2)), ValueError,
         r"cannot bring module \[0\] Doubled\(.*\) into slopes: it is a Linear layer with a "
         "forward of its own"),
        (nn.Sequential(nn.Flatten(start_dim=0), nn.Linear(2, 2)), ValueError,
         r"cannot bring module \[0\] Flatten\(start_dim=0, end_dim=-1\) into slopes: it has no "
         "slopes equivalent"),
        (nn.Sequential(nn.LazyLinear(3)), ValueError,
         r"module \[0\] LazyLinear\(.*\) has no weights yet; run one batch through the model"),
    ]


@needs_torch
def test_from_torch_refuses_what_slopes_cannot_represent():
    for module, error, message in _bad_sequentials():
        with pytest.raises(error, match=message):
            slopes.Network.from_torch(module)


def test_from_torch_refuses_non_torch_objects_even_without_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    for thing in ([1, 2], _net([2, 1]), None):
        with pytest.raises(TypeError, match=f"from_torch needs a torch.nn.Sequential, got "
                                            f"{type(thing).__name__}; slopes reads"):
            slopes.Network.from_torch(thing)


def test_missing_torch_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"to_torch needs torch, which is not installed; "
                                          r"install it with: pip install torch \(PyTorch is "
                                          "never installed with slopes"):
        _net([2, 1]).to_torch()


@needs_torch
def test_to_torch_refuses_a_custom_activation():
    net = slopes.Network([slopes.Dense(2, 1, activation=Twice())])
    with pytest.raises(ValueError, match=r"layers\[0\] uses a custom activation Twice\(\)"):
        net.to_torch()


# ------------------------------------------------- PyTorch with the preprocessing
@needs_torch
@needs_pandas
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_to_torch_with_preprocessing_gives_the_users_units(dtype, tmp_path):
    """Standardization inside (float64), the target's units out, NaN filled as slopes does."""
    import torch

    from slopes.export import save_torch, to_torch, torch_features

    frame = _frame(missing=True).drop(columns="admit")
    frame["time"] = 1.7e9 + np.arange(len(frame)) * 97.0  # Unix times: float32 would lose them
    frame["score"] = frame.gpa * 3 + (frame.color == "red") + 1
    prep = _prep(frame, target="score", categorical=["rank"], standardize_target=True,
                 fill_missing=True)
    net = _net([prep.n_features, 5, 1], activation="tanh", dtype=dtype, seed=3)
    seq = to_torch(net, prep)
    assert type(seq[0]).__name__ == "Standardize" and type(seq[-1]).__name__ == "TargetUnits"
    X = torch_features(frame, prep)
    assert X.shape == (len(frame), prep.n_features) and np.isnan(X[[1, 5], 0]).all()
    assert X[0, prep.feature_names.index("time")] == frame.time[0]  # raw, not standardized
    expected = prep.inverse_target(net.predict(prep.transform(frame, dtype=dtype)))
    with torch.no_grad():
        out = seq(torch.from_numpy(X)).numpy()
    assert out.dtype == dtype
    _close(out, expected, dtype)
    path = save_torch(net, tmp_path / "model.pt2", preprocessing=prep)
    loaded = torch.export.load(str(path)).module()
    with torch.no_grad():
        _close(loaded(torch.from_numpy(X)).numpy(), expected, dtype)
        _close(loaded(torch.from_numpy(X[:1])).numpy(), expected[:1], dtype)  # any n


@needs_torch
@needs_pandas
def test_torch_features_refuses_what_slopes_refuses():
    from slopes.export import torch_features

    frame = _frame()
    prep = _prep(frame, target="admit", categorical=["rank"])
    with pytest.raises(ValueError, match="category 'purple' was never seen in training"):
        torch_features(frame.head(2).assign(color="purple"), prep)
    with pytest.raises(TypeError, match="preprocessing must be a fitted TabularPreprocessor or "
                                        "its to_dict.., got str"):
        torch_features(frame, "prep")


@needs_torch
@needs_pandas
def test_cli_export_torch_gives_what_slopes_predict_gives(model_file, tmp_path, capsys):
    import torch

    from slopes.commands.tables import read_table
    from slopes.export import torch_features

    out = tmp_path / "model.pt2"
    assert main(["export", str(model_file), "--torch", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == (f"Wrote {out} (PyTorch, torch.export; the network in float64). Load "
                          f"it with torch.export.load({str(out)!r}).module().")
    assert printed[1].startswith("Input: one float64 tensor (n, 9), the features in this "
                                 "order: gre, gpa, rank=1, rank=2, rank=3, rank=4, color=blue")
    assert printed[2] == "  numbers, raw (standardized inside): gre, gpa"
    assert printed[3] == ("  one-hot 0/1 columns, which the module does not make (a tensor holds "
                          "no text): rank, color; slopes.export.torch_features(table, "
                          "preprocessing) makes them")
    assert printed[4] == "Output: the probability of 'yes' (n, 1)."
    model = slopes.io.load_model(model_file)
    data = read_table(tmp_path / "data.csv")
    with torch.no_grad():
        p = torch.export.load(str(out)).module()(torch.from_numpy(
            torch_features(data, model.preprocessing))).numpy()
    _close(p, model.network.predict(model.preprocessing.transform(data)))
