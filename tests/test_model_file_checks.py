"""Model files whose metadata disagree with the network, and how files are written.

Every bad metadata value must end in a ``ModelFileError`` naming the file and the
problem; a fuzz test rewrites random parts of the metadata (with a valid
checksum, so the checks behind it are reached) and accepts nothing else.
Writing gives the permissions of an ordinary new file and names the user's
path in errors, never the temporary file.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import slopes
from model_file_parts import read_parts, write_parts
from slopes.atomic import FileWriteError, write_atomic, write_files_atomic
from slopes.io import (
    MAX_JSON_DEPTH,
    MAX_METADATA_CHARS,
    ModelFileError,
    load_model,
    save,
)
from slopes.preprocessing import TabularPreprocessor


# --------------------------------------------------------------------- helpers
def _prep(task: str = "classify", classes: list | None = None) -> dict:
    """Preprocessing parameters for 3 features (a, c=x, c=y), as ``to_dict`` writes them."""
    return {
        "type": "TabularPreprocessor", "target": "t", "task": task,
        "columns": ["a", "c"], "numeric": {"a": {"mean": 1.0, "scale": 2.0}},
        "categories": {"c": ["x", "y"]}, "categorical": [],
        "classes": ([0, 1] if classes is None else classes) if task == "classify" else None,
        "standardize_target": task == "regress", "target_mean": 0.5, "target_scale": 2.0,
        "fill_missing": False,
    }


def _model(tmp_path: Path, sizes=(3, 4, 1), output="sigmoid", prep=None, training=None,
           history=None, name="m.safetensors", activation="tanh") -> Path:
    net = slopes.Network.mlp(list(sizes), activation=activation, output=output, seed=0)
    path = save(net, tmp_path / name, training=training, history=history)
    if prep is not None:
        # Written into the file afterwards: save refuses preprocessing that load would refuse.
        _set_text(path, "preprocessing", json.dumps(prep))
    return path


def _save_refuses(tmp_path: Path, sizes, output, prep, message: str) -> None:
    """``save`` refuses, with ``message``, the preprocessing that ``load`` refuses."""
    net = slopes.Network.mlp(list(sizes), activation="tanh", output=output, seed=0)
    with pytest.raises(ValueError, match=message):
        save(net, tmp_path / "refused.safetensors", preprocessing=prep)
    assert not (tmp_path / "refused.safetensors").exists()




def _set_text(path: Path, key: str, text: str | None) -> None:
    """Replace (or with None remove) one raw metadata entry."""
    tensors, metadata = read_parts(path)
    if text is None:
        metadata.pop(key, None)
    else:
        metadata[key] = text
    write_parts(path, tensors, metadata)


def _edit(path: Path, key: str, change) -> None:
    """Apply ``change`` to the parsed JSON entry ``key``: it changes it in place or, when it
    returns a :class:`Replace`, replaces it."""
    tensors, metadata = read_parts(path)
    value = json.loads(metadata[key])
    result = change(value)
    metadata[key] = json.dumps(result.value if isinstance(result, Replace) else value)
    write_parts(path, tensors, metadata)


class Replace:
    """A whole new JSON entry for :func:`_edit`."""

    def __init__(self, value) -> None:
        self.value = value


def _drop(*keys):
    def change(value):
        for key in keys:
            value.pop(key)
    return change


def _fails(path: Path, message: str) -> ModelFileError:
    with pytest.raises(ModelFileError, match=message) as info:
        load_model(path)
    assert info.value.path == str(path) and str(info.value).startswith(f"{path}: ")
    return info.value


# ------------------------------------------------------- classes and outputs
@pytest.mark.parametrize("classes, sizes, output", [
    ([0, 1], (3, 1), "sigmoid"),
    (["no", "yes"], (3, 2), "softmax"),
    ([1, 2, 3], (3, 4, 3), "softmax"),
])
def test_classes_that_fit_the_outputs_load(tmp_path, classes, sizes, output):
    model = load_model(_model(tmp_path, sizes, output, _prep(classes=classes)))
    assert model.preprocessing.classes == classes


@pytest.mark.parametrize("classes, sizes, output, message", [
    ([0, 1], (3, 2), "sigmoid",
     "2 classes, which need 1 sigmoid output or 2 softmax outputs, but the network has 2 "
     "sigmoid outputs"),
    ([0, 1], (3, 3), "softmax", "2 classes, which need 1 sigmoid output or 2 softmax"),
    ([0, 1], (3, 1), "softmax", "2 classes, which need .* but the network has 1 softmax output$"),
    ([0, 1, 2], (3, 1), "sigmoid", "3 classes, which need 3 softmax outputs, but the network "
                                   "has 1 sigmoid output"),
    ([0, 1, 2], (3, 2), "softmax", "3 classes, which need 3 softmax outputs"),
    ([0, 1, 2], (3, 3), "sigmoid", "3 classes, which need 3 softmax outputs, but the network "
                                   "has 3 sigmoid outputs"),
])
def test_number_of_classes_must_fit_the_outputs(tmp_path, classes, sizes, output, message):
    _fails(_model(tmp_path, sizes, output, _prep(classes=classes)), message)
    _save_refuses(tmp_path, sizes, output, _prep(classes=classes), message.rstrip("$"))


@pytest.mark.parametrize("output", ["identity", "relu", "tanh"])
def test_classify_needs_a_sigmoid_or_softmax_output(tmp_path, output):
    _fails(_model(tmp_path, (3, 1), output, _prep()),
           f"classifies .2 classes. but the network has 1 {output} output; classification "
           "needs a sigmoid or softmax output layer")


def test_regression_loads_with_one_identity_output(tmp_path):
    model = load_model(_model(tmp_path, (3, 1), "identity", _prep("regress")))
    assert model.preprocessing.task == "regress" and model.preprocessing.classes is None


@pytest.mark.parametrize("sizes, output, message", [
    ((3, 1), "softmax", "regresses but the network has 1 softmax output; softmax outputs "
                        "always sum to 1"),
    ((3, 2), "identity", "regresses one target .'t'. but the network has 2 identity outputs; "
                         "it needs one output per target"),
])
def test_regression_output_layer(tmp_path, sizes, output, message):
    _fails(_model(tmp_path, sizes, output, _prep("regress")), message)


# ------------------------------------------------------------ format header
@pytest.mark.parametrize("version", ["1.0", "one", "", " 1", "1 ", "01", "-1", "\u0661", "1e0"])
def test_format_version_of_the_wrong_form(tmp_path, version):
    path = _model(tmp_path)
    _set_text(path, "format_version", version)
    _fails(path, r"has format version .*, which is not a whole number like '1'")


@pytest.mark.parametrize("version, newer", [("2", True), ("10", True), ("9" * 5000, True),
                                            ("0", False)])
def test_other_format_versions(tmp_path, version, newer):
    path = _model(tmp_path)
    _set_text(path, "format_version", version)
    error = _fails(path, "this slopes reads version 1")
    assert ("newer slopes" in str(error)) == newer


def test_format_version_missing(tmp_path):
    path = _model(tmp_path)
    _set_text(path, "format_version", None)
    _fails(path, "metadata has no 'format_version' entry")


def test_format_missing(tmp_path):
    path = _model(tmp_path)
    _set_text(path, "format", None)
    _fails(path, r"not a slopes model \(its metadata has no 'format' entry\)")


def test_format_of_another_program(tmp_path):
    path = _model(tmp_path)
    _set_text(path, "format", "pytorch")
    _fails(path, "not a slopes model .format 'pytorch', expected 'slopes'")


# ------------------------------------------------------ JSON limits in metadata
@pytest.mark.parametrize("key", ["architecture", "preprocessing", "training", "history"])
def test_absurdly_deep_json(tmp_path, key):
    path = _model(tmp_path)
    _set_text(path, key, "[" * 100_000 + "]" * 100_000)
    _fails(path, f"metadata '{key}' is nested more than {MAX_JSON_DEPTH} levels deep")


def test_json_just_over_the_depth_limit(tmp_path):
    # Deep enough to break code that recurses, yet far from json's own recursion limit.
    path = _model(tmp_path)
    _set_text(path, "training", '{"a": ' + "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH + "}")
    _fails(path, "metadata 'training' is nested more than 32 levels deep")


def test_json_within_the_depth_limit_loads(tmp_path):
    deep: list = []
    for _ in range(MAX_JSON_DEPTH - 2):
        deep = [deep]
    model = load_model(_model(tmp_path, training={"deep": deep}))
    assert model.training["deep"] == deep


@pytest.mark.parametrize("key", ["training", "preprocessing"])
def test_absurdly_large_metadata(tmp_path, key):
    path = _model(tmp_path)
    _set_text(path, key, json.dumps({"x": "a" * MAX_METADATA_CHARS}))
    _fails(path, f"metadata '{key}' is 8,000,009 characters long; the limit is 8,000,000 "
                 "characters .8 MB. per entry")


def test_saving_refuses_what_loading_would_refuse(tmp_path):
    net = slopes.Network.mlp([3, 1], seed=0)
    with pytest.raises(ValueError, match="training cannot be stored: it is 8,000,009 characters"):
        save(net, tmp_path / "m.safetensors", training={"x": "a" * MAX_METADATA_CHARS})
    deep: list = []
    for _ in range(MAX_JSON_DEPTH + 1):
        deep = [deep]
    with pytest.raises(ValueError, match="training cannot be stored: it is nested more than"):
        save(net, tmp_path / "m.safetensors", training={"deep": deep})
    with pytest.raises(ValueError, match="training cannot be stored: it holds a whole number"):
        save(net, tmp_path / "m.safetensors", training={"seed": 10**400})
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("text, message", [
    ('{"learning_rate": NaN}', "holds the number nan; JSON numbers must be finite"),
    ('{"learning_rate": Infinity}', "holds the number inf"),
    ('{"learning_rate": -Infinity}', "holds the number -inf"),
    ('{"learning_rate": 1e400}', "holds the number inf"),
    ('{"seed": 1' + "0" * 400 + "}", "holds a whole number of about 401 digits; the limit "
                                     "is 308 digits"),
    ('{"seed": ' + "9" * 5000 + "}", "is not valid JSON: Exceeds the limit .4300 digits."),
    ('{"loss": "mse", "loss": "mae"}', "is not valid JSON: the key 'loss' appears twice in "
                                       "one object"),
    ('{"loss": ', "is not valid JSON: Expecting value"),
])
def test_json_that_python_reads_but_is_not_usable(tmp_path, text, message):
    path = _model(tmp_path)
    _set_text(path, "training", text)
    _fails(path, f"metadata 'training' {message}")


# ----------------------------------------------------------- preprocessing
def _set(key, value):
    return lambda p: p.__setitem__(key, value)


def _set_in(outer, key, value):
    return lambda p: p[outer].__setitem__(key, value)


PREP_CASES = [
    ("numeric as a list", _set("numeric", [["a", 1.0, 2.0]]),
     "numeric must be an object mapping column names to {mean, scale}, got a list"),
    ("mean as a string", _set_in("numeric", "a", {"mean": "1.0", "scale": 2.0}),
     r"numeric\['a'\] mean must be a number, got '1.0'"),
    ("scale as a string", _set_in("numeric", "a", {"mean": 1.0, "scale": "2"}),
     r"numeric\['a'\] scale must be a number, got '2'"),
    ("scale as true", _set_in("numeric", "a", {"mean": 1.0, "scale": True}),
     r"numeric\['a'\] scale must be a number, got True"),
    ("scale 0", _set_in("numeric", "a", {"mean": 1.0, "scale": 0}),
     r"numeric\['a'\] scale must be > 0, got 0"),
    ("scale missing", _set_in("numeric", "a", {"mean": 1.0}),
     r"numeric\['a'\] must be an object with a mean and a scale"),
    ("stats as a list", _set_in("numeric", "a", [1.0, 2.0]),
     r"numeric\['a'\] must be an object with a mean and a scale, got a list"),
    ("categories as a list", _set("categories", ["x", "y"]),
     "categories must be an object mapping column names to lists of categories, got a list"),
    ("categories values a string", _set_in("categories", "c", "xy"),
     r"categories\['c'\] must be a list of strings, got 'xy'"),
    ("categories values numbers", _set_in("categories", "c", [1, 2]),
     r"categories\['c'\] must be a list of strings, got a list"),
    ("categories values an object", _set_in("categories", "c", {"x": 1}),
     r"categories\['c'\] must be a list of strings, got a dict"),
    ("categories empty", _set_in("categories", "c", []), r"categories\['c'\] is empty"),
    ("categories twice", _set_in("categories", "c", ["x", "x"]),
     r"categories\['c'\] names 'x' twice"),
    ("columns a string", _set("columns", "a,c"),
     "columns must be a list of strings, got 'a,c'"),
    ("columns with a number", _set("columns", ["a", 3]),
     "columns must be a list of strings, got a list"),
    ("columns empty", _set("columns", []), "columns is empty"),
    ("columns twice", _set("columns", ["a", "c", "a"]), "columns names 'a' twice"),
    ("column neither numeric nor categorical", _set("columns", ["a", "c", "d"]),
     "column 'd' must be either numeric or categorical"),
    ("column both", _set_in("numeric", "c", {"mean": 0.0, "scale": 1.0}),
     "column 'c' must be either numeric or categorical"),
    ("stats for no column", _set_in("numeric", "zz", {"mean": 0.0, "scale": 1.0}),
     r"numeric or categories name column\(s\) 'zz' that are not in columns"),
    ("target a number", _set("target", 5),
     r"target must be a column name \(a string\) or null, got 5"),
    ("target a feature", _set("target", "a"), "the target 'a' is also listed as a feature"),
    ("target without task", _set("task", None), "the target 't' needs a task"),
    ("task unknown", _set("task", "cluster"),
     "task must be 'classify', 'regress' or null, got 'cluster'"),
    ("task a list", _set("task", ["classify"]), "task must be .* got a list"),
    ("standardize_target a string", _set("standardize_target", "no"),
     "standardize_target must be true or false, got 'no'"),
    ("fill_missing a number", _set("fill_missing", 1),
     "fill_missing must be true or false, got 1"),
    ("target_scale a string", _set("target_scale", "1"),
     "target_scale must be a number, got '1'"),
    ("target_scale negative", _set("target_scale", -2.0), "target_scale must be > 0"),
    ("target_mean null", _set("target_mean", None), "target_mean must be a number, got None"),
    ("categorical a string", _set("categorical", "c"),
     "categorical must be a list of strings, got 'c'"),
    ("columns missing", _drop("columns"),
     "preprocessing parameters are incomplete or malformed: no 'columns' entry"),
    ("wrong type", _set("type", "pickle"),
     "must be a dict with type 'TabularPreprocessor', got type 'pickle'"),
    ("classes 1 and 1.0", _set("classes", [1, 1.0]),
     "classes 1 and 1.0 are the same class .both read as '1'."),
    ("classes '1' and 1", _set("classes", ["1", 1]),
     "classes '1' and 1 are the same class"),
    ("classes ' 1' and '1'", _set("classes", [0, " 1", "1"]),
     "classes ' 1' and '1' are the same class"),
    ("class a list", _set("classes", [0, [1]]),
     "class a list is not a string, number or true/false"),
    ("class an object", _set("classes", [0, {"a": 1}]), "class a dict is not a string"),
    ("class null", _set("classes", [0, None]), "class None is not a string"),
    ("classes a string", _set("classes", "01"),
     "classes must be a list of class labels, got '01'"),
    ("classes null", _set("classes", None), "classes must be a list of class labels, got None"),
    ("one class", _set("classes", [1]), "classification needs >= 2 classes, got 1"),
    ("classes for a regression", lambda p: p.update(task="regress", classes=[0, 1]),
     "classes are only for task 'classify', but the task is 'regress'"),
]


@pytest.mark.parametrize("change, message", [case[1:] for case in PREP_CASES],
                         ids=[case[0] for case in PREP_CASES])
def test_preprocessing_of_the_wrong_type(tmp_path, change, message):
    params = _prep()
    change(params)
    with pytest.raises(ValueError, match=message) as info:
        TabularPreprocessor.from_dict(json.loads(json.dumps(params)))
    assert not isinstance(info.value, ModelFileError)
    path = _model(tmp_path, (3, 1), "sigmoid", _prep())
    _edit(path, "preprocessing", change)
    error = _fails(path, message)
    assert error.problem == str(info.value)  # the file's path, then from_dict's message


def test_preprocessing_not_an_object(tmp_path):
    path = _model(tmp_path, (3, 1), "sigmoid", _prep())
    _edit(path, "preprocessing", lambda p: Replace([p]))
    _fails(path, "preprocessing parameters must be a dict with type 'TabularPreprocessor', "
                 "got list")


def test_from_dict_refuses_numbers_json_cannot_hold():
    for key, value in (("target_mean", float("inf")), ("target_scale", float("nan")),
                       ("target_mean", 10**400)):
        params = _prep()
        params[key] = value
        with pytest.raises(ValueError, match=f"{key} must be a finite number"):
            TabularPreprocessor.from_dict(params)
    params = _prep(classes=[0, float("nan")])
    with pytest.raises(ValueError, match="a class must be a finite number, got nan"):
        TabularPreprocessor.from_dict(params)


def test_feature_count_must_match_the_network_inputs(tmp_path):
    path = _model(tmp_path, (3, 1), "sigmoid", _prep())
    _edit(path, "preprocessing", lambda p: p.update(columns=["a"], categories={}))
    _fails(path, "preprocessing makes 1 features but the network expects 3")


def test_valid_preprocessing_round_trips(tmp_path):
    model = load_model(_model(tmp_path, (3, 1), "sigmoid", _prep()))
    assert model.preprocessing.to_dict() == _prep()
    assert model.preprocessing.feature_names == ["a", "c=x", "c=y"]


# ------------------------------------------------------ training and history
@pytest.mark.parametrize("value, shown", [([1, 2], r"\[1, 2\]"), ("sgd", "'sgd'"),
                                          (None, "None"), (3, "3")])
def test_training_metadata_not_an_object(tmp_path, value, shown):
    path = _model(tmp_path)
    _set_text(path, "training", json.dumps(value))
    _fails(path, f"training metadata must be a JSON object, got {shown}")


@pytest.mark.parametrize("value, message", [
    ([0.5, 0.4], r"history metadata must be a JSON object, got \[0.5, 0.4\]"),
    ("loss", "history metadata must be a JSON object, got 'loss'"),
    ({"loss": "0.5"}, r"history 'loss' must be a list of numbers \(one per epoch\), got '0.5'"),
    ({"loss": {"0": 0.5}}, "history 'loss' must be a list of numbers .one per epoch., got {"),
    ({"loss": [0.5, "x"]}, "history 'loss' must be a list of numbers, got 'x' at epoch 1"),
    ({"loss": [True]}, "history 'loss' must be a list of numbers, got True at epoch 0"),
    ({"val_loss": [0.1, [0.2]]}, r"history 'val_loss' must be a list of numbers, got \[0.2\] "
                                 "at epoch 1"),
])
def test_history_of_the_wrong_type(tmp_path, value, message):
    path = _model(tmp_path)
    _set_text(path, "history", json.dumps(value))
    _fails(path, message)


def test_history_with_diverged_epochs_loads(tmp_path):
    model = load_model(_model(tmp_path, history={"loss": [1.0, float("inf"), 2]}))
    assert model.history == {"loss": [1.0, None, 2.0]}


# -------------------------------------------------------------- architecture
def _layer(k, key, value):
    return lambda a: a["layers"][k].__setitem__(key, value)


def _act(k, **settings):
    return lambda a: a["layers"][k]["activation"].update(settings)


ARCH_CASES = [
    ("architecture a list", lambda a: Replace([a]), r"architecture must be an object, got \["),
    ("layers a number", lambda a: a.update(layers=3),
     "architecture must list at least one layer, got 'layers': 3"),
    ("layers empty", lambda a: a.update(layers=[]), "must list at least one layer"),
    ("layers missing", _drop("layers"), "must list at least one layer, got 'layers': "
                                                  "None"),
    ("one layer fewer", lambda a: a["layers"].pop(-1) and None,
     r"architecture sizes \[3, 4, 1\] do not match its layers, which make \[3, 4\]"),
    ("one layer fewer, no sizes", lambda a: (a["layers"].pop(-1), a.pop("sizes")) and None,
     r"unexpected tensor\(s\) layers.1.bias, layers.1.weights"),
    ("sizes as floats", lambda a: a.update(sizes=[3.0, 4, 1]),
     r"architecture sizes \[3.0, 4, 1\] do not match"),
    ("sizes a string", lambda a: a.update(sizes="3-4-1"), "architecture sizes '3-4-1' do not"),
    ("layer a list", lambda a: a["layers"].__setitem__(0, [3, 4]),
     r"architecture layer 0 is not an object: \[3, 4\]"),
    ("layer without n_out", lambda a: _drop("n_out")(a["layers"][0]),
     "architecture layer 0 is incomplete: it has no 'n_out'"),
    ("n_in a float", _layer(0, "n_in", 3.0),
     "architecture layer 0 n_in must be a positive whole number, got 3.0"),
    ("n_in a string", _layer(0, "n_in", "3"), "n_in must be a positive whole number, got '3'"),
    ("n_in true", _layer(0, "n_in", True), "n_in must be a positive whole number, got True"),
    ("n_out 0", _layer(1, "n_out", 0),
     "architecture layer 1 n_out must be a positive whole number, got 0"),
    ("n_in huge", _layer(0, "n_in", 10**300),
     r"tensor 'layers.0.weights' has shape \(3, 4\), expected \(1000"),
    ("n_in and n_out a million", lambda a: a["layers"][0].update(n_in=10**6, n_out=10**6),
     r"tensor 'layers.0.weights' has shape \(3, 4\), expected \(1000000, 1000000\)"),
    ("bias a string", _layer(0, "bias", "yes"),
     "architecture layer 0 bias must be true or false, got 'yes'"),
    ("bias 1", _layer(0, "bias", 1), "bias must be true or false, got 1"),
    ("activation a string", _layer(0, "activation", "tanh"),
     "architecture layer 0 activation must be an object with a 'name', got 'tanh'"),
    ("activation name a list", _act(0, name=["tanh"]),
     "activation must be an object with a 'name'"),
    ("activation unknown", _act(0, name="swish"), "has unknown activation 'swish'"),
    ("alpha a string", lambda a: a["layers"][0].update(
        activation={"name": "leaky_relu", "alpha": "x"}),
     "activation 'leaky_relu' setting 'alpha' must be a number, got 'x'"),
    ("alpha false", lambda a: a["layers"][0].update(
        activation={"name": "leaky_relu", "alpha": False}),
     "setting 'alpha' must be a number, got False"),
    ("alpha a list", lambda a: a["layers"][0].update(
        activation={"name": "leaky_relu", "alpha": [0.1]}),
     r"setting 'alpha' must be a number, got \[0.1\]"),
    ("alpha out of range", lambda a: a["layers"][0].update(
        activation={"name": "leaky_relu", "alpha": 5}),
     r"activation 'leaky_relu' has bad settings \{'alpha': 5\}: leaky_relu alpha must be in"),
    ("unknown setting", _act(0, beta=1.0),
     r"activation 'tanh' has bad settings \{'beta': 1.0\}: "),
    ("dtype missing", _drop("dtype"),
     "architecture dtype is None; expected float32 or float64"),
    ("dtype a list", lambda a: a.update(dtype=["f8"]),
     r"architecture dtype is \['f8'\]; expected float32 or float64"),
    ("dtype an object", lambda a: a.update(dtype={"names": ["a"], "formats": ["f8"]}),
     "architecture dtype is {.*}; expected float32 or float64"),
    ("dtype a numpy code", lambda a: a.update(dtype="f8"),
     "architecture dtype is 'f8'; expected float32 or float64"),
]


@pytest.mark.parametrize("change, message", [case[1:] for case in ARCH_CASES],
                         ids=[case[0] for case in ARCH_CASES])
def test_architecture_of_the_wrong_type(tmp_path, change, message):
    path = _model(tmp_path)
    _edit(path, "architecture", change)
    _fails(path, message)


def test_leaky_relu_settings_round_trip(tmp_path):
    net = slopes.Network([slopes.Dense(3, 2, activation=slopes.activations.LeakyRelu(0.3)),
                          slopes.Dense(2, 1, activation="sigmoid")])
    model = load_model(save(net, tmp_path / "m.safetensors"))
    assert model.network.layers[0].activation.alpha == 0.3


# -------------------------------------------------------------------- fuzzing
_KEYS = ["n_in", "n_out", "bias", "activation", "name", "alpha", "layers", "sizes", "dtype",
         "type", "target", "task", "columns", "numeric", "categories", "mean", "scale",
         "classes", "categorical", "target_mean", "target_scale", "loss", "a", "c", "t"]
_WORDS = st.sampled_from(["relu", "leaky_relu", "softmax", "sigmoid", "identity", "float32",
                          "float64", "classify", "regress", "TabularPreprocessor", "a", "c",
                          "x", "1", "1.0", " 1"])
# Mostly values a real file could hold (small numbers, the format's own words), so the
# checks behind the type checks are reached too; now and then a huge or odd one.
_SCALARS = st.one_of(
    st.integers(-3, 8), st.integers(-3, 8), _WORDS, _WORDS, st.booleans(), st.none(),
    st.floats(allow_nan=False, allow_infinity=False), st.floats(0, 1), st.text(max_size=8),
    st.integers(),
)
_HUGE = st.integers(10**300, 10**320).map(lambda n: n * (-1) ** (n % 2)) | st.floats(1e300)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


def _places(value):
    """Every (container, key) inside a JSON value, found without recursion."""
    places, stack = [], [value]
    while stack:
        item = stack.pop()
        keys = item.keys() if isinstance(item, dict) else range(len(item)) \
            if isinstance(item, list) else ()
        for key in keys:
            places.append((item, key))
            stack.append(item[key])
    return places


def _valid_files(directory: Path) -> list[tuple[dict, dict]]:
    files = [
        _model(directory, (3, 4, 1), "sigmoid", _prep(), {"loss": "binary_crossentropy"},
               {"loss": [0.7, 0.5]}, name="binary.safetensors"),
        _model(directory, (3, 3), "softmax", _prep(classes=["a", "b", "c"]),
               name="multi.safetensors", activation="leaky_relu"),
        _model(directory, (3, 2, 1), "identity", _prep("regress"), name="regress.safetensors"),
    ]
    net = slopes.Network([slopes.Dense(2, 2, activation=slopes.activations.LeakyRelu(0.1)),
                          slopes.Dense(2, 1, activation="sigmoid", bias=False)])
    files.append(save(net, directory / "plain.safetensors"))
    return [read_parts(path) for path in files]


@pytest.fixture(scope="module")
def valid_files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("valid")
    return directory, _valid_files(directory)


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_metadata_loads_or_raises_model_file_error(valid_files, data):
    directory, files = valid_files
    tensors, metadata = data.draw(st.sampled_from(files))
    metadata = dict(metadata)
    for _ in range(data.draw(st.integers(1, 3))):
        key = data.draw(st.sampled_from(["architecture", "architecture", "preprocessing",
                                         "preprocessing", "training", "history",
                                         "format_version"]))
        if key == "format_version":
            metadata[key] = data.draw(st.sampled_from(["1", "2", "1.0", ""]) | st.text(max_size=3))
            continue
        value = json.loads(metadata[key])
        places = _places(value)
        action = data.draw(st.sampled_from(["replace", "replace", "replace", "delete", "huge",
                                            "whole"]))
        if action == "whole" or not places:
            value = data.draw(_JSON)
        else:
            container, place = data.draw(st.sampled_from(places))
            if action == "delete":
                del container[place]
            else:
                container[place] = data.draw(_HUGE if action == "huge" else _JSON)
        metadata[key] = json.dumps(value)
    path = directory / "fuzzed.safetensors"
    write_parts(path, tensors, metadata)
    try:
        model = load_model(path)
    except ModelFileError as exc:
        assert str(exc).startswith(f"{path}: ")
        return
    # What loads must also work: a prediction, and the preprocessing's feature names.
    net = model.network
    assert net.predict(np.zeros((1, net.n_inputs))).shape == (1, net.n_outputs)
    if model.preprocessing is not None:
        assert len(model.preprocessing.feature_names) == net.n_inputs


# ------------------------------------------------------------------ writing
@pytest.fixture
def umask():
    """Set the process umask for one test (it is process-global, so always restore it)."""
    old = os.umask(0o022)
    os.umask(old)
    try:
        yield os.umask
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002, 0o000])
def test_new_files_get_the_umask_permissions(tmp_path, umask, mask):
    umask(mask)
    expected = 0o666 & ~mask
    assert _mode(write_atomic(tmp_path / "p.csv", b"a\n")) == expected
    assert _mode(save(slopes.Network.mlp([2, 1], seed=0), tmp_path / "m.safetensors")) \
        == expected
    written = write_files_atomic(tmp_path / "out" / "sub", {"a.png": b"1", "b.json": b"{}"})
    assert [_mode(p) for p in written] == [expected, expected]


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o600, 0o664])
def test_replaced_files_keep_their_permissions(tmp_path, umask, mode):
    umask(0o077)  # the old mode wins over the umask
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"old")
    path.chmod(mode)
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new" and _mode(path) == mode
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.txt").write_bytes(b"old")
    (tmp_path / "out" / "a.txt").chmod(mode)
    write_files_atomic(tmp_path / "out", {"a.txt": b"new", "b.txt": b"new"})
    assert _mode(tmp_path / "out" / "a.txt") == mode
    assert _mode(tmp_path / "out" / "b.txt") == 0o600


def test_set_user_id_bits_are_not_carried_over(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"old")
    path.chmod(0o4755)
    write_atomic(path, b"new")
    assert _mode(path) == 0o755


def _refuse_open(monkeypatch, code: int, text: str) -> None:
    real_open = os.open

    def refuse(name, flags, mode=0o777, *args, **kwargs):
        if str(name).endswith(".tmp"):
            raise OSError(code, text, name)
        return real_open(name, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)


def _check_names_user_path(error: FileWriteError, path: Path) -> None:
    assert isinstance(error, OSError)
    assert error.filename == str(path)
    assert ".tmp" not in str(error) and str(error).startswith(f"cannot write {path}: ")


@pytest.mark.parametrize("code, text, message", [
    (errno.EACCES, "Permission denied", "permission denied .folder {folder} is not writable."),
    (errno.EPERM, "Operation not permitted", "permission denied .folder {folder} is not"),
    (errno.EROFS, "Read-only file system", "folder {folder} is on a read-only file system"),
    (errno.ENOSPC, "No space left on device", "no space left on the device"),
    (errno.EIO, "Input/output error", "input/output error"),
])
def test_write_errors_name_the_users_path(tmp_path, monkeypatch, code, text, message):
    path = tmp_path / "m.safetensors"
    _refuse_open(monkeypatch, code, text)
    with pytest.raises(FileWriteError, match=message.format(folder=tmp_path)) as info:
        write_atomic(path, b"data")
    _check_names_user_path(info.value, path)
    assert info.value.errno == code and info.value.strerror in str(info.value)
    assert not list(tmp_path.iterdir())


def test_write_error_in_the_current_folder_names_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _refuse_open(monkeypatch, errno.EACCES, "Permission denied")
    with pytest.raises(FileWriteError, match=f"cannot write model.safetensors: permission "
                                             f"denied .folder {tmp_path} .the current folder. "
                                             "is not writable."):
        write_atomic("model.safetensors", b"data")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root can write into a read-only folder")
def test_read_only_folder_for_real(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(FileWriteError, match="permission denied .folder .*ro is not "
                                                 "writable."):
            write_atomic(folder / "m.safetensors", b"data")
    finally:
        folder.chmod(0o755)


def test_missing_folder(tmp_path):
    path = tmp_path / "nope" / "m.safetensors"
    with pytest.raises(FileWriteError, match=f"cannot write {path}: the folder "
                                             f"{tmp_path / 'nope'} does not exist") as info:
        save(slopes.Network.mlp([2, 1], seed=0), path)
    _check_names_user_path(info.value, path)
    assert info.value.errno == errno.ENOENT


def test_folder_that_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    path = tmp_path / "file" / "m.safetensors"
    with pytest.raises(FileWriteError, match=f"{tmp_path / 'file'} is not a folder") as info:
        write_atomic(path, b"data")
    _check_names_user_path(info.value, path)


def test_target_that_is_a_folder(tmp_path):
    (tmp_path / "m.safetensors").mkdir()
    with pytest.raises(FileWriteError, match="m.safetensors is a folder"):
        write_atomic(tmp_path / "m.safetensors", b"data")
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_failure_keeps_the_old_file_and_removes_the_temporary(tmp_path, monkeypatch, failing):
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"old")

    def boom(*args):
        raise OSError(errno.ENOSPC, "No space left on device", str(args[0]))

    monkeypatch.setattr(os, failing, boom)
    with pytest.raises(FileWriteError, match="no space left on the device") as info:
        write_atomic(path, b"new")
    _check_names_user_path(info.value, path)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_write_files_atomic_writes_all_in_order(tmp_path):
    files = {"b.txt": b"2", "a.txt": b"1", "model.safetensors": b"3"}
    written = write_files_atomic(tmp_path / "x" / "y", files)
    assert written == [tmp_path / "x" / "y" / name for name in files]
    assert [p.read_bytes() for p in written] == list(files.values())
    assert sorted(p.name for p in (tmp_path / "x" / "y").iterdir()) == sorted(files)


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_write_files_atomic_failure_leaves_nothing(tmp_path, monkeypatch, failing):
    real = getattr(os, failing)
    calls = []

    def second_fails(*args):
        calls.append(args)
        if len(calls) == 2:
            raise OSError(errno.EIO, "Input/output error")
        return real(*args)

    monkeypatch.setattr(os, failing, second_fails)
    out = tmp_path / "new" / "out"
    with pytest.raises(FileWriteError, match=f"cannot write {out / 'b.txt'}: input/output "
                                             "error") as info:
        write_files_atomic(out, {"a.txt": b"1", "b.txt": b"2", "c.txt": b"3"})
    _check_names_user_path(info.value, out / "b.txt")
    if failing == "fsync":
        # Nothing was renamed yet, so the folders this call created are gone again.
        assert not (tmp_path / "new").exists()
    else:
        # a.txt was already in place; only the temporary files are removed.
        assert sorted(p.name for p in out.iterdir()) == ["a.txt"]


def test_write_files_atomic_into_a_file(tmp_path):
    (tmp_path / "out").write_text("x")
    with pytest.raises(FileWriteError, match=f"cannot write {tmp_path / 'out'}: exists and is "
                                             "not a folder"):
        write_files_atomic(tmp_path / "out", {"a.txt": b"1"})


def test_write_files_atomic_under_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    out = tmp_path / "file" / "sub"
    with pytest.raises(FileWriteError, match=f"cannot write {out}: cannot create the folder: "
                                             f"{tmp_path / 'file'} is not a folder"):
        write_files_atomic(out, {"a.txt": b"1"})


def test_write_files_atomic_folder_not_creatable(tmp_path, monkeypatch):
    def refuse(path, mode=0o777, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(os, "mkdir", refuse)
    out = tmp_path / "out"
    with pytest.raises(FileWriteError, match=f"cannot write {out}: cannot create the folder: "
                                             f"permission denied .folder {tmp_path} is not "
                                             "writable.") as info:
        write_files_atomic(out, {"a.txt": b"1"})
    _check_names_user_path(info.value, out)


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "../x", f"x{os.sep}y", "a\0b"])
def test_write_files_atomic_needs_plain_names(tmp_path, name):
    with pytest.raises(ValueError, match="file names must be plain names without a folder"):
        write_files_atomic(tmp_path, {name: b"1"})
    assert not list(tmp_path.iterdir())


def test_a_private_file_is_never_readable_by_others_while_written(tmp_path, umask, monkeypatch):
    umask(0)  # a new file would be 0666: the replacement must still start private
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"old")
    path.chmod(0o600)
    seen = []
    real_fsync = os.fsync

    def fsync(fd):
        seen.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    write_atomic(path, b"secret")
    assert seen == [0o600] and _mode(path) == 0o600


def test_errors_keep_the_path_as_written(tmp_path):
    given = f"{tmp_path}/nope/./m.safetensors"
    with pytest.raises(FileWriteError) as info:
        write_atomic(given, b"data")
    assert info.value.filename == given and str(info.value).startswith(f"cannot write {given}: ")
    (tmp_path / "file").write_text("x")
    given = f"{tmp_path}/file/./sub"
    with pytest.raises(FileWriteError) as info:
        write_files_atomic(given, {"a.txt": b"1"})
    assert info.value.filename == given and str(info.value).startswith(f"cannot write {given}: ")


def test_write_error_pickles_with_its_path():
    import pickle

    error = FileWriteError("m.safetensors", "no space left on the device", errno.ENOSPC)
    again = pickle.loads(pickle.dumps(error))
    assert (str(again), again.filename, again.errno) == (str(error), "m.safetensors",
                                                         errno.ENOSPC)


def test_replacing_a_file_the_folder_protects(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"old")

    def refuse(src, dst):
        raise PermissionError(errno.EPERM, "Operation not permitted", src, dst)

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(FileWriteError, match=f"cannot write {path}: permission denied .the old "
                                             f"file in folder {tmp_path} cannot be replaced."):
        write_atomic(path, b"new")
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_unreadable_model_file(tmp_path, monkeypatch):
    path = _model(tmp_path)
    real_stat = Path.stat

    def refuse(self, *args, **kwargs):
        if self == path:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", refuse)
    _fails(path, "cannot be read: Permission denied")


def test_model_file_under_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    _fails(tmp_path / "file" / "m.safetensors", "no such file")


def test_model_path_is_a_folder(tmp_path):
    _fails(tmp_path, "is not a file")
