"""``slopes demo``: the course's 6-2-1 network trained on the admissions data it ships with.

The demo follows the course step by step, including its preprocessing: the
course standardizes ``gre`` and ``gpa`` over all 400 rows before holding any
out, so the demo does too (``slopes train`` learns the scaling from the
training rows only).
"""

from __future__ import annotations

import argparse

import numpy as np

from ..callbacks import LossMonitor, file_snapshots
from ..datasets import admissions_preprocessor, load_admissions, prepare_admissions
from ..io import model_bytes
from ..network import Network
from .options import MODEL_FILE
from .outputs import OutputFiles, OutputGuard, print_written, to_json, training_settings
from .pictures import HardestRow, pictures

__all__ = ["run_demo", "course_network", "DEMO_EPOCHS",
           "DEMO_LEARNING_RATE", "DEMO_LOSS", "DEMO_SEED", "DEMO_SPLIT_SEED", "COURSE_EPOCHS",
           "COURSE_LEARNING_RATE", "COURSE_SEED"]

# The demo's defaults learn visibly (the loss falls from 0.13 to 0.10) in about a
# second. The held-out rows are prepare_admissions' default split, not one picked
# for a flattering score: the admissions features predict admission weakly
# (10-fold cross-validated accuracy about 0.70 against 0.68 for always
# predicting "not admitted"), so on 40 rows the test accuracy lands near the base rate.
DEMO_EPOCHS, DEMO_LEARNING_RATE, DEMO_LOSS = 1000, 5.0, "half_mse"
DEMO_SEED, DEMO_SPLIT_SEED = 0, 42
# The course's hidden-layer exercise: 900 epochs, learnrate 0.005, np.random.seed(21).
COURSE_EPOCHS, COURSE_LEARNING_RATE, COURSE_SEED = 900, 0.005, 21


def course_network() -> Network:
    """The course's initial 6-2-1 weights: ``np.random.seed(21)`` then two ``normal`` draws.

    The course seeds NumPy's global generator; slopes never touches global
    state, so the same numbers come from a private ``RandomState(21)``.
    """
    rng = np.random.RandomState(COURSE_SEED)  # noqa: NPY002 - legacy stream, on purpose
    scale = 1 / 6 ** 0.5
    hidden = rng.normal(scale=scale, size=(6, 2))
    output = rng.normal(scale=scale, size=2)
    return Network.from_weights([hidden, output], activation="sigmoid")


def run_demo(args: argparse.Namespace) -> int:
    out = OutputFiles(args.out, [MODEL_FILE, "metrics.json", "loss.png", "network.png"],
                      OutputGuard(overwrite=args.overwrite))
    out.check()
    epochs = args.epochs or (COURSE_EPOCHS if args.course else DEMO_EPOCHS)
    lr = args.learning_rate or (COURSE_LEARNING_RATE if args.course else DEMO_LEARNING_RATE)
    loss = args.loss or DEMO_LOSS
    split_seed = DEMO_SPLIT_SEED if args.split_seed is None else args.split_seed
    data = prepare_admissions(test_size=0.1, seed=split_seed)
    if args.course and args.seed is None:
        net = course_network()
        init = "the course's np.random.seed(21) weights (drawn from a private RandomState(21))"
    else:
        seed = DEMO_SEED if args.seed is None else args.seed
        net = Network.mlp([6, 2, 1], activation="sigmoid", output="sigmoid", bias=False,
                          init="normal", seed=seed)
        init = f"normal(0, 1/sqrt(6)) weights, seed {seed}"
    n_train, n_test = len(data.targets), len(data.targets_test)
    print(f"The course's 6-2-1 sigmoid network on the admissions data: {n_train} rows to "
          f"train on, {n_test} held out (split seed {split_seed}).")
    print(f"Inputs: {', '.join(data.feature_names)}. Loss {loss}, learning rate {lr:g}, "
          f"{epochs} epochs of full-batch gradient descent, {init}.")
    snapshots = file_snapshots(net)  # for the epoch slider of `slopes explain --html`
    history = net.fit(data.features, data.targets, loss=loss, optimizer="sgd",
                      learning_rate=lr, epochs=epochs, shuffle=False,
                      callbacks=[c for c in (LossMonitor(), snapshots) if c], verbose=0)
    test_pred = net.predict(data.features_test)[:, 0] > 0.5
    accuracy = float(np.mean(test_pred == data.targets_test))
    base = float(np.mean(data.targets_test == 0))
    overall = float(np.mean(load_admissions()["admit"] == 0))
    train_acc = float(np.mean((net.predict(data.features)[:, 0] > 0.5) == data.targets))
    verdict = "better than" if accuracy > base else "no better than"
    print(f"Prediction accuracy on the {n_test} held-out rows: {accuracy:.3f} "
          f"({int(round(accuracy * n_test))} of {n_test} right), {verdict} always predicting "
          f"'not admitted' ({base:.3f} on these rows, {overall:.3f} on all 400).")
    print(f"Accuracy on the {n_train} training rows: {train_acc:.3f}.")

    y_test = data.targets_test.astype(np.int64)
    metrics = {
        "task": "classify",
        "train": {"loss": history["loss"][-1], "accuracy": train_acc, "rows": n_train},
        "test": {"loss": net.evaluate(data.features_test, data.targets_test, loss=loss),
                 "accuracy": accuracy, "rows": n_test, "majority_class_accuracy": base},
        "base_rate_all_rows": overall,
    }
    training = training_settings(history, {"command": "demo", "split_seed": split_seed,
                                            "course": bool(args.course), "loss": loss,
                                            "learning_rate": lr})
    prep = admissions_preprocessor()
    out.add(MODEL_FILE, model_bytes(net, prep, training, history, snapshots))
    out.add("metrics.json", to_json(metrics))
    # network.png traces the held-out row with the largest loss; rows numbered as in the file.
    hardest = HardestRow(net, loss)
    hardest.add(data.features_test, y_test, data.test_rows)
    pictures(out, net, history, loss, hardest.best, prep, "the admissions data")
    print_written(out.commit())
    return 0
