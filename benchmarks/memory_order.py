"""Training speed whatever the input's memory order: row order (C) against column order (Fortran).

A pandas DataFrame of one dtype holds its numbers column by column, so
``frame.to_numpy()`` (what scikit-learn's ``validate_data`` and a Dask
DataFrame's blocks give) is a Fortran-ordered array, whose rows, what every
batch takes, are strided. slopes turns such input into row order once, where
the data comes in (``slopes.validation.check_X``; ``order="C"`` in the
estimators), so each path here should take about the same time in both orders.

Each row trains the same network on the same numbers given in both orders, the
two taking turns within each repeat, and reports the median time and the ratio
Fortran / C (1.00 is the goal):

1. ``Network.fit`` with shuffled mini-batches (rows gathered by index);
2. ``Network.fit`` without shuffling (batches are slices of the input);
3. ``SlopesClassifier.fit`` on a NumPy array against the same numbers as a pandas DataFrame;
4. dask-ml's ``Incremental(SlopesClassifier)``, three passes of ``partial_fit``, on a
   Dask array of C blocks against one made from a Dask DataFrame (the example of
   docs/guide/big-data.md), when dask and dask-ml are installed.

Writes ``results/memory_order.json`` and ``results/memory_order.md`` beside this script.

Run:
    .venv/bin/python benchmarks/memory_order.py                 # 3 repeats
    .venv/bin/python benchmarks/memory_order.py --quick --out /tmp/bench   # seconds, for tests
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import slopes

HERE = Path(__file__).resolve().parent


def make_data(samples: int, features: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(samples, features))
    y = (X[:, 0] - X[:, 1] + 0.5 * X[:, 2] > 0).astype(np.int64)
    return X, y


def network_fit(X: np.ndarray, y: np.ndarray, shuffle: bool, epochs: int) -> Callable:
    def train(data: np.ndarray) -> None:
        net = slopes.Network.mlp([X.shape[1], 32, 1], output="sigmoid", seed=0)
        net.fit(data, y, loss="binary_crossentropy", optimizer="adam", epochs=epochs,
                batch_size=32, shuffle=shuffle, seed=0, verbose=0)
    return train


def estimator_fit(y: np.ndarray, epochs: int) -> Callable:
    from slopes.sklearn import SlopesClassifier

    def train(data: object) -> None:
        SlopesClassifier(hidden_layer_sizes=(32,), epochs=epochs, batch_size=32,
                         random_state=0).fit(data, y)
    return train


def incremental_fit(passes: int) -> Callable:
    import dask
    from dask_ml.wrappers import Incremental

    from slopes.sklearn import SlopesClassifier

    def train(data: tuple) -> None:
        X, y = data
        model = Incremental(SlopesClassifier(hidden_layer_sizes=(8,), learning_rate=0.01,
                                             random_state=0), shuffle_blocks=False)
        with dask.config.set(scheduler="synchronous"):
            for _ in range(passes):
                model.partial_fit(X, y, classes=[0, 1])
    return train


def timed(train: Callable, inputs: dict[str, object], repeat: int) -> dict[str, float]:
    """Median seconds per input, the inputs taking turns within each repeat."""
    times: dict[str, list[float]] = {name: [] for name in inputs}
    for k in range(repeat):
        turns = list(inputs.items())
        for name, data in turns if k % 2 == 0 else turns[::-1]:  # neither always goes first
            start = time.perf_counter()
            train(data)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def dask_inputs(X: np.ndarray, y: np.ndarray, blocks: int) -> dict[str, tuple] | None:
    try:
        import dask.array as da
        import dask.dataframe as dd
        import dask_ml.wrappers  # noqa: F401
        import pandas as pd
    except ImportError:
        return None
    rows = -(-X.shape[0] // blocks)
    frame = dd.from_pandas(pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
                           .assign(label=y), npartitions=blocks)
    columns = [c for c in frame.columns if c != "label"]
    return {
        "C": (da.from_array(X, chunks=(rows, X.shape[1])), da.from_array(y, chunks=rows)),
        "F": (frame[columns].to_dask_array(lengths=True),
              frame["label"].to_dask_array(lengths=True)),
    }


def run(samples: int, features: int, epochs: int, repeat: int, blocks: int) -> dict:
    X, y = make_data(samples, features)
    fortran = np.asfortranarray(X)
    rows: list[dict] = []

    def add(name: str, c_input: str, f_input: str, seconds: dict[str, float]) -> None:
        rows.append({"path": name, "c_input": c_input, "fortran_input": f_input,
                     "c_seconds": seconds["C"], "fortran_seconds": seconds["F"],
                     "ratio": seconds["F"] / seconds["C"]})

    add("Network.fit, shuffled batches", "C array", "Fortran array",
        timed(network_fit(X, y, True, epochs), {"C": X, "F": fortran}, repeat))
    add("Network.fit, shuffle=False", "C array", "Fortran array",
        timed(network_fit(X, y, False, epochs), {"C": X, "F": fortran}, repeat))
    try:
        import pandas as pd

        from slopes.sklearn import SlopesClassifier  # noqa: F401
    except ImportError:
        pass
    else:
        frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(features)])
        add("SlopesClassifier.fit", "C array", "pandas DataFrame",
            timed(estimator_fit(y, epochs), {"C": X, "F": frame}, repeat))
    inputs = dask_inputs(X, y, blocks)
    if inputs is not None:
        add(f"Incremental(SlopesClassifier), {epochs} passes", "Dask array (C blocks)",
            "Dask DataFrame blocks", timed(incremental_fit(epochs), inputs, repeat))
    return {
        "samples": samples, "features": features, "epochs": epochs, "repeat": repeat,
        "blocks": blocks, "batch_size": 32,
        "machine": {"python": platform.python_version(), "numpy": np.__version__,
                    "processor": platform.machine(), "slopes": slopes.__version__},
        "rows": rows,
    }


def markdown(results: dict) -> str:
    lines = [
        f"Training on {results['samples']} rows x {results['features']} features, "
        f"{results['epochs']} epochs, batches of {results['batch_size']}, median of "
        f"{results['repeat']} (benchmarks/memory_order.py).",
        "",
        "| path | C input | Fortran input | C s | Fortran s | Fortran / C |",
        "| --- | --- | --- | ---: | ---: | ---: |",
    ]
    for row in results["rows"]:
        lines.append(f"| {row['path']} | {row['c_input']} | {row['fortran_input']} | "
                     f"{row['c_seconds']:.3f} | {row['fortran_seconds']:.3f} | "
                     f"{row['ratio']:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=50_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per order")
    parser.add_argument("--blocks", type=int, default=4, help="Dask blocks (partitions)")
    parser.add_argument("--quick", action="store_true",
                        help="2000 rows, 1 epoch, 1 repeat: seconds, for tests")
    parser.add_argument("--out", type=Path, default=HERE / "results",
                        help="folder for memory_order.json and memory_order.md")
    args = parser.parse_args()
    if args.quick:
        args.samples, args.epochs, args.repeat = 2000, 1, 1
    if min(args.samples, args.features, args.epochs, args.repeat, args.blocks) < 1:
        parser.error("--samples, --features, --epochs, --repeat and --blocks must be >= 1")
    if args.features < 3:
        parser.error(f"--features must be at least 3 (the label uses 3), got {args.features}")
    results = run(args.samples, args.features, args.epochs, args.repeat, args.blocks)
    table = markdown(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "memory_order.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "memory_order.md").write_text(table)
    print(table, end="")


if __name__ == "__main__":
    main()
