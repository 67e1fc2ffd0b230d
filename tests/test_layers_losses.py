"""Layers, losses, penalties and output heads against PyTorch (float64) and central differences."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import glassnet as gn
from glassnet import nn, ops
from glassnet.nn import functional as F

TF = torch.nn.functional
ACTIVATIONS = {  # name: (glassnet module, torch module)
    "relu": (nn.ReLU, torch.nn.ReLU), "tanh": (nn.Tanh, torch.nn.Tanh), "sigmoid": (nn.Sigmoid, torch.nn.Sigmoid),
    "leaky_relu": (nn.LeakyReLU, torch.nn.LeakyReLU), "leaky_relu(0.2)": (lambda: nn.LeakyReLU(0.2),
                                                                          lambda: torch.nn.LeakyReLU(0.2)),
    "identity": (nn.Identity, torch.nn.Identity),
}


def assert_same_network_gradients(model, reference, x, seed=0):
    """Forward and backward of the glassnet and torch networks: output, input grad and every parameter's grad."""
    xg, xt = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = model(xg), reference(xt)
    assert out.shape == tuple(expected.shape) and out.dtype == np.float64
    np.testing.assert_allclose(out._data, expected.detach().numpy(), rtol=1e-6, atol=1e-6)
    upstream = np.random.default_rng(seed).uniform(-1, 1, out.shape)
    out.backward(upstream)
    expected.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(xg.grad._data, xt.grad.numpy(), rtol=1e-6, atol=1e-6)
    torch_grads = {name: p.grad.numpy() for name, p in reference.named_parameters()}
    names = [name for name, _ in model.named_parameters()]
    assert names == list(torch_grads), "parameter names follow PyTorch's (index.weight, index.bias)"
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad._data, torch_grads[name], rtol=1e-6, atol=1e-6, err_msg=name)


# --- Linear ------------------------------------------------------------------------------------------------------

def test_linear_layout_and_default_dtype():
    layer = nn.Linear(3, 5)
    assert layer.weight.shape == (5, 3) and layer.bias.shape == (5,)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    assert isinstance(layer.weight, nn.Parameter) and layer.weight.requires_grad
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    no_bias = nn.Linear(3, 5, bias=False)
    assert no_bias.bias is None and [name for name, _ in no_bias.named_parameters()] == ["weight"]
    assert repr(layer) == "Linear(in_features=3, out_features=5, bias=True)"


def test_linear_default_init_is_pytorch_uniform():
    """U(−1/√in, 1/√in) for weight and bias, as torch's kaiming_uniform(a=√5) gives."""
    gn.manual_seed(0)
    torch.manual_seed(0)
    layer = nn.Linear(400, 300)
    reference = torch.nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for mine, theirs in [(layer.weight._data, reference.weight.detach().numpy()),
                         (layer.bias._data, reference.bias.detach().numpy())]:
        assert np.abs(mine).max() <= bound
        assert np.abs(mine).max() > 0.98 * bound  # the whole range is used
        theirs_std = theirs.std()
        assert abs(mine.std() - bound / math.sqrt(3)) < 0.1 * bound / math.sqrt(3)
        assert abs(mine.std() - theirs_std) < 0.1 * theirs_std
        assert abs(mine.mean()) < 4 * bound / math.sqrt(3 * mine.size)


def test_linear_init_follows_manual_seed():
    gn.manual_seed(7)
    a = nn.Linear(4, 3).weight._data.copy()
    gn.manual_seed(7)
    np.testing.assert_array_equal(a, nn.Linear(4, 3).weight._data)
    assert not np.array_equal(a, nn.Linear(4, 3).weight._data)


