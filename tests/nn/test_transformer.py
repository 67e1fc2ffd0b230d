"""The Transformer family and PositionalEncoding against PyTorch (float64, same weights) over random
configurations (norm_first, relu/gelu, batch_first, unbatched, masks of every kind, causal), finite differences,
dropout, initialisation and errors."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import glassnet as gn


def layer_options(rng: np.random.Generator) -> dict:
    return dict(dim_feedforward=int(rng.integers(1, 9)), dropout=0.0, activation=["relu", "gelu"][rng.integers(2)],
                layer_norm_eps=[1e-5, 1e-3][rng.integers(2)], batch_first=bool(rng.integers(2)),
                norm_first=bool(rng.integers(2)), bias=bool(rng.random() < 0.8))


def sequence(rng, length, N, E, options, unbatched):
    return rng.normal(size=(length, E) if unbatched else (N, length, E) if options["batch_first"] else (length, N, E))


def masks(rng, prefix: str, L: int, S: int, N: int, unbatched: bool, self_attention: bool) -> dict:
    """A random choice of attention mask (causal float, boolean, float) and key padding mask (boolean)."""
    out = {}
    kind = rng.integers(4)
    if kind == 1 and self_attention:
        out[f"{prefix}_mask"] = np.triu(np.full((L, S), -np.inf), 1)
    elif kind == 2:
        mask = rng.random((L, S)) < 0.3
        mask[:, 0] = False
        out[f"{prefix}_mask"] = mask
    elif kind == 3:
        out[f"{prefix}_mask"] = rng.normal(size=(L, S))
    if rng.random() < 0.5:
        padding = rng.random((S,) if unbatched else (N, S)) < 0.3
        padding[..., 0] = False
        out[f"{prefix}_key_padding_mask"] = padding
    return out


@pytest.mark.parametrize("seed", range(16))
def test_encoder_layer_matches_torch(seed, check_module):
    rng = np.random.default_rng(seed)
    options, heads = layer_options(rng), int(rng.integers(1, 3))
    E, N, S = heads * int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 5))
    unbatched = seed % 5 == 4
    model = gn.nn.TransformerEncoderLayer(E, heads, dtype=np.float64, **options)
    reference = torch.nn.TransformerEncoderLayer(E, heads, dtype=torch.float64, **options)
    for p in model.parameters():
        p._data[...] = rng.uniform(-0.7, 0.7, p.shape)
    kwargs = masks(rng, "src", S, S, N, unbatched, True)
    if "src_mask" in kwargs and not kwargs["src_mask"].dtype == bool and np.isinf(kwargs["src_mask"]).any():
        kwargs["is_causal"] = True
    check_module(model, reference, [sequence(rng, S, N, E, options, unbatched)], kwargs, seed=seed)


@pytest.mark.parametrize("seed", range(12))
def test_decoder_layer_matches_torch(seed, check_module):
    rng = np.random.default_rng(50 + seed)
    options, heads = layer_options(rng), int(rng.integers(1, 3))
    E, N = heads * int(rng.integers(1, 4)), int(rng.integers(1, 4))
    T, S = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    unbatched = seed % 4 == 3
    model = gn.nn.TransformerDecoderLayer(E, heads, dtype=np.float64, **options)
    reference = torch.nn.TransformerDecoderLayer(E, heads, dtype=torch.float64, **options)
    for p in model.parameters():
        p._data[...] = rng.uniform(-0.7, 0.7, p.shape)
    kwargs = {**masks(rng, "tgt", T, T, N, unbatched, True), **masks(rng, "memory", T, S, N, unbatched, False)}
    check_module(model, reference, [sequence(rng, T, N, E, options, unbatched),
                                    sequence(rng, S, N, E, options, unbatched)], kwargs, seed=seed)


@pytest.mark.parametrize("norm_first", [False, True])
def test_stacks_and_the_whole_transformer_match_torch(norm_first, check_module):
    rng = np.random.default_rng(7)
    options = dict(dim_feedforward=6, dropout=0.0, batch_first=True, norm_first=norm_first)
    encoder = gn.nn.TransformerEncoder(gn.nn.TransformerEncoderLayer(4, 2, dtype=np.float64, **options), 2,
                                       gn.nn.LayerNorm(4, dtype=np.float64))
    t_encoder = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(4, 2, dtype=torch.float64, **options),
                                            2, torch.nn.LayerNorm(4, dtype=torch.float64), enable_nested_tensor=False)
    padding = np.array([[False, False, True], [False, False, False]])
    check_module(encoder, t_encoder, [rng.normal(size=(2, 3, 4))], {"src_key_padding_mask": padding})
    decoder = gn.nn.TransformerDecoder(gn.nn.TransformerDecoderLayer(4, 2, dtype=np.float64, **options), 2)
    t_decoder = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(4, 2, dtype=torch.float64, **options), 2)
    causal = gn.nn.Transformer.generate_square_subsequent_mask(4, dtype=np.float64)._data
    check_module(decoder, t_decoder, [rng.normal(size=(2, 4, 4)), rng.normal(size=(2, 3, 4))],
                 {"tgt_mask": causal, "tgt_is_causal": True, "memory_key_padding_mask": padding})
    model = gn.nn.Transformer(4, 2, 2, 1, activation="gelu", dtype=np.float64, **options)
    reference = torch.nn.Transformer(4, 2, 2, 1, activation="gelu", dtype=torch.float64, **options)
    check_module(model, reference, [rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 4, 4))],
                 {"tgt_mask": causal, "src_key_padding_mask": padding, "memory_key_padding_mask": padding})


def test_gradients_match_finite_differences(numerical_grad, float64_default):
    layer = gn.nn.TransformerEncoderLayer(4, 2, dim_feedforward=5, dropout=0.0, activation="gelu", norm_first=True)
    rng = np.random.default_rng(3)
    x, w = rng.normal(size=(3, 2, 4)), rng.normal(size=(3, 2, 4))
    mask = np.triu(np.full((3, 3), -np.inf), 1)

    def objective(x, *_):
        with gn.no_grad():
            return float((layer(gn.tensor(x), src_mask=mask)._data * w).sum())
    t = gn.tensor(x.copy(), requires_grad=True)
    (layer(t, src_mask=mask) * gn.tensor(w)).sum().backward()
    expected = numerical_grad(objective, x, *[p._data for p in layer.parameters()])
    for got, want in zip([t.grad] + [p.grad for p in layer.parameters()], expected):
        np.testing.assert_allclose(got._data, want, rtol=1e-5, atol=1e-6)


def test_dropout_in_training_only(check_module):
    layer = gn.nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.3, dtype=np.float64)
    reference = torch.nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.3, dtype=torch.float64)
    x = np.random.default_rng(4).normal(size=(3, 2, 4))
    layer.eval(), reference.eval()
    check_module(layer, reference, [x])
    layer.train()
    with gn.no_grad():
        a, b = (layer(gn.tensor(x))._data for _ in range(2))
    assert not np.allclose(a, b)


def test_a_callable_activation(check_module):
    layer = gn.nn.TransformerEncoderLayer(4, 1, dim_feedforward=3, dropout=0.0, activation=gn.tanh,
                                          dtype=np.float64)
    reference = torch.nn.TransformerEncoderLayer(4, 1, dim_feedforward=3, dropout=0.0, activation=torch.tanh,
                                                 dtype=torch.float64)
    check_module(layer, reference, [np.random.default_rng(5).normal(size=(2, 3, 4))])


def test_parameter_names_initialisation_and_state_dict_from_torch():
    model = gn.nn.Transformer(8, 2, 1, 1, 16)
    reference = torch.nn.Transformer(8, 2, 1, 1, 16)
    assert {k: v.shape for k, v in model.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    w = dict(model.named_parameters())["encoder.layers.0.linear1.weight"]._data
    assert np.abs(w).max() <= math.sqrt(6 / (8 + 16))  # xavier_uniform_ of every matrix
    reference.eval()
    model.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    model.eval()
    rng = np.random.default_rng(6)
    src, tgt = rng.normal(size=(5, 2, 8)).astype(np.float32), rng.normal(size=(3, 2, 8)).astype(np.float32)
    with torch.no_grad():
        want = reference(torch.from_numpy(src), torch.from_numpy(tgt)).numpy()
    with gn.nn.evaluating(model):
        out = model(gn.tensor(src), gn.tensor(tgt))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out._data, want, atol=1e-5)


def test_generate_square_subsequent_mask_as_torch():
    np.testing.assert_array_equal(gn.nn.Transformer.generate_square_subsequent_mask(4)._data,
                                  torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())


class TutorialPositionalEncoding(torch.nn.Module):
    """PyTorch's tutorial module (the reference for glassnet's)."""

    def __init__(self, d_model, dropout=0.1, max_len=5000):
        super().__init__()
        self.dropout = torch.nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return self.dropout(x + self.pe[:x.size(0)])


def test_positional_encoding_is_the_tutorials():
    reference = TutorialPositionalEncoding(6, max_len=20).eval()
    model = gn.nn.PositionalEncoding(6, max_len=20).eval()
    assert model.state_dict().keys() == reference.state_dict().keys()
    np.testing.assert_allclose(model.pe._data, reference.pe.numpy(), atol=1e-6)
    x = np.random.default_rng(0).normal(size=(7, 2, 6)).astype(np.float32)
    np.testing.assert_allclose(model(gn.tensor(x))._data, reference(torch.from_numpy(x)).numpy(), atol=1e-6)
    batch_first = gn.nn.PositionalEncoding(6, max_len=20, batch_first=True).eval()
    np.testing.assert_allclose(batch_first(gn.tensor(x.transpose(1, 0, 2)))._data,
                               model(gn.tensor(x))._data.transpose(1, 0, 2))
    odd = gn.nn.PositionalEncoding(5, max_len=4).pe._data[:, 0]
    np.testing.assert_allclose(odd[3, 4], math.sin(3 / 10000 ** (4 / 5)), rtol=1e-6)


def test_positional_encoding_dropout_gradient_and_errors(tmp_path):
    model = gn.nn.PositionalEncoding(4, dropout=0.5, max_len=8)
    x = gn.tensor(np.ones((3, 2, 4), np.float32), requires_grad=True)
    out = model(x)
    assert set(np.unique(out._data)) <= {0.0} | set(np.unique((1 + model.pe._data[:3]) * 2))
    out.sum().backward()
    assert set(np.unique(x.grad._data)) <= {0.0, 2.0}
    gn.save(model, tmp_path / "pe.npz")
    assert gn.load(tmp_path / "pe.npz").p == 0.5
    with pytest.raises(ValueError, match="longer than max_len 8"):
        model(gn.tensor(np.zeros((9, 1, 4), np.float32)))
    with pytest.raises(ValueError, match=r"expected \(L, N, 4\)"):
        model(gn.tensor(np.zeros((3, 1, 5), np.float32)))


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="relu/gelu"):
        gn.nn.TransformerEncoderLayer(4, 2, activation="swish")
    model = gn.nn.Transformer(4, 2, 1, 1, 8)
    with pytest.raises(ValueError, match="batch number"):
        model(gn.tensor(np.zeros((3, 2, 4), np.float32)), gn.tensor(np.zeros((3, 1, 4), np.float32)))
    with pytest.raises(ValueError, match="d_model"):
        model(gn.tensor(np.zeros((3, 2, 5), np.float32)), gn.tensor(np.zeros((3, 2, 5), np.float32)))
    with pytest.raises(ValueError, match="is_causal"):
        gn.nn.TransformerEncoderLayer(4, 2)(gn.tensor(np.zeros((3, 2, 4), np.float32)), is_causal=True)
