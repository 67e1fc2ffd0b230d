"""ONNX export (gn.onnx.export): onnxruntime's outputs match glassnet's to 1e-5 for MLPs, the CNN layers (random
configurations of stride, padding, dilation, groups, pooling) and the recurrent layers (LSTM, GRU, RNN: batch_first,
bidirectional, stacked) and their cells; a dynamic batch axis; a module without an ONNX mapping is refused by name."""
from __future__ import annotations

import io

import numpy as np
import onnxruntime
import pytest

import glassnet as gn
from glassnet import nn
from glassnet.onnx import ExportError

TOLERANCE = dict(atol=1e-5, rtol=1e-5)


def flat(value):
    """glassnet's outputs (a tensor or nested tuples of them) as a list of arrays, in order."""
    if isinstance(value, tuple):
        return [array for item in value for array in flat(item)]
    return [value.numpy()]


def exported(model, example, **options):
    """(the ModelProto, an onnxruntime session) of ``model`` exported on ``example``."""
    buffer = io.BytesIO()
    proto = gn.onnx.export(model, example, buffer, **options)
    return proto, onnxruntime.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])


def assert_matches(model, example, inputs=None, **options):
    """Export on ``example``; onnxruntime on each of ``inputs`` (default: the example) gives glassnet's eval-mode
    outputs to 1e-5."""
    _, session = exported(model, example, **options)
    name = session.get_inputs()[0].name
    for x in inputs or [example]:
        with nn.evaluating(model):
            expected = flat(model(gn.tensor(x)))
        got = session.run(None, {name: x})
        assert len(got) == len(expected)
        for mine, theirs in zip(got, expected):
            assert mine.shape == theirs.shape and mine.dtype == theirs.dtype
            np.testing.assert_allclose(mine, theirs, **TOLERANCE)


def normal(rng, *shape, dtype=np.float32):
    return rng.normal(size=shape).astype(dtype)


# ------------------------------------------------------------------------------------------ MLPs

@pytest.mark.parametrize("layers", [
    lambda: [nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3)],
    lambda: [nn.Linear(5, 4), nn.Tanh(), nn.Dropout(0.3), nn.Linear(4, 4), nn.Sigmoid(), nn.Linear(4, 2)],
    lambda: [nn.Linear(5, 6), nn.LeakyReLU(0.2), nn.Linear(6, 3, bias=False), nn.Identity(), nn.Softmax(dim=-1)],
    lambda: [nn.Linear(5, 6), nn.GELU(), nn.Linear(6, 6), nn.GELU("tanh"), nn.Linear(6, 6), nn.SiLU(),
             nn.Linear(6, 6), nn.ELU(0.7), nn.Linear(6, 6), nn.Softplus(2.0, 1.0), nn.LogSoftmax(dim=1)],
    lambda: [nn.Linear(5, 6), nn.ActivationLayer("leaky_relu", negative_slope=0.3), nn.Linear(6, 1)],
    lambda: [nn.Linear(5, 1)],
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mlps_match_for_any_batch_size(layers, dtype):
    gn.manual_seed(0)
    model = nn.Sequential(*layers()).to(dtype)
    rng = np.random.default_rng(0)
    X = 3 * normal(rng, 33, 5, dtype=dtype)  # beyond Softplus(beta=2, threshold=1)'s switch to the identity
    assert_matches(model, X[:1], [X, X[:7]], dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})


def test_linear_on_more_than_two_dims_and_flatten_unflatten():
    gn.manual_seed(1)
    model = nn.Sequential(nn.Linear(4, 6), nn.Unflatten(2, (2, 3)), nn.Flatten(1, 2), nn.Tanh(), nn.Flatten(0))
    assert_matches(model, normal(np.random.default_rng(1), 2, 5, 4))


# ------------------------------------------------------------------------------------------ CNN layers

def random_conv(rng, dims):
    """A Conv1d/Conv2d with random kernel, stride, padding, dilation, groups and bias; and its input."""
    groups = int(rng.choice([1, 2, 3]))
    in_channels, out_channels = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    kernel = tuple(int(k) for k in rng.integers(1, 4, dims))
    dilation = tuple(int(d) for d in rng.integers(1, 3, dims))
    if rng.random() < 0.25:
        stride, padding = 1, str(rng.choice(["same", "valid"]))
    else:
        stride = tuple(int(s) for s in rng.integers(1, 4, dims))
        padding = tuple(int(p) for p in rng.integers(0, 3, dims))
    cls = nn.Conv1d if dims == 1 else nn.Conv2d
    layer = cls(in_channels, out_channels, kernel, stride=stride, padding=padding, dilation=dilation, groups=groups,
                bias=bool(rng.random() < 0.7))
    return layer, normal(rng, 2, in_channels, *rng.integers(7, 12, dims))


