"""Differentiable ops on Tensors, one file per family; each op computes its output and, right beside it, its
local backward ``g ↦ one gradient per input``.

- ``elementwise``: arithmetic with PyTorch's dtype promotion, math functions, comparisons, in-place forms
- ``activations``: tanh, sigmoid, relu, … as ``Activation`` kernels (shared with the fused dense layers), softmax
- ``reduce``: sum, mean, var, norm, max/min with indices, sort, topk, cumsum
- ``shape``: reshape, permute, expand, flip, cat, stack, split …
- ``index``: ``x[i]``, ``x[i] = v``, gather, index_select, masked_fill
- ``linalg``: matmul, mm, bmm, dot, outer, einsum
- ``creation``: tensor, zeros, arange, rand, … (no gradient of their own)
- ``conv``: convolutions, pooling and interpolation (im2col GEMMs); exported by ``nn.functional`` (``F.conv2d``),
  as in PyTorch, and not here

Every name of the other families is re-exported here (``from glassnet import ops; ops.add(a, b)``).
"""
from . import activations, conv, creation, elementwise, index, linalg, reduce, shape
from .activations import *  # noqa: F401,F403
from .activations import __all__ as _activations
from .creation import *  # noqa: F401,F403
from .creation import __all__ as _creation
from .elementwise import *  # noqa: F401,F403
from .elementwise import __all__ as _elementwise
from .index import *  # noqa: F401,F403
from .index import __all__ as _index
from .linalg import *  # noqa: F401,F403
from .linalg import __all__ as _linalg
from .reduce import *  # noqa: F401,F403
from .reduce import __all__ as _reduce
from .shape import *  # noqa: F401,F403
from .shape import __all__ as _shape

__all__ = [*_elementwise, *_activations, *_reduce, *_shape, *_index, *_linalg, *_creation]
