"""ONNX export with PyTorch's call, ``gn.onnx.export(model, args, f, input_names=…, output_names=…,
dynamic_axes=…)``: a module tree as one ONNX graph (opset 17) whose outputs in onnxruntime match glassnet's.

``onnx`` is an optional extra (``glassnet[onnx]``), imported here only, and the core never imports this module. The
model is traced child by child on the example input in eval mode (dropout is the identity, batch normalization
uses its running statistics), which gives every layer the shape of what it receives; each layer becomes nodes by
its class:

- Sequential (its children in turn); Linear (Gemm, or MatMul for inputs of more than 2 dims); the activation
  layers ReLU, Tanh, Sigmoid, LeakyReLU, ELU, Softplus, GELU, SiLU (and ActivationLayer by name), Softmax,
  LogSoftmax; Identity, Dropout and Dropout2d (nothing); Flatten, Unflatten (Reshape);
- Conv1d, Conv2d (stride, padding including "same"/"valid", dilation, groups), ConvTranspose2d, MaxPool1d/2d,
  AvgPool1d/2d, AdaptiveAvgPool1d/2d (GlobalAveragePool for a 1-sized output, AveragePool where the input's size
  is a multiple of the output's; unequal windows have no exact op and are refused), BatchNorm1d/2d (with running
  statistics), LayerNorm (LayerNormalization), Upsample (Resize, nearest and nearest-exact), Embedding (Gather);
- RNN, LSTM and GRU (batch_first, bidirectional, several layers stacked) and their cells, from zero initial states:
  their outputs are the graph's outputs (output, h_n[, c_n]; a cell's h'[, c']). ONNX orders the gates i, o, f, c
  (LSTM) and z, r, h (GRU) where torch orders i, f, g, o and r, z, n, and GRU runs with linear_before_reset=1,
  torch's formula.

Any other module (a container without a forward, attention, a class of one's own, a module with forward hooks or
its own ``forward``) is refused with an ``ExportError`` that names it and its place in the model.
"""
from __future__ import annotations

import math
import os
from typing import Any, BinaryIO, Callable, Mapping, Sequence

import numpy as np

from . import nn
from .ops import conv as K
from .tensor import Tensor, as_tensor

__all__ = ["export", "ExportError", "OPSET"]

OPSET = 17
IR_VERSION = 8  # readable by the onnxruntime releases of the last years


class ExportError(ValueError):
    """A model, or a layer of it, that has no ONNX form (or not for this input)."""


