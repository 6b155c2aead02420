"""What the ways of ``slopes train`` share: in memory, cross-validated and streamed.

``slopes train`` reads the data whole (:mod:`.train`, and :mod:`.train_cv` for
``--cv K``) or chunk by chunk (:mod:`.train_stream`); they use:

- :data:`TRAIN_OUTPUTS`: the files a run writes in ``--out``, all or none;
- :func:`select_columns`: the feature columns ``--features``/``--drop`` leave,
  then the target, each name checked against the file;
- :func:`check_loss`: ``--loss`` checked against the task (or the task's default),
  from :data:`CLASSIFY_LOSSES` and :data:`REGRESS_LOSSES`;
- :func:`default_hidden`: the hidden layers when ``--hidden`` is not given,
  chosen from the data's width and number of classes (the rule measured by
  ``benchmarks/defaults.py``);
- :func:`build_network`: the network a run fits, said in one line;
- :func:`split_rows` and :func:`held_out`: the seeded (stratified) split of the
  rows, and the held-out rows made inputs by the training rows' preprocessing;
- :func:`read_task` and :func:`class_keys`: the task (given or guessed) after
  the checks of the columns, and each row's class for stratifying;
- :func:`row_weights` and :func:`part_weights`: the ``--sample-weight`` column,
  checked, and the weights of one part of the rows;
- :func:`l2_candidates` and :func:`choose_l2`: the L2 penalties a run tries
  (regression without ``--l2``: 0 and :data:`L2_TRIED`), and the one kept by
  the validation loss;
- :func:`fit_options` and :func:`regularization_settings`: what ``--l2``,
  ``--l1``, ``--clip-norm`` and ``--schedule`` give ``fit`` and the model file.

:mod:`.train`, :mod:`.train_cv` and :mod:`.train_stream` import this module; it
imports none of them, so the ways of training do not import each other.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from .._optional import require
from ..columns import category_keys, check_mostly_numeric, guess_task, id_like_columns
from ..errors import CommandError
from ..network import Network
from ..preprocessing import TabularPreprocessor
from .options import MODEL_FILE
from .outputs import some_rows, warn

__all__ = ["TRAIN_OUTPUTS", "CLASSIFY_LOSSES", "REGRESS_LOSSES", "select_columns",
           "check_loss", "build_network", "fit_options", "regularization_settings",
           "describe_training", "default_hidden", "split_rows", "held_out", "row_weights",
           "part_weights", "read_task", "class_keys", "l2_candidates", "choose_l2",
           "L2_TRIED", "L2_AGAIN", "early_stopping_and_validation", "DEFAULT_BATCH_SIZE"]

#: Rows per step of ``slopes train`` without ``--batch-size`` (in memory and streamed; a
#: cluster with slope averaging takes ``slopes.distributed.DEFAULT_SYNC_ROWS`` per worker).
DEFAULT_BATCH_SIZE = 32

CLASSIFY_LOSSES = ("binary_crossentropy", "categorical_crossentropy")
REGRESS_LOSSES = ("mse", "sse", "half_mse", "mae")
#: The L2 penalty a regression without --l2 tries beside none (:func:`l2_candidates`).
L2_TRIED = 0.1
#: Said before the second fit of :func:`l2_candidates`.
L2_AGAIN = ("Training again with l2 {l2:g} (an L2 penalty on the weights), to keep whichever "
            "has the lower validation loss:")
#: The narrowest and the widest hidden layer :func:`default_hidden` chooses.
HIDDEN_FEWEST, HIDDEN_MOST = 16, 128
#: The files `slopes train` writes in --out, all or none.
TRAIN_OUTPUTS = (MODEL_FILE, "metrics.json", "loss.png", "network.png")


def select_columns(data: Any, args: argparse.Namespace) -> Any:
    """``data`` with the feature columns ``--features``/``--drop`` leave, then the target.

    ``data`` may be the file's rows or an empty frame of its columns (the
    streamed path); every name an option gives is checked against the file.
    """
    columns = [str(c) for c in data.columns]
    if args.target not in columns:
        raise CommandError(f"{args.data}: no column {args.target!r} to predict; the columns "
                           f"are: {', '.join(columns)}")
    weight = _option(args, "sample_weight", None)
    if weight is not None and weight not in columns:
        raise CommandError(f"{args.data}: --sample-weight names {weight!r}, not a column of "
                           f"the file; the columns are: {', '.join(columns)}")
    named = [("--features", args.features or []),
             ("--drop", args.drop or []), ("--categorical", args.categorical or [])]
    for option, names in named:
        unknown = [n for n in names if n not in columns]
        if unknown:
            raise CommandError(f"{args.data}: {option} names "
                               f"{', '.join(map(repr, unknown))}, not a column of the file; "
                               f"the columns are: {', '.join(columns)}")
    keep = list(args.features) if args.features else [c for c in columns if c != args.target]
    keep = [c for c in keep if c not in (args.drop or []) and c != weight]
    if not keep:
        raise CommandError(f"{args.data}: no feature columns are left to learn from "
                           f"(columns: {', '.join(columns)})")
    if weight is not None and weight in (args.categorical or []):
        raise CommandError(f"--categorical names {weight!r}, the --sample-weight column; a "
                           "row weight is not an input")
    outside = [c for c in (args.categorical or []) if c not in keep]
    if outside:
        raise CommandError(f"--categorical names {', '.join(map(repr, outside))}, which "
                           "--features/--drop leave out")
    return data[[*keep, args.target]]


def row_weights(data: Any, args: argparse.Namespace) -> Any:
    """The ``--sample-weight`` column of ``data`` as float64 (a Series, indexed as ``data``),
    or None without the option.

    Each weight must be a finite number >= 0 and one at least > 0; a row of
    weight 0 still counts as a row (it is split, and preprocessed) but adds
    nothing to the loss. A bad cell is an error naming the column and rows.
    """
    name = _option(args, "sample_weight", None)
    if name is None:
        return None
    pd = _pandas()
    column = data[name]
    where = f"{args.data}: --sample-weight column {name!r}"
    if column.dtype == bool or not pd.api.types.is_numeric_dtype(column):
        cells = column.dropna()
        text = cells[pd.to_numeric(cells, errors="coerce").isna()]
        shown = (some_rows({r: repr(v) for r, v in text.items()}) if len(text)
                 else some_rows({r: repr(v) for r, v in cells.items()}))
        raise CommandError(f"{where} holds {'True/False' if column.dtype == bool else 'text'}"
                           f" ({shown}); expected numbers >= 0, one weight per row")
    values = column.astype(np.float64)
    for bad, what in ((values.isna(), "is empty"),
                      (np.isinf(values), "is infinite"),
                      (values < 0, "is negative")):
        if bad.any():
            found = {r: f"{v:g}" if what != "is empty" else "empty"
                     for r, v in values[bad].items()}
            raise CommandError(f"{where} {what} in {int(bad.sum())} row(s) ({some_rows(found)});"
                               " expected finite numbers >= 0 (0 leaves a row out of the loss)")
    if not values.sum() > 0:
        raise CommandError(f"{where} is 0 in every row; at least one weight must be > 0")
    return values


def part_weights(weights: Any, rows: Any, part: str) -> np.ndarray | None:
    """The weights of ``rows`` (a slice of the data), ``(n,)``; None without weights.

    A part whose weights are all 0 cannot be scored (its weighted mean
    divides by 0): an error naming it.
    """
    if weights is None or len(rows) == 0:
        return None
    found = weights.loc[rows.index].to_numpy(np.float64)
    if not found.sum() > 0:
        raise CommandError(f"--sample-weight: every one of the {len(found)} {part} rows has "
                           f"weight 0, so the {part} loss is 0/0; give some of them a weight "
                           "> 0 (or change --seed, the split)")
    return found


def _pandas() -> Any:
    return require("pandas", "reading CSV files")


# ---------------------------------------------------------------------- split
def split_rows(n: int, fraction: float, seed: int, groups: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Row positions ``(kept, taken)``, ``taken`` about ``fraction`` of the ``n`` rows.

    With ``groups`` (the class of each row) the split is stratified: each
    class gives ``round(fraction * its rows)`` rows, but always keeps at least
    one, so every class has training rows. Seeded; both parts sorted.
    """
    rng = np.random.default_rng(seed)
    if fraction == 0:
        return np.arange(n), np.arange(0)
    if groups is None:
        order = rng.permutation(n)
        n_taken = min(max(int(round(n * fraction)), 1), n - 1)
        return np.sort(order[n_taken:]), np.sort(order[:n_taken])
    taken = []
    for label in sorted(set(groups.tolist()), key=str):
        rows = rng.permutation(np.flatnonzero(groups == label))
        taken.extend(rows[:min(int(round(len(rows) * fraction)), len(rows) - 1)])
    if not taken:
        # Too few rows per class to stratify: take one row of the largest class.
        values, counts = np.unique(groups, return_counts=True)
        rows = np.flatnonzero(groups == values[counts.argmax()])
        if len(rows) > 1:
            taken = [rng.choice(rows)]
    taken_arr = np.sort(np.asarray(taken, dtype=np.int64))
    return np.setdiff1d(np.arange(n), taken_arr), taken_arr


