"""Convolution layers with PyTorch's arguments, parameter layout and initialisation: ``Conv1d``, ``Conv2d``,
``ConvTranspose2d`` (the kernels are in ``ops/conv.py``)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..ops import conv as K
from ..tensor import Tensor, as_tensor, get_default_dtype
from . import functional as F
from . import init, placeholders
from .module import Module, Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d"]

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _positive(layer: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
    return int(value)


class _ConvNd(Module):
    """What the convolutions share: arguments, checks, parameters (weight, bias) and torch's
    ``reset_parameters``: weight by kaiming_uniform_(a=√5), i.e. U(−1/√fan_in, 1/√fan_in), bias the same."""

    dims: int
    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any, padding: Any,
                 dilation: Any, groups: int, bias: bool, padding_mode: str, output_padding: Any = 0,
                 dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        self.in_channels = _positive(name, "in_channels", in_channels)
        self.out_channels = _positive(name, "out_channels", out_channels)
        self.groups = _positive(name, "groups", groups)
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        self.kernel_size = K.pair(f"{name}: kernel_size", kernel_size, self.dims)
        self.stride = K.pair(f"{name}: stride", stride, self.dims)
        self.dilation = K.pair(f"{name}: dilation", dilation, self.dims)
        if isinstance(padding, str):
            K.conv_padding(name, padding, self.kernel_size, self.stride, self.dilation)  # checks it
            self.padding: Any = padding
        else:
            self.padding = K.pair(f"{name}: padding", padding, self.dims, minimum=0)
        self.output_padding = K.pair(f"{name}: output_padding", output_padding, self.dims, minimum=0)
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
        if padding_mode != "zeros" and self.transposed:
            raise ValueError(f'{name}: only "zeros" padding mode is supported, got {padding_mode!r}')
        self.padding_mode = padding_mode
        dtype = np.dtype(dtype or get_default_dtype())
        shape = ((in_channels, out_channels // groups) if self.transposed else
                 (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(placeholders.empty(shape, dtype))
        self.bias = Parameter(placeholders.empty(out_channels, dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight._data.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self.dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self.dims:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text

    def get_config(self) -> dict[str, Any]:
        config = dict(in_channels=self.in_channels, out_channels=self.out_channels,
                      kernel_size=list(self.kernel_size), stride=list(self.stride),
                      padding=self.padding if isinstance(self.padding, str) else list(self.padding),
                      dilation=list(self.dilation), groups=self.groups, bias=self.bias is not None,
                      padding_mode=self.padding_mode)
        if self.transposed:
            config["output_padding"] = list(self.output_padding)
        return config


class _Convolution(_ConvNd):
    """Conv1d and Conv2d: torch's constructor and the forward through ``convolution``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, dtype=dtype)

    def forward(self, x: Any) -> Tensor:
        """With a ``padding_mode`` other than "zeros", the input is padded first (``F.pad``), as torch does."""
        padding = self.padding
        if self.padding_mode != "zeros":
            x = x if type(x) is Tensor else as_tensor(x)
            if x._data.ndim in (self.dims + 1, self.dims + 2):  # else the convolution names the expected shape
                x = F.pad(x, self._pad_sizes(), mode=self.padding_mode)
                padding = (0,) * self.dims
        return K.convolution(repr(self), x, self.weight, self.bias, self.stride, padding, self.dilation,
                              self.groups, self.dims)

    def _pad_sizes(self) -> list[int]:
        """``F.pad``'s sizes for ``padding`` (last dim first, (before, after) each); "same" puts the odd one after,
        as torch."""
        if self.padding == "valid":
            return [0, 0] * self.dims
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            return [n for total in reversed(totals) for n in (total // 2, total - total // 2)]
        return [p for p in reversed(self.padding) for _ in range(2)]


class Conv1d(_Convolution):
    """1-D convolution (cross-correlation): (N, in_channels, L) or (in_channels, L) → (N, out_channels, L_out).
    weight (out_channels, in_channels/groups, kernel_size), bias (out_channels,)."""

    dims = 1


class Conv2d(_Convolution):
    """2-D convolution (cross-correlation): (N, in_channels, H, W) or (in_channels, H, W) →
    (N, out_channels, OH, OW). weight (out_channels, in_channels/groups, kh, kw), bias (out_channels,); padding
    an int, a pair, "valid" or "same"."""

    dims = 2


class ConvTranspose2d(_ConvNd):
    """2-D transposed convolution (the gradient of Conv2d with respect to its input; upsamples by the stride):
    (N, in_channels, H, W) → (N, out_channels, OH, OW), OH = (H−1)·stride − 2·padding + dilation·(kh−1) +
    output_padding + 1. weight (in_channels, out_channels/groups, kh, kw), bias (out_channels,)."""

    dims = 2
    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        if isinstance(padding, str):
            raise ValueError(f"ConvTranspose2d: padding must be ints, not {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, dtype)

    def forward(self, x: Any, output_size: Any = None) -> Tensor:
        """``output_size`` ((OH, OW), or a full shape ending in them) picks among the sizes that the stride makes
        possible: it sets the output padding for this call."""
        output_padding = self.output_padding if output_size is None else self._output_padding(x, output_size)
        return K.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, output_padding,
                                  self.groups, self.dilation)

    def _output_padding(self, x: Any, output_size: Any) -> tuple[int, ...]:
        wanted = tuple(int(n) for n in tuple(output_size)[-2:])
        padding = []
        for n, want, k, s, p, d in zip(x.shape[-2:], wanted, self.kernel_size, self.stride, self.padding,
                                       self.dilation):
            smallest = (n - 1) * s - 2 * p + d * (k - 1) + 1
            if not smallest <= want < smallest + s:
                raise ValueError(f"{self!r}: output_size {wanted} is impossible for input {tuple(x.shape)}: each "
                                 f"size must lie in [{smallest}, {smallest + s - 1}] here")
            padding.append(want - smallest)
        return tuple(padding)
