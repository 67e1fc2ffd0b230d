"""F.scaled_dot_product_attention and nn.MultiheadAttention against PyTorch (float64, same weights) over random
shapes and masks of every kind, finite differences, dropout, initialisation and errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import glassnet as gn
import glassnet.nn.functional as F


def sdpa_case(seed: int) -> tuple[list, dict]:
    """Random shapes (batch dims, L ≠ S, Ev ≠ E) and one kind of mask per seed."""
    rng = np.random.default_rng(seed)
    batch = tuple(int(n) for n in rng.integers(1, 4, rng.integers(0, 3)))
    L, S, E, Ev = (int(n) for n in rng.integers(1, 6, 4))
    kind = ["none", "bool", "float", "causal", "bool-broadcast", "scale"][seed % 6]
    options: dict = {}
    if kind == "bool":
        mask = rng.random(batch + (L, S)) < 0.7
        mask[..., 0] = True  # every query attends somewhere (a fully masked row is NaN in both libraries)
        options["attn_mask"] = mask
    elif kind == "bool-broadcast":
        mask = rng.random((L, S)) < 0.6
        mask[:, 0] = True
        options["attn_mask"] = mask
    elif kind == "float":
        options["attn_mask"] = rng.normal(size=(L, S))
    elif kind == "causal":
        S = L
        options["is_causal"] = True
    elif kind == "scale":
        options["scale"] = float(rng.uniform(0.1, 2))
    return [batch + (L, E), batch + (S, E), batch + (S, Ev)], options


@pytest.mark.parametrize("seed", range(18))
def test_scaled_dot_product_attention_matches_torch_and_finite_differences(seed, check):
    shapes, options = sdpa_case(seed)
    t_options = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    check(shapes, lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(q, k, v, **t_options),
          lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **options), fd=seed < 12, seed=seed)


def test_scaled_dot_product_attention_broadcasts_key_and_value_over_heads(check):
    check([(2, 3, 4, 5), (2, 1, 6, 5), (2, 1, 6, 3)], torch.nn.functional.scaled_dot_product_attention,
          F.scaled_dot_product_attention)


def test_sdpa_dropout_drops_weights_and_keeps_the_expectation():
    rng = np.random.default_rng(0)
    q, k, v = (gn.tensor(rng.normal(size=(2, 4, 3))) for _ in range(3))
    plain = F.scaled_dot_product_attention(q, k, v)._data
    runs = np.stack([F.scaled_dot_product_attention(q, k, v, dropout_p=0.3)._data for _ in range(3000)])
    assert not np.allclose(runs[0], plain)
    np.testing.assert_allclose(runs.mean(0), plain, atol=0.05)
    np.testing.assert_array_equal(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)._data, 0)


def test_sdpa_errors():
    q = gn.tensor(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="do not fit"):
        F.scaled_dot_product_attention(q, gn.tensor(np.zeros((2, 5, 3))), gn.tensor(np.zeros((2, 5, 4))))
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 3), bool), is_causal=True)
    with pytest.raises(ValueError, match="does not broadcast"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((4, 3), bool))
    with pytest.raises(TypeError, match="boolean or floating"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 3), np.int64))


def wrap(mha, call):
    """``mha`` inside a module of its own library (glassnet or torch, so that parameter names match), whose
    forward is ``call(mha, *inputs, **options)``: the same input object passed several times, as self- or
    cross-attention does, takes the packed projection paths."""
    base = gn.nn.Module if isinstance(mha, gn.nn.Module) else torch.nn.Module

    class Wrapper(base):
        def __init__(self):
            super().__init__()
            self.mha = mha

        def forward(self, *inputs, **options):
            return call(self.mha, *inputs, **options)
    return Wrapper()


def self_attention(mha, x, **options):
    return mha(x, x, x, **options)


def cross_attention(mha, query, memory, **options):
    return mha(query, memory, memory, **options)


def mha_case(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    heads = int(rng.integers(1, 4))
    return dict(E=heads * int(rng.integers(1, 4)), heads=heads, N=int(rng.integers(1, 4)), L=int(rng.integers(1, 5)),
                S=int(rng.integers(1, 5)), batch_first=bool(rng.integers(2)), unbatched=bool(rng.random() < 0.25),
                bias=bool(rng.random() < 0.8), path=["self", "cross", "separate", "kdim"][seed % 4],
                attn_mask=["none", "bool2d", "float2d", "bool3d", "float3d"][int(rng.integers(5))],
                padding=["none", "bool", "float"][int(rng.integers(3))], need_weights=bool(rng.random() < 0.7),
                average=bool(rng.integers(2)))


@pytest.mark.parametrize("seed", range(40))
def test_multihead_attention_matches_torch_over_random_configurations(seed, check_module):
    c = mha_case(seed)
    rng = np.random.default_rng(100 + seed)
    E, h, N, L = c["E"], c["heads"], c["N"], c["L"]
    S = L if c["path"] == "self" else c["S"]
    kdim, vdim = (E + 1, E + 2) if c["path"] == "kdim" else (None, None)
    args = dict(bias=c["bias"], batch_first=c["batch_first"], kdim=kdim, vdim=vdim)
    model = gn.nn.MultiheadAttention(E, h, dtype=np.float64, **args)
    reference = torch.nn.MultiheadAttention(E, h, dtype=torch.float64, **args)
    for p in model.parameters():  # non-zero biases, so that their gradients are checked
        p._data[...] = rng.uniform(-0.5, 0.5, p.shape)

    def seq(length: int, dim: int) -> np.ndarray:
        return rng.normal(size=(length, dim) if c["unbatched"] else (N, length, dim) if c["batch_first"]
                          else (length, N, dim))
    options = {"need_weights": c["need_weights"], "average_attn_weights": c["average"]}
    if c["attn_mask"] != "none":
        shape = (L, S) if c["attn_mask"].endswith("2d") else (N * h if not c["unbatched"] else h, L, S)
        options["attn_mask"] = rng.random(shape) < 0.3 if c["attn_mask"].startswith("bool") else rng.normal(size=shape)
    if c["padding"] != "none":
        shape = (S,) if c["unbatched"] else (N, S)
        options["key_padding_mask"] = rng.random(shape) < 0.3 if c["padding"] == "bool" else rng.normal(size=shape)
    for name in ("attn_mask", "key_padding_mask"):  # keep the first key visible: no fully masked row
        mask = options.get(name)
        if mask is not None:
            mask[..., 0] = False if mask.dtype == bool else mask[..., 0]
    if c["path"] == "self":
        check_module(wrap(model, self_attention), wrap(reference, self_attention), [seq(L, E)], options, seed=seed)
    elif c["path"] == "cross":
        check_module(wrap(model, cross_attention), wrap(reference, cross_attention), [seq(L, E), seq(S, E)], options,
                     seed=seed)
    else:
        check_module(model, reference, [seq(L, E), seq(S, kdim or E), seq(S, vdim or E)], options, seed=seed)


@pytest.mark.parametrize("bias_kv, zero_attn", [(True, False), (False, True), (True, True)])
@pytest.mark.parametrize("path", ["self", "separate"])
def test_add_bias_kv_and_add_zero_attn_match_torch(bias_kv, zero_attn, path, check_module):
    rng = np.random.default_rng(8)
    options = dict(add_bias_kv=bias_kv, add_zero_attn=zero_attn, batch_first=True)
    model = gn.nn.MultiheadAttention(4, 2, dtype=np.float64, **options)
    reference = torch.nn.MultiheadAttention(4, 2, dtype=torch.float64, **options)
    padding = np.array([[False, True, False], [False, False, True]])
    kwargs = {"key_padding_mask": padding, "attn_mask": rng.normal(size=(3, 3)), "average_attn_weights": False}
    x = rng.normal(size=(2, 3, 4))
    if path == "self":
        outs = check_module(wrap(model, self_attention), wrap(reference, self_attention), [x], kwargs)
    else:
        outs = check_module(model, reference, [x, rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))], kwargs)
    assert outs[1].shape == (2, 2, 3, 3 + bias_kv + zero_attn)


def test_is_causal_hint_uses_the_given_mask(check_module):
    model = gn.nn.MultiheadAttention(4, 2, dtype=np.float64)
    reference = torch.nn.MultiheadAttention(4, 2, dtype=torch.float64)
    mask = gn.nn.Transformer.generate_square_subsequent_mask(5, dtype=np.float64)._data
    x = np.random.default_rng(0).normal(size=(5, 2, 4))
    check_module(wrap(model, self_attention), wrap(reference, self_attention), [x],
                 {"attn_mask": mask, "is_causal": True, "need_weights": False})
    with pytest.raises(ValueError, match="is_causal"):
        model(gn.tensor(x), gn.tensor(x), gn.tensor(x), is_causal=True)


def test_attention_gradients_match_finite_differences(numerical_grad, float64_default):
    """Output and weights of a 2-head self-attention with a padding mask, against central differences."""
    mha = gn.nn.MultiheadAttention(4, 2, batch_first=True)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 4))
    padding = np.array([[False, False, True], [False, False, False]])
    w_out, w_weights = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 3))

    def objective(x, *_):
        with gn.no_grad():
            t = gn.tensor(x)
            out, weights = mha(t, t, t, key_padding_mask=padding)
            return float((out._data * w_out).sum() + (weights._data * w_weights).sum())
    t = gn.tensor(x.copy(), requires_grad=True)
    out, weights = mha(t, t, t, key_padding_mask=padding)
    ((out * gn.tensor(w_out)).sum() + (weights * gn.tensor(w_weights)).sum()).backward()
    params = [p._data for p in mha.parameters()]
    expected = numerical_grad(objective, x, *params)
    for got, want in zip([t.grad] + [p.grad for p in mha.parameters()], expected):
        np.testing.assert_allclose(got._data, want, rtol=1e-5, atol=1e-6)


def test_dropout_on_the_weights_only_in_training(check_module):
    model = gn.nn.MultiheadAttention(4, 2, dropout=1.0, dtype=np.float64)
    reference = torch.nn.MultiheadAttention(4, 2, dropout=1.0, dtype=torch.float64)
    x = np.random.default_rng(2).normal(size=(3, 2, 4))
    # training: every weight dropped
    outs = check_module(wrap(model, self_attention), wrap(reference, self_attention), [x])
    np.testing.assert_array_equal(outs[1]._data, 0)
    model.dropout = reference.dropout = 0.5
    model.eval(), reference.eval()
    check_module(wrap(model, self_attention), wrap(reference, self_attention), [x])
    model.train()
    with gn.no_grad():
        a, b = (model(gn.tensor(x), gn.tensor(x), gn.tensor(x))[0]._data for _ in range(2))
    assert not np.allclose(a, b)


def test_parameters_initialisation_and_state_dict_from_torch():
    model = gn.nn.MultiheadAttention(16, 4)
    assert model.state_dict().keys() == torch.nn.MultiheadAttention(16, 4).state_dict().keys()
    bound = np.sqrt(6 / (16 + 48))  # xavier_uniform_ of (48, 16)
    w = model.in_proj_weight._data
    assert np.abs(w).max() <= bound and abs(w.std() - bound / np.sqrt(3)) < 0.02
    np.testing.assert_array_equal(model.in_proj_bias._data, 0)
    np.testing.assert_array_equal(model.out_proj.bias._data, 0)
    separate = gn.nn.MultiheadAttention(8, 2, kdim=3, vdim=5)
    assert {k: v.shape for k, v in separate.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in torch.nn.MultiheadAttention(8, 2, kdim=3, vdim=5).state_dict().items()}
    reference = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    model = gn.nn.MultiheadAttention(8, 2, batch_first=True)
    model.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    x = np.random.default_rng(3).normal(size=(2, 5, 8)).astype(np.float32)
    out, weights = model(gn.tensor(x), gn.tensor(x), gn.tensor(x))
    want, want_weights = reference(*[torch.from_numpy(x)] * 3)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out._data, want.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(weights._data, want_weights.detach().numpy(), atol=1e-6)


def test_errors_name_the_layer_and_shapes():
    mha = gn.nn.MultiheadAttention(8, 2)
    x = gn.tensor(np.zeros((5, 2, 8), np.float32))
    with pytest.raises(ValueError, match="divisible"):
        gn.nn.MultiheadAttention(6, 4)
    with pytest.raises(ValueError, match=r"last dimension 8, 8, 8.*\(5, 2, 7\)"):
        mha(gn.tensor(np.zeros((5, 2, 7), np.float32)), x, x)
    with pytest.raises(ValueError, match=r"attn_mask has shape \(5, 4\)"):
        mha(x, x, x, attn_mask=np.zeros((5, 4), bool))
    with pytest.raises(ValueError, match=r"key_padding_mask has shape \(5, 2\), but should be \(2, 5\)"):
        mha(x, x, x, key_padding_mask=np.zeros((5, 2), bool))
    with pytest.raises(ValueError, match="3-D"):
        mha(x, x, gn.tensor(np.zeros((5, 8), np.float32)))