def held_out(prep: TabularPreprocessor, rows: Any, name: str,
             dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, Any]:
    """``(X, y, rows kept)`` for held-out rows, leaving out those with never-seen values."""
    unseen = prep.unseen(rows)
    if unseen:
        warn(f"{len(unseen)} {name} row(s) hold values the training rows never had, so they "
              f"are left out of the {name} score ({some_rows(unseen)})")
        rows = rows.drop(index=list(unseen))
    if len(rows) == 0:
        return np.zeros((0, prep.n_features), dtype), np.zeros(0), rows
    X = prep.transform(rows, dtype=dtype)
    y = prep.transform_target(rows[prep.target], dtype=dtype)
    far = prep.far_out(rows, X)
    if far:
        warn(f"{len(far)} {name} row(s) lie far outside the training rows' range, so their "
              f"predictions are extrapolations that weigh on the {name} score "
              f"({some_rows(far)})")
    return X, y, rows


def _check_target(data: Any, args: argparse.Namespace) -> None:
    missing = data[args.target].isna()
    if missing.any():
        rows = list(data.index[missing])
        shown = ", ".join(map(str, rows[:5])) + (f" and {len(rows) - 5} more"
                                                 if len(rows) > 5 else "")
        raise CommandError(f"{args.data}: the target column {args.target!r} is empty in "
                           f"{len(rows)} row(s) (rows {shown}); drop those rows first")



