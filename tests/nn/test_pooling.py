"""MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Upsample and their F versions against PyTorch (float64, 1e-6) over
random configurations, finite differences on small cases, errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import glassnet as gn
import glassnet.nn.functional as F


def random_pool(seed: int, dilation: bool) -> tuple[dict, tuple[int, ...]]:
    rng = np.random.default_rng(seed)
    kernel = tuple(int(k) for k in rng.integers(1, 4, 2))
    args = dict(kernel_size=kernel, stride=tuple(int(s) for s in rng.integers(1, 4, 2)),
                ceil_mode=bool(rng.integers(0, 2)))
    if rng.integers(0, 3) == 0:
        args["stride"] = None  # the kernel size
    dil = tuple(int(d) for d in rng.integers(1, 3, 2)) if dilation else (1, 1)
    if dilation:
        args["dilation"] = dil
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dil)]
    args["padding"] = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
    shape = (int(rng.integers(1, 3)), int(rng.integers(1, 4)), span[0] + int(rng.integers(0, 6)),
             span[1] + int(rng.integers(0, 6)))
    return args, shape


@pytest.mark.parametrize("seed", range(20))
def test_max_pool2d_matches_torch(seed, check_layer):
    args, shape = random_pool(seed, dilation=True)
    x = np.random.default_rng(seed).standard_normal(shape)
    check_layer(gn.nn.MaxPool2d(**args), torch.nn.MaxPool2d(**args), x, seed=seed)


def test_max_pool2d_ties_send_the_gradient_to_the_first_maximum(check_layer):
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1:3, 1:3] = 1.0
    check_layer(gn.nn.MaxPool2d(3, stride=1), torch.nn.MaxPool2d(3, stride=1), x)


def test_max_pool2d_return_indices():
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6))
    args = dict(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True, return_indices=True)
    out, indices = F.max_pool2d(gn.tensor(x), **args)
    expected, expected_indices = torch.nn.functional.max_pool2d(torch.tensor(x), **args)
    np.testing.assert_allclose(out._data, expected.numpy())
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices._data, expected_indices.numpy())
    out, indices = gn.nn.MaxPool2d(2, return_indices=True)(gn.tensor(x))
    np.testing.assert_array_equal(indices._data, torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))[1])


@pytest.mark.parametrize("seed", range(20))
def test_avg_pool2d_matches_torch(seed, check_layer):
    args, shape = random_pool(seed, dilation=False)
    rng = np.random.default_rng(seed)
    args["count_include_pad"] = bool(rng.integers(0, 2))
    if rng.integers(0, 4) == 0:
        args["divisor_override"] = int(rng.integers(1, 5))
    x = rng.standard_normal(shape)
    check_layer(gn.nn.AvgPool2d(**args), torch.nn.AvgPool2d(**args), x, seed=seed)


def test_pooling_gradients_match_finite_differences(check_layer, numerical_grad):
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 4))
    check_layer(gn.nn.MaxPool2d(2, stride=1, padding=1, ceil_mode=True),
                torch.nn.MaxPool2d(2, stride=1, padding=1, ceil_mode=True), x, numerical_grad)
    check_layer(gn.nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
                torch.nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), x,
                numerical_grad)


@pytest.mark.parametrize("size,output_size", [((7, 5), (3, 2)), ((6, 6), 3), ((4, 9), (None, 4)), ((5, 5), 1),
                                              ((3, 4), (5, 7))])
def test_adaptive_avg_pool2d_matches_torch(size, output_size, check_layer, numerical_grad):
    x = np.random.default_rng(0).standard_normal((2, 3, *size))
    check_layer(gn.nn.AdaptiveAvgPool2d(output_size), torch.nn.AdaptiveAvgPool2d(output_size), x,
                numerical_grad if size == (7, 5) else None)


def test_functional_pooling_on_unbatched_input(check):
    check([(3, 6, 5)], lambda x: torch.nn.functional.max_pool2d(x, 2, ceil_mode=True),
          lambda x: F.max_pool2d(x, 2, ceil_mode=True))
    check([(3, 6, 5)], lambda x: torch.nn.functional.avg_pool2d(x, (2, 3), stride=1, padding=1),
          lambda x: F.avg_pool2d(x, (2, 3), stride=1, padding=1))
    check([(3, 6, 5)], lambda x: torch.nn.functional.adaptive_avg_pool2d(x, (4, 2)),
          lambda x: F.adaptive_avg_pool2d(x, (4, 2)))


@pytest.mark.parametrize("args", [dict(scale_factor=2), dict(scale_factor=(2, 3)), dict(size=(5, 7)),
                                  dict(size=(2, 3)), dict(scale_factor=1.7), dict(scale_factor=0.5),
                                  dict(size=(7, 4), mode="nearest-exact"), dict(scale_factor=2.5, mode="nearest-exact"),
                                  dict(scale_factor=1.5, recompute_scale_factor=True)])
def test_upsample_nearest_matches_torch(args, check_layer):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    check_layer(gn.nn.Upsample(**args), torch.nn.Upsample(**args), x)


@pytest.mark.parametrize("align_corners", [False, True, None])
@pytest.mark.parametrize("args", [dict(scale_factor=2), dict(scale_factor=(1.5, 0.6)), dict(size=(7, 3)),
                                  dict(size=(1, 9)), dict(scale_factor=2.5, recompute_scale_factor=True),
                                  dict(size=(4, 5))])
def test_upsample_bilinear_matches_torch(args, align_corners, check_layer):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    args = dict(args, mode="bilinear", align_corners=align_corners)
    check_layer(gn.nn.Upsample(**args), torch.nn.Upsample(**args), x)


@pytest.mark.parametrize("align_corners", [False, True])
def test_interpolate_linear_and_finite_differences(align_corners, check):
    for kwargs in (dict(scale_factor=2.5), dict(size=4), dict(size=1)):
        check([(2, 3, 5)], lambda x: torch.nn.functional.interpolate(x, mode="linear", align_corners=align_corners,
                                                                      **kwargs),
              lambda x: F.interpolate(x, mode="linear", align_corners=align_corners, **kwargs))
    check([(1, 2, 3, 4)], lambda x: torch.nn.functional.interpolate(x, size=(5, 2), mode="bilinear",
                                                                    align_corners=align_corners),
          lambda x: F.interpolate(x, size=(5, 2), mode="bilinear", align_corners=align_corners))


def test_interpolate_1d_and_finite_differences(check):
    check([(2, 3, 5)], lambda x: torch.nn.functional.interpolate(x, scale_factor=3),
          lambda x: F.interpolate(x, scale_factor=3))
    check([(1, 2, 4, 3)], lambda x: torch.nn.functional.interpolate(x, size=(3, 5)),
          lambda x: F.interpolate(x, size=(3, 5)))


def test_pooling_layers_are_one_node_each():
    x = gn.tensor(np.ones((1, 1, 4, 4)), requires_grad=True)
    for layer in (gn.nn.MaxPool2d(2), gn.nn.AvgPool2d(2), gn.nn.AdaptiveAvgPool2d(1), gn.nn.Upsample(scale_factor=2)):
        assert layer(x)._parents == (x,)


def test_errors():
    with pytest.raises(ValueError, match=r"max_pool2d expects input of shape \(N, C, H, W\).*\(4, 4\)"):
        gn.nn.MaxPool2d(2)(gn.tensor(np.zeros((4, 4))))
    with pytest.raises(ValueError, match="at most half"):
        gn.nn.MaxPool2d(2, padding=2)(gn.tensor(np.zeros((1, 1, 4, 4))))
    with pytest.raises(ValueError, match="smaller than the window"):
        gn.nn.AvgPool2d(5)(gn.tensor(np.zeros((1, 1, 4, 4))))
    with pytest.raises(ValueError, match="kernel_size"):
        gn.nn.MaxPool2d(0)
    with pytest.raises(NotImplementedError, match="bicubic"):
        gn.nn.Upsample(scale_factor=2, mode="bicubic")
    with pytest.raises(NotImplementedError, match="got 3D input, but bilinear mode needs 4D input"):
        F.interpolate(gn.tensor(np.zeros((1, 1, 4))), scale_factor=2, mode="bilinear")
    with pytest.raises(NotImplementedError, match="got 4D input, but linear mode needs 3D input"):
        F.interpolate(gn.tensor(np.zeros((1, 1, 4, 4))), scale_factor=2, mode="linear")
    with pytest.raises(ValueError, match="align_corners"):
        F.interpolate(gn.tensor(np.zeros((1, 1, 4, 4))), scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(gn.tensor(np.zeros((1, 1, 4, 4))))


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear"])
@pytest.mark.parametrize("bad", [0, -1.5, True, (2, 2, 2), "2"])
def test_every_mode_checks_scale_factor_alike(mode, bad):
    """The nearest and the linear modes read size and scale_factor through one helper: the same errors."""
    x = gn.tensor(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"interpolate: scale_factor must be a positive number or 2 of them"):
        F.interpolate(x, scale_factor=bad, mode=mode)
    with pytest.raises(ValueError, match=r"interpolate: size must be an int ≥ 1 or 2 of them"):
        F.interpolate(x, size=(3, 0), mode=mode)
    assert F.interpolate(x, scale_factor=(1.5, 2), mode=mode).shape == (1, 1, 6, 8)


@pytest.mark.parametrize("kind,args", [
    ("MaxPool1d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("MaxPool1d", dict(kernel_size=2, dilation=2)),
    ("AvgPool1d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False, ceil_mode=True)),
    ("AvgPool1d", dict(kernel_size=4)),
    ("AdaptiveAvgPool1d", dict(output_size=4)),
])
def test_1d_pooling_matches_torch(kind, args, check_layer, numerical_grad):
    x = np.random.default_rng(0).standard_normal((2, 3, 11))
    check_layer(getattr(gn.nn, kind)(**args), getattr(torch.nn, kind)(**args), x, numerical_grad)


def test_max_pool1d_return_indices_and_unbatched_input():
    x = np.random.default_rng(1).standard_normal((3, 10))
    out, indices = F.max_pool1d(gn.tensor(x), 3, 2, 1, return_indices=True)
    expected, expected_indices = torch.nn.functional.max_pool1d(torch.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(out._data, expected.numpy())
    np.testing.assert_array_equal(indices._data, expected_indices.numpy())
    with pytest.raises(ValueError, match=r"max_pool1d expects input of shape \(N, C, L\)"):
        F.max_pool1d(gn.tensor(np.zeros((1, 2, 3, 4))), 2)
