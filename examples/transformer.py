"""Transformers: self-attention solving a sequence task, and a tiny character-level language model.

    python examples/transformer.py [--quick] [--out DIR]

1. Reversal: a sequence of LENGTH tokens (digits 0–9) in, the same tokens in reverse order out. A 2-layer
   ``nn.TransformerEncoder`` (``batch_first``, sinusoidal ``nn.PositionalEncoding``) reads the tokens and a linear
   layer names the output token at every position: each position has to fetch the token of its mirror position,
   which only attention can do. The RESULT is the exact-sequence accuracy on unseen sequences (every token right);
   the attention maps of one sequence are plotted (the mirror shows as an anti-diagonal).
2. A character-level language model on the repository's README.md: the same encoder with the causal mask
   (``nn.Transformer.generate_square_subsequent_mask``) predicts each next character from the ones before it.
   Its held-out loss in bits per character is printed against the unigram baseline (character frequencies
   alone), with a sample of generated text.
"""
from __future__ import annotations

import os

import numpy as np

from _common import Clock, parse_args, progress_printer, pyplot, result, save

import glassnet as gn
from glassnet import nn

LENGTH, DIGITS = 8, 10
README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


class TokenTransformer(nn.Module):
    """(N, L) token ids → (N, L, vocabulary) logits: embedding + positions → encoder layers → linear.
    ``causal``: each position sees only itself and the positions before it."""

    def __init__(self, vocabulary: int, d_model: int = 64, heads: int = 4, layers: int = 2,
                 causal: bool = False) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocabulary, d_model)
        self.position = nn.PositionalEncoding(d_model, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, dropout=0.0, batch_first=True), layers)
        self.out = nn.Linear(d_model, vocabulary)
        self.causal = causal

    def mask(self, length: int):
        return nn.Transformer.generate_square_subsequent_mask(length) if self.causal else None

    def forward(self, tokens):
        x = self.position(self.embed(tokens))
        return self.out(self.encoder(x, mask=self.mask(tokens.shape[1])))

    def attention_maps(self, tokens) -> list[np.ndarray]:
        """Each layer's attention weights (averaged over heads) for (N, L) tokens: (N, L, L) per layer."""
        maps = []
        with gn.no_grad():
            self.eval()
            x = self.position(self.embed(tokens))
            mask = self.mask(tokens.shape[1])
            for layer in self.encoder.layers.children():
                maps.append(layer.self_attn(x, x, x, need_weights=True, attn_mask=mask)[1].numpy())
                x = layer(x, src_mask=mask)
        return maps


class TokenTrainer(gn.Trainer):
    """Cross-entropy over every position: (N, L, V) logits against (N, L) target tokens."""

    def compute_loss(self, output, target):
        return self.loss(output.reshape(-1, output.shape[-1]), target.reshape(-1))


def fit_tokens(model: TokenTransformer, X: np.ndarray, Y: np.ndarray, epochs: int, lr: float, clock: Clock,
               name: str, validation_data: tuple | None = None, callbacks: tuple = ()) -> None:
    optimizer = gn.optim.Adam(model.parameters(), lr=lr)
    trainer = TokenTrainer(model, loss=nn.CrossEntropyLoss(), optimizer=optimizer,
                           callbacks=[progress_printer(clock, epochs, name), *callbacks])
    trainer.fit(X, Y, epochs=epochs, batch_size=64, validation_data=validation_data, verbose=0)


def predict_tokens(model: TokenTransformer, X: np.ndarray) -> np.ndarray:
    with gn.no_grad():
        model.eval()
        return model(gn.tensor(X)).numpy()


