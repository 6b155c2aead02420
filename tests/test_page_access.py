"""The page on a laptop screen, from the keyboard, with crowded edges, and its plane view.

In Debian's chromium through Playwright (as tests/test_page_browser.py): at 1280x720 the
slider, the focused weight and its explanation are on screen together for the demo, a 30-input
and a 64-input model; Tab and the arrow keys reach every weight, and the aria-live region says
what hovering shows; every edge of a 64-input page has a strip of its own at least 6 px wide
that explains it; the plane view's pixels are the network's values on the grid.
"""

from __future__ import annotations

import base64
import json
import re
import shutil

import numpy as np
import pytest

from page_models import demo_page, explain_inputs, moons, wide_page
from slopes import Network
from slopes.callbacks import WeightSnapshots
from slopes.page import report
from slopes.plane import plane_grid

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (apt-get install -y chromium): the interactive "
           "page is tested in a real browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    root = tmp_path_factory.mktemp("pages")
    demo_page(root / "demo.html")
    wide_page(root / "w30.html", 30, 16, 1)
    wide = wide_page(root / "w64.html", 64, 32, 10)
    # Taller columns: 15 inputs drawn, so 15 edges come into each hidden node.
    net, X, y, snapshots, _ = wide
    report(net, X, y, path=root / "tall.html", history=snapshots, row=3,
           loss="categorical_crossentropy", learning_rate=0.1, max_nodes=16,
           nodes={0: explain_inputs(net, X[3:4], y[3:4], "categorical_crossentropy", 15)})
    return root, wide


def open_page(browser, path, width=1280, height=720):
    page = browser.new_page(viewport={"width": width, "height": height})
    requests, errors = [], []

    def route(request_route):
        requests.append(request_route.request.url)
        (request_route.continue_ if request_route.request.url.startswith("file:")
         else request_route.abort)()

    page.route("**/*", route)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.resolve().as_uri())
    page.wait_for_selector("body[data-ready=yes]")
    page.requests, page.errors = requests, errors
    return page


def data_of(path):
    text = re.search(r'<script type="application/json" id="slopes-data">(.*?)</script>',
                     path.read_text(), flags=re.S).group(1)
    return json.loads(text)


def explanation(data, frame, edge):
    parts = dict(zip(data["static_names"], data["static"][edge], strict=True))
    parts.update(zip(data["part_names"], data["frames"][frame]["parts"][edge], strict=True))
    return re.sub(r"\{(\w+)\}", lambda m: parts.get(m.group(1), m.group(0)),
                  data["templates"][edge])


ON_SCREEN = """selector => {
    const r = document.querySelector(selector).getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom];
}"""


def on_screen(box, width=1280, height=720):
    left, top, right, bottom = box
    size = right - left + bottom - top
    return right >= left and bottom >= top and size > 0 and left >= 0 and top >= 0 \
        and right <= width and bottom <= height


@pytest.mark.parametrize("name", ["demo", "w30", "w64", "tall"])
def test_slider_focused_weight_and_explanation_on_screen_together(browser, pages, name):
    root, _ = pages
    path = root / f"{name}.html"
    data = data_of(path)
    page = open_page(browser, path)
    page.keyboard.press("Tab")  # into the drawing: the first weight
    assert page.evaluate("document.activeElement.getAttribute('data-edge')") == "0"
    # Walk to the last weight into a hidden node far down the drawing.
    last_hidden = max(e for e, (k, i, _) in enumerate(data["edges"]) if k == 0 and i >= 0)
    for _ in range(last_hidden):
        page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.getAttribute('data-edge')") == str(last_hidden)
    slider = page.evaluate(ON_SCREEN, "#epoch")
    focused = page.evaluate(ON_SCREEN, f'.hit[data-edge="{last_hidden}"]')
    text = page.evaluate(ON_SCREEN, "#explain-text")
    for box in (slider, focused, text):
        assert on_screen(box), (name, box)
    last = len(data["frames"]) - 1
    assert page.locator("#explain-text").inner_text() == explanation(data, last, last_hidden)
    # The explanation sits beside the drawing, not under it.
    drawing = page.evaluate(ON_SCREEN, "#network")
    assert text[0] >= drawing[2] - 1
    assert page.requests == [path.resolve().as_uri()] and page.errors == []
    page.close()