@pytest.mark.parametrize("seed", range(12))
def test_random_convolutions_match(seed):
    rng = np.random.default_rng(seed)
    gn.manual_seed(seed)
    layer, x = random_conv(rng, 1 + seed % 2)
    assert_matches(nn.Sequential(layer), x)


@pytest.mark.parametrize("seed", range(6))
def test_random_transposed_convolutions_match(seed):
    rng = np.random.default_rng(seed)
    gn.manual_seed(seed)
    groups = int(rng.choice([1, 2]))
    stride = tuple(int(s) for s in rng.integers(1, 4, 2))
    dilation = tuple(int(d) for d in rng.integers(1, 3, 2))
    output_padding = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
    layer = nn.ConvTranspose2d(2 * groups, 3 * groups, tuple(int(k) for k in rng.integers(1, 4, 2)), stride=stride,
                               padding=int(rng.integers(0, 2)), output_padding=output_padding, groups=groups,
                               dilation=dilation, bias=bool(seed % 2))
    assert_matches(layer, normal(rng, 2, 2 * groups, 5, 6))


def random_pool(rng, dims):
    """A MaxPool or AvgPool of random kernel, stride, padding (≤ half the kernel), dilation (max) and ceil mode."""
    kernel = tuple(int(k) for k in rng.integers(1, 5, dims))
    stride = tuple(int(s) for s in rng.integers(1, 4, dims))
    padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
    ceil_mode = bool(rng.random() < 0.4)
    if rng.random() < 0.5:
        cls = nn.MaxPool1d if dims == 1 else nn.MaxPool2d
        return cls(kernel, stride, padding, dilation=int(rng.integers(1, 3)), ceil_mode=ceil_mode)
    cls = nn.AvgPool1d if dims == 1 else nn.AvgPool2d
    return cls(kernel, stride, padding, ceil_mode=ceil_mode, count_include_pad=bool(rng.random() < 0.5))


@pytest.mark.parametrize("seed", range(16))
def test_random_pooling_matches_or_is_refused_by_name(seed):
    """In ceil mode torch drops a last window that would start in the padding and ONNX's opset 17 does not: those
    layers are refused by name; every other configuration matches."""
    rng = np.random.default_rng(100 + seed)
    dims = 1 + seed % 2
    layer = random_pool(rng, dims)
    x = normal(rng, 2, 3, *rng.integers(6, 12, dims))
    try:
        assert_matches(nn.Sequential(layer), x)
    except ExportError as error:
        assert layer.ceil_mode and "model.0" in str(error) and "in ceil mode gives" in str(error)


def test_ceil_mode_pooling_without_a_window_in_the_padding_exports():
    x = normal(np.random.default_rng(2), 1, 2, 6, 6)
    for layer in (nn.MaxPool2d(3, 2, 1, ceil_mode=True), nn.AvgPool2d(3, 2, 1, ceil_mode=True)):
        assert_matches(layer, x)
    with pytest.raises(ExportError, match=r"model \(MaxPool2d\) in ceil mode gives \(3, 3\) for input \(1, 2, 5, 5\)"
                                          r", ONNX's pooling \(4, 4\)"):
        gn.onnx.export(nn.MaxPool2d(2, 2, 1, ceil_mode=True), x[..., :5, :5], io.BytesIO())


def test_average_pooling_with_a_divisor_override():
    assert_matches(nn.AvgPool2d(3, 2, 1, divisor_override=5), normal(np.random.default_rng(3), 2, 2, 7, 8))


@pytest.mark.parametrize("layer, size", [
    (lambda: nn.AdaptiveAvgPool2d(1), (7, 9)), (lambda: nn.AdaptiveAvgPool2d((1, None)), (6, 9)),
    (lambda: nn.AdaptiveAvgPool2d((3, 2)), (9, 8)), (lambda: nn.AdaptiveAvgPool2d((None, 5)), (4, 5)),
    (lambda: nn.AdaptiveAvgPool1d(1), (9,)), (lambda: nn.AdaptiveAvgPool1d(4), (12,)),
])
def test_adaptive_average_pooling_with_equal_windows(layer, size):
    assert_matches(layer(), normal(np.random.default_rng(4), 2, 3, *size))


