"""The learner's lens (glassnet.lens, re-exported by gn.glass): each quantity against an independent computation."""
import copy
import inspect
import json
import re

import numpy as np
import pytest

import glassnet as gn
from glassnet import lens, nn, optim
from glassnet.playground.state import default_state, validate
from glassnet.tensor import default_rng


def test_gn_glass_exports_the_lens_and_every_name_its_docstrings_mention():
    """What a user reads in gn.glass's docstrings imports from gn.glass: every public name of the lens (KINDS
    included), and every ``Name`` that a docstring of gn.glass or of its exports names and glass or lens defines."""
    for name in lens.__all__:
        assert getattr(gn.glass, name) is getattr(lens, name), name
    star: dict = {}
    exec("from glassnet.glass import *", star)
    assert set(gn.glass.__all__) <= set(star) and "KINDS" in star
    defined = {name for module in (gn.glass, lens) for name, value in vars(module).items()
               if not name.startswith("_") and not inspect.ismodule(value)
               and getattr(value, "__module__", module.__name__) == module.__name__}  # not what they import
    docs = [inspect.getdoc(gn.glass), inspect.getdoc(lens)]
    for name in gn.glass.__all__:
        export = getattr(gn.glass, name)
        docs.append(inspect.getdoc(export))
        if inspect.isclass(export):
            docs += [inspect.getdoc(member) for member in vars(export).values() if callable(member)]
    mentioned = {word for doc in docs if doc for word in re.findall(r"``([A-Za-z_]\w*)", doc)}
    assert "KINDS" in mentioned and mentioned & defined <= set(gn.glass.__all__), mentioned & defined - set(
        gn.glass.__all__)


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
    # dropout is the identity in eval mode: a net with it is batched too, and has the same landscape
    dropped = nn.Sequential(model[0], model[1], nn.Dropout(0.5), model[2], model[3], model[4])
    assert lens._dense_plan(dropped) is not None
    renamed = tuple({k.replace("2.", "3.", 1).replace("4.", "5.", 1): v for k, v in d.items()} for d in land.directions)
    np.testing.assert_allclose(lens.loss_landscape(dropped, X, y, loss, resolution=5, span=0.5,
                                                   directions=renamed).losses, fast.losses, rtol=1e-6)
    # y as fit takes it: a (N,) target of the one output is a column (the batched and the fallback forward)
    for net, directions in ((model, land.directions), (Wrapped(model), slow.directions)):
        flat = lens.loss_landscape(net, X, y.ravel(), loss, resolution=5, span=0.5, directions=directions)
        np.testing.assert_allclose(flat.losses, fast.losses, rtol=1e-6)
    np.testing.assert_allclose(lens.interpolate(model, before, X, y.ravel(), loss, steps=5)[1],
                               lens.interpolate(model, before, X, y, loss, steps=5)[1], rtol=1e-6)
    with pytest.raises(ValueError, match="y has 5 samples but the inputs have 200"):
        lens.loss_landscape(model, X, y[:5], loss, resolution=3)


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
    sigmoid = nn.Sequential(nn.Linear(1, 3), nn.Sigmoid())
    sigmoid[0].weight._data[...] = [[20.0], [0.0], [1.0]]
    sigmoid[0].bias._data[...] = [0.0, -6.5, 0.0]
    X = np.linspace(0.5, 1, 10, dtype=np.float32).reshape(-1, 1)  # z: 10..20 (saturated from 5.99), −6.5, 0.5..1
    (layer,) = lens.saturation(sigmoid, X)
    np.testing.assert_allclose(layer.per_unit, [1.0, 1.0, 0.0])
    assert layer.saturated_units == pytest.approx(2 / 3)  # beyond the point on ≥ 95% of the inputs
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
    assert 0.01 <= found.suggestion <= 1.0  # inside the range where SGD converges, within 1.5 decades of the best
    assert found.diverged_at is not None and 0.9 <= found.diverged_at <= 20
    assert found.lrs[-1] == found.diverged_at and len(found.losses) < 120
    np.testing.assert_allclose(found.lrs, 1e-4 * (1e6 ** (np.arange(len(found.lrs)) / 119)), rtol=1e-6)


