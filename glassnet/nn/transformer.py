"""The Transformer family with PyTorch's names, submodules and semantics (``TransformerEncoderLayer``,
``TransformerEncoder``, ``TransformerDecoderLayer``, ``TransformerDecoder``, ``Transformer``), and
``PositionalEncoding``, the sinusoidal encoding of "Attention is all you need" (PyTorch's tutorial module).

Speed: the feed-forward block linear1 → activation → linear2 runs as one ``F.dense_stack`` node when its dropout is
inactive (evaluation, or p = 0); that is the same arithmetic in fewer graph nodes.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ..ops import ACTIVATIONS, Activation
from ..tensor import Tensor, _wrap, as_tensor, get_default_dtype
from . import functional as F
from . import init, placeholders
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .layernorm import LayerNorm
from .linear import Linear
from .module import Module

__all__ = ["TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer", "TransformerDecoder",
           "Transformer", "PositionalEncoding"]


def _activation(activation: str | Callable) -> Activation | Callable:
    """"relu"/"gelu" as an Activation (fusable into dense_stack), or a callable applied to the hidden layer."""
    if isinstance(activation, str):
        if activation in ("relu", "gelu"):
            return ACTIVATIONS[activation]
        raise ValueError(f"activation should be relu/gelu, not {activation!r}")
    if not callable(activation):
        raise TypeError(f"activation must be 'relu', 'gelu' or a callable, got {type(activation).__name__}")
    return activation


def _clones(layer: Module, num_layers: int) -> ModuleList:
    """``num_layers`` deep copies of ``layer``, PyTorch's ModuleList ``layers`` (while ``gn.load`` builds, copies of
    its placeholders: nothing allocated)."""
    if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
        raise ValueError(f"num_layers must be a positive integer, got {num_layers!r}")
    return ModuleList(placeholders.deepcopy(layer) for _ in range(num_layers))


class _TransformerLayer(Module):
    """What both layer kinds share, with PyTorch's submodule names (registered in PyTorch's order, so that
    state_dicts match): ``self_attn`` (and ``multihead_attn`` over the memory for a decoder layer), the
    feed-forward block ``linear1`` → activation → ``dropout`` → ``linear2``, ``norm1``…, ``dropout1``… (one per
    sub-block)."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int, dropout: float, activation: str | Callable,
                 layer_norm_eps: float, batch_first: bool, norm_first: bool, bias: bool, dtype: Any,
                 cross_attention: bool) -> None:
        super().__init__()
        self._config = dict(d_model=d_model, nhead=nhead, dim_feedforward=dim_feedforward, dropout=dropout,
                            activation=activation, layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                            norm_first=norm_first, bias=bias)  # for gn.save (a callable activation is no data)
        attention = dict(dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, **attention)
        if cross_attention:
            self.multihead_attn = MultiheadAttention(d_model, nhead, **attention)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = bool(norm_first)
        blocks = 3 if cross_attention else 2
        for k in range(1, blocks + 1):
            setattr(self, f"norm{k}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        for k in range(1, blocks + 1):
            setattr(self, f"dropout{k}", Dropout(dropout))
        self.activation = _activation(activation)

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments; an activation that is a plain function (not "relu", "gelu" or a module)
        cannot be recorded."""
        activation = self._config["activation"]
        if not isinstance(activation, (str, Module)):
            raise TypeError(f"{type(self).__name__}'s activation {activation!r} is a function, not JSON data or a "
                            f"module")
        return dict(self._config)

    def _sa(self, x: Tensor, mask: Any, key_padding_mask: Any, is_causal: bool) -> Tensor:
        """The self-attention block (before its residual connection)."""
        out = self.self_attn(x, x, x, attn_mask=mask, key_padding_mask=key_padding_mask, need_weights=False,
                             is_causal=is_causal)[0]
        return self.dropout1(out)

    def _ff(self, x: Tensor) -> Tensor:
        """linear1 → activation → dropout → linear2 (before the block's own dropout and residual connection)."""
        act = self.activation
        if isinstance(act, Activation):
            first = (self.linear1.weight, self.linear1.bias, act)
            second = (self.linear2.weight, self.linear2.bias, None)
            if not self.training or self.dropout.p == 0:
                return F.dense_stack(x, (first, second))  # one node for both layers
            return self.linear2(self.dropout(F.dense_stack(x, (first,))))
        return self.linear2(self.dropout(act(self.linear1(x))))


class TransformerEncoderLayer(_TransformerLayer):
    """Self-attention and a feed-forward block, each with a residual connection and LayerNorm (after it, or before
    it if ``norm_first``): PyTorch's layer, with submodules ``self_attn``, ``linear1``, ``dropout``, ``linear2``,
    ``norm1``, ``norm2``, ``dropout1``, ``dropout2``."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable = "relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
                         norm_first, bias, dtype, cross_attention=False)

    def forward(self, src: Any, src_mask: Any = None, src_key_padding_mask: Any = None,
                is_causal: bool = False) -> Tensor:
        """src: (S, N, E) ((N, S, E) if batch_first; unbatched (S, E)); masks as MultiheadAttention's attn_mask
        and key_padding_mask → src's shape."""
        x = as_tensor(src)
        if self.norm_first:
            x = x + self._sa(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self.dropout2(self._ff(self.norm2(x)))
        x = self.norm1(x + self._sa(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self.dropout2(self._ff(x)))


class TransformerDecoderLayer(_TransformerLayer):
    """Self-attention, attention over the encoder's output (``memory``) and a feed-forward block, each with a
    residual connection and LayerNorm: submodules ``self_attn``, ``multihead_attn``, ``linear1``, ``dropout``,
    ``linear2``, ``norm1``–``norm3``, ``dropout1``–``dropout3``, as PyTorch's."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable = "relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
                         norm_first, bias, dtype, cross_attention=True)

    def forward(self, tgt: Any, memory: Any, tgt_mask: Any = None, memory_mask: Any = None,
                tgt_key_padding_mask: Any = None, memory_key_padding_mask: Any = None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False) -> Tensor:
        """tgt: (T, N, E), memory: (S, N, E) (batch first or unbatched as the layer's attention) → tgt's shape."""
        x, memory = as_tensor(tgt), as_tensor(memory)
        if self.norm_first:
            x = x + self._sa(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            return x + self.dropout3(self._ff(self.norm3(x)))
        x = self.norm1(x + self._sa(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
        return self.norm3(x + self.dropout3(self._ff(x)))

    def _mha(self, x: Tensor, memory: Tensor, mask: Any, key_padding_mask: Any, is_causal: bool) -> Tensor:
        """The attention block over the memory (before its residual connection)."""
        out = self.multihead_attn(x, memory, memory, attn_mask=mask, key_padding_mask=key_padding_mask,
                                  need_weights=False, is_causal=is_causal)[0]
        return self.dropout2(out)


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` in turn (``layers.0``, ``layers.1``, …), then ``norm`` if
    given. ``enable_nested_tensor`` and ``mask_check`` are accepted for PyTorch's signature: there is no nested
    tensor here, so padded positions are computed like the others (PyTorch's nested-tensor fast path, in
    evaluation with a key padding mask, returns zeros there instead)."""

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def get_config(self) -> dict[str, Any]:
        return dict(encoder_layer=self.layers[0], num_layers=self.num_layers, norm=self.norm)

    def forward(self, src: Any, mask: Any = None, src_key_padding_mask: Any = None,
                is_causal: bool | None = None) -> Tensor:
        x = as_tensor(src)
        for layer in self.layers.children():
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        return self.norm(x) if self.norm is not None else x


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` in turn (``layers.0``, …), each attending to ``memory``, then
    ``norm`` if given."""

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: Module | None = None) -> None:
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def get_config(self) -> dict[str, Any]:
        return dict(decoder_layer=self.layers[0], num_layers=self.num_layers, norm=self.norm)

    def forward(self, tgt: Any, memory: Any, tgt_mask: Any = None, memory_mask: Any = None,
                tgt_key_padding_mask: Any = None, memory_key_padding_mask: Any = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        x, memory = as_tensor(tgt), as_tensor(memory)
        for layer in self.layers.children():
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal)
        return self.norm(x) if self.norm is not None else x


class Transformer(Module):
    """Encoder–decoder Transformer (Vaswani et al., 2017), PyTorch's module: ``encoder`` (a TransformerEncoder with
    a final LayerNorm) and ``decoder`` (likewise); every weight matrix starts xavier-uniform.
    ``forward(src, tgt, …)`` → (T, N, E) ((N, T, E) if batch_first)."""

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable = "relu", custom_encoder: Module | None = None,
                 custom_decoder: Module | None = None, layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        options = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                       layer_norm_eps=layer_norm_eps, batch_first=batch_first, norm_first=norm_first, bias=bias,
                       dtype=dtype)
        self.encoder = custom_encoder if custom_encoder is not None else TransformerEncoder(
            TransformerEncoderLayer(d_model, nhead, **options), num_encoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        self.decoder = custom_decoder if custom_decoder is not None else TransformerDecoder(
            TransformerDecoderLayer(d_model, nhead, **options), num_decoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        for param in self.parameters():
            if param._data.ndim > 1:
                init.xavier_uniform_(param)

    def get_config(self) -> dict[str, Any]:
        """The encoder and decoder as built (rebuilt from their own configs; gn.load then fills the weights)."""
        return dict(d_model=self.d_model, nhead=self.nhead, batch_first=self.batch_first,
                    custom_encoder=self.encoder, custom_decoder=self.decoder)

    def forward(self, src: Any, tgt: Any, src_mask: Any = None, tgt_mask: Any = None, memory_mask: Any = None,
                src_key_padding_mask: Any = None, tgt_key_padding_mask: Any = None,
                memory_key_padding_mask: Any = None, src_is_causal: bool | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        """src: (S, N, E), tgt: (T, N, E) ((N, ·, E) if batch_first; or unbatched) → (T, N, E)."""
        src, tgt = as_tensor(src), as_tensor(tgt)
        batch = 0 if self.batch_first else 1
        if src._data.ndim != tgt._data.ndim or (src._data.ndim == 3 and src.shape[batch] != tgt.shape[batch]):
            raise ValueError(f"Transformer: the batch number of src {src.shape} and tgt {tgt.shape} must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ValueError(f"Transformer: the feature number of src {src.shape} and tgt {tgt.shape} must be "
                             f"equal to d_model ({self.d_model})")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None) -> Tensor:
        """The (sz, sz) causal mask: −inf above the diagonal (a position may not attend to later ones), 0 on and
        below it."""
        return _wrap(np.triu(np.full((sz, sz), -np.inf, np.dtype(dtype or get_default_dtype())), 1))


class PositionalEncoding(Module):
    """Adds the sinusoidal positional encoding PE[pos, 2i] = sin(pos / 10000^(2i/d_model)), PE[pos, 2i+1] =
    cos(pos / 10000^(2i/d_model)) to a sequence of embeddings, then dropout (PyTorch's tutorial module; its buffer
    ``pe`` (max_len, 1, d_model) is in the state_dict, as there).

    input: (L, N, d_model), or (N, L, d_model) if ``batch_first`` → the same shape; L ≤ max_len.
    """

    def __init__(self, d_model: int, dropout: float = 0.1, max_len: int = 5000, batch_first: bool = False,
                 dtype: Any = None) -> None:
        super().__init__()
        if d_model < 1 or max_len < 1:
            raise ValueError(f"PositionalEncoding: d_model and max_len must be positive, got {d_model}, {max_len}")
        if not 0 <= dropout <= 1:
            raise ValueError(f"PositionalEncoding: dropout must be a probability in [0, 1], got {dropout}")
        self.d_model, self.max_len, self.batch_first = d_model, max_len, bool(batch_first)
        self.p = float(dropout)  # F.dropout rather than a Dropout submodule: gn.save rebuilds a leaf layer
        pe = placeholders.empty((max_len, 1, d_model), np.dtype(dtype or get_default_dtype()))
        if not placeholders.is_placeholder(pe):  # (while gn.load builds, the file holds it)
            position = np.arange(max_len)[:, None]
            frequency = np.exp(np.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
            pe[:, 0, 0::2] = np.sin(position * frequency)
            pe[:, 0, 1::2] = np.cos(position * frequency[:d_model // 2])
        self.register_buffer("pe", _wrap(pe))

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        shape = x._data.shape
        if len(shape) != 3 or shape[-1] != self.d_model:
            raise ValueError(f"{self!r} got input of shape {shape}: expected (L, N, {self.d_model})"
                             + (" batch first" if self.batch_first else ""))
        length = shape[1] if self.batch_first else shape[0]
        if length > self.max_len:
            raise ValueError(f"{self!r}: sequence of length {length} is longer than max_len {self.max_len}")
        pe = self.pe._data[:length]
        return F.dropout(x + _wrap(pe.transpose(1, 0, 2) if self.batch_first else pe), self.p, self.training)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, p={self.p}, max_len={self.max_len}, batch_first={self.batch_first}"

    def get_config(self) -> dict[str, Any]:
        return {"d_model": self.d_model, "dropout": self.p, "max_len": self.max_len,
                "batch_first": self.batch_first}
