"""gn.glass: trace (every neuron's z and a) and chain (the chain-rule factors of one weight's gradient)."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import nn

G = {  # activation, derivative as a function of z
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(z.dtype)),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
    None: (lambda z: z, np.ones_like),
}
TORCH_G = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, None: lambda z: z}


@pytest.fixture(autouse=True)
def _float64(float64_default):
    """The chain-rule checks compare to 1e-6: every test here runs in float64."""


def net(outputs: int, output_activation: str | None = None) -> tuple[nn.Sequential, list[str | None]]:
    """Three hidden layers (tanh, relu, sigmoid) and an output layer."""
    layers = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}
    acts = ["tanh", "relu", "sigmoid", output_activation]
    sizes = [3, 5, 4, 4, outputs]
    modules = []
    for i, act in enumerate(acts):
        modules.append(nn.Linear(sizes[i], sizes[i + 1]))
        if act is not None:
            modules.append(layers[act]())
    model = nn.Sequential(*modules)
    for p in model.parameters():  # larger weights than the default init, so that every factor matters
        p._data[...] = np.random.default_rng(p._data.size).uniform(-1.5, 1.5, p._data.shape)
    return model, acts


def linears(model: nn.Sequential) -> list[tuple[str, nn.Linear]]:
    return [(name, m) for name, m in model.named_children() if isinstance(m, nn.Linear)]


def manual_forward(model: nn.Sequential, acts: list[str | None], X: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """[(a_prev, z, a)] per Linear layer, in plain NumPy."""
    out, a = [], X
    for (_, layer), act in zip(linears(model), acts):
        z = a @ layer.weight._data.T + layer.bias._data
        out.append((a, z, G[act][0](z)))
        a = out[-1][2]
    return out


# ------------------------------------------------------------------------------------------ trace

@pytest.mark.parametrize("batch", [False, True])
def test_trace_equals_a_manual_forward(batch):
    model, acts = net(2, "sigmoid")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 3)) if batch else rng.normal(size=3)
    layers = gn.glass.trace(model, x)
    expected = manual_forward(model, acts, x if batch else x[None, :])
    assert len(layers) == 1 + 4
    assert layers[0].name == "input" and layers[0].activation is None
    np.testing.assert_array_equal(layers[0].a, x)
    for trace, (name, layer), act, (_, z, a) in zip(layers[1:], linears(model), acts, expected):
        assert trace.name == name and trace.kind == "Linear" and trace.activation == act
        if not batch:
            z, a = z[0], a[0]
        assert trace.z.shape == z.shape == ((7, layer.out_features) if batch else (layer.out_features,))
        np.testing.assert_allclose(trace.z, z, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(trace.a, a, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layers[-1].a, gn.predict(model, np.atleast_2d(x)).reshape(layers[-1].a.shape),
                               rtol=1e-12)


def test_trace_of_a_linear_without_activation_and_other_stages():
    model = nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.5), nn.Linear(3, 3), nn.LeakyReLU(0.1), nn.Linear(3, 2),
                          nn.Softmax())
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    layers = gn.glass.trace(model, x)
    assert [(t.name, t.kind, t.activation) for t in layers] == [
        ("input", "input", None), ("0", "Linear", None), ("1", "Dropout", None), ("2", "Linear", "leaky_relu"),
        ("4", "Linear", None), ("5", "Softmax", None)]
    W = [model[i].weight._data for i in (0, 2, 4)]
    b = [model[i].bias._data for i in (0, 2, 4)]
    z0 = x @ W[0].T + b[0]
    np.testing.assert_allclose(layers[1].z, z0)
    np.testing.assert_allclose(layers[1].a, z0)
    np.testing.assert_allclose(layers[2].a, z0)  # dropout is off: trace runs in eval mode
    z2 = z0 @ W[1].T + b[1]
    np.testing.assert_allclose(layers[3].z, z2)
    np.testing.assert_allclose(layers[3].a, np.where(z2 > 0, z2, 0.1 * z2))
    z4 = layers[3].a @ W[2].T + b[2]
    np.testing.assert_allclose(layers[4].a, z4)
    np.testing.assert_allclose(layers[5].a, np.exp(z4) / np.exp(z4).sum(axis=1, keepdims=True))
    assert model.training  # the mode is restored


def test_trace_records_no_graph_and_removes_its_hooks():
    model, _ = net(1)
    layers = gn.glass.trace(model, np.ones(3))
    assert all(isinstance(t.z, np.ndarray) and isinstance(t.a, np.ndarray) for t in layers)
    assert all(p.grad is None for p in model.parameters())
    assert all(not m._forward_hooks for m in model.modules())
    with pytest.raises(ValueError, match="last dimension must be 3"):
        gn.glass.trace(model, np.ones(4))
    assert all(not m._forward_hooks for m in model.modules())
    single = gn.glass.trace(nn.Linear(3, 1), np.ones(3))
    assert [(t.name, t.kind) for t in single] == [("input", "input"), ("", "Linear")]


# ------------------------------------------------------------------------------------------ chain

LOSSES = {
    "mse": (lambda: nn.MSELoss(), 2, "sigmoid"),
    "bce_logits": (lambda: nn.BCEWithLogitsLoss(), 1, None),
    "cross_entropy": (lambda: nn.CrossEntropyLoss(), 3, None),
}


def targets(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "mse":
        return rng.uniform(0, 1, size=(n, 2))
    if kind == "bce_logits":
        return rng.integers(0, 2, size=n).astype(np.float64)
    return rng.integers(0, 3, size=n)


def torch_reference(model, acts, kind, X, y):
    """Gradients of the loss w.r.t. each layer's a and z and each parameter, from PyTorch."""
    a = torch.tensor(X, dtype=torch.float64)
    zs, as_, params = [], [], {}
    for (name, layer), act in zip(linears(model), acts):
        W = torch.tensor(layer.weight._data, requires_grad=True)
        b = torch.tensor(layer.bias._data, requires_grad=True)
        params[f"{name}.weight"], params[f"{name}.bias"] = W, b
        z = a @ W.T + b
        z.retain_grad()
        a = TORCH_G[act](z)
        a.retain_grad()
        zs.append(z)
        as_.append(a)
    target = torch.tensor(y)
    if kind == "mse":
        loss = torch.nn.functional.mse_loss(a, target)
    elif kind == "bce_logits":
        loss = torch.nn.functional.binary_cross_entropy_with_logits(a[:, 0], target)
    else:
        loss = torch.nn.functional.cross_entropy(a, target)
    loss.backward()
    return ([z.grad.numpy() for z in zs], [a.grad.numpy() for a in as_],
            {k: v.grad.numpy() for k, v in params.items()})


