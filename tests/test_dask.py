"""Distributed data: dask-ml's Incremental trains a SlopesClassifier block by block.

``dask.dataframe.read_csv`` reads several CSV files lazily, one partition per
file; ``dask_ml.wrappers.Incremental`` hands each block to the estimator's
``partial_fit``, so no more than one block is ever in memory.
"""

from __future__ import annotations

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("sklearn")
dask = pytest.importorskip("dask", reason="dask is not installed (pip install 'slopes[dev]')")
dd = pytest.importorskip("dask.dataframe", reason="dask[dataframe] is not installed")
wrappers = pytest.importorskip("dask_ml.wrappers", reason="dask-ml is not installed")

from slopes.sklearn import SlopesClassifier  # noqa: E402

FEATURES = ["a", "b", "c"]


def _write_parts(folder, n_files: int = 4, rows: int = 500) -> None:
    rng = np.random.default_rng(0)
    for k in range(n_files):
        X = rng.normal(size=(rows, 3))
        label = (X[:, 0] - X[:, 1] + 0.5 * X[:, 2] > 0).astype(int)
        frame = pd.DataFrame(X.round(4), columns=FEATURES).assign(label=label)
        frame.to_csv(folder / f"part-{k}.csv", index=False)


def test_incremental_slopes_classifier_learns_from_csv_files(tmp_path) -> None:
    _write_parts(tmp_path)
    frame = dd.read_csv(str(tmp_path / "part-*.csv"))
    assert frame.npartitions == 4
    X = frame[FEATURES].to_dask_array(lengths=True)
    y = frame["label"].to_dask_array(lengths=True)
    model = wrappers.Incremental(
        SlopesClassifier(hidden_layer_sizes=(8,), learning_rate=0.01, batch_size=32,
                         random_state=0),
        scoring="accuracy", shuffle_blocks=False)
    with dask.config.set(scheduler="synchronous"):
        for _ in range(3):  # three passes over the files, one partial_fit per block each
            model.partial_fit(X, y, classes=[0, 1])
        accuracy = model.score(X, y)
        baseline = max(float(y.mean().compute()), 1 - float(y.mean().compute()))
    assert model.estimator_.n_iter_ == 12  # 3 passes x 4 blocks, one epoch each
    assert accuracy > baseline + 0.3 and accuracy > 0.9


def test_incremental_on_a_dask_dataframe_trains_on_rows_in_order(tmp_path, monkeypatch) -> None:
    # Each block comes as a pandas DataFrame, whose arrays are column-ordered; the estimator
    # hands the fit loop rows in order (the speed is measured by `make bench`).
    import slopes.sklearn as sk

    _write_parts(tmp_path, n_files=2, rows=200)
    frame = dd.read_csv(str(tmp_path / "part-*.csv"))
    given = []
    train = sk.train

    def spy(net, X, *args, **kwargs):
        given.append((X.shape[0], X.flags.c_contiguous))
        return train(net, X, *args, **kwargs)

    monkeypatch.setattr(sk, "train", spy)
    model = wrappers.Incremental(SlopesClassifier(hidden_layer_sizes=(8,), random_state=0),
                                 shuffle_blocks=False)
    with dask.config.set(scheduler="synchronous"):
        model.partial_fit(frame[FEATURES], frame["label"], classes=[0, 1])
    assert given == [(200, True), (200, True)]
