"""Attention with PyTorch's names and semantics: ``F.scaled_dot_product_attention`` and ``MultiheadAttention``.

The kernel is softmax(Q·Kᵀ·scale + mask)·V with its backward written out beside it (``_attend``,
``_attend_backward``). Speed: on small sizes attention is a dozen tiny array operations, so the whole block is one
graph node — for ``MultiheadAttention`` including the split into heads and the merge back, so that a layer is three
nodes (input projection, attention, output projection) where composing it from elementwise ops would take ~15.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .. import ops
from .. import tensor as _engine
from ..tensor import Tensor, _wrap, as_tensor, get_default_dtype, result
from . import functional as F
from . import init, placeholders
from .linear import Linear
from .module import Module, Parameter
from .workspace import empty

__all__ = ["scaled_dot_product_attention", "MultiheadAttention", "additive_mask"]


# ------------------------------------------------------------------------------------------ kernel

def _swap(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b into a workspace array (see workspace.py: fresh large arrays cost page faults)."""
    shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1])
    return np.matmul(a, b, out=empty(shape, np.result_type(a, b)))


def _attend(Q: np.ndarray, K: np.ndarray, V: np.ndarray, mask: np.ndarray | None, dropout_p: float,
            scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(out, P, keep): P = softmax(Q·Kᵀ·scale + mask) over the last axis, out = (P·keep)·V, where keep is the
    inverted-dropout multiplier of the attention weights (None without dropout).

    Q: (..., L, E), K: (..., S, E), V: (..., S, Ev), mask additive and broadcastable to (..., L, S) → (..., L, Ev).
    A row whose every score is −inf gives NaN, as in PyTorch.
    """
    scores = _matmul(Q, _swap(K))
    scores *= scale
    if mask is not None:
        scores = np.add(scores, mask, out=scores) if mask.ndim <= scores.ndim and \
            np.broadcast_shapes(mask.shape, scores.shape) == scores.shape else scores + mask
    scores -= scores.max(axis=-1, keepdims=True)
    P = np.exp(scores, out=scores)
    P /= P.sum(axis=-1, keepdims=True)
    keep = None
    if dropout_p > 0:
        keep = (_engine.default_rng().random(P.shape, dtype=P.dtype) >= dropout_p) \
            * np.asarray(1.0 / (1.0 - dropout_p) if dropout_p < 1 else 0.0, dtype=P.dtype)
    return _matmul(P if keep is None else P * keep, V), P, keep


def _scores_backward(dP: np.ndarray, P: np.ndarray, Q: np.ndarray, K: np.ndarray,
                     scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(dQ, dK) from the gradient of the attention weights P = softmax(Q·Kᵀ·scale + mask):
    dS = P·(dP − Σ dP·P) (softmax), then dQ = dS·K·scale, dK = dSᵀ·Q·scale."""
    dS = np.subtract(dP, np.add.reduce(np.multiply(dP, P, out=empty(P.shape, P.dtype)), axis=-1, keepdims=True),
                     out=empty(P.shape, P.dtype))
    dS *= P
    dS *= scale
    return _matmul(dS, K), _matmul(_swap(dS), Q)


def _attend_backward(G: np.ndarray, Q: np.ndarray, K: np.ndarray, V: np.ndarray, P: np.ndarray,
                     keep: np.ndarray | None, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dQ, dK, dV) of ``_attend`` from the output's gradient G: dV = (P·keep)ᵀ·G, dP = G·Vᵀ·keep."""
    dropped = P if keep is None else P * keep
    dP = _matmul(G, _swap(V))
    if keep is not None:
        dP *= keep
    dQ, dK = _scores_backward(dP, P, Q, K, scale)
    return dQ, dK, _matmul(_swap(dropped), G)


def additive_mask(mask: Any, dtype: np.dtype, masked: bool, name: str) -> np.ndarray | None:
    """A mask as the float array added to the scores: a float mask as it is; a boolean one gives −inf where its
    value is ``masked`` (True for MultiheadAttention's masks, False for scaled_dot_product_attention's) and 0
    elsewhere."""
    if mask is None:
        return None
    array = np.asarray(mask._data if isinstance(mask, Tensor) else mask)
    if array.dtype == np.bool_:
        return np.where(array == masked, np.asarray(-np.inf, dtype), np.asarray(0, dtype))
    if array.dtype.kind != "f":
        raise TypeError(f"{name} must be boolean or floating point, got dtype {array.dtype}")
    return array.astype(dtype, copy=False)


def scaled_dot_product_attention(query: Any, key: Any, value: Any, attn_mask: Any = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(query·keyᵀ·scale + mask)·value as one node, PyTorch's function.

    query: (..., L, E), key: (..., S, E), value: (..., S, Ev) → (..., L, Ev); scale defaults to 1/√E. attn_mask,
    broadcastable to (..., L, S): boolean (True = may attend) or float (added to the scores). ``is_causal`` masks
    the upper triangle (position i attends to j ≤ i; no attn_mask then). Dropout with probability ``dropout_p``
    applies to the attention weights whenever it is > 0 (pass 0 in evaluation, as in PyTorch).
    """
    q, k, v = as_tensor(query), as_tensor(key), as_tensor(value)
    Q, K, V = q._data, k._data, v._data
    if Q.ndim < 2 or K.ndim < 2 or V.ndim < 2 or Q.shape[-1] != K.shape[-1] or K.shape[-2] != V.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: query {Q.shape}, key {K.shape} and value {V.shape} do not "
                         f"fit: expected (..., L, E), (..., S, E) and (..., S, Ev)")
    if enable_gqa:
        raise ValueError("scaled_dot_product_attention: enable_gqa (grouped-query attention) is not supported")
    if not 0 <= dropout_p <= 1:
        raise ValueError(f"scaled_dot_product_attention: dropout_p must be in [0, 1], got {dropout_p}")
    L, S = Q.shape[-2], K.shape[-2]
    if is_causal:
        if attn_mask is not None:
            raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal=True, not both")
        attn_mask = np.tril(np.ones((L, S), dtype=bool))
    mask = additive_mask(attn_mask, Q.dtype, False, "attn_mask")
    if mask is not None and not _broadcastable(mask.shape, Q.shape[:-2] + (L, S)):
        raise ValueError(f"scaled_dot_product_attention: attn_mask of shape {mask.shape} does not broadcast to "
                         f"the scores' shape {Q.shape[:-2] + (L, S)}")
    scale = 1.0 / math.sqrt(Q.shape[-1]) if scale is None else float(scale)
    out, P, keep = _attend(Q, K, V, mask, dropout_p, scale)
    return result(out, (q, k, v), lambda g: _attend_backward(g, Q, K, V, P, keep, scale))


def _broadcastable(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


# ------------------------------------------------------------------------------------------ multi-head

def _split_heads(a: np.ndarray, num_heads: int) -> np.ndarray:
    """A view (N, L, heads, d) of the (N, L, heads·d) array ``a``, to write into (an error, never a copy, if
    the strides do not allow one)."""
    view = a.view()
    view.shape = a.shape[:-1] + (num_heads, a.shape[-1] // num_heads)
    return view


Columns = tuple[int, int, int]  # (index of the source tensor, first column, end column)


def multi_head_attention(sources: Sequence[Tensor], columns: tuple[Columns, Columns, Columns], num_heads: int,
                         mask: np.ndarray | None, dropout_p: float, need_weights: bool,
                         average_attn_weights: bool) -> tuple[Tensor, Tensor | None]:
    """Attention of projected queries, keys and values split into heads, as one node (the context) and, if
    ``need_weights``, a second one (the weights, which carries its own gradient to the queries and keys).

    ``sources``: batch-first projections (N, L or S, ·); ``columns`` says where q, k and v lie in them, so that a
    packed (N, L, 3E) self-attention projection is used without copies. Each of q, k, v has E = num_heads·d
    columns. mask: additive, broadcastable to (N, heads, L, S). Returns the context (N, L, E), heads merged, and
    the weights after dropout (N, L, S) averaged over heads (or (N, heads, L, S)), else None.
    """
    arrays = [s._data for s in sources]
    N = arrays[0].shape[0]
    Q, K, V = (arrays[i][:, :, a:b].reshape(N, -1, num_heads, (b - a) // num_heads).transpose(0, 2, 1, 3)
               for i, a, b in columns)
    scale = 1.0 / math.sqrt(Q.shape[-1])
    out, P, keep = _attend(Q, K, V, mask, dropout_p, scale)
    L, E = Q.shape[2], out.shape[1] * out.shape[3]

    def packed(grads: Sequence[np.ndarray]) -> list:
        """The heads' (N, h, ·, d) gradients merged and written into arrays shaped like the sources."""
        full = [empty(a.shape, a.dtype) if s.requires_grad else None for s, a in zip(sources, arrays)]
        for (i, a, b), grad in zip(columns, grads):
            if full[i] is not None:
                _split_heads(full[i][:, :, a:b], num_heads)[...] = grad.transpose(0, 2, 1, 3)
        return full

    def backward(g: np.ndarray) -> list:
        G = g.reshape(N, L, num_heads, -1).transpose(0, 2, 1, 3)
        return packed(_attend_backward(G, Q, K, V, P, keep, scale))
    merged = empty((N, L, E), out.dtype)
    _split_heads(merged, num_heads)[...] = out.transpose(0, 2, 1, 3)
    context = result(merged, tuple(sources), backward)
    if not need_weights:
        return context, None
    weights = P if keep is None else P * keep
    if average_attn_weights:
        weights = weights.mean(axis=1)

    def weights_backward(g: np.ndarray) -> list:
        dP = np.broadcast_to(g[:, None] / num_heads, P.shape) if average_attn_weights else g
        if keep is not None:
            dP = dP * keep
        dQ, dK = _scores_backward(dP, P, Q, K, scale)
        return packed((dQ, dK, np.zeros_like(V)))
    return context, result(weights, tuple(sources), weights_backward)


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al., 2017), PyTorch's module: ``forward(query, key, value,
    key_padding_mask=None, need_weights=True, attn_mask=None, average_attn_weights=True, is_causal=False)`` →
    (output, weights or None).

    Parameters as PyTorch's: ``in_proj_weight`` (3E, E) (or ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim),
    ``v_proj_weight`` (E, vdim) when kdim or vdim differ from E), ``in_proj_bias`` (3E,), and ``out_proj`` a Linear
    (E, E); the projections start xavier-uniform and the biases at zero.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} must be divisible by num_heads {num_heads}")
        if not 0 <= dropout <= 1:
            raise ValueError(f"MultiheadAttention: dropout must be a probability in [0, 1], got {dropout}")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first = float(dropout), bool(batch_first)
        self.add_zero_attn = bool(add_zero_attn)
        self._config = dict(embed_dim=embed_dim, num_heads=num_heads, dropout=self.dropout, bias=bool(bias),
                            add_bias_kv=bool(add_bias_kv), add_zero_attn=self.add_zero_attn, kdim=self.kdim,
                            vdim=self.vdim, batch_first=self.batch_first)
        dtype = np.dtype(dtype or get_default_dtype())
        E = embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(placeholders.empty((3 * E, E), dtype))
            self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        else:
            self.in_proj_weight = None
            self.q_proj_weight = Parameter(placeholders.empty((E, E), dtype))
            self.k_proj_weight = Parameter(placeholders.empty((E, self.kdim), dtype))
            self.v_proj_weight = Parameter(placeholders.empty((E, self.vdim), dtype))
        self.in_proj_bias = Parameter(placeholders.full(3 * E, 0, dtype)) if bias else None
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype)
        self.bias_k = Parameter(placeholders.empty((1, 1, E), dtype)) if add_bias_kv else None
        self.bias_v = Parameter(placeholders.empty((1, 1, E), dtype)) if add_bias_kv else None
        self._reset_parameters()

    def get_config(self) -> dict[str, Any]:
        return dict(self._config)

    def _reset_parameters(self) -> None:
        for weight in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
            if weight is not None:
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        for extra in (self.bias_k, self.bias_v):
            if extra is not None:
                init.xavier_normal_(extra)

    def _projections(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[list[Tensor], tuple]:
        """The input projections as few GEMMs as the inputs allow: self-attention is one (N, L, 3E) projection,
        key = value (e.g. a decoder's memory) two."""
        E, b = self.embed_dim, self.in_proj_bias

        def part(i: int, j: int) -> tuple[Tensor | None, Tensor | None]:
            """Rows i·E to j·E of the packed weight and bias."""
            bias = None if b is None else (b if (i, j) == (0, 3) else b[i * E:j * E])
            if self._qkv_same_embed_dim:
                weight = self.in_proj_weight if (i, j) == (0, 3) else self.in_proj_weight[i * E:j * E]
            else:
                weight = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)[i]
            return weight, bias
        if self._qkv_same_embed_dim and query is key and key is value:
            return [F.linear(query, *part(0, 3))], ((0, 0, E), (0, E, 2 * E), (0, 2 * E, 3 * E))
        if self._qkv_same_embed_dim and key is value:
            return [F.linear(query, *part(0, 1)), F.linear(key, *part(1, 3))], ((0, 0, E), (1, 0, E), (1, E, 2 * E))
        sources = [F.linear(x, *part(i, i + 1)) for i, x in enumerate((query, key, value))]
        return sources, ((0, 0, E), (1, 0, E), (2, 0, E))

    def forward(self, query: Any, key: Any, value: Any, key_padding_mask: Any = None, need_weights: bool = True,
                attn_mask: Any = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        """query (L, N, E), key (S, N, kdim), value (S, N, vdim) ((N, ·, ·) if ``batch_first``; unbatched (L, E),
        (S, kdim), (S, vdim)). key_padding_mask (N, S): True (or −inf) for keys to ignore; attn_mask (L, S) or
        (N·heads, L, S): True (or a float added to the scores) where a query may not attend. ``is_causal`` is a
        hint that attn_mask is the causal mask (which must be given). Dropout on the weights in training only.

        Returns the output (query's shape) and, if ``need_weights``, the attention weights (after dropout)
        (N, L, S) averaged over heads, or (N, heads, L, S) if not ``average_attn_weights``."""
        dtype = self.out_proj.weight._data.dtype
        inputs: dict = {}  # one Tensor per distinct input object: query is key is value stays self-attention
        for x in (query, key, value):
            if id(x) not in inputs:
                inputs[id(x)] = self._as_input(x, dtype)
        q, k, v = inputs[id(query)], inputs[id(key)], inputs[id(value)]
        batched = self._check_shapes(q, k, v)
        if not batched:
            q, k, v = (self._unbatched(x, inputs) for x in (q, k, v))
        elif not self.batch_first:
            q, k, v = (self._swapped(x, inputs) for x in (q, k, v))
        N, L, S = q._data.shape[0], q._data.shape[1], k._data.shape[1]
        if is_causal and attn_mask is None:
            raise ValueError("MultiheadAttention: need attn_mask if specifying the is_causal hint (e.g. "
                             "nn.Transformer.generate_square_subsequent_mask(L))")
        mask = self._merged_mask(attn_mask, key_padding_mask, N, L, S, batched, dtype)
        sources, columns = self._projections(q, k, v)
        if self.bias_k is not None or self.add_zero_attn:
            sources, columns, mask = self._extra_keys(sources, columns, mask, N, dtype)
        context, weights = multi_head_attention(sources, columns, self.num_heads, mask,
                                                self.dropout if self.training else 0.0, need_weights,
                                                average_attn_weights)
        out = self.out_proj(context)
        if not batched:
            out = ops.reshape(out, (L, self.embed_dim))
            if weights is not None:
                weights = ops.reshape(weights, weights._data.shape[1:])
        elif not self.batch_first:
            out = ops.transpose(out, 0, 1)
        return out, weights

    def _extra_keys(self, sources: list[Tensor], columns: tuple, mask: np.ndarray | None, N: int,
                    dtype: np.dtype) -> tuple[list[Tensor], tuple, np.ndarray | None]:
        """PyTorch's extra keys and values: a row bias_k/bias_v appended to every sequence (add_bias_kv), then a
        row of zeros (add_zero_attn); the mask gets a 0 (attendable) column for each."""
        E = self.embed_dim
        q, k, v = (sources[i] if (a, b) == (0, sources[i]._data.shape[2]) else sources[i][:, :, a:b]
                   for i, a, b in columns)
        added = 0
        if self.bias_k is not None:
            ones = _wrap(np.ones((N, 1, 1), dtype))
            k, v = (ops.concatenate([x, extra * ones], axis=1) for x, extra in ((k, self.bias_k), (v, self.bias_v)))
            added += 1
        if self.add_zero_attn:
            zeros = _wrap(np.zeros((N, 1, E), dtype))
            k, v = (ops.concatenate([x, zeros], axis=1) for x in (k, v))
            added += 1
        if mask is not None:
            mask = np.pad(mask, [(0, 0)] * (mask.ndim - 1) + [(0, added)])
        return [q, k, v], ((0, 0, E), (1, 0, E), (2, 0, E)), mask

    @staticmethod
    def _as_input(x: Any, dtype: np.dtype) -> Tensor:
        x = as_tensor(x)
        return x if x._data.dtype == dtype else ops.cast(x, dtype)

    @staticmethod
    def _unbatched(x: Tensor, done: dict) -> Tensor:
        """(L, E) → (1, L, E), the same Tensor for the same input (self-attention stays one projection)."""
        key = ("unbatched", id(x))
        if key not in done:
            done[key] = ops.reshape(x, (1,) + x._data.shape)
        return done[key]

    @staticmethod
    def _swapped(x: Tensor, done: dict) -> Tensor:
        """(L, N, E) → (N, L, E), the same Tensor for the same input."""
        key = ("swapped", id(x))
        if key not in done:
            done[key] = ops.transpose(x, 0, 1)
        return done[key]

    def _check_shapes(self, q: Tensor, k: Tensor, v: Tensor) -> bool:
        """Whether the inputs are batched; ValueError naming the layer if their shapes do not fit."""
        Qs, Ks, Vs = q._data.shape, k._data.shape, v._data.shape
        if not (len(Qs) == len(Ks) == len(Vs) and len(Qs) in (2, 3)):
            raise ValueError(f"{self!r}: query, key and value must all be 3-D (batched) or 2-D (unbatched), got "
                             f"shapes {Qs}, {Ks}, {Vs}")
        batch = 1 if self.batch_first else 0
        if (Qs[-1], Ks[-1], Vs[-1]) != (self.embed_dim, self.kdim, self.vdim):
            raise ValueError(f"{self!r}: expected query, key and value of last dimension {self.embed_dim}, "
                             f"{self.kdim}, {self.vdim}; got shapes {Qs}, {Ks}, {Vs}")
        if Ks[:-1] != Vs[:-1] or (len(Qs) == 3 and Qs[1 - batch] != Ks[1 - batch]):
            raise ValueError(f"{self!r}: key {Ks} and value {Vs} must have the same length and batch, and the "
                             f"query {Qs} the same batch")
        return len(Qs) == 3

    def _merged_mask(self, attn_mask: Any, key_padding_mask: Any, N: int, L: int, S: int, batched: bool,
                     dtype: np.dtype) -> np.ndarray | None:
        """attn_mask and key_padding_mask as one additive array broadcastable to (N, heads, L, S)."""
        attn = additive_mask(attn_mask, dtype, True, "attn_mask")
        if attn is not None:
            if attn.shape == (L, S):
                pass
            elif attn.shape == (N * self.num_heads, L, S):
                attn = attn.reshape(N, self.num_heads, L, S)
            else:
                raise ValueError(f"{self!r}: attn_mask has shape {attn.shape}, but should be {(L, S)} or "
                                 f"{(N * self.num_heads, L, S)}")
        padding = additive_mask(key_padding_mask, dtype, True, "key_padding_mask")
        if padding is not None:
            expected = (N, S) if batched else (S,)
            if padding.shape != expected:
                raise ValueError(f"{self!r}: key_padding_mask has shape {padding.shape}, but should be {expected}")
            padding = padding.reshape(N, 1, 1, S)
            attn = padding if attn is None else attn + padding
        return attn
