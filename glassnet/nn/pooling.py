"""Pooling layers with PyTorch's arguments: ``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d`` (the kernels are in
``functional_conv``)."""
from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import functional_conv as K
from .module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]


def config_value(value: Any) -> Any:
    """An argument as torch keeps it (an int or a tuple), in a form ``get_config`` can write."""
    return list(value) if isinstance(value, tuple) else value


class MaxPool2d(Module):
    """The maximum of each kh×kw window: (N, C, H, W) → (N, C, OH, OW); stride defaults to the kernel size."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = bool(return_indices), bool(ceil_mode)
        K.pair("MaxPool2d: kernel_size", kernel_size)
        K.pair("MaxPool2d: stride", self.stride)

    def forward(self, x: Any) -> Tensor | tuple[Tensor, Tensor]:
        return K.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")

    def get_config(self) -> dict[str, Any]:
        return dict(kernel_size=config_value(self.kernel_size), stride=config_value(self.stride), padding=config_value(self.padding),
                    dilation=config_value(self.dilation), return_indices=self.return_indices, ceil_mode=self.ceil_mode)


class AvgPool2d(Module):
    """The mean of each kh×kw window: (N, C, H, W) → (N, C, OH, OW); with ``count_include_pad`` the zero padding
    counts in the mean; ``divisor_override`` replaces the window size."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, bool(ceil_mode)
        self.count_include_pad, self.divisor_override = bool(count_include_pad), divisor_override
        K.pair("AvgPool2d: kernel_size", kernel_size)
        K.pair("AvgPool2d: stride", self.stride)

    def forward(self, x: Any) -> Tensor:
        return K.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def get_config(self) -> dict[str, Any]:
        return dict(kernel_size=config_value(self.kernel_size), stride=config_value(self.stride), padding=config_value(self.padding),
                    ceil_mode=self.ceil_mode, count_include_pad=self.count_include_pad,
                    divisor_override=self.divisor_override)


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size (OH, OW) whatever the input's (None keeps that size):
    (N, C, H, W) → (N, C, OH, OW)."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Any) -> Tensor:
        return K.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def get_config(self) -> dict[str, Any]:
        return {"output_size": config_value(self.output_size)}