def reversal(args, clock: Clock) -> tuple[float, TokenTransformer, np.ndarray]:
    train_size, epochs = (3000, 4) if args.quick else (20000, 12)
    rng = np.random.default_rng(0)
    X_train = rng.integers(DIGITS, size=(train_size, LENGTH))
    X_test = rng.integers(DIGITS, size=(2000, LENGTH))
    gn.manual_seed(0)
    model = TokenTransformer(DIGITS)
    fit_tokens(model, X_train, X_train[:, ::-1].copy(), epochs, 2e-3, clock, "reversal ")
    predicted = predict_tokens(model, X_test).argmax(axis=-1)
    exact = float((predicted == X_test[:, ::-1]).all(axis=1).mean())
    print(f"{clock} reversal: {exact:.2%} of unseen sequences exactly right, "
          f"{(predicted == X_test[:, ::-1]).mean():.2%} of their tokens")
    return exact, model, X_test


def language_model(args, clock: Clock) -> None:
    context, stride, epochs = (32, 4, 2) if args.quick else (48, 2, 20)
    with open(README, encoding="utf-8") as file:
        text = file.read()
    characters = sorted(set(text))
    ids = np.array([characters.index(c) for c in text])
    cut, held_cut = int(0.8 * len(ids)), int(0.9 * len(ids))

    def windows(start: int, stop: int, step: int) -> tuple[np.ndarray, np.ndarray]:
        """(inputs, next characters) of the windows of ``context`` characters that start in [start, stop)."""
        starts = np.arange(start, stop - context - 1, step)
        return ids[starts[:, None] + np.arange(context)], ids[starts[:, None] + np.arange(1, context + 1)]

    X, Y = windows(0, cut, stride)
    validation = windows(cut, held_cut, context)  # picks the epoch to keep (early stopping)
    X_held, Y_held = windows(held_cut, len(ids), context)  # measures the model
    frequency = np.bincount(ids[:cut], minlength=len(characters)) + 1.0
    frequency /= frequency.sum()
    unigram = float(-np.log2(frequency[Y_held]).mean())
    print(f"{clock} language model: {len(text)} characters of README.md ({len(characters)} distinct), "
          f"{len(X)} training windows of {context}")
    gn.manual_seed(0)
    model = TokenTransformer(len(characters), causal=True)
    fit_tokens(model, X, Y, epochs, 1e-3, clock, "language model ", validation_data=validation,
               callbacks=[gn.callbacks.EarlyStopping(patience=2, restore_best_weights=True)])
    logits = predict_tokens(model, X_held)
    log_probabilities = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True)) \
        - logits.max(-1, keepdims=True)
    bits = float(-np.take_along_axis(log_probabilities, Y_held[..., None], -1).mean() / np.log(2))
    print(f"{clock} language model: {bits:.3f} bits per character on the held-out last 10% "
          f"(unigram baseline {unigram:.3f})")
    rng = np.random.default_rng(1)
    generated = list(ids[:context])
    for _ in range(200):
        scores = predict_tokens(model, np.array([generated[-context:]]))[0, -1] / 0.7
        p = np.exp(scores - scores.max())
        generated.append(int(rng.choice(len(characters), p=p / p.sum())))
    print("sampled text: " + repr("".join(characters[i] for i in generated[context:])))


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    clock = Clock()
    exact, model, X_test = reversal(args, clock)
    maps = model.attention_maps(gn.tensor(X_test[:1]))
    plt = pyplot()
    fig, axes = plt.subplots(1, len(maps), figsize=(3.4 * len(maps), 3.3), squeeze=False)
    for k, (ax, weights) in enumerate(zip(axes.flat, maps)):
        ax.imshow(weights[0], cmap="viridis", vmin=0)
        ax.set(xticks=range(LENGTH), yticks=range(LENGTH), xticklabels=X_test[0], yticklabels=range(LENGTH),
               xlabel="attends to input token", ylabel="output position", title=f"layer {k + 1}")
    fig.suptitle(f"attention while reversing {''.join(map(str, X_test[0]))}", fontsize=10)
    save(fig, args.out, "transformer_attention")
    language_model(args, clock)
    result("reversal_exact_accuracy", exact)


if __name__ == "__main__":
    main()
