"""The admissions data and its course-style preparation."""

from __future__ import annotations

import numpy as np
import pytest

from slopes.datasets import load_admissions, prepare_admissions

pytest.importorskip("pandas")


def test_load_admissions():
    data = load_admissions()
    assert list(data.columns) == ["admit", "gre", "gpa", "rank"]
    assert len(data) == 400
    assert set(data["admit"]) == {0, 1}
    assert set(data["rank"]) == {1, 2, 3, 4}
    # Always predicting "not admitted" is right for 68% of the rows: the base rate.
    assert (data["admit"] == 0).mean() == pytest.approx(0.6825)


def test_prepare_admissions_as_the_course_does():
    split = prepare_admissions()
    assert split.feature_names == ["gre", "gpa", "rank_1", "rank_2", "rank_3", "rank_4"]
    assert split.features.shape == (360, 6) and split.features_test.shape == (40, 6)
    assert split.targets.shape == (360,) and split.targets_test.shape == (40,)
    both = np.vstack([split.features, split.features_test])
    # gre and gpa standardized over all 400 rows (pandas std, ddof=1), rank one-hot.
    assert both[:, :2].mean(axis=0) == pytest.approx([0, 0], abs=1e-12)
    assert both[:, :2].std(axis=0, ddof=1) == pytest.approx([1, 1])
    assert np.all(both[:, 2:].sum(axis=1) == 1)


def test_split_is_seeded():
    a, b = prepare_admissions(seed=5), prepare_admissions(seed=5)
    assert np.array_equal(a.features_test, b.features_test)
    assert not np.array_equal(a.features_test, prepare_admissions(seed=6).features_test)
    assert prepare_admissions(test_size=0.25).features_test.shape == (100, 6)


@pytest.mark.parametrize("bad", [0, 1, -0.1, 1.5])
def test_bad_test_size(bad):
    with pytest.raises(ValueError, match="test_size must be between 0 and 1"):
        prepare_admissions(test_size=bad)


def test_demo_preprocessing_reproduces_the_course_features():
    # The demo stores a TabularPreprocessor in its model file so that
    # `slopes predict` on the admissions CSV sees exactly the demo's inputs.
    from slopes.datasets import admissions_preprocessor

    prep = admissions_preprocessor()
    data = load_admissions()
    X = prep.transform(data)
    split = prepare_admissions(test_size=0.1, seed=0)
    rows = {tuple(np.round(r, 12)) for r in X}
    assert all(tuple(np.round(r, 12)) in rows for r in split.features_test)
    assert prep.feature_names == ["gre", "gpa", "rank=1", "rank=2", "rank=3", "rank=4"]
