"""
Training on the admissions data
===============================

The course's admissions data (400 applicants: GRE score, GPA, the rank of their school;
admitted or not), one-hot encoded and standardized by a preprocessor learned from the
training rows only, and a small network trained with Adam and early stopping. The loss
curves show the training and validation loss per epoch.
"""

import numpy as np

import slopes
from slopes.callbacks import EarlyStopping
from slopes.datasets import load_admissions
from slopes.preprocessing import TabularPreprocessor

table = load_admissions()
rng = np.random.default_rng(0)
test = rng.permutation(len(table)) < 40  # 40 rows held out
prep = TabularPreprocessor(target="admit", categorical=["rank"]).fit(table[~test])
X, y = prep.transform(table[~test]), prep.transform_target(table[~test]["admit"])
print(prep.feature_names)

net = slopes.Network.mlp([X.shape[1], 8, 1], activation="relu", output="sigmoid", seed=0)
history = net.fit(X, y, loss="binary_crossentropy", optimizer="adam", learning_rate=0.01,
                  epochs=200, batch_size=32, validation_split=0.1, metrics=["accuracy"],
                  callbacks=[EarlyStopping(patience=10)], seed=0, verbose=0)

X_test = prep.transform(table[test])
y_test = prep.transform_target(table[test]["admit"])
accuracy = np.mean((net.predict(X_test)[:, 0] > 0.5) == y_test)
print(f"test accuracy {accuracy:.3f}; always 'not admitted': {np.mean(y_test == 0):.3f}")

# %%
# The loss per epoch (early stopping kept the weights of the best validation loss):

figure = history.plot()
