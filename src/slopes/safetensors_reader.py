"""Reading a safetensors file in two steps: its header, checked, then its tensors.

:func:`read_header` reads the header alone (the list of tensors with their
dtypes, shapes and places, and the metadata) and checks it as safetensors
would, without reading any tensor data: the header's length within the limit
the caller gives, a JSON object, each tensor's bytes fitting its dtype and
shape, the tensors filling the rest of the file exactly. :mod:`slopes.io`
checks the metadata against those tensors before :func:`read_tensors` reads
their data, so a file with an extra or oversized tensor is refused unread.

Every problem is a :class:`~slopes.errors.ModelFileError` naming the file; not
enough memory is said as such (:func:`out_of_memory`), not as damage.
"""

from __future__ import annotations

import errno
import json
import math
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import safetensors

from .errors import ModelFileError
from .model_file_checks import MAX_METADATA_CHARS, TensorInfo, is_int, show, unique_keys

__all__ = ["out_of_memory", "read_header", "read_tensors"]

# safetensors' dtype names: the NumPy name (for messages) and the bytes per value.
_SAFETENSORS_DTYPES = {
    "F64": ("float64", 8), "F32": ("float32", 4), "F16": ("float16", 2),
    "BF16": ("bfloat16", 2), "F8_E5M2": ("float8_e5m2", 1), "F8_E4M3": ("float8_e4m3", 1),
    "I64": ("int64", 8), "I32": ("int32", 4), "I16": ("int16", 2), "I8": ("int8", 1),
    "U64": ("uint64", 8), "U32": ("uint32", 4), "U16": ("uint16", 2), "U8": ("uint8", 1),
    "BOOL": ("bool", 1),
}


def _not_safetensors(path: Path, why: str) -> ModelFileError:
    return ModelFileError(path, "is not a valid safetensors file (truncated, corrupt or another "
                                f"format): {why}")


def out_of_memory(path: Path, what: str) -> ModelFileError:
    # Not "damaged": the same file may load on a machine with more memory.
    return ModelFileError(path, f"cannot be read: not enough memory for {what} (a memory "
                                "limit, not a damaged file)")


