"""The course's vanishing-gradient lesson, measured: a deep sigmoid network against a relu one.

A sigmoid's slope is at most 0.25, so every sigmoid layer shrinks the slopes
passed back through it; relu passes them on unchanged where its nodes are active.

Run: .venv/bin/python examples/diagnose_vanishing.py
"""

import numpy as np

import slopes

rng = np.random.default_rng(0)
X = rng.normal(size=(200, 10))
y = (X[:, 0] > 0).astype(float)
for activation in ("sigmoid", "relu"):
    net = slopes.Network.mlp([10, 16, 16, 16, 16, 16, 1], activation=activation,
                             output="sigmoid", seed=0)
    print(f"--- six layers, {activation} hidden nodes")
    print(slopes.diagnose(net, X, y, loss="binary_crossentropy"))
    print()