@pytest.mark.parametrize("x_shape", [(3,), (5, 3), (2, 4, 3)], ids=["1-D", "2-D", "3-D"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no bias"])
def test_linear_functional_vs_torch_and_finite_differences(check, x_shape, bias):
    shapes = [x_shape, (4, 3)] + ([(4,)] if bias else [])
    check(shapes, TF.linear, F.linear)


@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid", "leaky_relu", "identity"])
def test_fused_linear_activation_vs_torch_and_finite_differences(check, name):
    torch_act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "leaky_relu": TF.leaky_relu,
                 "identity": lambda z: z}[name]
    check([(2, 5, 3), (4, 3), (4,)], lambda x, w, b: torch_act(TF.linear(x, w, b)),
          lambda x, w, b: F.linear(x, w, b, activation=ops.activation(name)))


@pytest.mark.parametrize("x_shape", [(3,), (6, 3), (2, 4, 3)], ids=["1-D", "2-D", "3-D"])
def test_linear_module_vs_torch(torch_copy, x_shape):
    gn.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 4)).double()
    x = np.random.default_rng(0).normal(size=x_shape)
    assert_same_network_gradients(model, torch_copy(model), x)
    assert model(gn.tensor(x)).shape == x_shape[:-1] + (4,)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_sequential_with_each_activation_vs_torch(torch_copy, name):
    """Linear → activation pairs run fused in Sequential; the result must equal the unfused PyTorch network."""
    gn.manual_seed(2)
    act = ACTIVATIONS[name][0]
    model = nn.Sequential(nn.Linear(3, 5), act(), nn.Linear(5, 4), act(), nn.Linear(4, 2), act()).double()
    x = np.random.default_rng(1).normal(size=(7, 3))
    assert_same_network_gradients(model, torch_copy(model), x)


@pytest.mark.parametrize("x_shape", [(4, 3), (2, 3, 3), (3,)], ids=["2-D", "3-D", "1-D"])
def test_dense_stack_vs_torch_and_finite_differences(check, x_shape):
    """Three dense layers as one node (one without bias, one without activation) against the composed ops."""
    acts = [ops.activation("tanh"), None, ops.activation("sigmoid")]

    def torch_stack(x, w1, b1, w2, w3, b3):
        return torch.sigmoid(TF.linear(TF.linear(torch.tanh(TF.linear(x, w1, b1)), w2), w3, b3))

    def gn_stack(x, w1, b1, w2, w3, b3):
        return F.dense_stack(x, [(w1, b1, acts[0]), (w2, None, acts[1]), (w3, b3, acts[2])])
    check([x_shape, (5, 3), (5,), (4, 5), (2, 4), (2,)], torch_stack, gn_stack)


def test_dense_stack_skips_gradients_nobody_needs():
    gn.set_default_dtype(np.float64)
    w1, b1 = gn.tensor(np.ones((2, 3)), requires_grad=True), gn.tensor(np.zeros(2))  # a frozen bias
    w2 = gn.tensor(np.ones((1, 2)))  # a frozen weight
    x = gn.tensor(np.ones((4, 3)))
    out = F.dense_stack(x, [(w1, b1, ops.activation("relu")), (w2, None, None)])
    out.sum().backward()
    np.testing.assert_allclose(w1.grad._data, np.full((2, 3), 4.0))
    assert b1.grad is None and w2.grad is None and x.grad is None


def test_sequential_runs_consecutive_linear_layers_as_one_node(torch_copy):
    gn.manual_seed(4)
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 4), nn.Linear(4, 4), nn.Tanh(), nn.Identity(),
                          nn.Linear(4, 2), nn.Sigmoid()).double()
    plan = nn.container.plan(model)
    assert [(index, type(step).__name__) for index, step in plan] == [(0, "DenseRun"), (5, "Identity"),
                                                                      (6, "DenseRun")]
    assert [len(step.layers) for _, step in plan if isinstance(step, nn.container.DenseRun)] == [3, 1]
    out = model(gn.tensor(np.ones((2, 3))))
    assert len(out._parents) == 1 + 2  # the second run: its input, weight and bias
    assert_same_network_gradients(model, torch_copy(model), np.random.default_rng(5).normal(size=(6, 3)))


