"""Bad input to the public API (issue 8): a clear error naming what came in and what was
expected, never an IndexError, a KeyError, a raw NumPy message or a silent wrong answer.

Each case asserts the exception type and the words of its message.
"""

from __future__ import annotations

import numpy as np
import pytest

import slopes
from slopes import Dense, Network
from slopes.callbacks import EarlyStopping
from slopes.layers import as_float_dtype
from slopes.losses import MSE, BinaryCrossentropy, CategoricalCrossentropy, get_loss

X4 = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
Y4 = np.array([1.0, 1.0, 0.0, 0.0])

# The course's networks, written as the course writes them.
COURSE_ONE_HIDDEN = {"node_0": [2, 4], "node_1": [4, -5], "output": [2, 7]}
COURSE_TWO_HIDDEN = {"node_0_0": [2, 4], "node_0_1": [4, -5], "node_1_0": [-1, 2],
                     "node_1_1": [1, 2], "output": [2, 7]}


def small_net(output: str = "identity", n_out: int = 1) -> Network:
    return Network.mlp([2, 3, n_out], activation="relu", output=output, seed=0)


def fit_refuses(net: Network, error: type[Exception], message: str, X: object = X4,
                y: object = Y4, **kwargs: object) -> None:
    """``net.fit(X, y, **kwargs)`` raises ``error`` matching ``message`` and trains nothing."""
    before = [p.copy() for p in net.parameters()]
    with pytest.raises(error, match=message):
        net.fit(X, y, **{"verbose": 0, **kwargs})
    for p, b in zip(net.parameters(), before, strict=True):
        np.testing.assert_array_equal(p, b)


# ----------------------------------------------------------------- the course's dicts still work
def test_course_dicts_still_build():
    net = Network.from_weights(COURSE_ONE_HIDDEN, activation="relu")
    # hidden: relu(3*2 + 5*4) = 26, relu(3*4 + 5*-5) = 0; output 26*2 + 0*7 = 52
    np.testing.assert_array_equal(net.predict([3, 5]), [52.0])
    net2 = Network.from_weights(COURSE_TWO_HIDDEN, activation="relu")
    assert net2.sizes == [2, 2, 2, 1]
    # layer 0: relu(26), relu(-13) = 26, 0; layer 1: relu(-26), relu(26) = 0, 26; out 182
    np.testing.assert_array_equal(net2.predict([3, 5]), [182.0])


def test_zero_padded_keys_are_fine_when_each_node_has_one_key():
    net = Network.from_weights({"node_00": [2, 4], "node_01": [4, -5], "output": [2, 7]},
                               activation="relu")
    np.testing.assert_array_equal(net.predict([3, 5]), [52.0])


def test_a_list_of_flat_lists_is_one_layer_per_entry():
    # Documented list form (the course lesson uses it): [[1, 2], [3]] is a 2-1-1 network,
    # a flat list being the weights into a single node, so it is not "ragged".
    net = Network.from_weights([[1, 2], [3]])
    assert net.sizes == [2, 1, 1]
    np.testing.assert_array_equal(net.predict([1, 1]), [9.0])


