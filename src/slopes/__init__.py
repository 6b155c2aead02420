"""slopes: train neural networks by backpropagation and gradient descent, and see every number.

>>> import numpy as np, slopes
>>> net = slopes.Network.from_weights(
...     {"node_0": [2, 1], "node_1": [1, 2], "output": [1, 1]}, activation="relu")
>>> net.predict(np.array([0, 3]))
array([9.])
"""

from __future__ import annotations

import importlib
from typing import Any

from .activations import Activation, get_activation
from .errors import CommandError, ModelFileError, TrainingDiverged
from .layers import Dense
from .losses import Loss, get_loss
from .network import Network
from .version import __version__

# Names imported on first use, so `import slopes` needs neither pandas nor
# matplotlib, and modules with optional dependencies load only when asked for;
# so `import slopes` costs little more than `import numpy`
# (benchmarks/train_mlp.py measures it).
_LAZY = {
    "GradientCheck": "slopes.gradcheck",
    "History": "slopes.callbacks",
    "Trace": "slopes.trace",
    "check_gradients": "slopes.gradcheck",
    "diagnose": "slopes.diagnostics",
    "load": "slopes.io",
    "report": "slopes.page",
}
_LAZY_MODULES = ("optimizers", "callbacks", "plot", "datasets", "preprocessing", "io",
                 "diagnostics", "export", "schedules", "penalties")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _LAZY_MODULES:
        return importlib.import_module(f"slopes.{name}")
    raise AttributeError(f"module 'slopes' has no attribute {name!r}")


__all__ = [
    "Activation",
    "CommandError",
    "Dense",
    "GradientCheck",
    "History",
    "Loss",
    "ModelFileError",
    "Network",
    "Trace",
    "TrainingDiverged",
    "__version__",
    "check_gradients",
    "diagnose",
    "get_activation",
    "get_loss",
    "load",
    "report",
]
