"""``slopes train --cv K``: how well the settings do, by K-fold cross-validation.

The rows are dealt into K folds (seeded by ``--seed``; stratified for
classification: each class's rows shuffled and dealt in turn, so every fold
holds about 1/K of each class). Each fold is held out once while a network
trains on the other K - 1 folds, exactly as ``slopes train`` trains on its
training rows:

1. the training part gives its ``--validation-split`` of validation rows
   (stratified), watched for early stopping;
2. the preprocessing (means, scales, categories, classes, the target's
   scale) is learned from the fold's training rows only, never from its
   held-out rows, nor from its validation rows;
3. the held-out fold is scored, next to the baselines fitted on the same
   training rows.

Printed: each fold's score, then the mean and standard deviation over the
folds (NumPy's ``std``, ``ddof=0``, as ``cross_val_score(...).std()``), and the
confusion matrix (or the residuals) of every row's held-out prediction.
metrics.json holds all of it.

No model is saved, as scikit-learn's ``cross_val_score`` fits none for later
use: cross-validation scores a way of training, and the model to use is
the one ``slopes train`` without ``--cv`` trains on all the training rows.
Only ``metrics.json`` is written to ``--out``. ``--test-size`` is not used:
each row is held out once, in its fold.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from typing import Any

import numpy as np

from .. import callbacks  # looked up when a run starts, as the callbacks are made
from ..errors import CommandError
from ..preprocessing import TabularPreprocessor
from .outputs import OutputFiles, OutputGuard, print_written, to_json
from .report import (
    baselines,
    class_report,
    classification_scores,
    describe,
    describe_classes,
    describe_residuals,
    regression_scores,
    residual_summary,
    weighted_loss,
)
from .tables import read_table
from .train_setup import (
    build_network,
    check_loss,
    class_keys,
    early_stopping_and_validation,
    fit_options,
    held_out,
    l2_candidates,
    part_weights,
    read_task,
    row_weights,
    select_columns,
    split_rows,
)

__all__ = ["run_cv", "fold_rows", "CV_OUTPUTS"]

#: The one file ``slopes train --cv`` writes in --out.
CV_OUTPUTS = ("metrics.json",)


def fold_rows(n: int, k: int, seed: int, groups: np.ndarray | None = None) -> list[np.ndarray]:
    """The row positions held out by each of ``k`` folds of ``n`` rows; each sorted.

    Without ``groups`` the rows are shuffled (seeded) and cut into ``k``
    parts of sizes differing by at most one (``np.array_split``). With
    ``groups`` (each row's class, ``(n,)``) every class's rows are shuffled
    and dealt to the folds in turn, each class starting where the last one
    ended, so every fold holds ``floor`` or ``ceil`` of ``1/k`` of each class
    and the folds' sizes differ by at most one.
    """
    rng = np.random.default_rng(seed)
    if groups is None:
        return [np.sort(part) for part in np.array_split(rng.permutation(n), k)]
    folds: list[list[int]] = [[] for _ in range(k)]
    start = 0
    for label in sorted(set(groups.tolist()), key=str):
        for j, row in enumerate(rng.permutation(np.flatnonzero(groups == label))):
            folds[(start + j) % k].append(int(row))
        start += int(np.sum(groups == label))
    return [np.sort(np.asarray(f, dtype=np.int64)) for f in folds]


def _check_folds(k: int, task: str, groups: np.ndarray | None, n: int) -> None:
    if groups is not None:
        values, counts = np.unique(groups, return_counts=True)
        smallest = int(counts.argmin())
        if counts[smallest] < k:
            raise CommandError(
                f"--cv {k} needs at least {k} rows of every class (each fold holds out some "
                f"of each class), but class {str(values[smallest])!r} has {counts[smallest]} "
                f"row(s); use --cv {max(int(counts[smallest]), 2)} or fewer"
                if counts[smallest] >= 2 else
                f"--cv {k} needs at least {k} rows of every class (each fold holds out some "
                f"of each class), but class {str(values[smallest])!r} has 1 row; drop it or "
                "add rows of it")
    elif k > n:
        raise CommandError(f"--cv {k} needs at least {k} rows (one per fold), but the file "
                           f"has {n}; use --cv {n} or fewer")


def run_cv(args: argparse.Namespace) -> int:
    """``slopes train --cv K``; see the module's notes."""
    k = args.cv
    out = OutputFiles(args.out, CV_OUTPUTS,
                      OutputGuard({"the data file": args.data}, overwrite=args.overwrite))
    out.check()
    table = read_table(args.data)
    data = select_columns(table, args)
    weights = row_weights(table, args)
    task = read_task(data, args)
    groups = class_keys(data[args.target]) if task == "classify" else None
    _check_folds(k, task, groups, len(data))
    folds = fold_rows(len(data), k, args.seed, groups)
    how = "stratified by class, " if groups is not None else ""
    print(f"Cross-validating with {k} folds ({how}seed {args.seed}): each fold of about "
          f"{len(data) // k} rows is held out once while a network trains on the others, "
          "with the preprocessing learned from that fold's training rows only. --test-size "
          "is not used. No model is saved (as scikit-learn's cross_val_score): train "
          "without --cv for the model.")
    if weights is not None:
        print(f"Rows weighted by the column {args.sample_weight!r} in the loss and the scores.")

    results: list[dict[str, Any]] = []
    base: list[dict[str, dict[str, float]]] = []
    confusion: np.ndarray | None = None
    classes: list[Any] | None = None
    actual_all: list[np.ndarray] = []
    predicted_all: list[np.ndarray] = []
    rows_all: list[Any] = []
    every = np.arange(len(data))
    for i, fold in enumerate(folds):
        train_pos = np.setdiff1d(every, fold)
        val_groups = None if groups is None else groups[train_pos]
        fit_sub, val_sub = split_rows(len(train_pos), args.validation_split, args.seed + 1,
                                      val_groups)
        fit_rows = data.iloc[train_pos[fit_sub]]
        val_rows, test_rows = data.iloc[train_pos[val_sub]], data.iloc[fold]
        prep = TabularPreprocessor(target=args.target, categorical=args.categorical or [],
                                   task=task, standardize_target=task == "regress",
                                   fill_missing=args.fill_missing)
        try:
            X, y = prep.fit_transform(fit_rows)
            X_val, y_val, val_rows = held_out(prep, val_rows, f"fold {i + 1} validation",
                                              X.dtype)
            X_test, y_test, test_rows = held_out(prep, test_rows, f"fold {i + 1} held-out",
                                                 X.dtype)
        except ValueError as exc:
            raise CommandError(f"{args.data}: fold {i + 1}: {exc}") from exc
        if len(y_test) == 0:
            raise CommandError(f"fold {i + 1}: every held-out row holds a value its training "
                               "rows never had, so the fold has nothing to score")
        n_classes = len(prep.classes) if task == "classify" else 0
        loss = check_loss(args.loss, task, n_classes, args.target)
        if classes is None:
            classes = list(prep.classes) if task == "classify" else []
        w = part_weights(weights, fit_rows, f"fold {i + 1} training")
        w_val = part_weights(weights, val_rows, f"fold {i + 1} validation")
        w_test = part_weights(weights, test_rows, f"fold {i + 1} held-out")
        early, validation = early_stopping_and_validation(args, X_val, y_val, w_val)
        candidates = l2_candidates(args, task, len(y_val) > 0)
        tried = []
        for l2 in candidates:
            args.l2 = l2
            net = build_network(prep, task, loss, args, args.seed, quiet=i > 0 or bool(tried))
            stopper = (callbacks.EarlyStopping(monitor="val_loss", patience=args.patience,
                                               restore_best_weights=True) if early else None)
            schedule = getattr(args, "schedule", None)
            history = net.fit(X, y, loss=loss, optimizer=args.optimizer,
                              learning_rate=args.learning_rate, epochs=args.epochs,
                              batch_size=args.batch_size, validation_data=validation,
                              callbacks=[c for c in (schedule, stopper) if c],
                              seed=args.seed, verbose=0, sample_weight=w, **fit_options(args))
            if history.interrupted:
                break
            val_loss = (weighted_loss(net, X_val, y_val, loss, w_val) if len(y_val)
                        else float("nan"))
            tried.append((val_loss, l2, net, stopper, history))
        if not history.interrupted:
            _, l2, net, stopper, history = min(tried, key=lambda t: (t[0], t[1]))
            args.l2 = None if len(candidates) > 1 else l2
        if history.interrupted:
            print(f"slopes train: interrupted in fold {i + 1} of {k}; nothing was written.",
                  file=sys.stderr)
            return 130
        if task == "classify":
            scores = classification_scores(net, X_test, y_test.astype(np.int64), loss,
                                           prep.classes, w_test)
            if list(prep.classes) != classes:
                raise CommandError(f"fold {i + 1}: its training rows have the classes "
                                   f"{prep.classes}, the first fold's {classes}")
            counts = np.asarray(scores["confusion_matrix"]["counts"])
            confusion = counts if confusion is None else confusion + counts
            fitted, held = y.astype(np.int64), y_test.astype(np.int64)
        else:
            scores = regression_scores(net, X_test, y_test, loss, prep, w_test,
                                       list(test_rows.index))
            actual_all.append(prep.inverse_target(y_test))
            predicted_all.append(prep.inverse_target(net.predict(X_test)[:, 0]))
            rows_all.extend(test_rows.index)
            fitted, held = y, y_test
        best = None if stopper is None else stopper.best_epoch
        scores.update({"fold": i + 1, "l2": l2, "train_rows": len(y),
                       "validation_rows": len(y_val),
                       "epochs_run": len(history.epoch),
                       "best_epoch": None if best is None else best + 1})
        results.append(scores)
        base.append(baselines(task, X, fitted, X_test, held, prep, seed=args.seed,
                              w_train=w, w_test=w_test))
        ran = f"best epoch {best + 1}" if best is not None else f"{len(history.epoch)} epochs"
        if len(candidates) > 1:
            ran += f", l2 {l2:g} (the lower validation loss)"
        print(describe(f"fold {i + 1}/{k}", scores).replace(" rows", " rows held out", 1)
              + f"; trained on {len(y)} rows, {ran}")

    names = ["loss", "accuracy"] if task == "classify" else ["loss", "mse", "mae", "r2"]
    summary = {name: {"mean": statistics.fmean(r[name] for r in results),
                      "std": float(np.std([r[name] for r in results]))} for name in names}
    base_summary = {
        model: {name: {"mean": statistics.fmean(b[model][name] for b in base),
                       "std": float(np.std([b[model][name] for b in base]))}
                for name in base[0][model]}
        for model in base[0]}
    main = "accuracy" if task == "classify" else "r2"
    spread = [r[main] for r in results]
    print(f"cv    {main} {summary[main]['mean']:.3f} ± {summary[main]['std']:.3f} (mean ± "
          f"std of {k} folds; lowest {min(spread):.3f}, highest {max(spread):.3f})"
          + "".join(f"; {model.replace('_', ' ')} {s[main]['mean']:.3f} ± {s[main]['std']:.3f}"
                    for model, s in base_summary.items() if main in s)
          + " on the same folds")
    cv: dict[str, Any] = {"folds": k, "stratified": groups is not None, "seed": args.seed,
                          "scores": results, "mean": {n: s["mean"] for n, s in summary.items()},
                          "std": {n: s["std"] for n, s in summary.items()},
                          "baselines": base_summary, "model_saved": False}
    if task == "classify":
        assert confusion is not None and classes is not None
        every_row = class_report(confusion, classes)
        print(describe_classes(every_row, "held-out rows of all folds"))
    else:
        every_row = {"residuals": residual_summary(np.concatenate(actual_all),
                                                   np.concatenate(predicted_all), rows_all)}
        print(describe_residuals(every_row["residuals"], "held-out rows of all folds",
                                 args.target))
    cv["held_out"] = every_row
    metrics: dict[str, Any] = {"task": task, "cv": cv}
    if weights is not None:
        metrics["sample_weight"] = args.sample_weight
    out.add("metrics.json", to_json(metrics))
    print_written(out.commit())
    return 0