def test_a_linear_used_twice_in_a_sequential_gets_both_gradients():
    """Weight tying: the same layer twice in one fused run; its gradient is the sum over both uses."""
    gn.set_default_dtype(np.float64)
    layer = nn.Linear(3, 3)
    model = nn.Sequential(layer, nn.Tanh(), layer, nn.Tanh())
    optim_ = gn.optim.SGD(model.parameters(), lr=0.1)
    reference = torch.nn.Linear(3, 3).double()
    with torch.no_grad():
        reference.weight.copy_(torch.from_numpy(layer.weight._data))
        reference.bias.copy_(torch.from_numpy(layer.bias._data))
    x = np.random.default_rng(6).normal(size=(4, 3))
    for _ in range(2):
        optim_.zero_grad()
        (model(gn.tensor(x)) ** 2).sum().backward()
        reference.zero_grad()
        (torch.tanh(reference(torch.tanh(reference(torch.from_numpy(x))))) ** 2).sum().backward()
        np.testing.assert_allclose(layer.weight.grad._data, reference.weight.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(layer.bias.grad._data, reference.bias.grad.numpy(), rtol=1e-10)
        optim_.step()
        with torch.no_grad():
            for p in reference.parameters():
                p -= 0.1 * p.grad


def test_sequential_names_the_layer_whose_input_does_not_fit():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(5, 2))
    with pytest.raises(ValueError, match=r"layer 2 \(Linear\) of the Sequential.*in_features=5.*\(6, 4\)"):
        model(gn.tensor(np.ones((6, 3), dtype=np.float32)))
    with pytest.raises(ValueError, match=r"layer 0 \(Linear\) of the Sequential.*\(6, 2\).*must be 3"):
        model(gn.tensor(np.ones((6, 2), dtype=np.float32)))


def test_sequential_without_fusion_matches_the_fused_one():
    gn.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    x = gn.tensor(np.random.default_rng(2).normal(size=(5, 3)))
    manual = model[2](model[1](model[0](x)))
    np.testing.assert_allclose(model(x)._data, manual._data, rtol=1e-12)


def test_sequential_loads_a_pytorch_state_dict_and_computes_the_same():
    reference = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2)).double()
    model = nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Linear(6, 2)).double()
    model.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    assert_same_network_gradients(model, reference, np.random.default_rng(3).normal(size=(4, 3)))


# --- activation modules, Softmax, Flatten -----------------------------------------------------------------------

ACTIVATION_MODULES = [  # (id, glassnet module, torch module, input shape)
    ("ReLU", nn.ReLU(), torch.nn.ReLU(), (3, 4)), ("Tanh", nn.Tanh(), torch.nn.Tanh(), (3, 4)),
    ("Sigmoid", nn.Sigmoid(), torch.nn.Sigmoid(), (2, 3, 4)), ("LeakyReLU", nn.LeakyReLU(), torch.nn.LeakyReLU(), (5,)),
    ("LeakyReLU(0.3)", nn.LeakyReLU(0.3), torch.nn.LeakyReLU(0.3), (3, 4)),
    ("Identity", nn.Identity(), torch.nn.Identity(), (3, 4)),
    ("Softmax", nn.Softmax(), torch.nn.Softmax(dim=-1), (3, 4)),
    ("Softmax(dim=0)", nn.Softmax(dim=0), torch.nn.Softmax(dim=0), (3, 4)),
    ("LogSoftmax(dim=1)", nn.LogSoftmax(dim=1), torch.nn.LogSoftmax(dim=1), (2, 3, 4)),
    ("Flatten", nn.Flatten(), torch.nn.Flatten(), (2, 3, 4)),
    ("Flatten(0)", nn.Flatten(0), torch.nn.Flatten(0), (2, 3, 4)),
]


@pytest.mark.parametrize("name, module, reference, shape", ACTIVATION_MODULES, ids=[c[0] for c in ACTIVATION_MODULES])
def test_stateless_modules_vs_torch(check, name, module, reference, shape):
    check([shape], reference, module)


def test_modules_accept_arrays_and_have_readable_reprs():
    assert nn.Tanh()(np.zeros((2, 2))).shape == (2, 2)
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Dropout(0.25)) == "Dropout(p=0.25, inplace=False)"
    text = repr(nn.Sequential(nn.Linear(2, 3), nn.ReLU()))
    assert "(0): Linear(in_features=2, out_features=3, bias=True)" in text and "(1): ReLU()" in text


# --- Dropout -----------------------------------------------------------------------------------------------------

def test_dropout_eval_is_the_identity_and_train_drops():
    x = gn.tensor(np.ones((50, 40)))
    layer = nn.Dropout(0.5)
    assert layer.training
    dropped = layer(x)._data
    assert (dropped == 0).any() and not (dropped == 0).all()
    layer.eval()
    np.testing.assert_array_equal(layer(x)._data, x._data)
    layer.train()
    assert (layer(x)._data == 0).any()


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_scales_kept_units_by_1_over_1_minus_p_and_drops_a_fraction_p(p):
    gn.manual_seed(0)
    x = gn.tensor(np.random.default_rng(99).uniform(1, 2, (200, 500)), requires_grad=True)
    out = nn.Dropout(p)(x)
    kept = out._data != 0
    np.testing.assert_allclose(out._data[kept], x._data[kept] / (1 - p), rtol=1e-12)
    n = kept.size
    assert abs((~kept).mean() - p) < 4 * math.sqrt(p * (1 - p) / n)
    assert abs(out._data.mean() / x._data.mean() - 1) < 0.02  # inverted dropout keeps the expectation
    out.sum().backward()
    np.testing.assert_allclose(x.grad._data, kept / (1 - p), rtol=1e-12)  # the same mask in the backward pass


