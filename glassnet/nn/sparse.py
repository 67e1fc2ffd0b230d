"""``Embedding``: a lookup table of learned vectors, PyTorch's arguments and initialisation (the kernel is
``F.embedding``)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor, get_default_dtype
from . import functional_layers as K
from . import init, placeholders
from .module import Module, Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """Integer indices of any shape → their rows of weight (num_embeddings, embedding_dim), appended as a last
    axis. weight starts N(0, 1), the row ``padding_idx`` (if given) at 0, and that row never gets a gradient."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight: Any = None, _freeze: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"Embedding: {name} must be a positive integer, got {value!r}")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must lie within [-{num_embeddings}, {num_embeddings - 1}]"
                                 f" for {num_embeddings} embeddings, got {padding_idx}")
            padding_idx = padding_idx % num_embeddings
        if max_norm is not None or scale_grad_by_freq or sparse:
            raise NotImplementedError("Embedding: max_norm, scale_grad_by_freq and sparse are not implemented")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            dtype = np.dtype(dtype or get_default_dtype())
            self.weight = Parameter(placeholders.empty((num_embeddings, embedding_dim), dtype))
            self.reset_parameters()
        else:
            array = np.array(_weight._data if isinstance(_weight, Tensor) else _weight)
            if array.shape != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight has shape {array.shape}, expected "
                                 f"({num_embeddings}, {embedding_dim})")
            self.weight = Parameter(array, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An Embedding whose weight is a copy of the 2-D ``embeddings``; ``freeze`` (default) stops training it."""
        array = np.asarray(embeddings._data if isinstance(embeddings, Tensor) else embeddings)
        if array.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {array.shape}")
        return cls(array.shape[0], array.shape[1], padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=array, _freeze=freeze)

    def forward(self, indices: Any) -> Tensor:
        return K.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")

    def get_config(self) -> dict[str, Any]:
        return dict(num_embeddings=self.num_embeddings, embedding_dim=self.embedding_dim,
                    padding_idx=self.padding_idx)
