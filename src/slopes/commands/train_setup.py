"""What both ways of ``slopes train`` share: in memory and streamed.

``slopes train`` reads the data whole (:mod:`.train`) or chunk by chunk
(:mod:`.train_stream`); both use:

- :data:`TRAIN_OUTPUTS`: the files a run writes in ``--out``, all or none;
- :func:`select_columns`: the feature columns ``--features``/``--drop`` leave,
  then the target, each name checked against the file;
- :func:`check_loss`: ``--loss`` checked against the task (or the task's default),
  from :data:`CLASSIFY_LOSSES` and :data:`REGRESS_LOSSES`;
- :func:`build_network`: the network a run fits, said in one line;
- :func:`fit_options` and :func:`regularization_settings`: what ``--l2``,
  ``--l1``, ``--clip-norm`` and ``--schedule`` give ``fit`` and the model file.

Both :mod:`.train` and :mod:`.train_stream` import this module; it imports
neither, so the two ways of training do not import each other.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import CommandError
from ..network import Network
from ..preprocessing import TabularPreprocessor
from .options import MODEL_FILE

__all__ = ["TRAIN_OUTPUTS", "CLASSIFY_LOSSES", "REGRESS_LOSSES", "select_columns",
           "check_loss", "build_network", "fit_options", "regularization_settings",
           "describe_training"]

CLASSIFY_LOSSES = ("binary_crossentropy", "categorical_crossentropy")
REGRESS_LOSSES = ("mse", "sse", "half_mse", "mae")
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
    named = [("--features", args.features or []),
             ("--drop", args.drop or []), ("--categorical", args.categorical or [])]
    for option, names in named:
        unknown = [n for n in names if n not in columns]
        if unknown:
            raise CommandError(f"{args.data}: {option} names "
                               f"{', '.join(map(repr, unknown))}, not a column of the file; "
                               f"the columns are: {', '.join(columns)}")
    keep = list(args.features) if args.features else [c for c in columns if c != args.target]
    keep = [c for c in keep if c not in (args.drop or [])]
    if not keep:
        raise CommandError(f"{args.data}: no feature columns are left to learn from "
                           f"(columns: {', '.join(columns)})")
    outside = [c for c in (args.categorical or []) if c not in keep]
    if outside:
        raise CommandError(f"--categorical names {', '.join(map(repr, outside))}, which "
                           "--features/--drop leave out")
    return data[[*keep, args.target]]


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


def build_network(prep: TabularPreprocessor, task: str, loss: str, args: argparse.Namespace,
                  seed: int) -> Network:
    """The network ``slopes train`` fits, said in one line on stdout.

    ``--hidden`` layers of ``--activation``, and an identity output
    (regression), one sigmoid node (binary cross-entropy) or a softmax node
    per class; He initialization for relu layers, Glorot for the others.
    """
    n_classes = len(prep.classes) if task == "classify" else 0
    if task == "regress":
        n_out, output = 1, "identity"
    elif loss == "binary_crossentropy":
        n_out, output = 1, "sigmoid"
    else:
        n_out, output = n_classes, "softmax"
    sizes = [prep.n_features, *args.hidden, n_out]
    init = "he_normal" if args.activation in ("relu", "leaky_relu") else "glorot_uniform"
    net = Network.mlp(sizes, activation=args.activation, output=output, bias=True,
                      init=init, seed=seed, dropout=_option(args, "dropout", 0.0))
    what = (f"{n_classes} classes ({', '.join(map(str, prep.classes))})"
            if task == "classify" else f"a number (standardized: mean {prep.target_mean:.4g}, "
                                       f"scale {prep.target_scale:.4g})")
    print(f"Network {'-'.join(map(str, sizes))} ({args.activation} hidden, {output} output), "
          f"loss {loss}, optimizer {args.optimizer}{describe_training(args)}; predicting "
          f"{what}.")
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
    return {"l1": _option(args, "l1", 0.0), "l2": _option(args, "l2", 0.0),
            "clip_norm": _option(args, "clip_norm", None)}


def regularization_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The model file's record of ``--l2``, ``--l1``, ``--dropout``, ``--clip-norm`` and
    ``--schedule`` (the schedule as its ``to_dict()``, or None)."""
    schedule = _option(args, "schedule", None)
    return {**fit_options(args), "dropout": _option(args, "dropout", 0.0),
            "schedule": None if schedule is None else schedule.to_dict()}
