"""Reading ahead in ``slopes train --stream``: a thread reads the next chunk while this one trains.

``slopes.commands.tables.READ_AHEAD_CHUNKS`` is how many chunks a background
thread reads (and preprocesses) ahead of the one training (1); 0 reads each
chunk in the training thread when it is needed. ``slopes train --stream``
reads ahead only for batches of at least
``slopes.commands.train_stream.READ_AHEAD_MIN_BATCH`` rows (256), the rule
this benchmark's table chose. It runs the same command both ways (the thread
forced on, and off), each in a fresh subprocess, and compares the wall times:

- two files of about ``--mb`` MB each, written by ``benchmarks/stream.py``:
  **numeric** (twelve numeric features) and **one-hot** (four numeric and four
  text columns, 58 inputs);
- ``slopes train --stream`` for ``--epochs`` epochs (4; no early stopping),
  hidden 8,8, Adam, at batch sizes 32 (training costs more than reading) and
  512 (reading costs more than training);
- each setting ``--repeats`` times (3), the two ways taking turns; the table
  gives the median wall time of each and the speed-up ``(off / on)``.

Both ways train the same model, byte for byte (tests/test_parallel_reading.py).
The table goes to ``--out`` (``benchmarks/results/read_ahead.md``).

Run (about three minutes on a 2-core machine):
    .venv/bin/python benchmarks/read_ahead.py
    .venv/bin/python benchmarks/read_ahead.py --mb 2 --repeats 1 --out -   # quick
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from stream import (  # noqa: E402
    SHAPES,
    add_output_options,
    inputs,
    load_average,
    machine,
    measured,
    write_csv,
    write_results,
)

from slopes.commands.train_stream import READ_AHEAD_MIN_BATCH  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "read_ahead.md"
BATCH_SIZES = (32, 512)


def command(path: Path, out: Path, read_ahead: int, batch_size: int, epochs: int) -> list[str]:
    """``slopes train --stream`` in a fresh interpreter, reading ahead ``read_ahead`` chunks."""
    arguments = [str(path), "--target", "label", "--stream", "--epochs", str(epochs),
                 "--no-early-stopping", "--hidden", "8,8", "--batch-size", str(batch_size),
                 "--optimizer", "adam", "--seed", "0", "--out", str(out), "--overwrite"]
    script = ("import sys\n"
              "from slopes.commands import tables, train_stream\n"
              f"tables.READ_AHEAD_CHUNKS = {read_ahead}\n"
              "train_stream.READ_AHEAD_MIN_BATCH = 0\n"
              "from slopes.cli import main\n"
              f"sys.exit(main(['train', *{arguments!r}]))\n")
    return [sys.executable, "-c", script]


def table(results: list[dict], mb: float, epochs: int) -> str:
    lines = [
        f"`slopes train --stream`, {epochs} epochs (no early stopping), hidden 8,8, Adam, "
        f"files of about {mb:g} MB (benchmarks/read_ahead.py): the median wall time with "
        "the next chunk read by a thread while this one trains (`READ_AHEAD_CHUNKS = 1`) "
        "and without (`0`). `slopes train --stream` reads ahead from "
        "`READ_AHEAD_MIN_BATCH = 256` rows a batch (the last column).",
        "",
        "| file | rows | inputs | batch size | without | with | speed-up | default |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        lines.append(f"| {r['shape']} | {r['rows']:,} | {r['inputs']} | {r['batch_size']} | "
                     f"{r['off']:.2f} s | {r['on']:.2f} s | {r['off'] / r['on']:.2f}x | "
                     f"{'with' if r['batch_size'] >= READ_AHEAD_MIN_BATCH else 'without'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=25.0,
                        help="size of each CSV file in MB (default 25)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs of each run (default 4)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each setting, the median kept (default 3)")
    add_output_options(parser, RESULTS)
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.repeats < 1 or args.mb <= 0:
        parser.error("--epochs and --repeats must be at least 1, and --mb above 0")

    load = load_average()
    root = Path(tempfile.mkdtemp(prefix="slopes-read-ahead-"))
    results: list[dict] = []
    try:
        for k, shape in enumerate(SHAPES):
            path = root / f"{shape}.csv"
            rows = write_csv(path, shape, int(args.mb * 1e6), seed=k)
            for batch_size in BATCH_SIZES:
                times: dict[str, list[float]] = {"off": [], "on": []}
                for repeat in range(args.repeats):
                    order = ("off", "on") if repeat % 2 == 0 else ("on", "off")
                    for way in order:
                        out = root / f"model-{shape}-{batch_size}-{way}"
                        seconds, _, _ = measured(
                            command(path, out, int(way == "on"), batch_size, args.epochs), out)
                        times[way].append(seconds)
                result = {"shape": shape, "rows": rows, "inputs": inputs(shape),
                          "batch_size": batch_size,
                          "off": statistics.median(times["off"]),
                          "on": statistics.median(times["on"]), "times": times}
                results.append(result)
                print(f"{shape:<8} batch {batch_size:>4}: without {result['off']:6.2f} s, with "
                      f"{result['on']:6.2f} s ({result['off'] / result['on']:.2f}x)", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    write_results(args, table(results, args.mb, args.epochs) + machine(load), results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
