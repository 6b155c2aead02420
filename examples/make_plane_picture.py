"""Make the documentation's picture of the plane view: what each node computes over two inputs.

Run:  python examples/make_plane_picture.py [--out docs/images]

Trains a 2-6-3-1 tanh network on two interleaving half circles (scikit-learn's
make_moons when scikit-learn is installed, the same shape drawn with NumPy
otherwise), recording its weights every epoch, writes the page with
slopes.report (moons.html), then opens it in Debian's chromium through
Playwright at an epoch of the slider and saves a screenshot of the plane view
(plane.png): each hidden and output node's value over the plane of the two
inputs, with the training points, as the neural network playground shows it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from browser import opened_page

import slopes
from slopes.callbacks import WeightSnapshots


def moons(n: int = 200, noise: float = 0.15, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: scikit-learn's make_moons, or the same with NumPy."""
    try:
        from sklearn.datasets import make_moons
    except ImportError:
        rng = np.random.default_rng(seed)
        half = n // 2
        t_out, t_in = np.linspace(0, np.pi, half), np.linspace(0, np.pi, n - half)
        X = np.vstack([np.c_[np.cos(t_out), np.sin(t_out)],
                       np.c_[1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5]])
        return X + rng.normal(scale=noise, size=X.shape), np.r_[np.zeros(half), np.ones(n - half)]
    X, y = make_moons(n_samples=n, noise=noise, random_state=seed)
    return X, y.astype(float)


def write_page(out: Path) -> Path:
    X, y = moons()
    net = slopes.Network.mlp([2, 6, 3, 1], activation="tanh", output="sigmoid", seed=0)
    snapshots = WeightSnapshots()
    net.fit(X, y, loss="binary_crossentropy", optimizer="adam", learning_rate=0.03,
            epochs=200, batch_size=16, callbacks=[snapshots], seed=0, verbose=0)
    page = slopes.report(net, X, y, history=snapshots, row=0, input_names=["x1", "x2"],
                         output_names=["class 1"],
                         title="Two moons: what each node computes, over 200 epochs")
    return page.write(out / "moons.html")


def screenshot(page_file: Path, picture: Path) -> None:
    with opened_page(page_file, 1280, 900, slider=0.5) as page:
        page.locator("#main").screenshot(path=str(picture))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs/images"))
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    page_file = write_page(out)
    screenshot(page_file, out / "plane.png")
    print(f"Wrote {page_file} and {out / 'plane.png'}")


if __name__ == "__main__":
    main()
