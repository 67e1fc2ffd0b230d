"""End-to-end tests of the playground page in a real browser (Playwright + Debian's Chromium).

The real server (`glassnet.playground.server`) runs in a subprocess on a free port of 127.0.0.1; each test opens
a fresh page (its own WebSocket session). Screenshots of the key states go to `tests/playground/artifacts/`.
Needs `apt-get install -y chromium` and `pip install playwright` (no `playwright install`).
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
expect = sync_api.expect

CHROMIUM = os.environ.get("GLASSNET_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).with_name("artifacts")
REPO = Path(__file__).resolve().parents[2]

if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():  # scripts/test.sh installs it: missing is a failure
    pytest.fail(f"no Chromium at {CHROMIUM}: run scripts/test.sh, or apt-get install -y chromium", pytrace=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server_url():
    """The real playground server in a subprocess; yields its base URL."""
    port = _free_port()
    code = f"from glassnet.playground.server import serve; serve(host='127.0.0.1', port={port})"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "api/defaults", timeout=1) as r:
                json.load(r)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the playground server did not start:\n{proc.stdout.read()}")
            time.sleep(0.1)
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@contextmanager
def fresh_page(browser, width: int = 1400, height: int = 900) -> Iterator:
    """A page of its own context and session at width × height; the test fails on any uncaught JavaScript error."""
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.set_default_timeout(15_000)
    try:
        yield pg
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page(browser):
    """A fresh page at 1400 × 900."""
    with fresh_page(browser) as pg:
        yield pg


@pytest.fixture(params=[(1400, 900), (1024, 768)], ids=lambda size: "{}x{}".format(*size))
def sized_page(request, browser):
    """A fresh page at each size the layout is checked at: 1400 × 900 and 1024 × 768."""
    with fresh_page(browser, *request.param) as pg:
        yield pg


def shot(pg, name: str, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / name), full_page=full_page)


def open_playground(pg, url: str, hash_: str = "") -> None:
    """Load the page and wait for its first frame from the server."""
    pg.goto(url + hash_)
    pg.wait_for_function("() => +(document.body.dataset.frames || 0) > 0")


def settle(pg) -> None:
    """Wait until a frame has come after the latest state message, and it has been drawn."""
    pg.wait_for_function("() => +(document.body.dataset.framesSinceState || 0) > 0")
    pg.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def drawn_link(pg, layer: int, row: int, col: int) -> tuple[float, list[int]]:
    """A link's weight in the latest frame and the most opaque pixel the links' canvas has on its curve, read where
    no other link passes (links cross, often at their middles: a point where this link's 9 px hit path is the only
    one under the pointer; dashes leave gaps: several points around it are read)."""
    return pg.evaluate("""([layer, row, col]) => {
        const p = document.querySelector(`.link-hit[data-layer="${layer}"][data-row="${row}"][data-col="${col}"]`);
        const canvas = document.querySelector("canvas.links"), ctx = canvas.getContext("2d");
        const scale = canvas.width / canvas.clientWidth, n = p.getTotalLength(), m = p.getScreenCTM();
        const alone = (q) => {
            const x = m.a * q.x + m.c * q.y + m.e, y = m.b * q.x + m.d * q.y + m.f;
            const hits = document.elementsFromPoint(x, y).filter((e) => e.classList.contains("link-hit"));
            return hits.length === 1 && hits[0] === p;
        };
        let best = [0, 0, 0, 0];
        for (const f of [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8]) {
            const points = [-3, -2, -1, 0, 1, 2, 3].map((d) => p.getPointAtLength(n * f + d));
            if (!points.every(alone)) continue;
            for (const q of points) {
                const px = ctx.getImageData(Math.round(q.x * scale), Math.round(q.y * scale), 1, 1).data;
                if (px[3] > best[3]) best = [...px];
            }
            break;
        }
        return [window.__playground.frame.layers[layer].W[row][col], best];
    }""", [layer, row, col])


def link_rgb(weight: float) -> tuple[int, int, int]:
    """TensorFlow Playground's link colour of a weight: orange #f59322 at −1, grey #e8eaeb at 0, blue #0877bd at +1,
    linear between, clamped."""
    t = max(-1.0, min(1.0, weight))
    a, b = ((245, 147, 34), (232, 234, 235)) if t < 0 else ((232, 234, 235), (8, 119, 189))
    f = t + 1 if t < 0 else t
    return tuple(round(x + (y - x) * f) for x, y in zip(a, b))


def click_link(pg, layer: int, row: int, col: int) -> None:
    """Click a link of the network drawing with the mouse, at a point of its curve where no other link is on top."""
    sel = f'.link-hit[data-layer="{layer}"][data-row="{row}"][data-col="{col}"]'
    pg.locator(sel).scroll_into_view_if_needed()
    point = pg.evaluate("""(sel) => {
        const p = document.querySelector(sel), n = p.getTotalLength(), m = p.getScreenCTM();
        for (const f of [0.3, 0.25, 0.35, 0.2, 0.4, 0.15, 0.6, 0.7, 0.8]) {
            const q = p.getPointAtLength(n * f);
            const x = m.a * q.x + m.c * q.y + m.e, y = m.b * q.x + m.d * q.y + m.f;
            if (document.elementFromPoint(x, y) === p) return [x, y];
        }
        return null;
    }""", sel)
    assert point is not None, f"no clickable point on link {sel}"
    pg.mouse.click(*point)


def epoch(pg) -> int:
    return int(pg.inner_text("#iter-number").replace(",", ""))


def epoch_text(n: int) -> str:
    """TensorFlow Playground's epoch counter: 6 digits, zero-padded, with commas ("000,042")."""
    return re.sub(r"\B(?=(\d{3})+(?!\d))", ",", f"{n:06d}")