@pytest.mark.parametrize("kind", list(LOSSES))
@pytest.mark.parametrize("n", [1, 6])
def test_chain_factors_for_every_weight_and_bias_of_every_layer(kind, n):
    make_loss, outputs, out_act = LOSSES[kind]
    model, acts = net(outputs, out_act)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(n, 3))
    y = targets(kind, n, rng)
    forward = manual_forward(model, acts, X)
    dJ_dz_ref, dJ_da_ref, grads = torch_reference(model, acts, kind, X, y)
    layers = linears(model)
    for position, ((name, layer), act) in enumerate(zip(layers, acts)):
        a_prev, z, _ = forward[position]
        for neuron in range(layer.out_features):
            for source in range(layer.in_features):
                checks = [(f"{name}.weight", (neuron, source))] + ([(f"{name}.bias", neuron)] if source == 0 else [])
                for pname, index in checks:
                    rule = gn.glass.chain(model, X, y, make_loss(), pname, index)
                    assert rule.param == pname and rule.layer == name and rule.neuron == neuron
                    assert rule.product == pytest.approx(rule.autodiff, rel=1e-6, abs=1e-12)
                    assert rule.autodiff == pytest.approx(grads[pname][index], rel=1e-9, abs=1e-12)
                    np.testing.assert_allclose(rule.da_dz, G[act][1](z[:, neuron]), rtol=1e-9, atol=1e-12)
                    np.testing.assert_allclose(rule.dJ_da, dJ_da_ref[position][:, neuron], rtol=1e-9, atol=1e-12)
                    if pname.endswith("weight"):
                        assert rule.input == source and rule.index == (neuron, source)
                        np.testing.assert_allclose(rule.dz_dw, a_prev[:, source], rtol=1e-12)
                    else:
                        assert rule.input is None and rule.index == (neuron,)
                        np.testing.assert_array_equal(rule.dz_dw, np.ones(n))
                    if position + 1 < len(layers):
                        following = layers[position + 1][1]
                        assert [p["to"] for p in rule.paths] == list(range(following.out_features))
                        total = sum(p["dJ_dz"] * p["weight"] for p in rule.paths)
                        np.testing.assert_allclose(total, rule.dJ_da, rtol=1e-9, atol=1e-12)
                        for p in rule.paths:
                            assert p["weight"] == following.weight._data[p["to"], neuron]
                            np.testing.assert_allclose(p["dJ_dz"], dJ_dz_ref[position + 1][:, p["to"]],
                                                       rtol=1e-9, atol=1e-12)
                    else:
                        assert rule.paths == []
            # the factors really combine: product of the factors summed over the examples
            rule = gn.glass.chain(model, X, y, make_loss(), f"{name}.weight", (neuron, 0))
            assert rule.product == pytest.approx(float(np.sum(rule.dJ_da * rule.da_dz * rule.dz_dw)))