class _Graph:
    """The nodes and initializers being built; every value's name is unique. ``dtype`` is the float type of the
    graph's computation (the model's parameters')."""

    def __init__(self, dtype: np.dtype) -> None:
        from onnx import helper, numpy_helper
        self.helper, self.numpy_helper = helper, numpy_helper
        self.dtype = dtype
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.used: set[str] = set()

    def fresh(self, hint: str) -> str:
        name, n = hint, 1
        while name in self.used:
            n += 1
            name = f"{hint}_{n}"
        self.used.add(name)
        return name

    def add(self, op: str, inputs: Sequence[str], hint: str, outputs: int = 1, **attributes: Any) -> Any:
        """One node; its output name (or names, when ``outputs`` > 1)."""
        names = [self.fresh(f"{hint}.{op.lower()}" if outputs == 1 else f"{hint}.{op.lower()}.{i}")
                 for i in range(outputs)]
        self.nodes.append(self.helper.make_node(op, list(inputs), names, name=names[0], **attributes))
        return names[0] if outputs == 1 else names

    def array(self, value: Any, hint: str, dtype: Any = None) -> str:
        """An initializer: float data in the graph's dtype, other data in ``dtype`` (or as given)."""
        array = np.asarray(value)
        if dtype is not None:
            array = array.astype(dtype)
        elif array.dtype.kind == "f":
            array = array.astype(self.dtype)
        name = self.fresh(hint)
        self.initializers.append(self.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def ints(self, values: Sequence[int], hint: str) -> str:
        return self.array(np.asarray(values, np.int64), hint, np.int64)

    def scalar(self, value: float, hint: str) -> str:
        return self.array(np.asarray(value, self.dtype), hint)


Converter = Callable[[_Graph, Any, str, np.ndarray, Any, str], Any]
_CONVERTERS: dict[type, Converter] = {}


def _converts(*classes: type) -> Callable[[Converter], Converter]:
    def register(function: Converter) -> Converter:
        for cls in classes:
            _CONVERTERS[cls] = function
        return function
    return register


def _batched(layer: Any, x: np.ndarray, where: str, dims: int) -> None:
    if x.ndim != dims + 2:
        raise ExportError(f"{where} ({type(layer).__name__}) receives shape {x.shape}; the export takes batched "
                          f"input (N, C, {'L' if dims == 1 else 'H, W'})")


def _parameter(tensor: Tensor | None) -> np.ndarray | None:
    return None if tensor is None else tensor.numpy()


# ------------------------------------------------------------------------------------------ dense layers

@_converts(nn.Linear)
def _linear(g: _Graph, layer: nn.Linear, x: str, v: np.ndarray, out: Any, where: str) -> str:
    weight, bias = _parameter(layer.weight), _parameter(layer.bias)
    if v.ndim == 2:
        inputs = [x, g.array(weight, f"{where}.weight")]
        if bias is not None:
            inputs.append(g.array(bias, f"{where}.bias"))
        return g.add("Gemm", inputs, where, transB=1)
    y = g.add("MatMul", [x, g.array(weight.T, f"{where}.weight_t")], where)
    return y if bias is None else g.add("Add", [y, g.array(bias, f"{where}.bias")], where)


@_converts(nn.Identity, nn.Dropout, nn.Dropout2d)
def _identity(g: _Graph, layer: Any, x: str, v: np.ndarray, out: Any, where: str) -> str:
    return x


def _reshape(g: _Graph, x: str, shape: Sequence[int], where: str) -> str:
    return g.add("Reshape", [x, g.ints(shape, f"{where}.shape")], where)


@_converts(nn.Flatten)
def _flatten(g: _Graph, layer: nn.Flatten, x: str, v: np.ndarray, out: Any, where: str) -> str:
    """Reshape to (0, …, −1, trailing sizes): the dims before ``start_dim`` copied (0), so a dynamic batch stays."""
    start = layer.start_dim % max(v.ndim, 1)
    end = layer.end_dim % max(v.ndim, 1)
    return _reshape(g, x, [0] * start + [-1] + list(v.shape[end + 1:]), where)


@_converts(nn.Unflatten)
def _unflatten(g: _Graph, layer: nn.Unflatten, x: str, v: np.ndarray, out: Any, where: str) -> str:
    dim = layer.dim % v.ndim
    return _reshape(g, x, [0] * dim + list(layer.unflattened_size) + list(v.shape[dim + 1:]), where)


# ------------------------------------------------------------------------------------------ activations

def _gelu(g: _Graph, x: str, where: str, approximate: str = "none") -> str:
    """½·x·(1 + erf(x/√2)), or with tanh(√(2/π)(x + 0.044715x³)) in place of the erf."""
    if approximate == "tanh":
        cube = g.add("Mul", [x, g.add("Mul", [x, x], where)], where)
        inner = g.add("Add", [x, g.add("Mul", [cube, g.scalar(0.044715, f"{where}.c")], where)], where)
        core = g.add("Tanh", [g.add("Mul", [inner, g.scalar(math.sqrt(2 / math.pi), f"{where}.k")], where)], where)
    else:
        scaled = g.add("Mul", [x, g.scalar(1 / math.sqrt(2), f"{where}.k")], where)
        if g.dtype == np.float64:  # onnxruntime has Erf in float32 only: erf to float32's precision (~1e-7)
            scaled = g.add("Cast", [scaled], where, to=1)
        core = g.add("Erf", [scaled], where)
        if g.dtype == np.float64:
            core = g.add("Cast", [core], where, to=11)
    half_x = g.add("Mul", [x, g.scalar(0.5, f"{where}.half")], where)
    return g.add("Mul", [half_x, g.add("Add", [core, g.scalar(1.0, f"{where}.one")], where)], where)


def _softplus(g: _Graph, x: str, where: str, beta: float = 1.0, threshold: float = 20.0) -> str:
    """log(1 + e^min(βx, threshold))/β, and x itself where βx > threshold (torch's rule), written out: onnxruntime
    has no Softplus in float64."""
    bx = g.add("Mul", [x, g.scalar(beta, f"{where}.beta")], where)
    limit = g.scalar(threshold, f"{where}.threshold")
    exp = g.add("Exp", [g.add("Min", [bx, limit], where)], where)
    smooth = g.add("Div", [g.add("Log", [g.add("Add", [exp, g.scalar(1.0, f"{where}.one")], where)], where),
                           g.scalar(beta, f"{where}.beta")], where)
    return g.add("Where", [g.add("Greater", [bx, limit], where), x, smooth], where)


def _elu(g: _Graph, x: str, where: str, alpha: float = 1.0) -> str:
    """Elu; written out as x > 0 ? x : α(e^min(x, 0) − 1) in float64, which onnxruntime's Elu does not take."""
    if g.dtype != np.float64:
        return g.add("Elu", [x], where, alpha=float(alpha))
    below = g.add("Sub", [g.add("Exp", [g.add("Min", [x, g.scalar(0.0, f"{where}.zero")], where)], where),
                          g.scalar(1.0, f"{where}.one")], where)
    scaled = g.add("Mul", [below, g.scalar(alpha, f"{where}.alpha")], where)
    return g.add("Where", [g.add("Greater", [x, g.scalar(0.0, f"{where}.zero")], where), x, scaled], where)


_ELEMENTWISE: dict[str, Callable[..., str]] = {
    "identity": lambda g, x, where: x,
    "relu": lambda g, x, where: g.add("Relu", [x], where),
    "tanh": lambda g, x, where: g.add("Tanh", [x], where),
    "sigmoid": lambda g, x, where: g.add("Sigmoid", [x], where),
    "leaky_relu": lambda g, x, where, negative_slope=0.01: g.add("LeakyRelu", [x], where,
                                                                 alpha=float(negative_slope)),
    "elu": _elu,
    "silu": lambda g, x, where: g.add("Mul", [x, g.add("Sigmoid", [x], where)], where),
    "gelu": _gelu,
    "softplus": _softplus,
}
_ELEMENTWISE["linear"] = _ELEMENTWISE["identity"]


@_converts(nn.ActivationLayer, nn.ReLU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU, nn.ELU, nn.SiLU, nn.GELU, nn.Softplus)
def _activation(g: _Graph, layer: nn.ActivationLayer, x: str, v: np.ndarray, out: Any, where: str) -> str:
    activation = layer.activation
    if activation.options is None or activation.name not in _ELEMENTWISE:
        raise ExportError(f"{where} ({type(layer).__name__}) applies the activation {activation.name!r}, made by "
                          f"hand: it has no ONNX mapping")
    return _ELEMENTWISE[activation.name](g, x, where, **dict(activation.options))


@_converts(nn.Softmax, nn.LogSoftmax)
def _softmax(g: _Graph, layer: nn.Softmax, x: str, v: np.ndarray, out: Any, where: str) -> str:
    if layer.dim is None:
        raise ExportError(f"{where} ({type(layer).__name__}) has dim=None; give the dim to export it")
    return g.add(type(layer).__name__, [x], where, axis=int(layer.dim))


# ------------------------------------------------------------------------------------------ convolution, pooling

def _pads(pairs: Sequence[tuple[int, int]]) -> list[int]:
    """ONNX's pads: every axis's start, then every axis's end."""
    return [before for before, _ in pairs] + [after for _, after in pairs]


def _zero_padded(layer: Any, where: str) -> None:
    if getattr(layer, "padding_mode", "zeros") != "zeros":
        raise ExportError(f"{where} ({type(layer).__name__}) pads with padding_mode={layer.padding_mode!r}: only "
                          f"zero padding exports")


@_converts(nn.Conv1d, nn.Conv2d)
def _conv(g: _Graph, layer: Any, x: str, v: np.ndarray, out: Any, where: str) -> str:
    _batched(layer, v, where, layer.dims)
    _zero_padded(layer, where)
    pads = K.conv_padding(where, layer.padding, layer.kernel_size, layer.stride, layer.dilation)
    inputs = [x, g.array(_parameter(layer.weight), f"{where}.weight")]
    if layer.bias is not None:
        inputs.append(g.array(_parameter(layer.bias), f"{where}.bias"))
    return g.add("Conv", inputs, where, kernel_shape=list(layer.kernel_size), strides=list(layer.stride),
                 dilations=list(layer.dilation), group=layer.groups, pads=_pads(pads))


@_converts(nn.ConvTranspose2d)
def _conv_transpose(g: _Graph, layer: nn.ConvTranspose2d, x: str, v: np.ndarray, out: Any, where: str) -> str:
    _batched(layer, v, where, 2)
    _zero_padded(layer, where)
    inputs = [x, g.array(_parameter(layer.weight), f"{where}.weight")]
    if layer.bias is not None:
        inputs.append(g.array(_parameter(layer.bias), f"{where}.bias"))
    return g.add("ConvTranspose", inputs, where, kernel_shape=list(layer.kernel_size), strides=list(layer.stride),
                 dilations=list(layer.dilation), group=layer.groups, pads=list(layer.padding) * 2,
                 output_padding=list(layer.output_padding))


def _window(layer: Any, where: str, dilated: bool) -> dict[str, Any]:
    """kernel_shape, strides, pads (and dilations) of a pooling layer, as ONNX attributes."""
    dims = layer.dims
    padding = K.pair(f"{where}: padding", layer.padding, dims, minimum=0)
    attributes = dict(kernel_shape=list(K.pair(f"{where}: kernel_size", layer.kernel_size, dims)),
                      strides=list(K.pair(f"{where}: stride", layer.stride, dims)), pads=list(padding) * 2,
                      ceil_mode=int(layer.ceil_mode))
    if dilated:
        attributes["dilations"] = list(K.pair(f"{where}: dilation", layer.dilation, dims))
    return attributes


def _check_ceil_mode(layer: Any, v: np.ndarray, out: Any, where: str, attributes: dict[str, Any]) -> None:
    """In ceil mode torch drops a last window that would start in the right padding; ONNX's opset 17 keeps it."""
    if not layer.ceil_mode:
        return
    dilations = attributes.get("dilations", [1] * layer.dims)
    onnx_sizes = [math.ceil((n + 2 * p - d * (k - 1) - 1) / s) + 1 for n, k, s, p, d in
                  zip(v.shape[2:], attributes["kernel_shape"], attributes["strides"], attributes["pads"], dilations)]
    if tuple(onnx_sizes) != tuple(out.shape[2:]):
        raise ExportError(f"{where} ({type(layer).__name__}) in ceil mode gives {tuple(out.shape[2:])} for input "
                          f"{v.shape}, ONNX's pooling {tuple(onnx_sizes)}: a last window in the padding has no "
                          f"ONNX form")


@_converts(nn.MaxPool1d, nn.MaxPool2d)
def _max_pool(g: _Graph, layer: Any, x: str, v: np.ndarray, out: Any, where: str) -> str:
    _batched(layer, v, where, layer.dims)
    if layer.return_indices:
        raise ExportError(f"{where} ({type(layer).__name__}) returns indices: only the pooled values export")
    attributes = _window(layer, where, dilated=True)
    _check_ceil_mode(layer, v, out, where, attributes)
    return g.add("MaxPool", [x], where, **attributes)


@_converts(nn.AvgPool1d, nn.AvgPool2d)
def _avg_pool(g: _Graph, layer: Any, x: str, v: np.ndarray, out: Any, where: str) -> str:
    _batched(layer, v, where, layer.dims)
    attributes = _window(layer, where, dilated=False)
    _check_ceil_mode(layer, v, out, where, attributes)
    if layer.divisor_override is None:
        return g.add("AveragePool", [x], where, count_include_pad=int(layer.count_include_pad), **attributes)
    if layer.ceil_mode:
        raise ExportError(f"{where} (AvgPool2d) with divisor_override in ceil mode has no ONNX form")
    mean = g.add("AveragePool", [x], where, count_include_pad=1, **attributes)  # the sum over the window / its size
    window = math.prod(attributes["kernel_shape"])
    return g.add("Mul", [mean, g.scalar(window / layer.divisor_override, f"{where}.rescale")], where)


@_converts(nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d)
def _adaptive_avg_pool(g: _Graph, layer: Any, x: str, v: np.ndarray, out: Any, where: str) -> str:
    _batched(layer, v, where, layer.dims)
    sizes, wanted = v.shape[2:], tuple(out.shape[2:])
    if all(n == 1 for n in wanted):
        return g.add("GlobalAveragePool", [x], where)
    if any(n % m for n, m in zip(sizes, wanted)):
        raise ExportError(f"{where} ({type(layer).__name__}) pools input {tuple(sizes)} to {wanted}: windows of "
                          f"unequal sizes have no exact ONNX op (an input size that is a multiple of the output's "
                          f"exports as AveragePool)")
    kernel = [n // m for n, m in zip(sizes, wanted)]
    return g.add("AveragePool", [x], where, kernel_shape=kernel, strides=kernel)


@_converts(nn.Upsample)
def _upsample(g: _Graph, layer: nn.Upsample, x: str, v: np.ndarray, out: Any, where: str) -> str:
    """Resize: "nearest" is floor(out_index · in/out) (asymmetric, floor), "nearest-exact" floor((out_index + ½) ·
    in/out) (half_pixel, round_prefer_ceil)."""
    exact = layer.mode == "nearest-exact"
    attributes = dict(mode="nearest", coordinate_transformation_mode="half_pixel" if exact else "asymmetric",
                      nearest_mode="round_prefer_ceil" if exact else "floor")
    if layer.size is None and not layer.recompute_scale_factor:
        factors = layer.scale_factor if isinstance(layer.scale_factor, (tuple, list)) else \
            (layer.scale_factor,) * (v.ndim - 2)
        scales = g.array(np.array([1.0, 1.0, *factors], np.float32), f"{where}.scales", np.float32)
        return g.add("Resize", [x, "", scales], where, **attributes)
    batch_and_channels = g.add("Slice", [g.add("Shape", [x], where), g.ints([0], f"{where}.start"),
                                         g.ints([2], f"{where}.end")], where)
    sizes = g.add("Concat", [batch_and_channels, g.ints(out.shape[2:], f"{where}.sizes")], where, axis=0)
    return g.add("Resize", [x, "", "", sizes], where, **attributes)


# ------------------------------------------------------------------------------------------ normalization, lookup

@_converts(nn.BatchNorm1d, nn.BatchNorm2d)
def _batch_norm(g: _Graph, layer: Any, x: str, v: np.ndarray, out: Any, where: str) -> str:
    if layer.running_mean is None:
        raise ExportError(f"{where} ({type(layer).__name__}) has no running statistics (track_running_stats="
                          f"False): it normalizes by each batch's, which the export does not")
    C = layer.num_features
    scale = _parameter(layer.weight) if layer.affine else np.ones(C)
    shift = _parameter(layer.bias) if layer.affine else np.zeros(C)
    inputs = [x, g.array(scale, f"{where}.weight"), g.array(shift, f"{where}.bias"),
              g.array(_parameter(layer.running_mean), f"{where}.running_mean"),
              g.array(_parameter(layer.running_var), f"{where}.running_var")]
    return g.add("BatchNormalization", inputs, where, epsilon=float(layer.eps))


@_converts(nn.LayerNorm)
def _layer_norm(g: _Graph, layer: nn.LayerNorm, x: str, v: np.ndarray, out: Any, where: str) -> str:
    scale = _parameter(layer.weight) if layer.weight is not None else np.ones(layer.normalized_shape)
    inputs = [x, g.array(scale, f"{where}.weight")]
    if layer.bias is not None:
        inputs.append(g.array(_parameter(layer.bias), f"{where}.bias"))
    return g.add("LayerNormalization", inputs, where, axis=-len(layer.normalized_shape), epsilon=float(layer.eps))


@_converts(nn.Embedding)
def _embedding(g: _Graph, layer: nn.Embedding, x: str, v: np.ndarray, out: Any, where: str) -> str:
    return g.add("Gather", [g.array(_parameter(layer.weight), f"{where}.weight"), x], where, axis=0)


# ------------------------------------------------------------------------------------------ recurrent layers

_GATE_ORDER = {"RNN_TANH": [0], "RNN_RELU": [0], "LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2]}  # ONNX's from torch's


def _gates(array: np.ndarray, mode: str) -> np.ndarray:
    """torch's gate blocks along the first axis in ONNX's order."""
    blocks = np.split(array, len(_GATE_ORDER[mode]), axis=0)
    return np.concatenate([blocks[i] for i in _GATE_ORDER[mode]], axis=0)


def _recurrent_node(g: _Graph, mode: str, sequence: str, weights: Sequence[tuple[Tensor | None, ...]], hidden: int,
                    where: str) -> tuple[str, list[str]]:
    """One ONNX LSTM, GRU or RNN node over ``sequence`` (T, N, I) from zero states, with torch's (W_ih, W_hh, b_ih,
    b_hh) per direction: (Y (T, D, N, H), [Y_h (D, N, H)] or, for LSTM, [Y_h, Y_c])."""
    op = mode if mode in ("LSTM", "GRU") else "RNN"
    directions = len(weights)
    attributes: dict[str, Any] = dict(hidden_size=hidden, direction="bidirectional" if directions == 2 else "forward")
    if op == "GRU":
        attributes["linear_before_reset"] = 1  # torch's n = tanh(x·W_inᵀ + b_in + r ⊙ (h·W_hnᵀ + b_hn))
    if op == "RNN":
        attributes["activations"] = ["Relu" if mode == "RNN_RELU" else "Tanh"] * directions
    W = np.stack([_gates(_parameter(w[0]), mode) for w in weights])
    R = np.stack([_gates(_parameter(w[1]), mode) for w in weights])
    if weights[0][2] is None:
        B = np.zeros((directions, 2 * W.shape[1]))
    else:
        B = np.stack([np.concatenate([_gates(_parameter(w[2]), mode), _gates(_parameter(w[3]), mode)])
                      for w in weights])
    inputs = [sequence, g.array(W, f"{where}.W"), g.array(R, f"{where}.R"), g.array(B, f"{where}.B")]
    results = g.add(op, inputs, where, outputs=3 if op == "LSTM" else 2, **attributes)
    return results[0], results[1:]


@_converts(nn.RNNBase, nn.RNN, nn.LSTM, nn.GRU)
def _recurrent(g: _Graph, layer: Any, x: str, v: np.ndarray, out: Any, where: str) -> Any:
    """Each layer one ONNX node over the whole sequence; its Y (T, D, N, H) becomes the next layer's (T, N, D·H)."""
    name = type(layer).__name__
    if v.ndim != 3:
        raise ExportError(f"{where} ({name}) receives shape {v.shape}; the export takes batched sequences "
                          f"({'N, T' if layer.batch_first else 'T, N'}, {layer.input_size})")
    if getattr(layer, "proj_size", 0):
        raise ExportError(f"{where} ({name}) has proj_size={layer.proj_size}: ONNX's LSTM has no projection")
    directions = 2 if layer.bidirectional else 1
    sequence = g.add("Transpose", [x], where, perm=[1, 0, 2]) if layer.batch_first else x
    finals: list[list[str]] = [[], []] if layer.mode == "LSTM" else [[]]  # h_n (and c_n): (D, N, H) per layer
    for index in range(layer.num_layers):
        here = f"{where}.l{index}"
        weights = [layer._weights(index, direction) for direction in range(directions)]
        Y, last = _recurrent_node(g, layer.mode, sequence, weights, layer.hidden_size, here)
        for piece, state in zip(finals, last):
            piece.append(state)
        sequence = _reshape(g, g.add("Transpose", [Y], here, perm=[0, 2, 1, 3]), [0, 0, -1], here)
    output = g.add("Transpose", [sequence], where, perm=[1, 0, 2]) if layer.batch_first else sequence
    states = [pieces[0] if len(pieces) == 1 else g.add("Concat", pieces, where, axis=0) for pieces in finals]
    return (output, tuple(states)) if layer.mode == "LSTM" else (output, states[0])


@_converts(nn.RNNCellBase, nn.RNNCell, nn.LSTMCell, nn.GRUCell)
def _cell(g: _Graph, layer: Any, x: str, v: np.ndarray, out: Any, where: str) -> Any:
    """One step from zero states: the layer's node over a sequence of length 1, (N, I) → h' (N, H) (and c')."""
    if v.ndim != 2:
        raise ExportError(f"{where} ({type(layer).__name__}) receives shape {v.shape}; the export takes a batch "
                          f"(N, {layer.input_size})")
    step = g.add("Unsqueeze", [x, g.ints([0], f"{where}.axis")], where)
    weights = [(layer.weight_ih, layer.weight_hh, layer.bias_ih, layer.bias_hh)]
    _, last = _recurrent_node(g, layer.mode, step, weights, layer.hidden_size, where)
    states = [g.add("Squeeze", [state, g.ints([0], f"{where}.axis")], where) for state in last]  # (1, N, H)
    return tuple(states) if layer.mode == "LSTM" else states[0]


# ------------------------------------------------------------------------------------------ the walk

def _mappings() -> str:
    names = sorted({cls.__name__ for cls in _CONVERTERS} | {"Sequential"})
    return ", ".join(names)


def _trace(g: _Graph, module: Any, name: Any, value: Any, where: str) -> tuple[Any, Any]:
    """(names, values) after ``module``: ONNX names in the structure of glassnet's outputs."""
    cls = type(module)
    if module._forward_hooks or module._forward_pre_hooks:
        raise ExportError(f"{where} ({cls.__name__}) has forward hooks, which the export would leave out")
    if "forward" in vars(module):
        raise ExportError(f"{where} ({cls.__name__}) has a forward of its own, which the export cannot follow")
    if cls is nn.Sequential:
        for key, child in module.named_children():
            name, value = _trace(g, child, name, value, f"{where}.{key}")
        return name, value
    converter = _CONVERTERS.get(cls)
    if converter is None:
        raise ExportError(f"{where} ({cls.__name__}) has no ONNX mapping; glassnet exports {_mappings()}")
    if not isinstance(name, str):
        raise ExportError(f"{where} ({cls.__name__}) receives a tuple (the outputs of a recurrent layer): only one "
                          f"tensor can flow into a layer")
    output = module(value)
    return converter(g, module, name, value._data, output, where), output


def _flatten_outputs(names: Any, values: Any) -> list[tuple[str, np.ndarray]]:
    if isinstance(names, str):
        return [(names, values._data)]
    return [pair for n, v in zip(names, values) for pair in _flatten_outputs(n, v)]


def _axes(dynamic_axes: Mapping[str, Any] | None, name: str) -> dict[int, str]:
    """torch's dynamic_axes entry for ``name``: {axis: dim name} or a list of axes (named after the value)."""
    axes = (dynamic_axes or {}).get(name, {})
    return dict(axes) if isinstance(axes, Mapping) else {int(axis): f"{name}_dim_{axis}" for axis in axes}


def export(model: nn.Module, args: Any, f: str | os.PathLike | BinaryIO, *, input_names: Sequence[str] | None = None,
           output_names: Sequence[str] | None = None, dynamic_axes: Mapping[str, Any] | None = None,
           opset_version: int = OPSET) -> Any:
    """Write ``model`` run on ``args`` (an example input: a tensor or array, or a 1-tuple of one) to ``f`` as ONNX
    and return the ModelProto.

    input_names/output_names: the graph's ("input"; "output", or "output0", "output1", … for several outputs).
    dynamic_axes: torch's, e.g. ``{"input": {0: "N"}, "output": {0: "N"}}`` for any batch size; without it every
    dimension is the example's. Float input has the parameters' dtype; integer input (Embedding) is int64.
    """
    import onnx

    if opset_version != OPSET:
        raise ValueError(f"gn.onnx.export writes opset {OPSET}, not {opset_version}")
    if isinstance(args, tuple):
        if len(args) != 1:
            raise ExportError(f"gn.onnx.export takes one example input, got a tuple of {len(args)}")
        args = args[0]
    example = as_tensor(args)
    floats = [p._data.dtype for p in model.parameters() if p._data.dtype.kind == "f"]
    dtype = np.dtype(floats[0] if floats else (example._data.dtype if example._data.dtype.kind == "f" else
                                                np.float32))
    if example._data.dtype.kind == "f" and example._data.dtype != dtype:
        raise ExportError(f"the example input is {example._data.dtype} but the model's parameters are {dtype}")
    if example._data.dtype.kind in "iub":
        example = Tensor._wrap(example._data.astype(np.int64))
    graph = _Graph(dtype)
    input_name = (input_names or ["input"])[0]
    graph.used.add(input_name)
    with nn.evaluating(model):
        names, values = _trace(graph, model, input_name, example, "model")
    outputs = _flatten_outputs(names, values)
    output_names = list(output_names or (["output"] if len(outputs) == 1 else
                                         [f"output{i}" for i in range(len(outputs))]))
    if len(output_names) != len(outputs):
        raise ExportError(f"output_names has {len(output_names)} names for the model's {len(outputs)} outputs")
    elem = onnx.helper.np_dtype_to_tensor_dtype
    dynamic_input = bool(_axes(dynamic_axes, input_name))

    def info(name: str, array: np.ndarray, is_input: bool) -> Any:
        axes = _axes(dynamic_axes, name)
        shape = [axes.get(axis, n if is_input or not dynamic_input else None) for axis, n in enumerate(array.shape)]
        return onnx.helper.make_tensor_value_info(name, elem(array.dtype), shape)

    for (inner, array), outer in zip(outputs, output_names):
        graph.nodes.append(onnx.helper.make_node("Identity", [inner], [outer], name=f"{outer}.identity"))
    proto = onnx.helper.make_model(
        onnx.helper.make_graph(graph.nodes, type(model).__name__, [info(input_name, example._data, True)],
                               [info(name, array, False) for name, (_, array) in zip(output_names, outputs)],
                               initializer=graph.initializers),
        producer_name="glassnet", opset_imports=[onnx.helper.make_opsetid("", OPSET)])
    proto.ir_version = min(proto.ir_version, IR_VERSION)
    onnx.checker.check_model(proto)
    if isinstance(f, (str, os.PathLike)):
        onnx.save(proto, os.fspath(f))
    else:
        f.write(proto.SerializeToString())
    return proto