# ------------------------------------------------------------------ from_weights: malformed dict
@pytest.mark.parametrize(
    ("weights", "message"),
    [
        pytest.param({"output": 5},
                     r"^weights\['output'\] must be a list of weights \(one per node feeding the "
                     r"output\), or one such list per output node, got 5$", id="output-scalar"),
        pytest.param({"node_0": [1, 2], "output": 5},
                     r"^weights\['output'\] must be a list of weights .*, got 5$",
                     id="output-scalar-with-hidden"),
        pytest.param({"output": []},
                     r"^weights\['output'\] must be a list of weights .*, got \[\]$",
                     id="output-empty"),
        pytest.param({"output": None}, r"^weights\['output'\] must hold numbers, got None$",
                     id="output-none"),
        pytest.param({"output": [[[1.0]]]},
                     r"^weights\['output'\] must be a list of weights .*, got \[\[\[1\.0\]\]\]$",
                     id="output-3d"),
        pytest.param({},
                     r"^the weights dict needs an 'output' entry, got an empty dict; expected a "
                     r"dict like \{'node_0': \[\.\.\.\], 'node_1': \[\.\.\.\], 'output': ",
                     id="empty-dict"),
        pytest.param({"node_0": [1, 2], "node_00": [3, 4], "output": [1]},
                     r"^the weights dict keys 'node_0' and 'node_00' both name node 0 of hidden "
                     r"layer 0; expected one key per node$", id="duplicate-node_0-node_00"),
        pytest.param({"node_0": [1, 2], "node_1": [1, 2], "node_01": [3, 4], "output": [1, 1]},
                     r"^the weights dict keys 'node_1' and 'node_01' both name node 1 of hidden "
                     r"layer 0; expected one key per node$", id="duplicate-node_1-node_01"),
        pytest.param({"node_0_0": [1, 2], "node_00_0": [3, 4], "output": [1]},
                     r"^the weights dict keys 'node_0_0' and 'node_00_0' both name node 0 of "
                     r"hidden layer 0", id="duplicate-node_0_0-node_00_0"),
        pytest.param({"node_0": [1, 2], "node_1_0": [1], "output": [1]},
                     r"^the weights dict mixes 'node_<j>' keys \('node_0', one hidden layer\) "
                     r"with 'node_<layer>_<j>' keys \('node_1_0'\); use one form$",
                     id="mixed-key-forms"),
        pytest.param({"node_0_0": [1, 2], "node_2_0": [3], "output": [1]},
                     r"^the weights dict has hidden layers \[0, 2\] but no 'node_1_<j>' keys; "
                     r"expected hidden layers numbered 0\.\.2 with none missing$",
                     id="missing-hidden-layer-1"),
        pytest.param({"node_0": [1, 2], "node_2": [1, 2], "output": [1, 1]},
                     r"^hidden layer 0 has nodes \[0, 2\]; expected 0\.\.n-1$",
                     id="missing-node-1"),
        pytest.param({0: [1, 2], "output": [1]},
                     r"^the keys of the weights dict must be strings like 'node_0' or 'output', "
                     r"got 0 \(int\)$", id="non-string-key"),
        pytest.param({0: [1], "node_0": [1]},
                     r"^the weights dict needs an 'output' entry, got keys \[0, 'node_0'\]",
                     id="non-string-key-no-output"),
        pytest.param({"node_0": [1, 2], "node_1": [3], "output": [1, 1]},
                     r"^the nodes of hidden layer 0 have different numbers of weights: 'node_0' "
                     r"has 2, 'node_1' has 1; expected one weight per node feeding them$",
                     id="node-lists-of-different-lengths"),
        pytest.param({"node_0": [], "output": [1]},
                     r"^weights\['node_0'\] is empty; expected one weight per node feeding it$",
                     id="node-empty"),
        pytest.param({"node_0": 5, "output": [1]},
                     r"^weights\['node_0'\] must be a flat list of weights, got 5$",
                     id="node-scalar"),
        pytest.param({"hidden": [1, 2], "output": [1]},
                     r"^unexpected key 'hidden' in the weights dict; expected 'node_<j>', "
                     r"'node_<layer>_<j>' or 'output'$", id="unknown-key"),
        pytest.param({"node_0": [1, 2], "output": [1, 1]},
                     r"^layer 0 has 1 nodes, but the weights of layer 1 expect 2 inputs$",
                     id="output-wrong-length"),
    ],
)
def test_from_weights_malformed_dict(weights, message):
    with pytest.raises(ValueError, match=message):
        Network.from_weights(weights)


