"""gn.save / gn.load round-trip whole models built from issue 11's layers: the loaded model has the same structure,
parameters and buffers, and gives the same outputs (float64 and float32)."""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn


class Seq2Seq(nn.Module):
    """A user's model mixing the layers: embedding, LSTM, attention, a projection head (a registered class)."""

    def __init__(self, vocab: int = 7, d: int = 8) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d, padding_idx=0)
        self.lstm = nn.LSTM(d, d, num_layers=2, bidirectional=True, batch_first=True)
        self.attn = nn.MultiheadAttention(2 * d, 2, batch_first=True)
        self.head = nn.Linear(2 * d, vocab)

    def forward(self, tokens):
        h, _ = self.lstm(self.embed(tokens))
        a, _ = self.attn(h, h, h)
        return self.head(a)


gn.nn.register_module(Seq2Seq)


def models() -> dict:
    gn.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.1, batch_first=True, norm_first=True)
    return {
        "mha": (nn.MultiheadAttention(8, 2, kdim=5, vdim=6), "mha"),
        "encoder": (nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8)), "seq"),
        "decoder": (nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, activation="gelu"), 2), "pair"),
        "transformer": (nn.Transformer(8, 2, 1, 2, 16, dropout=0.0, norm_first=True), "pair"),
        "lstm": (nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2), "rnn"),
        "gru": (nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True), "rnn"),
        "cnn": (nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, padding_mode="reflect"), nn.BatchNorm2d(4), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 3 * 3, 3)), "image"),
        "seq2seq": (Seq2Seq(), "tokens"),
    }


def inputs(kind: str, dtype) -> tuple:
    rng = np.random.default_rng(1)
    x = lambda *shape: gn.tensor(rng.standard_normal(shape).astype(dtype))  # noqa: E731
    return {"mha": lambda: (x(4, 2, 8), x(3, 2, 5), x(3, 2, 6)), "seq": lambda: (x(2, 4, 8),),
            "pair": lambda: (x(3, 2, 8), x(4, 2, 8)), "rnn": lambda: (x(4, 2, 3),),
            "image": lambda: (x(5, 1, 6, 6),), "tokens": lambda: (gn.tensor(rng.integers(0, 7, (2, 5))),)}[kind]()


def flat(out) -> list[np.ndarray]:
    if isinstance(out, (tuple, list)):
        return [a for o in out for a in flat(o)]
    return [] if out is None else [out._data]


@pytest.mark.parametrize("name", list(models()))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_whole_models_round_trip(name, dtype, tmp_path):
    model, kind = models()[name]
    model.to(dtype)
    if kind == "image":  # running statistics that differ from the defaults, then evaluation mode
        model.train()
        model(*inputs(kind, dtype))
    model.eval()
    gn.save(model, tmp_path / "model.glass")
    loaded = gn.load(tmp_path / "model.glass")
    assert type(loaded) is type(model) and repr(loaded) == repr(model)
    state, restored = model.state_dict(), loaded.state_dict()
    assert list(restored) == list(state)
    for key, value in state.items():
        assert restored[key].dtype == value.dtype, key
        np.testing.assert_array_equal(restored[key], value, err_msg=key)
    assert dict(loaded.named_buffers()).keys() == dict(model.named_buffers()).keys()
    assert not loaded.training
    args = inputs(kind, dtype)
    with gn.no_grad():
        for got, want in zip(flat(loaded(*args)), flat(model(*args)), strict=True):
            np.testing.assert_array_equal(got, want)
