"""Make the documentation's picture of the interactive page, and the page itself.

Run:  python examples/make_page_picture.py [--out docs/images]

Trains a small network on the course's admissions data, recording its weights
every epoch (slopes.callbacks.WeightSnapshots), writes the page with
slopes.report (page.html), then opens it in Debian's chromium through
Playwright, moves the slider to an epoch, hovers a weight and saves the
screenshot (page.png). Needs `apt-get install chromium` and
`pip install playwright` (in the dev extra); the page itself needs neither.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from browser import opened_page

import slopes
from slopes.callbacks import WeightSnapshots


def write_page(out: Path) -> Path:
    data = slopes.datasets.prepare_admissions()
    net = slopes.Network.mlp([6, 3, 1], activation="tanh", output="sigmoid", seed=0)
    snapshots = WeightSnapshots()
    net.fit(data.features, data.targets, loss="binary_crossentropy", optimizer="sgd",
            learning_rate=0.1, epochs=60, batch_size=32, validation_split=0.1,
            callbacks=[snapshots], seed=0, verbose=0)
    page = slopes.report(net, data.features, data.targets, history=snapshots, row=0,
                         input_names=data.feature_names, output_names=["admit=1"],
                         title="The admissions network, row 0, over 60 epochs")
    return page.write(out / "page.html")


def point_on_edge(page, key: str) -> tuple[float, float]:
    """A point of the page where the pointer lands on the edge ``key`` ("layer,from,to")."""
    found = page.evaluate(
        """key => {
            const hit = document.querySelector(`.hit[data-key="${key}"]`);
            const box = hit.ownerSVGElement.getBoundingClientRect();
            const scale = box.width / hit.ownerSVGElement.viewBox.baseVal.width;
            for (const t of [0.85, 0.75, 0.65, 0.55, 0.45, 0.35, 0.25, 0.15]) {
                const p = hit.getPointAtLength(t * hit.getTotalLength());
                const x = box.left + scale * p.x, y = box.top + scale * p.y;
                const under = document.elementFromPoint(x, y);
                if (under && under.closest("[data-key]")
                        && under.closest("[data-key]").getAttribute("data-key") === key) {
                    return [x, y];
                }
            }
            return null;
        }""", key)
    if found is None:
        raise RuntimeError(f"no point of the page shows only the edge {key}")
    return found[0], found[1]


def screenshot(page_file: Path, picture: Path) -> None:
    with opened_page(page_file, 1320, 820, slider=0.6) as page:
        # Click a weight: its explanation stays beside the network while the slider moves.
        x, y = point_on_edge(page, "0,1,1")
        page.mouse.click(x, y)
        page.mouse.move(5, 5)
        page.wait_for_selector("#pinned-text", state="visible")
        page.screenshot(path=str(picture), full_page=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs/images"))
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    page_file = write_page(out)
    screenshot(page_file, out / "page.png")
    print(f"Wrote {page_file} and {out / 'page.png'}")


if __name__ == "__main__":
    main()
