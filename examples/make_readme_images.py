"""Make the documentation's pictures: a traced network and a loss curve.

Run:  MPLBACKEND=Agg python examples/make_readme_images.py [--out docs/images]

- network.png: the course's last quiz (its network rebuilt from the course's numbers), a
  relu network traced on one sample:
  node values in the nodes, slopes of the loss in purple, weights on the edges.
- loss.png: training and validation loss of the admissions network per epoch.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import slopes
from slopes import Network
from slopes.plot import draw_network, plot_history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs/images"))
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)

    # The last quiz's network, rebuilt from the course's numbers (its figure is missing).
    net = Network.from_weights({"node_0": [0, 1], "node_1": [2, 3], "output": [1, 3]},
                               activation="relu")
    trace = net.trace([0, 1], 7, loss="mse")
    fig = draw_network(trace, title="slope of a weight = node value x activation slope x "
                                    "slope of the loss: 3 x 1 x 6 = 18")
    fig.savefig(out / "network.png", dpi=150)

    data = slopes.datasets.prepare_admissions()
    admissions = Network.mlp([6, 8, 1], activation="relu", output="sigmoid", seed=0)
    history = admissions.fit(data.features, data.targets, loss="binary_crossentropy",
                             learning_rate=0.05, epochs=300, batch_size=32,
                             validation_data=(data.features_test, data.targets_test),
                             metrics=["accuracy"], seed=0, verbose=0)
    plot_history(history, metrics=["loss"]).savefig(out / "loss.png", dpi=150)
    print(f"Wrote {out / 'network.png'} and {out / 'loss.png'}")


if __name__ == "__main__":
    main()