def test_chain_for_a_single_point_given_as_a_vector():
    model, _ = net(1)
    rule = gn.glass.chain(model, np.array([0.5, -1.0, 2.0]), [1.0], nn.BCEWithLogitsLoss(), "2.weight", (1, 3))
    assert rule.dJ_da.shape == rule.da_dz.shape == rule.dz_dw.shape == (1,)
    assert rule.product == pytest.approx(rule.autodiff, rel=1e-9)
    assert rule.autodiff != 0


def test_chain_leaves_gradients_and_mode_untouched():
    model, _ = net(1)
    X = np.random.default_rng(3).normal(size=(4, 3))
    y = np.array([0.0, 1.0, 1.0, 0.0])
    params = list(model.parameters())
    saved = []
    for i, p in enumerate(params):
        if i % 2:
            p.grad = None
            saved.append(None)
        else:
            p.grad = gn.tensor(np.full(p._data.shape, 7.0 + i))
            saved.append((p.grad, p.grad._data.copy()))
    weights = copy.deepcopy(model.state_dict())
    gn.glass.chain(model, X, y, nn.BCEWithLogitsLoss(), "0.weight", (1, 2))
    for p, before in zip(params, saved):
        if before is None:
            assert p.grad is None
        else:
            assert p.grad is before[0]
            np.testing.assert_array_equal(p.grad._data, before[1])
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, weights[name])
    assert model.training
    model.eval()
    gn.glass.chain(model, X, y, nn.BCEWithLogitsLoss(), "0.bias", 0)
    assert not model.training


def test_chain_in_eval_mode_ignores_dropout():
    gn.manual_seed(1)
    model = nn.Sequential(nn.Linear(2, 6), nn.Tanh(), nn.Dropout(0.5), nn.Linear(6, 1))
    X = np.random.default_rng(4).normal(size=(5, 2))
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    first = gn.glass.chain(model, X, y, nn.BCEWithLogitsLoss(), "0.weight", (2, 1))
    second = gn.glass.chain(model, X, y, nn.BCEWithLogitsLoss(), "0.weight", (2, 1))
    assert first.autodiff == second.autodiff and first.product == pytest.approx(first.autodiff, rel=1e-9)
    assert first.paths == []  # the next stage is a Dropout, not a Linear


@pytest.mark.parametrize("name, index, message", [
    ("9.weight", (0, 0), "unknown parameter '9.weight'; the model has"),
    ("weight", (0, 0), "unknown parameter 'weight'"),
    ("0.weight", (4, 0), r"index \(4, 0\) is outside 0.weight of shape \(4, 3\)"),
    ("0.weight", (0, 3), r"index \(0, 3\) is outside"),
    ("0.weight", (-1, 0), r"index \(-1, 0\) is outside"),
    ("0.weight", 1, r"index \(1,\) is outside 0.weight"),
    ("0.bias", (0, 1), r"index \(0, 1\) is outside 0.bias of shape \(4,\)"),
    ("2.bias", 5, r"index \(5,\) is outside"),
])
def test_chain_bad_names_and_indices(name, index, message):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 1))
    with pytest.raises(ValueError, match=message):
        gn.glass.chain(model, np.ones((2, 3)), [0.0, 1.0], nn.BCEWithLogitsLoss(), name, index)


class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(gn.tensor(np.ones(1)))

    def forward(self, x):
        return x * self.weight


