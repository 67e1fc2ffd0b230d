"""Pooling layers with PyTorch's arguments: ``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d`` and their 1-D
versions (the kernels are in ``ops/conv.py``)."""
from __future__ import annotations

from typing import Any

from ..ops import conv as K
from ..tensor import Tensor
from .module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d"]


def config_value(value: Any) -> Any:
    """An argument as torch keeps it (an int or a tuple), in a form ``get_config`` can write."""
    return list(value) if isinstance(value, tuple) else value


class MaxPool2d(Module):
    """The maximum of each kh×kw window: (N, C, H, W) → (N, C, OH, OW); stride defaults to the kernel size."""

    dims = 2

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = bool(return_indices), bool(ceil_mode)
        K.pair(f"{type(self).__name__}: kernel_size", kernel_size, self.dims)
        K.pair(f"{type(self).__name__}: stride", self.stride, self.dims)

    def forward(self, x: Any) -> Tensor | tuple[Tensor, Tensor]:
        pool = K.max_pool2d if self.dims == 2 else K.max_pool1d
        return pool(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")

    def get_config(self) -> dict[str, Any]:
        return dict(kernel_size=config_value(self.kernel_size), stride=config_value(self.stride),
                    padding=config_value(self.padding), dilation=config_value(self.dilation),
                    return_indices=self.return_indices, ceil_mode=self.ceil_mode)


class AvgPool2d(Module):
    """The mean of each kh×kw window: (N, C, H, W) → (N, C, OH, OW); with ``count_include_pad`` the zero padding
    counts in the mean; ``divisor_override`` replaces the window size."""

    dims = 2

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, bool(ceil_mode)
        self.count_include_pad, self.divisor_override = bool(count_include_pad), divisor_override
        K.pair(f"{type(self).__name__}: kernel_size", kernel_size, self.dims)
        K.pair(f"{type(self).__name__}: stride", self.stride, self.dims)

    def forward(self, x: Any) -> Tensor:
        if self.dims == 1:
            return K.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)
        return K.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def get_config(self) -> dict[str, Any]:
        return dict(kernel_size=config_value(self.kernel_size), stride=config_value(self.stride),
                    padding=config_value(self.padding),
                    ceil_mode=self.ceil_mode, count_include_pad=self.count_include_pad,
                    divisor_override=self.divisor_override)


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size (OH, OW) whatever the input's (None keeps that size):
    (N, C, H, W) → (N, C, OH, OW)."""

    dims = 2

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Any) -> Tensor:
        return (K.adaptive_avg_pool2d if self.dims == 2 else K.adaptive_avg_pool1d)(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def get_config(self) -> dict[str, Any]:
        return {"output_size": config_value(self.output_size)}


class MaxPool1d(MaxPool2d):
    """The maximum of each window of length kernel_size: (N, C, L) → (N, C, L_out)."""

    dims = 1


class AvgPool1d(AvgPool2d):
    """The mean of each window of length kernel_size: (N, C, L) → (N, C, L_out)."""

    dims = 1

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["divisor_override"]
        return config


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """Average pooling to a fixed output length: (N, C, L) → (N, C, output_size)."""

    dims = 1
