"""The learner's lens (glassnet.lens, re-exported by gn.glass): each quantity against an independent computation."""
import copy

import numpy as np
import pytest

import glassnet as gn
from glassnet import lens, nn, optim


def circle(n=200, noise=0.0, seed=0):
    X, y = gn.data.make_dataset("circle", n=n, noise=noise, seed=seed)
    return X.astype(np.float32), y.astype(np.float32).reshape(-1, 1)


def playground_net():
    return nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2), nn.Tanh(), nn.Linear(2, 1))


class Wrapped(nn.Module):
    """The same network behind a custom forward: the landscape falls back to one forward per point."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x)


def test_landscape_centre_is_the_current_loss_and_weights_are_unchanged():
    X, y = circle()
    model = playground_net()
    before = copy.deepcopy(model.state_dict())
    loss = nn.BCEWithLogitsLoss()
    land = lens.loss_landscape(model, X, y, loss, resolution=41, span=0.5)
    current = float(loss(model(gn.tensor(X)), y).item())
    assert land.losses.shape == (41, 41)
    assert land.losses[20, 20] == pytest.approx(current, rel=1e-5)
    assert land.center_loss == pytest.approx(current, rel=1e-5)
    assert land.losses.std() > 0
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    # the batched forward and the one-forward-per-point fallback agree
    slow = lens.loss_landscape(Wrapped(model), X, y, loss, resolution=5, span=0.5,
                               directions=tuple({f"inner.{k}": v for k, v in d.items()} for d in land.directions))
    fast = lens.loss_landscape(model, X, y, loss, resolution=5, span=0.5, directions=land.directions)
    np.testing.assert_allclose(slow.losses, fast.losses, rtol=1e-5)


def test_a_direction_scaled_to_zero_gives_a_flat_line():
    X, y = circle(100)
    model = playground_net()
    d1, d2 = lens.random_directions(model, seed=1)
    zero = {name: np.zeros_like(value) for name, value in d1.items()}
    land = lens.loss_landscape(model, X, y, nn.MSELoss(), resolution=7, directions=(zero, d2))
    np.testing.assert_allclose(land.losses, land.losses[:, :1].repeat(7, axis=1), rtol=1e-6)  # flat along α
    assert np.ptp(land.losses[:, 0]) > 0  # but not along β


def test_filter_normalised_directions_have_each_neurons_norm():
    model = playground_net()
    d1, _ = lens.random_directions(model, seed=0)
    w = model[0].weight.numpy()
    np.testing.assert_allclose(np.linalg.norm(d1["0.weight"], axis=1), np.linalg.norm(w, axis=1), rtol=1e-5)
    assert not d1["0.bias"].any()


def test_pca_landscape_puts_the_trajectory_end_at_the_centre_and_interpolation_ends_meet():
    X, y = circle(100)
    model = playground_net()
    initial = copy.deepcopy(model.state_dict())
    flow = lens.GradientFlow(snapshots=True)
    loss = nn.BCEWithLogitsLoss()
    gn.fit(model, X, y, loss=loss, optimizer=optim.Adam(model.parameters(), lr=0.05), epochs=8, batch_size=20,
           callbacks=[flow])
    assert len(flow.trajectory) == 9
    land = lens.loss_landscape(model, X, y, loss, resolution=9, directions="pca", trajectory=flow.trajectory)
    np.testing.assert_allclose(land.path[-1], [0, 0], atol=1e-5)
    assert np.linalg.norm(land.path[0]) > 0.1
    ts, values = lens.interpolate(model, initial, X, y, loss, steps=11)
    assert values[-1] == pytest.approx(float(loss(model(gn.tensor(X)), y).item()), rel=1e-5)
    start = playground_net()
    start.load_state_dict(initial)
    assert values[0] == pytest.approx(float(loss(start(gn.tensor(X)), y).item()), rel=1e-5)
    with pytest.raises(ValueError, match="trajectory"):
        lens.loss_landscape(model, X, y, loss, directions="pca")


def test_gradient_flow_equals_autodiff_norms_and_sgd_update_ratio():
    X, y = circle(50)
    model = playground_net()
    reference = copy.deepcopy(model)
    loss = nn.MSELoss()
    loss(reference(gn.tensor(X)), y).backward()
    flow = lens.GradientFlow()
    gn.fit(model, X, y, loss=loss, optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=1, batch_size=50,
           shuffle=False, callbacks=[flow])
    assert flow.names == ["0.weight", "2.weight", "4.weight"]
    for name, param in reference.named_parameters():
        if param.ndim < 2:
            continue
        grad = param.grad.numpy()
        assert flow.grad_norms[name][0] == pytest.approx(float(np.linalg.norm(grad)), rel=1e-5)
        ratio = 0.1 * np.linalg.norm(grad) / np.linalg.norm(param.numpy())
        assert flow.update_ratios[name][0] == pytest.approx(float(ratio), rel=1e-4)


def test_saturation_counts_on_hand_built_weights():
    relu = nn.Sequential(nn.Linear(1, 3), nn.ReLU())
    relu[0].weight._data[...] = [[0.0], [0.0], [1.0]]
    relu[0].bias._data[...] = [-1.0, 1.0, 0.0]
    X = np.linspace(-1, 1, 11, dtype=np.float32).reshape(-1, 1)
    (layer,) = lens.saturation(relu, X)
    assert layer.activation == "relu"
    assert layer.dead_units == pytest.approx(1 / 3)
    np.testing.assert_allclose(layer.per_unit, [1.0, 0.0, 6 / 11])
    assert layer.z_counts.sum() == 33
    tanh = nn.Sequential(nn.Linear(1, 2), nn.Tanh())
    tanh[0].weight._data[...] = [[100.0], [0.1]]
    tanh[0].bias._data[...] = 0.0
    X = np.linspace(0.5, 1, 10, dtype=np.float32).reshape(-1, 1)
    (layer,) = lens.saturation(tanh, X)
    assert layer.saturated_units == pytest.approx(0.5) and layer.saturated_values == pytest.approx(0.5)
    # the threshold: tanh'(z) = 1% of its maximum there
    assert 1 - np.tanh(lens.SATURATION_Z["tanh"]) ** 2 == pytest.approx(0.01)
    s = 1 / (1 + np.exp(-lens.SATURATION_Z["sigmoid"]))
    assert s * (1 - s) == pytest.approx(0.0025)


def test_lr_find_leaves_the_model_alone_and_finds_the_quadratics_range():
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (512, 1)).astype(np.float32)
    y = 3 * X + rng.normal(0, 0.5, X.shape).astype(np.float32)
    # J(w) = mean((w·x − y)²): curvature 2·E[x²] ≈ 2, so the best rate is ≈ 0.5 and steps diverge above ≈ 1
    model = nn.Linear(1, 1, bias=False)
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model(gn.tensor(X)).sum().backward()
    optimizer.step()
    weights, state = copy.deepcopy(model.state_dict()), copy.deepcopy(optimizer.state_dict())
    found = lens.lr_find(model, X, y, nn.MSELoss(), num_iter=120, start_lr=1e-4, end_lr=100, batch_size=64)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, weights[name])
    np.testing.assert_array_equal(optimizer.state_dict()["state"][0]["momentum_buffer"],
                                  state["state"][0]["momentum_buffer"])
    assert 0.01 <= found.suggestion <= 1.0
    assert found.diverged_at is not None and 0.9 <= found.diverged_at <= 20
    assert found.lrs[-1] == found.diverged_at and len(found.losses) < 120


def run(model, X, y, Xv, yv, lr, epochs, batch_size, loss=None, callbacks=(), optimizer=optim.SGD):
    loss = loss or nn.BCEWithLogitsLoss()
    return gn.fit(model, X, y, loss=loss, optimizer=optimizer(model.parameters(), lr=lr), epochs=epochs,
                  batch_size=batch_size, validation_data=(Xv, yv), callbacks=list(callbacks))


def kinds(findings):
    return [f.kind for f in findings]


def test_diagnoses_underfitting_linear_model_on_circle():
    X, y = circle(200, seed=0)
    Xv, yv = circle(200, seed=1)
    history = run(nn.Sequential(nn.Linear(2, 1)), X, y, Xv, yv, 0.1, 40, 20, optimizer=optim.Adam)
    assert "underfitting" in kinds(lens.diagnose(history))


def test_diagnoses_overfitting_on_few_noisy_points():
    gn.manual_seed(0)
    X, y = circle(20, noise=0.5, seed=2)
    Xv, yv = circle(200, noise=0.5, seed=3)
    layers = [nn.Linear(2, 8), nn.ReLU()]
    for _ in range(5):
        layers += [nn.Linear(8, 8), nn.ReLU()]
    history = run(nn.Sequential(*layers, nn.Linear(8, 1)), X, y, Xv, yv, 0.01, 300, 20, optimizer=optim.Adam)
    findings = lens.diagnose(history)
    assert "overfitting" in kinds(findings)
    overfit = findings[kinds(findings).index("overfitting")]
    assert "early stopping" in overfit.evidence and overfit.experiment["regularization"] == "L2"


def test_diagnoses_a_diverging_learning_rate():
    X, y = circle(100)
    history = run(playground_net(), X, y, X, y, 10.0, 15, 10, loss=nn.MSELoss())
    assert kinds(lens.diagnose(history))[0] == "lr_too_high"


def test_diagnoses_vanishing_gradients_in_a_deep_sigmoid_net():
    gn.manual_seed(0)
    X, y = circle(100)
    layers = [nn.Linear(2, 8), nn.Sigmoid()]
    for _ in range(5):
        layers += [nn.Linear(8, 8), nn.Sigmoid()]
    flow = lens.GradientFlow()
    history = run(nn.Sequential(*layers, nn.Linear(8, 1)), X, y, X, y, 0.1, 5, 10, callbacks=[flow])
    assert "vanishing_gradients" in kinds(lens.diagnose(history, gradient_flow=flow))


def test_a_local_minimum_and_an_ideal_fit():
    history = {"loss": [1.0, 0.5, 0.3, 0.3, 0.3, 0.3], "val_loss": [1.0, 0.5, 0.31, 0.31, 0.31, 0.31]}
    assert kinds(lens.diagnose(history)) == ["ideal_fit"]
    assert "local_minimum" in kinds(lens.diagnose(history, restart_losses=[0.3, 0.1, 0.25]))
    with pytest.raises(ValueError, match="two epochs"):
        lens.diagnose({"loss": [1.0]})