def test_keyboard_reaches_every_weight_and_announces_what_hovering_shows(browser, pages):
    root, _ = pages
    path = root / "demo.html"
    data = data_of(path)
    page = open_page(browser, path, 1400, 900)
    assert page.locator("#network").get_attribute("role") == "group"
    alt = page.locator("#network-text").inner_text()
    assert alt.startswith("The network: 6 inputs (gre, gpa, rank_1") and "press Tab" in alt
    assert "3 nodes in hidden 1 (tanh), 1 node in output (sigmoid)" in alt  # one node
    assert page.locator("#network").get_attribute("aria-describedby") == "network-text"
    page.keyboard.press("Tab")
    seen = []
    for e in range(len(data["edges"])):
        focused = page.evaluate("document.activeElement.getAttribute('data-edge')")
        seen.append(int(focused))
        said = page.locator("#live").text_content()
        assert said == explanation(data, len(data["frames"]) - 1, e)
        label = page.evaluate("document.activeElement.getAttribute('aria-label')")
        assert label.startswith(data["static"][e][0] + ": ")
        page.keyboard.press("ArrowRight")
    assert seen == list(range(len(data["edges"])))  # the weights, then every bias
    assert page.locator("#live").get_attribute("aria-live") == "polite"
    # Back with the arrow keys; the live region says what hovering the same edge shows.
    page.keyboard.press("Home")
    page.keyboard.press("ArrowDown")
    said = page.locator("#live").text_content()
    strip = [s for s in page.evaluate(OWN_STRIPS, [6, 2.5]) if s[0] == "0,1,0"][0]
    page.mouse.move(strip[1], strip[2])
    assert page.locator("#tooltip").is_visible()
    assert page.locator("#tooltip-text").inner_text() == said
    # Enter pins it; the slider moves the pinned and the announced text alike.
    page.keyboard.press("Enter")
    page.locator("#epoch").evaluate(
        "(el) => { el.value = '3'; el.dispatchEvent(new Event('input')); }")
    assert page.locator("#pinned-text").inner_text() == explanation(data, 3, 1)
    assert page.locator("#live").text_content() == explanation(data, 3, 1)
    # Tab leaves the drawing for the slider: one tab stop, not one per weight.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "epoch"
    page.close()


# For each edge, a point where a strip across it is its own (the nearest edge wins): every other
# edge at least NEED px away (screen pixels), no label, node or bias text there; measured from the
# drawn edges (polylines: from the source straight to the target's comb, level along it, into the
# target), walked 1 px at a time from the target's end. Returns [key, x, y, distance to the
# nearest other edge], the point OFF px off the edge (x null: no such point).
OWN_STRIPS = """([NEED, OFF]) => {
    const m = document.getElementById("network").getScreenCTM();
    const edges = [...document.querySelectorAll("#network .edge")].map(edge => [
        edge.getAttribute("data-key"),
        [...edge.points].map(p => new DOMPoint(p.x, p.y).matrixTransform(m))]);
    function dist(px, py, corners) {
        let best = Infinity;
        for (let n = 0; n + 1 < corners.length; n++) {
            const a = corners[n], dx = corners[n + 1].x - a.x, dy = corners[n + 1].y - a.y;
            const along = ((px - a.x) * dx + (py - a.y) * dy) / (dx * dx + dy * dy);
            const t = Math.max(0, Math.min(1, along));
            best = Math.min(best, Math.hypot(px - a.x - t * dx, py - a.y - t * dy));
        }
        return best;
    }
    const covered = [...document.querySelectorAll(
        "#network circle, #network .wlabel, #network .blabel, #network text")]
        .map(n => n.getBoundingClientRect());
    const out = [];
    for (const [key, corners] of edges) {
        const others = edges.filter(o => o[0] !== key).map(o => o[1]);
        let found = null;
        for (let n = corners.length - 1; n > 0 && !found; n--) {  // from the target's end
            const a = corners[n], b = corners[n - 1], len = Math.hypot(b.x - a.x, b.y - a.y);
            for (let s = 0.5; s < len && !found; s += 1) {
                const x = a.x + (b.x - a.x) * s / len, y = a.y + (b.y - a.y) * s / len;
                if (covered.some(r => x >= r.left - 4 && x <= r.right + 4
                                      && y >= r.top - 4 && y <= r.bottom + 4)) continue;
                if (others.every(o => dist(x, y, o) >= NEED)) {
                    const near = Math.min(...others.map(o => dist(x, y, o)));
                    found = [key, x - OFF * (b.y - a.y) / len, y + OFF * (b.x - a.x) / len, near];
                }
            }
        }
        out.push(found || [key, null, null, 0]);
    }
    return out;
}"""


