"""Training speed on tabular-sized networks: slopes against PyTorch, scikit-learn and plain NumPy.

Each library trains the same MLP (relu hidden layers, identity output, MSE,
plain SGD, shuffled mini-batches) for the same number of epochs on the same
synthetic data; the best of ``--repeat`` runs is reported in samples per second.
torch and scikit-learn are optional: a library that is not installed is skipped.

Run:
    .venv/bin/python benchmarks/bench_fit.py                 # float32, batch 32 and 256
    .venv/bin/python benchmarks/bench_fit.py --hidden 64,64 --n 20000 --epochs 3
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np

import slopes


def data(n: int, d: int, dtype: type) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d)).astype(dtype)
    y = (np.sin(X[:, :5].sum(axis=1)) + 0.1 * rng.normal(size=n)).astype(dtype)[:, None]
    return X, y


def run_slopes(X, y, sizes, batch, epochs, lr):
    net = slopes.Network.mlp(sizes, activation="relu", seed=0, dtype=X.dtype)
    net.fit(X, y, loss="mse", learning_rate=lr, epochs=epochs, batch_size=batch, seed=0,
            verbose=0)


def run_numpy(X, y, sizes, batch, epochs, lr):
    """The same training written as a bare NumPy loop: the floor slopes' overhead is measured on."""
    rng = np.random.default_rng(0)
    Ws = [rng.normal(0, 1 / np.sqrt(a), size=(a, b)).astype(X.dtype)
          for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    bs = [np.zeros(b, dtype=X.dtype) for b in sizes[1:]]
    n = X.shape[0]
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch):
            rows = order[start:start + batch]
            xb, yb = X[rows], y[rows]
            acts = [xb]
            for k, (W, b) in enumerate(zip(Ws, bs, strict=True)):
                z = acts[-1] @ W + b
                acts.append(np.maximum(z, 0) if k < len(Ws) - 1 else z)
            g = 2 * (acts[-1] - yb) / yb.size
            for k in range(len(Ws) - 1, -1, -1):
                gW, gb = acts[k].T @ g, g.sum(axis=0)
                if k:
                    g = (g @ Ws[k].T) * (acts[k] > 0)
                Ws[k] -= lr * gW
                bs[k] -= lr * gb


def run_torch(X, y, sizes, batch, epochs, lr):
    import torch

    torch.manual_seed(0)
    layers = []
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(torch.nn.Linear(a, b))
        if k < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers).to(torch.float32 if X.dtype == np.float32
                                            else torch.float64)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    n = X.shape[0]
    for _ in range(epochs):
        order = torch.randperm(n)
        for start in range(0, n, batch):
            rows = order[start:start + batch]
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(Xt[rows]), yt[rows]).backward()
            opt.step()


def run_sklearn(X, y, sizes, batch, epochs, lr):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    model = MLPRegressor(hidden_layer_sizes=tuple(sizes[1:-1]), activation="relu",
                         solver="sgd", learning_rate_init=lr, momentum=0.0,
                         nesterovs_momentum=False, batch_size=batch, max_iter=epochs,
                         shuffle=True, random_state=0, tol=0.0, n_iter_no_change=epochs + 1,
                         alpha=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y[:, 0])


def available() -> dict[str, Callable]:
    runners = {"slopes": run_slopes, "numpy loop": run_numpy}
    for name, module, runner in (("torch", "torch", run_torch),
                                 ("scikit-learn", "sklearn", run_sklearn)):
        try:
            __import__(module)
            runners[name] = runner
        except ImportError:
            print(f"({name} is not installed: skipped)")
    return runners


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--hidden", default="64,64")
    parser.add_argument("--batch-sizes", default="32,256")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [args.features, *map(int, args.hidden.split(",")), 1]
    X, y = data(args.n, args.features, np.dtype(args.dtype).type)
    runners = available()
    print(f"MLP {'-'.join(map(str, sizes))}, {args.n} samples, {args.epochs} epochs, "
          f"{args.dtype}, plain SGD; best of {args.repeat} runs")
    for batch in map(int, args.batch_sizes.split(",")):
        print(f"\nbatch size {batch}")
        results = {}
        for name, runner in runners.items():
            best = np.inf
            for _ in range(args.repeat):
                start = time.perf_counter()
                runner(X, y, sizes, batch, args.epochs, 0.01)
                best = min(best, time.perf_counter() - start)
            results[name] = best
        for name, seconds in sorted(results.items(), key=lambda kv: kv[1]):
            rate = args.n * args.epochs / seconds
            ratio = seconds / results["slopes"]
            print(f"  {name:<13} {seconds:7.3f} s  {rate:12,.0f} samples/s  "
                  f"({ratio:.2f}x the time of slopes)")


if __name__ == "__main__":
    main()
