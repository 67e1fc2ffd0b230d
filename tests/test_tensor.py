"""The Tensor as a PyTorch user sees it: creation, copies and shared memory, conversions, Python protocols
(bool, index, format, iteration, hash, comparisons), repr, and devices."""
import numpy as np
import pytest
import torch

import glassnet as gn


def test_tensor_copies_and_as_tensor_and_from_numpy_share_like_torch():
    array = np.array([1.0, 2.0, 3.0])
    copied, shared, numpy_view = gn.tensor(array), gn.as_tensor(array), gn.from_numpy(array)
    array[0] = 9.0
    assert copied.tolist() == [1.0, 2.0, 3.0] and shared.tolist()[0] == 9.0 and numpy_view.tolist()[0] == 9.0
    t = torch.tensor(array)
    array[1] = 8.0
    assert t.tolist()[1] == 2.0  # torch copies too
    source = gn.tensor([1.0, 2.0])
    assert gn.tensor(source)._data is not source._data and gn.as_tensor(source) is source
    assert gn.from_numpy(array).dtype == np.float64 and gn.as_tensor([1, 2]).dtype == np.int64


def test_parameter_of_a_copied_tensor_does_not_train_the_callers_array():
    w0 = np.ones((2, 2))
    p = gn.nn.Parameter(gn.tensor(w0))
    with gn.no_grad():
        p -= 1
    assert w0.sum() == 4.0


CREATION = [  # (id, glassnet, torch): same shape, dtype and values
    ("zeros", lambda m: m.zeros(2, 3), None), ("zeros tuple", lambda m: m.zeros((2, 3)), None),
    ("ones dtype", lambda m: m.ones(4, dtype=m.float64), None), ("full", lambda m: m.full((2, 2), 1.5), None),
    ("full int", lambda m: m.full((2,), 3), None), ("eye", lambda m: m.eye(3), None),
    ("eye rect", lambda m: m.eye(2, 3), None), ("arange", lambda m: m.arange(5), None),
    ("arange float", lambda m: m.arange(0, 1, 0.25), None), ("arange start end", lambda m: m.arange(2, 7, 2), None),
    ("linspace", lambda m: m.linspace(0, 1, 5), None), ("zeros_like", lambda m: m.zeros_like(m.ones(2, 3)), None),
    ("ones_like dtype", lambda m: m.ones_like(m.zeros(2), dtype=m.int64), None),
    ("full_like", lambda m: m.full_like(m.zeros(3), 7.0), None), ("Tensor(list)", lambda m: m.Tensor([1, 2]), None),
    ("tensor scalar", lambda m: m.tensor(3.5), None), ("tensor bools", lambda m: m.tensor([True, False]), None),
    ("tensor nested", lambda m: m.tensor([[1, 2], [3, 4]]), None),
    ("tensor of tensors", lambda m: m.tensor([m.tensor(1.0), m.tensor(2.0)]), None),
    ("new_zeros", lambda m: m.ones(2, dtype=m.float64).new_zeros(3), None),
    ("new_full", lambda m: m.ones(2).new_full((2,), 4.0), None),
    ("new_tensor", lambda m: m.ones(2).new_tensor([1, 2]), None),
]


@pytest.mark.parametrize("name, make, _", CREATION, ids=[c[0] for c in CREATION])
def test_creation_matches_torch(name, make, _):
    mine, theirs = make(gn), make(torch)
    assert mine.shape == tuple(theirs.shape)
    assert str(mine.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(mine._data, theirs.numpy())


def test_empty_and_uninitialised_shapes():
    assert gn.empty(2, 3).shape == (2, 3) and gn.Tensor(2, 3).shape == (2, 3) and gn.Tensor(2, 3).dtype == np.float32
    assert gn.empty_like(gn.zeros(4)).shape == (4,)
    assert gn.zeros(2, requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="negative"):
        gn.zeros(-1)


def test_random_creation_is_seeded_and_takes_a_generator():
    gn.manual_seed(7)
    a = (gn.rand(3), gn.randn(2, 2), gn.randint(0, 10, (4,)), gn.randperm(5))
    gn.manual_seed(7)
    b = (gn.rand(3), gn.randn(2, 2), gn.randint(0, 10, (4,)), gn.randperm(5))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x._data, y._data)
    g1, g2 = gn.Generator().manual_seed(1), gn.Generator().manual_seed(1)
    np.testing.assert_array_equal(gn.randn(4, generator=g1)._data, gn.randn(4, generator=g2)._data)
    np.testing.assert_array_equal(gn.randperm(6, generator=g1)._data, gn.randperm(6, generator=g2)._data)
    assert sorted(gn.randperm(6).tolist()) == list(range(6))
    assert gn.randint(3, (2, 2)).shape == (2, 2) and 0 <= int(gn.randint(5, 6, ()).item()) - 5 < 1
    assert gn.rand_like(gn.zeros(2, 3)).shape == (2, 3) and gn.randn_like(gn.zeros(2)).dtype == np.float32
    x = gn.rand(1000)
    assert 0 <= float(x.min()) and float(x.max()) < 1


