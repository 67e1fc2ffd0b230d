"""Every op against PyTorch: forward values, gradients, and gradients vs central differences (float64).

Each case is one line: the shapes of the random inputs and the computation, written once when the same lambda
works on torch and glassnet tensors, or as a (torch, glassnet) pair when the spellings differ.
"""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import glassnet as gn
from glassnet import ops

BROADCAST_SHAPES = [((3, 4), (3, 4)), ((3, 1, 4), (2, 4)), ((5,), (3, 5)), ((), (2, 3)), ((2, 3), ()),
                    ((4, 1), (1, 3)), ((1,), (2, 3)), ((2, 1, 3), (2, 4, 1))]
BINARY = {  # name: (lambda on both libraries, input range)
    "add": (lambda x, y: x + y, (-2, 2)),
    "sub": (lambda x, y: x - y, (-2, 2)),
    "mul": (lambda x, y: x * y, (-2, 2)),
    "div": (lambda x, y: x / y, (0.5, 2)),
    "pow": (lambda x, y: x ** y, (0.5, 2)),
}


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize("op", BINARY)
def test_binary_op_with_broadcasting(check, op, shapes):
    fn, (low, high) = BINARY[op]
    check(shapes, fn, low=low, high=high)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "matmul"])
def test_binary_functions_equal_their_operators(op):
    a, b = gn.tensor(np.full((2, 2), 1.5)), gn.tensor(np.full((2, 2), 0.5))
    operator = {"add": a + b, "sub": a - b, "mul": a * b, "div": a / b, "pow": a ** b, "matmul": a @ b}[op]
    np.testing.assert_array_equal(getattr(ops, op)(a, b)._data, operator._data)


ARR = np.array([[0.5, -1.5, 2.0], [1.25, 0.75, -0.25]])
POSITIVE = np.abs(ARR) + 0.5
SCALARS = [  # (glassnet, torch) with the tensor x of shape (2, 3); reflected dunders and constants
    ("x + 2.5", lambda x: x + 2.5, None), ("2.5 + x", lambda x: 2.5 + x, None),
    ("x - 2.5", lambda x: x - 2.5, None), ("2.5 - x", lambda x: 2.5 - x, None),
    ("x * 3", lambda x: x * 3, None), ("3 * x", lambda x: 3 * x, None),
    ("x * 0.5", lambda x: x * 0.5, None), ("-0.25 * x", lambda x: -0.25 * x, None),
    ("x / 4", lambda x: x / 4, None), ("4 / x", lambda x: 4 / x, None),
    ("x ** 2", lambda x: x ** 2, None), ("x ** 3.5", lambda x: x ** 3.5, None),
    ("x ** -1", lambda x: x ** -1, None), ("2 ** x", lambda x: 2 ** x, None),
    ("-x", lambda x: -x, None), ("x.T", lambda x: x.T, None),
    ("arr + x", lambda x: ARR + x, lambda x: torch.from_numpy(ARR) + x),
    ("x + arr", lambda x: x + ARR, lambda x: x + torch.from_numpy(ARR)),
    ("arr - x", lambda x: ARR - x, lambda x: torch.from_numpy(ARR) - x),
    ("arr * x", lambda x: ARR * x, lambda x: torch.from_numpy(ARR) * x),
    ("arr / x", lambda x: ARR / x, lambda x: torch.from_numpy(ARR) / x),
    ("x / arr", lambda x: x / ARR, lambda x: x / torch.from_numpy(ARR)),
    ("positive ** x", lambda x: POSITIVE ** x, lambda x: torch.from_numpy(POSITIVE) ** x),
    ("x ** arr", lambda x: x ** ARR, lambda x: x ** torch.from_numpy(ARR)),
    ("arr.T @ x", lambda x: ARR.T @ x, lambda x: torch.from_numpy(ARR.T) @ x),
    ("x @ arr.T", lambda x: x @ ARR.T, lambda x: x @ torch.from_numpy(ARR.T)),
    ("np.float64(2) * x", lambda x: np.float64(2) * x, lambda x: 2.0 * x),
]


@pytest.mark.parametrize("name, gn_fn, torch_fn", SCALARS, ids=[case[0] for case in SCALARS])
def test_dunders_with_python_scalars_and_ndarrays(check, name, gn_fn, torch_fn):
    check([(2, 3)], torch_fn or gn_fn, gn_fn, low=0.5, high=2)


