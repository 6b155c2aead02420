"""``slopes train DATA --workers N`` (or ``--scheduler ADDRESS``): one network, a Dask cluster.

DATA is a CSV or Parquet file, a folder of them or a glob. The files are spread
over the workers; each reads and preprocesses its own (:mod:`slopes.distributed`),
the preprocessing is merged from their summaries in one pass, and training
runs data-parallel: per-epoch weight averaging by default, or synchronous slope
averaging with ``--average slopes`` (:mod:`slopes.data_parallel`). The rows are
split into training, validation and test parts by the seeded row hash of
``--stream``. Scores are sums made on the workers, next to the most common class
(or the training mean). The model file is an ordinary one: ``slopes predict``,
``explain`` and ``export`` read it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .. import distributed
from ..columns import category_key
from ..data_parallel import wait
from ..errors import CommandError
from ..io import model_bytes
from .options import MODEL_FILE
from .outputs import (
    OutputFiles,
    OutputGuard,
    print_written,
    to_json,
    training_settings,
    warn,
)
from .pictures import pictures
from .report import describe
from .train_setup import DEFAULT_BATCH_SIZE, TRAIN_OUTPUTS, build_network, check_loss

__all__ = ["run_train_distributed", "check_distributed_options", "distributed_requested"]


def distributed_requested(args: argparse.Namespace) -> bool:
    """Whether ``--workers`` or ``--scheduler`` was given."""
    return bool(getattr(args, "workers", None) or getattr(args, "scheduler", None))


def check_distributed_options(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Refuse, before anything runs, the options a cluster run cannot honour (exit 2)."""
    if not distributed_requested(args):
        if getattr(args, "average", None) is not None:
            parser.error("--average is for training on a cluster; add --workers N or "
                         "--scheduler ADDRESS")
        return
    how = "--workers" if getattr(args, "workers", None) else "--scheduler"
    average = getattr(args, "average", None) or distributed.DEFAULT_AVERAGING
    refused = [
        ("schedule", getattr(args, "schedule", None) is not None,
         "a schedule is a callback of the one-process fit loop, which a cluster run does not "
         "use"),
        ("dropout", bool(getattr(args, "dropout", 0.0)),
         "dropout's masks are drawn by the one-process fit loop; the cluster's steps do not "
         "draw them"),
        ("save-interrupted", bool(getattr(args, "save_interrupted", False)),
         "Ctrl-C stops the workers too, and their partly trained weights are not collected"),
        ("cv", getattr(args, "cv", None) is not None,
         "cross-validation trains K networks on rows held in memory; a cluster run trains one"),
        ("sample-weight", getattr(args, "sample_weight", None) is not None,
         "the workers read no weight column yet"),
        ("stream", bool(getattr(args, "stream", False)),
         "every worker already reads its files in chunks"),
        ("no-stream", bool(getattr(args, "no_stream", False)),
         "every worker reads its files in chunks; the file is never held whole"),
    ]
    if average == "slopes":
        for name in ("l1", "l2", "clip_norm"):
            refused.append((name.replace("_", "-"), bool(getattr(args, name, None)),
                            "with --average slopes the client steps with the summed slopes "
                            "alone; penalties and clipping run in each worker's fit loop, "
                            "which --average weights uses"))
    for name, given, reason in refused:
        if given:
            parser.error(f"--{name} does not work with {how}: {reason}; leave it out")


def _scores(task: str, loss: str, sums: dict[str, Any]) -> dict[str, Any]:
    rows = sums["rows"]
    result: dict[str, Any] = {"loss": sums["loss_sum"] if loss == "sse"
                              else sums["loss_sum"] / rows, "rows": rows}
    if task == "classify":
        result["accuracy"] = sums["right"] / rows
    else:
        spread = sums["s2"] - sums["s1"] ** 2 / rows
        result.update({"mse": sums["sq"] / rows, "mae": sums["abs"] / rows,
                       "r2": 1 - sums["sq"] / spread if spread > 0 else float("nan")})
    return result