# ------------------------------------------------------ from_weights: bad weight values
@pytest.mark.parametrize(
    ("weights", "message"),
    [
        pytest.param([["a", "b"]], r"^weights\[0\] must hold numbers, got 'a' in \['a', 'b'\]$",
                     id="list-of-strings"),
        pytest.param([[[1, 2], [3, "x"]]],
                     r"^weights\[0\] must hold numbers, got 'x' in \[\[1, 2\], \[3, 'x'\]\]$",
                     id="matrix-with-a-string"),
        pytest.param([["1.5", "2"]],
                     r"^weights\[0\] must hold numbers, got '1\.5' in \['1\.5', '2'\]$",
                     id="numbers-as-strings"),
        pytest.param({"node_0": "ab", "output": [1]},
                     r"^weights\['node_0'\] must hold numbers, got 'ab'$", id="dict-node-string"),
        pytest.param({"node_0": [1, None], "output": [1]},
                     r"^weights\['node_0'\] must hold numbers, got None in \[1, None\]$",
                     id="dict-node-none"),
        pytest.param({"node_0": [1, 2], "output": "a"},
                     r"^weights\['output'\] must hold numbers, got 'a'$", id="dict-output-string"),
        pytest.param([[[1, 2], [3]]],
                     r"^weights\[0\] has rows of different lengths, got \[\[1, 2\], \[3\]\]; "
                     r"expected the same number of weights in every row$", id="ragged-matrix"),
        pytest.param({"node_0": [[1, 2], [3]], "output": [1]},
                     r"^weights\['node_0'\] has rows of different lengths", id="ragged-node"),
        pytest.param({"node_0": [1, 2], "output": [[1], [1, 2]]},
                     r"^weights\['output'\] has rows of different lengths, got \[\[1\], \[1, 2\]\]",
                     id="ragged-output"),
        pytest.param([[1, np.nan]],
                     r"^weights\[0\] contains 1 NaN or infinite value\(s\) \(first at index "
                     r"\(1,\)\), got \[1, nan\]; expected finite numbers$", id="nan-in-list"),
        pytest.param({"node_0": [1, np.inf], "output": [1]},
                     r"^weights\['node_0'\] contains 1 NaN or infinite value\(s\) \(first at index "
                     r"\(1,\)\), got \[1, inf\]; expected finite numbers$", id="inf-in-dict"),
        pytest.param({"node_0": [1, 2], "output": [float("nan")]},
                     r"^weights\['output'\] contains 1 NaN or infinite value\(s\)",
                     id="nan-in-output"),
        pytest.param([[1, 2], [3, 4]],
                     r"^layers\[0\] has 1 nodes, but layers\[1\] expects 2 inputs; each entry of "
                     r"the weights list is one layer .* so one matrix is written with an extra "
                     r"pair of brackets: \[\[\[1, 2\], \[3, 4\]\]\]$",
                     id="flat-lists-meant-as-one-matrix"),
        pytest.param([np.ones((2, 2, 2))], r"^weights\[0\] must be 1-D or 2-D and non-empty, got "
                     r"shape \(2, 2, 2\)$", id="3d-matrix"),
    ],
)
def test_from_weights_bad_values(weights, message):
    with pytest.raises(ValueError, match=message):
        Network.from_weights(weights)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        pytest.param({"activation": 5}, TypeError,
                     r"^activation must be a name like 'relu', an Activation object, or a list "
                     r"with one per layer, got 5 \(int\)$", id="activation-5"),
        pytest.param({"activation": ["relu"]}, ValueError,
                     r"^activation has 1 entries, but the network has 2 layers; got \['relu'\], "
                     r"expected one activation for all layers or one per layer$",
                     id="too-few-activations"),
        pytest.param({"activation": ["relu", "relu", "relu"]}, ValueError,
                     r"^activation has 3 entries, but the network has 2 layers",
                     id="too-many-activations"),
        pytest.param({"activation": ["relu", 5]}, TypeError,
                     r"^activation\[1\] must be a name like 'relu' or an Activation object, got 5 "
                     r"\(int\)$", id="activation-list-with-5"),
        pytest.param({"activation": "swish"}, ValueError,
                     r"^unknown activation 'swish'; valid names are: identity, relu, leaky_relu, "
                     r"sigmoid, tanh, softmax$", id="activation-unknown-name"),
        pytest.param({"biases": 5}, ValueError,
                     r"^biases must be a list with one bias vector \(or None\) per layer, got 5$",
                     id="biases-scalar"),
        pytest.param({"biases": [[1, 2, 3], None]}, ValueError,
                     r"^biases\[0\] has 3 values, but layer 0 has 2 nodes; expected one bias per "
                     r"node$", id="biases-wrong-size"),
        pytest.param({"biases": ["ab", None]}, ValueError,
                     r"^biases\[0\] must hold numbers, got 'ab'$", id="biases-string"),
        pytest.param({"biases": [[1, np.nan], None]}, ValueError,
                     r"^biases\[0\] contains 1 NaN or infinite value\(s\)", id="biases-nan"),
        pytest.param({"biases": [None]}, ValueError,
                     r"^biases has 1 entries, but there are 2 layers$", id="biases-count"),
        pytest.param({"dtype": None}, ValueError,
                     r"^dtype must be float32 or float64, got None$", id="dtype-none"),
    ],
)
def test_from_weights_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        Network.from_weights([np.ones((2, 2)), np.ones((2, 1))], **kwargs)


# --------------------------------------------------------------------------- fit arguments
def test_fit_one_callback_instead_of_a_list():
    fit_refuses(small_net(), TypeError,
                r"^callbacks must be a list of Callback objects, got one EarlyStopping; "
                r"write callbacks=\[EarlyStopping\(\.\.\.\)\]$", callbacks=EarlyStopping())


