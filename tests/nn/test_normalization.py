"""BatchNorm1d, BatchNorm2d, F.batch_norm and Dropout2d: against PyTorch (float64, 1e-6) in training and eval,
running statistics over several steps, finite differences, state_dict round trips, errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import glassnet as gn
import glassnet.nn.functional as F

CONFIGS = [dict(), dict(momentum=0.3, eps=1e-3), dict(affine=False), dict(momentum=None),
           dict(track_running_stats=False), dict(affine=False, track_running_stats=False)]


def layers(kind: str, channels: int, **args):
    return getattr(gn.nn, kind)(channels, **args), getattr(torch.nn, kind)(channels, **args)


def shapes(kind: str):
    return [(5, 3), (4, 3, 6)] if kind == "BatchNorm1d" else [(4, 3, 5, 2), (2, 3, 1, 3)]


@pytest.mark.parametrize("kind", ["BatchNorm1d", "BatchNorm2d"])
@pytest.mark.parametrize("args", CONFIGS)
def test_batch_norm_training_then_eval_matches_torch(kind, args, check_layer):
    """Three training steps (outputs, gradients, running statistics, counter), then eval mode."""
    layer, reference = layers(kind, 3, **args)
    rng = np.random.default_rng(0)
    with torch.no_grad():  # non-trivial affine parameters
        for p in reference.parameters():
            p.uniform_(0.5, 1.5)
    for step, shape in enumerate(shapes(kind) + shapes(kind)[:1]):
        x = rng.normal(2.0, 3.0, shape)
        if step:  # carry glassnet's state on (check_layer loads torch's, which must then be the same)
            state = layer.state_dict()
            for name, value in reference.state_dict().items():
                np.testing.assert_allclose(state[name], value.numpy(), rtol=1e-6, atol=1e-12, err_msg=name)
        check_layer(layer, reference, x, seed=step)
    for name, value in reference.state_dict().items():
        np.testing.assert_allclose(layer.state_dict()[name], value.numpy(), rtol=1e-6, atol=1e-12, err_msg=name)
    if args.get("track_running_stats", True):
        assert layer.num_batches_tracked._data == 3 and layer.num_batches_tracked._data.dtype == np.int64
    layer.eval(), reference.eval()
    check_layer(layer, reference, rng.normal(1.0, 2.0, shapes(kind)[0]), seed=9)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradients_match_finite_differences(training, check_layer, numerical_grad):
    layer, reference = layers("BatchNorm2d", 2, momentum=0.0)  # momentum 0: the FD calls leave the stats alone
    with torch.no_grad():
        reference.running_mean.uniform_(-1, 1)
        reference.running_var.uniform_(0.5, 2)
        reference.weight.uniform_(0.5, 1.5)
        reference.bias.uniform_(-1, 1)
    layer.train(training), reference.train(training)
    check_layer(layer, reference, np.random.default_rng(1).standard_normal((3, 2, 2, 2)), numerical_grad)


def test_running_variance_is_unbiased():
    layer = gn.nn.BatchNorm1d(2, momentum=1.0)
    x = np.random.default_rng(0).standard_normal((6, 2))
    layer(gn.tensor(x))
    np.testing.assert_allclose(layer.running_mean._data, x.mean(0), rtol=1e-6)
    np.testing.assert_allclose(layer.running_var._data, x.var(0, ddof=1), rtol=1e-5)


def test_functional_batch_norm(check):
    mean, var = np.array([0.5, -1.0]), np.array([2.0, 0.5])
    for training in (True, False):
        check([(4, 2, 3), (2,), (2,)],
              lambda x, w, b: torch.nn.functional.batch_norm(x, torch.tensor(mean), torch.tensor(var), w, b,
                                                             training=training),
              lambda x, w, b: F.batch_norm(x, gn.tensor(mean.copy()), gn.tensor(var.copy()), w, b,
                                           training=training))


def test_buffers_cast_with_the_module_and_round_trip_with_torch(round_trip):
    layer = gn.nn.BatchNorm2d(4).double()
    assert layer.running_mean.dtype == np.float64 and layer.num_batches_tracked.dtype == np.int64
    reference = torch.nn.BatchNorm2d(4).double()
    reference.train()(torch.randn(3, 4, 2, 2, dtype=torch.float64))
    round_trip(layer, reference)
    assert layer.num_batches_tracked._data == 1
    assert list(gn.nn.BatchNorm1d(3, track_running_stats=False).state_dict()) == ["weight", "bias"]


def test_float32_stays_float32():
    layer = gn.nn.BatchNorm2d(2)
    x = gn.tensor(np.random.default_rng(0).standard_normal((4, 2, 3, 3)).astype(np.float32), requires_grad=True)
    out = layer(x)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == layer.weight.grad.dtype == layer.running_var.dtype == np.float32


def test_errors():
    with pytest.raises(ValueError, match=r"4D input \(N, C, H, W\), got shape \(2, 3, 4\)"):
        gn.nn.BatchNorm2d(3)(gn.tensor(np.zeros((2, 3, 4))))
    with pytest.raises(ValueError, match=r"2D or 3D input"):
        gn.nn.BatchNorm1d(3)(gn.tensor(np.zeros((2, 3, 4, 4))))
    with pytest.raises(ValueError, match=r"expects 3 channels.*\(2, 4\) \(C=4\)"):
        gn.nn.BatchNorm1d(3)(gn.tensor(np.zeros((2, 4))))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        gn.nn.BatchNorm1d(3)(gn.tensor(np.zeros((1, 3))))
    gn.nn.BatchNorm1d(3).eval()(gn.tensor(np.zeros((1, 3))))  # one sample is fine in eval mode


# ------------------------------------------------------------------------------------------ Dropout2d

def test_dropout2d_drops_whole_channels_and_scales_the_rest():
    layer = gn.nn.Dropout2d(0.4)
    x = gn.tensor(np.random.default_rng(0).uniform(1, 2, (50, 20, 3, 4)), requires_grad=True)
    out = layer(x)
    ratio = out._data / x._data
    per_channel = ratio.reshape(50, 20, -1)
    np.testing.assert_allclose(per_channel, np.broadcast_to(per_channel[:, :, :1], per_channel.shape))  # per channel
    assert set(np.unique(np.round(ratio, 9))) == {0.0, round(1 / 0.6, 9)}
    dropped = np.mean(per_channel[:, :, 0] == 0)
    assert 0.33 < dropped < 0.47  # 1,000 channels, p = 0.4
    out.backward(np.ones(out.shape))
    np.testing.assert_allclose(x.grad._data, ratio)


def test_dropout2d_eval_is_identity_and_seeded():
    x = gn.tensor(np.ones((2, 8, 2, 2)))
    layer = gn.nn.Dropout2d(0.5)
    gn.manual_seed(3)
    first = layer(x)._data
    gn.manual_seed(3)
    np.testing.assert_array_equal(layer(x)._data, first)
    layer.eval()
    assert layer(x) is x
    assert np.all(gn.nn.Dropout2d(1.0)(x)._data == 0)
    with pytest.raises(ValueError, match="probability"):
        gn.nn.Dropout2d(1.5)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        gn.nn.Dropout2d()(gn.tensor(np.ones((2, 3))))