def test_adaptive_pooling_to_unequal_windows_is_refused():
    with pytest.raises(ExportError, match=r"model.1 \(AdaptiveAvgPool2d\) pools input \(7, 7\) to \(3, 3\): windows "
                                          r"of unequal sizes have no exact ONNX op"):
        gn.onnx.export(nn.Sequential(nn.Identity(), nn.AdaptiveAvgPool2d(3)), np.zeros((1, 1, 7, 7), np.float32),
                       io.BytesIO())


@pytest.mark.parametrize("upsample, size", [
    (lambda: nn.Upsample(scale_factor=2), (3, 4)), (lambda: nn.Upsample(scale_factor=(1.5, 2.5)), (5, 4)),
    (lambda: nn.Upsample(size=(7, 5)), (3, 4)), (lambda: nn.Upsample(size=(2, 3)), (5, 7)),
    (lambda: nn.Upsample(size=(7, 5), mode="nearest-exact"), (3, 4)),
    (lambda: nn.Upsample(scale_factor=1.7, mode="nearest-exact"), (5, 4)),
    (lambda: nn.Upsample(scale_factor=1.7, recompute_scale_factor=True), (5, 4)),
    (lambda: nn.Upsample(size=11), (4,)), (lambda: nn.Upsample(scale_factor=3, mode="nearest-exact"), (4,)),
])
def test_nearest_upsampling(upsample, size):
    x = normal(np.random.default_rng(6), 2, 3, *size)
    assert_matches(upsample(), x, [x, np.concatenate([x, x])], dynamic_axes={"input": [0], "output": [0]})


def trained_batch_norm(layer, shape):
    """Running statistics away from 0 and 1, and affine parameters away from 1 and 0."""
    rng = np.random.default_rng(7)
    for _ in range(3):
        layer(gn.tensor(2 + 3 * normal(rng, *shape)))
    if layer.affine:
        layer.weight.data.numpy()[...] = normal(rng, layer.num_features)
        layer.bias.data.numpy()[...] = normal(rng, layer.num_features)
    return layer


@pytest.mark.parametrize("layer, shape", [
    (lambda: nn.BatchNorm1d(4), (8, 4)), (lambda: nn.BatchNorm1d(4, affine=False), (8, 4, 5)),
    (lambda: nn.BatchNorm2d(3, eps=1e-3), (4, 3, 5, 5)),
])
def test_batch_norm_in_eval_mode(layer, shape):
    model = trained_batch_norm(layer(), shape)
    assert_matches(model, normal(np.random.default_rng(8), *shape))
    assert model.training  # the export traced in eval mode and gave the model back its mode


def test_batch_norm_without_running_statistics_is_refused():
    with pytest.raises(ExportError, match=r"model \(BatchNorm1d\) has no running statistics"):
        gn.onnx.export(nn.BatchNorm1d(3, track_running_stats=False), np.zeros((2, 3), np.float32), io.BytesIO())


def test_a_small_cnn_matches_for_any_batch_size():
    gn.manual_seed(9)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), trained_batch_norm(nn.BatchNorm2d(4), (2, 4, 8, 8)), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout2d(0.2), nn.Conv2d(4, 8, 3, padding="same", groups=2), nn.ReLU(),
        nn.Upsample(scale_factor=2), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3),
        nn.Linear(8, 10), nn.LogSoftmax(dim=1))
    x = normal(np.random.default_rng(9), 5, 1, 8, 8)
    assert_matches(model, x[:1], [x, x[:2]], input_names=["image"], output_names=["log_probabilities"],
                   dynamic_axes={"image": {0: "N"}, "log_probabilities": {0: "N"}})


@pytest.mark.parametrize("layer", [
    lambda: nn.LayerNorm(6), lambda: nn.LayerNorm((3, 6), eps=1e-3), lambda: nn.LayerNorm(6, elementwise_affine=False),
    lambda: nn.LayerNorm(6, bias=False)])
def test_layer_norm(layer):
    module = layer()
    for parameter in module.parameters():
        parameter.data.numpy()[...] = normal(np.random.default_rng(10), *parameter.shape)
    assert_matches(module, normal(np.random.default_rng(11), 4, 3, 6))


