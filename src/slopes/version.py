"""The version of slopes, in one place below every module that writes it.

Model files (:mod:`slopes.io`) and exported ONNX models (:mod:`slopes.export`)
record it, ``slopes --version`` prints it, and ``slopes.__version__`` is this
string. ``pyproject.toml`` keeps its own copy for the packaging tools;
``tests/test_import.py`` checks that the two agree.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
