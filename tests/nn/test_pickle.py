"""Every module class of glassnet.nn pickles and deep-copies with torch's semantics (what Dask, joblib and
copy.deepcopy need): the copy has its own arrays, the same settings and the same outputs, after a training step."""
from __future__ import annotations

import copy
import inspect
import pickle

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn


def rand(*shape):
    return gn.tensor(np.random.default_rng(sum(shape)).normal(size=shape))


def labels(n, classes):
    return gn.tensor(np.arange(n) % classes)


def sequence():
    return rand(5, 2, 4)


def encoder_layer():
    return nn.TransformerEncoderLayer(4, 2, 8, dropout=0.1)


def decoder_layer():
    return nn.TransformerDecoderLayer(4, 2, 8, dropout=0.1)


def probabilities():
    return gn.tensor(np.full((3, 4), 0.25))


# class name → (the module, its inputs); every public Module class in glassnet.nn has an entry
EXAMPLES = {
    "Module": (nn.Module, None),
    "Sequential": (lambda: nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.Tanh()), lambda: [rand(6, 3)]),
    "ModuleList": (lambda: nn.ModuleList([nn.Linear(2, 2), nn.ELU(0.5)]), None),
    "ModuleDict": (lambda: nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.GELU("tanh")}), None),
    "ParameterList": (lambda: nn.ParameterList([nn.Parameter(np.ones(3))]), None),
    "ParameterDict": (lambda: nn.ParameterDict({"w": nn.Parameter(np.ones(3))}), None),
    "Linear": (lambda: nn.Linear(3, 2), lambda: [rand(4, 3)]),
    "Identity": (nn.Identity, lambda: [rand(2, 3)]),
    "Flatten": (lambda: nn.Flatten(1, 2), lambda: [rand(2, 3, 4, 5)]),
    "Unflatten": (lambda: nn.Unflatten(1, (2, 3)), lambda: [rand(2, 6)]),
    "Dropout": (lambda: nn.Dropout(0.3), lambda: [rand(4, 5)]),
    "Dropout2d": (lambda: nn.Dropout2d(0.3), lambda: [rand(2, 3, 4, 4)]),
    "LayerNorm": (lambda: nn.LayerNorm(5), lambda: [rand(3, 5)]),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3), lambda: [rand(6, 3)]),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(3), lambda: [rand(2, 3, 4, 4)]),
    "Conv1d": (lambda: nn.Conv1d(2, 4, 3, padding=1), lambda: [rand(2, 2, 7)]),
    "Conv2d": (lambda: nn.Conv2d(2, 4, 3, stride=2, groups=2), lambda: [rand(2, 2, 7, 7)]),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(2, 3, 3, stride=2), lambda: [rand(2, 2, 4, 4)]),
    "MaxPool1d": (lambda: nn.MaxPool1d(2), lambda: [rand(2, 3, 8)]),
    "MaxPool2d": (lambda: nn.MaxPool2d(2), lambda: [rand(2, 3, 6, 6)]),
    "AvgPool1d": (lambda: nn.AvgPool1d(3, 2), lambda: [rand(2, 3, 9)]),
    "AvgPool2d": (lambda: nn.AvgPool2d(2), lambda: [rand(2, 3, 6, 6)]),
    "AdaptiveAvgPool1d": (lambda: nn.AdaptiveAvgPool1d(3), lambda: [rand(2, 3, 7)]),
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d((2, 3)), lambda: [rand(2, 3, 7, 7)]),
    "Upsample": (lambda: nn.Upsample(scale_factor=2), lambda: [rand(2, 3, 4, 4)]),
    "Embedding": (lambda: nn.Embedding(10, 3, padding_idx=0), lambda: [labels(6, 10)]),
    "RNNBase": (lambda: nn.RNNBase("LSTM", 4, 3), lambda: [sequence()]),
    "RNN": (lambda: nn.RNN(4, 3, num_layers=2, nonlinearity="relu"), lambda: [sequence()]),
    "LSTM": (lambda: nn.LSTM(4, 3, bidirectional=True), lambda: [sequence()]),
    "GRU": (lambda: nn.GRU(4, 3, batch_first=True), lambda: [sequence()]),
    "RNNCellBase": (lambda: nn.RNNCellBase("GRU", 4, 3), lambda: [rand(2, 4)]),
    "RNNCell": (lambda: nn.RNNCell(4, 3), lambda: [rand(2, 4)]),
    "LSTMCell": (lambda: nn.LSTMCell(4, 3), lambda: [rand(2, 4)]),
    "GRUCell": (lambda: nn.GRUCell(4, 3), lambda: [rand(2, 4)]),
    "MultiheadAttention": (lambda: nn.MultiheadAttention(4, 2), lambda: [sequence()] * 3),
    "TransformerEncoderLayer": (encoder_layer, lambda: [sequence()]),
    "TransformerEncoder": (lambda: nn.TransformerEncoder(encoder_layer(), 2), lambda: [sequence()]),
    "TransformerDecoderLayer": (decoder_layer, lambda: [sequence(), sequence()]),
    "TransformerDecoder": (lambda: nn.TransformerDecoder(decoder_layer(), 2), lambda: [sequence(), sequence()]),
    "Transformer": (lambda: nn.Transformer(4, 2, 1, 1, 8, activation="gelu"), lambda: [sequence(), sequence()]),
    "PositionalEncoding": (lambda: nn.PositionalEncoding(4, max_len=10), lambda: [sequence()]),
    "ActivationLayer": (lambda: nn.ActivationLayer("leaky_relu", negative_slope=0.3), lambda: [rand(3, 4)]),
    "ReLU": (nn.ReLU, lambda: [rand(3, 4)]),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), lambda: [rand(3, 4)]),
    "Sigmoid": (nn.Sigmoid, lambda: [rand(3, 4)]),
    "Tanh": (nn.Tanh, lambda: [rand(3, 4)]),
    "GELU": (lambda: nn.GELU("tanh"), lambda: [rand(3, 4)]),
    "SiLU": (nn.SiLU, lambda: [rand(3, 4)]),
    "Softplus": (lambda: nn.Softplus(2.0, 5.0), lambda: [rand(3, 4)]),
    "ELU": (lambda: nn.ELU(0.7), lambda: [rand(3, 4)]),
    "Softmax": (lambda: nn.Softmax(0), lambda: [rand(3, 4)]),
    "LogSoftmax": (lambda: nn.LogSoftmax(1), lambda: [rand(3, 4)]),
    "Loss": (nn.Loss, lambda: [rand(3, 4), rand(3, 4)]),
    "MSELoss": (lambda: nn.MSELoss(reduction="sum"), lambda: [rand(3, 4), rand(3, 4)]),
    "HalfMSELoss": (nn.HalfMSELoss, lambda: [rand(3, 4), rand(3, 4)]),
    "L1Loss": (nn.L1Loss, lambda: [rand(3, 4), rand(3, 4)]),
    "BCELoss": (lambda: nn.BCELoss(weight=gn.tensor(np.full(4, 2.0))), lambda: [probabilities(), probabilities()]),
    "BCEWithLogitsLoss": (lambda: nn.BCEWithLogitsLoss(pos_weight=gn.tensor(np.full(4, 3.0))),
                          lambda: [rand(3, 4), probabilities()]),
    "CrossEntropyLoss": (lambda: nn.CrossEntropyLoss(label_smoothing=0.1), lambda: [rand(3, 4), labels(3, 4)]),
    "NLLLoss": (nn.NLLLoss, lambda: [rand(3, 4), labels(3, 4)]),
    "CategoricalCrossEntropyLoss": (nn.CategoricalCrossEntropyLoss, lambda: [probabilities(), labels(3, 4)]),
    "SmoothL1Loss": (lambda: nn.SmoothL1Loss(beta=0.5), lambda: [rand(3, 4), rand(3, 4)]),
    "HuberLoss": (lambda: nn.HuberLoss(delta=0.5), lambda: [rand(3, 4), rand(3, 4)]),
    "KLDivLoss": (lambda: nn.KLDivLoss(reduction="batchmean"), lambda: [rand(3, 4), probabilities()]),
}