def test_embedding_takes_integer_indices():
    gn.manual_seed(12)
    model = nn.Sequential(nn.Embedding(20, 4, padding_idx=0), nn.Flatten(), nn.Linear(12, 2))
    indices = np.random.default_rng(12).integers(0, 20, (6, 3))
    proto, session = exported(model, indices[:1], dynamic_axes={"input": {0: "N"}})
    assert proto.graph.input[0].type.tensor_type.elem_type == 7  # int64
    with nn.evaluating(model):
        expected = model(gn.tensor(indices)).numpy()
    np.testing.assert_allclose(session.run(None, {"input": indices})[0], expected, **TOLERANCE)


# ------------------------------------------------------------------------------------------ recurrent layers

@pytest.mark.parametrize("seed", range(12))
def test_random_recurrent_layers_match(seed):
    """LSTM, GRU, RNN (tanh, relu) with random sizes, layers, directions, batch_first and bias: output, h_n (and
    c_n) as the graph's outputs; trained in float32 with dropout between layers (the identity in eval mode)."""
    rng = np.random.default_rng(200 + seed)
    gn.manual_seed(seed)
    cls = (nn.LSTM, nn.GRU, nn.RNN)[seed % 3]
    options = dict(num_layers=int(rng.integers(1, 4)), bidirectional=bool(rng.random() < 0.5),
                   batch_first=bool(rng.random() < 0.5), bias=bool(rng.random() < 0.8))
    if options["num_layers"] > 1:
        options["dropout"] = 0.2
    if cls is nn.RNN:
        options["nonlinearity"] = "relu" if seed % 2 else "tanh"
    input_size, hidden = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    layer = cls(input_size, hidden, **options)
    T, N = int(rng.integers(1, 7)), int(rng.integers(1, 4))
    x = normal(rng, *((N, T) if options["batch_first"] else (T, N)), input_size)
    names = ["output", "h_n", "c_n"] if cls is nn.LSTM else ["output", "h_n"]
    batch = 0 if options["batch_first"] else 1
    longer = np.concatenate([x, x], axis=1 - batch)  # another sequence length, another batch size
    longer = np.concatenate([longer, longer[:1] if batch == 0 else longer[:, :1]], axis=batch)
    assert_matches(layer, x, [x, longer], output_names=names,
                   dynamic_axes={"input": {0: "A", 1: "B"}, "output": {0: "A", 1: "B"}, "h_n": {1: "N"},
                                 "c_n": {1: "N"}})


@pytest.mark.parametrize("cell", [lambda: nn.LSTMCell(4, 3), lambda: nn.GRUCell(4, 5, bias=False),
                                  lambda: nn.RNNCell(4, 2), lambda: nn.RNNCell(4, 3, nonlinearity="relu")])
def test_recurrent_cells_take_one_step(cell):
    gn.manual_seed(14)
    x = normal(np.random.default_rng(14), 3, 4)
    names = ["h", "c"] if isinstance(cell(), nn.LSTMCell) else ["h"]
    assert_matches(cell(), x, [x, np.concatenate([x, x])], output_names=names,
                   dynamic_axes={name: {0: "N"} for name in ["input", *names]})


def test_the_gate_orders_are_converted():
    """One LSTM and one GRU step from zero states, by hand in NumPy with torch's gate order, against onnxruntime:
    a swapped pair of gates would not match."""
    rng = np.random.default_rng(13)
    x = normal(rng, 1, 2, 3)
    sigmoid = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    lstm = nn.LSTM(3, 4)
    i, f, g, o = np.split(x[0] @ lstm.weight_ih_l0.numpy().T + lstm.bias_ih_l0.numpy() + lstm.bias_hh_l0.numpy(), 4,
                          axis=1)
    c = sigmoid(i) * np.tanh(g)
    _, session = exported(lstm, x)
    np.testing.assert_allclose(session.run(None, {"input": x})[1][0], sigmoid(o) * np.tanh(c), **TOLERANCE)
    gru = nn.GRU(3, 4)
    r, z, n = np.split(x[0] @ gru.weight_ih_l0.numpy().T + gru.bias_ih_l0.numpy(), 3, axis=1)
    hr, hz, hn = np.split(np.broadcast_to(gru.bias_hh_l0.numpy(), (2, 12)), 3, axis=1)
    n = np.tanh(n + sigmoid(r + hr) * hn)  # linear_before_reset: r multiplies (h·W_hnᵀ + b_hn)
    _, session = exported(gru, x)
    np.testing.assert_allclose(session.run(None, {"input": x})[1][0], (1 - sigmoid(z + hz)) * n, **TOLERANCE)