def test_every_edge_of_a_64_input_page_has_its_own_hover_strip(browser, pages):
    root, (net, X, y, snapshots, _) = pages
    path = root / "w64.html"
    data = data_of(path)
    page = open_page(browser, path, 1400, 1200)  # the whole drawing in the window
    # Every edge has a point with every other edge at least 6 px away (a strip of its own at
    # least 6 px wide) where the pointer 2.5 px off the edge gets its explanation; the hover
    # target (the transparent stroke) is at least 6 px wide.
    hit = page.evaluate("""() => { const svg = document.getElementById("network");
        return 12 * svg.getScreenCTM().a; }""")
    assert hit >= 6
    strips = page.evaluate(OWN_STRIPS, [6, 2.5])
    keys = [f"{k},{'bias' if i < 0 else i},{j}" for k, i, j in data["edges"]]
    assert len(strips) == sum(i >= 0 for _, i, _ in data["edges"]) > 150
    last = len(data["frames"]) - 1
    missing = [key for key, x, _, _ in strips if x is None]
    assert missing == []
    for key, x, y_, _ in strips:
        page.mouse.move(x, y_)  # 2.5 px off the line: inside its strip
        assert page.locator("#tooltip").is_visible(), key
        edge = keys.index(key)
        assert page.locator("#tooltip-text").inner_text() == explanation(data, last, edge), key
    page.close()
    # On a laptop's 1280x720 the drawing is shrunk to its column: still 6 px for every edge;
    # and with 15 edges into each hidden node (their nodes further apart, the drawing taller).
    page = open_page(browser, path)
    assert page.evaluate("() => document.getElementById('network').getScreenCTM().a") < 1
    assert [key for key, x, _, _ in page.evaluate(OWN_STRIPS, [6, 2.5]) if x is None] == []
    page.close()
    page = open_page(browser, root / "tall.html")
    strips = page.evaluate(OWN_STRIPS, [6, 2.5])
    assert len(strips) == 15 * 15 + 15 * 10
    assert [key for key, x, _, _ in strips if x is None] == []
    page.close()


