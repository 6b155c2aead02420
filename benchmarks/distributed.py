"""Training on a two-worker Dask LocalCluster against ``slopes train --stream`` on one process.

Writes a CSV file like ``benchmarks/stream.py``'s numeric one (twelve numeric
features, a two-class label), of ``--sizes-mb`` MB each (the issue
asks for 2 GB; on a 2-core machine shared with other work, 100 and 300 MB finish in
minutes). The cluster reads the same file, cut into blocks of lines that its
workers share (``--parts N`` instead writes the rows as N part files first, a
folder the workers share). Then, each in a fresh subprocess, ``--epochs`` epochs of
``slopes train`` (hidden 8,8, Adam, the default 10% test and 10% validation rows):

- ``--stream`` on the one file, one process (batch 32);
- ``--workers 2 --average weights``, per-epoch weight averaging (batch 32 on each
  worker);
- ``--workers 2 --average slopes`` (the default): synchronous slope averaging,
  ``--sync-batch`` rows a step (half on each worker; 4096 is the command's own default
  for two workers).

For each: the wall time of the whole command (the cluster's start, reading,
preprocessing, training, scoring, writing), the file's rows times the epochs per
second of it, the peak resident memory of the command's process and, for the
cluster, of each worker (``ru_maxrss``, printed by the command), and the test
accuracy. Before them, the round trip of one actor call to a worker (what every
step of slope averaging costs) for the network's parameters. The targets: two
workers at least 1.6x the rows/s of one process, memory per worker flat in the
file's size. Timings on a shared machine are disturbed: ``--repeat`` runs each
command that many times and keeps the median.

Run:
    .venv/bin/python benchmarks/distributed.py                           # 100 and 300 MB
    .venv/bin/python benchmarks/distributed.py --sizes-mb 2000 --repeat 3  # the issue's 2 GB
    .venv/bin/python benchmarks/distributed.py --sizes-mb 5 --epochs 1     # a quick run
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
# This file is named distributed.py: its folder must not hide the package dask.distributed.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
RESULTS = HERE / "results"


def _stream_benchmark() -> Any:
    """benchmarks/stream.py, loaded by path (its folder is kept off sys.path above)."""
    spec = importlib.util.spec_from_file_location("stream_benchmark", HERE / "stream.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


STREAM = _stream_benchmark()


def write_csv(path: Path, target_bytes: int, seed: int = 0) -> int:
    """benchmarks/stream.py's numeric file: twelve numbers and a two-class label."""
    return STREAM.write_csv(path, "numeric", target_bytes, seed=seed)


