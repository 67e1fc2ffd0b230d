"""The lens panels in a real browser (Playwright + Debian's Chromium, as test_browser.py): each panel opens from the
keyboard and follows training (live while playing, full when paused), the learning-rate finder sets its rate and
leaves the network alone, a diagnosis's one-click experiment changes the setup (and clears the panels), and the
Lessons menu has a lesson per diagnosis. Screenshots go to tests/playground/artifacts/ (lens_*.png)."""

from __future__ import annotations

import re

import pytest

from test_browser import browser, expect, open_playground, page, server_url, settle, shot  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.timeout(180)]
PANELS = ("Loss landscape", "Gradient flow", "Saturation", "Diagnosis")


def open_panel(pg, name: str) -> None:
    """Open a lens panel from the keyboard: focus its summary and press Enter."""
    pg.locator("summary", has_text=name).focus()
    pg.keyboard.press("Enter")
    expect(pg.locator(f"details.lens-panel:has(> summary:has-text('{name}'))")).to_have_attribute("open", "")


def painted(pg, selector: str) -> int:
    """How many pixels of a canvas are drawn on."""
    return pg.evaluate("""(sel) => { const c = document.querySelector(sel);
        if (!c.width || !c.height) return 0;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) n += d[i] > 0; return n; }""", selector)


def redrawn(pg) -> None:
    """Wait until every open panel's canvas is drawn again at its new size (lens.js redraws 150 ms after a resize)."""
    pg.wait_for_function("""() => [...document.querySelectorAll('.lens-panel[open] canvas')]
        .every(c => c.width === Math.round(c.clientWidth * devicePixelRatio))""")


def test_the_lens_panels_open_from_the_keyboard_and_follow_training(page, server_url):  # noqa: F811
    open_playground(page, server_url, "#seed=1")
    for name in PANELS:
        open_panel(page, name)
    expect(page.locator("#landscape-info")).to_contain_text("at epoch 0")
    expect(page.get_by_test_id("diagnosis-note")).to_contain_text("Train for a few epochs")
    page.get_by_role("button", name="Play").click()
    expect(page.locator("#landscape-info")).to_contain_text("live, low resolution")
    page.wait_for_function("() => +document.querySelector('#iter-number').textContent.replace(/,/g, '') > 80",
                           timeout=60_000)
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#landscape-info")).not_to_contain_text("live", timeout=15_000)
    page.wait_for_function("() => +document.querySelector('#landscape-canvas').dataset.resolution > 11")
    info = page.inner_text("#landscape-info")
    shown_epoch = int(page.inner_text("#iter-number").replace(",", ""))
    assert f"at epoch {shown_epoch}:" in info
    here = float(re.search(r"loss here ([\d.e-]+)", info).group(1))
    assert here == pytest.approx(float(page.inner_text("#loss-train")), abs=6e-4)  # the centre = the weights now
    assert painted(page, "#landscape-canvas") > 10_000
    legend = page.get_by_test_id("gradients-legend").locator("li")
    expect(legend).to_have_count(3)
    expect(legend.first).to_contain_text("hidden layer 1:")
    assert painted(page, "#gradnorm-canvas") > 500 and painted(page, "#update-canvas") > 500
    shares = page.locator(".sat-share")
    expect(shares).to_have_count(3)
    expect(shares.first).to_contain_text(re.compile(r"saturated: \d+% of the units"))
    expect(page.locator(".finding").first).to_be_visible()
    page.locator("#lens-heading").scroll_into_view_if_needed()
    shot(page, "lens_1400x900.png")
    page.set_viewport_size({"width": 1024, "height": 768})
    redrawn(page)  # not the 1400-px drawing squeezed into the narrower canvases
    page.locator("#landscape-panel").scroll_into_view_if_needed()
    shot(page, "lens_1024x768.png")
    page.locator("#diagnosis-panel").scroll_into_view_if_needed()
    shot(page, "lens_1024x768_diagnosis.png")