def _file_size(path: Path) -> int:
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise ModelFileError(path, "no such file") from exc
    except OSError as exc:  # e.g. a folder on the way that this user may not enter
        raise ModelFileError(path, f"cannot be read: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(info.st_mode):
        raise ModelFileError(path, "is not a file")
    size = info.st_size
    if size < 8:
        raise ModelFileError(path, f"is {size} bytes long: empty or truncated, not a model file")
    return size


def _header_bytes(path: Path, size: int, max_header_bytes: int) -> bytes:
    """The JSON header of the safetensors file ``path``: its length first, then at most
    ``max_header_bytes`` bytes; nothing of the tensor data."""
    try:
        with open(path, "rb") as f:
            n = int.from_bytes(f.read(8), "little")
            if n > size - 8:
                raise _not_safetensors(path, f"its header length says {n:,} bytes, but only "
                                             f"{size - 8:,} bytes follow")
            if n > max_header_bytes:
                raise ModelFileError(
                    path, f"has a header of {n:,} bytes; the limit is {max_header_bytes:,} "
                          f"bytes (the list of tensors and the metadata, each entry at most "
                          f"{MAX_METADATA_CHARS:,} characters)")
            raw = f.read(n)
    except OSError as exc:  # a file this user may not read gets here, not "no such file"
        raise ModelFileError(path, f"cannot be read: {exc.strerror or exc}") from exc
    except MemoryError as exc:
        raise out_of_memory(path, "its header") from exc
    if len(raw) != n:  # the file shrank while it was read
        raise _not_safetensors(path, f"its header of {n:,} bytes is cut short")
    return raw


def _tensor_info(path: Path, name: str, entry: Any) -> tuple[TensorInfo, int, int]:
    """The header's description of tensor ``name`` and where its data lies."""
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise _not_safetensors(path, f"tensor {show(name)} is described by "
                                     f"{show(entry)}, not by dtype, shape and data_offsets")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(dtype, str):
        raise _not_safetensors(path, f"tensor {show(name)} has dtype {show(dtype)}")
    if not isinstance(shape, list) or not all(is_int(d) and d >= 0 for d in shape):
        raise _not_safetensors(path, f"tensor {show(name)} has shape {show(shape)}; expected "
                                     "a list of whole numbers >= 0")
    if not (isinstance(offsets, list) and len(offsets) == 2
            and all(is_int(o) and o >= 0 for o in offsets) and offsets[0] <= offsets[1]):
        raise _not_safetensors(path, f"tensor {show(name)} has data_offsets {show(offsets)}; "
                                     "expected [begin, end] with 0 <= begin <= end")
    begin, end = offsets
    known = _SAFETENSORS_DTYPES.get(dtype)
    if known is not None and math.prod(shape) * known[1] != end - begin:
        raise _not_safetensors(
            path, f"tensor {show(name)} of shape {tuple(shape)} and dtype {known[0]} needs "
                  f"{math.prod(shape) * known[1]:,} bytes, but its data_offsets span "
                  f"{end - begin:,}")
    return TensorInfo(known[0] if known else dtype, tuple(shape), end - begin), begin, end


def read_header(path: Path,
                max_header_bytes: int) -> tuple[dict[str, TensorInfo], dict[str, str]]:
    """The tensors the header of ``path`` describes, and its metadata; no tensor data is read.

    The checks are those safetensors makes: the header is a JSON object, each tensor's
    bytes fit its dtype and shape, and the tensors fill the rest of the file exactly.
    A header longer than ``max_header_bytes`` (:data:`slopes.io.MAX_HEADER_BYTES` for a
    model file) is refused before it is read.
    """
    size = _file_size(path)
    raw = _header_bytes(path, size, max_header_bytes)
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=unique_keys)
    except MemoryError as exc:
        raise out_of_memory(path, f"its header of {len(raw):,} bytes") from exc
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _not_safetensors(path, f"its header is not JSON text: {exc}") from exc
    if not isinstance(header, dict):
        raise _not_safetensors(path, f"its header is {show(header)}, not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _not_safetensors(path, "its __metadata__ is not an object of text values")
    infos: dict[str, TensorInfo] = {}
    spans = []
    for name, entry in header.items():
        infos[name], begin, end = _tensor_info(path, name, entry)
        spans.append((begin, end, name))
    reached = 0
    for begin, end, name in sorted(spans):
        if begin != reached:
            raise _not_safetensors(path, f"tensor {show(name)} starts at byte {begin:,} of the "
                                         f"data, not at {reached:,} where the one before ends")
        reached = end
    data = size - 8 - len(raw)
    if reached != data:
        raise _not_safetensors(path, f"its tensors hold {reached:,} bytes, but {data:,} bytes "
                                     "of data follow the header")
    return infos, metadata


def read_tensors(path: Path, infos: Mapping[str, TensorInfo]) -> dict[str, np.ndarray]:
    """The data of the tensors ``infos`` names, which the header checks have let through."""
    total = sum(info.nbytes for info in infos.values())
    try:
        with safetensors.safe_open(str(path), framework="numpy") as f:
            return {name: f.get_tensor(name) for name in infos}
    except MemoryError as exc:
        raise out_of_memory(path, f"its {total:,} bytes of tensors") from exc
    except OSError as exc:
        if exc.errno == errno.ENOMEM:
            raise out_of_memory(path, f"its {total:,} bytes of tensors") from exc
        raise ModelFileError(path, f"cannot be read: {exc.strerror or exc}") from exc
    except Exception as exc:  # safetensors raises its own error types for bad files
        if "os error 12" in str(exc):  # ENOMEM, from mapping the file into memory
            raise out_of_memory(path, f"its {total:,} bytes of tensors") from exc
        if "os error 13" in str(exc):  # EACCES: the file's permissions changed meanwhile
            raise ModelFileError(path, "cannot be read: Permission denied") from exc
        raise _not_safetensors(path, str(exc)) from exc
