"""dtypes: torch's names (NumPy dtypes here), the promotion table against ``torch.result_type`` and the dtypes of
op results, conversions, and creation defaults."""
import itertools

import numpy as np
import pytest
import torch

import glassnet as gn

DTYPES = {"bool": (gn.bool, torch.bool), "uint8": (gn.uint8, torch.uint8), "int8": (gn.int8, torch.int8),
          "int16": (gn.int16, torch.int16), "int32": (gn.int32, torch.int32), "int64": (gn.int64, torch.int64),
          "float16": (gn.float16, torch.float16), "float32": (gn.float32, torch.float32),
          "float64": (gn.float64, torch.float64)}
NUMBERS = [True, 3, 2.5]


def torch_dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def test_torch_dtype_names_are_numpy_dtypes():
    assert gn.float32 == np.dtype("float32") and gn.float == gn.float32 and gn.double == gn.float64
    assert gn.long == gn.int64 and gn.int == gn.int32 and gn.half == gn.float16 and gn.bool == np.bool_
    assert gn.zeros(2, dtype=gn.long).dtype == np.int64 and gn.ones(2, dtype="float64").dtype == np.float64
    assert gn.tensor([1, 2], dtype=gn.float).dtype == np.float32 and gn.tensor([1, 2], dtype=float).dtype == np.float64


@pytest.mark.parametrize("a, b", list(itertools.product(DTYPES, repeat=2)))
@pytest.mark.parametrize("dims", ["dimensioned, dimensioned", "dimensioned, 0-d", "0-d, dimensioned"])
def test_promotion_of_two_tensors_matches_torch(a, b, dims):
    shape_a, shape_b = {"dimensioned, dimensioned": ((2,), (2,)), "dimensioned, 0-d": ((2,), ()),
                        "0-d, dimensioned": ((), (2,))}[dims]
    x, y = gn.ones(shape_a, dtype=DTYPES[a][0]), gn.ones(shape_b, dtype=DTYPES[b][0])
    tx, ty = torch.ones(shape_a, dtype=DTYPES[a][1]), torch.ones(shape_b, dtype=DTYPES[b][1])
    expected = torch_dtype_name(torch.result_type(tx, ty))
    assert str(gn.result_type(x, y)) == expected
    assert str((x * y).dtype) == expected
    if "bool" not in (a, b):
        assert str((x + y).dtype) == str((tx + ty).dtype).replace("torch.", "")
    assert str((x / y).dtype) == torch_dtype_name((tx / ty).dtype)


@pytest.mark.parametrize("a", DTYPES)
@pytest.mark.parametrize("number", NUMBERS, ids=["bool", "int", "float"])
def test_promotion_with_python_numbers_matches_torch(a, number):
    x, tx = gn.ones(3, dtype=DTYPES[a][0]), torch.ones(3, dtype=DTYPES[a][1])
    expected = torch_dtype_name(torch.result_type(tx, number))
    assert str(gn.result_type(x, number)) == expected
    assert str((x * number).dtype) == expected and str((number * x).dtype) == expected
    if not (a == "bool" and isinstance(number, bool)):
        assert str((x + number).dtype) == torch_dtype_name((tx + number).dtype)
    assert str((x / number).dtype) == torch_dtype_name((tx / number).dtype)


def test_promotion_examples_from_the_issue():
    ints = gn.tensor([1, 2, 3])
    assert (ints / 2).dtype == np.float32 and (ints / ints).dtype == np.float32  # the default float dtype
    f32 = gn.ones(3)
    assert (f32 * 2.5).dtype == np.float32 and (f32 + gn.tensor(2.0, dtype=gn.float64)).dtype == np.float32
    assert (f32 + gn.ones(3, dtype=gn.float64)).dtype == np.float64
    assert (ints + gn.tensor(1.5, dtype=gn.float64)).dtype == np.float64  # a 0-d of a higher category decides