def test_page_loads_with_tensorflow_playground_defaults(page, server_url):
    open_playground(page, server_url)
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    expect(page.locator("#iter-number")).to_have_text("000,000")
    expect(page.get_by_label("Learning rate")).to_have_value("0.03")
    expect(page.get_by_label("Activation", exact=True)).to_have_value("tanh")
    expect(page.get_by_label("Regularization", exact=True)).to_have_value("none")
    expect(page.get_by_label("Regularization rate")).to_have_value("0")
    expect(page.get_by_label("Problem type")).to_have_value("binary")
    expect(page.get_by_role("button", name="Circle data set")).to_have_attribute("aria-pressed", "true")
    for name, on in [("X1", True), ("X2", True), ("X1 squared", False), ("X2 squared", False),
                     ("X1 times X2", False), ("sin(X1)", False), ("sin(X2)", False)]:
        expect(page.get_by_role("button", name=f"{name} feature", exact=True)).to_have_attribute(
            "aria-pressed", "true" if on else "false")
    # 4,2 network: 6 hidden neurons, 2·4 + 4·2 + 2·1 links, one output.
    expect(page.locator("#num-layers")).to_have_text("2")
    expect(page.locator(".node.neuron")).to_have_count(6)
    expect(page.locator(".neuron-count")).to_have_text(["4 neurons", "2 neurons"])
    expect(page.locator("canvas.links")).to_have_attribute("data-links", "18")
    expect(page.locator("path.link-hit")).to_have_count(18)
    expect(page.locator(".output-node")).to_have_count(1)
    settle(page)
    for layer, row, col in ((0, 0, 0), (0, 3, 1), (1, 1, 2), (2, 0, 1)):
        weight, (*rgb, alpha) = drawn_link(page, layer, row, col)
        expected = link_rgb(weight)
        assert alpha > 0 and max(abs(a - b) for a, b in zip(rgb, expected)) <= 8, (layer, row, col, weight, rgb,
                                                                                    expected)
    expect(page.get_by_label(re.compile("Ratio of training to test data"))).to_have_value("50")
    expect(page.get_by_label(re.compile("Noise"))).to_have_value("0")
    expect(page.get_by_label(re.compile("Batch size"))).to_have_value("10")
    expect(page.get_by_label("Show test data")).not_to_be_checked()
    expect(page.get_by_label("Discretize output")).not_to_be_checked()
    expect(page.locator("#loss-test")).to_have_text(re.compile(r"^\d+\.\d{3}$"))
    expect(page.locator("#loss-train")).to_have_text(re.compile(r"^\d+\.\d{3}$"))
    expect(page.locator(".test-loss")).to_have_text(re.compile(r"^Test loss \d+\.\d{3}$"))
    expect(page.locator(".train-loss")).to_have_text(re.compile(r"^Training loss \d+\.\d{3}$"))
    expect(page.locator("#head-text")).to_have_text("output: tanh + squared error")
    # The URL hash mirrors the state.
    hash_ = page.evaluate("location.hash")
    assert "networkShape=4,2" in hash_ and "activation=tanh" in hash_ and "dataset=circle" in hash_
    # Every control is a real control with an accessible name.
    unnamed = page.evaluate("""() => [...document.querySelectorAll('button, select, input, [tabindex]')]
        .filter(e => !(e.getAttribute('aria-label') || (e.labels && e.labels.length) || e.textContent.trim()))
        .map(e => e.outerHTML.slice(0, 80))""")
    assert unnamed == []
    shot(page, "01_defaults.png")