def class_keys(target: Any) -> np.ndarray:
    """Each row's class as its key (:func:`~slopes.columns.category_keys`: once per distinct
    class, not once per row), ``(n,)`` of ``str``."""
    return category_keys(target).to_numpy(str)


def read_task(data: Any, args: argparse.Namespace) -> str:
    """The task (``--task``, or guessed from the target and said so), after the checks of
    the target and the feature columns every in-memory run makes."""
    _check_target(data, args)
    task = args.task
    if task is None:
        target = data[args.target]
        task = guess_task(target)
        detail = (f"{target.nunique()} distinct values: "
                  f"{', '.join(map(str, sorted(target.dropna().unique().tolist(), key=str)[:10]))}"
                  if task == "classify" else "numbers with many distinct values")
        print(f"Guessed the task from the target column {args.target!r} ({detail}): "
              f"{'classification' if task == 'classify' else 'regression'}. "
              "Use --task to choose.")
    features = [c for c in data.columns if c != args.target]
    try:
        # Stray text in a numeric column is a fault of the file, so look at every row.
        check_mostly_numeric(data, [c for c in features if c not in (args.categorical or [])])
    except ValueError as exc:
        raise CommandError(f"{args.data}: {exc}") from exc
    for name in id_like_columns(data, features):
        warn(f"column {name!r} has a different value in every row, like an ID; it cannot "
              f"help predict new rows and lets the network memorize these; leave it out "
              f"with --drop {name}")
    return task


