"""Memory and speed of ``slopes train``, in memory and ``--stream``, against the float matrix.

Writes two CSV files of about ``--mb`` MB each (40 by default) in a temporary
folder, chunk by chunk:

- **numeric**: twelve numeric features (4 decimals) and a two-class label;
- **one-hot**: four numeric features and four text columns of 4, 10, 20 and
  20 categories (58 inputs once one-hot encoded), and a two-class label.

Then, each in a fresh subprocess, one epoch of ``slopes train`` (hidden 8,8,
batch 32, Adam, the default 10% test and 10% validation rows) on each file,
``--no-stream`` (in memory) and ``--stream``, and once on 2,000 rows of each
shape, to measure what Python and its libraries take by themselves (the
fixed part).

For each run: the wall time of the whole command (reading, preprocessing,
one epoch, scoring), the file's rows per second of it, the peak resident
memory of the subprocess (``ru_maxrss`` of ``os.wait4``), and the **memory
ratio**: the peak over the float matrix of the file's rows, ``rows x inputs
x 8`` bytes, also with the fixed part taken off the peak first. The target
(issue 21): the in-memory path at most about 3 times the matrix. The table
goes to ``--out`` (``benchmarks/results/stream.md``) and the files are
deleted after.

Run (a few minutes on a shared 2-core machine):
    .venv/bin/python benchmarks/stream.py                  # 40 MB files
    .venv/bin/python benchmarks/stream.py --mb 5 --out -   # a quick run, table printed only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROWS_PER_CHUNK = 100_000
#: The text columns of the one-hot file: name -> number of categories.
TEXT = {"color": 4, "city": 10, "shop": 20, "brand": 20}
SHAPES = {
    "numeric": {"numeric": 12, "text": {}},
    "one-hot": {"numeric": 4, "text": TEXT},
}
RESULTS = Path(__file__).parent / "results" / "stream.md"


def inputs(shape: str) -> int:
    """The network's inputs for a file of ``shape``: numeric columns plus categories."""
    spec = SHAPES[shape]
    return spec["numeric"] + sum(spec["text"].values())


def write_csv(path: Path, shape: str, target_bytes: int | None, rows: int | None = None,
              seed: int = 0) -> int:
    """Write rows of ``shape`` until the file holds ``target_bytes`` (or ``rows`` rows)."""
    import pandas as pd

    spec = SHAPES[shape]
    rng = np.random.default_rng(seed)
    written = 0
    with open(path, "w", newline="") as f:
        while (f.tell() < target_bytes) if rows is None else (written < rows):
            n = ROWS_PER_CHUNK if rows is None else min(ROWS_PER_CHUNK, rows - written)
            X = rng.normal(size=(n, spec["numeric"]))
            frame = pd.DataFrame(X.round(4), columns=[f"x{i}" for i in range(spec["numeric"])])
            score = X[:, 0] + 0.5 * X[:, 1] ** 2 - X[:, 2] * X[:, 3]
            for name, k in spec["text"].items():
                codes = rng.integers(0, k, size=n)
                frame[name] = np.array([f"{name}{j}" for j in range(k)])[codes]
                score = score + 0.3 * (codes == 0)
            frame["label"] = (score > 0.5).astype(np.int8)
            frame.to_csv(f, index=False, header=written == 0)
            written += n
    return written