def test_play_trains_circle_and_pause(page, server_url):
    open_playground(page, server_url, "#seed=42")
    start = float(page.inner_text("#loss-test"))
    page.get_by_role("button", name="Play").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    page.wait_for_function("() => parseFloat(document.querySelector('#loss-test').textContent) < 0.05",
                           timeout=60_000)
    # The first epoch at which the test loss was below 0.05, from the loss history the page draws.
    first = page.evaluate("() => (window.__playground.history.find(p => p.testLoss < 0.05) || {}).epoch")
    assert first is not None and first <= 1000, f"test loss reached 0.05 only at epoch {first}"
    assert start > 0.3
    # Pause from the keyboard.
    page.get_by_role("button", name="Pause").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    time.sleep(0.3)
    e1 = epoch(page)
    time.sleep(0.5)
    assert epoch(page) == e1 > 0
    assert float(page.inner_text("#loss-test")) < 0.05
    # The small loss chart has been drawn.
    drawn = page.evaluate("""() => { const c = document.querySelector('#linechart');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) n += d[i] > 0; return n; }""")
    assert drawn > 50
    shot(page, "02_circle_trained.png")
    # Step trains exactly one epoch; reset goes back to epoch 0.
    page.get_by_role("button", name="Step", exact=True).click()
    expect(page.locator("#iter-number")).to_have_text(epoch_text(e1 + 1))
    page.get_by_role("button", name="Reset the network").click()
    expect(page.locator("#iter-number")).to_have_text("000,000")


def test_the_loss_axis_at_epoch_0_has_two_different_ends(page, server_url):
    """Seed 5's first losses (test 0.500, training 0.505) share their first two digits: the axis's ends take a
    third, not "0.50" twice."""
    open_playground(page, server_url, "#seed=5")
    settle(page)
    label = page.get_attribute("#loss-curves", "aria-label")
    low, high = re.search(r"^Loss curves \(training loss, test loss\), epochs 0 to 0, from (\S+) to (\S+)$",
                          label).groups()
    assert float(low) < float(high) and float(low) <= float(page.inner_text("#loss-test")), label


def test_toggling_features_and_layers_changes_the_network(page, server_url):
    open_playground(page, server_url)
    page.get_by_role("button", name="X1 squared feature").click()
    expect(page.get_by_role("button", name="X1 squared feature")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("path.link-hit")).to_have_count(3 * 4 + 4 * 2 + 2)
    page.get_by_role("button", name="Add a hidden layer").click()
    expect(page.locator(".node.neuron")).to_have_count(8)
    expect(page.locator("#num-layers")).to_have_text("3")
    page.get_by_role("button", name="Add a neuron to hidden layer 1").click()
    expect(page.locator(".node.neuron")).to_have_count(9)
    expect(page.locator(".neuron-count")).to_have_text(["5 neurons", "2 neurons", "2 neurons"])
    page.get_by_role("button", name="Remove a neuron from hidden layer 2").click()
    expect(page.locator(".node.neuron")).to_have_count(8)
    page.get_by_role("button", name="X2 feature", exact=True).click()
    expect(page.locator("canvas.links")).to_have_attribute("data-links", str(2 * 5 + 5 * 1 + 1 * 2 + 2))
    settle(page)
    shot(page, "03_network_changed.png")
    page.get_by_role("button", name="Remove a hidden layer").click()
    expect(page.locator(".node.neuron")).to_have_count(6)
    hash_ = page.evaluate("location.hash")
    assert "networkShape=5,1" in hash_ and "xSquared=true" in hash_ and "y=false" in hash_


def test_url_hash_reproduces_the_setup(browser, page, server_url):
    hash_ = ("#dataset=xor&networkShape=3&activation=relu&learningRate=0.1&x=true&y=true&xTimesY=true"
             "&regularization=L2&regularizationRate=0.001&batchSize=5&noise=10&seed=1234&showTestData=true")
    open_playground(page, server_url, hash_)
    expect(page.get_by_label("Activation", exact=True)).to_have_value("relu")
    expect(page.get_by_label("Learning rate")).to_have_value("0.1")
    expect(page.get_by_label("Regularization", exact=True)).to_have_value("L2")
    expect(page.get_by_label("Regularization rate")).to_have_value("0.001")
    expect(page.get_by_label(re.compile("Batch size"))).to_have_value("5")
    expect(page.get_by_label(re.compile("Noise"))).to_have_value("10")
    expect(page.get_by_role("button", name="Exclusive or data set")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("button", name="X1 times X2 feature")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_label("Show test data")).to_be_checked()
    expect(page.locator(".node.neuron")).to_have_count(3)
    expect(page.locator("#data-seed")).to_have_text("1234")
    settle(page)
    assert "seed=1234" in page.evaluate("location.hash")
    seed, loss = page.inner_text("#init-seed"), page.inner_text("#loss-test")
    shot(page, "04_url_setup.png")
    # The same link in another page gives the same data and the same initial weights.
    other = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        open_playground(other, server_url, hash_)
        expect(other.locator("#data-seed")).to_have_text("1234")
        expect(other.locator("#init-seed")).to_have_text(seed)
        expect(other.locator("#loss-test")).to_have_text(loss)
        same = other.evaluate("() => JSON.stringify(window.__playground.data.train.slice(0, 5))")
        assert same == page.evaluate("() => JSON.stringify(window.__playground.data.train.slice(0, 5))")
    finally:
        other.close()