def early_stopping_and_validation(args: argparse.Namespace, X_val: np.ndarray, y_val: np.ndarray,
                                  w_val: np.ndarray | None) -> tuple[bool, Any]:
    """Whether to stop early (``--[no-]early-stopping``; by default when there are validation
    rows), and ``fit``'s ``validation_data``: ``(X_val, y_val)`` ``(n, features)``, ``(n,)``,
    with the rows' weights ``w_val`` ``(n,)`` when given; None without validation rows."""
    early = args.early_stopping if args.early_stopping is not None else len(y_val) > 0
    if early and len(y_val) == 0:
        raise CommandError("--early-stopping needs validation rows, but none are left; "
                           "raise --validation-split or use --no-early-stopping")
    validation = None
    if len(y_val):
        validation = (X_val, y_val) if w_val is None else (X_val, y_val, w_val)
    return early, validation


def check_loss(loss: str | None, task: str, n_classes: int, target: str) -> str:
    """The loss to train with: ``--loss`` checked against the task, or the task's default."""
    if loss is None:
        return "mse" if task == "regress" else (
            "binary_crossentropy" if n_classes == 2 else "categorical_crossentropy")
    if task == "classify":
        if loss not in CLASSIFY_LOSSES:
            raise CommandError(f"--loss {loss} is for regression, but {target!r} is a "
                               f"classification target ({n_classes} classes); use "
                               f"{' or '.join(CLASSIFY_LOSSES)}, or --task regress")
        if loss == "binary_crossentropy" and n_classes != 2:
            raise CommandError(f"--loss binary_crossentropy needs 2 classes, but {target!r} "
                               f"has {n_classes}; use categorical_crossentropy")
    elif loss not in REGRESS_LOSSES:
        raise CommandError(f"--loss {loss} is for classification, but {target!r} is a "
                           f"regression target; use one of {', '.join(REGRESS_LOSSES)}, "
                           "or --task classify")
    return loss


def default_hidden(n_inputs: int, n_classes: int) -> tuple[list[int], str]:
    """The hidden layers ``slopes train`` uses without ``--hidden``, and why, in words.

    One hidden layer of ``clip(2 * (n_inputs + n_outputs), 16, 128)`` nodes,
    ``n_outputs`` being the number of classes (1 for regression): as wide as
    needed to mix every input with every class twice over, at least 16 (two
    inputs still get a bend to fit: make_moons) and at most 128 (more did
    not score better on any measured dataset, and costs time). The rule was
    chosen with ``benchmarks/defaults.py`` (docs/guide/defaults.md).

    Parameters
    ----------
    n_inputs : int
        The network's inputs (after one-hot encoding).
    n_classes : int
        The classes of a classification target; 0 for regression.
    """
    n_outputs = max(n_classes, 1)
    size = int(min(max(2 * (n_inputs + n_outputs), HIDDEN_FEWEST), HIDDEN_MOST))
    told = (f"{n_classes} classes" if n_classes else "1 number to predict")
    return [size], (f"hidden layer {size} (chosen from {n_inputs} inputs and {told}: "
                    f"2 x ({n_inputs} + {n_outputs}), kept within {HIDDEN_FEWEST}..."
                    f"{HIDDEN_MOST}; --hidden to change)")


def l2_candidates(args: argparse.Namespace, task: str, validation: bool) -> list[float]:
    """The L2 penalties to train with, the better kept by the validation loss.

    ``--l2`` given: that one. Regression without ``--l2``, with validation
    rows: ``0`` and :data:`L2_TRIED`, both trained (a regression target's
    noise is fitted without a penalty: diabetes, 442 rows; a clean target
    needs large weights: make_friedman1), the lower validation loss kept.
    Otherwise ``0``: no classification dataset measured needed one.
    """
    given = _option(args, "l2", None)
    if given is not None:
        return [given]
    if task == "regress" and validation:
        return [0.0, L2_TRIED]
    return [0.0]


