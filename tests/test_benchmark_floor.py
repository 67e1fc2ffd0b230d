"""The benchmarks' NumPy floor (benchmarks/floor.py) trains exactly as glassnet does: otherwise its rate would be
no bound on glassnet's."""
import os
import sys

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn, optim

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))
from floor import FLUSH_EVERY, Floor  # noqa: E402


@pytest.mark.parametrize("sizes, activation, output_activation, loss, optimizer_name, lr", [
    ([2, 4, 2, 1], "Tanh", True, "MSELoss", "SGD", 0.03),               # W1
    ([64, 32, 10], "ReLU", False, "CrossEntropyLoss", "Adam", 1e-3),    # W2's kind
    ([300, 256, 10], "ReLU", False, "CrossEntropyLoss", "Adam", 1e-3),  # W3's kind: > SLICE parameters, in slices
])
def test_floor_trains_like_glassnet(sizes, activation, output_activation, loss, optimizer_name, lr):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, sizes[0])).astype(np.float32)
    y = (rng.integers(0, sizes[-1], 40) if loss == "CrossEntropyLoss"
         else rng.uniform(-1, 1, (40, 1)).astype(np.float32))
    gn.manual_seed(0)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2 or output_activation:
            layers.append(getattr(nn, activation)())
    model = nn.Sequential(*layers)
    floor = Floor(sizes, activation, output_activation, loss, optimizer_name, lr, model.state_dict())
    loss_fn, opt = getattr(nn, loss)(), getattr(optim, optimizer_name)(model.parameters(), lr=lr)
    for step in range(FLUSH_EVERY + 4):  # past a flush of subnormals
        x, t = X[step % 4 * 10:][:10], y[step % 4 * 10:][:10]
        opt.zero_grad()
        expected = loss_fn(model(gn.tensor(x)), gn.tensor(t))
        expected.backward()
        opt.step()
        assert floor.step(x, t) == pytest.approx(float(expected), rel=1e-5)
    weights = np.concatenate([p._data.ravel() for p in model.parameters()])
    np.testing.assert_allclose(floor.params, weights, rtol=1e-5, atol=1e-6)