def test_conversions_to_python():
    x = gn.tensor([[1.5, 2.0]])
    assert x.tolist() == [[1.5, 2.0]] and x[0, 1].item() == 2.0 and float(x[0, 0]) == 1.5 and int(x[0, 0]) == 1
    assert isinstance(x.numpy(), np.ndarray) and np.shares_memory(x.numpy(), x._data)
    assert f"{gn.tensor(0.123456):.3f}" == "0.123" and f"{gn.tensor([2.5])[0]:>6.1f}" == "   2.5"
    assert f"{x}" == str(x)
    items = ["a", "b", "c"]
    assert items[gn.tensor(2)] == "c" and list(range(10))[gn.tensor(1):gn.tensor(3)] == [1, 2]
    with pytest.raises(TypeError):
        items[gn.tensor(1.0)]
    assert bool(gn.tensor([3.0])) and not bool(gn.tensor(0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(gn.tensor([1.0, 2.0]))


def test_comparisons_are_elementwise_and_tensors_hash_by_identity():
    a, b = gn.tensor([1, 2, 3]), gn.tensor([1, 5, 3])
    assert (a == b).tolist() == [True, False, True] and (a != b).tolist() == [False, True, False]
    assert a.eq(b).dtype == np.bool_ and a.lt(b).tolist() == [False, True, False] and a.ge(2).tolist() == [False, True,
                                                                                                            True]
    assert (a == 2).tolist() == [False, True, False] and (a == None) is False  # noqa: E711
    mask = a > 1
    assert (mask & (b > 4)).tolist() == [False, True, False] and (mask | (b > 4)).tolist() == [False, True, True]
    assert (~mask).tolist() == [True, False, False] and (mask ^ mask).tolist() == [False] * 3
    seen = {a: "a", b: "b"}
    assert seen[a] == "a" and len({a, a, b}) == 2 and a in [a] and hash(a) != hash(gn.tensor([1, 2, 3]))
    assert gn.equal(a, a) if hasattr(gn, "equal") else a.equal(a)
    assert a.equal(gn.tensor([1, 2, 3])) and not a.equal(b) and a.allclose(a + 0)
    assert ((a == b).sum() == 2).item() and (a == b).float().mean().item() == pytest.approx(2 / 3)


def test_eval_loop_idiom_max_1_and_equality_counts_correct_predictions():
    logits = gn.tensor([[0.1, 2.0, 0.3], [1.5, 0.2, 0.1], [0.0, 0.1, 3.0]])
    labels = gn.tensor([1, 0, 0])
    _, predicted = logits.max(1)
    assert (predicted == labels).sum().item() == 2
    assert (logits.argmax(1) == labels).type(gn.float).sum().item() == 2.0


def test_iteration_and_len():
    x = gn.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(x)
    assert len(rows) == 2 and rows[1].tolist() == [3.0, 4.0] and len(x) == 2
    sum(r.sum() for r in rows).backward()
    assert x.grad.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    with pytest.raises(TypeError, match="0-d"):
        iter(gn.tensor(1.0))


def test_repr_like_torch():
    assert repr(gn.tensor([1.0, 2.5])) == "tensor([1.0000, 2.5000])"
    assert repr(gn.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(gn.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(gn.tensor([1.0], requires_grad=True) * 2) == "tensor([2.], grad_fn=<MulBackward0>)"
    assert repr(gn.tensor([1.0], dtype=gn.float64)) == "tensor([1.], dtype=glassnet.float64)"
    assert repr(gn.tensor(0.5)) == "tensor(0.5000)" and repr(gn.zeros(0)) == "tensor([])"
    assert repr(gn.nn.Parameter(gn.ones(1))).startswith("Parameter containing:\ntensor([1.], requires_grad=True)")
    assert str(gn.tensor([True, False])) == repr(gn.tensor([True, False]))


def test_devices_are_the_cpu_only_with_one_clear_error():
    assert not gn.cuda.is_available() and gn.cuda.device_count() == 0 and not gn.accelerator.is_available()
    cpu = gn.device("cpu")
    assert cpu == "cpu" and cpu.type == "cpu" and repr(cpu) == "device(type='cpu')" and str(gn.device("cpu:0")) == \
        "cpu:0"
    device = gn.device("cuda" if gn.cuda.is_available() else "cpu")  # the tutorials' idiom
    x = gn.ones(2, device=device)
    assert x.device == cpu and x.to(device) is x and x.to("cpu") is x and not x.is_cuda
    model = gn.nn.Linear(2, 1)
    assert model.to(device) is model and model.to("cpu", gn.float64).weight.dtype == np.float64
    for bad in (lambda: gn.device("cuda"), lambda: x.to("cuda"), lambda: x.cuda(), lambda: gn.zeros(1, device="mps"),
                lambda: model.to("cuda:0"), lambda: gn.tensor([1.0], device="cuda")):
        with pytest.raises(RuntimeError, match="CPU only") as error:
            bad()
        assert isinstance(error.value, gn.DeviceError)


def test_module_to_dtype_keeps_training_with_an_optimizer():
    model = gn.nn.Linear(2, 1)
    opt = gn.optim.SGD(model.parameters(), lr=0.1)
    model.to(gn.float64)
    model(gn.ones(3, 2, dtype=gn.float64)).sum().backward()
    before = model.weight._data.copy()
    opt.step()
    assert model.weight.dtype == np.float64 and not np.array_equal(before, model.weight._data)


def test_tensor_module_works_alone():
    import importlib
    tensor_module = importlib.import_module("glassnet.tensor")
    x = tensor_module.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0] and "__add__" in tensor_module.Tensor.__dict__


def test_nn_tutorial_style_code_runs_unchanged():
    """The PyTorch nn_tutorial's first model, written for torch, on both libraries."""
    def run(torch_like):
        torch_like.manual_seed(0)
        x_train = torch_like.tensor(np.random.default_rng(0).normal(size=(64, 20)).astype(np.float32))
        y_train = torch_like.tensor(np.random.default_rng(1).integers(0, 10, 64))
        weights = torch_like.tensor(np.random.default_rng(2).normal(size=(20, 10)).astype(np.float32) / 20 ** 0.5)
        weights.requires_grad_()
        bias = torch_like.zeros(10, requires_grad=True)

        def log_softmax(x):
            return x - x.exp().sum(-1).log().unsqueeze(-1)

        def nll(input, target):
            return -input[range(target.shape[0]), target].mean()

        losses = []
        for i in range(0, 64, 16):
            pred = log_softmax(x_train[i:i + 16] @ weights + bias)
            loss = nll(pred, y_train[i:i + 16])
            loss.backward()
            with torch_like.no_grad():
                weights -= weights.grad * 0.5
                bias -= bias.grad * 0.5
                weights.grad.zero_()
                bias.grad.zero_()
            losses.append(loss.item())
        accuracy = (torch_like.argmax(log_softmax(x_train @ weights + bias), dim=1) == y_train).float().mean()
        return losses, accuracy.item(), weights.detach().numpy().copy()

    mine, theirs = run(gn), run(torch)
    np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-5)
    assert mine[1] == pytest.approx(theirs[1])
    np.testing.assert_allclose(mine[2], theirs[2], rtol=1e-5, atol=1e-6)


def test_autograd_polynomial_tutorial_style_code_runs_unchanged():
    def run(torch_like):
        x = torch_like.linspace(-3.0, 3.0, 200)
        y = torch_like.sin(x)
        p = torch_like.tensor([1, 2, 3])
        xx = x.unsqueeze(-1).pow(p)
        a, b, c, d = (torch_like.tensor(v, requires_grad=True) for v in (0.1, -0.2, 0.05, 0.01))
        for _ in range(20):
            y_pred = a + b * x + c * x ** 2 + d * x ** 3
            loss = (y_pred - y).pow(2).sum() + (xx.sum(1) * 0).sum()
            loss.backward()
            with torch_like.no_grad():
                for param in (a, b, c, d):
                    param -= 1e-5 * param.grad
                    param.grad = None
        return [v.item() for v in (a, b, c, d)], loss.item(), str(xx.dtype)

    mine, theirs = run(gn), run(torch)
    np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-4)
    assert mine[1] == pytest.approx(theirs[1], rel=1e-4) and mine[2] == theirs[2].replace("torch.", "")


def test_shapes_that_do_not_broadcast_raise_a_shape_error_naming_both():
    with pytest.raises(gn.ShapeError, match=r"add: shapes \(2, 3\) and \(4,\) do not broadcast"):
        gn.ones(2, 3) + gn.ones(4)
    with pytest.raises(RuntimeError):  # what PyTorch code catches
        gn.ones(2, 3) * gn.ones(2)
