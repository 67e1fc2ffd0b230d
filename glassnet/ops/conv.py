"""Convolution, pooling and upsampling as graph nodes, each with its backward beside it (``F.conv2d`` & co.).

A convolution is one GEMM: ``im2col`` copies every receptive field of the (zero-padded) input into a column of a
matrix with a stride-tricks view, the weight (out, in/groups·kh·kw) multiplies it, and the backward is two GEMMs
(∂W = g·colsᵀ, ∂cols = Wᵀ·g) and ``col2im``, which adds the columns back onto the input (one strided add per
kernel offset, never a loop over pixels).

Memory layout (measured, see the W4 notes in benchmarks/RESULTS.md): the kernels work on arrays laid out
(C, H, W, N), the batch innermost, and hand back NCHW *views* of them. Values and shapes are PyTorch's; only the
strides differ, which NumPy handles everywhere (ReLU and BatchNorm keep the layout, ``reshape`` copies into
order). With the batch innermost, the rows that im2col copies and col2im adds are OW·N elements long instead of
OW: on LeNet's second convolution im2col took 100 µs instead of 460 and col2im 360 instead of 1,480.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..tensor import Tensor, as_tensor, result
from .shape import reshape

__all__ = ["conv1d", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "max_pool1d",
           "avg_pool1d", "adaptive_avg_pool1d", "interpolate"]

Pair = tuple[int, int]
Pads = tuple[Pair, Pair]  # ((top, bottom), (left, right))


# ------------------------------------------------------------------------------------------ arguments

def pair(name: str, value: Any, n: int = 2, minimum: int = 1) -> tuple[int, ...]:
    """``value`` (an int or a sequence of n ints, each ≥ minimum) as an n-tuple; ValueError naming ``name``."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    if len(values) != n or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum
                               for v in values):
        raise ValueError(f"{name} must be an int ≥ {minimum} or {n} of them, got {value!r}")
    return tuple(int(v) for v in values)


def conv_padding(layer: str, padding: Any, kernel: Sequence[int], stride: Sequence[int],
                 dilation: Sequence[int]) -> tuple[Pair, ...]:
    """(before, after) zero padding per spatial axis: from ints, or PyTorch's "valid" (none) and "same" (output as
    large as the input: d·(k−1) in all, the odd one after, as torch pads; stride 1 only)."""
    if isinstance(padding, str):
        if padding == "valid":
            return tuple((0, 0) for _ in kernel)
        if padding != "same":
            raise ValueError(f"{layer}: padding must be 'valid', 'same' or ints, got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{layer}: padding='same' is not supported for strided convolutions (stride {stride})")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    return tuple((p, p) for p in pair(f"{layer}: padding", padding, len(kernel), minimum=0))


def _out_size(layer: str, size: int, pads: Pair, kernel: int, stride: int, dilation: int) -> int:
    span = dilation * (kernel - 1) + 1
    if size + pads[0] + pads[1] < span:
        raise ValueError(f"{layer}: the input's spatial size {size} (padded {size + sum(pads)}) is smaller than the "
                         f"kernel's extent {span} (kernel {kernel}, dilation {dilation})")
    return (size + pads[0] + pads[1] - span) // stride + 1


# ------------------------------------------------------------------------------------------ layout and im2col

def to_chwn(x: np.ndarray) -> np.ndarray:
    """An (N, C, H, W) array as a C-contiguous (C, H, W, N) one: free when x is an NCHW view of such an array."""
    return np.ascontiguousarray(x.transpose(1, 2, 3, 0))


def padded(x: np.ndarray, pads: Pads, size: Pair | None = None, fill: float = 0.0,
           dtype: np.dtype | None = None) -> np.ndarray:
    """(N, C, H, W), any strides → a C-contiguous (C, H', W', N) array (of ``dtype``, default x's) with ``pads`` of
    ``fill`` before and after (``size``, when given, is (H', W'): rows and columns past the input are ``fill`` too,
    those past it are cut). One copy at most: none when x is an NCHW view of a (C, H, W, N) array of that dtype
    and there is no padding."""
    (top, bottom), (left, right) = pads
    x = x.transpose(1, 2, 3, 0)
    C, H, W, N = x.shape
    Hp, Wp = size or (top + H + bottom, left + W + right)
    if (Hp, Wp) == (H, W) and top == left == 0:
        return np.ascontiguousarray(x, dtype)
    out = np.full((C, Hp, Wp, N), fill, dtype or x.dtype)
    h, w = min(H, Hp - top), min(W, Wp - left)
    out[:, top:top + h, left:left + w] = x[:, :h, :w]
    return out