def test_upload_good_csv_and_bad_csv_shows_the_error(page, server_url):
    open_playground(page, server_url)
    rng = random.Random(0)
    rows = ["x1,x2,label"]
    for i in range(200):
        label = 1 if i % 2 else -1
        rows.append(f"{rng.gauss(2 * label, 1):.3f},{rng.gauss(2 * label, 1):.3f},{label}")
    page.set_input_files("#upload-csv", files=[{"name": "blobs.csv", "mimeType": "text/csv",
                                                "buffer": "\n".join(rows).encode()}])
    expect(page.get_by_role("button", name="Uploaded data set")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#upload-status")).to_contain_text("200 points")
    expect(page.locator("#upload-error")).to_have_text("")
    assert "dataset=upload" in page.evaluate("location.hash")
    # A bad file: a value that is not a number → the server's message, shown in an alert.
    bad = b"x1,x2,label\n0.5,0.25,1\n0.1,abc,-1\n"
    page.set_input_files("#upload-csv", files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad}])
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("row")
    expect(alert).to_contain_text("x2")
    text_bad_number = alert.inner_text()
    # Wrong columns.
    page.set_input_files("#upload-csv", files=[{"name": "cols.csv", "mimeType": "text/csv",
                                                "buffer": b"a,b\n1,2\n3,4\n"}])
    expect(alert).not_to_have_text(text_bad_number)
    expect(alert).not_to_be_empty()
    shot(page, "05_upload_error.png")
    # The uploaded data set is still the one in use.
    expect(page.get_by_role("button", name="Uploaded data set")).to_have_attribute("aria-pressed", "true")


def test_backprop_inspector_product_equals_the_gradient(page, server_url):
    open_playground(page, server_url, "#seed=5")
    for _ in range(3):
        page.get_by_role("button", name="Step", exact=True).click()
    expect(page.locator("#iter-number")).to_have_text("000,003")

    def check():
        product = float(page.get_attribute('[data-testid="chain-product"]', "data-value"))
        gradient = float(page.get_attribute('[data-testid="chain-gradient"]', "data-value"))
        factors = [float(page.get_attribute(f'[data-testid="chain-factor-{i}"]', "data-value")) for i in range(3)]
        assert gradient != 0
        assert product == pytest.approx(gradient, rel=1e-4, abs=1e-7)
        assert math.prod(factors) == pytest.approx(product, rel=1e-4, abs=1e-7)
        expect(page.get_by_test_id("chain-match")).to_contain_text("✓")
        return factors

    # Click a link (hidden 1 #2 → hidden 2 #1) in the drawing.
    click_link(page, 1, 0, 1)
    expect(page.get_by_test_id("chain")).to_contain_text("hidden 1 #2 → hidden 2 #1")
    check()
    page.keyboard.press("Escape")  # close the weight editor the click opened
    # From the keyboard: the inspector's own controls, an input weight, another training point.
    page.get_by_label("Layer", exact=True).select_option("0")
    page.get_by_label("to", exact=True).select_option("2")
    page.get_by_label("from", exact=True).select_option("1")
    page.get_by_label("Training point #").fill("7")
    page.get_by_role("button", name="Inspect gradient").click()
    expect(page.get_by_test_id("chain")).to_contain_text("X2 → hidden 1 #3, training point #7")
    factors = check()
    point = page.evaluate("() => window.__playground.data.train[7]")
    assert factors[2] == pytest.approx(point[1], abs=1e-3)  # ∂z/∂w = the input x2 of that point
    broken = page.evaluate("""() => [...document.querySelectorAll('#chain td[data-value], #chain .token')]
        .filter(e => { const r = document.createRange(); r.selectNodeContents(e);
                       return new Set([...r.getClientRects()].map(q => Math.round(q.top))).size > 1; })
        .map(e => e.textContent)""")
    assert broken == []  # no number or factor of the chain rule is broken across lines
    panel = page.evaluate("() => [document.querySelector('#backprop-panel').getBoundingClientRect().right, "
                          "document.querySelector('#chain table').getBoundingClientRect().right]")
    assert panel[1] <= panel[0]  # the table stays inside its panel
    page.locator("#backprop-panel").scroll_into_view_if_needed()
    shot(page, "06_backprop_inspector.png")


