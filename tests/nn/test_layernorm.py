"""LayerNorm and F.layer_norm against PyTorch (float64) and finite differences; options, dtype and errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import glassnet as gn
import glassnet.nn.functional as F


@pytest.mark.parametrize("seed", range(8))
def test_layernorm_matches_torch_over_random_shapes(seed, check_module):
    rng = np.random.default_rng(seed)
    lead = tuple(int(n) for n in rng.integers(1, 4, rng.integers(0, 3)))
    normalized = tuple(int(n) for n in rng.integers(1, 5, rng.integers(1, 3)))
    affine, bias = bool(seed % 4 != 3), bool(seed % 3)
    eps = [1e-5, 1e-3, 0.1][seed % 3]
    model = gn.nn.LayerNorm(normalized, eps=eps, elementwise_affine=affine, bias=bias, dtype=np.float64)
    reference = torch.nn.LayerNorm(normalized, eps=eps, elementwise_affine=affine, bias=bias, dtype=torch.float64)
    for p in model.parameters():  # away from the ones/zeros start, so that a wrong weight gradient shows
        p._data[...] = rng.normal(size=p.shape)
    check_module(model, reference, [rng.normal(size=lead + normalized) * 3 + 1])


def test_functional_layer_norm_matches_torch_and_finite_differences(check):
    check([(2, 3, 4), (3, 4), (3, 4)], lambda x, w, b: torch.nn.functional.layer_norm(x, (3, 4), w, b, 1e-5),
          lambda x, w, b: F.layer_norm(x, (3, 4), w, b, 1e-5))
    check([(5, 6)], lambda x: torch.nn.functional.layer_norm(x, (6,)), lambda x: F.layer_norm(x, 6))


def test_defaults_parameters_and_repr():
    model = gn.nn.LayerNorm(8)
    assert model.state_dict().keys() == torch.nn.LayerNorm(8).state_dict().keys()
    np.testing.assert_array_equal(model.weight._data, np.ones(8))
    np.testing.assert_array_equal(model.bias._data, np.zeros(8))
    assert repr(gn.nn.LayerNorm((3, 4), eps=1e-3)) == repr(torch.nn.LayerNorm((3, 4), eps=1e-3))
    assert list(gn.nn.LayerNorm(4, elementwise_affine=False).parameters()) == []
    assert list(gn.nn.LayerNorm(4, bias=False).state_dict()) == ["weight"]


def test_output_is_normalised_and_float32_stays_float32():
    x = gn.tensor(np.random.default_rng(0).normal(5, 3, (4, 16)).astype(np.float32), requires_grad=True)
    y = gn.nn.LayerNorm(16)(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y._data.mean(1), 0, atol=1e-5)
    np.testing.assert_allclose(y._data.std(1), 1, atol=1e-3)
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_state_dict_from_torch_and_gn_save(tmp_path):
    reference = torch.nn.LayerNorm(6)
    with torch.no_grad():
        reference.weight.uniform_(), reference.bias.uniform_()
    model = gn.nn.LayerNorm(6)
    model.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    x = np.random.default_rng(1).normal(size=(3, 6)).astype(np.float32)
    np.testing.assert_allclose(model(gn.tensor(x))._data, reference(torch.from_numpy(x)).detach().numpy(), atol=1e-6)
    gn.save(model, tmp_path / "ln.npz")
    np.testing.assert_array_equal(gn.load(tmp_path / "ln.npz")(gn.tensor(x))._data, model(gn.tensor(x))._data)


def test_wrong_shape_names_the_layer():
    with pytest.raises(ValueError, match=r"LayerNorm\(\(8,\).*shape \(2, 7\).*\(8,\)"):
        gn.nn.LayerNorm(8)(gn.tensor(np.zeros((2, 7), np.float32)))
    with pytest.raises(ValueError, match="normalized_shape"):
        gn.nn.LayerNorm(0)