def test_a_tensor_times_a_number_keeps_its_float_dtype_and_an_integer_one_becomes_float_like_torch():
    x = gn.tensor(np.ones(3, np.float32), requires_grad=True)
    y = x * 0.5
    assert y.dtype == np.float32 and y._parents == (x,)
    y.sum().backward()
    assert x.grad.dtype == np.float32 and np.all(x.grad._data == 0.5)
    counts = gn.tensor(np.array([1, 2, 3]))
    expected = (torch.tensor([1, 2, 3]) * 0.5).numpy()
    np.testing.assert_array_equal((counts * 0.5)._data, expected)
    np.testing.assert_array_equal((0.5 * counts)._data, expected)


UNARY = [  # (id, shape, torch, glassnet or None, input range)
    ("exp", (2, 3, 4), lambda x: x.exp(), None, (-2, 2)),
    ("gn.exp", (5,), torch.exp, gn.exp, (-2, 2)),
    ("log", (2, 3, 4), lambda x: x.log(), None, (0.1, 3)),
    ("gn.log", (3,), torch.log, gn.log, (0.1, 3)),
    ("sqrt", (2, 3, 4), lambda x: x.sqrt(), None, (0.1, 3)),
    ("gn.sqrt", (), torch.sqrt, gn.sqrt, (0.1, 3)),
    ("abs", (2, 3, 4), lambda x: x.abs(), None, (-2, 2)),
    ("gn.abs", (4,), torch.abs, gn.abs, (-2, 2)),
    ("tanh", (2, 3, 4), lambda x: x.tanh(), None, (-3, 3)),
    ("gn.tanh", (4,), torch.tanh, gn.tanh, (-3, 3)),
    ("sigmoid", (2, 3, 4), lambda x: x.sigmoid(), None, (-5, 5)),
    ("gn.sigmoid", (4,), torch.sigmoid, gn.sigmoid, (-5, 5)),
    ("relu", (2, 3, 4), lambda x: x.relu(), None, (-2, 2)),
    ("gn.relu", (4,), torch.relu, gn.relu, (-2, 2)),
    ("leaky_relu", (2, 3, 4), torch.nn.functional.leaky_relu, gn.leaky_relu, (-2, 2)),
    ("leaky_relu(0.2)", (2, 3, 4), lambda x: torch.nn.functional.leaky_relu(x, 0.2),
     lambda x: gn.leaky_relu(x, 0.2), (-2, 2)),
    ("leaky_relu slope kw", (3, 4), lambda x: torch.nn.functional.leaky_relu(x, negative_slope=0.3),
     lambda x: x.leaky_relu(negative_slope=0.3), (-2, 2)),
    ("neg", (2, 3), lambda x: x.neg(), gn.ops.neg, (-2, 2)),
    ("softmax", (3, 4), lambda x: x.softmax(-1), None, (-3, 3)),
    ("softmax axis=0", (3, 4), lambda x: torch.softmax(x, dim=0), lambda x: gn.softmax(x, axis=0), (-3, 3)),
    ("softmax dim=1 3d", (2, 3, 4), lambda x: torch.softmax(x, dim=1), lambda x: gn.softmax(x, dim=1), (-3, 3)),
    ("softmax large", (2, 5), lambda x: (x * 400).softmax(-1), None, (-3, 3)),
    ("log_softmax", (3, 4), lambda x: x.log_softmax(-1), None, (-3, 3)),
    ("log_softmax axis=0", (3, 4), lambda x: torch.log_softmax(x, dim=0), lambda x: gn.log_softmax(x, axis=0),
     (-3, 3)),
    ("log_softmax dim=-2 3d", (2, 3, 4), lambda x: x.log_softmax(dim=-2), None, (-3, 3)),
    ("log_softmax large", (2, 5), lambda x: (x * 400).log_softmax(-1), None, (-3, 3)),
    ("clip", (3, 4), lambda x: x.clamp(-0.5, 0.7), lambda x: x.clip(-0.5, 0.7), (-2, 2)),
    ("gn.clip min", (3, 4), lambda x: torch.clamp(x, min=-0.5), lambda x: gn.clip(x, min=-0.5), (-2, 2)),
    ("gn.clip max", (3, 4), lambda x: torch.clamp(x, max=0.3), lambda x: gn.clip(x, max=0.3), (-2, 2)),
]