def test_labels_name_the_weights_that_matter_most_and_captions_say_how_nodes_were_chosen(
        browser, pages):
    root, (net, X, y, snapshots, _) = pages
    path = root / "w64.html"
    data = data_of(path)
    page = open_page(browser, path, 1400, 900)
    labelled = page.evaluate(
        "() => [...document.querySelectorAll('#network .wlabel')].map("
        "g => Number(g.getAttribute('data-edge')))")
    assert 8 <= len(labelled) <= 14
    top = data["label_order"][:40]
    assert set(labelled) <= set(top) and data["label_order"][0] in labelled
    # The largest |slope| is labelled; the slopes come from the trace.
    trace = net.trace(X[3:4], y[3:4], loss="categorical_crossentropy")
    sizes = [abs(trace.factors(k, "bias" if i < 0 else i, j).slope) for k, i, j in data["edges"]]
    assert data["label_order"][0] == int(np.argmax(sizes))
    # The inputs were drawn as slopes explain draws them: the caption says |slope x value|.
    drawn = page.locator("#network").text_content()
    assert "55 more" in drawn and "(smaller |slope x value|)" in drawn
    # The hidden column was drawn by |slope| (slopes.drawn.chosen_nodes), and says so.
    assert drawn.count("(smaller |slope|)") == 1 and "23 more" in drawn
    words = page.locator("#network-text").inner_text()
    assert ("The 9 inputs drawn of 64 are those with the largest |slope x value| on this row"
            in words)
    # That is true: every input drawn has a larger |slope x value| than every one not drawn.
    effect = np.abs(trace.prediction_slopes(0)[0] * X[3])
    shown = data["columns"][0]["nodes"]
    assert shown == explain_inputs(net, X[3:4], y[3:4], "categorical_crossentropy")
    assert effect[shown].min() >= np.delete(effect, shown).max()
    page.close()


def test_the_loss_curve_has_ticks_and_marks_the_saved_best_epoch(browser, tmp_path):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 2))
    y = X[:, 0] + rng.normal(scale=2, size=60)
    net = Network.mlp([2, 8, 1], seed=0)
    snapshots = WeightSnapshots(max_snapshots=6)
    history = net.fit(X, y, epochs=40, learning_rate=0.1, callbacks=[snapshots], verbose=0,
                      seed=0)
    net.layers[0].weights = snapshots.snapshots[2].weights[0]  # weights put back, say
    path = tmp_path / "best.html"
    report(net, X, y, path=path, history=snapshots, final_epoch=12,
           final_label="the saved weights (of the best epoch, 12)")
    page = open_page(browser, path)
    ticks = page.locator("#curve .ytick-label").all_text_contents()
    assert len(ticks) >= 3
    values = [float(t) for t in ticks]
    assert values == sorted(values) and min(values) >= min(history.history["loss"]) - 1e-9
    assert page.locator("#curve-marker").get_attribute("visibility") == "visible"
    assert page.locator("#curve-marker-label").text_content() == "saved: epoch 12"
    x12 = float(page.locator("#curve-marker").get_attribute("x1"))
    # The same x as epoch 12 on the axis from epoch 1 (x 58) to epoch 40 (x 410).
    assert x12 == pytest.approx(58 + 11 / 39 * (520 - 58 - 110))
    page.locator("#epoch").evaluate(
        "(el) => { el.value = '0'; el.dispatchEvent(new Event('input')); }")
    assert page.locator("#curve-marker").get_attribute("visibility") == "hidden"
    page.close()


def test_the_summary_names_the_output_once(browser, pages):
    root, _ = pages
    page = open_page(browser, root / "demo.html")
    text = page.locator("#summary").inner_text()
    assert re.match(r"Row 0: admit=1: predicted [\d.e-]+, actual 0; loss \(binary_crossentropy\)",
                    text), text
    assert "actual admit=1 0" not in text
    page.close()


# ---------------------------------------------------------------- the plane view
COLORS = ((245, 147, 34), (255, 255, 255), (8, 119, 189))


def color(code):
    t = code / 255
    a, b = (COLORS[0], COLORS[1]) if t < 0.5 else (COLORS[1], COLORS[2])
    u = t * 2 if t < 0.5 else (t - 0.5) * 2
    return [round(c + (d - c) * u + 1e-9) for c, d in zip(a, b, strict=True)]