def test_neuron_inspector_shows_z_and_a_at_the_chosen_point(page, server_url):
    open_playground(page, server_url, "#seed=3")
    page.locator('.node.neuron[data-layer="0"][data-index="2"]').hover()
    expect(page.locator("#neuron-z")).to_be_visible()
    z = float(page.get_attribute("#neuron-z", "data-value"))
    a = float(page.get_attribute("#neuron-a", "data-value"))
    assert a == pytest.approx(math.tanh(z), abs=1e-5)
    expect(page.locator("#focus-label")).to_contain_text("neuron 3")
    # Choose another point by clicking the output map, then hover again.
    box = page.locator("#points-canvas").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.25)
    expect(page.get_by_label("x1", exact=True)).not_to_have_value("0")
    x1 = float(page.get_by_label("x1", exact=True).input_value())
    x2 = float(page.get_by_label("x2", exact=True).input_value())
    assert x1 == pytest.approx(3, abs=0.1) and x2 == pytest.approx(3, abs=0.1)
    page.locator('.node.neuron[data-layer="1"][data-index="0"]').hover()
    expect(page.get_by_test_id("neuron-info")).to_contain_text("hidden 2 neuron #1")
    expect(page.get_by_test_id("neuron-info")).to_contain_text(f"({x1:g}, {x2:g})")
    z2 = float(page.get_attribute("#neuron-z", "data-value"))
    a2 = float(page.get_attribute("#neuron-a", "data-value"))
    assert a2 == pytest.approx(math.tanh(z2), abs=1e-5) and z2 != z


def test_multiclass_shows_three_colours(page, server_url):
    open_playground(page, server_url, "#problem=multiclass&dataset=spiral3&x=true&y=true&sinX=true&sinY=true"
                                      "&networkShape=8,8&optimizer=adam&learningRate=0.01&seed=7")
    expect(page.locator("#head-text")).to_have_text("output: softmax + cross-entropy")
    expect(page.get_by_label("Problem type")).to_have_value("multiclass")
    expect(page.get_by_label("Loss", exact=True)).to_be_disabled()
    expect(page.locator(".output-node")).to_have_count(3)
    expect(page.get_by_role("button", name="Three-arm spiral data set")).to_have_attribute("aria-pressed", "true")
    hidden = page.evaluate("""() => { const column = document.querySelector('.network-col').getBoundingClientRect();
        return [...document.querySelectorAll('.network-col .callout')]
            .map(c => c.getBoundingClientRect().bottom - column.bottom); }""")
    assert len(hidden) == 2 and max(hidden) <= 0, hidden  # layers of 8: the callouts below them are not cut off
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => { const f = window.__playground.frame; return f && f.testAcc > 0.8; }",
                           timeout=60_000)
    page.get_by_role("button", name="Pause").click()
    settle(page)
    expect(page.locator('[data-testid^="confusion-"]')).to_have_count(9)
    # The heat map and the points use one colour per class.
    counts = page.evaluate("""() => {
        const classes = [[245, 147, 34], [8, 119, 189], [39, 158, 76]];
        const count = (id, exact) => {
            const c = document.getElementById(id);
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            const n = [0, 0, 0];
            for (let i = 0; i < d.length; i += 4) {
                if (d[i + 3] === 0) continue;
                let best = -1, bd = exact ? 1 : 1e9;
                classes.forEach((k, j) => {
                    const dist = Math.abs(d[i] - k[0]) + Math.abs(d[i + 1] - k[1]) + Math.abs(d[i + 2] - k[2]);
                    if (dist < bd) { bd = dist; best = j; }
                });
                // heat map: only clearly coloured pixels (far from the grey of 'unsure')
                const grey = Math.abs(d[i] - 232) + Math.abs(d[i + 1] - 234) + Math.abs(d[i + 2] - 235);
                if (best >= 0 && (exact || grey > 60)) n[best]++;
            }
            return n;
        };
        return {heat: count('heat-canvas', false), points: count('points-canvas', true)};
    }""")
    heat, points = counts["heat"], counts["points"]
    assert all(n > 0.03 * 100 * 100 for n in heat), heat
    assert all(n > 20 for n in points), points
    shot(page, "07_multiclass.png")
    # Regression: a linear output, two data sets, no confusion matrix.
    page.get_by_label("Problem type").select_option("regression")
    expect(page.locator("#head-text")).to_have_text("output: linear + squared error")
    expect(page.locator("#datasets .dataset")).to_have_count(2)
    expect(page.locator(".output-node")).to_have_count(1)


