"""Data bigger than memory: ``slopes train --stream`` against the in-memory path.

Writes a CSV file of about ``--size-gb`` GB (2 by default) in a temporary
folder, chunk by chunk (never whole in memory), and a smaller one of
``--memory-mb`` MB (200 by default) with the same columns: ten numeric
features, one text column of five categories and a two-class label that
depends on them. Then, each in a fresh subprocess, one epoch of ``slopes
train`` (hidden 8,8, batch 32, Adam, the default 10% test and 10%
validation rows):

- the in-memory path on the small file;
- ``--stream`` on the small file;
- ``--stream`` on the big file.

For each: the wall time of the whole command (reading, preprocessing, one
epoch, scoring), the rows of the file per second of it, and the peak resident
memory of the subprocess (``ru_maxrss`` of ``os.wait4``). The targets: a
streamed peak under 400 MB whatever the file's size, and streaming at least
0.5x the rows per second of the in-memory path. The files are deleted after.

Run:
    .venv/bin/python benchmarks/stream.py                       # 2 GB + 200 MB
    .venv/bin/python benchmarks/stream.py --size-gb 0.05 --memory-mb 20   # a quick run
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

ROWS_PER_CHUNK = 200_000
COLORS = np.array(["red", "green", "blue", "amber", "violet"])


def write_csv(path: Path, target_bytes: int, seed: int = 0) -> int:
    """Write rows until the file holds ``target_bytes``; returns the number of rows."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows = 0
    header = True
    with open(path, "w", newline="") as f:
        while f.tell() < target_bytes:
            X = rng.normal(size=(ROWS_PER_CHUNK, 10))
            color = rng.integers(0, len(COLORS), size=ROWS_PER_CHUNK)
            score = X[:, 0] + 0.5 * X[:, 1] ** 2 - X[:, 2] * X[:, 3] + 0.4 * (color == 0)
            frame = pd.DataFrame(X.round(4), columns=[f"x{i}" for i in range(10)])
            frame["color"] = COLORS[color]
            frame["label"] = (score > 0.5).astype(np.int8)
            frame.to_csv(f, index=False, header=header)
            header = False
            rows += ROWS_PER_CHUNK
    return rows


def run(label: str, args: list[str], out: Path) -> dict:
    """One ``slopes train`` in a subprocess: wall time and peak resident memory."""
    command = [sys.executable, "-m", "slopes.cli", "train", *args, "--target", "label",
               "--epochs", "1", "--hidden", "8,8", "--batch-size", "32", "--seed", "0",
               "--out", str(out), "--overwrite"]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    start = time.perf_counter()
    with open(out.parent / f"{out.name}.log", "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    text = (out.parent / f"{out.name}.log").read_text()
    if process.returncode != 0:
        raise SystemExit(f"{label} failed ({process.returncode}):\n{text}")
    metrics = json.loads((out / "metrics.json").read_text())
    return {"label": label, "seconds": seconds, "peak_mb": usage.ru_maxrss / 1024,
            "test_accuracy": metrics.get("test", {}).get("accuracy"), "log": text}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=2.0,
                        help="size of the big CSV file, streamed (default 2)")
    parser.add_argument("--memory-mb", type=float, default=200.0,
                        help="size of the file the in-memory path reads (default 200)")
    parser.add_argument("--dir", default=None, help="folder for the temporary files")
    parser.add_argument("--json", default=None, help="also write the results as JSON here")
    args = parser.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="slopes-stream-", dir=args.dir))
    try:
        small, big = root / "small.csv", root / "big.csv"
        t = time.perf_counter()
        small_rows = write_csv(small, int(args.memory_mb * 1e6), seed=1)
        big_rows = write_csv(big, int(args.size_gb * 1e9), seed=2)
        print(f"wrote {small.stat().st_size / 1e6:,.0f} MB ({small_rows:,} rows) and "
              f"{big.stat().st_size / 1e9:,.2f} GB ({big_rows:,} rows) in "
              f"{time.perf_counter() - t:.0f} s", flush=True)
        results = []
        for label, data, rows, extra in (
                ("in memory", small, small_rows, []),
                ("--stream", small, small_rows, ["--stream"]),
                ("--stream", big, big_rows, ["--stream"])):
            result = run(label, [str(data), *extra], root / f"model-{len(results)}")
            result.update(file=data.name, mb=data.stat().st_size / 1e6, rows=rows,
                          rows_per_second=rows / result["seconds"])
            results.append(result)
            print(f"{label:<10} {result['mb']:>8,.0f} MB  {result['seconds']:7.1f} s  "
                  f"{result['rows_per_second']:>9,.0f} rows/s  peak {result['peak_mb']:6.0f} MB"
                  f"  test accuracy {result['test_accuracy']:.3f}", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    ratio = results[1]["rows_per_second"] / results[0]["rows_per_second"]
    print()
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    print("| path | file | rows | time | rows/s | peak memory | test accuracy |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        size = f"{r['mb'] / 1000:.2f} GB" if r["mb"] >= 1000 else f"{r['mb']:.0f} MB"
        print(f"| {r['label']} | {size} | {r['rows']:,} | {r['seconds']:.1f} s | "
              f"{r['rows_per_second']:,.0f} | {r['peak_mb']:.0f} MB | "
              f"{r['test_accuracy']:.3f} |")
    peak = max(r["peak_mb"] for r in results[1:])
    print(f"\nstreamed peak {peak:.0f} MB (target < 400 MB: {'met' if peak < 400 else 'MISSED'});"
          f" --stream {ratio:.2f}x the rows/s of the in-memory path on the same file "
          f"(target >= 0.5x: {'met' if ratio >= 0.5 else 'MISSED'})")
    if args.json:
        Path(args.json).write_text(json.dumps(
            [{k: v for k, v in r.items() if k != "log"} for r in results], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