@pytest.fixture(scope="module")
def moons_page(tmp_path_factory):
    X, y = moons()
    net = Network.mlp([2, 5, 1], activation="tanh", output="sigmoid", seed=0)
    snapshots = WeightSnapshots(max_snapshots=11)
    net.fit(X, y, loss="binary_crossentropy", optimizer="adam", learning_rate=0.05, epochs=40,
            batch_size=16, callbacks=[snapshots], seed=0, verbose=0)
    path = tmp_path_factory.mktemp("moons") / "moons.html"
    report(net, X, y, path=path, history=snapshots, row=4, input_names=["x1", "x2"])
    return net, X, y, snapshots, path


def node_values(net, snapshot, points):
    copy = net.copy()
    for layer, w, b in zip(copy.layers, snapshot.weights, snapshot.biases, strict=True):
        layer.weights, layer.bias = w, b
    return copy.forward(points)[1]


def test_the_plane_view_draws_each_nodes_values_over_the_plane(browser, moons_page):
    net, X, y, snapshots, path = moons_page
    data = data_of(path)
    plane = data["plane"]
    grid = plane["grid"]
    points, ranges = plane_grid(X[4:5], X, (0, 1), grid)
    assert plane["ranges"] == ranges and plane["inputs"] == [0, 1] and plane["held"] is None
    assert [n[:1] + n[2:] for n in plane["nodes"]] == [[1, n] for n in range(5)] + [[2, 0]]
    page = open_page(browser, path)
    for frame in (0, 5, len(snapshots.snapshots) - 1):
        page.locator("#epoch").evaluate(
            f"(el) => {{ el.value = '{frame}'; el.dispatchEvent(new Event('input')); }}")
        values = node_values(net, snapshots.snapshots[frame], points)
        for m, (level, _, node) in enumerate(plane["nodes"]):
            stored = np.frombuffer(base64.b64decode(plane["maps"][m][frame]), dtype=np.uint8)
            lo, hi = plane["low"][m], plane["high"][m]
            expected = (values[level][:, node] - lo) / (hi - lo) * 255
            assert np.abs(stored - expected).max() <= 0.5 + 1e-6  # bytes: rounded
            pixels = page.evaluate(
                """([id, cells]) => { const ctx = document.getElementById(id).getContext("2d");
                   return cells.map(([r, c]) => [...ctx.getImageData(c, r, 1, 1).data]); }""",
                [f"plane-{level}-{node}", [[0, 0], [grid // 2, 3], [grid - 1, grid - 1]]])
            for (r, c), pixel in zip([[0, 0], [grid // 2, 3], [grid - 1, grid - 1]], pixels,
                                     strict=True):
                code = int(stored[r * grid + c])
                assert pixel[:3] == color(code) and pixel[3] == 255, (frame, m, r, c)
    # The maps' extremes are the node's smallest and largest values over the epochs.
    every = np.stack([node_values(net, s, points)[1] for s in snapshots.snapshots])
    assert plane["low"][0] == pytest.approx(every[:, :, 0].min())
    assert plane["high"][0] == pytest.approx(every[:, :, 0].max())
    assert page.locator("#plane").is_visible()
    assert page.locator("#plane .plane-cell").count() == 6
    assert page.locator("#plane-how").inner_text().startswith("Each map: the node's value")
    assert page.requests == [path.resolve().as_uri()] and page.errors == []
    page.close()


def test_the_plane_of_a_wide_model_uses_the_two_inputs_that_matter_most(pages):
    root, (net, X, y, snapshots, _) = pages
    data = data_of(root / "w64.html")
    plane = data["plane"]
    trace = net.trace(X[3:4], y[3:4], loss="categorical_crossentropy")
    slope = sum(np.abs(trace.prediction_slopes(o)[0]) for o in range(10))
    two = sorted(np.argsort(-np.abs(slope * X[3]), kind="stable")[:2].tolist())
    assert plane["inputs"] == two
    assert plane["held"].endswith("the other 62 inputs are held at this row's values.")
    points, _ = plane_grid(X[3:4], X, tuple(two), plane["grid"])
    others = [k for k in range(64) if k not in two]
    assert np.array_equal(points[:, others], np.repeat(X[3:4, others], len(points), axis=0))
