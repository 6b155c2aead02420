"""Training speed: slopes against a bare NumPy loop, PyTorch and scikit-learn.

Each library trains the same multilayer perceptron (relu hidden layers; a
sigmoid output with binary cross-entropy for one output, softmax with
cross-entropy otherwise) on the same random float32 data, with plain SGD (no
momentum, no weight decay), mini-batches in order (no shuffling), in this one
process. The libraries take turns within each repeat, so a noisy machine slows
them all alike, and the median of the repeats is reported.

1. slopes, through its public API: ``Network.mlp(...).fit(X, y, loss=...,
   optimizer="sgd", learning_rate=..., epochs=..., batch_size=...,
   shuffle=False, verbose=0)``;
2. a plain NumPy loop: forward (matmul, bias, relu), the fused output slope,
   backward and the SGD update, nothing else. It is the floor slopes is
   measured against, and it starts from slopes' initial weights: its final
   weights are checked against slopes' (``agreement`` in the JSON);
3. PyTorch on the CPU when it is installed (``nn.Sequential`` of ``Linear`` and
   ``ReLU``, ``CrossEntropyLoss`` or ``BCEWithLogitsLoss``, ``optim.SGD``),
   from the same initial weights;
4. scikit-learn's ``MLPClassifier`` when it is installed (solver ``sgd``,
   momentum 0, alpha 0, no shuffling, no early stopping).

Reported per configuration and library: samples per second, GFLOP/s counted
as 6 x weights x samples (2 for the forward product, 4 for the two backward
ones), peak memory (the rise of the resident set while training, measured once
in a fresh process) and how many times as fast slopes is. Also the machine's
float32 matrix-product peak, a 2048 x 2048 ``numpy.matmul``. Writes
``results/train_mlp.json`` and ``results/train_mlp.md`` beside this script.

Run:
    .venv/bin/pip install torch==2.13.0          # optional
    .venv/bin/python benchmarks/train_mlp.py     # every configuration, 5 repeats
    .venv/bin/python benchmarks/train_mlp.py --configs tiny,small --repeat 7
    .venv/bin/python benchmarks/train_mlp.py --quick --out /tmp/bench   # seconds, for tests
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

import slopes

HERE = Path(__file__).resolve().parent
LIBRARIES = ("slopes", "numpy loop", "torch", "scikit-learn")
ALIASES = {"numpy": "numpy loop", "sklearn": "scikit-learn", "pytorch": "torch"}
LEARNING_RATE = 0.05


@dataclass(frozen=True)
class Config:
    name: str
    samples: int
    sizes: tuple[int, ...]
    batch: int
    epochs: int

    @property
    def weights(self) -> int:
        """Number of weights (biases not counted): the FLOP count is 6 x this x samples."""
        return sum(a * b for a, b in zip(self.sizes[:-1], self.sizes[1:], strict=True))

    @property
    def layers(self) -> str:
        return "-".join(map(str, self.sizes))


CONFIGS = {c.name: c for c in (
    Config("tiny", 400, (6, 2, 1), 400, 900),
    Config("small", 20_000, (64, 128, 10), 64, 3),
    Config("medium", 20_000, (784, 256, 10), 128, 2),
    Config("large", 8_192, (784, 1024, 1024, 10), 512, 2),
)}
# --quick: the same shapes of work, a hundredth of it; for the test that keeps this script running.
QUICK = {c.name: c for c in (
    Config("tiny", 400, (6, 2, 1), 400, 20),
    Config("small", 640, (64, 128, 10), 64, 1),
    Config("medium", 512, (784, 256, 10), 128, 1),
    Config("large", 1024, (784, 1024, 1024, 10), 512, 1),
)}
# The targets of issue 12: slopes' speed over each library's, per configuration.
TARGETS = {
    "numpy loop": {"tiny": 0.9, "small": 0.9, "medium": 0.9, "large": 0.9},
    "torch": {"tiny": 6.0, "small": 3.0, "medium": 1.1, "large": 0.9},
    "scikit-learn": {"tiny": 4.0, "small": 2.0, "medium": 1.5, "large": 1.5},
}
PEAK_TARGET = 0.85  # slopes on large, as a fraction of the measured matmul peak


# ------------------------------------------------------------------------ data
def make_data(config: Config) -> tuple[np.ndarray, np.ndarray]:
    """Random float32 inputs and labels a linear rule draws from them (0/1, or classes)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((config.samples, config.sizes[0]), dtype=np.float32)
    n_out = config.sizes[-1]
    rule = rng.standard_normal((config.sizes[0], max(n_out, 2)), dtype=np.float32)
    labels = (X @ rule).argmax(axis=1)
    if n_out == 1:
        return X, labels.astype(np.float32)  # 0 or 1
    return X, labels  # integer classes 0..n_out-1


