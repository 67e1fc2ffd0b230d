"""nn.init against torch's formulas, buffers in state_dict, and the evaluating() context."""
import math

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import nn


@pytest.mark.parametrize("name,param", [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                                        ("leaky_relu", 0.2), ("selu", None), ("conv2d", None)])
def test_calculate_gain_matches_torch(name, param):
    assert nn.init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


@pytest.mark.parametrize("fn,kwargs,std", [
    ("xavier_uniform_", {}, lambda fi, fo: math.sqrt(2 / (fi + fo))),
    ("xavier_normal_", {}, lambda fi, fo: math.sqrt(2 / (fi + fo))),
    ("kaiming_uniform_", {"nonlinearity": "relu"}, lambda fi, fo: math.sqrt(2 / fi)),
    ("kaiming_normal_", {"nonlinearity": "relu", "mode": "fan_out"}, lambda fi, fo: math.sqrt(2 / fo)),
])
def test_fan_based_inits_have_torchs_spread(fn, kwargs, std):
    w = gn.tensor(np.zeros((300, 200, 3)))  # fan_in = 600, fan_out = 900
    getattr(nn.init, fn)(w, **kwargs)
    tw = torch.zeros(300, 200, 3, dtype=torch.float64)
    getattr(torch.nn.init, fn)(tw, **kwargs)
    assert w.numpy().std() == pytest.approx(std(600, 900), rel=0.02)
    assert w.numpy().std() == pytest.approx(tw.std().item(), rel=0.03)
    if "uniform" in fn:
        assert np.abs(w.numpy()).max() <= np.abs(tw.numpy()).max() * 1.001 + 1e-12


def test_orthogonal_and_trunc_normal_and_eye():
    w = nn.init.orthogonal_(gn.tensor(np.zeros((4, 6))), gain=2.0)
    np.testing.assert_allclose(w.numpy() @ w.numpy().T, 4 * np.eye(4), atol=1e-10)
    t = nn.init.trunc_normal_(gn.tensor(np.zeros(10_000)), std=1.0, a=-0.5, b=0.5)
    assert t.numpy().min() >= -0.5 and t.numpy().max() <= 0.5
    np.testing.assert_array_equal(nn.init.eye_(gn.tensor(np.zeros((2, 3)))).numpy(), np.eye(2, 3))
    with pytest.raises(ValueError, match="2 dimensions"):
        nn.init.xavier_uniform_(gn.tensor(np.zeros(3)))


def test_init_is_seeded_by_manual_seed_and_generator():
    a, b = gn.tensor(np.zeros(5)), gn.tensor(np.zeros(5))
    gn.manual_seed(3)
    nn.init.normal_(a)
    gn.manual_seed(3)
    nn.init.normal_(b)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    c = nn.init.uniform_(gn.tensor(np.zeros(5)), generator=gn.Generator().manual_seed(1))
    d = nn.init.uniform_(gn.tensor(np.zeros(5)), generator=gn.Generator().manual_seed(1))
    np.testing.assert_array_equal(c.numpy(), d.numpy())


class Counter(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.register_buffer("running", gn.tensor(np.zeros(2)))
        self.register_buffer("count", gn.tensor(np.array(0, dtype=np.int64)))
        self.register_buffer("scratch", gn.tensor(np.ones(2)), persistent=False)


class TorchCounter(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(2, 2)
        self.register_buffer("running", torch.zeros(2))
        self.register_buffer("count", torch.tensor(0))
        self.register_buffer("scratch", torch.ones(2), persistent=False)


def test_buffers_are_in_state_dict_and_cast_by_to():
    model = nn.Sequential(Counter())
    reference = torch.nn.Sequential(TorchCounter())
    assert [name for name, _ in model.named_buffers()] == [name for name, _ in reference.named_buffers()] == [
        "0.running", "0.count", "0.scratch"]
    state = model.state_dict()
    assert list(state) == list(reference.state_dict()) == ["0.running", "0.count", "0.fc.weight", "0.fc.bias"]
    state["0.running"] = np.array([1.0, 2.0])
    model.load_state_dict(state)
    np.testing.assert_array_equal(model[0].running.numpy(), [1.0, 2.0])
    model.double()
    assert model[0].running.dtype == np.float64 and model[0].count.dtype == np.int64
    with pytest.raises(TypeError, match="buffer"):
        model[0].running = np.zeros(2)
    model[0].running = None
    assert "0.running" not in model.state_dict()


def test_evaluating_restores_each_submodules_mode():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    model[1].eval()
    with nn.evaluating(model) as same:
        assert same is model and not model.training and not model[0].training
        assert not gn.is_grad_enabled()
    assert model.training and model[0].training and not model[1].training and gn.is_grad_enabled()


def test_evaluating_runs_a_modules_own_train_and_restores_shared_modules_and_errors():
    """A module with its own train() (here: a frozen part that stays in eval mode) is switched through eval(), as
    model.eval() would; a module shared by two parents, an exception inside and decorator use restore every mode."""
    calls = []

    class Frozen(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Dropout(0.5)

        def train(self, mode=True):
            calls.append(mode)
            return super().train(False)

    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.Sequential(shared, Frozen()))
    model.train()
    assert calls == [True] and not model[1][1].inner.training
    with pytest.raises(RuntimeError, match="inside"), nn.evaluating(model):
        assert calls == [True, False] and not any(m.training for m in model.modules())
        raise RuntimeError("inside")
    assert [m.training for m in model.modules()] == [True, True, True, False, False] and gn.is_grad_enabled()

    @nn.evaluating(model)
    def modes():
        return gn.is_grad_enabled(), [m.training for m in model.modules()]
    assert modes() == (False, [False] * 5) and modes() == (False, [False] * 5)
    assert model.training and shared.training and gn.is_grad_enabled()
    plain = nn.Sequential(nn.Linear(2, 2)).eval()
    with nn.evaluating(plain) as same:  # already in eval mode: stays so
        assert same is plain and not plain.training
    assert not plain.training and not plain[0].training


@pytest.mark.parametrize("shape", [(3, 2), (5, 4, 3), (8, 3, 2, 2), (2, 1, 3, 3, 3), (1, 7)])
def test_fans_equal_torchs(shape):
    from glassnet.nn.init import _fans
    assert _fans(gn.tensor(np.zeros(shape))) == torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))


@pytest.mark.parametrize("fn,kwargs", [("uniform_", {}), ("normal_", {}), ("xavier_uniform_", {}),
                                       ("xavier_normal_", {}), ("kaiming_uniform_", {}), ("kaiming_normal_", {}),
                                       ("orthogonal_", {}), ("trunc_normal_", {})])
def test_every_random_init_takes_a_generator_as_torch(fn, kwargs):
    import inspect
    assert "generator" in inspect.signature(getattr(torch.nn.init, fn)).parameters
    draws = [getattr(nn.init, fn)(gn.tensor(np.zeros((4, 3))), generator=gn.Generator().manual_seed(5), **kwargs)
             for _ in range(2)]
    np.testing.assert_array_equal(draws[0].numpy(), draws[1].numpy())
    assert np.any(draws[0].numpy() != 0)


def test_init_fills_a_parameter_in_place_and_returns_it():
    layer = nn.Linear(3, 2)
    weight = layer.weight
    assert nn.init.ones_(layer.weight) is weight and np.all(weight.numpy() == 1)
    assert layer.weight is weight