def offsets(kernel: Pair, stride: Pair, dilation: Pair, out: Pair) -> list[tuple[int, int, slice, slice]]:
    """(i, j, rows, cols) per kernel offset: the slices of a padded (C, H, W, N) array that offset (i, j) of every
    window reads (one element per output position)."""
    return [(i, j, slice(i * dilation[0], i * dilation[0] + stride[0] * (out[0] - 1) + 1, stride[0]),
             slice(j * dilation[1], j * dilation[1] + stride[1] * (out[1] - 1) + 1, stride[1]))
            for i in range(kernel[0]) for j in range(kernel[1])]


def im2col(xp: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair, out: Pair) -> np.ndarray:
    """Padded (C, H, W, N) → columns (C·kh·kw, OH·OW·N): one copy through a stride-tricks view."""
    C, _, _, N = xp.shape
    sc, sh, sw, sn = xp.strides
    view = as_strided(xp, (C, kernel[0], kernel[1], out[0], out[1], N),
                      (sc, sh * dilation[0], sw * dilation[1], sh * stride[0], sw * stride[1], sn), writeable=False)
    return view.reshape(C * kernel[0] * kernel[1], out[0] * out[1] * N)


def col2im(cols: np.ndarray, shape: tuple[int, ...], kernel: Pair, stride: Pair, dilation: Pair,
           out: Pair) -> np.ndarray:
    """The adjoint of ``im2col``: columns (C·kh·kw, OH·OW·N) added back onto a zero (C, H, W, N) array of
    ``shape`` (one strided add per kernel offset)."""
    C, N = shape[0], shape[3]
    cols = cols.reshape(C, kernel[0], kernel[1], out[0], out[1], N)
    image = np.zeros(shape, cols.dtype)
    for i, j, rows, columns in offsets(kernel, stride, dilation, out):
        image[:, rows, columns] += cols[:, i, j]
    return image


# GEMMs in blocks: OpenBLAS multiplies matrices of up to M·N·K = 100³ with its "small matrix" kernels, which skip
# the packing copies of the operands and run on one thread. A convolution's GEMM has few rows and a long axis
# (OH·OW·N), so each one is cut into equal blocks under that size. Measured on LeNet's first convolution, 6 × 25
# by 25 × 50,176: 550 → 260 µs at one thread; at two threads on the shared machine the unblocked GEMM took 12 ms
# when a thread lost its core, the blocked one 200 µs.
SMALL_GEMM = 1_000_000