def public_module_classes() -> set[str]:
    return {name for name in nn.__all__ if inspect.isclass(getattr(nn, name)) and issubclass(getattr(nn, name),
                                                                                              nn.Module)}


def test_every_public_module_class_has_an_example():
    assert set(EXAMPLES) == public_module_classes()


def outputs(module, inputs):
    """The module's outputs in eval mode (no dropout, running statistics), flattened to a list of arrays."""
    if inputs is None:
        return []
    with nn.evaluating(module), gn.no_grad():
        result = module(*inputs())
    flat, stack = [], [result]
    while stack:
        item = stack.pop()
        if isinstance(item, (tuple, list)):
            stack.extend(item)
        else:
            flat.append(item.numpy())
    return flat


def train_step(module, inputs):
    """One forward and backward in training mode: batch statistics, dropout masks, gradients and plans exist."""
    if inputs is None or not list(module.parameters()):
        return
    result = module(*inputs())
    result = result[0] if isinstance(result, tuple) else result
    result.sum().backward()


@pytest.mark.parametrize("copier", [lambda m: pickle.loads(pickle.dumps(m)), copy.deepcopy], ids=["pickle", "deepcopy"])
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_module_pickles_and_deep_copies(name, copier):
    build, inputs = EXAMPLES[name]
    gn.manual_seed(0)
    module = build()
    train_step(module, inputs)
    copied = copier(module)
    assert type(copied) is type(module) and repr(copied) == repr(module) and copied.training == module.training
    original, state = module.state_dict(), copied.state_dict()
    assert list(state) == list(original)
    for key, value in original.items():
        np.testing.assert_array_equal(state[key].numpy(), value.numpy())
        assert not np.shares_memory(state[key].numpy(), value.numpy()), key
    for mine, theirs in zip(outputs(copied, inputs), outputs(module, inputs)):
        np.testing.assert_array_equal(mine, theirs)
    for parameter in copied.parameters():  # the copy is independent of the original
        parameter.data.numpy()[...] = 0
    assert all(np.array_equal(value.numpy(), original[key].numpy()) for key, value in module.state_dict().items())


def test_a_built_in_activation_comes_back_as_the_same_object():
    """Copies of activation layers keep the exact built-in activation (a Sequential's fused path depends on it)."""
    for layer in (nn.ReLU(), nn.LeakyReLU(0.3), nn.GELU("tanh"), nn.ActivationLayer("elu", alpha=0.5)):
        assert pickle.loads(pickle.dumps(layer)).activation is layer.activation
        assert copy.deepcopy(layer.activation) is layer.activation
    made = gn.ops.Activation("mine", np.tanh, np.multiply)  # one made by hand pickles as its functions
    assert pickle.loads(pickle.dumps(made)) == made
