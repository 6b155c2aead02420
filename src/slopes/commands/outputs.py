"""What the subcommands read and write: CSV tables in, output files out, all or nothing.

Every handler checks and computes everything first and writes its output
files last, all at once (:class:`OutputFiles`), so an error or Ctrl-C never
leaves a partial output behind. Files are written with the permissions a new
file normally gets (the umask), never the 0600 of a temporary file.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CommandError

__all__ = ["OutputFiles", "to_json", "training_settings", "print_written",
           "some_rows", "same_file", "warn", "ROWS_NOTE"]

ROWS_NOTE = "Rows are numbered from 0: row 0 is the first line after the header."


class OutputFiles:
    """Files to write to one directory, kept in memory until :meth:`commit`.

    ``commit`` writes each to a temporary name in the directory and only then
    renames them all into place, so a failure leaves no partial output.

    Parameters
    ----------
    directory : path
        The folder, as the user named it (messages repeat it as given).
    option : str
        The option that named the folder, for messages (``--out``).
    """

    def __init__(self, directory: str | os.PathLike[str], option: str = "--out") -> None:
        self.directory = Path(directory)
        self.option = option
        self.files: dict[str, bytes] = {}

    def add(self, name: str, data: bytes | str) -> None:
        self.files[name] = data.encode() if isinstance(data, str) else data

    def check(self) -> None:
        """Fail early when the directory cannot be used."""
        if self.directory.exists() and not self.directory.is_dir():
            raise CommandError(f"{self.option} {self.directory}: exists and is not a directory")

    def existing(self, name: str) -> Path | None:
        """The path of ``name`` in the directory when that file exists already."""
        path = self.directory / name
        return path if path.exists() else None

    def commit(self) -> list[Path]:
        from ..io import write_files_atomic

        self.check()
        try:
            return write_files_atomic(self.directory, self.files)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise CommandError(f"{self.option} {self.directory}: cannot write the output "
                               f"files: {reason}") from exc


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two paths name one file (through links and ``..`` too)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


# ---------------------------------------------------------------------- messages
def warn(message: str) -> None:
    """``warning: message`` on stderr: something the user should know, not an error."""
    print(f"warning: {message}", file=sys.stderr)


def some_rows(found: dict) -> str:
    """The first three ``{row: what}`` entries of ``found``, and how many more there are."""
    shown = "; ".join(f"row {r}: {what}" for r, what in list(found.items())[:3])
    return shown + (f" and {len(found) - 3} more" if len(found) > 3 else "")


# ------------------------------------------------------------------- reports
def to_json(data: Any) -> str:
    """``data`` as indented JSON; NaN and infinity (which JSON lacks) become ``null``."""
    def plain(value: Any) -> Any:
        if isinstance(value, float) and not np.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, np.generic):
            return plain(value.item())
        return value

    return json.dumps(plain(data), indent=2) + "\n"


def training_settings(history: Any, extra: dict[str, Any]) -> dict[str, Any]:
    """The settings to store in a model file: ``fit``'s parameters plus ``extra``."""
    params = dict(getattr(history, "params", {}) or {})
    params.update(extra)
    params["epochs_run"] = len(getattr(history, "epoch", []) or [])
    return json.loads(to_json(params))


def print_written(paths: Sequence[Path]) -> None:
    if paths:
        folder = paths[0].parent
        print(f"Wrote {', '.join(p.name for p in paths)} to {folder}{os.sep}")


def pictures(out: OutputFiles, net: Any, history: Any, X: np.ndarray, y: np.ndarray,
             loss: str, title: str) -> None:
    """Add ``loss.png`` (the loss per epoch) and ``network.png`` (one row traced) to ``out``."""
    from ..plot import draw_network, figure_to_png, plot_history

    out.add("loss.png", figure_to_png(plot_history(history)))
    trace = net.trace(X[:1], y[:1], loss=loss)
    out.add("network.png", figure_to_png(draw_network(trace, title=title)))
