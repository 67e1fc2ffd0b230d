"""GELU, SiLU, Softplus, ELU (modules, F versions, fused in a Sequential), erf, Flatten and Unflatten against torch
and finite differences."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import nn, ops
from glassnet.nn import functional as F

LAYERS = {  # name: (glassnet module, torch module)
    "gelu": (lambda: nn.GELU(), lambda: torch.nn.GELU()),
    "gelu_tanh": (lambda: nn.GELU(approximate="tanh"), lambda: torch.nn.GELU(approximate="tanh")),
    "silu": (lambda: nn.SiLU(), lambda: torch.nn.SiLU()),
    "softplus": (lambda: nn.Softplus(), lambda: torch.nn.Softplus()),
    "softplus_beta": (lambda: nn.Softplus(beta=2.0, threshold=3.0), lambda: torch.nn.Softplus(beta=2.0, threshold=3.0)),
    "elu": (lambda: nn.ELU(), lambda: torch.nn.ELU()),
    "elu_alpha": (lambda: nn.ELU(alpha=0.5), lambda: torch.nn.ELU(alpha=0.5)),
}


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4)])
def test_activation_modules_vs_torch_and_finite_differences(check, name, shape):
    ours, theirs = LAYERS[name]
    check([shape], theirs(), ours(), low=-4, high=4)


@pytest.mark.parametrize("ours,theirs", [
    (lambda x: F.gelu(x), lambda x: torch.nn.functional.gelu(x)),
    (lambda x: F.gelu(x, approximate="tanh"), lambda x: torch.nn.functional.gelu(x, approximate="tanh")),
    (lambda x: F.silu(x), lambda x: torch.nn.functional.silu(x)),
    (lambda x: F.softplus(x, beta=0.5, threshold=1.0), lambda x: torch.nn.functional.softplus(x, 0.5, 1.0)),
    (lambda x: F.elu(x, alpha=2.0), lambda x: torch.nn.functional.elu(x, 2.0)),
], ids=["gelu", "gelu_tanh", "silu", "softplus", "elu"])
def test_functional_activations_vs_torch(check, ours, theirs):
    check([(4, 6)], theirs, ours, low=-5, high=5)


def test_extreme_inputs_stay_finite_and_match_torch():
    x = np.array([-800.0, -40.0, -8.0, -1e-9, 0.0, 1e-9, 8.0, 40.0, 800.0])
    for name, (ours, theirs) in LAYERS.items():
        out = ours()(gn.tensor(x)).numpy()
        np.testing.assert_allclose(out, theirs()(torch.from_numpy(x)).numpy(), rtol=1e-12, atol=1e-15,
                                   err_msg=name)


def test_erf_is_float64_accurate_over_a_wide_range():
    x = np.concatenate([np.linspace(-7, 7, 70_001), np.geomspace(1e-300, 1e3, 2_000), [0.0, np.inf]])
    x = np.concatenate([x, -x])
    expected = np.array([math.erf(v) for v in x])
    got = ops.erf_array(x)
    nonzero = expected != 0
    assert np.max(np.abs(got - expected)[nonzero] / np.abs(expected[nonzero])) < 1e-13
    assert np.all(got[~nonzero] == 0)
    np.testing.assert_allclose(got, torch.erf(torch.from_numpy(x)).numpy(), rtol=1e-13, atol=0)
    assert np.isnan(ops.erf_array(np.array([np.nan]))).all()
    assert ops.erf_array(np.ones(2, np.float32)).dtype == np.float32


@pytest.mark.parametrize("name", list(LAYERS))
def test_new_activations_fuse_in_a_sequential_and_give_torchs_gradients(name, torch_copy, float64_default):
    ours, theirs = LAYERS[name]
    model = nn.Sequential(nn.Linear(3, 4), ours(), nn.Linear(4, 2), ours())
    assert [type(step).__name__ for _, step in nn.container.plan(model)] == ["DenseRun"]
    linears = [torch_copy(nn.Sequential(m))[0] for m in (model[0], model[2])]
    reference = torch.nn.Sequential(linears[0], theirs(), linears[1], theirs())
    x = np.random.default_rng(3).normal(size=(5, 3)) * 3
    out = model(gn.tensor(x))
    expected = reference(torch.from_numpy(x))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    out.sum().backward()
    expected.sum().backward()
    for p, q in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_activation_settings_reprs_and_errors_as_torch():
    for ours, theirs in LAYERS.values():
        assert repr(ours()) == repr(theirs())
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        nn.GELU(approximate="sigmoid")
    layer = nn.ELU(alpha=2.0)
    layer.alpha = 0.5  # read at each call, as torch
    np.testing.assert_allclose(layer(gn.tensor(np.array([-1.0]))).numpy(), [0.5 * math.expm1(-1.0)])


@pytest.mark.parametrize("start,end", [(1, -1), (0, -1), (1, 2), (-2, -1), (2, 2)])
def test_flatten_vs_torch(check, start, end):
    check([(2, 3, 4, 5)], torch.nn.Flatten(start, end), nn.Flatten(start, end))
    assert repr(nn.Flatten(start, end)) == repr(torch.nn.Flatten(start, end))


def test_unflatten_vs_torch(check):
    check([(2, 12)], torch.nn.Unflatten(1, (3, 4)), nn.Unflatten(1, (3, 4)))
    check([(6, 5)], torch.nn.Unflatten(0, (2, -1)), nn.Unflatten(0, (2, -1)))
    assert repr(nn.Unflatten(1, (3, 4))) == repr(torch.nn.Unflatten(1, (3, 4)))
    with pytest.raises(ValueError, match="dimension 1 of size 12 .* cannot become \\(5, 2\\)"):
        nn.Unflatten(1, (5, 2))(gn.tensor(np.ones((2, 12))))
    with pytest.raises(ValueError, match="start_dim 2 comes after end_dim 1"):
        nn.Flatten(2, 1)(gn.tensor(np.ones((2, 3, 4))))
