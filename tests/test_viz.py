"""glassnet.viz: each figure rendered to PNG and checked for what it drew (data of its artists, pixel colours)."""
from __future__ import annotations

import io

import matplotlib.image
import numpy as np
import pytest
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_rgb

import glassnet as gn
from glassnet import nn, viz
from glassnet.viz._mpl import NEGATIVE, POSITIVE


def png(figure) -> np.ndarray:
    """The figure as a PNG, read back as (height, width, 3) floats."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=60)
    buffer.seek(0)
    return matplotlib.image.imread(buffer)[..., :3]


def share_of(pixels: np.ndarray, color: str, tolerance: float = 0.06) -> float:
    return float(np.all(np.abs(pixels - np.array(to_rgb(color))) < tolerance, axis=-1).mean())


def pixel_at(figure, ax, x: float, y: float) -> np.ndarray:
    """The rendered colour at data point (x, y) of ax."""
    figure.canvas.draw()
    image = np.asarray(figure.canvas.buffer_rgba())[..., :3] / 255.0
    px, py = ax.transData.transform((x, y))
    return image[image.shape[0] - int(round(py)), int(round(px))]


def set_weights(model: nn.Module, values: dict[str, list]) -> None:
    model.load_state_dict({name: np.asarray(v, dtype=np.float32) for name, v in values.items()})


def test_learning_curves_draw_each_logged_series_and_the_best_epoch():
    history = {"loss": [1.0, 0.6, 0.4, 0.35], "val_loss": [1.1, 0.7, 0.5, 0.6], "accuracy": [0.5, 0.7, 0.8, 0.85],
               "val_accuracy": [0.5, 0.65, 0.75, 0.7]}
    figure = viz.learning_curves(history)
    loss_ax, metric_ax = figure.axes
    lines = {line.get_label(): line for line in loss_ax.get_lines()}
    assert list(lines["training loss"].get_ydata()) == history["loss"]
    assert list(lines["validation loss"].get_ydata()) == history["val_loss"]
    assert list(lines["best epoch (3)"].get_xdata()) == [3, 3]  # the lowest val_loss, 1-based
    assert [line.get_label() for line in metric_ax.get_lines()][:2] == ["training accuracy", "validation accuracy"]
    pixels = png(figure)
    assert share_of(pixels, "#1f77b4") > 0.001 and share_of(pixels, "#ff7f0e") > 0.001  # both curves drawn


def test_learning_curves_take_a_history_and_refuse_an_empty_one():
    X = np.random.default_rng(0).normal(size=(40, 2)).astype(np.float32)
    model = nn.Sequential(nn.Linear(2, 1))
    history = gn.fit(model, X, X[:, :1], loss=nn.MSELoss(), optimizer="sgd", epochs=3)
    figure = viz.learning_curves(history, best_epoch=1)
    assert len(figure.axes) == 1
    assert list(figure.axes[0].get_lines()[0].get_ydata()) == history.history["loss"]
    with pytest.raises(ValueError, match="no 'loss' entries"):
        viz.learning_curves({"loss": []})


def test_decision_boundary_colours_each_side_and_draws_each_neuron():
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1))
    # neuron 1 fires for x > 0, neuron 2 for y > 0.5; the output follows neuron 1
    set_weights(model, {"0.weight": [[1, 0], [0, 1]], "0.bias": [0, -0.5], "2.weight": [[3, 0]], "2.bias": [0]})
    points = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0]])
    labels = np.array([0, 1, 0, 1])
    figure = viz.decision_boundary(model, points, labels, resolution=41)
    main, *neurons = figure.axes
    assert len(neurons) == 2 and [ax.get_title() for ax in neurons] == ["layer 1, neuron 1", "layer 1, neuron 2"]
    output = main.images[0].get_array()
    assert output.shape == (41, 41) and (output[:, -1] > 0).all() and (output[:, 0] < 0).all()
    boundary = main.collections[0].get_paths()[0].vertices
    assert np.allclose(boundary[:, 0], 0.0, atol=0.05)  # the boundary is the line x = 0
    second = neurons[1].collections[0].get_paths()[0].vertices
    assert np.allclose(second[:, 1], 0.5, atol=0.05)  # neuron 2's own boundary: y = 0.5
    scatters = [c for c in main.collections if isinstance(c, PathCollection)]
    assert [len(c.get_offsets()) for c in scatters] == [2, 2]
    assert np.allclose(pixel_at(figure, main, 1.1, -0.2), to_rgb(POSITIVE), atol=0.2)
    assert np.allclose(pixel_at(figure, main, -1.1, -0.2), to_rgb(NEGATIVE), atol=0.2)


def test_decision_boundary_of_three_classes_paints_regions_and_takes_features():
    model = nn.Sequential(nn.Linear(3, 3))
    set_weights(model, {"0.weight": [[-1, 0, 0], [1, 0, 0], [0, 0, 1]], "0.bias": [0, 0, -2]})
    points = np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    features = lambda p: np.column_stack([p, p[:, 1] ** 2])  # noqa: E731
    figure = viz.decision_boundary(model, points, [0, 1, 2], features=features, resolution=30)
    assert len(figure.axes) == 1  # no hidden layer, no neuron panels
    regions = figure.axes[0].images[0].get_array()
    assert set(np.unique(regions)) == {0, 1, 2}
    assert figure.axes[0].get_title() == "class regions"


def test_first_layer_weights_show_each_neurons_weights_as_an_image():
    model = nn.Sequential(nn.Linear(16, 3), nn.ReLU(), nn.Linear(3, 2))
    pattern = np.zeros((3, 16), dtype=np.float32)
    pattern[0, :8] = 1.0  # top half positive
    pattern[0, 8:] = -1.0
    pattern[1, ::4] = 0.5
    model[0].weight.data = gn.tensor(pattern)
    figure = viz.first_layer_weights(model, (4, 4), columns=3)
    panels = [ax for ax in figure.axes if ax.images]
    assert len(panels) == 3
    for ax, row in zip(panels, pattern):
        assert np.array_equal(ax.images[0].get_array(), row.reshape(4, 4))
    assert np.allclose(pixel_at(figure, panels[0], 1.5, 0.5), to_rgb(POSITIVE), atol=0.05)
    assert np.allclose(pixel_at(figure, panels[0], 1.5, 3.0), to_rgb(NEGATIVE), atol=0.05)
    with pytest.raises(ValueError, match=r"image_shape \(8, 8\) holds 64 pixels but the first layer takes 16"):
        viz.first_layer_weights(model, (8, 8))


def test_network_graph_draws_one_edge_per_weight_as_wide_and_coloured_as_it():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    set_weights(model, {"0.weight": [[1, -2], [0.5, 0], [-4, 1]], "0.bias": [0, 0, -1],
                        "2.weight": [[2, -1, 1]], "2.bias": [0.3]})
    figure = viz.network_graph(model, input_names=["x1", "x2"], max_width=8.0)
    ax = figure.axes[0]
    (edges,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    weights = np.array([1, -2, 0.5, 0, -4, 1, 2, -1, 1])  # row by row of each layer
    assert len(edges.get_segments()) == 9
    assert np.allclose(edges.get_linewidths(), 8.0 * np.abs(weights) / 4)
    colours = [tuple(np.round(c[:3], 3)) for c in edges.get_colors()]
    expected = [tuple(np.round(to_rgb(POSITIVE if w >= 0 else NEGATIVE), 3)) for w in weights]
    assert colours == expected
    nodes = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(nodes) == 2 + 3 + 1
    assert [t.get_text() for t in ax.texts] == ["x1", "x2"]
    pixels = png(figure)
    assert share_of(pixels, POSITIVE) > 0.003 and share_of(pixels, NEGATIVE) > 0.003


def test_activation_maximization_climbs_to_the_regularised_optimum():
    model = nn.Sequential(nn.Linear(3, 2))
    set_weights(model, {"0.weight": [[1, 0, 0], [0.5, -1, 2]], "0.bias": [0, 0]})
    figure, x = viz.activation_maximization(model, unit=1, inputs=3, steps=400, lr=0.1, l2=0.5)
    # the maximum of w·x − ¼|x|² is x = w / l2
    np.testing.assert_allclose(x, np.array([0.5, -1, 2]) / 0.5, rtol=1e-3)
    values = figure.axes[-1].get_lines()[0].get_ydata()
    assert np.all(np.diff(values) > -1e-9) and values[-1] > values[0]
    bars = figure.axes[0].patches
    assert [round(b.get_height(), 2) for b in bars] == [1.0, -2.0, 4.0]


def test_activation_maximization_of_a_hidden_neuron_stays_in_bounds():
    model = nn.Sequential(nn.Linear(4, 2), nn.ReLU(), nn.Linear(2, 1))
    set_weights(model, {"0.weight": [[1, -1, 1, -1], [0, 0, 0, 1]], "0.bias": [0.1, 0], "2.weight": [[1, 1]],
                        "2.bias": [0]})
    figure, x = viz.activation_maximization(model, unit=0, inputs=4, layer=1, image_shape=(2, 2), steps=100,
                                            bounds=(0.0, 1.0), l2=0.0)
    assert np.array_equal(x, [1.0, 0.0, 1.0, 0.0])  # the input that most excites neuron 1 of layer 1 in [0, 1]
    assert np.array_equal(figure.axes[0].images[0].get_array(), x.reshape(2, 2))


def test_saliency_map_is_the_absolute_input_gradient():
    gn.manual_seed(1)
    model = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3)).to(np.float64)
    x = np.random.default_rng(1).normal(size=5)
    figure, saliency = viz.saliency_map(model, x, target=2)
    step = 1e-6
    numeric = [(gn.predict(model, (x + step * e)[None])[0, 2] - gn.predict(model, (x - step * e)[None])[0, 2])
               / (2 * step) for e in np.eye(5)]
    np.testing.assert_allclose(saliency, np.abs(numeric), rtol=1e-6, atol=1e-9)
    assert [round(b.get_height(), 6) for b in figure.axes[1].patches] == [round(v, 6) for v in saliency]
    _, default = viz.saliency_map(model, x)
    best = int(gn.predict(model, x[None])[0].argmax())
    np.testing.assert_allclose(default, viz.saliency_map(model, x, target=best)[1])
