"""``Upsample``: resizing by the nearest neighbour or linearly, PyTorch's arguments (the kernel is
``F.interpolate``)."""
from __future__ import annotations

from typing import Any

from ..ops import conv as K
from ..tensor import Tensor
from .interpolation import LINEAR_MODES, interpolate
from .module import Module
from .pooling import config_value

__all__ = ["Upsample"]


class Upsample(Module):
    """Resize (N, C, L) or (N, C, H, W) to ``size`` or by ``scale_factor``, copying the nearest input element
    (mode "nearest" or "nearest-exact") or linearly (mode "linear" on (N, C, L), "bilinear" on (N, C, H, W),
    ``align_corners`` as ``F.interpolate``)."""

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None, recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        if mode not in ("nearest", "nearest-exact", *LINEAR_MODES):
            raise NotImplementedError(f"Upsample: mode {mode!r} is not implemented; glassnet has 'nearest', "
                                      f"'nearest-exact', 'linear' and 'bilinear'")
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, x: Any) -> Tensor:
        return interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                           self.recompute_scale_factor)

    def extra_repr(self) -> str:
        what = f"size={self.size}" if self.scale_factor is None else f"scale_factor={self.scale_factor}"
        return f"{what}, mode={self.mode!r}"

    def get_config(self) -> dict[str, Any]:
        return dict(size=config_value(self.size), scale_factor=config_value(self.scale_factor), mode=self.mode,
                    align_corners=self.align_corners, recompute_scale_factor=self.recompute_scale_factor)