@pytest.mark.parametrize("name, shape, torch_fn, gn_fn, bounds", UNARY, ids=[case[0] for case in UNARY])
def test_unary_op(check, name, shape, torch_fn, gn_fn, bounds):
    check([shape], torch_fn, gn_fn, low=bounds[0], high=bounds[1])


KINKS = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 0.0])


@pytest.mark.parametrize("torch_fn, gn_fn", [
    (torch.relu, gn.relu), (torch.abs, gn.abs), (torch.nn.functional.leaky_relu, gn.leaky_relu),
    (lambda x: x.clamp(-0.5, 0.5), lambda x: x.clip(-0.5, 0.5)), (lambda x: x.clamp(0.0, 1.0), lambda x: x.clip(0, 1)),
], ids=["relu", "abs", "leaky_relu", "clip at the bounds", "clip(0, 1)"])
def test_gradient_at_kinks_follows_pytorch(check, torch_fn, gn_fn):
    check(None, torch_fn, gn_fn, values=[KINKS], fd=False)


REDUCTIONS = [  # (id, shape, torch, glassnet or None)
    ("sum()", (2, 3, 4), lambda x: x.sum(), None),
    ("sum(0)", (2, 3, 4), lambda x: x.sum(0), None),
    ("sum(axis=-1)", (2, 3, 4), lambda x: x.sum(-1), lambda x: x.sum(axis=-1)),
    ("sum(dim=1)", (2, 3, 4), lambda x: x.sum(dim=1), None),
    ("sum((0, 2))", (2, 3, 4), lambda x: x.sum((0, 2)), None),
    ("sum([0, -1])", (2, 3, 4), lambda x: x.sum([0, -1]), None),
    ("sum keepdims", (2, 3, 4), lambda x: x.sum(dim=(0, 2), keepdim=True), lambda x: x.sum(axis=(0, 2), keepdims=True)),
    ("sum() keepdims", (2, 3), lambda x: x.sum(dim=(0, 1), keepdim=True), lambda x: x.sum(keepdims=True)),
    ("gn.sum", (3, 4), lambda x: torch.sum(x, 1), lambda x: gn.sum(x, 1)),
    ("sum of scalar", (), lambda x: x.sum(), None),
    ("mean()", (2, 3, 4), lambda x: x.mean(), None),
    ("mean(1)", (2, 3, 4), lambda x: x.mean(1), None),
    ("mean(dim=-2)", (2, 3, 4), lambda x: x.mean(dim=-2), None),
    ("mean((0, 2)) keepdims", (2, 3, 4), lambda x: x.mean((0, 2), keepdim=True),
     lambda x: x.mean((0, 2), keepdims=True)),
    ("gn.mean", (3, 4), lambda x: torch.mean(x, 0), lambda x: gn.mean(x, axis=0)),
    ("max()", (2, 3, 4), lambda x: x.max(), None),
    ("amax(1)", (2, 3, 4), lambda x: x.amax(1), None),
    ("amax(dim=-1) keepdims", (2, 3, 4), lambda x: x.amax(-1, keepdim=True), lambda x: x.amax(dim=-1, keepdims=True)),
    ("amax((0, 2))", (2, 3, 4), lambda x: x.amax((0, 2)), None),
    ("amax() keepdims", (2, 3), lambda x: x.amax((0, 1), keepdim=True), lambda x: x.amax(keepdims=True)),
    ("gn.amax", (3, 4), lambda x: torch.amax(x, 0), lambda x: gn.amax(x, axis=0)),
    ("min()", (2, 3, 4), lambda x: x.min(), None),
    ("amin(0)", (2, 3, 4), lambda x: x.amin(0), None),
    ("amin(dim=(1, 2)) keepdims", (2, 3, 4), lambda x: x.amin((1, 2), keepdim=True),
     lambda x: x.amin(dim=(1, 2), keepdims=True)),
    ("gn.amin", (3, 4), lambda x: torch.amin(x, -1), lambda x: gn.amin(x, -1)),
    ("max(1).values", (2, 3, 4), lambda x: x.max(1).values, None),
    ("max(dim=-1, keepdim=True)[0]", (2, 3, 4), lambda x: x.max(dim=-1, keepdim=True)[0], None),
    ("gn.max(x, 0).values", (3, 4), lambda x: torch.max(x, 0).values, lambda x: gn.max(x, 0).values),
    ("min(0).values", (2, 3, 4), lambda x: x.min(0).values, None),
    ("gn.min(x, dim=-1)[0]", (3, 4), lambda x: torch.min(x, dim=-1)[0], lambda x: gn.min(x, dim=-1)[0]),
]