def choose_l2(tried: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    """Of the fits ``(validation loss, l2, ...)`` tried, the one of the lowest validation
    loss (the first on a tie, or when there is one); says why when there were two."""
    if len(tried) == 1:
        return tried[0]
    best = min(tried, key=lambda t: (t[0], t[1]))
    shown = ", ".join(f"{t[0]:.4f} with l2 {t[1]:g}" for t in tried)
    print(f"Kept l2 {best[1]:g}: the lower validation loss ({shown}). Regression without "
          "--l2 tries both; --l2 to choose one.")
    return best


def build_network(prep: TabularPreprocessor, task: str, loss: str, args: argparse.Namespace,
                  seed: int, quiet: bool = False) -> Network:
    """The network ``slopes train`` fits, said in one line on stdout (unless ``quiet``).

    ``--hidden`` layers of ``--activation`` (without ``--hidden``: the layers
    :func:`default_hidden` chooses, said so, and stored in ``args.hidden``),
    and an identity output (regression), one sigmoid node (binary
    cross-entropy) or a softmax node per class; He initialization for relu
    layers, Glorot for the others.
    """
    n_classes = len(prep.classes) if task == "classify" else 0
    if task == "regress":
        n_out, output = 1, "identity"
    elif loss == "binary_crossentropy":
        n_out, output = 1, "sigmoid"
    else:
        n_out, output = n_classes, "softmax"
    if args.hidden is None:
        args.hidden, why = default_hidden(prep.n_features, n_classes)
        if not quiet:
            print(why[0].upper() + why[1:] + ".")
    sizes = [prep.n_features, *args.hidden, n_out]
    init = "he_normal" if args.activation in ("relu", "leaky_relu") else "glorot_uniform"
    net = Network.mlp(sizes, activation=args.activation, output=output, bias=True,
                      init=init, seed=seed, dropout=_option(args, "dropout", 0.0))
    what = (f"{n_classes} classes ({', '.join(map(str, prep.classes))})"
            if task == "classify" else f"a number (standardized: mean {prep.target_mean:.4g}, "
                                       f"scale {prep.target_scale:.4g})")
    if not quiet:
        print(f"Network {'-'.join(map(str, sizes))} ({args.activation} hidden, {output} "
              f"output), loss {loss}, optimizer {args.optimizer}{describe_training(args)}; "
              f"predicting {what}.")
    return net


def _option(args: argparse.Namespace, name: str, default: Any) -> Any:
    # A Namespace made by hand (a test, an older caller) may lack the newer options.
    return getattr(args, name, default)


def describe_training(args: argparse.Namespace) -> str:
    """``", l2 0.01, dropout 0.2 ..."``: the training options given, for the one-line
    description of the network (empty without any)."""
    parts = []
    for name, words in (("l2", "l2"), ("l1", "l1"), ("dropout", "dropout on hidden layers"),
                        ("clip_norm", "clip-norm")):
        value = _option(args, name, None)
        if value:
            parts.append(f"{words} {value:g}")
    schedule = _option(args, "schedule", None)
    if schedule is not None:
        parts.append(f"schedule {schedule.describe()}")
    return "".join(", " + part for part in parts)


def fit_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments ``--l2``, ``--l1`` and ``--clip-norm`` give ``fit``."""
    return {"l1": _option(args, "l1", 0.0), "l2": _option(args, "l2", None) or 0.0,
            "clip_norm": _option(args, "clip_norm", None)}


def regularization_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The model file's record of ``--l2``, ``--l1``, ``--dropout``, ``--clip-norm`` and
    ``--schedule`` (the schedule as its ``to_dict()``, or None)."""
    schedule = _option(args, "schedule", None)
    return {**fit_options(args), "dropout": _option(args, "dropout", 0.0),
            "schedule": None if schedule is None else schedule.to_dict()}
