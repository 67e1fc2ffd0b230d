"""PyTorch's tensor API, op by op: forward and gradient against torch (float64, 1e-6) and central differences,
over shapes with broadcasting and negative dims, one line per case (tinygrad's test_ops style, ``check`` from
conftest). Where one lambda works on both libraries it is written once."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import glassnet as gn

SAME = None  # the torch lambda runs on glassnet tensors as written

UNARY = [  # (id, shape, torch, glassnet or SAME, input range)
    ("log1p", (2, 3), lambda x: x.log1p(), SAME, (-0.5, 2)),
    ("expm1", (2, 3), lambda x: x.expm1(), SAME, (-2, 2)),
    ("log2", (3,), lambda x: x.log2(), SAME, (0.2, 3)),
    ("log10", (3,), lambda x: x.log10(), SAME, (0.2, 3)),
    ("rsqrt", (2, 3), lambda x: x.rsqrt(), SAME, (0.2, 3)),
    ("gn.rsqrt", (4,), torch.rsqrt, gn.rsqrt, (0.2, 3)),
    ("square", (2, 3), lambda x: x.square(), SAME, (-2, 2)),
    ("reciprocal", (2, 3), lambda x: x.reciprocal(), SAME, (0.5, 2)),
    ("sin", (2, 3, 2), lambda x: x.sin(), SAME, (-3, 3)),
    ("cos", (2, 3, 2), lambda x: x.cos(), SAME, (-3, 3)),
    ("gn.sin", (4,), torch.sin, gn.sin, (-3, 3)),
    ("gn.cos", (4,), torch.cos, gn.cos, (-3, 3)),
    ("tan", (5,), lambda x: x.tan(), SAME, (-1, 1)),
    ("erf", (2, 3), lambda x: x.erf(), SAME, (-2, 2)),
    ("gn.erf", (5,), torch.erf, gn.erf, (-2, 2)),
    ("sign", (2, 3), lambda x: x.sign() * x, SAME, (-2, 2)),
    ("floor", (2, 3), lambda x: x.floor() + x, SAME, (-2, 2)),
    ("ceil", (2, 3), lambda x: x.ceil() * x, SAME, (-2, 2)),
    ("round", (2, 3), lambda x: x.round() + x, SAME, (-2, 2)),
    ("neg", (2, 3), lambda x: torch.neg(x), lambda x: gn.neg(x), (-2, 2)),
    ("abs()", (2, 3), abs, SAME, (-2, 2)),
    ("clamp tensor method min only", (3, 4), lambda x: x.clamp(min=-0.5), SAME, (-2, 2)),
    ("clamp_max", (3, 4), lambda x: x.clamp_max(0.5), SAME, (-2, 2)),
    ("clamp_min", (3, 4), lambda x: x.clamp_min(-0.5), SAME, (-2, 2)),
    ("gn.clamp", (3, 4), lambda x: torch.clamp(x, -1, 1), lambda x: gn.clamp(x, -1, 1), (-2, 2)),
    ("tanh 0-d", (), lambda x: x.tanh(), SAME, (-2, 2)),
    ("sigmoid 0-d", (), lambda x: x.sigmoid(), SAME, (-2, 2)),
    ("relu 0-d", (), lambda x: x.relu(), SAME, (-2, 2)),
    ("gn.tanh 0-d", (), torch.tanh, gn.tanh, (-2, 2)),
]


@pytest.mark.parametrize("name, shape, torch_fn, gn_fn, bounds", UNARY, ids=[c[0] for c in UNARY])
def test_unary(check, name, shape, torch_fn, gn_fn, bounds):
    check([shape], torch_fn, gn_fn, low=bounds[0], high=bounds[1], fd=name not in ("floor", "ceil", "round"))


BINARY = [  # (id, shapes, torch, glassnet or SAME, input range)
    ("gn.add alpha", ((2, 3), (3,)), lambda a, b: torch.add(a, b, alpha=2), lambda a, b: gn.add(a, b, alpha=2),
     (-2, 2)),
    ("sub method alpha", ((2, 3), (2, 1)), lambda a, b: a.sub(b, alpha=0.5), SAME, (-2, 2)),
    ("gn.mul", ((4, 1), (1, 3)), torch.mul, gn.mul, (-2, 2)),
    ("gn.div", ((2, 3), (3,)), torch.div, gn.div, (0.5, 2)),
    ("gn.sub", ((2, 3), ()), torch.sub, gn.sub, (-2, 2)),
    ("gn.pow", ((2, 3), (2, 3)), torch.pow, gn.pow, (0.5, 2)),
    ("maximum", ((2, 3), (3,)), torch.maximum, gn.maximum, (-2, 2)),
    ("minimum", ((3, 1), (1, 4)), torch.minimum, gn.minimum, (-2, 2)),
    ("max(a, b)", ((2, 3), (2, 3)), torch.max, gn.max, (-2, 2)),
    ("remainder", ((2, 3), (3,)), lambda a, b: a % (b.abs() + 1), SAME, (-3, 3)),
    ("mm", ((3, 4), (4, 2)), torch.mm, gn.mm, (-2, 2)),
    ("mm method", ((3, 4), (4, 2)), lambda a, b: a.mm(b), SAME, (-2, 2)),
    ("bmm", ((2, 3, 4), (2, 4, 5)), torch.bmm, gn.bmm, (-2, 2)),
    ("dot", ((5,), (5,)), torch.dot, gn.dot, (-2, 2)),
    ("outer", ((3,), (4,)), torch.outer, gn.outer, (-2, 2)),
    ("einsum ij,jk->ik", ((3, 4), (4, 2)), lambda a, b: torch.einsum("ij,jk->ik", a, b),
     lambda a, b: gn.einsum("ij,jk->ik", a, b), (-2, 2)),
    ("einsum attention scores", ((2, 3, 4, 5), (2, 3, 6, 5)), lambda q, k: torch.einsum("bhqd,bhkd->bhqk", q, k),
     lambda q, k: gn.einsum("bhqd,bhkd->bhqk", q, k), (-2, 2)),
    ("einsum attention values", ((2, 3, 4, 6), (2, 3, 6, 5)), lambda p, v: torch.einsum("bhqk,bhkd->bhqd", p, v),
     lambda p, v: gn.einsum("bhqk,bhkd->bhqd", p, v), (-2, 2)),
    ("einsum with ellipsis", ((2, 4, 5), (2, 6, 5)), lambda q, k: torch.einsum("...qd,...kd->...qk", q, k),
     lambda q, k: gn.einsum("...qd,...kd->...qk", q, k), (-2, 2)),
    ("einsum sums a letter only one operand has", ((3, 4), (4,)), lambda a, b: torch.einsum("ij,j->", a, b),
     lambda a, b: gn.einsum("ij,j->", a, b), (-2, 2)),
    ("einsum implicit output", ((3, 4), (4, 2)), lambda a, b: torch.einsum("ij,jk", a, b),
     lambda a, b: gn.einsum("ij,jk", a, b), (-2, 2)),
    ("where method", ((2, 3), (3,)), lambda a, b: a.where(a > 0, b), SAME, (-2, 2)),
    ("lerp", ((2, 3), (2, 3)), lambda a, b: a.lerp(b, 0.3), SAME, (-2, 2)),
]


@pytest.mark.parametrize("name, shapes, torch_fn, gn_fn, bounds", BINARY, ids=[c[0] for c in BINARY])
def test_binary(check, name, shapes, torch_fn, gn_fn, bounds):
    check(shapes, torch_fn, gn_fn, low=bounds[0], high=bounds[1])


REDUCTIONS = [  # (id, shape, torch, glassnet or SAME)
    ("prod()", (2, 3), lambda x: x.prod(), SAME),
    ("prod(1)", (2, 3, 4), lambda x: x.prod(1), SAME),
    ("prod(-1, keepdim)", (3, 4), lambda x: x.prod(-1, keepdim=True), SAME),
    ("std()", (3, 4), lambda x: x.std(), SAME),
    ("std(0)", (3, 4), lambda x: x.std(0), SAME),
    ("std(dim=-1, unbiased=False)", (3, 4), lambda x: x.std(dim=-1, unbiased=False), SAME),
    ("var()", (3, 4), lambda x: x.var(), SAME),
    ("var(1, keepdim)", (2, 3, 4), lambda x: x.var(1, keepdim=True), SAME),
    ("var(correction=0)", (5,), lambda x: x.var(correction=0), SAME),
    ("var((0, 2))", (2, 3, 4), lambda x: x.var((0, 2)), SAME),
    ("norm()", (3, 4), lambda x: x.norm(), SAME),
    ("norm(dim=1)", (3, 4), lambda x: x.norm(dim=1), SAME),
    ("norm(p=1)", (3, 4), lambda x: x.norm(p=1), SAME),
    ("norm(p=3, dim=-1)", (3, 4), lambda x: x.norm(p=3, dim=-1), SAME),
    ("logsumexp(1)", (3, 4), lambda x: x.logsumexp(1), SAME),
    ("logsumexp(-1, keepdim)", (2, 3, 4), lambda x: x.logsumexp(-1, keepdim=True), SAME),
    ("gn.logsumexp large", (2, 5), lambda x: torch.logsumexp(x * 300, 0), lambda x: gn.logsumexp(x * 300, 0)),
    ("cumsum(0)", (3, 4), lambda x: x.cumsum(0), SAME),
    ("cumsum(dim=-1)", (2, 3, 4), lambda x: x.cumsum(dim=-1), SAME),
    ("max(-1).values", (3, 4), lambda x: x.max(-1).values, SAME),
    ("max(0, keepdim).values", (3, 4), lambda x: x.max(0, keepdim=True).values, SAME),
    ("min(1)[0]", (2, 3, 4), lambda x: x.min(1)[0], SAME),
    ("sort", (3, 5), lambda x: x.sort().values, SAME),
    ("sort(0, descending)", (3, 5), lambda x: x.sort(0, descending=True).values, SAME),
    ("gn.sort", (6,), lambda x: torch.sort(x).values, lambda x: gn.sort(x).values),
    ("topk(2)", (3, 5), lambda x: x.topk(2).values, SAME),
    ("topk(2, dim=0, largest=False)", (3, 5), lambda x: x.topk(2, dim=0, largest=False).values, SAME),
    ("sum(dim=-2, keepdim)", (2, 3, 4), lambda x: x.sum(dim=-2, keepdim=True), SAME),
    ("mean(axis=-1, keepdims)", (2, 3, 4), lambda x: x.mean(dim=-1, keepdim=True),
     lambda x: x.mean(axis=-1, keepdims=True)),
    ("sum(0) of a 0-d tensor", (), lambda x: x.sum(0), SAME),
    ("sum(-1) of a 0-d tensor", (), lambda x: x.sum(-1), SAME),
    ("amax(dim=-1)", (3, 4), lambda x: x.amax(dim=-1), SAME),
]


@pytest.mark.parametrize("name, shape, torch_fn, gn_fn", REDUCTIONS, ids=[c[0] for c in REDUCTIONS])
def test_reduction(check, name, shape, torch_fn, gn_fn):
    check([shape], torch_fn, gn_fn, low=0.2 if "prod" in name else -2.0)


def test_indices_of_max_min_sort_topk_argmax_equal_torch():
    values = np.random.default_rng(3).permutation(24).reshape(2, 3, 4).astype(np.float64)
    x, t = gn.tensor(values), torch.tensor(values)
    pairs = [(x.max(1), t.max(1)), (x.min(-1), t.min(-1)), (x.sort(0), t.sort(0)),
             (x.sort(-1, descending=True), t.sort(-1, descending=True)), (x.topk(2, 1), t.topk(2, 1)),
             (gn.max(x, dim=2, keepdim=True), torch.max(t, dim=2, keepdim=True))]
    for mine, theirs in pairs:
        np.testing.assert_array_equal(mine.values._data, theirs.values.numpy())
        np.testing.assert_array_equal(mine.indices._data, theirs.indices.numpy())
        assert mine.indices.dtype == np.int64
    for mine, theirs in [(x.argmax(), t.argmax()), (x.argmax(1), t.argmax(1)), (x.argmin(-1, keepdim=True),
                                                                             t.argmin(-1, keepdim=True))]:
        np.testing.assert_array_equal(mine._data, theirs.numpy())
    values_, indices_ = x.max(0)  # unpacks as a tuple
    assert values_.shape == (3, 4) and indices_.shape == (3, 4)


def test_max_dim_sends_the_gradient_to_the_chosen_index_like_torch(check):
    ties = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, -1.0]])
    check(None, lambda x: x.max(1).values, values=[ties], fd=False)
    check(None, lambda x: x.min(0).values, values=[ties], fd=False)


def test_any_all_and_bool_reductions():
    m = np.array([[True, False], [True, True]])
    x, t = gn.tensor(m), torch.tensor(m)
    for mine, theirs in [(x.any(), t.any()), (x.all(), t.all()), (x.any(0), t.any(0)), (x.all(dim=1), t.all(dim=1)),
                         (x.sum(), t.sum()), (x.sum(0), t.sum(0))]:
        assert mine.dtype == theirs.numpy().dtype
        np.testing.assert_array_equal(mine._data, theirs.numpy())


SHAPES = [  # (id, shape, torch, glassnet or SAME)
    ("view(-1, 2)", (2, 3, 4), lambda x: x.view(-1, 2), SAME),
    ("view_as", (2, 6), lambda x: x.view_as(x.reshape(3, 4)), SAME),
    ("unsqueeze(0)", (2, 3), lambda x: x.unsqueeze(0), SAME),
    ("unsqueeze(-1)", (2, 3), lambda x: x.unsqueeze(-1), SAME),
    ("squeeze()", (2, 1, 3, 1), lambda x: x.squeeze(), SAME),
    ("squeeze(1)", (2, 1, 3), lambda x: x.squeeze(1), SAME),
    ("squeeze(-1) of a dim that is not 1", (2, 3), lambda x: x.squeeze(-1), SAME),
    ("flatten(1, 2)", (2, 3, 4, 5), lambda x: x.flatten(1, 2), SAME),
    ("flatten(-2)", (2, 3, 4), lambda x: x.flatten(-2), SAME),
    ("flatten() of 0-d", (), lambda x: x.flatten(), SAME),
    ("unflatten", (2, 12), lambda x: x.unflatten(1, (3, 4)), SAME),
    ("permute(2, 0, 1)", (2, 3, 4), lambda x: x.permute(2, 0, 1), SAME),
    ("permute(-1, 0, 1)", (2, 3, 4), lambda x: x.permute(-1, 0, 1), SAME),
    ("transpose(0, -1)", (2, 3, 4), lambda x: x.transpose(0, -1), SAME),
    ("gn.transpose(x, 1, 2)", (2, 3, 4), lambda x: torch.transpose(x, 1, 2), lambda x: gn.transpose(x, 1, 2)),
    ("gn.transpose with a negative permutation", (2, 3, 4, 5), lambda x: x.permute(-2, -1, 1, 0),
     lambda x: gn.transpose(x, (-2, -1, 1, 0))),
    ("t()", (3, 4), lambda x: x.t(), SAME),
    ("t() of 1-D", (3,), lambda x: x.t(), SAME),
    ("mT", (2, 3, 4), lambda x: x.mT, SAME),
    ("expand", (3, 1), lambda x: x.expand(3, 4), SAME),
    ("expand -1 and new dims", (3, 1), lambda x: x.expand(2, -1, 4), SAME),
    ("expand_as", (1, 4), lambda x: x.expand_as(torch.zeros(3, 4)) if isinstance(x, torch.Tensor)
     else x.expand_as(gn.zeros(3, 4)), SAME),
    ("repeat", (2, 3), lambda x: x.repeat(2, 3), SAME),
    ("repeat with new dims", (2, 3), lambda x: x.repeat(2, 1, 2), SAME),
    ("tile", (2, 3), lambda x: x.tile(2), SAME),
    ("contiguous", (3, 4), lambda x: x.t().contiguous(), SAME),
    ("clone", (3, 4), lambda x: x.clone() * 2, SAME),
    ("flip(0)", (3, 4), lambda x: x.flip(0), SAME),
    ("flip(0, -1)", (2, 3, 4), lambda x: x.flip(0, -1), SAME),
    ("gn.flip", (3, 4), lambda x: torch.flip(x, (1,)), lambda x: gn.flip(x, (1,))),
    ("roll", (3, 4), lambda x: x.roll(1, 1), SAME),
    ("roll flat", (3, 4), lambda x: x.roll(5), SAME),
    ("roll two dims", (3, 4), lambda x: x.roll((1, -2), (0, 1)), SAME),
    ("tril", (4, 4), lambda x: x.tril(), SAME),
    ("triu(1)", (3, 5), lambda x: x.triu(1), SAME),
    ("gn.tril(-1)", (2, 4, 4), lambda x: torch.tril(x, -1), lambda x: gn.tril(x, -1)),
    ("narrow", (5, 3), lambda x: x.narrow(0, 1, 3), SAME),
    ("chunk(3)", (7, 2), lambda x: torch.cat([c * (i + 1) for i, c in enumerate(x.chunk(3))]),
     lambda x: gn.cat([c * (i + 1) for i, c in enumerate(x.chunk(3))])),
    ("split(2, dim=1)", (2, 5), lambda x: torch.cat([c * (i + 1) for i, c in enumerate(x.split(2, dim=1))], 1),
     lambda x: gn.cat([c * (i + 1) for i, c in enumerate(x.split(2, dim=1))], 1)),
    ("split([1, 3])", (4, 2), lambda x: x.split([1, 3])[1], SAME),
    ("unbind", (3, 2), lambda x: x.unbind(0)[2] * x.unbind(0)[0], SAME),
    ("gn.cat dim=-1", (2, 3), lambda x: torch.cat([x, x * 2], dim=-1), lambda x: gn.cat([x, x * 2], dim=-1)),
    ("gn.concatenate", (2, 3), lambda x: torch.concatenate([x, x], 0), lambda x: gn.concatenate([x, x], 0)),
    ("gn.stack dim=-1", (2, 3), lambda x: torch.stack([x, -x], dim=-1), lambda x: gn.stack([x, -x], dim=-1)),
    ("hstack", (2, 3), lambda x: torch.hstack([x, x]), lambda x: gn.hstack([x, x])),
    ("vstack", (3,), lambda x: torch.vstack([x, x]), lambda x: gn.vstack([x, x])),
    ("movedim", (2, 3, 4), lambda x: torch.movedim(x, 0, -1), lambda x: gn.movedim(x, 0, -1)),
    ("swapaxes", (2, 3, 4), lambda x: x.swapaxes(0, 2), SAME),
]


@pytest.mark.parametrize("name, shape, torch_fn, gn_fn", SHAPES, ids=[c[0] for c in SHAPES])
def test_shape(check, name, shape, torch_fn, gn_fn):
    check([shape], torch_fn, gn_fn)


def test_size_dim_numel_are_methods_as_in_torch():
    x = gn.zeros(2, 3, 4)
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.dim() == 3 and x.ndim == 3 and x.numel() == 24 and gn.numel(x) == 24 and x.shape == (2, 3, 4)
    assert len(x) == 2


I = np.array([2, 0, 2])
INDEXING = [  # (id, shape, index): x[index] on both libraries
    ("int with list (torch order)", (2, 3, 4, 5), (1, slice(None), slice(None), [0, 1])),
    ("int, list, slice", (2, 3, 4), (0, [2, 1], slice(1, None))),
    ("list, int", (3, 4), ([0, 2], 1)),
    ("ellipsis, int array", (2, 3, 4), (Ellipsis, np.array([0, 3]))),
    ("None, slice, int array", (3, 4), (None, slice(None), np.array([1, 1]))),
    ("bool mask from a comparison", (3, 4), "mask"),
    ("int and bool mask", (2, 3, 4), (1, np.array([True, False, True]))),
]


@pytest.mark.parametrize("name, shape, index", INDEXING, ids=[c[0] for c in INDEXING])
def test_indexing_follows_torch(check, to_torch, name, shape, index):
    if index == "mask":
        check([shape], lambda x: x[x > 0])
    else:
        check([shape], lambda x: x[to_torch(index)], lambda x: x[index])


GATHERS = [  # (id, shape, torch, glassnet or SAME)
    ("gather(1)", (3, 4), lambda x: x.gather(1, _t(x, [[0, 0], [3, 1], [2, 2]])), SAME),
    ("gather(0) smaller index", (3, 4), lambda x: torch.gather(x, 0, _t(x, [[2, 1, 0]])),
     lambda x: gn.gather(x, 0, _t(x, [[2, 1, 0]]))),
    ("gather(-1) 3-D", (2, 3, 4), lambda x: x.gather(-1, _t(x, np.zeros((2, 3, 2), int) + [1, 3])), SAME),
    ("index_select(0)", (4, 3), lambda x: x.index_select(0, _t(x, [3, 0, 3])), SAME),
    ("gn.index_select(-1)", (2, 4), lambda x: torch.index_select(x, -1, _t(x, [1, 1, 2])),
     lambda x: gn.index_select(x, -1, _t(x, [1, 1, 2]))),
    ("masked_fill", (3, 4), lambda x: x.masked_fill(x > 0.5, 0.0), SAME),
    ("masked_fill broadcast mask", (3, 4), lambda x: x.masked_fill(_t(x, [True, False, False, True]), -1.5), SAME),
    ("gn.where with a comparison", (3, 4), lambda x: torch.where(x > 0, x, x * 0.1),
     lambda x: gn.where(x > 0, x, x * 0.1)),
    ("masked_select", (3, 4), lambda x: x.masked_select(x > 0), SAME),
]


def _t(like, values):
    """An index tensor for whichever library ``like`` belongs to."""
    array = np.asarray(values)
    return torch.from_numpy(array) if isinstance(like, torch.Tensor) else gn.tensor(array)


@pytest.mark.parametrize("name, shape, torch_fn, gn_fn", GATHERS, ids=[c[0] for c in GATHERS])
def test_gather_select_and_masks(check, name, shape, torch_fn, gn_fn):
    check([shape], torch_fn, gn_fn)


def test_nonzero():
    values = np.array([[0.0, 1.5], [2.0, 0.0]])
    np.testing.assert_array_equal(gn.tensor(values).nonzero()._data, torch.tensor(values).nonzero().numpy())
    for mine, theirs in zip(gn.tensor(values).nonzero(as_tuple=True), torch.tensor(values).nonzero(as_tuple=True)):
        np.testing.assert_array_equal(mine._data, theirs.numpy())


def test_bad_shapes_raise_errors_that_are_both_runtime_and_value_errors():
    x = gn.zeros(2, 3)
    for bad in (lambda: x.reshape(4, 2), lambda: x @ gn.zeros(2, 3), lambda: gn.cat([x, gn.zeros(2, 2)]),
                lambda: gn.stack([x, gn.zeros(3, 2)]), lambda: x.expand(3, 3), lambda: x.permute(0, 0),
                lambda: gn.zeros(4).item(), lambda: bool(x)):
        with pytest.raises(RuntimeError) as error:
            bad()
        assert isinstance(error.value, ValueError) and isinstance(error.value, gn.ShapeError)
    with pytest.raises(IndexError, match="out of range"):
        x.sum(2)


def test_pow_gradients_at_zero_and_for_negative_bases_follow_torch(check):
    """Regressions: x ** 0.0 at x = 0 gave NaN (torch 0); (−2) ** x gave 0 (torch NaN)."""
    check(None, lambda x: x ** 0.0, values=[np.array([0.0, 1.5, -2.0])], fd=False)
    check(None, lambda x: (-2.0) ** x, values=[np.array([1.0, 2.0, 3.0])], fd=False)
    check(None, lambda x, y: x ** y, values=[np.array([0.0, 0.0, 2.0]), np.array([0.0, 2.0, 1.5])], fd=False)
    check(None, lambda x: x ** 2, values=[np.array([0.0, -1.0])])


def test_zero_dim_regressions(check):
    """Regressions: tanh/sigmoid backward of a 0-d tensor raised; x.sum(0) of a 0-d x raised."""
    for fn in (lambda x: x.tanh(), lambda x: x.sigmoid(), lambda x: x.sum(0), lambda x: (x * x).sum(-1)):
        check([()], fn)


def test_in_place_activations_and_math_like_torch():
    for name in ("relu_", "sigmoid_", "tanh_", "exp_", "abs_"):
        x = gn.tensor([-1.0, 0.5, 2.0], dtype=gn.float64, requires_grad=True)
        t = torch.tensor([-1.0, 0.5, 2.0], dtype=torch.float64, requires_grad=True)
        h, th = x * 1.5, t * 1.5
        assert getattr(h, name)() is h
        getattr(th, name)()
        (h * gn.tensor([1.0, 2.0, 3.0])).sum().backward()
        (th * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)).sum().backward()
        np.testing.assert_allclose(h._data, th.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(x.grad._data, t.grad.numpy(), rtol=1e-12)


def test_unique_where_alone_multinomial_normal_and_containment():
    values = np.array([3, 1, 3, 2, 1, 3])
    x, t = gn.tensor(values), torch.tensor(values)
    np.testing.assert_array_equal(x.unique()._data, t.unique().numpy())
    for mine, theirs in zip(x.unique(return_inverse=True, return_counts=True),
                            t.unique(return_inverse=True, return_counts=True)):
        np.testing.assert_array_equal(mine._data, theirs.numpy())
    for mine, theirs in zip(gn.where(x > 1), torch.where(t > 1)):
        np.testing.assert_array_equal(mine._data, theirs.numpy())
    assert 2 in x and 5 not in x
    draws = gn.multinomial(gn.tensor([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]]), 2, replacement=True)
    assert draws.shape == (2, 2) and draws.dtype == np.int64 and draws[0].tolist() == [1, 1]
    assert set(draws[1].tolist()) <= {0, 2}
    assert sorted(gn.multinomial(gn.ones(4), 4).tolist()) == [0, 1, 2, 3]
    gn.manual_seed(0)
    sample = gn.normal(2.0, 0.5, (4000,))
    assert abs(float(sample.mean()) - 2.0) < 0.05 and abs(float(sample.std()) - 0.5) < 0.05
    assert gn.normal(gn.zeros(3), gn.ones(3)).shape == (3,)
    assert gn.allclose(x, x + 0) and gn.equal(x, x) and gn.isclose(x, x).all().item()
    assert x.type_as(gn.zeros(1)).dtype == np.float32 and x.data_ptr() == x.data.data_ptr()


REDUCE_BY_DIM = {  # name: (torch and glassnet alike, given dim and keepdim)
    "sum": lambda x, d, k: x.sum(d, keepdim=k), "mean": lambda x, d, k: x.mean(d, keepdim=k),
    "amax": lambda x, d, k: x.amax(d, keepdim=k), "var": lambda x, d, k: x.var(d, keepdim=k),
    "logsumexp": lambda x, d, k: x.logsumexp(d, keepdim=k), "prod": lambda x, d, k: x.prod(d, keepdim=k),
    "max.values": lambda x, d, k: x.max(d, keepdim=k).values, "norm": lambda x, d, k: x.norm(dim=d, keepdim=k),
    "cumsum": lambda x, d, k: x.cumsum(d), "softmax": lambda x, d, k: x.softmax(d),
    "flip": lambda x, d, k: x.flip(d), "unsqueeze": lambda x, d, k: x.unsqueeze(d),
}


@st.composite
def shape_and_dim(draw):
    shape = tuple(draw(st.lists(st.integers(2, 3), min_size=1, max_size=3)))
    return shape, draw(st.integers(-len(shape), len(shape) - 1)), draw(st.booleans())


@settings(max_examples=40, deadline=None)
@given(case=shape_and_dim(), op=st.sampled_from(sorted(REDUCE_BY_DIM)), seed=st.integers(0, 2 ** 16))
def test_property_dim_ops_over_random_shapes_and_negative_dims(check, case, op, seed):
    shape, dim, keepdim = case
    fn = REDUCE_BY_DIM[op]
    check([shape], lambda x: fn(x, dim, keepdim), low=0.3 if op == "prod" else -2.0, seed=seed,
          fd=op != "max.values")
