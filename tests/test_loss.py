"""Losses with PyTorch's options (class weights, ignore_index, label smoothing, probability and N-d targets,
pos_weight, beta/delta, KL divergence) and gradients to targets that require grad, against torch (float64) and
central differences; F.one_hot, F.pad, F.normalize and F.dropout."""
import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import nn
from glassnet.nn import functional as F

TF = torch.nn.functional
RNG = np.random.default_rng(5)
LABELS = np.array([0, 3, 1, 1, 2, 3])
CLASS_WEIGHT = np.array([0.5, 2.0, 1.0, 3.0])
REDUCTIONS = ["mean", "sum", "none"]


def t(array):
    return torch.from_numpy(np.asarray(array))


# --- cross-entropy and NLL ---------------------------------------------------------------------------------------

CROSS_ENTROPY = [  # (id, keyword arguments as glassnet and torch take them, target)
    ("weight", dict(weight=CLASS_WEIGHT), LABELS),
    ("ignore_index", dict(ignore_index=3), LABELS),
    ("ignore_index -100", dict(ignore_index=-100), np.array([0, -100, 1, 1, -100, 3])),
    ("weight and ignore_index", dict(weight=CLASS_WEIGHT, ignore_index=1), LABELS),
    ("label_smoothing", dict(label_smoothing=0.2), LABELS),
    ("label_smoothing, weight, ignore_index", dict(weight=CLASS_WEIGHT, ignore_index=1, label_smoothing=0.3), LABELS),
    ("probabilities not summing to 1", {}, RNG.uniform(0, 1, (6, 4))),
    ("probabilities, weight, label_smoothing", dict(weight=CLASS_WEIGHT, label_smoothing=0.1),
     RNG.uniform(0, 1, (6, 4))),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, kwargs, target", CROSS_ENTROPY, ids=[c[0] for c in CROSS_ENTROPY])
def test_cross_entropy_options_vs_torch(check, name, kwargs, target, reduction):
    torch_kwargs = {k: t(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    check([(6, 4)], lambda x: torch.nn.CrossEntropyLoss(**torch_kwargs, reduction=reduction)(x, t(target)),
          lambda x: nn.CrossEntropyLoss(**kwargs, reduction=reduction)(x, target))
    check([(6, 4)], lambda x: TF.cross_entropy(x, t(target), **torch_kwargs, reduction=reduction),
          lambda x: F.cross_entropy(x, target, **kwargs, reduction=reduction))


def test_soft_cross_entropy_gradient_is_softmax_times_mass_minus_target():
    """Regression: with probability targets whose rows do not sum to 1 the gradient was softmax − p."""
    z, p = RNG.normal(size=(3, 4)), RNG.uniform(0, 1, (3, 4))
    x = gn.tensor(z, requires_grad=True)
    F.cross_entropy(x, p, reduction="sum").backward()
    softmax = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    np.testing.assert_allclose(x.grad._data, softmax * p.sum(1, keepdims=True) - p, rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kwargs", [{}, dict(weight=CLASS_WEIGHT, ignore_index=2), dict(label_smoothing=0.25)],
                         ids=["plain", "weight, ignore_index", "label_smoothing"])
def test_cross_entropy_and_nll_of_nd_inputs_vs_torch(check, kwargs, reduction):
    """(N, C, d1, d2) inputs with (N, d1, d2) indices or (N, C, d1, d2) probabilities, class dim 1."""
    torch_kwargs = {k: t(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    labels, probs = RNG.integers(0, 4, (2, 3, 5)), RNG.uniform(0, 1, (2, 4, 3, 5))
    for target in (labels, probs) if "ignore_index" not in kwargs else (labels,):
        check([(2, 4, 3, 5)], lambda x: TF.cross_entropy(x, t(target), **torch_kwargs, reduction=reduction),
              lambda x: F.cross_entropy(x, target, **kwargs, reduction=reduction), fd=False)
    nll_kwargs = {k: v for k, v in kwargs.items() if k != "label_smoothing"}
    torch_nll = {k: v for k, v in torch_kwargs.items() if k != "label_smoothing"}
    check([(2, 4, 3, 5)], lambda x: TF.nll_loss(x, t(labels), **torch_nll, reduction=reduction),
          lambda x: F.nll_loss(x, labels, **nll_kwargs, reduction=reduction), fd=False)


def test_unbatched_cross_entropy_and_nll_vs_torch(check):
    check([(5,)], lambda x: TF.cross_entropy(x, torch.tensor(3)), lambda x: F.cross_entropy(x, np.array(3)))
    probs = RNG.uniform(0, 1, 5)
    check([(5,)], lambda x: TF.cross_entropy(x, t(probs), label_smoothing=0.1),
          lambda x: F.cross_entropy(x, probs, label_smoothing=0.1))
    check([(5,)], lambda x: TF.nll_loss(x, torch.tensor(2), reduction="none"),
          lambda x: F.nll_loss(x, np.array(2), reduction="none"))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kwargs", [dict(weight=CLASS_WEIGHT), dict(ignore_index=1),
                                    dict(weight=CLASS_WEIGHT, ignore_index=0)], ids=["weight", "ignore", "both"])
def test_nll_options_vs_torch(check, kwargs, reduction):
    torch_kwargs = {k: t(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    check([(6, 4)], lambda x: torch.nn.NLLLoss(**torch_kwargs, reduction=reduction)(x, t(LABELS)),
          lambda x: nn.NLLLoss(**kwargs, reduction=reduction)(x, LABELS), low=-3, high=0)


def test_every_target_ignored_gives_nan_as_torch():
    x = gn.tensor(RNG.normal(size=(2, 3)), requires_grad=True)
    with np.errstate(invalid="ignore"):
        loss = F.cross_entropy(x, np.array([-100, -100]))
    assert np.isnan(loss.item()) and np.isnan(TF.cross_entropy(torch.zeros(2, 3), torch.tensor([-100, -100])).item())


def test_cross_entropy_with_probabilities_gives_the_target_its_gradient(check):
    check([(6, 4), (6, 4)], lambda x, p: TF.cross_entropy(x, p, label_smoothing=0.2),
          lambda x, p: F.cross_entropy(x, p, label_smoothing=0.2), low=0.05, high=1)
    check([(2, 4, 3), (2, 4, 3)], lambda x, p: TF.cross_entropy(x, p, weight=t(CLASS_WEIGHT), reduction="none"),
          lambda x, p: F.cross_entropy(x, p, weight=CLASS_WEIGHT, reduction="none"), low=0.05, high=1)


@pytest.mark.parametrize("make, words", [
    (lambda: F.cross_entropy(gn.tensor(np.zeros((2, 3))), np.array([0, 1]), weight=np.ones(4)),
     r"weight.*\(3,\)"),
    (lambda: F.cross_entropy(gn.tensor(np.zeros((2, 3))), np.array([0, 1]), label_smoothing=1.5),
     "label_smoothing"),
    (lambda: nn.CrossEntropyLoss(label_smoothing=-0.1), "label_smoothing"),
    (lambda: F.cross_entropy(gn.tensor(np.zeros((2, 3))), np.array([0, -5]), ignore_index=-1),
     r"\[0, 2\].*ignore_index=-1"),
    (lambda: F.cross_entropy(gn.tensor(np.zeros((2, 3))), np.array([[0], [1]])), r"\(2,\)"),
], ids=["weight shape", "F label_smoothing", "module label_smoothing", "negative label", "target shape"])
def test_class_losses_reject_bad_options(make, words):
    with pytest.raises(ValueError, match=words):
        make()


def test_cross_entropy_rejects_integer_probabilities_and_ignore_index_with_probabilities():
    with pytest.raises(TypeError, match="probabilities.*floating point"):
        F.cross_entropy(gn.tensor(np.zeros((2, 3))), np.zeros((2, 3), np.int64))
    with pytest.raises(ValueError, match="ignore_index=1 needs class-index targets"):
        F.cross_entropy(gn.tensor(np.zeros((2, 3))), np.zeros((2, 3)), ignore_index=1)


# --- elementwise losses ------------------------------------------------------------------------------------------

VALUES = RNG.normal(size=(5, 3))
SOFT = RNG.uniform(0.05, 0.95, (5, 3))
WEIGHT = RNG.uniform(0.5, 2, (5, 3))
POS_WEIGHT = np.array([0.5, 2.0, 3.0])

ELEMENTWISE = [  # (id, glassnet module, torch module, input range, target)
    ("SmoothL1Loss", lambda r: nn.SmoothL1Loss(reduction=r), lambda r: torch.nn.SmoothL1Loss(reduction=r),
     (-2, 2), VALUES),
    ("SmoothL1Loss beta=0.5", lambda r: nn.SmoothL1Loss(reduction=r, beta=0.5),
     lambda r: torch.nn.SmoothL1Loss(reduction=r, beta=0.5), (-2, 2), VALUES),
    ("SmoothL1Loss beta=0", lambda r: nn.SmoothL1Loss(reduction=r, beta=0.0),
     lambda r: torch.nn.SmoothL1Loss(reduction=r, beta=0.0), (-2, 2), VALUES),
    ("HuberLoss", lambda r: nn.HuberLoss(r), lambda r: torch.nn.HuberLoss(r), (-2, 2), VALUES),
    ("HuberLoss delta=0.3", lambda r: nn.HuberLoss(r, 0.3), lambda r: torch.nn.HuberLoss(r, 0.3), (-2, 2), VALUES),
    ("BCELoss weight", lambda r: nn.BCELoss(WEIGHT, reduction=r),
     lambda r: torch.nn.BCELoss(t(WEIGHT), reduction=r), (0.05, 0.95), SOFT),
    ("BCEWithLogitsLoss weight", lambda r: nn.BCEWithLogitsLoss(WEIGHT[0], reduction=r),
     lambda r: torch.nn.BCEWithLogitsLoss(t(WEIGHT[0]), reduction=r), (-4, 4), SOFT),
    ("BCEWithLogitsLoss pos_weight", lambda r: nn.BCEWithLogitsLoss(reduction=r, pos_weight=POS_WEIGHT),
     lambda r: torch.nn.BCEWithLogitsLoss(reduction=r, pos_weight=t(POS_WEIGHT)), (-4, 4), SOFT),
    ("BCEWithLogitsLoss both", lambda r: nn.BCEWithLogitsLoss(WEIGHT, reduction=r, pos_weight=POS_WEIGHT),
     lambda r: torch.nn.BCEWithLogitsLoss(t(WEIGHT), reduction=r, pos_weight=t(POS_WEIGHT)), (-4, 4), SOFT),
    ("KLDivLoss", lambda r: nn.KLDivLoss(reduction=r), lambda r: torch.nn.KLDivLoss(reduction=r), (-3, 0), SOFT),
    ("KLDivLoss log_target", lambda r: nn.KLDivLoss(reduction=r, log_target=True),
     lambda r: torch.nn.KLDivLoss(reduction=r, log_target=True), (-3, 0), np.log(SOFT)),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, loss, reference, bounds, target", ELEMENTWISE, ids=[c[0] for c in ELEMENTWISE])
def test_elementwise_loss_options_vs_torch(check, name, loss, reference, bounds, target, reduction):
    check([(5, 3)], lambda x: reference(reduction)(x, t(target)), lambda x: loss(reduction)(x, target),
          low=bounds[0], high=bounds[1])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, function, reference", [
    ("mse", lambda x, y, w, r: F.mse_loss(x, y, reduction=r, weight=w),
     lambda x, y, w, r: TF.mse_loss(x, y, reduction=r, weight=w)),
    ("l1", lambda x, y, w, r: F.l1_loss(x, y, reduction=r, weight=w),
     lambda x, y, w, r: TF.l1_loss(x, y, reduction=r, weight=w)),
    ("huber", lambda x, y, w, r: F.huber_loss(x, y, r, 0.4, w), lambda x, y, w, r: TF.huber_loss(x, y, r, 0.4, w)),
], ids=["mse", "l1", "huber"])
def test_elementwise_weights_of_torch_2_13(check, name, function, reference, reduction):
    """mse_loss, l1_loss and huber_loss take a weight of the input's shape (the mean divides by Σ weight for
    mse and l1, by the count for huber, as torch); the input and the target get their gradients."""
    check([(5, 3), (5, 3)], lambda x, y: reference(x, y, t(WEIGHT), reduction),
          lambda x, y: function(x, y, WEIGHT, reduction))
    with pytest.raises(ValueError, match=r"weight of shape \(3,\)"):
        function(gn.tensor(VALUES), VALUES, WEIGHT[0], reduction)


def test_kl_div_batchmean_is_the_sum_over_the_batch_size(check):
    for log_target in (False, True):
        target = np.log(SOFT) if log_target else SOFT
        check([(5, 3)], lambda x: TF.kl_div(x, t(target), reduction="batchmean", log_target=log_target),
              lambda x: nn.KLDivLoss(reduction="batchmean", log_target=log_target)(x, target), low=-3, high=0)
    with pytest.raises(ValueError, match="batchmean"):
        nn.MSELoss(reduction="batchmean")


TARGET_GRADIENTS = [  # (id, glassnet function, torch function), both of (input, target, reduction=)
    ("mse", F.mse_loss, TF.mse_loss),
    ("half mse", F.half_mse_loss, lambda x, y, reduction: 0.5 * TF.mse_loss(x, y, reduction=reduction)),
    ("l1", F.l1_loss, TF.l1_loss),
    ("smooth l1", lambda x, y, reduction: F.smooth_l1_loss(x, y, reduction=reduction, beta=0.3),
     lambda x, y, reduction: TF.smooth_l1_loss(x, y, reduction=reduction, beta=0.3)),
    ("huber", lambda x, y, reduction: F.huber_loss(x, y, reduction, delta=0.2),
     lambda x, y, reduction: TF.huber_loss(x, y, reduction, delta=0.2)),
    ("bce", F.binary_cross_entropy, TF.binary_cross_entropy),
    ("bce weight", lambda x, y, reduction: F.binary_cross_entropy(x, y, WEIGHT, reduction=reduction),
     lambda x, y, reduction: TF.binary_cross_entropy(x, y, t(WEIGHT), reduction=reduction)),
    ("bce logits", F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits),
    ("bce logits pos_weight", lambda x, y, reduction: F.binary_cross_entropy_with_logits(
        x, y, WEIGHT, reduction=reduction, pos_weight=POS_WEIGHT),
     lambda x, y, reduction: TF.binary_cross_entropy_with_logits(x, y, t(WEIGHT), reduction=reduction,
                                                                 pos_weight=t(POS_WEIGHT))),
    ("kl", F.kl_div, TF.kl_div),
    ("kl log_target", lambda x, y, reduction: F.kl_div(x, y, reduction=reduction, log_target=True),
     lambda x, y, reduction: TF.kl_div(x, y, reduction=reduction, log_target=True)),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("name, function, reference", TARGET_GRADIENTS, ids=[c[0] for c in TARGET_GRADIENTS])
def test_a_target_that_requires_grad_gets_torchs_gradient(check, name, function, reference, reduction):
    """Regression: losses gave no gradient to a target with requires_grad=True (inputs and targets in (0.05,
    0.95): probabilities for BCE)."""
    if reduction == "batchmean" and not name.startswith("kl"):
        reduction = "mean"  # batchmean is KL's only
    check([(5, 3), (5, 3)], lambda x, y: reference(x, y, reduction=reduction),
          lambda x, y: function(x, y, reduction=reduction), low=0.05, high=0.95)


def test_a_target_without_requires_grad_is_no_parent_and_every_loss_is_one_node():
    x = gn.tensor(RNG.normal(size=(4, 3)), requires_grad=True)
    y = gn.tensor(RNG.uniform(0.1, 0.9, (4, 3)))
    for loss in (F.mse_loss(x, y), F.l1_loss(x, y), F.huber_loss(x, y), F.binary_cross_entropy_with_logits(x, y),
                 F.cross_entropy(x, np.array([0, 2, 1, 1])), F.cross_entropy(x, y, label_smoothing=0.1),
                 F.kl_div(x, y)):
        assert loss._parents == (x,)
    y.requires_grad_()
    assert F.mse_loss(x, y)._parents == (x, y)


def test_elementwise_options_are_checked():
    with pytest.raises(ValueError, match="beta"):
        nn.SmoothL1Loss(beta=-1.0)
    with pytest.raises(ValueError, match="delta"):
        F.huber_loss(gn.tensor(np.zeros(2)), np.zeros(2), delta=0.0)
    with pytest.raises(ValueError, match=r"pos_weight of shape \(4,\).*\(5, 3\)"):
        F.binary_cross_entropy_with_logits(gn.tensor(VALUES), SOFT, pos_weight=np.ones(4))


def test_loss_weights_are_buffers_cast_with_the_module_and_keyword_only_as_torch_makes_them_safe():
    loss = nn.CrossEntropyLoss(weight=np.array([1.0, 2.0], np.float32))
    assert "weight" in loss.state_dict() and loss.weight.dtype == np.float32
    assert loss.double().weight.dtype == np.float64
    assert nn.BCEWithLogitsLoss(pos_weight=np.ones(3)).pos_weight is not None
    assert "ignore_index=3" in repr(nn.CrossEntropyLoss(ignore_index=3))
    with pytest.raises(TypeError):
        nn.CrossEntropyLoss(None, None, 3)  # torch's positional (size_average, ignore_index): keywords here
    with pytest.raises(TypeError):
        F.cross_entropy(gn.tensor(np.zeros((2, 3))), np.array([0, 1]), None, None, 1)


# --- one_hot, pad, normalize, dropout ----------------------------------------------------------------------------

def test_one_hot_as_torch():
    labels = np.array([[0, 2], [1, 4]])
    for classes in (-1, 6):
        out = F.one_hot(gn.tensor(labels), classes)
        expected = TF.one_hot(t(labels), classes)
        assert out.dtype == np.int64 and out.shape == tuple(expected.shape)
        np.testing.assert_array_equal(out._data, expected.numpy())
    with pytest.raises(ValueError, match="smaller than num_classes=3"):
        F.one_hot(gn.tensor(labels), 3)
    with pytest.raises(ValueError, match="non-negative"):
        F.one_hot(gn.tensor(np.array([-1, 0])))
    with pytest.raises(TypeError, match="integer"):
        F.one_hot(gn.tensor(np.array([0.0, 1.0])))


@pytest.mark.parametrize("shape, pad, value", [
    ((3, 4), (1, 2), None), ((2, 3, 4), (0, 1, 2, 0), 1.5), ((2, 3, 4), (1, 1, 1, 1, 1, 1), -2.0),
    ((3, 5), (-1, 2), None), ((2, 6), (-2, -1, 1, 0), 0.5),
], ids=["last dim", "two dims", "three dims", "crop and pad", "crop both sides"])
def test_pad_constant_vs_torch(check, shape, pad, value):
    check([shape], lambda x: TF.pad(x, pad, value=value), lambda x: F.pad(x, pad, value=value))


def test_pad_rejects_other_modes_and_bad_pads():
    x = gn.tensor(np.zeros((2, 3)))
    with pytest.raises(NotImplementedError, match="mirror"):
        F.pad(x, (1, 1), mode="mirror")
    with pytest.raises(ValueError, match="pairs"):
        F.pad(x, (1, 1, 1))
    with pytest.raises(ValueError, match="negative size"):
        F.pad(x, (-2, -2))


@pytest.mark.parametrize("p, dim, shape", [(2.0, 1, (4, 3)), (1.0, 0, (4, 3)), (3.0, -1, (2, 3, 4)),
                                           (2.0, 1, (2, 3, 4))])
def test_normalize_vs_torch(check, p, dim, shape):
    check([shape], lambda x: TF.normalize(x, p=p, dim=dim), lambda x: F.normalize(x, p=p, dim=dim))


def test_normalize_of_a_zero_vector_divides_by_eps_as_torch():
    x, xt = gn.tensor(np.zeros((2, 3)), requires_grad=True), torch.zeros(2, 3, dtype=torch.float64,
                                                                          requires_grad=True)
    F.normalize(x).sum().backward()
    TF.normalize(xt).sum().backward()
    np.testing.assert_allclose(x.grad._data, xt.grad.numpy())


def test_functional_dropout_as_torch():
    x = gn.tensor(np.ones((200, 50)), requires_grad=True)
    assert F.dropout(x, 0.3, training=False) is x
    out = F.dropout(x, 0.3)
    kept = out._data != 0
    np.testing.assert_allclose(out._data[kept], 1 / 0.7)
    assert abs(kept.mean() - 0.7) < 0.02
    out.sum().backward()
    np.testing.assert_allclose(x.grad._data, kept / 0.7)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)
