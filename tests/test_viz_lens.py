"""glassnet.viz's figures of the learner's lens: each rendered to PNG and checked for what it drew (line data,
contour levels, marker positions, histogram bars, shaded ranges, titles and text)."""
from __future__ import annotations

import io

import matplotlib.image
import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.contour import ContourSet
from matplotlib.patches import StepPatch

import glassnet as gn
from glassnet import lens, nn, optim, viz
from glassnet.viz.lens import CURRENT_COLOR


def rendered(figure) -> np.ndarray:
    """The figure drawn as its PNG file, read back as (height, width, 3) floats."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=60)
    buffer.seek(0)
    return matplotlib.image.imread(buffer)[..., :3]


def pixel_at(figure, ax, x: float, y: float) -> np.ndarray:
    figure.canvas.draw()
    image = np.asarray(figure.canvas.buffer_rgba())[..., :3] / 255.0
    px, py = ax.transData.transform((x, y))
    return image[image.shape[0] - int(round(py)), int(round(px))]


def lines_by_label(ax) -> dict:
    return {line.get_label(): line for line in ax.get_lines()}


def test_landscape_contours_the_losses_with_the_path_and_the_current_point():
    grid = np.linspace(-1, 1, 21)
    losses = grid[None, :] ** 2 + 2 * grid[:, None] ** 2 + 0.5  # a bowl: α², 2β², lowest 0.5 at the centre
    path = np.array([[-0.8, 0.6], [-0.4, 0.3], [-0.1, 0.05], [0.0, 0.0]])
    land = lens.Landscape(grid, grid.copy(), losses, 0.5, ({}, {}), path)
    figure = viz.loss_landscape(land, levels=12)
    ax, colorbar = figure.axes
    assert colorbar.get_ylabel() == "loss"
    filled = [c for c in ax.collections if isinstance(c, ContourSet) and c.filled]
    assert len(filled) == 1
    np.testing.assert_allclose(filled[0].levels, np.linspace(0.5, 3.5, 12))  # within a decade: even levels
    lines = lines_by_label(ax)
    np.testing.assert_array_equal(lines["trajectory"].get_xydata(), path)
    np.testing.assert_array_equal(lines["start"].get_xydata(), path[:1])
    current = lines["current weights (loss 0.5)"]
    assert current.get_marker() == "*" and list(current.get_xydata()[0]) == [0.0, 0.0]
    assert np.allclose(pixel_at(figure, ax, 0.0, 0.0), to_rgb(CURRENT_COLOR), atol=0.1)
    assert rendered(figure).std() > 0.05
    # losses over more than a decade (a valley beside cliffs): log-spaced levels
    steep = lens.Landscape(grid, grid.copy(), np.exp(5 * np.abs(grid))[None, :] * np.ones((21, 1)), 1.0, ({}, {}))
    ax = viz.loss_landscape(steep, levels=8).axes[0]
    filled = next(c for c in ax.collections if isinstance(c, ContourSet) and c.filled)
    np.testing.assert_allclose(filled.levels, np.geomspace(1.0, np.exp(5), 8))
    steps = np.linalg.norm(np.diff(filled.get_facecolor()[:, :3], axis=0), axis=1)
    assert steps.min() > 0.1  # every band a colour of its own, far from its neighbours', the low ones too
    assert "trajectory" not in lines_by_label(ax)


def test_landscape_of_a_trained_net_marks_its_pca_path():
    X, y = gn.data.make_dataset("circle", n=60, seed=0)
    X, y = X.astype(np.float32), y.astype(np.float32).reshape(-1, 1)
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    flow = lens.GradientFlow(snapshots=True)
    gn.fit(model, X, y, loss=nn.BCEWithLogitsLoss(), optimizer=optim.Adam(model.parameters(), lr=0.05), epochs=5,
           batch_size=20, callbacks=[flow], verbose=False)
    land = lens.loss_landscape(model, X, y, nn.BCEWithLogitsLoss(), resolution=9, directions="pca",
                               trajectory=flow.trajectory)
    ax = viz.loss_landscape(land).axes[0]
    np.testing.assert_allclose(lines_by_label(ax)["trajectory"].get_xydata(), land.path)
    assert ax.get_xlim()[0] <= land.path[:, 0].min() and ax.get_xlim()[1] >= land.path[:, 0].max()


def test_interpolation_draws_the_line_and_both_ends():
    ts = np.linspace(0, 1, 11)
    losses = 1 - 0.8 * ts + 0.3 * ts * (1 - ts)  # a bump on the way from 1 down to 0.2
    ax = viz.interpolation(ts, losses).axes[0]
    lines = lines_by_label(ax)
    np.testing.assert_array_equal(lines["loss on the line"].get_ydata(), losses)
    assert list(lines["initial weights (1)"].get_xydata()[0]) == [0.0, 1.0]
    assert lines["current weights (0.2)"].get_xydata()[0] == pytest.approx([1.0, 0.2], abs=1e-12)


def test_gradient_flow_draws_each_layers_norms_and_ratios_on_log_scales():
    flow = lens.GradientFlow()
    flow.names = ["0.weight", "2.weight"]
    flow.grad_norms = {"0.weight": [1e-6, 2e-6, 0.0], "2.weight": [0.1, 0.2, 0.3]}
    flow.update_ratios = {"0.weight": [1e-8, 1e-8, 2e-8], "2.weight": [1e-3, 2e-3, 1e-3]}
    figure = viz.gradient_flow(flow, title="two layers")
    norms, ratios = figure.axes
    assert norms.get_yscale() == ratios.get_yscale() == "log"
    first = lines_by_label(norms)["layer 1 (0.weight)"]
    np.testing.assert_array_equal(first.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(first.get_ydata(), [1e-6, 2e-6, np.nan])  # a zero has no place on a log axis
    np.testing.assert_array_equal(lines_by_label(ratios)["layer 2 (2.weight)"].get_ydata(), [1e-3, 2e-3, 1e-3])
    assert list(lines_by_label(ratios)["healthy ≈ 1e-3"].get_ydata()) == [1e-3, 1e-3]
    assert first.get_color() != lines_by_label(norms)["layer 2 (2.weight)"].get_color()
    assert figure.get_suptitle() == "two layers" and rendered(figure).std() > 0.05
    with pytest.raises(ValueError, match="recorded no epoch"):
        empty = lens.GradientFlow()
        empty.names, empty.grad_norms, empty.update_ratios = ["w"], {"w": []}, {"w": []}
        viz.gradient_flow(empty)


def test_saturation_histograms_show_each_layers_z_and_a_with_the_shares():
    relu = nn.Sequential(nn.Linear(1, 3), nn.ReLU(), nn.Linear(3, 2), nn.Tanh())
    relu[0].weight._data[...] = [[0.0], [0.0], [1.0]]
    relu[0].bias._data[...] = [-1.0, 1.0, 0.0]  # unit 1 is dead: z = −1 for every input
    relu[2].weight._data[...] = [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    relu[2].bias._data[...] = [4.0, 0.1]  # unit 1 saturated: tanh'(4) < 1% of its maximum (beyond |z| = 2.99)
    X = np.linspace(-1, 1, 11, dtype=np.float32).reshape(-1, 1)
    report = lens.saturation(relu, X)
    figure = viz.saturation_histograms(report)
    (z1, a1), (z2, a2) = np.reshape(figure.axes, (2, 2))
    assert z1.get_title() == "layer 1 (relu, module 0): z — 33% dead units, z ≤ 0 in 52% of values"  # 11 + 0 + 6 of 33
    assert z2.get_title() == "layer 2 (tanh, module 2): z — 50% saturated units, 50% of values"
    for ax, counts, bins in ((z1, report[0].z_counts, report[0].z_bins), (a2, report[1].a_counts, report[1].a_bins)):
        (bars,) = [p for p in ax.patches if isinstance(p, StepPatch)]
        values, edges, _ = bars.get_data()
        np.testing.assert_array_equal(values, counts)
        np.testing.assert_array_equal(edges, bins)
    shaded = [p for p in z1.patches if not isinstance(p, StepPatch)]  # the dead side, from the lowest z to 0
    (dead,) = shaded
    assert dead.get_x() == pytest.approx(report[0].z_bins[0]) and dead.get_x() + dead.get_width() == pytest.approx(0)
    (saturated,) = [p for p in z2.patches if not isinstance(p, StepPatch)]  # z in [0.1, 4]: only the upper side
    assert saturated.get_x() == pytest.approx(lens.SATURATION_Z["tanh"])
    assert saturated.get_x() + saturated.get_width() == pytest.approx(report[1].z_bins[-1])
    assert rendered(figure).std() > 0.05
    with pytest.raises(ValueError, match="no layer"):
        viz.saturation_histograms([])


def test_lr_finder_marks_the_suggested_rate_and_the_blow_up():
    lrs = np.geomspace(1e-4, 1.0, 41)
    smoothed = 1.0 / (1 + np.exp(4 * (np.log10(lrs) + 2)))  # falls fastest at 1e-2
    result = lens.LRFinder(lrs, smoothed + 0.01, smoothed, float(lrs[20]), 1.0)
    ax = viz.lr_finder(result).axes[0]
    assert ax.get_xscale() == "log"
    lines = lines_by_label(ax)
    np.testing.assert_array_equal(lines["smoothed loss"].get_ydata(), smoothed)
    np.testing.assert_array_equal(lines["loss per mini-batch"].get_ydata(), smoothed + 0.01)
    assert list(lines[f"suggested lr {lrs[20]:.2g}"].get_xdata()) == [lrs[20]] * 2
    point = next(line for line in ax.get_lines() if line.get_marker() == "o")
    assert list(point.get_xydata()[0]) == [lrs[20], smoothed[20]]
    assert list(lines["diverged at 1"].get_xdata()) == [1.0, 1.0]
    assert "diverged at 1" not in lines_by_label(viz.lr_finder(lens.LRFinder(lrs, smoothed, smoothed, 0.01,
                                                                             None)).axes[0])


def test_diagnosis_writes_each_finding_beside_the_curves():
    history = {"loss": list(np.linspace(1.0, 0.05, 20) ** 2),
               "val_loss": list(np.r_[np.linspace(1.0, 0.5, 10), np.linspace(0.55, 1.0, 10)])}
    findings = lens.diagnose(history, restart_losses=[0.01])
    assert [f.kind for f in findings] == ["local_minimum", "overfitting"]
    figure = viz.diagnosis(findings, history)
    curves, text = figure.axes
    lines = lines_by_label(curves)
    np.testing.assert_allclose(lines["training loss"].get_ydata(), history["loss"])
    np.testing.assert_allclose(lines["validation loss"].get_ydata(), history["val_loss"])
    assert list(lines["best epoch (10)"].get_xdata()) == [10, 10]
    assert list(lines["early stopping stops (15)"].get_xdata()) == [15, 15]
    written = [t.get_text() for t in text.texts]
    assert written[0] == findings[0].title and written[2] == findings[1].title
    assert "the best of 1 restart from" in written[1] and "run 10× from new weights" in written[1]
    assert "try: regularization = L2, regularizationRate = 0.01" in written[3]
    assert " ".join(written[3].split()).startswith(findings[1].evidence[:40])
    assert rendered(figure).std() > 0.05
    alone = viz.diagnosis(lens.diagnose({"loss": [1.0, 5.0, 50.0]}))
    assert len(alone.axes) == 1 and "learningRate × 0.1" in alone.axes[0].texts[1].get_text()