@pytest.mark.parametrize(
    ("callbacks", "message"),
    [
        pytest.param(EarlyStopping,
                     r"^callbacks must be a list of Callback objects, got the class EarlyStopping; "
                     r"write callbacks=\[EarlyStopping\(\)\]$", id="the-class"),
        pytest.param([EarlyStopping],
                     r"^callbacks must be Callback objects, got the class EarlyStopping at "
                     r"callbacks\[0\]; write EarlyStopping\(\) to make one$", id="list-of-class"),
        pytest.param([print],
                     r"^callbacks must be Callback objects, got <built-in function print> "
                     r"\(builtin_function_or_method\) at callbacks\[0\]$", id="list-of-function"),
        pytest.param(5, r"^callbacks must be a list of Callback objects, got 5 \(int\)$",
                     id="int"),
        pytest.param("early", r"^callbacks must be a list of Callback objects, got 'early' "
                     r"\(str\)$", id="string"),
    ],
)
def test_fit_bad_callbacks(callbacks, message):
    fit_refuses(small_net(), TypeError, message, callbacks=callbacks)


def test_fit_metrics_as_a_string():
    fit_refuses(small_net(), TypeError,
                r"^metrics must be a list of names, got the string 'accuracy'; "
                r"write metrics=\['accuracy'\]$", metrics="accuracy")


def test_fit_metrics_bad():
    fit_refuses(small_net(), TypeError,
                r"^metrics must be a list of names \(accuracy, mse, mae\), got 5 \(int\)$",
                metrics=5)
    fit_refuses(small_net(), ValueError,
                r"^unknown metric 'acc'; valid names are: accuracy, mse, mae$", metrics=["acc"])


def test_fit_none_means_no_callbacks_and_no_metrics():
    history = small_net().fit(X4, Y4, callbacks=None, metrics=None, verbose=0)
    assert list(history.history) == ["loss", "lr"]


@pytest.mark.parametrize("verbose", ["1", 3, -1, None, 1.0, "yes"])
def test_fit_bad_verbose(verbose):
    fit_refuses(small_net(), ValueError,
                rf"^verbose must be 'auto', 0, 1 or 2, got {re_escape(repr(verbose))}$",
                verbose=verbose)


@pytest.mark.parametrize("shuffle", ["no", 0, 1, None, "False"])
def test_fit_shuffle_must_be_bool(shuffle):
    fit_refuses(small_net(), TypeError,
                rf"^shuffle must be True or False, got {re_escape(repr(shuffle))}$",
                shuffle=shuffle)


def test_fit_shuffle_accepts_numpy_bool():
    small_net().fit(X4, Y4, shuffle=np.bool_(False), verbose=0)


def test_fit_negative_seed():
    fit_refuses(small_net(), ValueError,
                r"^seed must be an int >= 0, a numpy Generator or None, got -1$", seed=-1)


@pytest.mark.parametrize("seed", [1.5, "1", True])
def test_fit_seed_of_wrong_type(seed):
    fit_refuses(small_net(), TypeError,
                rf"^seed must be an int, a numpy Generator or None, got {re_escape(repr(seed))}$",
                seed=seed)


@pytest.mark.parametrize(
    ("validation_data", "message"),
    [
        pytest.param((X4[:, :1], Y4), r"^X_val has 1 features, but the network expects 2$",
                     id="X_val-features"),
        pytest.param((X4, Y4[:2]), r"^y_val has 2 rows, but X_val has 4 samples$",
                     id="y_val-rows"),
        pytest.param((X4, np.ones((4, 3))),
                     r"^y_val has 3 outputs per sample, but the network has 1 outputs$",
                     id="y_val-outputs"),
        pytest.param((X4, [1.0, np.nan, 0.0, 1.0]),
                     r"^y_val contains 1 NaN or infinite value\(s\) \(first at index \(1,\)\)",
                     id="y_val-nan"),
        pytest.param((None, Y4), r"^X_val must be an array of numbers, got None$",
                     id="X_val-none"),
        pytest.param((X4, Y4, Y4, Y4),
                     r"^validation_data must be a pair \(X_val, y_val\) or a triple \(X_val, "
                     r"y_val, sample_weight_val\), got a tuple of 4$", id="four-items"),
        pytest.param([X4], r"^validation_data must be a pair .*, got a list of 1$",
                     id="one-item"),
        pytest.param(X4, r"^validation_data must be a pair .*, got ndarray$", id="X-only"),
    ],
)
def test_fit_bad_validation_data(validation_data, message):
    error = TypeError if validation_data[0] is None else ValueError
    fit_refuses(small_net(), error, message, validation_data=validation_data)


