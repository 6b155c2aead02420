"""The interactive page in a real browser: Debian's chromium, driven by Playwright.

Hovering a weight shows the text ``Trace.explain`` gives for it, at the epoch
the slider shows; moving the slider changes it; nothing is fetched from
anywhere. The same holds for the page ``slopes explain --html`` writes from a
model ``slopes train`` made (its slider scrubs the epochs the model file
recorded); a model file without recorded epochs gets words, not a slider.
Install the browser with ``apt-get install -y chromium`` (Playwright
is in the dev extra; it drives that chromium, it downloads no browser of its
own). Without chromium this module is skipped, saying so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from slopes import Network
from slopes.callbacks import WeightSnapshots
from slopes.io import load_model, save
from slopes.page import report
from slopes.snapshots import WeightSnapshot

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (apt-get install -y chromium): the interactive "
           "page is tested in a real browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
NAMES = ["gre", "gpa", "rank"]
LEARNING_RATE = 0.5

# A point of the page where the pointer lands on the element drawn for `key`.
POINT_ON = """key => {
    const target = document.querySelector(`[data-edge][data-key="${key}"]`);
    const svg = target.ownerSVGElement || target.closest("svg");
    const box = svg.getBoundingClientRect();
    const scale = box.width / svg.viewBox.baseVal.width;
    let points;
    if (target.tagName === "polyline") {  // an edge: points along it
        const length = target.getTotalLength();
        points = [0.85, 0.75, 0.65, 0.55, 0.45, 0.35, 0.25, 0.15].map(t => {
            const p = target.getPointAtLength(t * length);
            return [box.left + scale * p.x, box.top + scale * p.y];
        });
    } else {
        const r = target.getBoundingClientRect();
        points = [[r.left + r.width / 2, r.top + r.height / 2]];
    }
    for (const [x, y] of points) {
        const under = document.elementFromPoint(x, y);
        const owner = under && under.closest("[data-key]");
        if (owner && owner.getAttribute("data-key") === key) return [x, y];
    }
    return null;
}"""
SET_EPOCH = """(el, value) => { el.value = String(value); el.dispatchEvent(new Event("input")); }"""


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev extra installs it
        pytest.fail("chromium is installed but the Python package playwright is not: "
                    "pip install -e '.[dev]'")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] - X[:, 1] > 0).astype(float)
    net = Network.mlp([3, 4, 1], activation="tanh", output="sigmoid", seed=0)
    snapshots = WeightSnapshots(max_snapshots=11)
    net.fit(X, y, loss="binary_crossentropy", learning_rate=LEARNING_RATE, epochs=20,
            batch_size=8, callbacks=[snapshots], seed=0, verbose=0)
    return net, X, y, snapshots


def expected_text(net, snapshot, X, y, key, step=None):
    """What ``Trace.explain`` says for the weight ``key`` with the weights of ``snapshot``
    (in a training step with the settings ``step``, when given)."""
    copy = net.copy()
    for layer, w, b in zip(copy.layers, snapshot.weights, snapshot.biases, strict=True):
        layer.weights, layer.bias = w, b
    trace = copy.trace(X[1:2], y[1:2], loss="binary_crossentropy", **(step or {}))
    layer, i, j = key.split(",")
    return trace.explain(int(layer), i if i == "bias" else int(i), int(j),
                         learning_rate=LEARNING_RATE, input_names=NAMES, output_names=["yes"])


def open_page(browser, path):
    """The page opened from disk; every request it makes is recorded (and only file: allowed)."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    requests, errors = [], []

    def route(request_route):
        requests.append(request_route.request.url)
        if request_route.request.url.startswith("file:"):
            request_route.continue_()
        else:
            request_route.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(path.resolve().as_uri())
    page.wait_for_selector("body[data-ready=yes]")
    return page, requests, errors


def hover(page, key):
    point = page.evaluate(POINT_ON, key)
    assert point is not None, f"no point of the page shows only the weight {key}"
    page.mouse.move(*point)
    page.wait_for_selector("#tooltip", state="visible")
    return point