def initial_network(config: Config) -> slopes.Network:
    return slopes.Network.mlp(list(config.sizes), activation="relu",
                              output="sigmoid" if config.sizes[-1] == 1 else "softmax",
                              seed=0, dtype=np.float32)


def initial_parameters(config: Config) -> list[tuple[np.ndarray, np.ndarray]]:
    """(weights (n_in, n_out), bias (n_out,)) per layer: slopes' seeded initial values."""
    return [(layer.weights.copy(), layer.bias.copy()) for layer in initial_network(config).layers]


# -------------------------------------------------------------------- trainers
# Each trainer prepares outside the clock (building the model, converting the
# data) and returns a function that trains and returns the final parameters.
def prepare_slopes(config, X, y, params):
    net = initial_network(config)
    loss = "binary_crossentropy" if config.sizes[-1] == 1 else "categorical_crossentropy"

    def train():
        net.fit(X, y, loss=loss, optimizer="sgd", learning_rate=LEARNING_RATE,
                epochs=config.epochs, batch_size=config.batch, shuffle=False, verbose=0)
        return [(layer.weights, layer.bias) for layer in net.layers]

    return train


def prepare_numpy(config, X, y, params):
    """The floor: what a competent hand-written NumPy loop does per batch, and nothing else."""
    Ws = [w.copy() for w, _ in params]
    bs = [b.copy() for _, b in params]
    n, n_layers, batch, epochs = X.shape[0], len(Ws), config.batch, config.epochs
    binary = config.sizes[-1] == 1
    Y = y[:, None] if binary else np.eye(config.sizes[-1], dtype=X.dtype)[y]  # one-hot, once
    lr = X.dtype.type(LEARNING_RATE)

    def train():
        for _ in range(epochs):
            for start in range(0, n, batch):
                xb, yb = X[start:start + batch], Y[start:start + batch]
                acts = [xb]
                for k in range(n_layers - 1):
                    z = acts[-1] @ Ws[k]
                    z += bs[k]
                    acts.append(np.maximum(z, 0, out=z))
                g = acts[-1] @ Ws[-1]
                g += bs[-1]
                if binary:  # sigmoid
                    np.negative(g, out=g)
                    np.exp(g, out=g)
                    g += 1
                    np.reciprocal(g, out=g)
                else:  # softmax
                    g -= g.max(axis=1, keepdims=True)
                    np.exp(g, out=g)
                    g /= g.sum(axis=1, keepdims=True)
                # The fused slope of the loss at the logits: (p - y) / m (m x k for binary).
                g -= yb
                g *= lr.dtype.type(1 / g.size if binary else 1 / g.shape[0])
                for k in range(n_layers - 1, -1, -1):
                    gW = acts[k].T @ g
                    gb = g.sum(axis=0)
                    if k:
                        g = g @ Ws[k].T
                        g *= acts[k] > 0
                    Ws[k] -= lr * gW
                    bs[k] -= lr * gb
        return list(zip(Ws, bs, strict=True))

    return train


def prepare_torch(config, X, y, params):
    import torch

    modules = []
    for k, (w, b) in enumerate(params):
        linear = torch.nn.Linear(*w.shape)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T.copy()))
            linear.bias.copy_(torch.from_numpy(b))
        modules.append(linear)
        if k < len(params) - 1:
            modules.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*modules)
    binary = config.sizes[-1] == 1
    loss_fn = torch.nn.BCEWithLogitsLoss() if binary else torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y[:, None]) if binary else torch.from_numpy(y.astype(np.int64))
    n, batch, epochs = X.shape[0], config.batch, config.epochs

    def train():
        for _ in range(epochs):
            for start in range(0, n, batch):
                opt.zero_grad()
                loss_fn(model(Xt[start:start + batch]), yt[start:start + batch]).backward()
                opt.step()
        linears = [m for m in model if isinstance(m, torch.nn.Linear)]
        return [(m.weight.detach().numpy().T, m.bias.detach().numpy()) for m in linears]

    return train


