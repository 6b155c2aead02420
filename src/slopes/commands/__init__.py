"""The ``slopes`` subcommands demo, train, predict, explain and export.

One module per subcommand (:mod:`.demo`, :mod:`.train`, :mod:`.predict`,
:mod:`.explain`, :mod:`.export`), with what they share beside them: reading tables and
writing output files (:mod:`.outputs`), scores and baselines
(:mod:`.report`), and the checked option types (:mod:`.options`). This
module only builds the parsers.

Every option value is checked while the command line is read, so a bad one
is a usage error (exit code 2) before any data is read; data and file
problems raise :class:`~slopes.errors.CommandError`, which ``slopes.cli``
prints as one line on stderr (exit code 1).
"""

from __future__ import annotations

import argparse
import functools
from typing import Any

from ..activations import ACTIVATIONS
from ..losses import LOSSES
from ..optimizers import OPTIMIZERS, AdamW
from ..schedules import SCHEDULE_FORMS
from . import options
from .demo import (
    COURSE_EPOCHS,
    COURSE_LEARNING_RATE,
    DEMO_EPOCHS,
    DEMO_LEARNING_RATE,
    DEMO_LOSS,
    DEMO_SEED,
    DEMO_SPLIT_SEED,
    run_demo,
)
from .explain import run_explain
from .export import DESCRIPTION as EXPORT_DESCRIPTION
from .export import EXAMPLE as EXPORT_EXAMPLE
from .export import check_export_options, run_export
from .outputs import ROWS_NOTE
from .predict import run_predict
from .train import check_train_options, cv_folds, run_train

__all__ = ["register"]

# Hidden layers can use any activation but softmax, whose outputs are tied together.
HIDDEN_ACTIVATIONS = [name for name in ACTIVATIONS if name != "softmax"]


def _parser(subparsers: Any, name: str, help_: str, description: str,
            example: str) -> argparse.ArgumentParser:
    return subparsers.add_parser(
        name, help=help_, description=description,
        epilog="example:\n" + example, formatter_class=argparse.RawDescriptionHelpFormatter)