def test_fit_batch_size_larger_than_the_data_is_one_batch():
    batches = []

    class CountBatches(slopes.callbacks.Callback):
        def on_batch_end(self, batch, logs):
            batches.append(logs["size"])

    big, full = small_net(), small_net()
    h_big = big.fit(X4, Y4, batch_size=1000, epochs=3, shuffle=False, verbose=0,
                    callbacks=[CountBatches()])
    h_full = full.fit(X4, Y4, batch_size=None, epochs=3, shuffle=False, verbose=0)
    assert batches == [4, 4, 4]
    assert h_big.history["loss"] == h_full.history["loss"]
    for a, b in zip(big.parameters(), full.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        pytest.param({"learning_rate": "0.1"}, ValueError,
                     r"^learning_rate must be a number, got '0\.1'$", id="learning_rate-string"),
        pytest.param({"optimizer": "rmsprop"}, ValueError,
                     r"^unknown optimizer 'rmsprop'; valid names are: sgd, adam, adamw$",
                     id="optimizer-rmsprop"),
        pytest.param({"loss": "cross_entropy"}, ValueError,
                     r"^unknown loss 'cross_entropy'; valid names are: sse, mse, half_mse, mae, "
                     r"binary_crossentropy, categorical_crossentropy$", id="loss-cross_entropy"),
        pytest.param({"loss": MSE}, TypeError,
                     r"^loss must be a name or a Loss object, got the class MSE; "
                     r"write loss=MSE\(\)$", id="loss-class"),
        pytest.param({"loss": 5}, TypeError,
                     r"^loss must be a name or a Loss object, got 5 \(int\)$", id="loss-int"),
        pytest.param({"epochs": 1.5}, ValueError, r"^epochs must be an int >= 1, got 1\.5$",
                     id="epochs-float"),
        pytest.param({"batch_size": 0}, ValueError, r"^batch_size must be an int >= 1, got 0$",
                     id="batch_size-0"),
    ],
)
def test_fit_other_bad_arguments(kwargs, error, message):
    fit_refuses(small_net(), error, message, **kwargs)


# --------------------------------------------------------------------------------- X and y
@pytest.mark.parametrize(
    ("X", "error", "message"),
    [
        pytest.param(np.ones((3, 5)), ValueError, r"^X has 5 features, but the network expects 2$",
                     id="wrong-feature-count"),
        pytest.param(np.ones(5), ValueError,
                     r"^X is one sample of 5 features, but the network expects 2$",
                     id="one-sample-wrong-feature-count"),
        pytest.param([[1.0, np.nan]], ValueError,
                     r"^X contains 1 NaN or infinite value\(s\) \(first at index \(0, 1\)\); "
                     r"expected finite numbers$", id="nan"),
        pytest.param(None, TypeError, r"^X must be an array of numbers, got None$", id="none"),
        pytest.param([[1.0, 2.0], [3.0]], ValueError,
                     r"^X could not be read as a numeric array: its rows have different lengths, "
                     r"got \[\[1\.0, 2\.0\], \[3\.0\]\]; expected every row to hold the same "
                     r"number of values$", id="ragged"),
    ],
)
def test_predict_bad_X(X, error, message):
    with pytest.raises(error, match=message):
        small_net().predict(X)


def test_fit_X_with_nan():
    X = X4.copy()
    X[2, 1] = np.nan
    fit_refuses(small_net(), ValueError,
                r"^X contains 1 NaN or infinite value\(s\) \(first at index \(2, 1\)\)", X=X)


@pytest.mark.parametrize(
    ("y", "error", "message"),
    [
        pytest.param([1.0, np.nan, 0.0, 0.0], ValueError,
                     r"^y contains 1 NaN or infinite value\(s\) \(first at index \(1,\)\); "
                     r"expected finite numbers$", id="nan"),
        pytest.param([1.0, np.inf, 0.0, 0.0], ValueError,
                     r"^y contains 1 NaN or infinite value\(s\)", id="inf"),
        pytest.param(None, TypeError, r"^y must be an array of numbers, got None$", id="none"),
    ],
)
def test_fit_bad_y(y, error, message):
    fit_refuses(small_net(), error, message, y=y)


