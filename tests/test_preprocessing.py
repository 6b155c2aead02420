"""TabularPreprocessor: standardizing, one-hot encoding, targets, missing values, JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from slopes.columns import MISSING_CATEGORY, guess_task
from slopes.preprocessing import TabularPreprocessor

pd = pytest.importorskip("pandas")


@pytest.fixture
def frame():
    return pd.DataFrame({
        "gre": [380.0, 660.0, 800.0, 640.0],
        "const": [5, 5, 5, 5],
        "color": ["red", "blue", "red", "green"],
        "rank": [3, 1, 4, 3],
        "admit": [0, 1, 1, 0],
    })


def test_numeric_standardized_and_constant_column_kept(frame):
    prep = TabularPreprocessor(target="admit").fit(frame)
    X = prep.transform(frame)
    names = prep.feature_names
    gre = X[:, names.index("gre")]
    assert gre.mean() == pytest.approx(0) and gre.std() == pytest.approx(1)
    # A constant column has scale 1: all zeros, no division by zero.
    assert prep.numeric["const"]["scale"] == 1.0
    assert np.all(X[:, names.index("const")] == 0)
    assert np.isfinite(X).all()


def test_text_and_chosen_integer_columns_are_one_hot(frame):
    prep = TabularPreprocessor(target="admit", categorical=["rank"]).fit(frame)
    assert prep.feature_names == ["gre", "const", "color=blue", "color=green", "color=red",
                                  "rank=1", "rank=3", "rank=4"]
    X = prep.transform(frame)
    assert X.shape == (4, 8)
    assert X[:, 2:5].sum(axis=1).tolist() == [1, 1, 1, 1]
    assert X[1, prep.feature_names.index("rank=1")] == 1


def test_classification_target_label_encoded(frame):
    frame["admit"] = ["no", "yes", "yes", "no"]
    prep = TabularPreprocessor(target="admit").fit(frame)
    assert prep.task == "classify"
    assert prep.classes == ["no", "yes"]
    assert prep.transform_target(frame["admit"]).tolist() == [0, 1, 1, 0]


def test_regression_target_standardized_and_inverted(frame):
    frame["price"] = [1.5, 2.5, 3.25, 10.0]
    prep = TabularPreprocessor(target="price", standardize_target=True).fit(frame)
    assert prep.task == "regress"
    y = prep.transform_target(frame["price"])
    assert y.mean() == pytest.approx(0)
    assert prep.inverse_target(y) == pytest.approx(frame["price"].to_numpy())


def test_guess_task():
    assert guess_task(pd.Series([0, 1, 1, 0])) == "classify"
    assert guess_task(pd.Series(["a", "b"])) == "classify"
    assert guess_task(pd.Series([0.5, 1.25, 3.0])) == "regress"
    assert guess_task(pd.Series(range(100))) == "regress"


def test_missing_values_are_an_error_naming_columns_and_rows(frame):
    frame.loc[1, "gre"] = np.nan
    frame.loc[[1, 2], "color"] = None
    with pytest.raises(ValueError, match=r"missing values in 2 row\(s\).*'gre' \(1 row\), "
                                         r"'color' \(2 rows\)"):
        TabularPreprocessor(target="admit").fit(frame)


def test_fill_missing_uses_mean_and_own_category(frame):
    frame.loc[1, "gre"] = np.nan
    frame.loc[2, "color"] = None
    prep = TabularPreprocessor(target="admit", fill_missing=True).fit(frame)
    assert MISSING_CATEGORY in prep.categories["color"]
    X = prep.transform(frame)
    assert X[1, prep.feature_names.index("gre")] == pytest.approx(0)  # the mean
    assert X[2, prep.feature_names.index(f"color={MISSING_CATEGORY}")] == 1


def test_transform_names_missing_and_extra_columns(frame):
    prep = TabularPreprocessor(target="admit").fit(frame)
    bad = frame.drop(columns="gre").assign(extra=1)
    with pytest.raises(ValueError, match=r"missing column\(s\) 'gre' and unexpected "
                                         r"column\(s\) 'extra'"):
        prep.transform(bad)
    # The target may be absent at prediction time.
    assert prep.transform(frame.drop(columns="admit")).shape == (4, prep.n_features)


def test_transform_names_unseen_category_with_row(frame):
    prep = TabularPreprocessor(target="admit").fit(frame)
    frame.loc[2, "color"] = "purple"
    with pytest.raises(ValueError, match=r"column 'color' row 2: category 'purple' was never "
                                         r"seen in training; known categories: blue, green, "
                                         r"red"):
        prep.transform(frame)


def test_transform_names_string_in_numeric_column_with_row(frame):
    prep = TabularPreprocessor(target="admit").fit(frame)
    frame["gre"] = frame["gre"].astype(object)
    frame.loc[3, "gre"] = "abc"
    with pytest.raises(ValueError, match=r"column 'gre' row 3: expected a number, got 'abc'"):
        prep.transform(frame)


def test_unknown_target_and_categorical_columns(frame):
    with pytest.raises(ValueError, match="target column 'nope' is not in the data"):
        TabularPreprocessor(target="nope").fit(frame)
    with pytest.raises(ValueError, match=r"categorical column\(s\) 'zzz' not in the data"):
        TabularPreprocessor(target="admit", categorical=["zzz"]).fit(frame)


def test_one_class_target_is_an_error(frame):
    frame["admit"] = 1
    with pytest.raises(ValueError, match="has 1 class"):
        TabularPreprocessor(target="admit", task="classify").fit(frame)


def test_json_round_trip_gives_identical_transform(frame):
    prep = TabularPreprocessor(target="admit", categorical=["rank"]).fit(frame)
    params = json.loads(json.dumps(prep.to_dict()))
    again = TabularPreprocessor.from_dict(params)
    assert np.array_equal(again.transform(frame), prep.transform(frame))
    assert again.classes == [0, 1]
    assert again.to_dict() == prep.to_dict()


def test_from_dict_rejects_malformed_parameters(frame):
    params = TabularPreprocessor(target="admit").fit(frame).to_dict()
    del params["columns"]
    with pytest.raises(ValueError, match="incomplete or malformed"):
        TabularPreprocessor.from_dict(params)
    with pytest.raises(ValueError, match="type 'TabularPreprocessor'"):
        TabularPreprocessor.from_dict({"type": "pickle"})


def test_not_fitted():
    with pytest.raises(ValueError, match="not fitted yet"):
        TabularPreprocessor().transform(pd.DataFrame({"a": [1]}))