def test_teach_mode_run_ten_times_stopping_and_export(page, server_url):
    open_playground(page, server_url, "#seed=11")
    # Teach: forward, backward, update for one mini-batch.
    expect(page.get_by_role("button", name="Backward")).to_be_disabled()
    page.get_by_role("button", name="Forward").click()
    expect(page.get_by_test_id("teach-phase")).to_have_text("forward")
    expect(page.locator("#teach-out .teach-batch tbody tr")).to_have_count(10)  # batch size 10
    page.get_by_role("button", name="Backward").click()
    expect(page.get_by_test_id("teach-phase")).to_have_text("backward")
    expect(page.get_by_test_id("teach")).to_contain_text("∂J/∂W")
    page.get_by_role("button", name="Update").click()
    expect(page.get_by_test_id("teach-phase")).to_have_text("update")
    expect(page.get_by_role("button", name="Update")).to_be_disabled()
    # Stop after N epochs: training stops by itself and the button says Play again.
    page.get_by_label("Stop after N epochs (0 = never)").fill("30")
    page.get_by_label("Stop after N epochs (0 = never)").press("Enter")
    page.wait_for_function("() => location.hash.includes('stopAfterEpochs=30')")
    where = "() => ['.top-bar', '.main-part'].map(s => [document.querySelector(s).offsetTop, " \
            "document.querySelector(s).offsetHeight])"
    layout = page.evaluate(where)
    page.get_by_role("button", name="Play").click()
    expect(page.locator("#stopped")).to_contain_text("30 epochs", timeout=30_000)
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    reason, play = page.locator("#stopped").bounding_box(), page.locator("#play-pause-button").bounding_box()
    bar = page.locator(".top-bar").bounding_box()
    assert page.evaluate(where) == layout  # the reason appears without moving anything
    assert 0 < reason["x"] - (play["x"] + play["width"]) < 150 and bar["y"] < reason["y"] < bar["y"] + bar["height"]
    expect(page.locator("#iter-number")).to_have_text("000,030")
    # Restart: new weights seed, shown.
    seed = page.inner_text("#init-seed")
    page.get_by_role("button", name="Restart with a new seed").click()
    expect(page.locator("#init-seed")).not_to_have_text(seed)
    expect(page.locator("#iter-number")).to_have_text("000,000")
    # Run 10×: a table with one row per run (+ the mean row).
    page.get_by_role("button", name="Run 10×").click()
    expect(page.locator("#runs tbody tr")).to_have_count(11, timeout=90_000)
    # Exports download through Blob URLs.
    with page.expect_download() as download:
        page.get_by_role("button", name="Download Python script").click()
    script = Path(download.value.path()).read_text()
    assert download.value.suggested_filename.endswith(".py")
    assert "glassnet" in script
    compile(script, download.value.suggested_filename, "exec")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download model").click()
    assert Path(download.value.path()).stat().st_size > 0
    page.locator("#runs-panel").scroll_into_view_if_needed()
    shot(page, "08_tools.png", full_page=True)


def test_a_bare_url_starts_paused_and_pause_stops_at_the_epoch_shown(page, server_url):
    open_playground(page, server_url)
    time.sleep(1.0)
    expect(page.locator("#iter-number")).to_have_text("000,000")
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => +document.querySelector('#iter-number').textContent.replace(/,/g, '') >= 30")
    shown = page.evaluate("""() => { const text = document.querySelector('#iter-number').textContent;
        document.querySelector('#play-pause-button').click(); return text; }""")
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    time.sleep(1.0)  # every frame has come by now
    expect(page.locator("#iter-number")).to_have_text(shown)
    history = page.evaluate("() => window.__playground.history.map(p => p.epoch)")
    assert history[-1] == int(shown.replace(",", "")) and history == sorted(history)
    # Step first: it ends at an epoch's end, so the mini-batch after it cannot (the frame shown may have been one
    # mini-batch before its epoch's end).
    page.get_by_role("button", name="Step", exact=True).click()
    stepped = epoch_text(int(shown.replace(",", "")) + 1)
    expect(page.locator("#iter-number")).to_have_text(stepped)
    settle(page)
    weights = page.evaluate("() => JSON.stringify(window.__playground.frame.layers)")
    page.get_by_role("button", name="Step one mini-batch").click()
    page.wait_for_function("(w) => JSON.stringify(window.__playground.frame.layers) !== w", arg=weights)
    expect(page.locator("#iter-number")).to_have_text(stepped)


def test_reset_and_every_new_network_clear_every_panel(page, server_url):
    open_playground(page, server_url, "#seed=5&stopAfterEpochs=3")

    def fill_panels():
        page.locator("#bp-inspect").click()
        expect(page.get_by_test_id("chain")).to_contain_text("∂")
        page.get_by_role("button", name="Forward").click()
        expect(page.locator("#teach-out .teach-batch tbody tr")).to_have_count(10)
        page.get_by_role("button", name="Run 10×").click()
        expect(page.locator("#runs tbody tr")).to_have_count(11, timeout=60_000)

    def panels_are_empty():
        for test_id in ("chain", "teach", "runs"):
            expect(page.get_by_test_id(test_id)).to_have_text("")
        expect(page.get_by_role("button", name="Backward")).to_be_disabled()
        settle(page)
        assert page.evaluate("() => window.__playground.history.map(p => p.epoch)") == [0]

    page.get_by_role("button", name="Step", exact=True).click()
    expect(page.locator("#iter-number")).to_have_text("000,001")
    fill_panels()
    page.get_by_role("button", name="Reset the network").click()
    panels_are_empty()
    fill_panels()
    page.get_by_role("button", name="X1 squared feature").click()
    panels_are_empty()
    fill_panels()
    page.get_by_role("button", name="Add a hidden layer").click()
    panels_are_empty()


