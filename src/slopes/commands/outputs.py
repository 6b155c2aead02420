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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_atomic, write_files_atomic
from ..errors import CommandError
from .options import MODEL_FILE

__all__ = ["OutputFiles", "OutputGuard", "to_json", "training_settings", "print_written",
           "some_rows", "same_file", "warn", "ROWS_NOTE"]

ROWS_NOTE = "Rows are numbered from 0: row 0 is the first line after the header."


MODEL_SUFFIX = ".safetensors"


def _is_model_file(path: Path) -> bool:
    """Whether the existing file ``path`` is a model file: ``*.safetensors``, or one by its header.

    A safetensors file starts with the 8-byte little-endian length of a JSON
    header, whose first character is ``{``; a model saved from Python under
    another name is recognised by that.
    """
    if path.suffix.lower() == MODEL_SUFFIX:
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(9)
    except OSError:
        return False
    return len(head) == 9 and 2 <= int.from_bytes(head[:8], "little") < 2**32 and head[8:] == b"{"


class OutputGuard:
    """The one check every file a command writes goes through, before and at writing.

    A command names its inputs (the data file, the model file) once; then
    each output path it will write is :meth:`claim`-ed. A claim is refused
    (a :class:`~slopes.errors.CommandError` naming the option, the path and
    the reason) when the path

    - is an input of the same run (through links and ``..`` too): the data
      file, the model file;
    - is claimed by another output of the same run (``--html`` onto the
      ``network.png`` of ``--out``);
    - already holds a model file (``*.safetensors``, or a file with a
      safetensors header), or lies in a folder that holds ``model.safetensors``
      (the pictures and metrics of that model), unless ``overwrite`` is true
      (the command's ``--overwrite``).

    Other existing files (an old ``predictions.csv``) are replaced, atomically.

    Parameters
    ----------
    inputs : mapping of str to path
        What each input is called in messages (``"the data file"``), and its path.
    overwrite : bool
        The command's ``--overwrite``: replacing a model, or a file of a
        model's folder, is allowed.
    """

    def __init__(self, inputs: Mapping[str, str | os.PathLike[str] | None] | None = None,
                 overwrite: bool = False) -> None:
        self.inputs = {what: Path(path) for what, path in (inputs or {}).items()
                       if path is not None}
        self.overwrite = bool(overwrite)
        self.claimed: dict[Path, str] = {}

    def claim(self, path: str | os.PathLike[str], option: str,
              folder: str | os.PathLike[str] | None = None) -> Path:
        """Check that ``path`` may be written; return it.

        ``option`` names it in messages (``--html``); for a file of an output
        folder, ``folder`` is the folder as the user gave it (``--out DIR``),
        and messages name the file inside it.
        """
        path = Path(path)
        where = f"{option} {path}" if folder is None else f"{option} {folder}"
        inside = "" if folder is None else f"its {path.name} "
        again = option.split()[0]
        for what, given in self.inputs.items():
            if same_file(path, given):
                raise CommandError(f"{where}: {inside}is {what} {given}; refusing to "
                                   f"overwrite it, choose another {again}")
        key = _resolved(path)
        other = self.claimed.get(key)
        if other is not None and other != where:
            raise CommandError(f"{where}: {inside}is also written by {other} in this run; two "
                               "outputs cannot share a file, choose another name")
        if path.is_dir():
            raise CommandError(f"{where}: {inside}is a directory, expected a file name")
        if folder is None and not path.parent.exists():
            raise CommandError(f"{where}: the folder {path.parent} does not exist")
        if not self.overwrite and path.exists():
            if path.name == MODEL_FILE or _is_model_file(path):
                held = f"already holds {path.name}" if folder is not None else \
                    "is a model file"
                raise CommandError(f"{where}: {held}; add --overwrite to replace it, or choose "
                                   f"another {again}")
            if (path.parent / MODEL_FILE).is_file():
                raise CommandError(f"{where}: {path.name} there belongs to the model "
                                   f"{path.parent / MODEL_FILE}; add --overwrite to replace it, "
                                   f"or choose another {again}")
        self.claimed[key] = where
        return path

    def write(self, path: str | os.PathLike[str], data: bytes | str, option: str) -> Path:
        """Claim ``path`` and write ``data`` to it atomically (a one-line error if it cannot)."""
        path = self.claim(path, option)
        try:
            return write_atomic(path, data.encode() if isinstance(data, str) else data)
        except OSError as exc:
            raise CommandError(f"{option} {path}: cannot write: "
                               f"{exc.strerror or exc}") from exc


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


class OutputFiles:
    """Files to write to one directory, kept in memory until :meth:`commit`.

    ``commit`` writes each to a temporary name in the directory and only then
    renames them all into place, so a failure leaves no partial output. Every
    file goes through ``guard`` (:class:`OutputGuard`): when the command
    starts (:meth:`check`, for the ``names`` it will write) and again at
    :meth:`commit`.

    Parameters
    ----------
    directory : path
        The folder, as the user named it (messages repeat it as given).
    names : sequence of str
        The files the command will write there, checked by :meth:`check`
        before any work is done.
    guard : OutputGuard
        The run's guard (its inputs, ``--overwrite``).
    option : str
        The option that named the folder, for messages (``--out``).
    """

    def __init__(self, directory: str | os.PathLike[str], names: Sequence[str],
                 guard: OutputGuard, option: str = "--out") -> None:
        self.directory = Path(directory)
        self.names = list(names)
        self.guard = guard
        self.option = option
        self.files: dict[str, bytes] = {}

    def path(self, name: str) -> Path:
        return self.directory / name

    def add(self, name: str, data: bytes | str) -> None:
        self.files[name] = data.encode() if isinstance(data, str) else data

    def check(self) -> None:
        """Fail early when the directory cannot be used or a file may not be written."""
        if self.directory.exists() and not self.directory.is_dir():
            raise CommandError(f"{self.option} {self.directory}: exists and is not a directory")
        for name in self.names:
            self.guard.claim(self.path(name), self.option, self.directory)

    def commit(self) -> list[Path]:
        self.check()
        for name in self.files:
            self.guard.claim(self.path(name), self.option, self.directory)
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