class CountingTrainer(gn.Trainer):
    """A Trainer of its own, which lr_find must use through its public methods only: it counts the batches it makes
    and its steps (lr_find trains through train_step on the trainer's own batches), and holds a second model, an
    average of the weights (lr_find sets every model the trainer holds to training mode, and restores it)."""

    steps = batches_made = 0

    def __init__(self, model, **options):
        super().__init__(model, **options)
        self.average = copy.deepcopy(model)
        self.modes_seen = set()

    def batches(self, X, y=None, **options):
        for batch in super().batches(X, y, **options):
            self.batches_made += 1
            yield batch

    def train_step(self, batch):
        self.steps += 1
        self.modes_seen.add(self.average.training)
        return super().train_step(batch)


def test_lr_find_works_with_any_trainer_and_restores_all_it_holds():
    X, y = circle(96)
    gn.manual_seed(3)
    model = playground_net()
    trainer = CountingTrainer(model, loss=nn.MSELoss(), optimizer=optim.SGD(model.parameters(), lr=0.03, momentum=0.9),
                              regularization=("l2", 0.01))
    trainer.fit(X, y, epochs=2, batch_size=16, verbose=False)  # trains every model it holds: both in train mode
    model.eval()
    trainer.average.eval()
    before = trainer.state_dict()
    steps_before, trainer.modes_seen = trainer.steps, set()
    gn.manual_seed(7)
    expected_draw = default_rng().random()
    gn.manual_seed(7)
    found = lens.lr_find(trainer, X, y, num_iter=40, start_lr=1e-3, end_lr=30, batch_size=16)
    assert trainer.steps - steps_before == len(found.losses)  # the trainer's own step (and its L2 penalty)
    assert trainer.batches_made == len(found.losses) > 96 // 16  # on the trainer's own batches, epoch after epoch
    assert trainer.modes_seen == {True} and not trainer.average.training  # every model trained, and put back
    after = trainer.state_dict()
    for name, value in before["model"].items():
        np.testing.assert_array_equal(after["model"][name], value)
    assert after["optimizer"]["param_groups"][0]["lr"] == 0.03
    for index, state in before["optimizer"]["state"].items():
        np.testing.assert_array_equal(after["optimizer"]["state"][index]["momentum_buffer"], state["momentum_buffer"])
    assert not model.training  # its mode is back too
    with pytest.raises(ValueError, match="a DataLoader batches its data itself"):  # fit's forms and checks
        lens.lr_find(trainer, gn.utils.data.DataLoader(gn.utils.data.TensorDataset(gn.tensor(X), gn.tensor(y))),
                     batch_size=16)
    assert default_rng().random() == expected_draw  # glassnet's generator is where it was
    # the same test through a DataLoader, and the same numbers from a model and a loss as from a plain Trainer
    loader = gn.utils.data.DataLoader(gn.utils.data.TensorDataset(gn.tensor(X), gn.tensor(y)), batch_size=16)
    assert len(lens.lr_find(gn.Trainer(model, loss=nn.MSELoss(), optimizer="sgd"), loader, num_iter=10).losses) == 10
    # the model's own optimizer: the test starts from its state (momentum) and restores both
    own = lens.lr_find(model, X, y, nn.MSELoss(), optimizer=trainer.optimizer, num_iter=20)
    again = lens.lr_find(gn.Trainer(model, loss=nn.MSELoss(), optimizer=trainer.optimizer), X, y, num_iter=20)
    np.testing.assert_allclose(own.losses, again.losses)
    for name, value in before["model"].items():
        np.testing.assert_array_equal(model.state_dict()[name], value)
    for index, state in before["optimizer"]["state"].items():
        np.testing.assert_array_equal(trainer.optimizer.state_dict()["state"][index]["momentum_buffer"],
                                      state["momentum_buffer"])
    plain = lens.lr_find(model, X, y, nn.MSELoss(), num_iter=20)
    assert not np.allclose(plain.losses, own.losses)  # a fresh SGD without momentum steps otherwise
    same = lens.lr_find(gn.Trainer(copy.deepcopy(model), loss=nn.MSELoss(), optimizer="sgd"), X, y, num_iter=20)
    np.testing.assert_allclose(plain.losses, same.losses)
    with pytest.raises(ValueError, match="brings its own loss"):
        lens.lr_find(trainer, X, y, nn.MSELoss())
    with pytest.raises(ValueError, match="pass the loss"):
        lens.lr_find(model, X, y)


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
    assert "early stopping" in overfit.evidence
    assert overfit.experiment == {"set": {"regularization": "L2", "regularizationRate": 0.01}}
    best = int(np.argmin(history.history["val_loss"]))
    assert overfit.numbers["best_epoch"] == best + 1 and overfit.numbers["early_stopping_epoch"] == best + 6
    assert f"stopped at epoch {best + 6}" in overfit.evidence


