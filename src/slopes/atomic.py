"""Atomic writing of any file: a temporary file beside it, then ``os.replace``.

A crash never leaves a half-written file: ``path`` is either the old file or the
complete new one. The file gets the permissions a new file normally gets
(``0o666`` less the umask), or keeps those of the file it replaces; a failure
raises :class:`FileWriteError` (an ``OSError``) naming the path as given, never
the temporary file. :func:`write_files_atomic` writes several files into one
folder, all or none of them.

Model files (:func:`slopes.io.save`), exported models (:mod:`slopes.export`),
the page (:mod:`slopes.page`) and the files of the commands are written here.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["FileWriteError", "write_atomic", "write_files_atomic"]


class FileWriteError(OSError):
    """A file could not be written; the message names the path as the user gave it.

    ``str(exc)`` is ``"cannot write <path>: <problem>"``. Attributes: ``filename``
    (that path), ``strerror`` (the problem alone, for callers that add their
    own prefix) and ``errno`` (of the underlying error, or None). The
    underlying ``OSError``, which may name a temporary file, is the ``__cause__``.
    """

    def __init__(self, path: str | os.PathLike[str], problem: str,
                 error_number: int | None = None) -> None:
        super().__init__(error_number, problem, os.fspath(path))

    def __str__(self) -> str:
        return f"cannot write {self.filename}: {self.strerror}"

    def __reduce__(self) -> tuple[Any, ...]:
        # OSError pickles as cls(*args) = cls(errno, strerror): the path would be lost.
        return type(self), (self.filename, self.strerror, self.errno)


def _folder_name(folder: Path) -> str:
    if str(folder) not in ("", "."):
        return str(folder)
    try:
        # "folder . is not writable" helps nobody; name the working directory.
        return f"{os.getcwd()} (the current folder)"
    except OSError:
        return "the current folder"


def _problem(exc: OSError, target: Path, replacing: bool = False) -> str:
    """Why writing ``target`` failed, in words, without temporary names."""
    folder = target.parent
    code = exc.errno
    if code in (errno.EACCES, errno.EPERM):
        if replacing:  # e.g. a sticky folder where the old file belongs to someone else
            return (f"permission denied (the old file in folder {_folder_name(folder)} cannot "
                    "be replaced)")
        return f"permission denied (folder {_folder_name(folder)} is not writable)"
    if code == errno.EROFS:
        return f"folder {_folder_name(folder)} is on a read-only file system"
    if code == errno.ENOENT:
        return f"the folder {_folder_name(folder)} does not exist"
    if code == errno.ENOTDIR:
        return f"{_folder_name(folder)} is not a folder"
    if code == errno.EISDIR:
        return f"{target} is a folder"
    if code == errno.ENOSPC:
        return "no space left on the device"
    if code == getattr(errno, "EDQUOT", None):
        return "disk quota exceeded"
    reason = exc.strerror or str(exc) or type(exc).__name__
    return reason[:1].lower() + reason[1:]


def _old_mode(target: Path, shown: str) -> int | None:
    """The permission bits of the file being replaced, or None for a new file."""
    try:
        info = os.stat(target)
    except FileNotFoundError:
        return None
    except OSError as exc:  # the folder is not a folder, or not searchable
        raise FileWriteError(shown, _problem(exc, target), exc.errno) from exc
    if stat.S_ISDIR(info.st_mode):
        raise FileWriteError(shown, f"{target} is a folder", errno.EISDIR)
    # Only rwx bits: carrying set-user-ID or sticky bits over to new content would be a surprise.
    return stat.S_IMODE(info.st_mode) & 0o777


def _write_temp(target: Path, data: bytes, shown: str) -> str:
    """Write ``data`` to a new temporary file beside ``target``; return its name.

    Unlike ``tempfile.mkstemp`` (always 0600), a temporary file for a new
    ``target`` is created with mode 0o666, so the kernel applies the umask (and
    any default ACL) exactly as for an ordinary new file; reading the umask
    would mean changing it, which is process-global and races with other
    threads. For an existing ``target`` the file starts as 0600 (its content
    is never more visible than the old file's) and gets the old permission
    bits before any data is written. Errors name ``shown``.
    """
    mode = _old_mode(target, shown)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = os.path.join(target.parent, f".{target.name}.{os.urandom(4).hex()}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666 if mode is None else 0o600)
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise FileWriteError(shown, _problem(exc, target), exc.errno) from exc
    else:  # pragma: no cover (100 random names all taken)
        raise FileWriteError(shown, "no free temporary file name in its folder", errno.EEXIST)
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None:
                if hasattr(os, "fchmod"):
                    os.fchmod(f.fileno(), mode)
                else:  # pragma: no cover (Windows before Python 3.13)
                    os.chmod(tmp, mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException as exc:
        _remove(tmp)
        if isinstance(exc, OSError):
            raise FileWriteError(shown, _problem(exc, target), exc.errno) from exc
        raise
    return tmp


def _replace(tmp: str, target: Path, shown: str) -> None:
    try:
        os.replace(tmp, target)
    except OSError as exc:
        raise FileWriteError(shown, _problem(exc, target, replacing=True), exc.errno) from exc


def _remove(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass  # already gone, or the folder went away: nothing left to clean


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``.

    The temporary file lives in the same directory (so the replace is atomic)
    and is removed if anything fails; ``path`` is either the old file or the
    complete new one, never half of it.

    A new file gets mode ``0o666`` less the umask, like any new file; a
    replaced file keeps its permission bits.

    Raises
    ------
    FileWriteError
        An ``OSError`` whose message names ``path`` as given (never the
        temporary file) and says why, e.g. ``cannot write m.safetensors:
        permission denied (folder /x is not writable)``; ``filename`` is
        ``path``, ``strerror`` the part after the colon.
    """
    shown = os.fspath(path)
    target = Path(path)
    tmp = _write_temp(target, data, shown)
    try:
        _replace(tmp, target, shown)
    except BaseException:
        _remove(tmp)
        raise
    return target


def _check_file_name(name: Any) -> None:
    if (not isinstance(name, str) or name in ("", ".", "..") or "\0" in name
            or any(sep and sep in name for sep in ("/", os.sep, os.altsep))):
        raise ValueError(f"file names must be plain names without a folder, got {name!r}")


def _remove_folders(created: list[Path]) -> None:
    # Innermost first; a folder that is not empty (or not ours any more) stays.
    for folder in created:
        try:
            folder.rmdir()
        except OSError:
            return


def write_files_atomic(directory: str | os.PathLike[str],
                       files: Mapping[str, bytes]) -> list[Path]:
    """Write several files into ``directory``, all or none of them.

    Every file is first written to a temporary name in ``directory`` (created,
    with its parents, when missing); only when all are written are they
    renamed into place. On failure the temporary files are removed, and so are
    the folders this call created if they are still empty. Permissions follow
    :func:`write_atomic`: ``0o666`` less the umask for a new file, the old
    mode for a replaced one.

    Parameters
    ----------
    directory : str or PathLike
    files : mapping of str to bytes
        Plain file names (no folder part) and their contents.

    Returns
    -------
    list of Path
        ``directory / name`` for each file, in the order given.

    Raises
    ------
    FileWriteError
        An ``OSError`` naming the folder or the file (``directory / name``),
        never a temporary file. A failure while renaming (after every file
        was written) can leave the files renamed so far in place: each file
        is then either completely old or completely new.
    ValueError
        When a name is not a plain file name.
    """
    shown = os.fspath(directory)
    directory = Path(directory)
    for name in files:
        _check_file_name(name)
    created: list[Path] = []
    try:
        if directory.exists() and not directory.is_dir():
            raise FileWriteError(shown, "exists and is not a folder", errno.ENOTDIR)
        missing = directory
        while not missing.exists() and missing != missing.parent:
            created.append(missing)
            missing = missing.parent
        directory.mkdir(parents=True, exist_ok=True)
    except FileWriteError:
        raise
    except OSError as exc:
        failed = Path(exc.filename) if exc.filename else directory
        _remove_folders(created)
        raise FileWriteError(shown, "cannot create the folder: " + _problem(exc, failed),
                             exc.errno) from exc
    temps: dict[str, str] = {}
    try:
        for name, data in files.items():
            temps[name] = _write_temp(directory / name, data, os.path.join(shown, name))
        for name in files:
            _replace(temps[name], directory / name, os.path.join(shown, name))
            del temps[name]  # renamed: nothing left to clean up for this one
    except BaseException:
        for tmp in temps.values():
            _remove(tmp)
        _remove_folders(created)
        raise
    return [directory / name for name in files]