# ---------------------------------------------------------------------------------- Dense
def test_as_float_dtype_none():
    with pytest.raises(ValueError, match=r"^dtype must be float32 or float64, got None$"):
        as_float_dtype(None)
    with pytest.raises(ValueError, match=r"^dtype must be float32 or float64, got None$"):
        Dense(2, 1, dtype=None)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        pytest.param({"n_in": 2.5}, ValueError, r"^n_in must be a positive int, got 2\.5$",
                     id="n_in-2.5"),
        pytest.param({"activation": "swish"}, ValueError,
                     r"^unknown activation 'swish'; valid names are: identity, relu, leaky_relu, "
                     r"sigmoid, tanh, softmax$", id="activation-swish"),
        pytest.param({"activation": 5}, TypeError,
                     r"^activation must be a name \(identity, relu, leaky_relu, sigmoid, tanh, "
                     r"softmax\) or an Activation object, got 5 \(int\)$", id="activation-5"),
        pytest.param({"init": "bogus"}, ValueError,
                     r"^unknown init 'bogus'; valid names are: normal, glorot_uniform, he_normal$",
                     id="init-bogus"),
        pytest.param({"init": ["normal"]}, TypeError,
                     r"^init must be a name \(normal, glorot_uniform, he_normal\), got "
                     r"\['normal'\] \(list\)$", id="init-list"),
        pytest.param({"bias": "no"}, TypeError, r"^bias must be True or False, got 'no'$",
                     id="bias-string"),
        pytest.param({"seed": -1}, ValueError,
                     r"^seed must be an int >= 0, a numpy Generator or None, got -1$",
                     id="seed-negative"),
    ],
)
def test_dense_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        Dense(**{"n_in": 2, "n_out": 1, **kwargs})


# ---------------------------------------------------------------------------------- mlp
@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        pytest.param([[2]], {}, ValueError,
                     r"^sizes needs at least 2 entries \(inputs and outputs\), got \[2\]$",
                     id="one-size"),
        pytest.param([[2, 0, 1]], {}, ValueError,
                     r"^sizes\[1\] \(the size of hidden layer 0\) must be a positive int, got 0; "
                     r"sizes was \[2, 0, 1\]$", id="zero-size"),
        pytest.param([[2, 1]], {"bias": "no"}, TypeError,
                     r"^bias must be True or False, got 'no'$", id="bias-string"),
        pytest.param([[2, 1]], {"dtype": None}, ValueError,
                     r"^dtype must be float32 or float64, got None$", id="dtype-none"),
        pytest.param([[2, 3, 1]], {"activation": "swish"}, ValueError,
                     r"^unknown activation 'swish'", id="activation-swish"),
    ],
)
def test_mlp_bad_arguments(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        Network.mlp(*args, **kwargs)


# --------------------------------------------------------------------------------- losses
BCE_RANGE = r"^binary_crossentropy needs targets between 0 and 1, got values from {} to {}$"


@pytest.mark.parametrize(
    ("y", "low", "high"),
    [([1.0, 2.0, 0.0, 0.0], "0", "2"), ([1.0, -1.0, 0.0, 1.0], "-1", "1"),
     ([2.0, -1.0, 0.5, 1.0], "-1", "2")],
)
@pytest.mark.parametrize("entry", ["fit", "trace", "evaluate", "check_gradients"])
def test_binary_crossentropy_refuses_targets_outside_0_1(entry, y, low, high):
    net = small_net(output="sigmoid")
    call = {
        "fit": lambda: net.fit(X4, y, loss="binary_crossentropy", verbose=0),
        "trace": lambda: net.trace(X4, y, loss="binary_crossentropy"),
        "evaluate": lambda: net.evaluate(X4, y, loss="binary_crossentropy"),
        "check_gradients": lambda: slopes.check_gradients(net, X4, y,
                                                          loss="binary_crossentropy"),
    }[entry]
    with pytest.raises(ValueError, match=BCE_RANGE.format(low, high)):
        call()


def test_binary_crossentropy_refuses_validation_targets_outside_0_1():
    fit_refuses(small_net(output="sigmoid"), ValueError, BCE_RANGE.format("0", "3"),
                loss="binary_crossentropy", validation_data=(X4, [0.0, 3.0, 1.0, 0.0]))


def test_binary_crossentropy_accepts_soft_targets():
    small_net(output="sigmoid").fit(X4, [0.0, 0.1, 0.9, 1.0], loss="binary_crossentropy",
                                    verbose=0)


@pytest.mark.parametrize(
    ("y", "message"),
    [
        pytest.param([[1, 1], [0, 1], [1, 0], [0, 1]],
                     r"^categorical_crossentropy needs each target row to sum to 1 \(one-hot or "
                     r"probabilities\), but row 0 sums to 2; for class labels pass a 1-D y of "
                     r"integers$", id="row-sums-to-2"),
        pytest.param([[1, 0], [0, 0], [1, 0], [0, 1]],
                     r"needs each target row to sum to 1 .*, but row 1 sums to 0;",
                     id="row-of-zeros"),
        pytest.param([[1, 0], [0, 1], [0.3, 0.3], [0, 1]],
                     r"needs each target row to sum to 1 .*, but row 2 sums to 0\.6;",
                     id="probabilities-not-summing-to-1"),
        pytest.param([[1.5, -0.5], [0, 1], [1, 0], [0, 1]],
                     r"^categorical_crossentropy needs targets >= 0 \(one-hot rows or "
                     r"probabilities\), but row 0 holds -0\.5$", id="negative"),
    ],
)
@pytest.mark.parametrize("entry", ["fit", "trace", "evaluate"])
def test_categorical_crossentropy_refuses_bad_target_rows(entry, y, message):
    net = small_net(output="softmax", n_out=2)
    y = np.array(y, dtype=float)
    call = {
        "fit": lambda: net.fit(X4, y, loss="categorical_crossentropy", verbose=0),
        "trace": lambda: net.trace(X4, y, loss="categorical_crossentropy"),
        "evaluate": lambda: net.evaluate(X4, y, loss="categorical_crossentropy"),
    }[entry]
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_categorical_crossentropy_accepts_probability_rows(dtype):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4, 3)).astype(dtype)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    net = Network.mlp([2, 3, 3], output="softmax", seed=0, dtype=dtype)
    net.fit(X4, probabilities, loss="categorical_crossentropy", verbose=0)
    net.fit(X4, [0, 2, 1, 0], loss="categorical_crossentropy", verbose=0)  # class labels