def test_dropout_p0_and_p1():
    x = gn.tensor(np.random.default_rng(0).normal(size=(20, 30)), requires_grad=True)
    np.testing.assert_array_equal(nn.Dropout(0.0)(x)._data, x._data)
    out = nn.Dropout(1.0)(x)
    np.testing.assert_array_equal(out._data, np.zeros_like(x._data))
    assert np.isfinite(out._data).all()
    out.sum().backward()
    np.testing.assert_array_equal(x.grad._data, 0)


def test_dropout_follows_manual_seed_keeps_dtype_and_rejects_bad_p():
    x = gn.tensor(np.ones((10, 10), dtype=np.float32))
    gn.manual_seed(5)
    a = nn.Dropout(0.5)(x)._data
    gn.manual_seed(5)
    b = nn.Dropout(0.5)(x)._data
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="p must be"):
            nn.Dropout(p)


def test_eval_switches_dropout_off_inside_a_sequential():
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 50), nn.Dropout(0.5), nn.Linear(50, 3))
    x = gn.tensor(np.ones((8, 4), dtype=np.float32))
    model.eval()
    assert not model[1].training
    np.testing.assert_array_equal(model(x)._data, model(x)._data)
    model.train()
    assert model[1].training and not np.array_equal(model(x)._data, model(x)._data)


# --- losses ------------------------------------------------------------------------------------------------------

RNG = np.random.default_rng(11)
LABELS = np.array([0, 3, 1, 1, 2, 3])
PROBS = np.exp(RNG.normal(size=(6, 4)))
PROBS /= PROBS.sum(1, keepdims=True)
HARD = (RNG.uniform(size=(5, 3)) > 0.5).astype(np.float64)
SOFT = RNG.uniform(size=(5, 3))
VALUES = RNG.normal(size=(5, 3))


class TorchHalfMSELoss(torch.nn.MSELoss):
    """½ · PyTorch's MSELoss: the oracle of HalfMSELoss."""

    def forward(self, input, target):
        return 0.5 * super().forward(input, target)


