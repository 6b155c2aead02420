"""Reading and rewriting a model file's parts, for the tests that alter model files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save as st_save

from slopes.io import checksum


def read_parts(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The tensors and the metadata of the model file ``path``."""
    with safe_open(str(path), framework="numpy") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, dict(f.metadata())


def write_parts(path: Path, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    """Write a model file with a checksum that matches, so the checks after it are reached."""
    metadata = dict(metadata)
    metadata["checksum"] = checksum(tensors, metadata)
    path.write_bytes(st_save(tensors, metadata=metadata))