def test_class_label_fraction_inside_the_range_is_named():
    net = small_net(output="softmax", n_out=3)
    with pytest.raises(ValueError, match=r"^y holds class labels, so it must hold integers from 0 "
                       r"to 2, got values from 0 to 2, among them 0\.5 at index 2, which is not "
                       r"an integer$"):
        net.fit(X4, [0, 2, 0.5, 1], loss="categorical_crossentropy", verbose=0)


def test_check_actual_is_a_no_op_for_other_losses():
    y = np.array([[-5.0], [7.0]])
    for name in ("mse", "sse", "half_mse", "mae"):
        get_loss(name).check_actual(y)
    with pytest.raises(ValueError, match="binary_crossentropy needs targets between 0 and 1"):
        BinaryCrossentropy().check_actual(y)
    with pytest.raises(ValueError, match="categorical_crossentropy needs targets >= 0"):
        CategoricalCrossentropy().check_actual(y)


def test_targets_are_checked_once_per_fit_not_per_batch():
    calls = []

    class CountingBCE(BinaryCrossentropy):
        def check_actual(self, actual):
            calls.append(actual.shape)
            super().check_actual(actual)

    net = small_net(output="sigmoid")
    net.fit(X4, Y4, loss=CountingBCE(), batch_size=1, epochs=3, verbose=0)
    assert calls == [(4, 1)]
    calls.clear()
    net.fit(X4, Y4, loss=CountingBCE(), batch_size=1, epochs=2, verbose=0,
            validation_data=(X4[:2], Y4[:2]))
    assert calls == [(4, 1), (2, 1)]  # y, then y_val


def re_escape(text: str) -> str:
    import re

    return re.escape(text)