@functools.lru_cache(maxsize=256)
def _blocks(work_per_column: int, columns: int) -> int:
    """The fewest equal blocks (a divisor of ``columns``) that keep each product under SMALL_GEMM."""
    fewest = -(-work_per_column * columns // SMALL_GEMM)
    return next(n for n in range(max(fewest, 1), columns + 1) if columns % n == 0)


def blocked_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a · b for (g, M, K) and (g, K, L) → (g, M, L), L cut into blocks (see SMALL_GEMM)."""
    (groups, rows, inner), length = a.shape, b.shape[-1]
    n = _blocks(rows * inner, length)
    if n == 1:
        return np.matmul(a, b)
    out = np.empty((groups, rows, length), np.result_type(a, b))
    np.matmul(a[:, None], b.reshape(groups, inner, n, -1).transpose(0, 2, 1, 3),
              out=out.reshape(groups, rows, n, -1).transpose(0, 2, 1, 3))
    return out


def outer_sum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a · bᵀ over a long last axis, (g, M, L) and (g, K, L) → (g, M, K): a weight's gradient.

    The long axis is cut into blocks (see SMALL_GEMM) whose products are summed, and the taller operand goes
    first, as (b · aᵀ)ᵀ when K > M: OpenBLAS's path for the other order was about twice as slow on these shapes
    (LeNet's first convolution, 6 × 50,176 by 25 × 50,176: 1,090 vs 530 µs unblocked).
    """
    if b.shape[-2] > a.shape[-2]:
        return outer_sum(b, a).swapaxes(-1, -2)
    (groups, rows, length), cols = a.shape, b.shape[-2]
    n = _blocks(rows * cols, length)
    if n == 1:
        return np.matmul(a, b.swapaxes(-1, -2))
    parts = np.matmul(a.reshape(groups, rows, n, -1).transpose(0, 2, 1, 3),
                      b.reshape(groups, cols, n, -1).transpose(0, 2, 3, 1))
    return np.add.reduce(parts, axis=1)


def _crop(xp: np.ndarray, pads: Pads, size: Pair) -> np.ndarray:
    (top, _), (left, _) = pads
    return xp[:, top:top + size[0], left:left + size[1]]


def _nchw(x: np.ndarray) -> np.ndarray:
    """A (C, H, W, N) array seen as (N, C, H, W) (a view)."""
    return x.transpose(3, 0, 1, 2)


# ------------------------------------------------------------------------------------------ checks

def _spatial_input(layer: str, x: Any, dims: int, channels: int | None = None) -> tuple[Tensor, bool]:
    """``x`` as a Tensor, and whether it was unbatched (PyTorch accepts (C, *spatial) as a batch of one).
    ValueError naming the expected shapes, or the expected and the actual channel count."""
    x = as_tensor(x)
    shape = x._data.shape
    letters = ("L",) if dims == 1 else ("H", "W")
    expected = f"(N, C, {', '.join(letters)}) or unbatched (C, {', '.join(letters)})"
    if len(shape) not in (dims + 1, dims + 2):
        raise ValueError(f"{layer} expects input of shape {expected}, got shape {shape}")
    unbatched = len(shape) == dims + 1
    if channels is not None and shape[0 if unbatched else 1] != channels:
        read_as = f"read as unbatched (C={shape[0]}, {', '.join(letters)})" if unbatched else f"C={shape[1]}"
        if unbatched and channels == 1:
            read_as += f"; give a batch of one-channel inputs its channel axis: x.reshape(N, 1, {', '.join(letters)})"
        raise ValueError(f"{layer} expects {channels} input channels, input (N, C, {', '.join(letters)}) = "
                         f"(N, {channels}, {', '.join(letters)}), but got shape {shape} ({read_as})")
    if x._data.dtype.kind != "f":
        raise TypeError(f"{layer} expects a floating-point input, got dtype {x._data.dtype}")
    return x, unbatched


def _batched(x: Tensor, unbatched: bool) -> np.ndarray:
    return x._data[None] if unbatched else x._data


def _as_spatial_2d(data: np.ndarray, dims: int) -> np.ndarray:
    """A 1-D spatial (N, C, L) array as (N, C, 1, L); a 2-D one as it is."""
    return data[:, :, None, :] if dims == 1 else data


# ------------------------------------------------------------------------------------------ convolution

def conv2d(input: Any, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation, PyTorch's ``F.conv2d``, as one graph node.

    input (N, C_in, H, W) or (C_in, H, W); weight (C_out, C_in/groups, kh, kw); bias (C_out,) →
    (N, C_out, OH, OW) with OH = ⌊(H + pads − dilation·(kh−1) − 1) / stride⌋ + 1.
    """
    return convolution("conv2d", input, weight, bias, stride, padding, dilation, groups, 2)


def conv1d(input: Any, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation (PyTorch's ``F.conv1d``): input (N, C_in, L) or (C_in, L); weight
    (C_out, C_in/groups, k) → (N, C_out, L_out). Runs as conv2d over a height of one."""
    return convolution("conv1d", input, weight, bias, stride, padding, dilation, groups, 1)


def convolution(layer: str, input: Any, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any,
                 dilation: Any, groups: int, dims: int) -> Tensor:
    """conv1d (dims 1) or conv2d (dims 2) as one node; ``layer`` names the caller in error messages."""
    W = weight._data
    if W.ndim != dims + 2:
        raise ValueError(f"{layer}: weight must have {dims + 2} dimensions (out, in/groups, *kernel), got shape "
                         f"{W.shape}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1 or W.shape[0] % groups:
        raise ValueError(f"{layer}: groups must be a positive int that divides the {W.shape[0]} output channels, "
                         f"got {groups!r}")
    x, unbatched = _spatial_input(layer, input, dims, W.shape[1] * groups)
    if bias is not None and bias._data.shape != (W.shape[0],):
        raise ValueError(f"{layer}: bias must have shape ({W.shape[0]},), got {bias._data.shape}")
    kernel = W.shape[2:]
    stride = pair(f"{layer}: stride", stride, dims)
    dilation = pair(f"{layer}: dilation", dilation, dims)
    pads = conv_padding(layer, padding, kernel, stride, dilation)
    if dims == 1:
        kernel, stride, dilation, pads = (1, *kernel), (1, *stride), (1, *dilation), ((0, 0), *pads)
    X = _as_spatial_2d(_batched(x, unbatched), dims)
    W4 = _as_spatial_2d(W, dims)
    N, C, H, Wd = X.shape
    out_hw = (_out_size(layer, H, pads[0], kernel[0], stride[0], dilation[0]),
              _out_size(layer, Wd, pads[1], kernel[1], stride[1], dilation[1]))
    xp = padded(X, pads, dtype=W.dtype)  # computed in the weight's dtype (as Linear casts its input)
    cols = im2col(xp, kernel, stride, dilation, out_hw).reshape(groups, -1, out_hw[0] * out_hw[1] * N)
    W3 = W4.reshape(groups, W4.shape[0] // groups, -1)
    out = blocked_matmul(W3, cols).reshape(W4.shape[0], -1)  # (C_out, OH·OW·N)
    if bias is not None:
        out += bias._data[:, None]
    out_shape = (W4.shape[0], *out_hw, N)

    def backward(g: np.ndarray) -> tuple:
        g = (g[None] if unbatched else g)
        g2 = to_chwn(_as_spatial_2d(g, dims)).reshape(W4.shape[0], -1)
        g3 = g2.reshape(groups, -1, g2.shape[1])
        gx = gw = gb = None
        if x.requires_grad:
            gcols = blocked_matmul(W3.transpose(0, 2, 1), g3)
            gxp = col2im(gcols, xp.shape, kernel, stride, dilation, out_hw)
            gx = _nchw(_crop(gxp, pads, (H, Wd)))
            gx = gx[:, :, 0] if dims == 1 else gx
            gx = (gx[0] if unbatched else gx).astype(X.dtype, copy=False)
        if weight.requires_grad:
            gw = outer_sum(g3, cols).reshape(W.shape)
        if bias is not None and bias.requires_grad:
            gb = np.add.reduce(g2, axis=1)
        return (gx, gw) if bias is None else (gx, gw, gb)
    data = _nchw(out.reshape(out_shape))
    data = data[:, :, 0] if dims == 1 else data
    parents = (x, weight) if bias is None else (x, weight, bias)
    return result(data[0] if unbatched else data, parents, backward)


def conv_transpose2d(input: Any, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """2-D transposed convolution (PyTorch's ``F.conv_transpose2d``: the gradient of conv2d with respect to its
    input), one graph node. input (N, C_in, H, W) or (C_in, H, W); weight (C_in, C_out/groups, kh, kw) →
    (N, C_out, OH, OW), OH = (H−1)·stride − 2·padding + dilation·(kh−1) + output_padding + 1."""
    layer = "conv_transpose2d"
    W = weight._data
    if W.ndim != 4:
        raise ValueError(f"{layer}: weight must be (in, out/groups, kh, kw), got shape {W.shape}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1 or W.shape[0] % groups:
        raise ValueError(f"{layer}: groups must be a positive int that divides the {W.shape[0]} input channels, "
                         f"got {groups!r}")
    x, unbatched = _spatial_input(layer, input, 2, W.shape[0])
    c_out = W.shape[1] * groups
    if bias is not None and bias._data.shape != (c_out,):
        raise ValueError(f"{layer}: bias must have shape ({c_out},), got {bias._data.shape}")
    kernel = W.shape[2:]
    stride = pair(f"{layer}: stride", stride)
    dilation = pair(f"{layer}: dilation", dilation)
    padding = pair(f"{layer}: padding", padding, minimum=0)
    output_padding = pair(f"{layer}: output_padding", output_padding, minimum=0)
    if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"{layer}: output_padding {output_padding} must be smaller than the stride {stride} or "
                         f"the dilation {dilation}")
    X = _batched(x, unbatched)
    N, C, H, Wd = X.shape
    in_hw = (H, Wd)
    # the conv2d that this transposes: its input is the padded output, its output has the input's size
    full = tuple((n - 1) * s + d * (k - 1) + 1 + op for n, s, d, k, op in
                 zip(in_hw, stride, dilation, kernel, output_padding))
    out_hw = tuple(f - 2 * p for f, p in zip(full, padding))
    if min(out_hw) < 1:
        raise ValueError(f"{layer}: input of spatial size {in_hw} gives an output of size {out_hw}")
    pads = tuple((p, f - n - p) for p, f, n in zip(padding, full, out_hw))
    xs = padded(X, ((0, 0), (0, 0)), dtype=W.dtype).reshape(groups, C // groups, -1)  # (groups, C_in/groups, H·W·N)
    W3 = W.reshape(groups, C // groups, -1)  # (groups, C_in/groups, C_out/groups·kh·kw)
    cols = blocked_matmul(W3.transpose(0, 2, 1), xs)
    image = col2im(cols, (c_out, *full, N), kernel, stride, dilation, in_hw)
    out = _crop(image, pads, out_hw)
    if bias is not None:
        out += bias._data[:, None, None, None]

    def backward(g: np.ndarray) -> tuple:
        g = g[None] if unbatched else g
        gp = padded(g, pads)
        gcols = im2col(gp, kernel, stride, dilation, in_hw).reshape(groups, -1, H * Wd * N)
        gx = gw = gb = None
        if x.requires_grad:
            gx = _nchw(blocked_matmul(W3, gcols).reshape(C, H, Wd, N))
            gx = (gx[0] if unbatched else gx).astype(X.dtype, copy=False)
        if weight.requires_grad:
            gw = outer_sum(xs, gcols).reshape(W.shape)
        if bias is not None and bias.requires_grad:
            gb = np.add.reduce(gp.reshape(c_out, -1), axis=1)
        return (gx, gw) if bias is None else (gx, gw, gb)
    data = _nchw(out)
    parents = (x, weight) if bias is None else (x, weight, bias)
    return result(data[0] if unbatched else data, parents, backward)


# ------------------------------------------------------------------------------------------ pooling

def pool_out_size(layer: str, size: int, kernel: int, stride: int, padding: int, dilation: int,
                  ceil_mode: bool) -> int:
    """PyTorch's pooling output size: ⌊ or ⌈(size + 2·padding − dilation·(kernel−1) − 1) / stride⌉ + 1, where in
    ceil mode the last window must start inside the input or its left padding."""
    span = dilation * (kernel - 1) + 1
    if size + 2 * padding < span:
        raise ValueError(f"{layer}: input size {size} (padded {size + 2 * padding}) is smaller than the window "
                         f"{span}")
    out = (size + 2 * padding - span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _pool_setup(layer: str, input: Any, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
                ceil_mode: bool) -> tuple:
    """Checked arguments of a 2-D pooling: (x, unbatched, X, kernel, stride, padding, dilation, out_hw)."""
    x, unbatched = _spatial_input(layer, input, 2)
    kernel = pair(f"{layer}: kernel_size", kernel_size)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) else \
        pair(f"{layer}: stride", stride)
    padding = pair(f"{layer}: padding", padding, minimum=0)
    dilation = pair(f"{layer}: dilation", dilation)
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError(f"{layer}: padding {padding} should be at most half of kernel_size {kernel}")
    X = _batched(x, unbatched)
    out_hw = tuple(pool_out_size(layer, n, k, s, p, d, ceil_mode)
                   for n, k, s, p, d in zip(X.shape[2:], kernel, stride, padding, dilation))
    return x, unbatched, X, kernel, stride, padding, dilation, out_hw


def _pool_extent(in_hw: Pair, out_hw: Pair, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair) -> Pair:
    """(rows, columns) of the padded input: as far as the windows reach (in ceil mode past the input), and at
    least the input after its leading padding."""
    return tuple(max((o - 1) * s + d * (k - 1) + 1, p + n)
                 for n, o, k, s, p, d in zip(in_hw, out_hw, kernel, stride, padding, dilation))


def max_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """The maximum of each window (PyTorch's ``F.max_pool2d``; padding counts as −∞), one graph node. The
    gradient goes to the first maximum of each window. With ``return_indices``, also the (N, C, OH, OW) int64
    positions h·W + w of the maxima in the input."""
    layer = "max_pool2d"
    x, unbatched, X, kernel, stride, padding, dilation, out_hw = _pool_setup(
        layer, input, kernel_size, stride, padding, dilation, ceil_mode)
    N, C, H, W = X.shape
    pads = tuple((p, 0) for p in padding)
    xp = padded(X, pads, _pool_extent((H, W), out_hw, kernel, stride, padding, dilation), -np.inf)
    windows = offsets(kernel, stride, dilation, out_hw)
    best = xp[:, windows[0][2], windows[0][3]].copy()
    for _, _, rows, cols in windows[1:]:
        np.maximum(best, xp[:, rows, cols], out=best)

    def first_maxima() -> Any:
        """(offset, rows, cols, hit) per kernel offset, hit marking the windows whose first maximum is there."""
        unclaimed = np.ones(best.shape, bool)
        for k, (_, _, rows, cols) in enumerate(windows):
            hit = xp[:, rows, cols] == best
            hit &= unclaimed
            unclaimed ^= hit
            yield k, rows, cols, hit

    def backward(g: np.ndarray) -> tuple:
        g = to_chwn(g[None] if unbatched else g)
        gxp = np.zeros(xp.shape, g.dtype)
        for _, rows, cols, hit in first_maxima():
            if overlapping:
                gxp[:, rows, cols] += g * hit
            else:  # each input element is in one window at most: write, do not add
                np.multiply(g, hit, out=gxp[:, rows, cols])
        gx = _nchw(_crop(gxp, pads, (H, W)))
        return (gx[0] if unbatched else gx,)
    overlapping = any(s < d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))
    data = _nchw(best)
    out = result(data[0] if unbatched else data, (x,), backward)
    if not return_indices:
        return out
    winner = np.zeros(best.shape, np.int64)  # the offset number of each window's first maximum
    for k, _, _, hit in first_maxima():
        winner += k * hit
    i = np.array([wi for wi, _, _, _ in windows])[winner]  # kernel row and column of each maximum
    j = np.array([wj for _, wj, _, _ in windows])[winner]
    rows = np.arange(out_hw[0])[None, :, None, None] * stride[0] - padding[0] + i * dilation[0]
    cols = np.arange(out_hw[1])[None, None, :, None] * stride[1] - padding[1] + j * dilation[1]
    indices = _nchw((rows * W + cols).astype(np.int64))
    return out, Tensor._wrap(indices[0] if unbatched else indices)  # int64: no graph, no cast


def _avg_divisors(size: int, out: int, kernel: int, stride: int, padding: int, count_include_pad: bool) -> np.ndarray:
    """Per output position along one axis, how many of the window's elements count (PyTorch's rule: the window
    clipped to the padded input, or to the input itself without count_include_pad)."""
    start = np.arange(out) * stride - padding
    end = np.minimum(start + kernel, size + padding)
    if not count_include_pad:
        start, end = np.maximum(start, 0), np.minimum(end, size)
    return end - start


def avg_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """The mean of each window (PyTorch's ``F.avg_pool2d``, with its divisors for padding and ceil mode), one
    graph node."""
    layer = "avg_pool2d"
    x, unbatched, X, kernel, stride, padding, dilation, out_hw = _pool_setup(
        layer, input, kernel_size, stride, padding, 1, ceil_mode)
    N, C, H, W = X.shape
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override, int) or divisor_override < 1:
            raise ValueError(f"{layer}: divisor_override must be a positive int, got {divisor_override!r}")
        scale = np.asarray(1.0 / divisor_override, X.dtype)
    else:
        dh, dw = (_avg_divisors(n, o, k, s, p, count_include_pad)
                  for n, o, k, s, p in zip((H, W), out_hw, kernel, stride, padding))
        scale = (1.0 / (dh[:, None] * dw[None, :])).astype(X.dtype)[None, :, :, None]
    pads = tuple((p, 0) for p in padding)
    xp = padded(X, pads, _pool_extent((H, W), out_hw, kernel, stride, padding, dilation))
    windows = offsets(kernel, stride, dilation, out_hw)
    total = xp[:, windows[0][2], windows[0][3]].copy()
    for _, _, rows, cols in windows[1:]:
        total += xp[:, rows, cols]
    total *= scale

    def backward(g: np.ndarray) -> tuple:
        share = to_chwn(g[None] if unbatched else g) * scale
        gxp = np.zeros(xp.shape, share.dtype)
        for _, _, rows, cols in windows:
            gxp[:, rows, cols] += share
        gx = _nchw(_crop(gxp, pads, (H, W)))
        return (gx[0] if unbatched else gx,)
    data = _nchw(total)
    return result(data[0] if unbatched else data, (x,), backward)


def _adaptive_matrix(size: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, size): row i averages PyTorch's adaptive window [⌊i·size/out⌋, ⌈(i+1)·size/out⌉)."""
    i = np.arange(out)
    start, end = i * size // out, -(-(i + 1) * size // out)
    positions = np.arange(size)
    inside = (positions >= start[:, None]) & (positions < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def adaptive_avg_pool2d(input: Any, output_size: Any) -> Tensor:
    """Average pooling to a fixed (OH, OW) (PyTorch's ``F.adaptive_avg_pool2d``; None keeps that size). The
    windows are separable, so the node is two matrix products: rows (OH, H) · x · columns (W, OW)."""
    layer = "adaptive_avg_pool2d"
    x, unbatched = _spatial_input(layer, input, 2)
    X = x._data
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if len(sizes) != 2:
        raise ValueError(f"{layer}: output_size must be an int or 2 of them (None keeps a size), got {output_size!r}")
    out_hw = tuple(n if o is None else pair(f"{layer}: output_size", o, 1)[0] for o, n in zip(sizes, X.shape[-2:]))
    rows = _adaptive_matrix(X.shape[-2], out_hw[0], X.dtype)
    cols = _adaptive_matrix(X.shape[-1], out_hw[1], X.dtype).T
    out = rows @ X @ cols
    return result(out, (x,), lambda g: (rows.T @ g @ cols.T,))


def _one_d(layer: str, value: Any, name: str, height: int) -> tuple[int, int]:
    """A 1-D pooling argument as the (height, length) pair of the 2-D pooling over a height of one."""
    return (height, pair(f"{layer}: {name}", value, 1, minimum=0 if name == "padding" else 1)[0])


def _as_2d(x: Tensor) -> Tensor:
    """(…, L) → (…, 1, L): a 1-D input as an image of height one (a reshape node)."""
    return reshape(x, x._data.shape[:-1] + (1, x._data.shape[-1]))


def _as_1d(x: Tensor) -> Tensor:
    return reshape(x, x._data.shape[:-2] + (x._data.shape[-1],))


def max_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """PyTorch's ``F.max_pool1d``: (N, C, L) or (C, L) → (N, C, L_out), as max_pool2d over a height of one."""
    layer = "max_pool1d"
    x, _ = _spatial_input(layer, input, 1)
    stride = kernel_size if stride is None or (isinstance(stride, (tuple, list)) and not stride) else stride
    out = max_pool2d(_as_2d(x), _one_d(layer, kernel_size, "kernel_size", 1), _one_d(layer, stride, "stride", 1),
                     _one_d(layer, padding, "padding", 0), _one_d(layer, dilation, "dilation", 1), ceil_mode,
                     return_indices)
    if return_indices:
        return _as_1d(out[0]), Tensor(out[1]._data[..., 0, :])  # the row is 0: h·W + w is w
    return _as_1d(out)


def avg_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """PyTorch's ``F.avg_pool1d``: (N, C, L) or (C, L) → (N, C, L_out), as avg_pool2d over a height of one."""
    layer = "avg_pool1d"
    x, _ = _spatial_input(layer, input, 1)
    stride = kernel_size if stride is None or (isinstance(stride, (tuple, list)) and not stride) else stride
    return _as_1d(avg_pool2d(_as_2d(x), _one_d(layer, kernel_size, "kernel_size", 1),
                             _one_d(layer, stride, "stride", 1), _one_d(layer, padding, "padding", 0),
                             ceil_mode, count_include_pad))


def adaptive_avg_pool1d(input: Any, output_size: Any) -> Tensor:
    """PyTorch's ``F.adaptive_avg_pool1d``: (N, C, L) or (C, L) → (N, C, output_size)."""
    x, _ = _spatial_input("adaptive_avg_pool1d", input, 1)
    size = output_size[0] if isinstance(output_size, (tuple, list)) and len(output_size) == 1 else output_size
    return _as_1d(adaptive_avg_pool2d(_as_2d(x), (1, size)))


# ------------------------------------------------------------------------------------------ upsampling

def interpolation_sizes(spatial: tuple[int, ...], size: Any, scale_factor: Any,
                        recompute_scale_factor: bool | None) -> tuple[tuple[int, ...], tuple[float | None, ...]]:
    """``F.interpolate``'s output sizes from ``size`` or ``scale_factor`` (exactly one given; one for all spatial
    axes or one each), and the scale factors that set the source positions: None where in/out is used instead
    (``size`` given, or ``recompute_scale_factor``)."""
    dims = len(spatial)
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        return pair("interpolate: size", size, dims), (None,) * dims
    scales = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * dims
    if len(scales) != dims or any(isinstance(s, bool) or not isinstance(s, (int, float)) or s <= 0 for s in scales):
        raise ValueError(f"interpolate: scale_factor must be a positive number or {dims} of them, got "
                         f"{scale_factor!r}")
    sizes = tuple(int(math.floor(n * s)) for n, s in zip(spatial, scales))
    return sizes, (None,) * dims if recompute_scale_factor else tuple(float(s) for s in scales)


def _nearest_sources(size: int, out: int, scale: float | None, exact: bool) -> np.ndarray:
    """For each output position along one axis, the input position that PyTorch's nearest mode copies
    (⌊i·scale⌋, with scale = 1/scale_factor when given, else size/out; float32 arithmetic as torch)."""
    ratio = np.float32(1.0 / scale) if scale else np.float32(size) / np.float32(out)
    i = np.arange(out, dtype=np.float32)
    src = np.floor(((i + np.float32(0.5)) if exact else i) * ratio).astype(np.int64)
    return np.minimum(src, size - 1)


def interpolate(input: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial axes of (N, C, L) or (N, C, H, W) by copying the nearest input element (PyTorch's
    ``F.interpolate`` in mode "nearest" or "nearest-exact"), one graph node; the gradient sums what each input
    element was copied to."""
    layer = "interpolate"
    if mode not in ("nearest", "nearest-exact"):
        raise NotImplementedError(f"{layer}: mode {mode!r} is not implemented; glassnet has 'nearest' and "
                                  f"'nearest-exact'")
    if align_corners is not None:
        raise ValueError(f"{layer}: align_corners only applies to the linear modes, not {mode!r}")
    if antialias:
        raise ValueError(f"{layer}: antialias only applies to the linear and cubic modes")
    x = as_tensor(input)
    X = x._data
    dims = X.ndim - 2
    if dims not in (1, 2):
        raise ValueError(f"{layer} expects input (N, C, L) or (N, C, H, W), got shape {X.shape}")
    spatial = X.shape[2:]
    sizes, scales = interpolation_sizes(spatial, size, scale_factor, recompute_scale_factor)
    sources = [_nearest_sources(n, o, s, mode == "nearest-exact") for n, o, s in zip(spatial, sizes, scales)]
    index = (slice(None), slice(None), *np.ix_(*sources))
    out = X[index]

    def backward(g: np.ndarray) -> tuple:
        for axis, (src, n) in enumerate(zip(sources, spatial), 2):
            g = _sum_into(g, src, n, axis)
        return (g,)
    return result(out, (x,), backward)


def _sum_into(g: np.ndarray, sources: np.ndarray, size: int, axis: int) -> np.ndarray:
    """Along ``axis``, add the entries of g that came from the same input position (``sources`` is
    non-decreasing): one ``reduceat`` over the runs."""
    used, starts = np.unique(sources, return_index=True)
    sums = np.add.reduceat(g, starts, axis=axis)
    if len(used) == size:
        return sums
    shape = list(g.shape)
    shape[axis] = size
    out = np.zeros(shape, g.dtype)
    out[(slice(None),) * axis + (used,)] = sums
    return out
