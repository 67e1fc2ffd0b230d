"""nn.utils against torch: gradient clipping by norm and by value, parameters ↔ vector."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import nn


def models(seed: int = 0, scale: float = 1.0):
    """A glassnet model with gradients and a torch copy with the same gradients (float64)."""
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    reference = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    for p, q in zip(model.parameters(), reference.parameters()):
        g = rng.normal(size=p.shape) * scale
        p.grad = gn.tensor(g.copy())
        q.grad = torch.from_numpy(g.copy())
    return model, reference


@pytest.mark.parametrize("max_norm", [0.1, 1.0, 1e6])
@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, math.inf])
def test_clip_grad_norm_vs_torch(max_norm, norm_type):
    model, reference = models(scale=2.0)
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(reference.parameters(), max_norm, norm_type=norm_type)
    assert isinstance(total, gn.Tensor) and total.shape == () and total.dtype == np.float64
    assert total.item() == pytest.approx(expected.item(), rel=1e-12)
    for p, q in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_skips_missing_grads_takes_one_tensor_and_reports_nonfinite():
    model, reference = models()
    model[0].bias.grad, reference[0].bias.grad = None, None
    total = nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    assert total.item() == pytest.approx(torch.nn.utils.clip_grad_norm_(reference.parameters(), 0.5).item())
    assert model[0].bias.grad is None
    weight = model[0].weight
    assert nn.utils.clip_grad_norm_(weight, 0.1).item() == pytest.approx(
        torch.nn.utils.clip_grad_norm_(reference[0].weight, 0.1).item())
    assert nn.utils.clip_grad_norm_([], 1.0).item() == 0.0
    weight.grad._data[0, 0] = np.nan
    with pytest.raises(RuntimeError, match="nan"):
        nn.utils.clip_grad_norm_(weight, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_vs_torch():
    model, reference = models(scale=3.0)
    nn.utils.clip_grad_value_(model.parameters(), 0.7)
    torch.nn.utils.clip_grad_value_(reference.parameters(), 0.7)
    for p, q in zip(model.parameters(), reference.parameters()):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_parameters_to_vector_and_back_vs_torch():
    model, reference = models()
    reference.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    vec = nn.utils.parameters_to_vector(model.parameters())
    expected = torch.nn.utils.parameters_to_vector(reference.parameters())
    np.testing.assert_array_equal(vec.numpy(), expected.detach().numpy())
    (vec * vec).sum().backward()  # differentiable, as torch's
    np.testing.assert_allclose(model[0].weight.grad.numpy() - 2 * model[0].weight.numpy(),
                               models()[0][0].weight.grad.numpy(), rtol=1e-12)
    weights = [p for p in model.parameters()]
    new = np.arange(vec.shape[0], dtype=np.float64)
    nn.utils.vector_to_parameters(gn.tensor(new), model.parameters())
    torch.nn.utils.vector_to_parameters(torch.from_numpy(new.copy()), reference.parameters())
    assert list(model.parameters()) == weights  # the same Parameter objects, changed in place
    for p, q in zip(model.parameters(), reference.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.detach().numpy())
    with pytest.raises(ValueError, match="a vector of 26 values"):
        nn.utils.vector_to_parameters(gn.tensor(np.ones(5)), model.parameters())
    with pytest.raises(TypeError, match="expected a Tensor"):
        nn.utils.vector_to_parameters(np.ones(26), model.parameters())