def _baseline(task: str, prepared: Any, sums: dict[str, Any]) -> dict[str, Any]:
    rows = sums["rows"]
    prep = prepared.prep
    if task == "classify":
        counts = prepared.summary.target.counts
        top = max(counts.items(), key=lambda kv: kv[1])[0]
        label = [category_key(c) for c in prep.classes].index(top)
        return {"majority_class": {"accuracy": sums["counts"].get(label, 0) / rows}}
    mean = prepared.summary.target.moments.mean
    mse = (sums["s2"] - 2 * mean * sums["s1"] + rows * mean**2) / rows
    spread = sums["s2"] - sums["s1"] ** 2 / rows
    return {"training_mean": {"mse": mse, "r2": 1 - mse * rows / spread if spread > 0
                              else float("nan")}}


def run_train_distributed(args: argparse.Namespace) -> int:
    """``slopes train`` on a Dask cluster; see the module's notes."""
    out = OutputFiles(args.out, TRAIN_OUTPUTS,
                      OutputGuard({"the data file": args.data}, overwrite=args.overwrite))
    out.check()
    if getattr(args, "l2", None) is None:
        # In memory, regression without --l2 trains twice (l2 0 and 0.1) and keeps the
        # better; a cluster run trains once, as --stream does: no penalty.
        args.l2 = 0.0
    average = getattr(args, "average", None) or distributed.DEFAULT_AVERAGING
    client, cluster = distributed.connect(getattr(args, "workers", None),
                                          getattr(args, "scheduler", None))
    try:
        where = (f"a local cluster of {args.workers} worker processes" if cluster is not None
                 else f"the Dask scheduler at {args.scheduler}")
        prepared = distributed.prepare(
            client, args.data, args.target, features=args.features, drop=args.drop or (),
            categorical=args.categorical or (), task=args.task, fill_missing=args.fill_missing,
            seed=args.seed, test_size=args.test_size, validation_split=args.validation_split,
            chunk_rows=getattr(args, "chunk_rows", None) or 100_000)
        counts, prep = prepared.counts, prepared.prep
        task = prep.task
        n_files = len(prepared.files)
        blocks = (f" in {prepared.parts} blocks of lines" if prepared.parts > n_files else "")
        print(f"Training on {where}: {n_files} file(s){blocks} spread over "
              f"{len(prepared.shards)} worker(s), each reading and preprocessing its own; the "
              "preprocessing was "
              f"merged from their summaries of the {counts['train']:,} training rows.")
        if len(prepared.shards) < len(prepared.workers) or (
                cluster is not None and len(prepared.shards) < args.workers):
            warn(f"{prepared.parts} part(s) for {args.workers or len(prepared.workers)} workers: "
                 "the others have nothing to read; split the data into at least as many files "
                 "(a CSV file holding a '\"' is read whole by one worker)")
        if args.task is None:
            print(f"Guessed the task from the target column {args.target!r}: "
                  f"{'classification' if task == 'classify' else 'regression'}. "
                  "Use --task to choose.")
        n_classes = len(prep.classes) if task == "classify" else 0
        loss = check_loss(args.loss, task, n_classes, args.target)
        net = build_network(prep, task, loss, args, args.seed)
        early = (args.early_stopping if args.early_stopping is not None
                 else counts["validation"] > 0)
        if early and counts["validation"] == 0:
            raise CommandError("--early-stopping needs validation rows, but none are left; "
                               "raise --validation-split or use --no-early-stopping")
        n_workers = len(prepared.shards)
        if args.batch_size is None:  # slope averaging: steps that hide the round trips
            args.batch_size = (distributed.DEFAULT_SYNC_ROWS * n_workers if average == "slopes"
                               else DEFAULT_BATCH_SIZE)
        rows_per_worker = max(1, args.batch_size // n_workers)
        if average == "slopes":
            if rows_per_worker < 1024:
                warn(f"--average slopes with --batch-size {args.batch_size}: {rows_per_worker} "
                     f"row(s) per worker per step, each step a round trip to every worker "
                     f"(about a millisecond); give --batch-size of at least "
                     f"{1024 * n_workers} to keep the workers busy")
            how = (f"synchronous slope averaging: {rows_per_worker} rows per worker per step, "
                   "one optimizer step with their slopes summed")
        else:
            how = (f"per-epoch weight averaging: each worker trains an epoch on its rows "
                   f"(batches of {args.batch_size}), then the weights are averaged")
        print(f"{counts['train']:,} rows to train on, {counts['validation']:,} for validation, "
              f"{counts['test']:,} held out for testing (chosen by a hash of the row number, "
              f"seed {args.seed}); {how}.")

        def on_epoch(epoch: int, logs: dict) -> None:
            val = f", val_loss {logs['val_loss']:.4f}" if "val_loss" in logs else ""
            print(f"epoch {epoch + 1}/{args.epochs}: loss {logs['loss']:.4f}{val} "
                  f"({logs['seconds']:.1f} s)")

        options = {"l1": args.l1, "l2": args.l2, "clip_norm": args.clip_norm}
        history = distributed.train(
            net, prepared, loss, optimizer=args.optimizer, learning_rate=args.learning_rate,
            epochs=args.epochs, batch_size=args.batch_size, averaging=average,
            rows_per_worker=rows_per_worker, patience=args.patience if early else None,
            seed=args.seed, options=options if average == "weights" else None,
            on_epoch=on_epoch)
        best = history.params.get("best_epoch")
        if early and best is not None and best + 1 < len(history.epoch):
            print(f"Stopped early: val_loss last improved at epoch {best + 1}; kept that "
                  "epoch's weights.")
        skipped = prepared.skipped_validation
        if skipped:
            warn(f"{skipped} validation row(s) hold values the training rows never had, so "
                 "they are left out of the validation score")

        metrics: dict[str, Any] = {"task": task, "workers": n_workers, "averaging": average}
        # network.png traces the held-out row with the largest loss (or else the training
        # row), found by every worker on its own rows in the scoring pass.
        found = distributed.scores(net, prepared, ["train", "validation", "test"],
                                   hardest=["test", "train"])
        for part, name in (("train", "train"), ("validation", "valid"), ("test", "test")):
            sums = found[part]
            if sums["rows"]:
                metrics[part] = _scores(task, loss, sums)
                print(describe(name, metrics[part]))
                if part == "test":
                    metrics["baselines"] = _baseline(task, prepared, sums)
        peaks = wait([s.info() for s in prepared.shards])
        print("Peak memory per worker: " + ", ".join(
            f"{p['peak_memory'] / 1e6:,.0f} MB" for p in peaks) + ".")
        training = training_settings(history, {
            "command": "train", "data": str(args.data), "target": args.target, "task": task,
            "hidden": args.hidden, "activation": args.activation, "loss": loss,
            "optimizer": args.optimizer, "learning_rate": args.learning_rate,
            "test_size": args.test_size, "validation_split": args.validation_split,
            "l1": args.l1, "l2": args.l2, "clip_norm": args.clip_norm, "dropout": 0.0,
            "schedule": None, "seed": args.seed, "early_stopping": early,
            "patience": args.patience, "best_epoch": best, "interrupted": False,
            "distributed": {"workers": n_workers, "averaging": average,
                            "files": [str(f) for f in prepared.files],
                            "scheduler": getattr(args, "scheduler", None)},
            "rows": {"train": counts["train"], "validation": counts["validation"],
                     "test": counts["test"]},
        })
        out.add(MODEL_FILE, model_bytes(net, prep, training, history))
        out.add("metrics.json", to_json(metrics))
        traced = found["hardest"]["test"] or found["hardest"]["train"]
        one_file = Path(str(args.data)).is_file()
        pictures(out, net, history, loss, traced, prep, Path(str(args.data)).name,
                 explain=(args.out, args.data) if one_file else None, best_epoch=best,
                 no_held_out="--test-size 0" if args.test_size == 0 else
                 "every held-out row holds a value the training rows never had")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    print_written(out.commit())
    return 0
