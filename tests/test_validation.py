"""Bad input: every case checks the words of the error, through the public entry points."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import slopes
from slopes import Dense, Network
from slopes.validation import check_positive, check_positive_int, check_X, check_y


@pytest.fixture
def net() -> Network:
    """2 inputs, 1 output."""
    return Network.mlp([2, 3, 1], activation="relu", seed=0)


@pytest.fixture
def net3() -> Network:
    """2 inputs, 3 softmax outputs."""
    return Network.mlp([2, 4, 3], activation="tanh", output="softmax", seed=0)


X2 = np.array([[0.0, 1.0], [2.0, 3.0]])
Y2 = np.array([1.0, 2.0])


def entry_points(net: Network):
    """Call every public entry point that takes X (and y) with the given data."""
    return {
        "predict": lambda X, y: net.predict(X),
        "trace": lambda X, y: net.trace(X, y),
        "evaluate": lambda X, y: net.evaluate(X, y),
        "fit": lambda X, y: net.fit(X, y, verbose=0),
        "check_gradients": lambda X, y: slopes.check_gradients(net, X, y),
    }


ENTRY = ["predict", "trace", "evaluate", "fit", "check_gradients"]
WITH_Y = ["trace", "evaluate", "fit", "check_gradients"]


# ----------------------------------------------------------------------------------- X
@pytest.mark.parametrize("entry", ENTRY)
def test_X_wrong_number_of_features(net, entry):
    X = np.ones((2, 3))
    with pytest.raises(ValueError, match="^X has 3 features, but the network expects 2$"):
        entry_points(net)[entry](X, Y2)


@pytest.mark.parametrize("entry", ENTRY)
def test_X_1d_wrong_length(net, entry):
    with pytest.raises(
        ValueError, match="^X is one sample of 3 features, but the network expects 2$"
    ):
        entry_points(net)[entry](np.ones(3), [1.0])


def test_X_1d_wrong_length_hints_reshape_for_one_feature():
    net1 = Network.mlp([1, 1], seed=0)
    with pytest.raises(
        ValueError,
        match=r"X is one sample of 5 features, but the network expects 1; "
        r"for 5 samples of one feature pass X\.reshape\(-1, 1\)",
    ):
        net1.predict(np.arange(5.0))


@pytest.mark.parametrize("entry", ENTRY)
def test_X_3d(net, entry):
    message = r"^X must be 1-D or 2-D, got an array of shape \(2, 2, 1\)$"
    with pytest.raises(ValueError, match=message):
        entry_points(net)[entry](np.ones((2, 2, 1)), Y2)


def test_X_scalar(net):
    with pytest.raises(
        ValueError, match="X is a single number, but the network expects samples of 2 features"
    ):
        net.predict(3.0)


@pytest.mark.parametrize("entry", ENTRY)
def test_X_empty(net, entry):
    with pytest.raises(ValueError, match="^X has 0 samples; expected at least one$"):
        entry_points(net)[entry](np.empty((0, 2)), np.empty(0))


def test_X_empty_list(net):
    message = "^X has 0 samples; expected at least one$"
    with pytest.raises(ValueError, match=message):
        net.predict([])


@pytest.mark.parametrize("entry", ENTRY)
def test_X_strings(net, entry):
    X = np.array([["a", "b"], ["c", "d"]])
    with pytest.raises(TypeError, match=r"^X must contain numbers only, got text "):
        entry_points(net)[entry](X, Y2)


def test_X_strings_message_shows_the_value_plainly(net):
    # The offending value is shown as the user wrote it, 'a', not as np.str_('a').
    X = np.array([["a", "b"], ["c", "d"]])
    with pytest.raises(
        TypeError,
        match=r"^X must contain numbers only, got text \('a' is not a number\)$",
    ):
        net.predict(X)


def test_X_mixed_object_list(net):
    with pytest.raises(TypeError, match=r"^X must contain numbers only, got text \('x' is not a "
                                        r"number\)$"):
        net.predict([[1.0, "x"]])


def test_X_complex(net):
    message = "^X must contain real numbers, got complex dtype complex128$"
    with pytest.raises(TypeError, match=message):
        net.predict(np.array([[1 + 1j, 2.0]]))


def test_X_datetime(net):
    X = np.array([["2020-01-01", "2020-01-02"]], dtype="datetime64[D]")
    with pytest.raises(TypeError, match=r"X must contain numbers, got dtype datetime64\[D\]"):
        net.predict(X)


@pytest.mark.parametrize("entry", ENTRY)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_X_nan_inf(net, entry, bad):
    X = np.array([[0.0, 1.0], [2.0, bad]])
    with pytest.raises(
        ValueError,
        match=r"^X contains 1 NaN or infinite value\(s\) \(first at index \(1, 1\)\); "
        r"expected finite numbers$",
    ):
        entry_points(net)[entry](X, Y2)


def test_X_counts_all_non_finite(net):
    X = np.array([[np.nan, 1.0], [np.inf, np.nan]])
    with pytest.raises(ValueError, match=r"X contains 3 NaN .*first at index \(0, 0\)"):
        net.predict(X)


@pytest.mark.parametrize("X", [[[1.0, 2.0], [3.0]], [[1.0, 2.0], [3.0, [4.0, 5.0]]]])
@pytest.mark.parametrize("entry", ENTRY)
def test_X_ragged(net, entry, X):
    with pytest.raises(ValueError, match="^X could not be read as a numeric array: "):
        entry_points(net)[entry](X, Y2)


# ----------------------------------------------------------------------------------- y
@pytest.mark.parametrize("entry", WITH_Y)
def test_y_wrong_number_of_rows(net, entry):
    with pytest.raises(ValueError, match="^y has 3 rows, but X has 2 samples$"):
        entry_points(net)[entry](X2, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="^y has 1 rows, but X has 2 samples$"):
        entry_points(net)[entry](X2, [[1.0]])


@pytest.mark.parametrize("entry", WITH_Y)
def test_y_wrong_number_of_outputs(net, entry):
    with pytest.raises(
        ValueError, match="^y has 2 outputs per sample, but the network has 1 outputs$"
    ):
        entry_points(net)[entry](X2, np.ones((2, 2)))


def test_y_1d_for_several_outputs(net3):
    X = np.ones((2, 2))
    with pytest.raises(
        ValueError,
        match=r"y is 1-D with 2 values, but the network has 3 outputs; "
        r"expected y of shape \(2, 3\)",
    ):
        net3.trace(X, [0.5, 0.5], loss="mse")


def test_y_3d(net):
    message = r"^y must be 1-D or 2-D, got an array of shape \(2, 1, 1\)$"
    with pytest.raises(ValueError, match=message):
        net.trace(X2, np.ones((2, 1, 1)))


@pytest.mark.parametrize("entry", WITH_Y)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_y_nan_inf(net, entry, bad):
    with pytest.raises(
        ValueError,
        match=r"^y contains 1 NaN or infinite value\(s\) \(first at index \(1,\)\); "
        r"expected finite numbers$",
    ):
        entry_points(net)[entry](X2, [1.0, bad])


def test_y_strings(net):
    with pytest.raises(TypeError, match=r"y must contain numbers only, .*'yes' is not a number"):
        net.trace(X2, ["yes", "no"])


def test_y_ragged(net):
    with pytest.raises(ValueError, match="y could not be read as a numeric array"):
        net.trace(X2, [[1.0], [2.0, 3.0]])


def test_y_scalar_for_one_sample(net):
    t = net.trace([1.0, 2.0], 3.0, loss="sse")
    assert t.actual.shape == (1, 1)


# ------------------------------------------------------------------ activation and loss
def test_unknown_activation():
    message = ("unknown activation 'sigmod'; valid names are: identity, relu, leaky_relu, "
               "sigmoid, tanh, softmax")
    with pytest.raises(ValueError, match=message):
        Network.mlp([2, 3, 1], activation="sigmod")
    with pytest.raises(ValueError, match=message):
        Network.from_weights([[1.0, 2.0]], activation="sigmod")
    with pytest.raises(ValueError, match=message):
        Dense(2, 1, activation="sigmod")


@pytest.mark.parametrize("entry", ["trace", "evaluate", "fit", "check_gradients"])
def test_unknown_loss(net, entry):
    call = {
        "trace": lambda: net.trace(X2, Y2, loss="rmse"),
        "evaluate": lambda: net.evaluate(X2, Y2, loss="rmse"),
        "fit": lambda: net.fit(X2, Y2, loss="rmse"),
        "check_gradients": lambda: slopes.check_gradients(net, X2, Y2, loss="rmse"),
    }[entry]
    with pytest.raises(
        ValueError,
        match="unknown loss 'rmse'; valid names are: sse, mse, half_mse, mae, "
        "binary_crossentropy, categorical_crossentropy",
    ):
        call()


@pytest.mark.parametrize("entry", ["trace", "evaluate", "fit", "check_gradients"])
def test_binary_crossentropy_needs_sigmoid_output(net, entry):
    call = {
        "trace": lambda: net.trace(X2, [0, 1], loss="binary_crossentropy"),
        "evaluate": lambda: net.evaluate(X2, [0, 1], loss="binary_crossentropy"),
        "fit": lambda: net.fit(X2, [0, 1], loss="binary_crossentropy"),
        "check_gradients": lambda: slopes.check_gradients(net, X2, [0, 1],
                                                          loss="binary_crossentropy"),
    }[entry]
    with pytest.raises(
        ValueError,
        match="^loss 'binary_crossentropy' needs a sigmoid output layer, but the output layer "
        "uses 'identity'$",
    ):
        call()


def test_categorical_crossentropy_needs_softmax_output():
    net = Network.mlp([2, 3], output="sigmoid", seed=0)
    with pytest.raises(
        ValueError,
        match="loss 'categorical_crossentropy' needs a softmax output layer, but the output "
        "layer uses 'sigmoid'",
    ):
        net.trace(X2, [0, 2], loss="categorical_crossentropy")


@pytest.mark.parametrize(
    ("labels", "low", "high"), [([0, 3], "0", "3"), ([-1, 1], "-1", "1"), ([0.5, 1], "0.5", "1")]
)
def test_class_labels_out_of_range(net3, labels, low, high):
    with pytest.raises(
        ValueError,
        match=f"^y holds class labels, so it must hold integers from 0 to 2, "
        f"got values from {low} to {high}$",
    ):
        net3.trace(X2, labels, loss="categorical_crossentropy")
    with pytest.raises(ValueError, match="y holds class labels"):
        net3.fit(X2, labels, loss="categorical_crossentropy")


def test_class_labels_are_one_hot_encoded(net3):
    t = net3.trace(np.ones((3, 2)), [2, 0, 1], loss="categorical_crossentropy")
    np.testing.assert_array_equal(t.actual, [[0, 0, 1], [1, 0, 0], [0, 1, 0]])


# ------------------------------------------------------------------------ fit arguments
@pytest.mark.parametrize(("value", "shown"), [(0, "0"), (-0.1, r"-0\.1"), (-5, "-5")])
def test_learning_rate_must_be_positive(net, value, shown):
    before = net.layers[0].weights.copy()
    with pytest.raises(ValueError, match=f"^learning_rate must be > 0, got {shown}$"):
        net.fit(X2, Y2, learning_rate=value)
    np.testing.assert_array_equal(net.layers[0].weights, before)


@pytest.mark.parametrize(
    ("value", "shown"), [("0.1", r"'0\.1'"), (True, "True"), (float("nan"), "nan"), ([1], r"\[1\]")]
)
def test_learning_rate_must_be_a_number(net, value, shown):
    with pytest.raises(ValueError, match=f"^learning_rate must be a number, got {shown}$"):
        net.fit(X2, Y2, learning_rate=value)


def test_learning_rate_infinite(net):
    # inf passes "> 0", so the message must say what is wrong with it: not finite.
    with pytest.raises(ValueError, match=r"^learning_rate must be .*finite.*, got inf$"):
        net.fit(X2, Y2, learning_rate=float("inf"))


@pytest.mark.parametrize(("value", "shown"), [(0, "0"), (2.5, "2.5"), (-1, "-1"), ("3", "'3'")])
def test_epochs_must_be_positive_int(net, value, shown):
    with pytest.raises(ValueError, match=f"^epochs must be an int >= 1, got {shown}$"):
        net.fit(X2, Y2, epochs=value)


@pytest.mark.parametrize(("value", "shown"), [(0, "0"), (1.5, "1.5"), (-2, "-2")])
def test_batch_size_must_be_positive_int(net, value, shown):
    with pytest.raises(ValueError, match=f"^batch_size must be an int >= 1, got {shown}$"):
        net.fit(X2, Y2, batch_size=value)


def test_numpy_scalars_accepted(net):
    history = net.fit(X2, Y2, learning_rate=np.float32(0.01), epochs=np.int64(2),
                      batch_size=np.int32(1), verbose=0)
    assert len(history["loss"]) == 2


def test_check_gradients_eps_and_floor(net):
    with pytest.raises(ValueError, match="^eps must be > 0, got 0$"):
        slopes.check_gradients(net, X2, Y2, eps=0)
    with pytest.raises(ValueError, match=r"^floor must be > 0, got -1\.0$"):
        slopes.check_gradients(net, X2, Y2, floor=-1.0)


def test_validation_helpers_directly():
    assert check_positive("x", 2) == 2.0
    assert check_positive_int("n", 3) == 3
    arr, single = check_X([1, 2], 2, np.dtype(np.float32))
    assert single and arr.shape == (1, 2) and arr.dtype == np.float32
    y = check_y([1, 0], 2, 1, np.dtype(np.float64))
    assert y.shape == (2, 1)


# ------------------------------------------------------------------------------- pandas
def test_pandas_dataframe_and_series_accepted(net):
    df = pd.DataFrame({"gre": [0.0, 2.0, 1.0], "gpa": [1.0, 3.0, -1.0]})
    y = pd.Series([1.0, 2.0, 0.5], name="admit")
    expected = net.predict(df.to_numpy())
    np.testing.assert_array_equal(net.predict(df), expected)
    t = net.trace(df, y, loss="mse")
    np.testing.assert_array_equal(t.node_values[0], df.to_numpy())
    np.testing.assert_array_equal(t.actual, [[1.0], [2.0], [0.5]])
    assert net.evaluate(df, y.to_frame()) == pytest.approx(t.loss)
    net.fit(df, y, epochs=2, verbose=0)
    result = slopes.check_gradients(net, df, y)
    assert result.max_error < 1e-6


def test_pandas_integer_and_object_columns(net):
    df = pd.DataFrame({"a": [1, 2], "b": pd.Series([0.5, 1.5], dtype=object)})
    np.testing.assert_allclose(net.predict(df), net.predict([[1.0, 0.5], [2.0, 1.5]]))


def test_pandas_non_numeric_column(net):
    df = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    with pytest.raises(TypeError, match=r"X must contain numbers only, .*'x' is not a number"):
        net.predict(df)


def test_pandas_dataframe_wrong_columns(net):
    df = pd.DataFrame({"a": [1.0], "b": [2.0], "c": [3.0]})
    with pytest.raises(ValueError, match="^X has 3 features, but the network expects 2$"):
        net.predict(df)