def prepare_sklearn(config, X, y, params):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(hidden_layer_sizes=config.sizes[1:-1], activation="relu",
                          solver="sgd", learning_rate="constant",
                          learning_rate_init=LEARNING_RATE, momentum=0.0,
                          nesterovs_momentum=False, alpha=0.0, batch_size=config.batch,
                          max_iter=config.epochs, shuffle=False, early_stopping=False,
                          tol=0.0, n_iter_no_change=config.epochs + 1, random_state=0)

    def train():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        return list(zip(model.coefs_, model.intercepts_, strict=True))

    return train


PREPARE: dict[str, Callable] = {"slopes": prepare_slopes, "numpy loop": prepare_numpy,
                                "torch": prepare_torch, "scikit-learn": prepare_sklearn}


def installed(names: list[str]) -> list[str]:
    modules = {"torch": "torch", "scikit-learn": "sklearn"}
    found = []
    for name in names:
        try:
            if name in modules:
                __import__(modules[name])
            found.append(name)
        except ImportError:
            print(f"({name} is not installed: skipped)", file=sys.stderr)
    return found


# ------------------------------------------------------------------ measuring
def matmul_peak(size: int = 2048, repeat: int = 7) -> float:
    """GFLOP/s of a float32 ``size x size`` matrix product (``2 size**3`` flops), the median."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    out = np.empty_like(a)
    np.matmul(a, b, out=out)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        times.append(time.perf_counter() - start)
    return 2 * size**3 / statistics.median(times) / 1e9


def _rss_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def probe_memory(config: Config, library: str) -> float | None:
    """MiB the resident set rises while ``library`` trains once (run in a fresh process)."""
    X, y = make_data(config)
    train = PREPARE[library](config, X, y, initial_parameters(config))
    before = _rss_kib("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM, the peak (Linux)
    except OSError:
        return None
    train()
    peak = _rss_kib("VmHWM")
    return None if before is None or peak is None else max(peak - before, 0) / 1024


def peak_memory(config: Config, library: str, quick: bool) -> float | None:
    args = [sys.executable, __file__, "--memory-probe", config.name, library]
    if quick:
        args.append("--quick")
    result = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        print(f"(peak memory of {library} on {config.name} failed: "
              f"{result.stderr.strip().splitlines()[-1:]})", file=sys.stderr)
        return None
    value = json.loads(result.stdout)
    return None if value is None else float(value)


def agreement(a: list, b: list) -> float:
    """The largest difference between two sets of final parameters, relative to their size."""
    worst = 0.0
    for (wa, ba), (wb, bb) in zip(a, b, strict=True):
        for pa, pb in ((wa, wb), (ba, bb)):
            pa, pb = np.asarray(pa, dtype=np.float64), np.asarray(pb, dtype=np.float64)
            worst = max(worst, float(np.abs(pa - pb).max() / max(np.abs(pa).max(), 1e-12)))
    return worst


def run_config(config: Config, libraries: list[str], repeat: int, memory: bool,
               quick: bool) -> dict:
    X, y = make_data(config)
    params = initial_parameters(config)
    times: dict[str, list[float]] = {name: [] for name in libraries}
    finals: dict[str, list] = {}
    for r in range(repeat + 1):  # round 0 warms up (imports, caches) and is not counted
        for name in libraries:
            train = PREPARE[name](config, X, y, params)
            start = time.perf_counter()
            final = train()
            seconds = time.perf_counter() - start
            if r:
                times[name].append(seconds)
            else:
                finals[name] = [(np.array(w), np.array(b)) for w, b in final]
    samples = config.samples * config.epochs
    result = {"config": asdict(config), "weights": config.weights, "libraries": {}}
    slopes_median = statistics.median(times["slopes"])
    for name in libraries:
        median = statistics.median(times[name])
        entry = {
            "seconds": median,
            "all_seconds": times[name],
            "samples_per_second": samples / median,
            "gflops": 6 * config.weights * samples / median / 1e9,
            "slopes_speedup": median / slopes_median,  # > 1: slopes is faster
            "peak_memory_mib": peak_memory(config, name, quick) if memory else None,
        }
        if name in ("numpy loop", "torch"):  # same initial weights: same training
            entry["agreement"] = agreement(finals["slopes"], finals[name])
        result["libraries"][name] = entry
    return result


def import_time(repeat: int = 7) -> dict:
    """Wall time of ``python -c "import slopes"`` (median), and of ``import numpy`` for scale.

    slopes is copied with its bytecode compiled, as an installed package has
    it (an editable install under ``PYTHONDONTWRITEBYTECODE`` would compile it
    on every import). Also lists which optional dependencies the import loads.
    """
    code = ("import json, sys, {module}; "
            "print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))")

    def timed(module: str, env: dict) -> tuple[float, list]:
        times, loaded = [], []
        for _ in range(repeat + 1):
            start = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", code.format(module=module)], env=env,
                                 capture_output=True, text=True, timeout=120, check=True)
            times.append(time.perf_counter() - start)
            loaded = json.loads(out.stdout)
        return statistics.median(times[1:]), loaded

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(Path(slopes.__file__).parent, Path(tmp) / "slopes",
                        ignore=shutil.ignore_patterns("__pycache__"))
        compileall.compile_dir(Path(tmp) / "slopes", quiet=1)
        env = {**os.environ, "PYTHONPATH": tmp}
        slopes_seconds, loaded = timed("slopes", env)
        numpy_seconds, _ = timed("numpy", env)
    optional = [m for m in ("pandas", "matplotlib", "sklearn", "scipy", "torch") if m in loaded]
    return {"slopes_seconds": slopes_seconds, "numpy_seconds": numpy_seconds,
            "optional_modules_loaded": optional}


def machine(libraries: list[str]) -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "os": platform.platform(),
            "python": platform.python_version(), "numpy": np.__version__,
            "slopes": slopes.__version__}
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # noqa: BLE001 - the BLAS name is only informative
        pass
    for name, module in (("torch", "torch"), ("scikit-learn", "sklearn")):
        if name not in libraries:
            continue
        mod = __import__(module)
        info[name] = mod.__version__
        if module == "torch":
            info["torch_threads"] = mod.get_num_threads()
    return info


# -------------------------------------------------------------------- report
def targets(results: dict) -> list[dict]:
    """Each target of issue 12 with the measured value and whether it is met."""
    rows = []
    for library, by_config in TARGETS.items():
        for name, target in by_config.items():
            entry = results["configs"].get(name, {}).get("libraries", {}).get(library)
            if entry is not None:
                value = entry["slopes_speedup"]
                rows.append({"target": f"slopes >= {target:g}x {library} on {name}",
                             "value": round(value, 3), "met": bool(value >= target)})
    large = results["configs"].get("large")
    if large is not None:
        share = large["libraries"]["slopes"]["gflops"] / results["matmul_gflops"]
        rows.append({"target": f"slopes on large >= {PEAK_TARGET:.0%} of the matmul peak",
                     "value": round(share, 3), "met": bool(share >= PEAK_TARGET)})
    imported = results.get("import")
    if imported is not None:
        rows.append({"target": "python -c 'import slopes' < 0.2 s",
                     "value": round(imported["slopes_seconds"], 3),
                     "met": bool(imported["slopes_seconds"] < 0.2)})
        rows.append({"target": "import slopes loads no pandas, matplotlib, scikit-learn",
                     "value": len(imported["optional_modules_loaded"]),
                     "met": not imported["optional_modules_loaded"]})
    return rows


def markdown(results: dict) -> str:
    m = results["machine"]
    names = {"numpy loop": "NumPy loop", "torch": "PyTorch", "scikit-learn": "scikit-learn"}
    missing = results.get("not_installed", [])
    present = [lib for lib in names if lib in missing or any(
        lib in r["libraries"] for r in results["configs"].values())]
    peak = results["matmul_gflops"]
    lines = [
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['os']}; Python {m['python']}, "
        f"NumPy {m['numpy']}" + (f" ({m['blas']})" if "blas" in m else "")
        + (f", PyTorch {m['torch']} ({m['torch_threads']} threads)" if "torch" in m else "")
        + (f", scikit-learn {m['scikit-learn']}" if "scikit-learn" in m else "") + ".",
        f"float32, plain SGD, batches in order; median of {results['repeat']} runs, the "
        f"libraries taking turns. Matrix-product peak (2048 x 2048 float32 `numpy.matmul`): "
        f"{peak:.1f} GFLOP/s.",
        "",
        "How many times as fast as each library slopes trains (its samples per second over "
        "theirs):",
        "",
        "| config | layers | samples | batch | epochs | "
        + " | ".join(f"vs {names[lib]}" for lib in present) + " | slopes GFLOP/s (% of peak) |",
        "|---|---|---:|---:|---:|" + "---:|" * len(present) + "---:|",
    ]
    for name, res in results["configs"].items():
        c, libs = res["config"], res["libraries"]
        cells = [f"{libs[lib]['slopes_speedup']:.2f}x" if lib in libs
                 else "not installed" if lib in missing else "-" for lib in present]
        gflops = libs["slopes"]["gflops"]
        lines.append(f"| {name} | {'-'.join(map(str, c['sizes']))} | {c['samples']:,} | "
                     f"{c['batch']} | {c['epochs']} | " + " | ".join(cells)
                     + f" | {gflops:.1f} ({gflops / peak:.0%}) |")
    lines += ["", "| config | library | samples/s | GFLOP/s | peak memory (MiB) |",
              "|---|---|---:|---:|---:|"]
    for name, res in results["configs"].items():
        for library, e in res["libraries"].items():
            mem = "-" if e["peak_memory_mib"] is None else f"{e['peak_memory_mib']:.1f}"
            lines.append(f"| {name} | {names.get(library, library)} | "
                         f"{e['samples_per_second']:,.0f} | {e['gflops']:.2f} | {mem} |")
        lines += [f"| {name} | {names[lib]} | not installed | - | - |" for lib in missing]
    imported = results.get("import")
    if imported is not None:
        loaded = ", ".join(imported["optional_modules_loaded"]) or "none of pandas, " \
            "matplotlib, scikit-learn"
        lines += ["", f"`python -c \"import slopes\"`: {imported['slopes_seconds']:.3f} s "
                  f"(`import numpy` alone: {imported['numpy_seconds']:.3f} s); it loads "
                  f"{loaded}."]
    rows = targets(results)
    if rows:
        lines += ["", "| target (issue 12) | measured | met |", "|---|---:|:-:|"]
        lines += [f"| {r['target']} | {r['value']:g} | {'yes' if r['met'] else 'no'} |"
                  for r in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default=",".join(CONFIGS),
                        help="comma-separated, from: " + ", ".join(CONFIGS))
    parser.add_argument("--libraries", default=",".join(LIBRARIES),
                        help="comma-separated, from: " + ", ".join(LIBRARIES)
                        + " (or numpy, sklearn); slopes always runs")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per library (>= 3)")
    parser.add_argument("--quick", action="store_true",
                        help="a hundredth of the work, one run: checks the script, not speed")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs")
    parser.add_argument("--out", type=Path, default=HERE / "results",
                        help="directory for train_mlp.json and train_mlp.md")
    parser.add_argument("--memory-probe", nargs=2, metavar=("CONFIG", "LIBRARY"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    table = QUICK if args.quick else CONFIGS
    if args.memory_probe:
        config, library = args.memory_probe
        print(json.dumps(probe_memory(table[config], library)))
        return
    names = [s.strip() for s in args.configs.split(",") if s.strip()]
    asked = [ALIASES.get(s.strip(), s.strip()) for s in args.libraries.split(",") if s.strip()]
    unknown = [s for s in names if s not in table] + [s for s in asked if s not in LIBRARIES]
    if unknown:
        parser.error(f"unknown configuration or library: {', '.join(unknown)}")
    if not args.quick and args.repeat < 3:
        parser.error(f"--repeat must be at least 3 (a median of 3 runs or more), got {args.repeat}")
    libraries = installed(["slopes", *[s for s in dict.fromkeys(asked) if s != "slopes"]])
    repeat = 1 if args.quick else args.repeat
    command = " ".join(["benchmarks/train_mlp.py", *sys.argv[1:]])
    missing = [lib for lib in dict.fromkeys(asked) if lib not in libraries]
    results = {"machine": machine(libraries), "command": command, "repeat": repeat,
               "not_installed": missing,
               "quick": args.quick, "learning_rate": LEARNING_RATE,
               "matmul_gflops": matmul_peak(repeat=3 if args.quick else 9),
               "import": import_time(repeat=1 if args.quick else 7), "configs": {}}
    print(f"matmul peak: {results['matmul_gflops']:.1f} GFLOP/s; import slopes "
          f"{results['import']['slopes_seconds']:.3f} s", flush=True)
    for name in names:
        res = run_config(table[name], libraries, repeat, not args.no_memory, args.quick)
        results["configs"][name] = res
        summary = ", ".join(f"{lib} {e['samples_per_second']:,.0f}/s"
                            + ("" if lib == "slopes" else f" ({e['slopes_speedup']:.2f}x)")
                            for lib, e in res["libraries"].items())
        print(f"{name}: {summary}", flush=True)
    results["targets"] = targets(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "train_mlp.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "train_mlp.md").write_text(markdown(results))
    print()
    print(markdown(results))


if __name__ == "__main__":
    main()