def test_a_recurrent_classifier_is_the_models_end():
    """A layer after a recurrent one receives a tuple: refused by name (take the output in a model of one's own)."""
    model = nn.Sequential(nn.LSTM(3, 4), nn.Linear(4, 2))
    with pytest.raises(ExportError, match=r"model.1 \(Linear\) receives a tuple"):
        gn.onnx.export(model, np.zeros((5, 2, 3), np.float32), io.BytesIO())


# ------------------------------------------------------------------------------------------ what is refused

class Doubler(nn.Module):
    def forward(self, x):
        return x * 2


@pytest.mark.parametrize("model, message", [
    (lambda: nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.ReLU(), Doubler())),
     r"model.1.1 \(Doubler\) has no ONNX mapping; glassnet exports ActivationLayer, .*, Upsample"),
    (lambda: nn.MultiheadAttention(4, 2), r"model \(MultiheadAttention\) has no ONNX mapping"),
    (lambda: nn.Sequential(nn.ModuleList([nn.ReLU()])), r"model.0 \(ModuleList\) has no ONNX mapping"),
    (lambda: nn.Sequential(nn.ActivationLayer().__class__()), r"model.0 \(ActivationLayer\) applies"),
    (lambda: nn.MaxPool2d(2, return_indices=True), r"model \(MaxPool2d\) returns indices"),
    (lambda: nn.Conv2d(4, 2, 3), r"model \(Conv2d\) receives shape \(4, 6, 6\); the export takes batched input "
                                 r"\(N, C, H, W\)"),
])
def test_a_module_without_an_onnx_mapping_is_named(model, message):
    module = model()
    example = np.zeros((4, 6, 6) if isinstance(module, nn.Conv2d) else (2, 4, 4, 4), np.float32)
    if isinstance(module, nn.Sequential) and isinstance(module[0], nn.ActivationLayer):
        module[0].activation = gn.ops.Activation("cube", lambda z: z ** 3, lambda g, z, a: 3 * g * z * z)
    with pytest.raises(ExportError, match=message):
        gn.onnx.export(module, example if not isinstance(module, nn.MultiheadAttention) else example[0],
                       io.BytesIO())


@pytest.mark.parametrize("layer, message", [
    (lambda: nn.Conv2d(2, 2, 3, padding=1, padding_mode="reflect"),
     r"model \(Conv2d\) pads with padding_mode='reflect': only zero padding exports"),
    (lambda: nn.LSTM(4, 4, proj_size=2), r"model \(LSTM\) has proj_size=2: ONNX's LSTM has no projection"),
])
def test_settings_without_an_onnx_form_are_refused(layer, message):
    """Settings ONNX has no operator for (a padding mode, LSTM projections) are refused rather than exported
    wrong."""
    module = layer()
    example = gn.zeros(1, 2, 5, 5) if isinstance(module, nn.Conv2d) else gn.zeros(3, 1, 4)
    with pytest.raises(ExportError, match=message):
        gn.onnx.export(module, example, io.BytesIO())


def test_hooks_and_an_instances_own_forward_are_refused():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    model[1].register_forward_hook(lambda module, args, out: out * 0)
    with pytest.raises(ExportError, match=r"model.1 \(ReLU\) has forward hooks"):
        gn.onnx.export(model, np.zeros((1, 2), np.float32), io.BytesIO())
    model = nn.Sequential(nn.Linear(2, 2))
    model[0].forward = lambda x: x
    with pytest.raises(ExportError, match=r"model.0 \(Linear\) has a forward of its own"):
        gn.onnx.export(model, np.zeros((1, 2), np.float32), io.BytesIO())


def test_the_example_must_have_the_models_dtype_and_the_file_is_written(tmp_path):
    model = nn.Sequential(nn.Linear(2, 1))
    with pytest.raises(ExportError, match="the example input is float64 but the model's parameters are float32"):
        gn.onnx.export(model, np.zeros((1, 2)), tmp_path / "m.onnx")
    proto = gn.onnx.export(model, gn.zeros(1, 2), tmp_path / "m.onnx")
    assert (tmp_path / "m.onnx").read_bytes() == proto.SerializeToString()
    assert [i.name for i in proto.graph.input] == ["input"] and [o.name for o in proto.graph.output] == ["output"]
    assert [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim] == [1, 2]  # static without
    assert proto.opset_import[0].version == 17                                             # dynamic_axes
