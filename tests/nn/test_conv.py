"""Conv1d, Conv2d, ConvTranspose2d and their F versions against PyTorch (float64, 1e-6) over random
configurations, finite differences on small cases, initialisation, state_dict round trips, errors."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import glassnet as gn
import glassnet.nn.functional as F


def random_conv2d(seed: int) -> tuple[dict, tuple[int, ...]]:
    """Constructor arguments of a random Conv2d and an input shape that fits it."""
    rng = np.random.default_rng(seed)
    groups = int(rng.choice([1, 1, 2, 3]))
    kernel = tuple(int(k) for k in rng.integers(1, 4, 2))
    stride = tuple(int(s) for s in rng.integers(1, 3, 2))
    dilation = tuple(int(d) for d in rng.integers(1, 3, 2))
    padding = rng.choice(["ints", "pair", "same", "valid"])
    if padding == "same" and stride != (1, 1):
        padding = "ints"
    padding = {"ints": int(rng.integers(0, 3)), "pair": tuple(int(p) for p in rng.integers(0, 3, 2)),
               "same": "same", "valid": "valid"}[padding]
    args = dict(in_channels=groups * int(rng.integers(1, 3)), out_channels=groups * int(rng.integers(1, 3)),
                kernel_size=kernel, stride=stride, padding=padding, dilation=dilation, groups=groups,
                bias=bool(rng.integers(0, 2)))
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    shape = (int(rng.integers(1, 4)), args["in_channels"], span[0] + int(rng.integers(0, 5)),
             span[1] + int(rng.integers(0, 5)))
    return args, shape


@pytest.mark.parametrize("seed", range(24))
def test_conv2d_matches_torch(seed, check_layer):
    args, shape = random_conv2d(seed)
    x = np.random.default_rng(seed).standard_normal(shape)
    check_layer(gn.nn.Conv2d(**args), torch.nn.Conv2d(**args), x, seed=seed)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("padding", [1, 2, "same"])
def test_padding_modes_match_torch(mode, dims, padding, check_layer):
    """padding_mode pads the input by ``padding`` (for "same" the odd one after) before a valid convolution."""
    args = dict(in_channels=2, out_channels=3, kernel_size=(3, 4)[:dims] if padding == "same" else 3,
                padding=padding if dims == 2 or padding == "same" or padding == 1 else (padding,), padding_mode=mode,
                dilation=1 if padding == "same" else 2)
    assert repr(getattr(gn.nn, f"Conv{dims}d")(**args)) == repr(getattr(torch.nn, f"Conv{dims}d")(**args))
    x = np.random.default_rng(dims).standard_normal((2, 2) + (5, 6)[:dims])
    for batch in (x, x[0]):  # batched, unbatched
        check_layer(getattr(gn.nn, f"Conv{dims}d")(**args), getattr(torch.nn, f"Conv{dims}d")(**args), batch)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad, shape", [((1, 2), (2, 4)), ((2, 0, 1, 3), (1, 2, 4, 5)),
                                        ((0, 1, 2, 1, 1, 0), (2, 3, 3, 4)), ((3, 1), (1, 2, 4))])
def test_pad_modes_match_torch(mode, pad, shape, numerical_grad):
    x = np.random.default_rng(len(pad)).standard_normal(shape)
    xg, xt = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = F.pad(xg, pad, mode=mode), torch.nn.functional.pad(xt, pad, mode=mode)
    np.testing.assert_allclose(out._data, expected.detach().numpy(), atol=1e-12)
    w = np.random.default_rng(0).standard_normal(out.shape)
    (out * gn.tensor(w)).sum().backward()
    (expected * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(xg.grad._data, xt.grad.numpy(), atol=1e-12)
    objective = lambda a: float((F.pad(gn.tensor(a), pad, mode=mode)._data * w).sum())  # noqa: E731
    np.testing.assert_allclose(xg.grad._data, numerical_grad(objective, x.copy())[0], atol=1e-6)


def test_pad_mode_errors_as_torch():
    x = gn.tensor(np.zeros((1, 1, 3, 3)))
    with pytest.raises(ValueError, match=r"padding \(3, 3\) at dimension 3 of input \[1, 1, 3, 3\]"):
        F.pad(x, (3, 3, 0, 0), mode="reflect")
    with pytest.raises(ValueError, match="wrapping around more than once"):
        F.pad(x, (4, 0, 0, 0), mode="circular")
    with pytest.raises(NotImplementedError, match="padding size 2 is not supported for 4D input"):
        F.pad(x, (1, 1), mode="replicate")
    with pytest.raises(NotImplementedError, match="unrecognised padding mode 'foo'"):
        F.pad(x, (1, 1), mode="foo")
    np.testing.assert_array_equal(F.pad(gn.tensor(np.arange(3.0)[None]), (-1, 1), mode="reflect")._data, [[1, 2, 1]])


@pytest.mark.parametrize("seed", range(3))
def test_conv2d_gradients_match_finite_differences(seed, check_layer, numerical_grad):
    args, shape = random_conv2d(100 + seed)
    x = np.random.default_rng(seed).standard_normal(shape)
    check_layer(gn.nn.Conv2d(**args), torch.nn.Conv2d(**args), x, numerical_grad, seed=seed)


@pytest.mark.parametrize("args,size,work,columns", [
    (dict(in_channels=3, out_channels=8, kernel_size=3), 40, 8 * 27, 38 * 38 * 4),
    (dict(in_channels=8, out_channels=16, kernel_size=3, groups=2, stride=(1, 2)), 60, 8 * 36, 58 * 29 * 4)])
def test_conv2d_large_enough_for_blocked_gemms(args, size, work, columns, check_layer):
    """Shapes whose GEMMs (per group: out/groups × in/groups·kh·kw by OH·OW·N) exceed SMALL_GEMM: they run in
    blocks."""
    from glassnet.ops import conv
    assert conv._blocks(work, columns) > 1
    x = np.random.default_rng(0).standard_normal((4, args["in_channels"], size, size))
    check_layer(gn.nn.Conv2d(**args), torch.nn.Conv2d(**args), x)


def test_conv2d_unbatched_input_is_a_batch_of_one(check_layer):
    x = np.random.default_rng(0).standard_normal((2, 6, 5))
    out = check_layer(gn.nn.Conv2d(2, 3, 3, padding=1), torch.nn.Conv2d(2, 3, 3, padding=1), x)
    assert out.shape == (3, 6, 5)


@pytest.mark.parametrize("seed", range(10))
def test_conv1d_matches_torch(seed, check_layer):
    rng = np.random.default_rng(seed)
    groups = int(rng.choice([1, 2]))
    k, s, d = (int(v) for v in rng.integers(1, 4, 3))
    padding = "same" if s == 1 and rng.integers(0, 2) else int(rng.integers(0, 3))
    args = dict(in_channels=groups * int(rng.integers(1, 3)), out_channels=groups * int(rng.integers(1, 3)),
                kernel_size=k, stride=s, padding=padding, dilation=d, groups=groups, bias=bool(rng.integers(0, 2)))
    x = rng.standard_normal((int(rng.integers(1, 4)), args["in_channels"], d * (k - 1) + 1 + int(rng.integers(0, 6))))
    check_layer(gn.nn.Conv1d(**args), torch.nn.Conv1d(**args), x, seed=seed)


def test_conv1d_gradients_match_finite_differences(check_layer, numerical_grad):
    args = dict(in_channels=2, out_channels=2, kernel_size=3, stride=2, padding=1, dilation=1)
    x = np.random.default_rng(1).standard_normal((2, 2, 7))
    check_layer(gn.nn.Conv1d(**args), torch.nn.Conv1d(**args), x, numerical_grad)


@pytest.mark.parametrize("seed", range(12))
def test_conv_transpose2d_matches_torch(seed, check_layer):
    rng = np.random.default_rng(seed)
    groups = int(rng.choice([1, 2]))
    kernel = tuple(int(k) for k in rng.integers(1, 4, 2))
    stride = tuple(int(s) for s in rng.integers(1, 3, 2))
    dilation = tuple(int(d) for d in rng.integers(1, 3, 2))
    output_padding = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
    padding = tuple(int(rng.integers(0, 2)) for _ in range(2))
    args = dict(in_channels=groups * int(rng.integers(1, 3)), out_channels=groups * int(rng.integers(1, 3)),
                kernel_size=kernel, stride=stride, padding=padding, output_padding=output_padding, groups=groups,
                bias=bool(rng.integers(0, 2)), dilation=dilation)
    x = rng.standard_normal((int(rng.integers(1, 3)), args["in_channels"], *(int(n) for n in rng.integers(3, 6, 2))))
    check_layer(gn.nn.ConvTranspose2d(**args), torch.nn.ConvTranspose2d(**args), x, seed=seed)


def test_conv_transpose2d_gradients_match_finite_differences(check_layer, numerical_grad):
    args = dict(in_channels=2, out_channels=1, kernel_size=3, stride=2, padding=1, output_padding=1)
    x = np.random.default_rng(2).standard_normal((1, 2, 3, 2))
    check_layer(gn.nn.ConvTranspose2d(**args), torch.nn.ConvTranspose2d(**args), x, numerical_grad)


def test_conv_transpose2d_output_size_sets_the_output_padding():
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 5))
    layer, reference = gn.nn.ConvTranspose2d(2, 3, 3, stride=3, padding=1), torch.nn.ConvTranspose2d(2, 3, 3, stride=3,
                                                                                                  padding=1)
    layer.load_state_dict({k: v.numpy() for k, v in reference.double().state_dict().items()})
    for size in [(10, 13), (12, 14), (1, 3, 11, 15)]:
        out = layer.double()(gn.tensor(x), output_size=size)
        np.testing.assert_allclose(out._data, reference(torch.tensor(x), output_size=size).detach().numpy(),
                                   atol=1e-12)
    with pytest.raises(ValueError, match=r"output_size \(13, 13\) is impossible.*\[10, 12\]"):
        layer(gn.tensor(x), output_size=(13, 13))


def test_functional_conv2d_and_conv1d(check):
    check([(2, 4, 7, 6), (6, 2, 3, 2), (6,)],
          lambda x, w, b: torch.nn.functional.conv2d(x, w, b, stride=(2, 1), padding=1, groups=2),
          lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, groups=2), fd=False)
    check([(2, 3, 9), (4, 3, 3)], lambda x, w: torch.nn.functional.conv1d(x, w, padding="same", dilation=2),
          lambda x, w: F.conv1d(x, w, padding="same", dilation=2))
    check([(1, 2, 3, 3), (2, 3, 2, 2)], lambda x, w: torch.nn.functional.conv_transpose2d(x, w, stride=2),
          lambda x, w: F.conv_transpose2d(x, w, stride=2))


def test_a_convolution_is_one_graph_node():
    conv = gn.nn.Conv2d(2, 3, 3)
    out = conv(gn.tensor(np.ones((1, 2, 5, 5), np.float32)))
    assert set(map(id, out._parents)) == {id(p) for p in (conv.weight, conv.bias)} | {id(out._parents[0])}
    assert out._parents[0]._backward is None  # the input leaf, no intermediate nodes


def test_float32_stays_float32():
    conv = gn.nn.Conv2d(1, 2, 3, padding=1)
    x = gn.tensor(np.ones((2, 1, 4, 4), np.float32), requires_grad=True)
    out = conv(x)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == conv.weight.grad.dtype == conv.bias.grad.dtype == np.float32


def test_a_float64_input_runs_in_the_weights_float32_as_in_linear():
    for layer in (gn.nn.Conv2d(2, 3, 3), gn.nn.ConvTranspose2d(2, 3, 3)):
        x = gn.tensor(np.ones((1, 2, 4, 4)), requires_grad=True)
        out = layer(x)
        out.sum().backward()
        assert out.dtype == np.float32 and x.grad.dtype == np.float64


def test_initialisation_is_torchs_kaiming_uniform():
    conv = gn.nn.Conv2d(4, 64, (3, 5), groups=2)
    assert conv.weight.shape == (64, 2, 3, 5) and conv.bias.shape == (64,)
    bound = 1 / math.sqrt(2 * 3 * 5)  # kaiming_uniform_(a=√5) gives 1/√fan_in
    for p in (conv.weight, conv.bias):
        assert np.abs(p._data).max() <= bound and np.abs(p._data).max() > 0.9 * bound
    assert abs(np.std(conv.weight._data) - bound / math.sqrt(3)) < 0.1 * bound
    transposed = gn.nn.ConvTranspose2d(4, 6, 3, groups=2)
    assert transposed.weight.shape == (4, 3, 3, 3)
    assert np.abs(transposed.weight._data).max() <= 1 / math.sqrt(3 * 9)


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Conv2d(4, 6, 3, groups=2, bias=False),
    lambda lib: lib.nn.Conv1d(2, 3, 4),
    lambda lib: lib.nn.ConvTranspose2d(2, 4, (2, 3), stride=2),
])
def test_state_dict_round_trip_with_torch(make, round_trip):
    round_trip(make(gn), make(torch))


def test_repr_like_torch():
    for args in [dict(in_channels=1, out_channels=6, kernel_size=5, padding=2),
                 dict(in_channels=4, out_channels=2, kernel_size=(1, 3), stride=2, groups=2, bias=False),
                 dict(in_channels=4, out_channels=2, kernel_size=3, padding="same", dilation=2)]:
        assert repr(gn.nn.Conv2d(**args)) == repr(torch.nn.Conv2d(**args))


def test_conv2d_fed_n_h_w_names_the_expected_shape():
    conv = gn.nn.Conv2d(1, 6, 5)
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\).*\(64, 28, 28\)"):
        conv(gn.tensor(np.zeros((64, 28, 28), np.float32)))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*\(28, 28\)"):
        conv(gn.tensor(np.zeros((28, 28), np.float32)))


def test_wrong_channel_count_names_both():
    conv = gn.nn.Conv2d(3, 6, 3)
    with pytest.raises(ValueError, match=r"expects 3 input channels.*\(8, 4, 10, 10\).*C=4"):
        conv(gn.tensor(np.zeros((8, 4, 10, 10), np.float32)))
    with pytest.raises(ValueError, match="expects 2 input channels"):
        gn.nn.Conv1d(2, 3, 3)(gn.tensor(np.zeros((1, 3, 10), np.float32)))


def test_bad_arguments():
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        gn.nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="divisible by groups"):
        gn.nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="kernel_size"):
        gn.nn.Conv2d(1, 1, 0)
    with pytest.raises(ValueError, match="smaller than the kernel"):
        gn.nn.Conv2d(1, 1, 5)(gn.tensor(np.zeros((1, 1, 3, 3), np.float32)))
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        gn.nn.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match='only "zeros" padding mode'):
        gn.nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="padding size should be less than the corresponding input dimension"):
        gn.nn.Conv2d(1, 1, 3, padding=3, padding_mode="reflect")(gn.tensor(np.zeros((1, 1, 3, 3))))
    with pytest.raises(ValueError, match=r"expects input of shape \(N, C, H, W\)"):
        gn.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular")(gn.tensor(np.zeros((3, 3))))
    with pytest.raises(ValueError, match="output_padding"):
        F.conv_transpose2d(gn.tensor(np.zeros((1, 1, 3, 3))), gn.tensor(np.zeros((1, 1, 3, 3))), stride=2,
                           output_padding=2)


def cnn() -> gn.nn.Sequential:
    nn = gn.nn
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding="same"), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Dropout2d(0.1), nn.Upsample(scale_factor=2), nn.AvgPool2d(2), nn.Conv2d(4, 8, 3),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))


def bars(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """8×8 images of one vertical (class 0) or horizontal (class 1) bar at a random place, with noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    images = rng.normal(0, 0.1, (n, 1, 8, 8)).astype(np.float32)
    for image, label, where in zip(images, labels, rng.integers(1, 7, n)):
        if label:
            image[0, where] += 1
        else:
            image[0, :, where] += 1
    return images, labels


