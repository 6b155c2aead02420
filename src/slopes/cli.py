"""The ``slopes`` command: one subcommand per module, wired here.

Each subcommand module exposes ``register(subparsers)``, which adds its
parser and sets ``func`` (called with the parsed arguments, returning an exit
code). Exit codes: 0 success, 1 data or file error, 2 usage error, 130 Ctrl-C,
141 the reader of the output went away (a closed pipe, like ``| head``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from .errors import CommandError, TrainingDiverged
from .version import __version__

__all__ = ["main", "CommandError", "EXAMPLES"]

# Modules that register subcommands, in the order `slopes --help` lists them.
SUBCOMMAND_MODULES = ("slopes.commands", "slopes.lessons")


#: The epilog of ``slopes --help``; tests/test_cli_help.py runs every ``slopes`` line of it.
EXAMPLES = """\
examples (admissions.csv: any CSV file with a header line; the course's admissions data
is slopes.datasets.load_admissions()):
  slopes demo --out slopes-demo
      the course's 6-2-1 network on its admissions data: scores, loss.png, network.png
  slopes train admissions.csv --target admit --categorical rank --out model
      a network for any CSV file, scored on held-out rows next to baselines
  slopes predict model admissions.csv --out predictions.csv
      the model's predictions (and class probabilities) for every row
  slopes explain model admissions.csv --row 0 --out explained
      every value and slope for one row (without its target: the prediction explained)
  slopes export model --onnx model.onnx
      the model as an ONNX file, its preprocessing included

'slopes COMMAND --help' describes a command and its options."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="slopes",
        description="Train neural networks by backpropagation and see every slope.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback when something fails")
    parser.add_argument("--version", action="version", version=f"slopes {__version__}",
                        help="print the version of slopes and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    check = getattr(args, "check", None)
    if check is not None:
        # Checks across options, before any data is read; a failure exits 2 like argparse.
        check(args)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows up here, while it can still be caught
        return code
    except BrokenPipeError:
        # The reader went away (`slopes lessons 7 | head`): stop quietly, as `cat` would.
        _silence_stdout()
        return 141
    except KeyboardInterrupt:
        print("slopes: interrupted", file=sys.stderr)
        return 130
    except (CommandError, TrainingDiverged, ValueError, TypeError, OSError, ImportError) as exc:
        if args.debug:
            raise
        message = str(exc)
        if isinstance(exc, TrainingDiverged):  # the option, not the Python argument
            message = message.replace("e.g. learning_rate=", "e.g. --learning-rate ")
        print(f"slopes {args.command}: error: {message}", file=sys.stderr)
        return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so Python's final flush into a closed pipe says nothing."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":  # pragma: no cover
    # Run the package's own module, not this __main__ copy, so the CommandError
    # that subcommand modules import from slopes.cli is the one caught above.
    from slopes.cli import main as _main

    sys.exit(_main())
