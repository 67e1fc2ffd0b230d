"""Recurrent networks classifying sequences: which of two close frequencies a short noisy sine wave has.

    python examples/rnn_classify.py [--quick] [--out DIR]

Each sequence is LENGTH samples of sin(2π f t + φ) + noise with f one of FREQUENCIES, a random phase φ and a
random amplitude: no single sample tells the class, only the rhythm of the whole sequence does. A plain ``RNN``
(tanh), an ``LSTM`` and a ``GRU`` with the same hidden size read it (``batch_first``) and classify it from their
last hidden state. The RESULT is the best test accuracy; every network's is printed and plotted.
"""
from __future__ import annotations

import numpy as np

from _common import Clock, parse_args, progress_printer, pyplot, result, save

import glassnet as gn
from glassnet import nn

LENGTH, FREQUENCIES, NOISE = 40, (1 / 12, 1 / 6), 0.4


def two_frequencies(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(sequences (n, LENGTH, 1), labels (n,): 0 for the lower frequency, 1 for the higher)."""
    labels = rng.integers(2, size=n)
    t = np.arange(LENGTH)
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    amplitude = rng.uniform(0.5, 1.5, (n, 1))
    waves = amplitude * np.sin(2 * np.pi * np.asarray(FREQUENCIES)[labels][:, None] * t + phase)
    return (waves + NOISE * rng.standard_normal(waves.shape)).astype(np.float32)[:, :, None], labels


class SequenceClassifier(nn.Module):
    """(N, LENGTH, 1) → (N, 2) logits from the recurrent layer's last hidden state."""

    def __init__(self, kind: type[nn.Module], hidden: int = 32) -> None:
        super().__init__()
        self.rnn = kind(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 2)

    def forward(self, sequences):
        output, _ = self.rnn(sequences)
        return self.head(output[:, -1])


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    clock = Clock()
    train_size, epochs = (1000, 5) if args.quick else (4000, 20)
    rng = np.random.default_rng(0)
    X_train, y_train = two_frequencies(train_size, rng)
    X_test, y_test = two_frequencies(1000, rng)
    print(f"{clock} {train_size} training and {len(X_test)} test sequences of {LENGTH} steps")

    curves, accuracy = {}, {}
    for kind in (nn.RNN, nn.LSTM, nn.GRU):
        gn.manual_seed(0)
        model = SequenceClassifier(kind)
        trainer = gn.Trainer(model, loss=nn.CrossEntropyLoss(), optimizer=gn.optim.Adam(model.parameters(), lr=3e-3),
                             metrics=["accuracy"], callbacks=[progress_printer(clock, epochs, f"{kind.__name__} ")])
        history = trainer.fit(X_train, y_train, epochs=epochs, batch_size=64, validation_data=(X_test, y_test),
                              verbose=0)
        curves[kind.__name__] = history.history["val_accuracy"]
        accuracy[kind.__name__] = float((trainer.predict(X_test).argmax(axis=1) == y_test).mean())
    print(f"{clock} test accuracy: " + ", ".join(f"{name} {value:.4f}" for name, value in accuracy.items()))

    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.2))
    for label in (0, 1):
        for k in np.flatnonzero(y_test == label)[:2]:
            left.plot(X_test[k, :, 0], color=("tab:blue", "tab:orange")[label], linewidth=1,
                      label=f"f = 1/{round(1 / FREQUENCIES[label])}" if k == np.flatnonzero(y_test == label)[0]
                      else None)
    left.set(xlabel="step", title="test sequences of each class")
    left.legend(fontsize=8)
    for name, curve in curves.items():
        right.plot(np.arange(1, epochs + 1), curve, marker=".", label=f"{name} ({accuracy[name]:.1%})")
    right.set(xlabel="epoch", ylabel="test accuracy", title="RNN vs LSTM vs GRU, hidden size 32")
    right.legend(fontsize=8)
    save(fig, args.out, "rnn_classify")
    result("test_accuracy", max(accuracy.values()))


if __name__ == "__main__":
    main()
