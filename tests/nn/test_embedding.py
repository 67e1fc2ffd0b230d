"""Embedding and F.embedding against PyTorch (float64), padding_idx, from_pretrained, round trips, errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import glassnet as gn
import glassnet.nn.functional as F


@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1])
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 2, 4)])
def test_embedding_matches_torch(padding_idx, shape):
    reference = torch.nn.Embedding(6, 4, padding_idx=padding_idx).double()
    layer = gn.nn.Embedding(6, 4, padding_idx=padding_idx).double()
    layer.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    indices = np.random.default_rng(len(shape)).integers(0, 6, shape)  # repeats: gradients add up
    out, expected = layer(gn.tensor(indices)), reference(torch.from_numpy(indices))
    np.testing.assert_allclose(out._data, expected.detach().numpy(), rtol=1e-12)
    upstream = np.random.default_rng(0).uniform(-1, 1, out.shape)
    out.backward(upstream)
    expected.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(layer.weight.grad._data, reference.weight.grad.numpy(), rtol=1e-6, atol=1e-12)
    if padding_idx is not None:
        assert np.all(layer.weight.grad._data[padding_idx] == 0)


def test_initialisation_is_standard_normal_with_a_zero_padding_row():
    layer = gn.nn.Embedding(2000, 8, padding_idx=-2)
    assert layer.padding_idx == 1998
    assert np.all(layer.weight._data[1998] == 0)
    assert abs(np.std(layer.weight._data) - 1) < 0.05 and abs(np.mean(layer.weight._data)) < 0.05
    assert layer.weight.dtype == np.float32


def test_gradient_matches_finite_differences(numerical_grad):
    weight = np.random.default_rng(0).standard_normal((5, 3))
    indices = np.array([[1, 4, 1], [0, 2, 2]])
    upstream = np.random.default_rng(1).uniform(-1, 1, (2, 3, 3))
    w = gn.tensor(weight.copy(), requires_grad=True)
    F.embedding(gn.tensor(indices), w, padding_idx=2).backward(upstream)
    expected = numerical_grad(lambda a: float(np.sum(a[indices] * upstream)), weight)[0]
    expected[2] = 0  # padding_idx: no gradient
    np.testing.assert_allclose(w.grad._data, expected, atol=1e-6)


def test_from_pretrained_and_round_trip(round_trip):
    table = np.arange(12.0).reshape(4, 3)
    frozen = gn.nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(gn.tensor(np.array([3, 0])))._data, table[[3, 0]])
    table[0] = -1  # a copy
    assert frozen.weight._data[0, 0] == 0
    assert gn.nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    round_trip(gn.nn.Embedding(10, 3, padding_idx=2), torch.nn.Embedding(10, 3, padding_idx=2))


def test_errors():
    layer = gn.nn.Embedding(5, 2)
    with pytest.raises(IndexError, match=r"\[0, 4\] for 5 embeddings.*to 5"):
        layer(gn.tensor(np.array([0, 5])))
    with pytest.raises(TypeError, match="integers"):
        layer(gn.tensor(np.array([0.0, 1.0])))
    with pytest.raises(ValueError, match="padding_idx"):
        gn.nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(ValueError, match="embedding_dim"):
        gn.nn.Embedding(5, 0)