def test_mixed_dtypes_get_gradients_in_their_own_dtype():
    a = gn.ones(3, dtype=gn.float32, requires_grad=True)
    b = gn.ones(3, dtype=gn.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


UNARY_FLOAT = ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "rsqrt", "log1p", "erf"]


@pytest.mark.parametrize("op", UNARY_FLOAT)
def test_float_functions_of_integer_tensors_are_float_like_torch(op):
    x, t = gn.tensor([1, 2, 3]), torch.tensor([1, 2, 3])
    out, expected = getattr(x, op)(), getattr(t, op)()
    assert str(out.dtype) == torch_dtype_name(expected.dtype)
    np.testing.assert_allclose(out._data, expected.numpy(), rtol=1e-6)


def test_result_dtypes_of_reductions_comparisons_and_indices_follow_torch():
    ints, bools = gn.tensor([1, 2, 3], dtype=gn.int32), gn.tensor([True, False, True])
    assert ints.sum().dtype == np.int64 and bools.sum().dtype == np.int64 and ints.cumsum(0).dtype == np.int64
    assert (ints > 1).dtype == np.bool_ and (ints == 2).dtype == np.bool_ and ints.argmax().dtype == np.int64
    with pytest.raises(TypeError, match="floating"):
        ints.mean()
    assert ints.float().mean().item() == 2.0 and ints.mean(dtype=gn.float64).dtype == np.float64


def test_conversions():
    x = gn.tensor([1.7, -2.2])
    for method, dtype in [("float", np.float32), ("double", np.float64), ("half", np.float16), ("long", np.int64),
                          ("int", np.int32), ("bool", np.bool_), ("short", np.int16)]:
        assert getattr(x, method)().dtype == dtype
    assert x.long().tolist() == [1, -2] and x.to(gn.float64).dtype == np.float64 and x.type(gn.int64).dtype == np.int64
    assert x.type() == "glassnet.FloatTensor" and x.to(gn.zeros(1, dtype=gn.float64)).dtype == np.float64
    assert x.to(gn.float32) is x and x.to("cpu") is x and x.cpu() is x
    assert x.to("cpu", gn.float64).dtype == np.float64 and x.to(dtype=gn.int64).dtype == np.int64
    assert x.is_floating_point() and not x.long().is_floating_point()


def test_creation_defaults_follow_torch():
    assert gn.tensor([1, 2]).dtype == np.int64 and gn.tensor([1.0]).dtype == np.float32
    assert gn.tensor([True]).dtype == np.bool_ and gn.Tensor([1, 2]).dtype == np.float32
    assert gn.arange(5).dtype == np.int64 and gn.arange(0, 1, 0.25).dtype == np.float32
    assert gn.full((2,), 7).dtype == np.int64 and gn.full((2,), 0.5).dtype == np.float32
    assert gn.full((2,), True).dtype == np.bool_ and gn.randint(0, 5, (3,)).dtype == np.int64
    assert gn.randperm(4).dtype == np.int64 and gn.rand(2).dtype == np.float32 and gn.eye(2).dtype == np.float32


def test_in_place_ops_keep_the_dtype_and_refuse_a_lower_category():
    ints = gn.tensor([1, 2, 3])
    ints += 2
    assert ints.dtype == np.int64 and ints.tolist() == [3, 4, 5]
    with pytest.raises(TypeError, match="cannot be written") as error:
        ints *= 0.5
    assert isinstance(error.value, RuntimeError)
    with pytest.raises(RuntimeError):  # torch agrees
        t = torch.tensor([1, 2, 3])
        t *= 0.5
    f32 = gn.ones(2)
    f32 += gn.ones(2, dtype=gn.float64)
    assert f32.dtype == np.float32


def test_only_float_tensors_require_grad():
    with pytest.raises(TypeError) as error:
        gn.tensor([1, 2], requires_grad=True)
    assert isinstance(error.value, RuntimeError)