def measured(command: list[str], out: Path) -> tuple[float, float, str]:
    """Run ``command`` in a subprocess, its output logged beside ``out``: (wall seconds,
    peak resident memory in MB, the log); a failed command stops the benchmark."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    log_path = out.parent / f"{out.name}.log"
    start = time.perf_counter()
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    text = log_path.read_text()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{text}")
    return seconds, usage.ru_maxrss / 1024, text


def run(args: list[str], out: Path) -> dict:
    """One ``slopes train`` in a subprocess: wall time and peak resident memory."""
    command = [sys.executable, "-m", "slopes.cli", "train", *args, "--target", "label",
               "--epochs", "1", "--hidden", "8,8", "--batch-size", "32", "--seed", "0",
               "--optimizer", "adam", "--out", str(out), "--overwrite"]
    seconds, peak_mb, text = measured(command, out)
    metrics = json.loads((out / "metrics.json").read_text())
    return {"seconds": seconds, "peak_mb": peak_mb,
            "test_accuracy": metrics.get("test", {}).get("accuracy"), "log": text}


def table(results: list[dict], fixed: dict[str, float], mb: float) -> str:
    lines = [
        f"`slopes train`, one epoch (hidden 8,8, batch 32, Adam), files of about {mb:g} MB "
        "(benchmarks/stream.py); the float matrix is rows x inputs x 8 bytes; the fixed part "
        "is the peak of the same command on 2,000 rows of the same shape "
        f"({', '.join(f'{k} {v:.0f} MB' for k, v in fixed.items())}).",
        "",
        "| file | rows | inputs | float matrix | path | time | rows/s | peak memory "
        "| peak / matrix | (peak - fixed) / matrix | test accuracy |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['shape']} | {r['rows']:,} | {r['inputs']} | {r['matrix_mb']:.0f} MB | "
            f"{r['path']} | {r['seconds']:.1f} s | {r['rows_per_second']:,.0f} | "
            f"{r['peak_mb']:.0f} MB | {r['ratio']:.2f} | {r['ratio_above_fixed']:.2f} | "
            f"{r['test_accuracy']:.3f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=40.0,
                        help="size of each CSV file in MB (default 40)")
    parser.add_argument("--dir", default=None, help="folder for the temporary files")
    add_output_options(parser, RESULTS)
    parser.add_argument("--paths", default="memory,stream",
                        help="which paths to run: memory, stream or both (default both)")
    parser.add_argument("--before", action="store_true",
                        help="the slopes on the path predates --no-stream (issue 21): run the "
                             "in-memory path without it")
    args = parser.parse_args(argv)
    paths = [p.strip() for p in args.paths.split(",") if p.strip()]

    load = load_average()
    root = Path(tempfile.mkdtemp(prefix="slopes-stream-", dir=args.dir))
    results: list[dict] = []
    fixed: dict[str, float] = {}
    try:
        for k, shape in enumerate(SHAPES):
            tiny = root / f"{shape}-tiny.csv"
            write_csv(tiny, shape, None, rows=2_000, seed=10 + k)
            path = root / f"{shape}.csv"
            t = time.perf_counter()
            rows = write_csv(path, shape, int(args.mb * 1e6), seed=k)
            print(f"wrote {shape}: {path.stat().st_size / 1e6:,.0f} MB, {rows:,} rows, "
                  f"{inputs(shape)} inputs, in {time.perf_counter() - t:.0f} s", flush=True)
            for name in paths:
                extra = (["--stream"] if name == "stream" else
                         [] if args.before else ["--no-stream"])
                key = f"{shape}, {'--stream' if name == 'stream' else 'in memory'}"
                fixed[key] = run([str(tiny), *extra], root / f"tiny-{k}-{name}")["peak_mb"]
                result = run([str(path), *extra], root / f"model-{len(results)}")
                matrix_mb = rows * inputs(shape) * 8 / 2**20
                result.update(
                    shape=shape, path="--stream" if name == "stream" else "in memory",
                    rows=rows, inputs=inputs(shape), matrix_mb=matrix_mb,
                    rows_per_second=rows / result["seconds"],
                    ratio=result["peak_mb"] / matrix_mb,
                    ratio_above_fixed=(result["peak_mb"] - fixed[key]) / matrix_mb)
                results.append(result)
                print(f"{shape:<8} {result['path']:<10} {result['seconds']:7.1f} s  "
                      f"{result['rows_per_second']:>9,.0f} rows/s  peak "
                      f"{result['peak_mb']:6.0f} MB  ratio {result['ratio']:.2f} "
                      f"({result['ratio_above_fixed']:.2f} above the fixed "
                      f"{fixed[key]:.0f} MB)", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    write_results(args, table(results, fixed, args.mb) + machine(load),
                  [{k: v for k, v in r.items() if k != "log"} for r in results])
    return 0


def add_output_options(parser: argparse.ArgumentParser, results: Path) -> None:
    """``--out`` (the markdown table, ``results`` by default, '-' to print it only) and
    ``--json``: the options of this benchmark and benchmarks/read_ahead.py."""
    parser.add_argument("--out", default=str(results),
                        help=f"the markdown table (default {results}); '-' prints it only")
    parser.add_argument("--json", default=None, help="also write the results as JSON here")


def load_average() -> float:
    """The machine's load average over the last minute (NaN where it is not known)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def machine(load: float) -> str:
    """The line under a table: the machine, its load before the runs, the Python."""
    return (f"\nMachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores "
            f"(load average {load:.1f} before the runs), Python {platform.python_version()}.\n")


def write_results(args: argparse.Namespace, text: str, results: list[dict]) -> None:
    """Print the table ``text``; write it to ``args.out`` and ``results`` to ``args.json``."""
    print()
    print(text)
    if args.out != "-":
        Path(args.out).write_text(text)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    sys.exit(main())