LOSSES = [  # (id, glassnet class, torch class, input shape, input range, target)
    ("MSELoss", nn.MSELoss, torch.nn.MSELoss, (5, 3), (-2, 2), VALUES),
    ("HalfMSELoss", nn.HalfMSELoss, TorchHalfMSELoss, (5, 3), (-2, 2), VALUES),
    ("L1Loss", nn.L1Loss, torch.nn.L1Loss, (5, 3), (-2, 2), VALUES),
    ("BCELoss hard", nn.BCELoss, torch.nn.BCELoss, (5, 3), (0.05, 0.95), HARD),
    ("BCELoss soft", nn.BCELoss, torch.nn.BCELoss, (5, 3), (0.05, 0.95), SOFT),
    ("BCEWithLogitsLoss hard", nn.BCEWithLogitsLoss, torch.nn.BCEWithLogitsLoss, (5, 3), (-4, 4), HARD),
    ("BCEWithLogitsLoss soft", nn.BCEWithLogitsLoss, torch.nn.BCEWithLogitsLoss, (5, 3), (-4, 4), SOFT),
    ("CrossEntropyLoss labels", nn.CrossEntropyLoss, torch.nn.CrossEntropyLoss, (6, 4), (-3, 3), LABELS),
    ("CrossEntropyLoss probabilities", nn.CrossEntropyLoss, torch.nn.CrossEntropyLoss, (6, 4), (-3, 3), PROBS),
    ("NLLLoss", nn.NLLLoss, torch.nn.NLLLoss, (6, 4), (-3, 0), LABELS),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name, loss, reference, shape, bounds, target", LOSSES, ids=[c[0] for c in LOSSES])
def test_loss_vs_torch_and_finite_differences(check, name, loss, reference, shape, bounds, target, reduction):
    check([shape], lambda x: reference(reduction=reduction)(x, torch.from_numpy(target)),
          lambda x: loss(reduction=reduction)(x, target), low=bounds[0], high=bounds[1])


@pytest.mark.parametrize("name, function, reference", [
    ("mse", F.mse_loss, TF.mse_loss), ("half mse", F.half_mse_loss, lambda *a, **k: 0.5 * TF.mse_loss(*a, **k)),
    ("l1", F.l1_loss, TF.l1_loss), ("bce", F.binary_cross_entropy, TF.binary_cross_entropy),
    ("bce logits", F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits),
])
def test_functional_losses_equal_their_modules_and_torch(check, name, function, reference):
    check([(4, 3)], lambda x: reference(x, torch.from_numpy(SOFT[:4]), reduction="sum"),
          lambda x: function(x, SOFT[:4], reduction="sum"), low=0.05, high=0.95)


def test_cross_entropy_and_nll_functions_vs_torch(check):
    check([(6, 4)], lambda x: TF.cross_entropy(x, torch.from_numpy(LABELS)), lambda x: F.cross_entropy(x, LABELS))
    check([(6, 4)], lambda x: TF.nll_loss(TF.log_softmax(x, 1), torch.from_numpy(LABELS), reduction="sum"),
          lambda x: F.nll_loss(x.log_softmax(1), LABELS, reduction="sum"))


def test_losses_are_stable_for_extreme_inputs():
    big = np.array([[1000.0, -1000.0, 0.0], [-800.0, 800.0, 5.0]])
    labels = np.array([1, 0])
    loss = nn.CrossEntropyLoss()(gn.tensor(big, requires_grad=True), labels)
    expected = TF.cross_entropy(torch.from_numpy(big), torch.from_numpy(labels))
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-12)
    logits = np.array([[-1000.0], [1000.0], [0.0]])
    targets = np.array([[1.0], [0.0], [1.0]])
    bce = nn.BCEWithLogitsLoss()(gn.tensor(logits), targets)
    np.testing.assert_allclose(bce.item(), TF.binary_cross_entropy_with_logits(
        torch.from_numpy(logits), torch.from_numpy(targets)).item(), rtol=1e-12)
    saturated = np.array([[0.0], [1.0]])
    np.testing.assert_allclose(nn.BCELoss()(gn.tensor(saturated), np.array([[1.0], [0.0]])).item(),
                               TF.binary_cross_entropy(torch.from_numpy(saturated),
                                                       torch.tensor([[1.0], [0.0]], dtype=torch.float64)).item())


def test_cross_entropy_accepts_integer_valued_labels_of_any_integer_dtype(check):
    for labels in (LABELS.astype(np.int32), LABELS.astype(np.uint8), gn.tensor(LABELS)):
        check([(6, 4)], lambda x: TF.cross_entropy(x, torch.from_numpy(LABELS)),
              lambda x: nn.CrossEntropyLoss()(x, labels), fd=False)


# --- bad input ---------------------------------------------------------------------------------------------------

def test_linear_inside_a_sequential_names_the_layer_and_the_shapes():
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(5, 1))
    with pytest.raises(ValueError) as error:
        model(gn.tensor(np.ones((3, 2), dtype=np.float32)))
    message = str(error.value)
    assert "layer 2" in message and "Linear" in message and "(3, 4)" in message and "5" in message
    with pytest.raises(ValueError) as error:
        nn.Sequential(nn.Linear(2, 4), nn.ReLU())(np.ones((3, 7)))
    assert "layer 0" in str(error.value) and "(3, 7)" in str(error.value)