def test_a_teachers_url_hides_text_and_controls(page, server_url):
    open_playground(page, server_url, "#hideText=true&learningRate_hide=true&playButton_hide=true&sinX_hide=true"
                                      "&numHiddenLayers_hide=true&tutorial=learning-rate-small")
    settle(page)
    for hidden in (".banner h1", ".banner p", "#article", "#lesson", ".callout-neuron", ".callout-output",
                   ".ui-learningRate", "#play-pause-button", ".feature-row.ui-sinX", "#add-layer"):
        expect(page.locator(hidden).first).to_be_hidden()
    for shown in ("#next-step-button", ".ui-activation", ".feature-row.ui-sinY", "#iter-number", "#lessons"):
        expect(page.locator(shown).first).to_be_visible()
    expect(page.get_by_label("Learning rate", exact=True)).to_have_value("0.0001")  # the lesson's setup, text hidden
    shot(page, "10_hide_text.png")
    page.get_by_label("Lessons").select_option("vanishing-gradients")  # hideText keeps the Lessons menu (as TFP's,
    expect(page.locator(".node.neuron")).to_have_count(48)  # which hides only the title and the text)
    expect(page.locator("#article")).to_be_hidden()


def test_a_tensorflow_playground_link_with_noise_beyond_50_widens_the_slider(page, server_url):
    open_playground(page, server_url, "#seed=0.12345&noise=65")
    settle(page)
    slider = page.get_by_label(re.compile("^Noise"))
    expect(slider).to_have_value("65")
    assert slider.get_attribute("max") == "65" and page.locator("#noise-value").text_content() == "65"
    expect(page.locator("#data-seed")).to_have_text("12345")
    expect(page.locator("#warning-count")).to_have_text("0")


def test_lessons_menu_sets_up_a_lesson_and_the_drawing_shows_each_layer(page, server_url):
    open_playground(page, server_url, "#seed=3")
    expect(page.locator(".callout-neuron")).to_be_visible()
    expect(page.locator(".callout-output")).to_be_visible()
    page.get_by_label("Lessons").select_option("vanishing-gradients")
    expect(page.locator("#lesson-title")).to_have_text("Vanishing gradients in a deep sigmoid net")
    expect(page.locator(".node.neuron")).to_have_count(48)
    expect(page.get_by_test_id("layer-info-5")).to_have_text("sigmoid")
    assert "tutorial=vanishing-gradients" in page.evaluate("location.hash")
    page.get_by_role("button", name="Close the lesson").click()
    expect(page.locator("#lesson")).to_be_hidden()
    page.get_by_label("Lessons").select_option("overfitting-cured")
    expect(page.get_by_test_id("layer-info-0")).to_have_text("tanh · drop 0.2")


def test_every_warning_is_kept_in_a_list(page, server_url):
    open_playground(page, server_url, "#batchSize=99&activation=swish&bogus=1")
    expect(page.locator("#warning-count")).to_have_text("3")
    page.locator("#warnings-box summary").click()
    expect(page.get_by_test_id("warnings").locator("li")).to_have_count(3)
    expect(page.get_by_test_id("warnings")).to_contain_text("bogus")
    expect(page.get_by_test_id("warnings")).to_contain_text("batchSize")
    expect(page.get_by_test_id("warnings")).to_contain_text("activation")


def test_every_control_is_built_from_the_servers_schema(page, server_url):
    """The page has no copy of the schema: each `data-key` control is a state key, and its options or range are
    the ones `GET /api/defaults` describes."""
    open_playground(page, server_url)
    described = json.loads(urllib.request.urlopen(server_url + "api/defaults").read())
    controls = page.evaluate("""() => [...document.querySelectorAll('[data-key]')].map(e => ({key: e.dataset.key,
        tag: e.tagName, type: e.type, options: e.tagName === 'SELECT' ? [...e.options].map(o => o.value) : null,
        min: e.min, max: e.max, step: e.step}))""")
    assert len(controls) >= 18 and {c["key"] for c in controls} <= set(described["keys"])
    for control in controls:
        key = described["keys"][control["key"]]
        if control["tag"] == "SELECT":
            read = [float(o) if isinstance(v, float) else o for o, v in zip(control["options"], key["values"])]
            assert read == key["values"] and len(control["options"]) == len(key["values"]), control
        elif control["type"] == "range":
            assert (float(control["min"]), float(control["step"])) == (key["min"], key["step"]), control
    source = "".join(p.read_text() for p in (REPO / "glassnet/playground/static").glob("*.js"))
    assert "0.00001" not in source and "FALLBACK" not in source  # no copy of the value sets


