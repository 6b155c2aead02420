"""
Two moons, and what each node computes
======================================

scikit-learn's ``make_moons``: two interleaving half circles that no straight line
separates. A 2-6-3-1 tanh network learns them; ``WeightSnapshots`` records its weights
every epoch, and ``slopes.report`` writes the interactive page, whose plane view
(``slopes.plane``) shows each hidden and output node's value over the plane of the two
inputs, with the training points, and whose slider scrubs through the epochs.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons

import slopes
from slopes.callbacks import WeightSnapshots

X, y = make_moons(n_samples=200, noise=0.15, random_state=0)
y = y.astype(float)
net = slopes.Network.mlp([2, 6, 3, 1], activation="tanh", output="sigmoid", seed=0)
snapshots = WeightSnapshots()
history = net.fit(X, y, loss="binary_crossentropy", optimizer="adam", learning_rate=0.03,
                  epochs=100, batch_size=16, callbacks=[snapshots], seed=0, verbose=0)
print(f"training accuracy {np.mean((net.predict(X)[:, 0] > 0.5) == y):.3f}")

# %%
# The network's output over the plane, drawn with matplotlib: the probability of class 1.

xx, yy = np.meshgrid(np.linspace(-1.6, 2.6, 120), np.linspace(-1.1, 1.5, 90))
p = net.predict(np.c_[xx.ravel(), yy.ravel()])[:, 0].reshape(xx.shape)
fig, ax = plt.subplots(figsize=(5, 4))
ax.contourf(xx, yy, p, levels=20, cmap="RdBu", alpha=0.8)
ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu", edgecolors="k", s=15)
ax.set(xlabel="x1", ylabel="x2", title="probability of class 1 after 100 epochs")
fig.tight_layout()

# %%
# The interactive page, with the plane view: move the slider through the epochs, hover a
# weight to see its slope's three factors. The page traces one row: a row the network
# gets right with confidence has slopes near 0, so it traces the one with the largest
# loss, the row the network gets most wrong.

row = int(np.abs(net.predict(X)[:, 0] - y).argmax())
print(f"row {row}: {X[row].round(2)}, class {y[row]:.0f}, "
      f"probability of class 1 {net.predict(X[row])[0]:.3f}")
page = slopes.report(net, X, y, history=snapshots, row=row, input_names=["x1", "x2"],
                     output_names=["class 1"], title="Two moons: what each node computes")
page  # noqa: B018 (sphinx-gallery shows the last expression: the page, inline)