# ------------------------------------------- messages found while writing docs/reliability.md
@pytest.mark.parametrize("make", [
    pytest.param(lambda: Network.mlp([2, 3, 1], seed=-1), id="mlp"),
    pytest.param(lambda: Dense(2, 1, seed=-1), id="Dense"),
    pytest.param(lambda: slopes.initializers.make_rng(-1), id="make_rng"),
])
def test_negative_seed_is_named_not_numpys_words(make):
    with pytest.raises(ValueError, match=r"^seed must be an int >= 0, a numpy Generator or None, "
                                         r"got -1$"):
        make()


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        pytest.param(5, r"^sizes must be a list of layer sizes, inputs first, like \[2, 3, 1\], "
                        r"got 5 \(int\)$", id="int"),
        pytest.param("2,3,1", r"^sizes must be a list of layer sizes, .*, got '2,3,1' \(str\)$",
                     id="string"),
        pytest.param(None, r"^sizes must be a list of layer sizes, .*, got None \(NoneType\)$",
                     id="none"),
    ],
)
def test_mlp_sizes_not_a_list(sizes, message):
    with pytest.raises(TypeError, match=message):
        Network.mlp(sizes)


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        pytest.param([0, 1], r"^sizes\[0\] \(the number of inputs\) must be a positive int, "
                             r"got 0; sizes was \[0, 1\]$", id="no-inputs"),
        pytest.param([2, 3, 0], r"^sizes\[2\] \(the number of outputs\) must be a positive int, "
                                r"got 0", id="no-outputs"),
        pytest.param([2, 4, -3, 1], r"^sizes\[2\] \(the size of hidden layer 1\) must be a "
                                    r"positive int, got -3", id="negative-hidden"),
        pytest.param([2, 2.5, 1], r"^sizes\[1\] \(the size of hidden layer 0\) must be a "
                                  r"positive int, got 2\.5", id="fraction"),
        pytest.param([2, True, 1], r"^sizes\[1\] .* got True", id="bool"),
    ],
)
def test_mlp_bad_size_names_the_layer(sizes, message):
    with pytest.raises(ValueError, match=message):
        Network.mlp(sizes)


def test_mlp_numpy_sizes_accepted():
    assert Network.mlp(np.array([2, 3, 1]), seed=0).sizes == [2, 3, 1]


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        pytest.param(Dense(2, 1), r"^layers must be a list of Dense layers, got one Dense; "
                                  r"write Network\(\[Dense\(\.\.\.\)\]\)$", id="one-Dense"),
        pytest.param(Dense, r"^layers must be a list of Dense layers, got the class Dense; "
                            r"write Network\(\[Dense\(n_in, n_out\)\]\)$", id="the-class"),
        pytest.param([Dense], r"^layers\[0\] must be a Dense layer, got the class Dense; "
                              r"write Dense\(n_in, n_out\) to make one$", id="list-of-class"),
        pytest.param(None, r"^layers must be a list of Dense layers, got None \(NoneType\)$",
                     id="none"),
        pytest.param(3, r"^layers must be a list of Dense layers, got 3 \(int\)$", id="int"),
    ],
)
def test_network_layers_not_a_list(layers, message):
    with pytest.raises(TypeError, match=message):
        Network(layers)


@pytest.mark.parametrize(
    ("optimizer", "message"),
    [
        pytest.param(slopes.optimizers.SGD,
                     r"^optimizer must be a name or an Optimizer object, got the class SGD; "
                     r"write optimizer=SGD\(\) or optimizer='sgd'$", id="SGD-class"),
        pytest.param(slopes.optimizers.Adam,
                     r"^optimizer must be a name or an Optimizer object, got the class Adam; "
                     r"write optimizer=Adam\(\) or optimizer='adam'$", id="Adam-class"),
        pytest.param(5, r"^optimizer must be a name \(sgd, adam, adamw\) or an Optimizer "
                        r"object, got 5 \(int\)$", id="int"),
        pytest.param(["sgd"], r"^optimizer must be a name \(sgd, adam, adamw\) or an Optimizer "
                              r"object, got \['sgd'\] \(list\)$", id="list"),
    ],
)
def test_fit_optimizer_class_or_other_type(optimizer, message):
    fit_refuses(small_net(), TypeError, message, optimizer=optimizer)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_finite_inputs_are_accepted_without_a_numpy_warning(dtype):
    # 1e200 squared overflows the one-pass finiteness check; the numbers are finite, so no
    # RuntimeWarning may reach the user (slopes train printed two for a held-out 1e200).
    import warnings

    from slopes.validation import check_X

    big = 1e200 if dtype == np.float64 else 1e30
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        arr, _ = check_X([[big, -big], [1.0, 2.0]], 2, np.dtype(dtype))
    assert arr[0, 0] == dtype(big)
    with pytest.raises(ValueError, match=r"^X contains 1 NaN or infinite value\(s\) \(first at "
                                         r"index \(0, 1\)\)"):
        check_X([[big, np.inf]], 2, np.dtype(dtype))


def test_a_huge_finite_validation_row_is_scored_without_a_numpy_warning():
    # What `slopes train` meets when a 1e200 row is drawn for validation: the training rows'
    # scale makes it about 8.6e197 standard deviations, finite, and fit must stay quiet.
    import warnings

    net = small_net(output="sigmoid")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = net.fit(X4, Y4, loss="binary_crossentropy", epochs=2, verbose=0,
                          validation_data=([[8.6e197, 0.0]], [1.0]))
    assert np.isfinite(history.history["val_loss"]).all()