def test_a_cnn_learns_vertical_from_horizontal_bars():
    model = cnn()
    opt = gn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = gn.nn.CrossEntropyLoss()
    X, y = bars(256, 0)
    for epoch in range(6):
        for i in range(0, len(X), 32):
            opt.zero_grad()
            loss = loss_fn(model(gn.tensor(X[i:i + 32])), gn.tensor(y[i:i + 32]))
            loss.backward()
            opt.step()
    X_test, y_test = bars(200, 1)
    with gn.nn.evaluating(model):
        accuracy = np.mean(np.argmax(model(gn.tensor(X_test))._data, axis=1) == y_test)
    assert accuracy >= 0.95, accuracy


def test_a_cnn_saves_and_loads_whole(tmp_path):
    model = cnn()
    X, _ = bars(6, 2)
    model(gn.tensor(X))  # a training step moves the running statistics
    model.eval()
    expected = model(gn.tensor(X))._data
    gn.save(model, tmp_path / "cnn.gn")
    loaded = gn.load(tmp_path / "cnn.gn")
    loaded.eval()
    assert repr(loaded) == repr(model)
    np.testing.assert_array_equal(loaded(gn.tensor(X))._data, expected)
    np.testing.assert_array_equal(loaded[1].running_var._data, model[1].running_var._data)


def test_a_cnn_trains_with_fit():
    model = cnn()
    history = gn.fit(model, *bars(256, 0), loss=gn.nn.CrossEntropyLoss(),
                     optimizer=gn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), epochs=6, batch_size=32,
                     metrics=["accuracy"], validation_data=bars(100, 1))
    assert history.history["val_accuracy"][-1] >= 0.95
