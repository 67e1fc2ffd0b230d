"""Shared helpers of the correctness suites: PyTorch is the oracle, central differences the second opinion.

Helpers are handed out as session fixtures (``check``, ``numerical_grad``, ``to_torch``, ``torch_copy``) rather
than imported, so that another ``conftest.py`` elsewhere under ``tests/`` can never shadow them. torch is imported
inside the helpers: suites that do not use it do not pay for it.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pytest

import glassnet as gn

ATOL = RTOL = 1e-6  # forward values and gradients vs PyTorch (float64)
FD_ATOL = FD_RTOL = 1e-5  # gradients vs central differences (float64, eps=1e-6)


def numerical_grad(f: Callable[..., float], *arrays: np.ndarray, eps: float = 1e-6) -> list[np.ndarray]:
    """Central differences (f(x+eps) - f(x-eps)) / 2eps of the scalar ``f(*arrays)`` w.r.t. each array.

    The arrays (float64) are perturbed in place, one element at a time, and restored.
    """
    grads = []
    for x in arrays:
        grad = np.zeros_like(x, dtype=np.float64)
        for index in np.ndindex(x.shape):
            old = x[index]
            x[index] = old + eps
            plus = float(f(*arrays))
            x[index] = old - eps
            minus = float(f(*arrays))
            x[index] = old
            grad[index] = (plus - minus) / (2 * eps)
        grads.append(grad)
    return grads


def to_torch(value: Any) -> Any:
    """ndarray → torch tensor (integer arrays stay integer, bool stays bool); anything else unchanged."""
    import torch
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy())
    if isinstance(value, tuple):
        return tuple(to_torch(v) for v in value)
    return value


def random_inputs(shapes: Sequence[tuple[int, ...]], low: float = -2.0, high: float = 2.0,
                  seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, shape) for shape in shapes]


def check(shapes: Sequence[tuple[int, ...]] | None, torch_fn: Callable, gn_fn: Callable | None = None, *,
          low: float = -2.0, high: float = 2.0, values: Sequence[np.ndarray] | None = None, fd: bool = True,
          seed: int = 0) -> None:
    """One-line op test (tinygrad style): run ``gn_fn`` (default: ``torch_fn``, when the same lambda works on both
    libraries) on float64 glassnet tensors and ``torch_fn`` on torch tensors of the same random values; then assert

    * output shape, dtype (float64 stays float64) and values equal PyTorch's to 1e-6;
    * after ``backward(w)`` with a random upstream gradient w, every input's gradient equals PyTorch's to 1e-6;
    * with ``fd``, every gradient equals central differences of Σ w·gn_fn(inputs).
    """
    import torch
    gn_fn = gn_fn or torch_fn
    arrays = [np.array(v, dtype=np.float64) for v in values] if values is not None else \
        random_inputs(shapes, low, high, seed)
    xs = [gn.tensor(a.copy(), requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = gn_fn(*xs), torch_fn(*ts)
    assert isinstance(out, gn.Tensor), f"the op returned {type(out).__name__}, not a Tensor"
    assert out.shape == tuple(expected.shape), f"shape {out.shape}, PyTorch gives {tuple(expected.shape)}"
    assert out.dtype == np.float64, f"float64 inputs gave a {out.dtype} output"
    np.testing.assert_allclose(out._data, expected.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg="forward")

    upstream = np.random.default_rng(seed + 1).uniform(-1, 1, out.shape)
    out.backward(upstream.copy())
    expected.backward(torch.tensor(upstream))
    for i, (x, t) in enumerate(zip(xs, ts)):
        assert x.grad is not None, f"input {i} got no gradient"
        assert x.grad.shape == x.shape and x.grad.dtype == np.float64, f"input {i}: grad {x.grad.shape} {x.grad.dtype}"
        want = t.grad.numpy() if t.grad is not None else np.zeros(x.shape)
        np.testing.assert_allclose(x.grad._data, want, rtol=RTOL, atol=ATOL, err_msg=f"grad of input {i} vs torch")
    if fd:
        def objective(*inputs: np.ndarray) -> float:
            with gn.no_grad():
                return float(np.sum(gn_fn(*[gn.tensor(a) for a in inputs])._data * upstream))
        for i, (x, num) in enumerate(zip(xs, numerical_grad(objective, *arrays))):
            np.testing.assert_allclose(x.grad._data, num, rtol=FD_RTOL, atol=FD_ATOL,
                                       err_msg=f"grad of input {i} vs finite differences")


def torch_copy(model: gn.nn.Sequential) -> Any:
    """The same network as a ``torch.nn.Sequential`` (float64), weights copied from the glassnet Sequential."""
    import torch
    activations = {gn.nn.ReLU: torch.nn.ReLU, gn.nn.Tanh: torch.nn.Tanh, gn.nn.Sigmoid: torch.nn.Sigmoid,
                   gn.nn.Identity: torch.nn.Identity}
    layers = []
    for layer in model:
        if isinstance(layer, gn.nn.Linear):
            copy = torch.nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None).double()
            with torch.no_grad():
                copy.weight.copy_(torch.from_numpy(layer.weight._data.astype(np.float64)))
                if layer.bias is not None:
                    copy.bias.copy_(torch.from_numpy(layer.bias._data.astype(np.float64)))
            layers.append(copy)
        elif isinstance(layer, gn.nn.LeakyReLU):
            layers.append(torch.nn.LeakyReLU(layer.negative_slope))
        else:
            layers.append(activations[type(layer)]())
    return torch.nn.Sequential(*layers)


@pytest.fixture(scope="session", name="check")
def check_fixture() -> Callable:
    return check


@pytest.fixture(scope="session", name="numerical_grad")
def numerical_grad_fixture() -> Callable:
    return numerical_grad


@pytest.fixture(scope="session", name="torch_copy")
def torch_copy_fixture() -> Callable:
    return torch_copy


@pytest.fixture(scope="session", name="to_torch")
def to_torch_fixture() -> Callable:
    return to_torch


@pytest.fixture(autouse=True)
def fresh_state():
    """Every test starts from float32 and glassnet's generator seeded with 0, whatever ran before it."""
    previous = gn.get_default_dtype()
    gn.set_default_dtype(np.float32)
    gn.manual_seed(0)
    yield
    gn.set_default_dtype(previous)


