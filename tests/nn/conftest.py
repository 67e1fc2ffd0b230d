"""The layer oracle of the tests under tests/nn: a glassnet layer against the same PyTorch layer."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import glassnet as gn

ATOL = RTOL = 1e-6  # vs PyTorch, float64
FD_ATOL = FD_RTOL = 1e-5  # vs central differences


def check_layer(layer: gn.nn.Module, torch_layer: Any, x: np.ndarray, numerical_grad: Callable | None = None,
                seed: int = 0) -> gn.Tensor:
    """Load the torch layer's state_dict into the glassnet layer (float64 both), then assert: the same output;
    after backward of a random upstream gradient, the same gradients of the input and of every parameter; with
    ``numerical_grad``, those gradients equal central differences too. Returns glassnet's output."""
    import torch
    torch_layer.double()
    layer.double()
    layer.load_state_dict({k: v.numpy() for k, v in torch_layer.state_dict().items()})
    xg = gn.tensor(x.copy(), requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    out, expected = layer(xg), torch_layer(xt)
    assert out.shape == tuple(expected.shape), f"shape {out.shape}, torch gives {tuple(expected.shape)}"
    assert out.dtype == np.float64
    np.testing.assert_allclose(out._data, expected.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg="forward")
    upstream = np.random.default_rng(seed).uniform(-1, 1, out.shape)
    out.backward(upstream.copy())
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(xg.grad._data, xt.grad.numpy(), rtol=RTOL, atol=ATOL, err_msg="input gradient")
    torch_params = dict(torch_layer.named_parameters())
    params = dict(layer.named_parameters())
    assert params.keys() == torch_params.keys()
    for name, param in params.items():
        np.testing.assert_allclose(param.grad._data, torch_params[name].grad.numpy(), rtol=RTOL, atol=ATOL,
                                   err_msg=f"gradient of {name}")
    if numerical_grad is not None:
        arrays = [x.copy()] + [p._data for p in params.values()]

        def objective(x_value: np.ndarray, *_: np.ndarray) -> float:
            with gn.no_grad():
                return float(np.sum(layer(gn.tensor(x_value))._data * upstream))
        for name, analytic, numeric in zip(["input", *params], [xg.grad, *[p.grad for p in params.values()]],
                                           numerical_grad(objective, *arrays)):
            np.testing.assert_allclose(analytic._data, numeric, rtol=FD_RTOL, atol=FD_ATOL,
                                       err_msg=f"gradient of {name} vs finite differences")
    return out


def round_trip(layer: gn.nn.Module, torch_layer: Any) -> None:
    """torch → glassnet → torch: the torch state_dict loads into the glassnet layer, whose state_dict (same
    names, shapes, values, dtypes of buffers) loads back into a torch layer."""
    import torch
    state = torch_layer.state_dict()
    layer.load_state_dict({k: v.numpy() for k, v in state.items()})
    mine = layer.state_dict()
    assert list(mine) == list(state), f"names {list(mine)}, torch has {list(state)}"
    for name, value in state.items():
        assert mine[name].shape == tuple(value.shape), name
        np.testing.assert_array_equal(mine[name], value.numpy(), err_msg=name)
    torch_layer.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in mine.items()})


@pytest.fixture(scope="session", name="check_layer")
def check_layer_fixture() -> Callable:
    return check_layer


@pytest.fixture(scope="session", name="round_trip")
def round_trip_fixture() -> Callable:
    return round_trip