def test_layout_fits_without_overflow_long_labels_or_jumps(sized_page, server_url):
    pg, width = sized_page, sized_page.viewport_size["width"]
    open_playground(pg, server_url, "#expert=true&networkShape=32,32,8")
    expect(pg.locator(".node.neuron")).to_have_count(72)  # the link's state has come (not only the first)
    settle(pg)
    assert pg.evaluate("document.documentElement.scrollWidth") <= width
    player, *controls = pg.evaluate("[...document.querySelectorAll('.top-inner > *')].map(e => "
                                    "e.getBoundingClientRect().toJSON())")
    assert len(controls) == 8 and all(c["top"] < player["bottom"] and c["bottom"] > player["top"] for c in controls), \
        controls  # the top bar is one row, as TFP's: every control stands beside Play
    column = pg.evaluate("document.querySelector('.network-col').getBoundingClientRect().height")
    assert column <= 730  # the 32-neuron layers scroll inside their column
    labels = ".control label, .slider-row label, .column .hint, .neuron-count, .layer-info, .feature-label, .legend p, " \
             "#layers-table th"
    lines = pg.evaluate("""(labels) => [...document.querySelectorAll(labels)].filter(e => e.offsetParent)
        .map(e => [e.textContent.trim(), Math.round(e.getBoundingClientRect().height /
                   (parseFloat(getComputedStyle(e).lineHeight) ||
                    1.2 * parseFloat(getComputedStyle(e).fontSize)))])""",
                        labels)
    assert all(n <= 2 for _, n in lines), [line for line in lines if line[1] > 2]
    assert all(n == 1 for text, n in lines if text.startswith("Layer ")), lines  # "Layer 1 (32)" whole
    beyond = pg.evaluate("""() => { const table = document.querySelector('#layers-table'), panel = table.closest('.panel');
        const inner = panel.getBoundingClientRect().right - parseFloat(getComputedStyle(panel).paddingRight);
        return table.getBoundingClientRect().right - inner; }""")
    assert beyond <= 0.5  # the Layers panel's rows stay inside it
    where = "() => JSON.stringify(['#heatmap', '.column.data', '#iter-number', '.top-bar'].map(s => " \
            "document.querySelector(s).getBoundingClientRect().toJSON()))"
    before = pg.evaluate(where)
    pg.locator('.node.neuron[data-layer="0"][data-index="1"]').hover()
    pg.wait_for_function("() => document.querySelector('#focus-label').textContent !== ''")
    assert pg.evaluate(where) == before  # hovering moves nothing
    shot(pg, f"09_layout_{width}.png")


def test_the_output_link_runs_into_the_map_and_the_backprop_table_reads_cleanly(sized_page, server_url):
    pg, width = sized_page, sized_page.viewport_size["width"]
    open_playground(pg, server_url, "#seed=3")
    settle(pg)
    node, heat = (pg.locator(s).bounding_box() for s in (".output-node", "#heat-canvas"))
    assert abs(node["x"] - heat["x"]) <= 1 and heat["y"] < node["y"] + node["height"] / 2 < heat["y"] + 40
    assert pg.evaluate("getComputedStyle(document.querySelector('.output-node'), '::after').content") == "none"
    weight, (red, _, blue, alpha) = pg.evaluate("""() => {  // a link's end, just left of the map
        const hit = document.querySelector('.link-hit[data-layer="2"][data-row="0"][data-col="0"]');
        const canvas = document.querySelector("canvas.links"), n = hit.getTotalLength();
        const q = hit.getPointAtLength(n - 4), px = canvas.getContext("2d").getImageData(q.x, q.y, 1, 1).data;
        return [window.__playground.frame.layers[2].W[0][0], [...px]];
    }""")
    assert alpha > 0 and (blue > red) == (weight > 0)
    pg.locator("#bp-inspect").click()
    expect(pg.get_by_test_id("chain-match")).to_contain_text("✓")
    pg.locator("#backprop-panel").scroll_into_view_if_needed()
    lines = pg.evaluate("""() => [...document.querySelectorAll('.chain-table th, .chain-table td, .legend p')]
        .map(e => { const r = document.createRange(); r.selectNodeContents(e);  // its lines: distinct tops
            return [e.textContent.trim(), e.tagName === 'TD' && !e.classList.contains('note'),
                    new Set([...r.getClientRects()].filter(b => b.width > 0).map(b => Math.round(b.bottom))).size];
        })""")
    assert all(n == 1 if value else n <= 3 for _, value, n in lines), lines  # numbers whole, labels short
    assert all(n <= 2 for text, value, n in lines if not value and text.startswith(("∂", "product", "autodiff")))
    shot(pg, f"11_backprop_{width}.png")