def split_csv(path: Path, folder: Path, parts: int, rows: int) -> None:
    """The rows of ``path`` as ``parts`` files of consecutive rows, each with the header."""
    folder.mkdir()
    per = -(-rows // parts)
    with open(path) as f:
        header = f.readline()
        for k in range(parts):
            with open(folder / f"part-{k:03d}.csv", "w") as out:
                out.write(header)
                for _ in range(per):
                    line = f.readline()
                    if not line:
                        break
                    out.write(line)


def run(args: list[str], out: Path) -> dict:
    """One ``slopes train`` in a subprocess: wall time, peak memory, the workers' peaks."""
    command = [sys.executable, "-m", "slopes.cli", "train", *args, "--target", "label",
               "--hidden", "8,8", "--seed", "0", "--out", str(out), "--overwrite"]
    seconds, peak_mb, text = STREAM.measured(command, out)
    workers = re.search(r"Peak memory per worker: (.*)\.", text)
    peaks = ([float(m.replace(",", "")) for m in re.findall(r"([\d,]+) MB", workers.group(1))]
             if workers else [])
    metrics = json.loads((out / "metrics.json").read_text())
    return {"seconds": seconds, "peak_mb": peak_mb, "worker_peaks_mb": peaks,
            "test_accuracy": metrics["test"]["accuracy"]}


def round_trip(n_params: int, calls: int = 300) -> dict:
    """The median time of one actor call carrying ``n_params`` floats there and back."""
    import distributed

    from slopes.data_parallel import Shard
    from slopes.distributed_sources import ArraySource

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=50) as cluster, \
            distributed.Client(cluster) as client:
        workers = sorted(client.scheduler_info()["workers"])
        shards = [client.submit(Shard, ArraySource(np.zeros((1, 1)), np.zeros(1)), actor=True,
                                workers=[w], pure=False).result() for w in workers]
        payload = np.zeros(n_params)
        one, both = [], []
        for _ in range(calls):
            t = time.perf_counter()
            shards[0].ping(payload).result()
            one.append(time.perf_counter() - t)
            t = time.perf_counter()
            futures = [s.ping(payload) for s in shards]
            [f.result() for f in futures]
            both.append(time.perf_counter() - t)
    return {"one_ms": 1e3 * statistics.median(one), "both_ms": 1e3 * statistics.median(both)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-mb", default="100,300",
                        help="sizes of the CSV files, comma-separated (default 100,300)")
    parser.add_argument("--parts", type=int, default=0,
                        help="give the cluster the rows as this many part files (default 0: "
                             "the one file, cut into blocks of lines)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs (default 2)")
    parser.add_argument("--sync-batch", type=int, default=4096,
                        help="rows per step of --average slopes (default 4096)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each command; the median is kept (default 1)")
    parser.add_argument("--dir", default=None, help="folder for the temporary files")
    parser.add_argument("--out", default=str(RESULTS),
                        help="folder for distributed.md and distributed.json")
    args = parser.parse_args(argv)
    load = STREAM.load_average()
    sizes = [float(s) for s in args.sizes_mb.split(",")]

    trip = round_trip(n_params=15 * 8 + 8 + 8 * 8 + 8 + 8 + 1)
    print(f"round trip of one actor call with the 8,8 network's parameters: "
          f"{trip['one_ms']:.2f} ms to one worker, {trip['both_ms']:.2f} ms to both "
          "(median of 300)", flush=True)
    results = []
    root = Path(tempfile.mkdtemp(prefix="slopes-distributed-", dir=args.dir))
    try:
        for size in sizes:
            big = root / f"data-{size:g}.csv"
            rows = write_csv(big, int(size * 1e6), seed=2)
            parts = root / f"parts-{size:g}"
            if args.parts:
                split_csv(big, parts, args.parts, rows)
            else:
                parts = big
            mb = big.stat().st_size / 1e6
            epochs = ["--epochs", str(args.epochs)]
            for label, command in (
                    ("--stream, 1 process", [str(big), "--stream", *epochs]),
                    ("--workers 2 (weights)", [str(parts), "--workers", "2", "--average",
                                               "weights", "--batch-size", "32", *epochs]),
                    (f"--workers 2 --average slopes ({args.sync_batch} rows/step)",
                     [str(parts), "--workers", "2", "--average", "slopes", "--batch-size",
                      str(args.sync_batch), *epochs])):
                runs = [run(command, root / f"model-{len(results)}-{k}")
                        for k in range(args.repeat)]
                result = min(runs, key=lambda r: r["seconds"]) if args.repeat == 1 else \
                    sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
                result.update(label=label, mb=mb, rows=rows,
                              rows_per_second=rows * args.epochs / result["seconds"],
                              all_seconds=[r["seconds"] for r in runs])
                results.append(result)
                workers = ", ".join(f"{p:.0f}" for p in result["worker_peaks_mb"]) or "-"
                print(f"{mb:6.0f} MB  {label:<48} {result['seconds']:7.1f} s "
                      f"{result['rows_per_second']:>9,.0f} rows/s  process {result['peak_mb']:5.0f}"
                      f" MB  workers {workers} MB  test accuracy {result['test_accuracy']:.3f}",
                      flush=True)
            if args.parts:
                shutil.rmtree(parts)
            big.unlink()
    finally:
        shutil.rmtree(root, ignore_errors=True)

    lines = [f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores "
             f"(load average {load:.1f} before the runs), Python {platform.python_version()}; "
             f"{args.epochs} epoch(s), hidden 8,8, Adam; the cluster reads "
             f"{f'{args.parts} part files' if args.parts else 'the same file, in blocks'}; "
             f"median of {args.repeat} run(s).", "",
             f"Round trip of one actor call (the network's parameters there and back): "
             f"{trip['one_ms']:.2f} ms to one worker, {trip['both_ms']:.2f} ms to both.", "",
             "| file | rows | path | time | rows x epochs / s | vs 1 process | peak memory, "
             "client | peak memory per worker | test accuracy |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        base = next(b for b in results if b["mb"] == r["mb"])
        workers = ", ".join(f"{p:.0f} MB" for p in r["worker_peaks_mb"]) or "-"
        lines.append(f"| {r['mb']:.0f} MB | {r['rows']:,} | {r['label']} | {r['seconds']:.1f} s | "
                     f"{r['rows_per_second']:,.0f} | "
                     f"{r['rows_per_second'] / base['rows_per_second']:.2f}x | "
                     f"{r['peak_mb']:.0f} MB | {workers} | {r['test_accuracy']:.3f} |")
    lines.append("")
    for mode, prefix in (("weight averaging", "--workers 2 ("),
                         ("slope averaging", "--workers 2 --average slopes")):
        speedups = [r["rows_per_second"] / next(b for b in results if b["mb"] == r["mb"])[
            "rows_per_second"] for r in results if r["label"].startswith(prefix)]
        if speedups:
            lines.append(f"Two workers, {mode}: {min(speedups):.2f}x to {max(speedups):.2f}x "
                         f"the rows/s of one process (target >= 1.6x: "
                         f"{'met' if max(speedups) >= 1.6 else 'MISSED'}).")
    text = "\n".join(lines)
    print()
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "distributed.md").write_text("# benchmarks/distributed.py\n\n" + text + "\n\n"
                                        "Command: `" + " ".join(
                                            ["python benchmarks/distributed.py",
                                             *(argv if argv is not None else sys.argv[1:])])
                                        + "`\n")
    (out / "distributed.json").write_text(json.dumps({"round_trip": trip, "results": results},
                                                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