@pytest.fixture
def float64_default():
    """Make float64 glassnet's default dtype for one test, and restore the previous default afterwards."""
    previous = gn.get_default_dtype()
    gn.set_default_dtype(np.float64)
    try:
        yield
    finally:
        gn.set_default_dtype(previous)



def _flat(value: Any) -> list:
    """The Tensors (or torch tensors) of a nested tuple/list of outputs, in order; None entries dropped."""
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _flat(item)]
    return [] if value is None else [value]


def check_module(module: Any, torch_module: Any, args: Sequence[Any], kwargs: dict | None = None, *,
                 seed: int = 0) -> list:
    """A glassnet layer against the same PyTorch layer (float64): ``torch_module`` gets ``module``'s state_dict;
    both run on ``args`` (ndarrays, None, or tuples of them: float arrays require grad) and ``kwargs`` (constant
    arrays such as masks, or plain values); then assert, to 1e-6, every output (nested tuples flattened, None
    skipped) and, after backward of Σ w·output with random w, the gradients of every float input and every
    parameter, by name. Returns glassnet's outputs, flattened."""
    import torch
    torch_module.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in module.state_dict().items()})
    assert list(module.state_dict()) == list(torch_module.state_dict()), "parameter names or order differ"

    def build(value: Any, lib: str) -> Any:
        if isinstance(value, tuple):
            return tuple(build(v, lib) for v in value)
        if not isinstance(value, np.ndarray):
            return value
        grad = value.dtype.kind == "f"
        return gn.tensor(value.copy(), requires_grad=grad) if lib == "gn" else \
            torch.tensor(value, requires_grad=grad) if grad else torch.from_numpy(value.copy())
    gn_args, t_args = [build(a, "gn") for a in args], [build(a, "torch") for a in args]
    kwargs = kwargs or {}
    gn_kwargs = {k: build(v, "gn") if not isinstance(v, np.ndarray) or v.dtype.kind != "f" else gn.tensor(v)
                 for k, v in kwargs.items()}
    t_kwargs = {k: to_torch(v) for k, v in kwargs.items()}
    outs, expected = _flat(module(*gn_args, **gn_kwargs)), _flat(torch_module(*t_args, **t_kwargs))
    assert len(outs) == len(expected), f"{len(outs)} outputs, PyTorch gives {len(expected)}"
    rng = np.random.default_rng(seed + 1)
    loss, t_loss = 0, 0
    for k, (out, want) in enumerate(zip(outs, expected)):
        assert out.shape == tuple(want.shape), f"output {k}: shape {out.shape}, PyTorch gives {tuple(want.shape)}"
        assert out.dtype == np.float64, f"output {k} is {out.dtype}"
        np.testing.assert_allclose(out._data, want.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg=f"output {k}")
        w = rng.uniform(-1, 1, out.shape)
        if out.requires_grad:
            loss, t_loss = loss + (out * gn.tensor(w)).sum(), t_loss + (want * torch.tensor(w)).sum()
    loss.backward()
    t_loss.backward()
    for k, (x, t) in enumerate(zip(_flat(gn_args), _flat(t_args))):
        if isinstance(x, gn.Tensor) and x.requires_grad:
            want = t.grad.numpy() if t.grad is not None else np.zeros(x.shape)
            got = x.grad._data if x.grad is not None else np.zeros(x.shape)
            np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL, err_msg=f"grad of input {k}")
    t_params = dict(torch_module.named_parameters())
    for name, param in module.named_parameters():
        want = t_params[name].grad
        got = param.grad._data if param.grad is not None else np.zeros(param.shape)
        np.testing.assert_allclose(got, np.zeros(param.shape) if want is None else want.numpy(), rtol=RTOL,
                                   atol=ATOL, err_msg=f"grad of {name}")
    return outs


@pytest.fixture(scope="session", name="check_module")
def check_module_fixture() -> Callable:
    return check_module