def test_chain_needs_a_linear_that_runs_once_and_matching_targets():
    tied = nn.Linear(3, 3)
    with pytest.raises(ValueError, match="'0' runs 2 times"):
        gn.glass.chain(nn.Sequential(tied, nn.Tanh(), tied), np.ones((2, 3)), np.ones((2, 3)), nn.MSELoss(),
                       "0.weight", (0, 0))
    scaled = nn.Sequential(nn.Linear(3, 1), Scale())
    with pytest.raises(ValueError, match="'1.weight' is not the weight or bias of a Linear"):
        gn.glass.chain(scaled, np.ones((2, 3)), [0.0, 1.0], nn.MSELoss(), "1.weight", (0,))
    model = nn.Sequential(nn.Linear(3, 1))
    with pytest.raises(ValueError, match="y has 3 samples but the inputs have 2"):
        gn.glass.chain(model, np.ones((2, 3)), [0.0, 1.0, 1.0], nn.MSELoss(), "0.weight", (0, 0))


# ------------------------------------------------------------------------------------------ any module tree

class Residual(nn.Module):
    """A custom forward: an activation module after fc1, a functional tanh after fc2, a skip connection."""

    def __init__(self):
        super().__init__()
        self.fc1, self.act, self.fc2, self.out = nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 4), nn.Linear(4, 2)

    def forward(self, x):
        h = self.act(self.fc1(x))
        return self.out(self.fc2(h).tanh() + h)


def test_trace_of_a_custom_forward_equals_the_modules_own_outputs():
    model = Residual()
    X = np.random.default_rng(7).normal(size=(5, 3))
    layers = gn.glass.trace(model, X)
    assert [(t.name, t.kind, t.activation) for t in layers] == [
        ("input", "input", None), ("fc1", "Linear", "sigmoid"), ("fc2", "Linear", None), ("out", "Linear", None)]
    x = gn.tensor(X)
    z1 = model.fc1(x)
    h = model.act(z1)
    z2 = model.fc2(h)
    final = model.out(z2.tanh() + h)
    for t, (z, a) in zip(layers[1:], [(z1, h), (z2, z2), (final, final)]):
        np.testing.assert_array_equal(t.z, z.numpy())
        np.testing.assert_array_equal(t.a, a.numpy())
    np.testing.assert_array_equal(layers[-1].a, model(x).numpy())


def test_trace_shows_what_a_subclass_computes_and_agrees_with_the_model():
    class ScaledTanh(nn.Tanh):
        def forward(self, x):
            return 10 * super().forward(x)

    model = nn.Sequential(nn.Linear(2, 3), ScaledTanh(), nn.Linear(3, 1))
    X = np.array([[0.3, 0.9]])
    layers = gn.glass.trace(model, X)
    assert layers[1].activation == "ScaledTanh"
    np.testing.assert_allclose(layers[1].a, 10 * np.tanh(layers[1].z), rtol=1e-12)
    np.testing.assert_array_equal(layers[-1].a, model(gn.tensor(X)).numpy())


def torch_residual(model: Residual):
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.out = (torch.nn.Linear(3, 4), torch.nn.Linear(4, 4), torch.nn.Linear(4, 2))

        def forward(self, x):
            h = torch.sigmoid(self.fc1(x))
            return self.out(torch.tanh(self.fc2(h)) + h)
    net = Net().double()
    net.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    return net


@pytest.mark.parametrize("param,index", [("fc1.weight", (2, 1)), ("fc1.bias", 3), ("fc2.weight", (0, 3)),
                                         ("out.bias", 1)])
def test_chain_on_a_custom_forward_matches_torchs_gradient(param, index):
    model = Residual()
    X = np.random.default_rng(8).normal(size=(6, 3))
    y = np.random.default_rng(9).normal(size=(6, 2))
    rule = gn.glass.chain(model, X, y, nn.MSELoss(), param, index)
    reference = torch_residual(model)
    torch.nn.functional.mse_loss(reference(torch.from_numpy(X)), torch.from_numpy(y)).backward()
    expected = dict(reference.named_parameters())[param].grad.numpy()[index]
    assert rule.autodiff == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert rule.product == pytest.approx(rule.autodiff, rel=1e-9, abs=1e-12)
    assert rule.paths == []  # fc1's output goes into fc2 and the skip: no single next layer to split over


def test_trace_shows_the_first_part_of_a_tuple_output():
    class Pair(nn.Module):
        def forward(self, x):
            return x * 2, x

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.pair, self.fc = Pair(), nn.Linear(3, 1)

        def forward(self, x):
            doubled, _ = self.pair(x)
            return self.fc(doubled)

    X = np.ones((2, 3))
    layers = gn.glass.trace(Net(), X)
    assert [t.name for t in layers] == ["input", "pair", "fc"]
    np.testing.assert_array_equal(layers[1].a, 2 * X)