def test_diagnoses_a_diverging_learning_rate_and_says_the_rate_to_try():
    X, y = circle(100)
    history = run(playground_net(), X, y, X, y, 10.0, 15, 10, loss=nn.MSELoss())
    (finding,) = lens.diagnose(history)
    assert finding.kind == "lr_too_high"
    assert finding.experiment == {"set": {}, "scale": {"learningRate": 0.1}}
    settings = default_state(seed=0) | {"learningRate": 10.0}
    assert lens.diagnose(history, settings=settings)[0].experiment == {"set": {"learningRate": 1.0}}
    # a run that TerminateOnNaN stopped in its first epoch: its reason is the evidence
    nan_run = gn.History(history={"loss": [0.9]}, stop_reason="loss became nan at epoch 0, batch 3; the weights …")
    (finding,) = lens.diagnose(nan_run)
    assert finding.kind == "lr_too_high" and finding.evidence == nan_run.stop_reason
    with pytest.raises(ValueError, match="two epochs"):  # another reason to stop is no divergence
        lens.diagnose(gn.History(history={"loss": [0.9]}, stop_reason="loss reached 0.9 (threshold 1.0) at epoch 0"))


def test_diagnoses_vanishing_gradients_in_a_deep_sigmoid_net():
    gn.manual_seed(0)
    X, y = circle(100)
    layers = [nn.Linear(2, 8), nn.Sigmoid()]
    for _ in range(5):
        layers += [nn.Linear(8, 8), nn.Sigmoid()]
    flow = lens.GradientFlow()
    history = run(nn.Sequential(*layers, nn.Linear(8, 1)), X, y, X, y, 0.1, 5, 10, callbacks=[flow])
    assert "vanishing_gradients" in kinds(lens.diagnose(history, gradient_flow=flow))


def test_diagnoses_dead_relus_after_too_large_steps():
    gn.manual_seed(0)
    X, y = circle(200)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
    history = run(model, X, y, X, y, 3.0, 20, 10)
    report = lens.saturation(model, X)
    assert report[1].dead_units == 1.0  # the second hidden layer outputs 0 for every point
    findings = lens.diagnose(history, saturation_report=report)
    assert kinds(findings) == ["dead_relus", "underfitting"]  # the cause before the symptom
    assert findings[0].numbers == {"dead_units": 1.0, "layer": 2}


def test_diagnoses_a_learning_rate_too_low_and_an_ideal_fit():
    X, y = circle(200, seed=0)
    Xv, yv = circle(200, seed=1)
    gn.manual_seed(0)
    slow = run(playground_net(), X, y, Xv, yv, 1e-3, 30, 10)  # the loss falls as fast at the end as at the start
    (finding,) = lens.diagnose(slow, settings=default_state(seed=0))
    assert finding.kind == "lr_too_low" and finding.experiment == {"set": {"learningRate": 0.3}}
    assert finding.numbers["late_drop"] >= 0.3 * finding.numbers["early_drop"] > 0
    gn.manual_seed(0)
    good = run(playground_net(), X, y, Xv, yv, 0.03, 40, 10, optimizer=optim.Adam)
    (finding,) = lens.diagnose(good)
    assert finding.kind == "ideal_fit" and finding.experiment == {"set": {}}
    assert finding.numbers["val_loss"] == good.history["val_loss"][-1] < 0.1


def test_diagnoses_oscillation_and_exploding_gradients():
    zigzag = {"loss": [1.0, 0.6, 0.9, 0.5, 0.95, 0.55, 0.9, 0.5, 0.92]}
    (finding,) = lens.diagnose(zigzag)
    assert finding.kind == "lr_too_high" and finding.numbers["direction_changes"] == 7
    flow = lens.GradientFlow()
    flow.names = ["0.weight", "2.weight"]
    flow.grad_norms = {"0.weight": [1.0, 30.0, 900.0], "2.weight": [1.0, 2.0, 3.0]}
    flow.update_ratios = {name: [1e-3] * 3 for name in flow.names}
    findings = lens.diagnose({"loss": [1.0, 0.5, 0.3, 0.3, 0.3, 0.3]}, gradient_flow=flow)
    assert kinds(findings) == ["exploding_gradients"] and findings[0].numbers["growth"] == pytest.approx(900)


