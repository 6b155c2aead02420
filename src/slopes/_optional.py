"""Importing optional dependencies with an error that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require"]


def require(module: str, purpose: str, install: str = "pip install 'slopes[all]'") -> ModuleType:
    """Import ``module`` or raise an ``ImportError`` saying how to install it (``install``)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = {"sklearn": "scikit-learn"}.get(module.split(".")[0], module.split(".")[0])
        raise ImportError(
            f"{purpose} needs {package}, which is not installed; "
            f"install it with: {install}"
        ) from exc