def test_linear_alone_and_functional_linear_name_the_shapes():
    with pytest.raises(ValueError, match=r"\(4, 3\)"):
        nn.Linear(2, 5)(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(5, 2\)"):
        F.linear(gn.tensor(np.ones((4, 3))), gn.tensor(np.ones((5, 2))))


@pytest.mark.parametrize("labels, error, words", [
    (np.array([0.0, 1.5, 2.0]), TypeError, "integer"),
    (np.array([True, False, True]), TypeError, "integer"),
    (np.array([0, 1, 3]), ValueError, r"\[0, 2\]"),
    (np.array([0, -1, 2]), ValueError, r"\[0, 2\]"),
    (np.array([0, 1]), ValueError, r"\(3,\)"),
    (np.array([[0], [1], [2]]), ValueError, r"\(3,\)"),
], ids=["fractional floats", "bools", "too large", "negative", "too few", "column"])
@pytest.mark.parametrize("loss", [nn.CrossEntropyLoss, nn.NLLLoss])
def test_class_losses_reject_bad_labels(loss, labels, error, words):
    with pytest.raises(error, match=words):
        loss()(gn.tensor(np.zeros((3, 3))), labels)


def test_cross_entropy_rejects_bad_input_shapes():
    with pytest.raises(ValueError, match="batch, classes"):
        nn.CrossEntropyLoss()(gn.tensor(np.zeros(3)), np.array([0]))
    with pytest.raises(ValueError, match=r"\(2, 4\).*\(2, 3\)"):
        nn.CrossEntropyLoss()(gn.tensor(np.zeros((2, 3))), np.full((2, 4), 0.25))


@pytest.mark.parametrize("loss", [nn.BCELoss, nn.BCEWithLogitsLoss])
@pytest.mark.parametrize("bad", [-0.5, 1.5, 2.0])
def test_binary_losses_reject_targets_outside_unit_interval(loss, bad):
    targets = np.array([[0.0], [bad]])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        loss()(gn.tensor(np.full((2, 1), 0.5)), targets)


def test_bce_rejects_inputs_that_are_not_probabilities():
    with pytest.raises(ValueError, match="BCEWithLogitsLoss"):
        nn.BCELoss()(gn.tensor(np.array([[2.0], [0.5]])), np.array([[1.0], [0.0]]))


@pytest.mark.parametrize("loss", [nn.MSELoss, nn.L1Loss, nn.BCELoss, nn.BCEWithLogitsLoss])
def test_elementwise_losses_reject_shape_mismatch(loss):
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        loss()(gn.tensor(np.full((4, 1), 0.5)), np.zeros(4))


@pytest.mark.parametrize("loss", [nn.MSELoss, nn.CrossEntropyLoss, nn.BCELoss])
def test_unknown_reduction_lists_the_choices(loss):
    with pytest.raises(ValueError, match="'mean'.*'sum'.*'none'"):
        loss(reduction="average")


@pytest.mark.parametrize("make", [lambda: ops.activation("swish"), lambda: nn.ActivationLayer("mish"),
                                  lambda: F.linear(gn.tensor(np.ones((1, 2))), gn.tensor(np.ones((1, 2))),
                                                   activation=ops.activation("Tanh"))],
                         ids=["ops.activation", "ActivationLayer", "case matters"])
def test_unknown_activation_lists_the_choices(make):
    with pytest.raises(ValueError) as error:
        make()
    for choice in ("relu", "tanh", "sigmoid", "leaky_relu", "identity"):
        assert f"'{choice}'" in str(error.value)


# --- penalties ---------------------------------------------------------------------------------------------------

def _penalty_model():
    gn.manual_seed(4)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()


@pytest.mark.parametrize("kind", ["l1", "l2"])
def test_penalties_cover_weights_only_and_match_torch(torch_copy, kind):
    model, rate = _penalty_model(), 0.03
    reference = torch_copy(model)
    weights = [p for name, p in reference.named_parameters() if name.endswith("weight")]
    if kind == "l1":
        value, expected = nn.l1_penalty(model, rate), rate * sum(w.abs().sum() for w in weights)
    else:
        value, expected = nn.l2_penalty(model, rate), rate * 0.5 * sum((w * w).sum() for w in weights)
    np.testing.assert_allclose(value.item(), expected.item(), rtol=1e-12)
    np.testing.assert_allclose(nn.penalty(model, kind.upper(), rate).item(), expected.item(), rtol=1e-12)
    value.backward()
    expected.backward()
    for (name, p), (_, t) in zip(model.named_parameters(), reference.named_parameters()):
        if name.endswith("bias"):
            assert p.grad is None or not p.grad._data.any(), f"{name}: biases are not regularized"
        else:
            np.testing.assert_allclose(p.grad._data, t.grad.numpy(), rtol=1e-12)
            closed_form = rate * (np.sign(p._data) if kind == "l1" else p._data)
            np.testing.assert_allclose(p.grad._data, closed_form, rtol=1e-12)


def test_l2_penalty_gradient_equals_sgd_weight_decay(torch_copy):
    """rate·½Σw² added to the loss is PyTorch's weight_decay=rate on the weights."""
    model = _penalty_model()
    x, y = np.random.default_rng(0).normal(size=(5, 3)), np.random.default_rng(1).normal(size=(5, 2))
    (nn.MSELoss()(model(x), y) + nn.l2_penalty(model, 0.1)).backward()
    reference = torch_copy(model)
    TF.mse_loss(reference(torch.from_numpy(x)), torch.from_numpy(y)).backward()
    for (name, p), t in zip(model.named_parameters(), reference.parameters()):
        decay = 0.1 * t.detach().numpy() if name.endswith("weight") else 0
        np.testing.assert_allclose(p.grad._data, t.grad.numpy() + decay, rtol=1e-10, atol=1e-12)


def test_penalty_rejects_bad_kind_and_rate():
    model = _penalty_model()
    with pytest.raises(ValueError, match="'l1' or 'l2'"):
        nn.penalty(model, "l3", 0.1)
    with pytest.raises(ValueError, match="rate"):
        nn.penalty(model, "l2", -0.1)


# --- head_for ----------------------------------------------------------------------------------------------------

def test_head_for_returns_the_recommended_pairs():
    kinds = {problem: (type(head.activation), type(head.loss)) for problem in nn.PROBLEMS
             for head in [nn.head_for(problem)]}
    assert kinds == {"binary": (nn.Sigmoid, nn.BCELoss), "multiclass": (nn.Softmax, nn.CategoricalCrossEntropyLoss),
                     "regression": (nn.Identity, nn.MSELoss), "unit_interval": (nn.Sigmoid, nn.MSELoss)}
    assert nn.head_for("multiclass").activation.dim == -1
    assert nn.head_for("binary") is not nn.head_for("binary")  # fresh modules each time
    with pytest.raises(ValueError, match="'binary'.*'multiclass'.*'regression'.*'unit_interval'"):
        nn.head_for("ranking")


def test_head_for_pairs_equal_the_fused_pytorch_losses(check):
    """sigmoid + BCE = BCEWithLogits and softmax + categorical CE = CrossEntropy, values and gradients."""
    binary, multiclass = nn.head_for("binary"), nn.head_for("multiclass")
    check([(5, 3)], lambda z: TF.binary_cross_entropy_with_logits(z, torch.from_numpy(HARD)),
          lambda z: binary.loss(binary.activation(z), HARD))
    check([(6, 4)], lambda z: TF.cross_entropy(z, torch.from_numpy(LABELS)),
          lambda z: multiclass.loss(multiclass.activation(z), LABELS))
    regression, unit = nn.head_for("regression"), nn.head_for("unit_interval")
    check([(5, 3)], lambda z: TF.mse_loss(z, torch.from_numpy(VALUES)), lambda z: regression.loss(
        regression.activation(z), VALUES))
    check([(5, 3)], lambda z: TF.mse_loss(torch.sigmoid(z), torch.from_numpy(SOFT)),
          lambda z: unit.loss(unit.activation(z), SOFT))


# --- property: random MLPs ---------------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(widths=st.lists(st.integers(1, 6), min_size=2, max_size=5),
       acts=st.lists(st.sampled_from(sorted(ACTIVATIONS)), min_size=4, max_size=4),
       batch=st.integers(1, 5), seed=st.integers(0, 1000), bias=st.booleans())
def test_property_random_mlp_equals_torch(torch_copy, widths, acts, batch, seed, bias):
    """Depth 1–4, widths 1–6, any activations: forward and every gradient equal PyTorch's."""
    gn.manual_seed(seed)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
        layers.append(nn.Linear(n_in, n_out, bias=bias or i == 0))
        layers.append(ACTIVATIONS[acts[i]][0]())
    model = nn.Sequential(*layers).double()
    x = np.random.default_rng(seed).normal(size=(batch, widths[0]))
    assert_same_network_gradients(model, torch_copy(model), x, seed)


def test_loss_subclass_forward_is_called():
    """A Loss subclass that overrides forward is trained with its own forward (as a PyTorch user expects)."""
    class HalfSquaredError(nn.MSELoss):
        def forward(self, input, target):
            return super().forward(input, target) * 0.5

    x = gn.tensor([[1.0], [3.0]])
    assert float(HalfSquaredError()(x, np.zeros((2, 1), np.float32))._data) == pytest.approx(2.5)