@pytest.mark.parametrize("name, shape, torch_fn, gn_fn", REDUCTIONS, ids=[case[0] for case in REDUCTIONS])
def test_reduction(check, name, shape, torch_fn, gn_fn):
    check([shape], torch_fn, gn_fn)


TIES = np.array([[1.0, 3.0, 3.0, -2.0], [0.5, 0.5, 0.5, 0.5], [-1.0, -4.0, 2.0, -4.0]])


@pytest.mark.parametrize("torch_fn, gn_fn", [
    (lambda x: x.amax(1), None), (lambda x: x.amin(1), None),
    (lambda x: x.max(), None), (lambda x: x.amin(0), None),
], ids=["amax(1)", "amin(1)", "max()", "amin(0)"])
def test_amax_amin_and_full_max_share_the_gradient_among_ties_like_torch(check, torch_fn, gn_fn):
    check(None, torch_fn, gn_fn, values=[TIES], fd=False)


SHAPE_OPS = [  # (id, shape, torch, glassnet or None)
    ("reshape tuple", (2, 3, 4), lambda x: x.reshape((4, 6)), None),
    ("reshape ints", (2, 3, 4), lambda x: x.reshape(6, 4), None),
    ("reshape -1", (2, 3, 4), lambda x: x.reshape(-1), None),
    ("reshape (3, -1, 2)", (2, 3, 4), lambda x: x.reshape(3, -1, 2), None),
    ("reshape to scalar", (1, 1), lambda x: x.reshape(()), None),
    ("view", (2, 6), lambda x: x.view(3, 4), None),
    ("gn.reshape", (2, 6), lambda x: torch.reshape(x, (4, 3)), lambda x: gn.reshape(x, (4, 3))),
    ("flatten", (2, 3, 4), lambda x: x.flatten(), None),
    ("flatten(1)", (2, 3, 4), lambda x: x.flatten(1), None),
    (".T", (3, 4), lambda x: x.T, None),
    ("transpose()", (3, 4), lambda x: x.t(), lambda x: x.transpose()),
    ("transpose(0, 1) 2-D", (3, 4), lambda x: x.transpose(0, 1), None),
    ("transpose(1, 0) 2-D", (3, 4), lambda x: x.transpose(1, 0), None),
    ("transpose(0, 2) 3-D", (2, 3, 4), lambda x: x.transpose(0, 2), None),
    ("transpose(-1, -2) 3-D", (2, 3, 4), lambda x: x.transpose(-1, -2), None),
    ("transpose((2, 0, 1))", (2, 3, 4), lambda x: x.permute(2, 0, 1), lambda x: x.transpose((2, 0, 1))),
    ("transpose(1, 2, 0)", (2, 3, 4), lambda x: x.permute(1, 2, 0), lambda x: x.transpose(1, 2, 0)),
    ("gn.transpose", (2, 3, 4), lambda x: x.permute(2, 1, 0), gn.transpose),
]


@pytest.mark.parametrize("name, shape, torch_fn, gn_fn", SHAPE_OPS, ids=[case[0] for case in SHAPE_OPS])
def test_shape_op(check, name, shape, torch_fn, gn_fn):
    check([shape], torch_fn, gn_fn)


MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, False]])
INDEXING = [  # (id, shape, index): x[index] on both libraries
    ("int", (3, 4), 1), ("negative int", (3, 4), -1), ("two ints", (3, 4), (2, 1)),
    ("slice", (5, 3), slice(1, 4)), ("step slice", (3, 6), (slice(None), slice(None, None, 2))),
    ("ellipsis", (2, 3, 4), (Ellipsis, 1)),
    ("newaxis", (3, 4), (None, slice(1, None))), ("slice and int", (2, 3, 4), (slice(0, 1), 2)),
    ("int array with repeats", (4, 3), np.array([0, 2, 2, 0, 3])),
    ("list with repeats", (4, 3), [1, 1, 1]),
    ("int array on axis 1", (3, 4), (slice(None), np.array([3, 0, 3]))),
    ("two int arrays (pairs, repeated)", (3, 4), (np.array([0, 2, 0, 0]), np.array([1, 3, 1, 1]))),
    ("negative int array", (4, 3), np.array([-1, -1, 0])),
    ("2-D int array", (5, 2), np.array([[0, 4], [4, 4]])),
    ("boolean mask", (3, 4), MASK),
    ("boolean row mask", (3, 4), np.array([True, False, True])),
    ("boolean mask with slice", (3, 4), (slice(1, None), np.array([False, True, True, False]))),
]


@pytest.mark.parametrize("name, shape, index", INDEXING, ids=[case[0] for case in INDEXING])
def test_getitem(check, to_torch, name, shape, index):
    check([shape], lambda x: x[to_torch(index)], lambda x: x[index])


def test_getitem_with_a_negative_step(check):  # PyTorch has no negative steps: flip, then step
    check([(5,)], lambda x: x.flip(0)[::2], lambda x: x[::-2])
    check([(3, 4)], lambda x: x.flip(1)[1:], lambda x: x[1:, ::-1])


def test_getitem_with_a_tensor_index_and_the_function(check):
    index = np.array([2, 0, 2])
    check([(3, 2)], lambda x: x[torch.from_numpy(index)], lambda x: x[gn.tensor(index)])
    check([(3, 2)], lambda x: x[:, 1], lambda x: ops.getitem(x, (slice(None), 1)))


MATMUL_SHAPES = [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (2, 4, 5)),
                 ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)),
                 ((2, 3, 4), (4,)), ((1, 1), (1, 1))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(check, shapes):
    check(shapes, lambda x, y: x @ y)
    check(shapes, torch.matmul, gn.matmul, seed=1)


CONDITION = np.array([[True, False, False, True], [False, True, True, True], [True, True, False, False]])
WHERE = [  # (id, shapes of a and b, condition)
    ("same shapes", ((3, 4), (3, 4)), CONDITION), ("b broadcast", ((3, 4), (4,)), CONDITION),
    ("both broadcast", ((3, 1), (1, 4)), CONDITION), ("scalar b", ((3, 4), ()), CONDITION),
    ("condition broadcast", ((3, 4), (3, 4)), np.array([True, False, True, False])),
]


@pytest.mark.parametrize("name, shapes, condition", WHERE, ids=[case[0] for case in WHERE])
def test_where(check, name, shapes, condition):
    check(shapes, lambda a, b: torch.where(torch.from_numpy(condition), a, b), lambda a, b: gn.where(condition, a, b))


def test_where_with_a_constant_and_a_tensor_condition(check):
    check([(3, 4)], lambda a: torch.where(torch.from_numpy(CONDITION), a, 0.0),
          lambda a: gn.where(gn.tensor(CONDITION), a, 0.0))
    check([(3, 4)], lambda a: torch.where(a > 0, 1.5, a), lambda a: gn.where(a > 0, 1.5, a))


JOINS = [  # (id, shapes, torch, glassnet)
    ("concatenate axis 0", ((2, 3), (4, 3)), lambda a, b: torch.cat([a, b]), lambda a, b: gn.concatenate([a, b])),
    ("concatenate axis 1", ((2, 3), (2, 1)), lambda a, b: torch.cat([a, b], 1),
     lambda a, b: gn.concatenate([a, b], axis=1)),
    ("concatenate dim=-1 3-D", ((2, 3, 1), (2, 3, 2)), lambda a, b: torch.cat([a, b], dim=-1),
     lambda a, b: gn.concatenate((a, b), dim=-1)),
    ("concatenate three", ((1, 2), (3, 2), (2, 2)), lambda *t: torch.cat(t), lambda *t: gn.concatenate(t)),
    ("stack axis 0", ((2, 3), (2, 3)), lambda a, b: torch.stack([a, b]), lambda a, b: gn.stack([a, b])),
    ("stack axis 1", ((2, 3), (2, 3)), lambda a, b: torch.stack([a, b], 1), lambda a, b: gn.stack([a, b], axis=1)),
    ("stack dim=-1 three", ((2, 3),) * 3, lambda *t: torch.stack(t, dim=-1), lambda *t: gn.stack(t, dim=-1)),
    ("stack scalars", ((), ()), lambda a, b: torch.stack([a, b]), lambda a, b: gn.stack([a, b])),
]


