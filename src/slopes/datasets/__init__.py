"""Datasets shipped with slopes: the course's graduate-school admissions data."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np

from .._optional import require
from ..preprocessing import TabularPreprocessor

__all__ = ["AdmissionsSplit", "load_admissions", "prepare_admissions", "admissions_preprocessor"]


def load_admissions():  # -> pandas.DataFrame
    """The course's 400 admissions records: columns admit, gre, gpa, rank.

    ``admit`` is 0 or 1, ``gre`` a test score (200-800), ``gpa`` a grade point
    average (0-4) and ``rank`` the prestige of the undergraduate school, 1
    (highest) to 4. Needs pandas (``pip install 'slopes[all]'``).
    """
    pd = require("pandas", "load_admissions")
    with resources.files(__name__).joinpath("admissions.csv").open("r") as f:
        return pd.read_csv(f)


@dataclass
class AdmissionsSplit:
    """The admissions data prepared as the course does, split for training and testing.

    ``features`` are ``(n, 6)``: gre and gpa standardized, then rank_1..rank_4
    one-hot; ``targets`` are ``(n,)`` of 0/1. ``test_rows`` ``(n_test,)`` are
    the held-out rows' numbers in :func:`load_admissions` (0 is the first
    row), in the order of ``features_test``.
    """

    features: np.ndarray
    targets: np.ndarray
    features_test: np.ndarray
    targets_test: np.ndarray
    feature_names: list[str]
    test_rows: np.ndarray | None = None


def prepare_admissions(test_size: float = 0.1, seed: int = 42) -> AdmissionsSplit:
    """Prepare the admissions data as the course's ``data_prep.py`` does.

    - ``rank`` becomes four one-hot columns ``rank_1`` .. ``rank_4``;
    - ``gre`` and ``gpa`` are standardized: ``(x - mean) / std``;
    - a fraction ``test_size`` of the rows, chosen with ``seed``, is held out.

    The course standardizes with the statistics of all 400 rows before
    splitting; so does this helper, to reproduce it.
    """
    pd = require("pandas", "prepare_admissions")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be between 0 and 1, got {test_size!r}")
    data = load_admissions()
    data = pd.concat(
        [data.drop(columns="rank"),
         pd.get_dummies(data["rank"], prefix="rank").astype(float)],
        axis=1,
    )
    for column in ("gre", "gpa"):
        data[column] = (data[column] - data[column].mean()) / data[column].std()
    rng = np.random.default_rng(seed)
    n_test = round(len(data) * test_size)
    order = rng.permutation(len(data))
    test, train = data.iloc[order[:n_test]], data.iloc[order[n_test:]]
    names = [c for c in data.columns if c != "admit"]
    return AdmissionsSplit(
        features=train[names].to_numpy(float),
        targets=train["admit"].to_numpy(float),
        features_test=test[names].to_numpy(float),
        targets_test=test["admit"].to_numpy(float),
        feature_names=names,
        test_rows=order[:n_test].astype(np.int64),
    )


def admissions_preprocessor() -> TabularPreprocessor:
    """A TabularPreprocessor that reproduces :func:`prepare_admissions`'s features exactly.

    The course standardizes with pandas' ``std`` (ddof=1) over all 400 rows;
    the stored scales are set to match, so ``slopes predict`` on the
    admissions CSV sees the very numbers ``slopes demo`` trained on (it stores
    this preprocessor in its model file).
    """
    data = load_admissions()
    prep = TabularPreprocessor(target="admit", categorical=["rank"], task="classify").fit(data)
    for column in ("gre", "gpa"):
        prep.numeric[column]["scale"] = float(data[column].std())
    return prep