def test_hovering_a_weight_shows_trace_explain_and_the_slider_changes_it(browser, trained,
                                                                          tmp_path):
    net, X, y, snapshots = trained
    path = tmp_path / "page.html"
    report(net, X, y, path=path, history=snapshots, row=1, learning_rate=LEARNING_RATE,
           input_names=NAMES, output_names=["yes"])
    page, requests, errors = open_page(browser, path)
    last = len(snapshots.snapshots) - 1
    assert page.locator("#epoch-label").inner_text().startswith("epoch 20 of 20")

    # A weight into a hidden node, at the last epoch.
    key = "0,1,2"
    hover(page, key)
    shown = page.locator("#tooltip-text").inner_text()
    assert shown == expected_text(net, snapshots.snapshots[last], X, y, key)
    assert "input 1 (gpa)" in shown and "slope = " in shown

    # The slider, moved while the pointer stays on the weight, changes the numbers.
    page.locator("#epoch").evaluate(SET_EPOCH, 3)
    assert page.locator("#epoch-label").inner_text().startswith("epoch 6 of 20")
    moved = page.locator("#tooltip-text").inner_text()
    assert moved == expected_text(net, snapshots.snapshots[3], X, y, key)
    assert moved != shown

    # Before training, the first frame.
    page.locator("#epoch").evaluate(SET_EPOCH, 0)
    assert page.locator("#epoch-label").inner_text().startswith("before training")
    assert page.locator("#tooltip-text").inner_text() == expected_text(
        net, snapshots.snapshots[0], X, y, key)

    # The output weight (sigmoid + binary cross-entropy, fused) and a bias, at epoch 10.
    page.locator("#epoch").evaluate(SET_EPOCH, 5)
    for other in ("1,2,0", "0,bias,3"):
        hover(page, other)
        assert page.locator("#tooltip-text").inner_text() == expected_text(
            net, snapshots.snapshots[5], X, y, other)

    # Moving away hides the tooltip; a click pins the explanation, which follows the slider.
    page.mouse.move(2, 2)
    assert not page.locator("#tooltip").is_visible()
    point = page.evaluate(POINT_ON, key)
    page.mouse.click(*point)
    page.mouse.move(2, 2)
    page.locator("#epoch").evaluate(SET_EPOCH, 8)
    assert page.locator("#pinned-text").inner_text() == expected_text(
        net, snapshots.snapshots[8], X, y, key)

    # The drawing: every node with its value; the page fetched nothing but itself.
    assert page.locator("#network circle").count() == 3 + 4 + 1
    assert requests == [path.resolve().as_uri()]
    assert errors == []
    page.close()


def test_hovering_a_penalized_weight_shows_its_penalty_and_the_clipping(browser, trained,
                                                                         tmp_path):
    net, X, y, snapshots = trained
    step = {"l2": 0.01, "clip_norm": 0.05}
    path = tmp_path / "penalty.html"
    report(net, X, y, path=path, history=snapshots, row=1, learning_rate=LEARNING_RATE,
           input_names=NAMES, output_names=["yes"], step=step)
    page, requests, errors = open_page(browser, path)
    for frame, key in ((len(snapshots.snapshots) - 1, "0,1,2"), (3, "1,2,0"), (3, "0,bias,3")):
        page.locator("#epoch").evaluate(SET_EPOCH, frame)
        hover(page, key)
        shown = page.locator("#tooltip-text").inner_text()
        assert shown == expected_text(net, snapshots.snapshots[frame], X, y, key, step)
        assert "This step was clipped: every slope x " in shown
        assert ("(from the L2 penalty)" in shown) == ("bias" not in key)
    assert requests == [path.resolve().as_uri()] and errors == []
    page.close()


def test_a_trace_page_has_no_slider_and_explains_the_trace(browser, tmp_path):
    net = Network.from_weights({"node_0": [0, 1], "node_1": [2, 3], "output": [1, 3]},
                               activation="relu")
    trace = net.trace([0, 1], 7)
    path = tmp_path / "quiz.html"
    trace.to_html(path, title="the last quiz")
    page, requests, errors = open_page(browser, path)
    assert page.locator("#epoch").is_disabled()
    hover(page, "1,1,0")
    assert page.locator("#tooltip-text").inner_text() == trace.explain(1, 1, 0)
    assert "slope = 3 x 1 x 6 = 18" in page.locator("#tooltip-text").inner_text()
    assert page.locator("#title").inner_text() == "the last quiz"
    assert requests == [path.resolve().as_uri()] and errors == []
    page.close()


# ------------------------------------------------- a page made by the command line
ADMISSIONS = Path(__file__).resolve().parents[2] / "shared" / "data" / "admissions.csv"
CLI_ROW = 7


def slopes_command(*args):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, "-m", "slopes.cli", *map(str, args)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def cli_page(tmp_path_factory):
    """``slopes train`` on the admissions table, then ``slopes explain --html`` on one row."""
    pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")
    root = tmp_path_factory.mktemp("cli-page")
    data = ADMISSIONS
    if not data.is_file():  # the copy slopes ships
        from slopes.datasets import load_admissions

        data = root / "admissions.csv"
        load_admissions().to_csv(data, index=False)
    # tanh: no hidden node is switched off, so every factor of a slope moves with the epochs.
    slopes_command("train", data, "--target", "admit", "--categorical", "rank", "--hidden", "3",
                   "--activation", "tanh", "--epochs", "60", "--seed", "0", "--out",
                   root / "model")
    model_path = root / "model" / "model.safetensors"
    page = root / "page.html"
    slopes_command("explain", model_path, data, "--row", CLI_ROW, "--out", root / "explain",
                   "--html", page)
    return load_model(model_path), data, page


