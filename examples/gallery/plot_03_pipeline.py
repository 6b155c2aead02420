"""
A scikit-learn pipeline
=======================

``SlopesClassifier`` is a scikit-learn estimator: here in a pipeline with a
``StandardScaler``, cross-validated on scikit-learn's breast cancer data, then fitted
once more to show its training and validation loss curves and the trained network's
slopes.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from slopes.sklearn import SlopesClassifier

X, y = load_breast_cancer(return_X_y=True)
model = make_pipeline(StandardScaler(),
                      SlopesClassifier(hidden_layer_sizes=(16,), epochs=50, early_stopping=True,
                                       random_state=0))
scores = cross_val_score(model, X, y, cv=5)
print(f"accuracy over 5 folds: {scores.mean():.3f} +- {scores.std():.3f}")

# %%
# The loss per epoch of one fit on all the rows (10% of them watch the validation loss):

clf = model.fit(X, y)[-1]
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(range(1, len(clf.loss_curve_) + 1), clf.loss_curve_, label="training loss")
ax.plot(range(1, len(clf.validation_loss_curve_) + 1), clf.validation_loss_curve_,
        label="validation loss")
ax.set(xlabel="epoch", ylabel="binary cross-entropy", title="SlopesClassifier in a pipeline")
ax.legend()
fig.tight_layout()

# %%
# The trained network is a slopes ``Network``: every slope explainable. A row the model
# gets right with confidence has slopes near 0; the row it gets most wrong shows them
# best. The sigmoid output is the probability of ``classes_[1]``.

wrong = np.abs(model.predict_proba(X)[:, 1] - y)
row = int(wrong.argmax())
p = model.predict_proba(X[row:row + 1])[0, 1]
print(f"row {row}: actual {y[row]}, probability of 1: {p:.3f}")
trace = clf.network_.trace(model[0].transform(X[row:row + 1]), y[row:row + 1],
                           loss="binary_crossentropy")
node = int(np.abs(trace.weight_slopes[1][:, 0]).argmax())
print(trace.explain(1, node, 0))