def register(subparsers: Any) -> None:
    """Add the demo, train, predict, explain and export subcommands to ``slopes``."""
    p = _parser(subparsers, "demo", "train the course's 6-2-1 network on the admissions data",
                "Train the course's 6-2-1 sigmoid network (no bias) on the admissions data "
                "shipped with slopes:\nrank one-hot, gre and gpa standardized, 10% of the rows "
                "held out. Prints the training loss\nat every tenth of the epochs (with the "
                "course's 'WARNING - Loss Increasing') and the test\naccuracy next to the base "
                "rate; writes model.safetensors, metrics.json, loss.png, network.png.\n\n"
                "--course uses the course's exact settings: 900 epochs, learning rate 0.005 and "
                "the\nweights np.random.seed(21) gives (drawn from a private RandomState; slopes "
                "never\ntouches NumPy's global random state). At that learning rate the "
                "network barely moves.",
                "  slopes demo --out slopes-demo\n  slopes demo --course\n"
                "  slopes demo --epochs 300 --learning-rate 2 --seed 3\n")
    p.add_argument("--out", type=options.output_path, default="slopes-demo", metavar="DIR",
                   help="folder for the output files (default: slopes-demo)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a model already in --out, and its files (default: refuse)")
    p.add_argument("--epochs", type=options.positive_int, default=None,
                   help=f"passes over the training rows (default {DEMO_EPOCHS}; "
                        f"--course: {COURSE_EPOCHS})")
    p.add_argument("--learning-rate", type=options.positive_float, default=None,
                   help=f"default {DEMO_LEARNING_RATE:g} (--course: {COURSE_LEARNING_RATE})")
    p.add_argument("--loss", type=options.choice(list(LOSSES), "loss"), default=None,
                   help=f"default {DEMO_LOSS}, the course's E = 1/(2m) sum (y - y_hat)^2")
    p.add_argument("--seed", type=options.seed, default=None,
                   help=f"seed of the initial weights (default {DEMO_SEED})")
    p.add_argument("--split-seed", type=options.seed, default=None,
                   help=f"seed choosing the 40 held-out rows (default {DEMO_SPLIT_SEED})")
    p.add_argument("--course", action="store_true",
                   help="the course's settings: 900 epochs, learning rate 0.005, seed 21")
    p.set_defaults(func=run_demo)

    p = _parser(subparsers, "train", "train a network on a CSV file",
                "Train a network on any CSV file. Numeric columns are standardized, text "
                "columns\n(and --categorical ones) one-hot encoded; the target is a class "
                "(classification)\nor a number (regression), guessed unless --task is given. "
                "Writes model.safetensors,\nmetrics.json, loss.png and network.png to --out.",
                "  slopes train admissions.csv --target admit --categorical rank --out model\n"
                "  slopes train houses.csv --target price --task regress --hidden 16,16 "
                "--epochs 300\n"
                "  slopes train flowers.csv --target species --cv 5\n"
                "  slopes train visits.csv --target bought --sample-weight weight\n")
    p.add_argument("data", metavar="DATA.csv", help="CSV file with a header line (or, "
                   "streamed, a .parquet file)")
    p.add_argument("--target", required=True, metavar="COL", help="the column to predict")
    p.add_argument("--task", choices=["classify", "regress"], default=None,
                   help="default: guessed from the target column")
    columns = p.add_mutually_exclusive_group()
    columns.add_argument("--features", type=options.column_list, default=None,
                         metavar="COL,...", help="learn from these columns only")
    columns.add_argument("--drop", type=options.column_list, default=None, metavar="COL,...",
                         help="leave these columns out (IDs, names, dates...)")
    p.add_argument("--categorical", type=options.column_list, default=None, metavar="COL,...",
                   help="numeric columns to one-hot encode, like rank")
    p.add_argument("--fill-missing", action="store_true",
                   help="fill missing values (numbers: the training rows' mean; text: a "
                        "'(missing)' category) instead of stopping")
    p.add_argument("--hidden", type=options.hidden_sizes, default=None, metavar="SIZES",
                   help="hidden layer sizes, comma-separated (default: one layer of "
                        "2 x (inputs + classes) nodes, kept within 16..128; said when "
                        "training starts)")
    p.add_argument("--activation", type=options.choice(HIDDEN_ACTIVATIONS, "activation"),
                   default="relu", help=f"hidden layers' activation: "
                   f"{', '.join(HIDDEN_ACTIVATIONS)} (default relu)")
    p.add_argument("--loss", type=options.choice(list(LOSSES), "loss"), default=None,
                   help="default: binary_crossentropy (2 classes), categorical_crossentropy "
                        "(more), mse (regression)")
    p.add_argument("--optimizer", type=options.choice(list(OPTIMIZERS), "optimizer"),
                   default="adam", help=f"{', '.join(OPTIMIZERS)} (default adam; adamw: "
                   f"Adam with decoupled weight decay {AdamW().weight_decay:g}, PyTorch's)")
    p.add_argument("--learning-rate", type=options.positive_float, default=0.01,
                   help="default 0.01")
    p.add_argument("--schedule", type=options.schedule, default=None, metavar="SCHEDULE",
                   help="change the learning rate epoch by epoch, as torch.optim.lr_scheduler: "
                        + ", ".join(SCHEDULE_FORMS[:-1]) + " (default none: the same rate "
                        "every epoch)")
    p.add_argument("--l2", type=options.penalty, default=None, metavar="LAMBDA",
                   help="L2 penalty on the weights (not the biases): adds l2 x sum of "
                        "weight^2 to the loss, 2 x l2 x weight to each slope (default: 0 for "
                        "classification; regression trains with 0 and 0.1 and keeps the "
                        "lower validation loss)")
    p.add_argument("--l1", type=options.penalty, default=0.0, metavar="LAMBDA",
                   help="L1 penalty on the weights (not the biases): adds l1 x sum of "
                        "|weight| to the loss, l1 x sign(weight) to each slope (default 0: none)")
    p.add_argument("--dropout", type=options.dropout_rate, default=0.0, metavar="RATE",
                   help="fraction of each hidden layer's nodes dropped in every training step "
                        "(inverted dropout; never when predicting) (default 0: none)")
    p.add_argument("--clip-norm", type=options.positive_float, default=None, metavar="MAX",
                   help="scale a step's slopes down when their norm (all together) is over "
                        "MAX, as torch.nn.utils.clip_grad_norm_ (default: no clipping)")
    p.add_argument("--epochs", type=options.positive_int, default=200,
                   help="the most epochs to run (default 200)")
    p.add_argument("--batch-size", type=options.positive_int, default=None,
                   help="rows per step (default 32; on a cluster with slope averaging, "
                        "2048 per worker)")
    p.add_argument("--test-size", type=options.fraction, default=0.1,
                   help="fraction of rows held out for testing (default 0.1)")
    p.add_argument("--validation-split", type=options.fraction, default=0.1,
                   help="fraction of the training rows held out to watch val_loss "
                        "(default 0.1)")
    p.add_argument("--early-stopping", action=argparse.BooleanOptionalAction, default=None,
                   help="stop when val_loss stops improving and keep the best epoch's "
                        "weights (default: on when there are validation rows)")
    p.add_argument("--patience", type=options.positive_int, default=10,
                   help="epochs without improvement before early stopping (default 10)")
    p.add_argument("--seed", type=options.seed, default=0,
                   help="seed of the split, the initial weights and shuffling (default 0)")
    p.add_argument("--out", type=options.output_path, default="slopes-model", metavar="DIR",
                   help="folder for the output files (default: slopes-model)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a model already in --out (default: refuse)")
    p.add_argument("--save-interrupted", action="store_true",
                   help="on Ctrl-C, still write the partly trained model (default: write "
                        "nothing and exit 130)")
    p.add_argument("--stream", action="store_true",
                   help="read the file in chunks instead of whole, for data bigger than "
                        "memory (automatic when the run would need more memory than is "
                        "available, and for .parquet files)")
    p.add_argument("--no-stream", action="store_true",
                   help="read the file whole even when the estimate says it needs more "
                        "memory than is available")
    p.add_argument("--chunk-rows", type=options.positive_int, default=None, metavar="N",
                   help="rows per chunk when streaming (default 100,000)")
    p.add_argument("--cv", type=cv_folds, default=None, metavar="K",
                   help="cross-validate instead: K folds (stratified for classification), "
                        "each held out once; prints each fold's score, their mean and spread; "
                        "writes metrics.json only, no model (as cross_val_score)")
    p.add_argument("--sample-weight", default=None, metavar="COL",
                   help="weigh each row's loss by this column (numbers >= 0; not an input); "
                        "the scores are weighted too")
    # Training on a Dask cluster (slopes.distributed): --workers, --scheduler, --average.
    cluster = p.add_mutually_exclusive_group()
    cluster.add_argument("--workers", type=options.positive_int, default=None, metavar="N",
                         help="train on a local Dask cluster of N worker processes, each "
                              "reading its own files of DATA (a file, a folder or a glob of "
                              "CSV/Parquet files); needs slopes[distributed]")
    cluster.add_argument("--scheduler", default=None, metavar="ADDRESS",
                         help="train on the Dask cluster whose scheduler is at ADDRESS "
                              "(tcp://host:8786); every worker must see DATA's files")
    p.add_argument("--average", choices=["weights", "slopes"], default=None,
                   help="with --workers/--scheduler: sum the workers' slopes at every step "
                        "(default; --batch-size rows split among the workers, 2048 per "
                        "worker when --batch-size is not given) or average the weights after "
                        "every epoch")
    p.set_defaults(func=run_train, check=functools.partial(check_train_options, parser=p))

    p = _parser(subparsers, "predict", "predict with a saved model",
                "Apply a model saved by `slopes train` or `slopes demo` to the rows of a CSV "
                "file. The file\nneeds the columns the model was trained on (the target column "
                "may be there or not).\nWrites the rows with predicted_<target> and, for "
                "classification, probability_<class>\nfor each class.",
                "  slopes predict slopes-model/model.safetensors new.csv --out predictions.csv\n")
    p.add_argument("model", metavar="MODEL", type=options.model_file,
                   help="a model.safetensors file, or the folder slopes train wrote it in")
    p.add_argument("data", metavar="DATA.csv")
    p.add_argument("--out", type=options.output_path, default=None, metavar="FILE",
                   help="CSV file to write (default: print to stdout); never the input or the "
                        "model file")
    p.add_argument("--overwrite", action="store_true",
                   help="allow --out to replace a model file, or a file of a model's folder "
                        "(default: refuse)")
    p.set_defaults(func=run_predict)

    p = _parser(subparsers, "explain", "show every value and slope for one row",
                "Trace one row through a saved model. Print the inputs ranked by how much each "
                "moved the\nprediction (the slope of the prediction, and slope x value), then "
                "the weights with the\nlargest slopes: each weight's value, the three factors "
                "of its slope and the update the\nmodel's own optimizer would make. A row "
                "without its target (no target column, or an empty\ncell) explains the "
                "prediction: for a class, the predicted class stands in as the target;\nfor a "
                "number, the slopes are those of the prediction itself. Writes network.png "
                "with\nthe values and slopes; --html writes the interactive page.\n" + ROWS_NOTE,
                "  slopes explain slopes-demo/model.safetensors admissions.csv --row 0\n"
                "  slopes explain model.safetensors data.csv --row 3 --top 5 --layer 0 "
                "--html page.html\n")
    p.add_argument("model", metavar="MODEL", type=options.model_file,
                   help="a model.safetensors file, or the folder slopes train wrote it in")
    p.add_argument("data", metavar="DATA.csv")
    p.add_argument("--row", type=options.row_number, required=True, metavar="N",
                   help="the row to explain (0 is the first data row)")
    p.add_argument("--out", type=options.output_path, default="slopes-explain", metavar="DIR",
                   help="folder for network.png (default: slopes-explain)")
    p.add_argument("--top", type=options.positive_int, default=10, metavar="N",
                   help="rank the N inputs that moved the prediction most, and list the N "
                        "weights with the largest slopes in each layer (default 10)")
    p.add_argument("--layer", type=options.row_number, default=None, metavar="K",
                   help="list the weights of layer K only (0 is the layer the inputs feed)")
    p.add_argument("--html", type=options.output_path, default=None, metavar="FILE",
                   help="also write the interactive page: one self-contained HTML file; "
                        "hover a weight to see its factors and update")
    p.add_argument("--overwrite", action="store_true",
                   help="allow --out and --html to replace a model file, or a file of a "
                        "model's folder such as its network.png (default: refuse)")
    p.set_defaults(func=run_explain)

    p = _parser(subparsers, "export", "write a saved model as an ONNX or PyTorch file",
                EXPORT_DESCRIPTION, EXPORT_EXAMPLE)
    p.add_argument("model", metavar="MODEL", type=options.model_file,
                   help="a model.safetensors file, or the folder slopes train wrote it in")
    p.add_argument("--onnx", type=options.output_path, default=None, metavar="FILE",
                   help="the ONNX file to write (replaced if it exists)")
    p.add_argument("--torch", type=options.output_path, default=None, metavar="FILE",
                   help="the PyTorch file to write (torch.export, .pt2; needs torch)")
    p.add_argument("--overwrite", action="store_true",
                   help="allow replacing a model file, or a file of a model's folder "
                        "(default: refuse)")
    p.set_defaults(func=run_export, check=functools.partial(check_export_options, parser=p))