def cli_expected_text(model, data, snapshot, key):
    """What ``Trace.explain`` says for weight ``key`` of the saved model with ``snapshot``'s
    weights, on the row the page shows, with the optimizer the model was trained with."""
    import pandas as pd

    from slopes.commands.explain import training_optimizer

    prep, net = model.preprocessing, model.network.copy()
    for layer, w, b in zip(net.layers, snapshot.weights, snapshot.biases, strict=True):
        layer.weights, layer.bias = w, b
    row = pd.read_csv(data).iloc[[CLI_ROW]]
    x = prep.transform(row, dtype=net.dtype)
    y = prep.transform_target(row[prep.target])
    trace = net.trace(x, y, loss=model.training["loss"])
    layer, i, j = key.split(",")
    return trace.explain(int(layer), i if i == "bias" else int(i), int(j),
                         optimizer=training_optimizer(model.training),
                         input_names=list(prep.feature_names), output_names=["admit=1"])


def test_the_slider_of_a_page_slopes_explain_wrote_scrubs_the_recorded_epochs(browser, cli_page):
    model, data, path = cli_page
    snapshots = model.snapshots
    assert len(snapshots) >= 4
    page, requests, errors = open_page(browser, path)
    assert page.locator("#controls").is_visible() and not page.locator("#epoch").is_disabled()
    assert not page.locator("#no-epochs").is_visible()

    key = "0,1,2"  # gpa into the third hidden node
    hover(page, key)
    seen = []
    for frame in (1, len(snapshots) // 2, len(snapshots) - 1, 0):
        page.locator("#epoch").evaluate(SET_EPOCH, frame)
        epoch = snapshots[frame].epoch
        label = "before training" if epoch is None else f"epoch {epoch + 1}"
        assert page.locator("#epoch-label").inner_text().startswith(label)
        shown = page.locator("#tooltip-text").inner_text()
        assert shown == cli_expected_text(model, data, snapshots[frame], key)
        seen.append(shown)
    # The weight, the activation's and the loss's slopes, and the weight's slope change with
    # the epochs (lines 0, 3, 4, 5; line 2, the input's value, is the row's own).
    for n in (0, 3, 4, 5):
        assert len({text.splitlines()[n] for text in seen}) == len(seen), n
    assert requests == [path.resolve().as_uri()] and errors == []
    page.close()


def test_a_page_without_recorded_epochs_says_so_instead_of_a_slider(browser, cli_page,
                                                                     tmp_path):
    from slopes.commands.explain import NO_EPOCHS

    model, data, _ = cli_page
    old = tmp_path / "old.safetensors"  # a model file as an older slopes wrote it
    save(model.network, old, model.preprocessing, model.training, model.history)
    path = tmp_path / "page.html"
    slopes_command("explain", old, data, "--row", CLI_ROW, "--out", tmp_path / "e", "--html",
                   path)
    page, requests, errors = open_page(browser, path)
    assert not page.locator("#controls").is_visible()
    assert page.locator("#no-epochs").inner_text() == NO_EPOCHS
    hover(page, "0,1,2")
    assert page.locator("#tooltip-text").inner_text() == cli_expected_text(
        model, data, _saved_weights(model), "0,1,2")
    assert requests == [path.resolve().as_uri()] and errors == []
    page.close()


def _saved_weights(model):
    layers = model.network.layers
    return WeightSnapshot(None, [layer.weights for layer in layers],
                          [layer.bias for layer in layers])


# ------------------------------------------------------------ names that are HTML
HOSTILE = "<!--<script>"


def test_a_page_with_html_in_every_name_renders_them_as_text(browser, trained, tmp_path):
    """``<!--<script>`` as a column, a category, a class, a file name and the title once
    blanked the page; ``{{DATA}}`` in a file name once put the data block in the title."""
    net, X, y, snapshots = trained
    title = f"{{{{DATA}}}}.csv, row 1: {HOSTILE}.safetensors"
    path = tmp_path / "page.html"
    report(net, X, y, path=path, history=snapshots, row=1, learning_rate=LEARNING_RATE,
           input_names=[HOSTILE, f"c={HOSTILE}", "{{TITLE}} & >"], output_names=[HOSTILE],
           title=title, row_name=f"Row 1 of {HOSTILE}{{{{DATA}}}}.csv")
    page, requests, errors = open_page(browser, path)
    assert page.title() == title
    assert page.locator("#title").inner_text() == title
    assert page.locator("#network circle").count() == 3 + 4 + 1
    drawn = page.locator("#network").text_content()
    assert HOSTILE in drawn and f"c={HOSTILE}" in drawn
    hover(page, "0,0,2")
    shown = page.locator("#tooltip-text").inner_text()
    assert shown == expected_text_named(net, snapshots.snapshots[-1], X, y, "0,0,2",
                                        [HOSTILE, f"c={HOSTILE}", "{{TITLE}} & >"], [HOSTILE])
    assert f"input 0 ({HOSTILE})" in shown
    assert f"Row 1 of {HOSTILE}{{{{DATA}}}}.csv" in page.locator("body").inner_text()
    assert requests == [path.resolve().as_uri()] and errors == []
    page.close()


def expected_text_named(net, snapshot, X, y, key, inputs, outputs):
    """:func:`expected_text` with other input and output names."""
    copy = net.copy()
    for layer, w, b in zip(copy.layers, snapshot.weights, snapshot.biases, strict=True):
        layer.weights, layer.bias = w, b
    trace = copy.trace(X[1:2], y[1:2], loss="binary_crossentropy")
    layer, i, j = key.split(",")
    return trace.explain(int(layer), i if i == "bias" else int(i), int(j),
                         learning_rate=LEARNING_RATE, input_names=inputs, output_names=outputs)


def test_slopes_explain_html_of_a_table_whose_names_are_html(browser, tmp_path):
    """The same names through the command line: a file ``<!--<script>{{DATA}}.csv`` whose
    column, categories and classes are ``<!--<script>``."""
    pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(0)
    x = rng.normal(size=60)
    kinds = np.array([HOSTILE, "{{DATA}}", "a&b"])[np.arange(60) % 3]
    label = np.where(x > 0, HOSTILE, "plain")
    data = tmp_path / f"{HOSTILE}{{{{DATA}}}}.csv"
    import pandas as pd

    pd.DataFrame({HOSTILE: x, "kind": kinds, "label": label}).to_csv(data, index=False)
    slopes_command("train", data, "--target", "label", "--categorical", "kind", "--hidden", "3",
                   "--epochs", "20", "--seed", "0", "--out", tmp_path / "model")
    model = tmp_path / "model" / "model.safetensors"
    path = tmp_path / "page.html"
    slopes_command("explain", model, data, "--row", 1, "--out", tmp_path / "e", "--html", path)
    page, requests, errors = open_page(browser, path)
    assert page.title() == f"{data.name}, row 1: model.safetensors"
    drawn = page.locator("#network").text_content()
    assert HOSTILE in drawn and f"kind={HOSTILE}" in drawn and "kind={{DATA}}" in drawn
    assert f"Row 1 of {data.name}" in page.locator("body").inner_text()
    hover(page, "0,0,0")
    assert f"({HOSTILE})" in page.locator("#tooltip-text").inner_text()
    assert requests == [path.resolve().as_uri()] and errors == []
    page.close()


def test_the_page_slopes_explain_wrote_has_the_plane_view(browser, cli_page):
    """The plane view comes with the page of ``slopes explain --html`` as with slopes.report:
    the admissions model has 6 inputs, so the plane is that of the two inputs that matter most
    on the row, the other 4 held at the row's values (and the page says so)."""
    import json
    import re

    import pandas as pd

    from slopes.plane import plane_inputs

    model, data, path = cli_page
    text = re.search(r'<script type="application/json" id="slopes-data">(.*?)</script>',
                     path.read_text(), flags=re.S).group(1)
    shown = json.loads(text)
    plane = shown["plane"]
    prep, net = model.preprocessing, model.network
    row = pd.read_csv(data).iloc[[CLI_ROW]]
    trace = net.trace(prep.transform(row, dtype=net.dtype),
                      prep.transform_target(row[prep.target]), loss=model.training["loss"])
    two = plane_inputs(trace)
    assert plane["inputs"] == list(two)
    names = list(prep.feature_names)
    assert plane["names"] == [names[two[0]], names[two[1]]]
    assert plane["held"].endswith("the other 4 inputs are held at this row's values.")
    # One map per drawn hidden and output node, one map per epoch the slider shows.
    assert len(plane["maps"]) == 3 + 1
    assert {len(maps) for maps in plane["maps"]} == {len(shown["frames"])}
    assert len(shown["frames"]) >= len(model.snapshots) >= 4
    page, requests, errors = open_page(browser, path)
    assert page.locator("#plane").is_visible()
    assert page.locator("#plane .plane-cell").count() == 4
    assert page.locator("#plane-how").inner_text().endswith(plane["held"])
    assert errors == [] and requests == [path.resolve().as_uri()]
    page.close()