def test_the_lr_finder_sets_its_rate_and_leaves_the_network_alone(page, server_url):  # noqa: F811
    open_playground(page, server_url, "#seed=2")
    settle(page)  # the weights of the hash's network, not of a frame sent before it was applied
    weights = page.evaluate("() => JSON.stringify(window.__playground.frame.layers)")
    expect(page.locator("#lr-find-canvas")).to_be_hidden()  # no empty chart before the test has run
    page.get_by_role("button", name="Find a learning rate").click()
    expect(page.get_by_test_id("lr-find-result")).to_contain_text("Steepest descent at learning rate")
    use = page.get_by_role("button", name=re.compile(r"^Use learning rate "))
    rate = use.text_content().removeprefix("Use learning rate ").strip()
    assert painted(page, "#lr-find-canvas") > 300
    page.locator("#lr-find-panel").scroll_into_view_if_needed()
    shot(page, "lens_lr_finder.png")
    use.click()
    expect(page.get_by_label("Learning rate", exact=True)).to_have_value(rate)
    assert f"learningRate={rate}" in page.evaluate("location.hash")
    expect(page.locator("#iter-number")).to_have_text("000,000")
    page.wait_for_timeout(300)
    assert page.evaluate("() => JSON.stringify(window.__playground.frame.layers)") == weights  # not trained


def test_a_diagnosis_experiment_is_one_click_and_the_lessons_have_one_per_finding(page, server_url):  # noqa: F811
    open_playground(page, server_url, "#tutorial=underfitting&seed=1")
    expect(page.locator("#lesson-title")).to_have_text("Underfitting: a straight line for a circle")
    open_panel(page, "Diagnosis")
    page.get_by_role("button", name="Play").click()
    finding = page.locator(".finding[data-kind='underfitting']")
    expect(finding).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#lens-heading")).to_have_attribute("data-live", "false")  # the paused network's findings
    expect(finding).to_be_visible()
    button = finding.get_by_role("button")
    expect(button).to_have_text("Try hidden layers 4")
    finding.scroll_into_view_if_needed()
    shot(page, "lens_diagnosis_underfitting.png")
    button.click()
    expect(page.locator(".node.neuron")).to_have_count(4)  # one hidden layer of 4 now
    assert "networkShape=4&" in page.evaluate("location.hash")
    expect(page.get_by_test_id("diagnosis-note")).to_contain_text("Train for a few epochs")  # nothing stale
    expect(page.locator(".finding")).to_have_count(0)
    titles = page.locator("#lessons option").all_inner_texts()
    for title in ("Underfitting: a straight line for a circle", "Overfitting: little data, much noise",
                  "Curing overfitting: L2, dropout, early stopping", "A learning rate too small",
                  "A learning rate too large", "Vanishing gradients in a deep sigmoid net", "Dead ReLUs",
                  "Local minima: the same network from other weights"):
        assert title in titles
    page.get_by_label("Lessons").select_option(label="Dead ReLUs")
    expect(page.locator("#lesson-title")).to_have_text("Dead ReLUs")
    expect(page.get_by_label("Activation", exact=True)).to_have_value("relu")
    expect(page.get_by_label("Learning rate", exact=True)).to_have_value("3")


def test_a_deep_sigmoid_nets_histograms_tell_their_ends_apart(page, server_url):  # noqa: F811
    """The last sigmoid layers of the vanishing-gradient lesson squeeze z and a into narrow ranges: each histogram's
    two ends are written with the digits it takes to differ."""
    open_playground(page, server_url, "#tutorial=vanishing-gradients&seed=1")
    open_panel(page, "Saturation")
    expect(page.locator(".sat-share")).to_have_count(7)
    labels = page.locator(".sat-hist").evaluate_all("(cs) => cs.map(c => c.getAttribute('aria-label'))")
    ends = [re.search(r"from (\S+) to (\S+)$", label).groups() for label in labels]
    assert len(ends) == 14 and all(low != high for low, high in ends), labels


def test_gradients_that_die_fall_onto_the_zero_line(page, server_url):  # noqa: F811
    """Dead ReLUs at learning rate 3: after the first epochs no gradient reaches any weight; a log scale has no place
    for 0, so the chart draws 0 on its bottom axis (not an empty chart)."""
    open_playground(page, server_url, "#tutorial=dead-relus&seed=1")
    open_panel(page, "Gradient flow")
    for _ in range(4):
        page.get_by_role("button", name="Step", exact=True).click()
    expect(page.get_by_test_id("gradients-legend").locator("li").first).to_contain_text(": 0, ratio 0",
                                                                                         timeout=30_000)
    coloured = page.evaluate("""() => { const c = document.querySelector('#gradnorm-canvas');
        const row = Math.round((c.clientHeight - 20) * devicePixelRatio);  // the bottom axis (margin 20 px)
        const d = c.getContext('2d').getImageData(0, row, c.width, 1).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) n += d[i + 3] > 0 && (d[i] !== d[i + 1] || d[i + 1] !== d[i + 2]);
        return n; }""")
    assert coloured > 100  # a layer's colour along the axis, not only the axis's grey
    page.locator("#gradients-panel").scroll_into_view_if_needed()
    shot(page, "lens_dead_gradients.png")