@pytest.mark.parametrize("name, shapes, torch_fn, gn_fn", JOINS, ids=[case[0] for case in JOINS])
def test_concatenate_and_stack(check, name, shapes, torch_fn, gn_fn):
    check(shapes, torch_fn, gn_fn)


def test_cast_round_trip_and_gradient_dtype(check):
    check([(3, 4)], lambda x: x.float().double() * 2, lambda x: ops.cast(x, np.float32).astype(np.float64) * 2,
          fd=False)
    x = gn.tensor(np.linspace(-1, 1, 6), requires_grad=True)
    y = ops.cast(x, np.float32)
    assert y.dtype == np.float32
    (y * y).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad._data, 2 * x._data, rtol=1e-6)


def test_composite_expression(check):
    """A small network-like expression mixing most ops, gradients through every path."""
    def fn(x, w, b):
        h = (x @ w + b).tanh()
        return (h.softmax(-1) * h.sigmoid()).sum(1).mean() + (h ** 2).max() - (w.abs() + 1).log().mean()
    check([(5, 3), (3, 4), (4,)], fn)


@pytest.mark.parametrize("op, torch_op", [
    (lambda a, b: a < b, lambda a, b: a < b), (lambda a, b: a <= b, lambda a, b: a <= b),
    (lambda a, b: a > b, lambda a, b: a > b), (lambda a, b: a >= 0.0, lambda a, b: a >= 0.0),
], ids=["<", "<=", ">", ">= scalar"])
def test_comparisons_give_bool_tensors_without_graph(op, torch_op):
    a, b = np.array([[0.0, 1.0, -2.0], [3.0, 1.0, 0.0]]), np.array([1.0, 1.0, -3.0])
    out = op(gn.tensor(a, requires_grad=True), gn.tensor(b))
    assert out.dtype == np.bool_ and not out.requires_grad
    np.testing.assert_array_equal(out._data, torch_op(torch.from_numpy(a), torch.from_numpy(b)).numpy())


def test_axis_and_dim_together_is_an_error():
    with pytest.raises(TypeError, match="axis= or dim="):
        gn.tensor(np.ones((2, 2))).sum(axis=0, dim=0)


# --- bad input ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("a, b", [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3, 4), (2, 5, 1))], ids=str)
def test_matmul_shape_mismatch_names_both_shapes(a, b):
    with pytest.raises(ValueError) as error:
        gn.tensor(np.ones(a)) @ gn.tensor(np.ones(b))
    assert str(a) in str(error.value) and str(b) in str(error.value)
    with pytest.raises(RuntimeError):  # the oracle agrees these do not fit
        torch.ones(a) @ torch.ones(b)


def test_reshape_concatenate_and_stack_mismatch_name_the_shapes():
    x = gn.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 2\)"):
        x.reshape(4, 2)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 2\)"):
        gn.concatenate([x, gn.tensor(np.ones((2, 2)))], axis=0)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        gn.stack([x, gn.tensor(np.ones((3, 2)))])


# --- property: broadcasting gradients ----------------------------------------------------------------------------

@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast together: a common shape with leading axes dropped and some axes set to 1."""
    full = draw(st.lists(st.integers(1, 3), min_size=0, max_size=3))

    def derive():
        keep = draw(st.integers(0, len(full)))
        return tuple(1 if draw(st.booleans()) else n for n in full[len(full) - keep:])
    return derive(), derive()


@settings(max_examples=30, deadline=None)
@given(shapes=broadcast_pair(), op=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2 ** 16))
def test_property_broadcasting_gradients_match_finite_differences_and_torch(check, shapes, op, seed):
    fn, (low, high) = BINARY[op]
    check(shapes, fn, low=low, high=high, seed=seed)