def test_a_local_minimum_from_restarts_reaching_lower_losses():
    X, y = gn.data.make_dataset("xor", n=100, seed=0)
    X, y = X.astype(np.float32), y.astype(np.float32).reshape(-1, 1)
    restarts = gn.restarts(lambda: nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1)), 6,
                           dict(X=X, y=y, loss=nn.BCEWithLogitsLoss(), optimizer=lambda p: optim.Adam(p, lr=0.05),
                                epochs=40, batch_size=20, verbose=False))
    stuck = int(np.argmax(restarts.scores))
    findings = lens.diagnose(restarts.histories[stuck], restart_losses=restarts)
    assert kinds(findings)[0] == "local_minimum"
    assert findings[0].numbers == {"loss": restarts.scores[stuck], "best_restart_loss": min(restarts.scores),
                                   "restarts": 6}
    assert findings[0].experiment == {"set": {}, "run_many": 10}
    # the playground's Run 10× gives the final losses as a list; restarts no better say nothing
    history = {"loss": [1.0, 0.5, 0.3, 0.3, 0.3, 0.3], "val_loss": [1.0, 0.5, 0.31, 0.31, 0.31, 0.31]}
    assert kinds(lens.diagnose(history)) == ["ideal_fit"]
    assert kinds(lens.diagnose(history, restart_losses=[0.3, 0.1, 0.25]))[0] == "local_minimum"
    assert kinds(lens.diagnose(history, restart_losses=[0.3, 0.29, float("inf")])) == ["ideal_fit"]
    with pytest.raises(ValueError, match="two epochs"):
        lens.diagnose({"loss": [1.0]})


def test_every_experiment_is_a_valid_playground_change_and_findings_are_json():
    """The one-click experiment of each kind, with the playground's state given, applies without a warning."""
    state = default_state(seed=0)
    runs = {
        "lr_too_high": {"loss": [1.0, 5.0, 50.0]},
        "lr_too_low": {"loss": list(np.linspace(1.0, 0.8, 12))},
        "underfitting": {"loss": [0.7, 0.69, 0.7, 0.69, 0.7, 0.69]},
        "overfitting": {"loss": list(np.linspace(1.0, 0.05, 20) ** 2),
                        "val_loss": list(np.r_[np.linspace(1.0, 0.5, 10), np.linspace(0.55, 1.0, 10)])},
    }
    seen = {}
    for settings in (state, state | {"networkShape": []}, state | {"networkShape": [8, 8], "activation": "linear"},
                     state | {"networkShape": [8] * 6}):
        for history in runs.values():
            for finding in lens.diagnose(history, restart_losses=[0.01], settings=settings):
                seen[finding.kind] = finding
                assert set(finding.experiment) <= {"set", "scale", "run_many"} and "scale" not in finding.experiment
                new, warnings = validate(finding.experiment["set"], settings)
                assert warnings == []
                assert all(new[key] == value for key, value in finding.experiment["set"].items())
                assert json.loads(json.dumps(finding.to_dict())) == finding.to_dict()
                assert set(finding.to_dict()) == {"kind", "title", "evidence", "advice", "experiment", "numbers"}
    assert set(seen) == set(runs) | {"local_minimum"} and set(seen) <= set(lens.KINDS)
    underfit = lens.diagnose(runs["underfitting"], settings=state)[0]
    assert underfit.experiment == {"set": {"networkShape": [6, 4]}}  # each hidden layer of the 4-2 net 2 wider
    expert = lens.diagnose(runs["underfitting"], settings=state | {"expert": True, "networkShape": [16, 3]})[0]
    assert expert.experiment == {"set": {"networkShape": [16, 5]}}
    largest = lens.diagnose(runs["underfitting"], settings=state | {"networkShape": [8] * 6})[0]
    assert largest.experiment == {"set": {"xSquared": True, "ySquared": True}}  # no room left: better features
