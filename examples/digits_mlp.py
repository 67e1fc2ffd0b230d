"""The course's digit recogniser: a 16×16 image (256 inputs) → a hidden layer → 10 outputs, one per digit,
trained with softmax + cross-entropy.

    python examples/digits_mlp.py [--quick] [--out DIR]

Grey levels (``binary=False``) and random 1-pixel shifts of every training image (each epoch sees each digit
moved by up to one pixel in x and y: the network cannot learn one exact position) lift the test accuracy of the
same network from 93.3% (ink/no-ink pixels, no shifts) to 96.9% (see examples/README.md). The shift lives in a
``gn.Trainer`` subclass's ``train_step`` (``_common.ShiftingTrainer``).
Figures: the learning curves, the confusion matrix, misclassified test digits, and the first layer's weights as
16×16 images (what each hidden neuron looks for: the course's "NN visualization").
"""
from __future__ import annotations

import numpy as np

from _common import (Clock, ShiftingTrainer, confusion_matrix, image_grid, parse_args, progress_printer, pyplot,
                     result, save)

import glassnet as gn
from glassnet import nn

SIDE = 16


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    clock = Clock()
    train_size, hidden, epochs, lr = (2000, 128, 6, 4e-3) if args.quick else (8000, 512, 50, 1e-3)
    gn.manual_seed(0)
    X, y = gn.data.load_digits(size=SIDE, binary=False)
    X_train, X_test, y_train, y_test = gn.data.train_test_split(X, y, test_size=2000, seed=0, stratify=y)
    X_train, y_train = X_train[:train_size], y_train[:train_size]
    print(f"{clock} {len(X_train)} training and {len(X_test)} test digits of {SIDE}×{SIDE} grey pixels")

    model = nn.Sequential(nn.Linear(SIDE * SIDE, hidden), nn.ReLU(), nn.Dropout(0.3), nn.Linear(hidden, 10))
    optimizer = gn.optim.Adam(model.parameters(), lr=lr)
    trainer = ShiftingTrainer(model, loss=nn.CrossEntropyLoss(), optimizer=optimizer,
                              metrics=["accuracy"], callbacks=[progress_printer(clock, epochs)], max_shift=1)
    history = trainer.fit(X_train, y_train, epochs=epochs, batch_size=64, validation_data=(X_test, y_test),
                          verbose=0)

    predicted = trainer.predict(X_test).argmax(axis=1)
    accuracy = float((predicted == y_test).mean())
    counts = confusion_matrix(y_test, predicted)
    print(f"{clock} test accuracy {accuracy:.4f}; most confused: " + ", ".join(
        f"{t}→{p} ×{counts[t, p]}" for t, p in sorted(np.argwhere(~np.eye(10, dtype=bool)),
                                                       key=lambda tp: -counts[tp[0], tp[1]])[:3]))

    plt = pyplot()
    logs = history.history
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(np.arange(1, epochs + 1), logs["accuracy"], label="train (shifted digits, dropout on)")
    ax.plot(np.arange(1, epochs + 1), logs["val_accuracy"], label="test")
    ax.set(xlabel="epoch", ylabel="accuracy", title="256 → %d → 10 on 16×16 digits" % hidden)
    ax.legend()
    save(fig, args.out, "digits_mlp_curves")

    fig, ax = plt.subplots(figsize=(4.6, 4))
    ax.imshow(counts, cmap="Blues")
    for t, p in np.ndindex(counts.shape):
        ax.text(p, t, counts[t, p], ha="center", va="center", fontsize=7,
                color="white" if counts[t, p] > counts.max() / 2 else "black")
    ax.set(xticks=range(10), yticks=range(10), xlabel="predicted digit", ylabel="true digit",
           title=f"confusion matrix (test accuracy {accuracy:.1%})")
    save(fig, args.out, "digits_mlp_confusion")

    wrong = np.flatnonzero(predicted != y_test)[:40]
    save(image_grid(X_test[wrong].reshape(-1, SIDE, SIDE), columns=10,
                    titles=[f"{y_test[i]} read as {predicted[i]}" for i in wrong],
                    title=f"misclassified test digits ({(predicted != y_test).sum()} of {len(y_test)})"),
         args.out, "digits_mlp_misclassified")

    weights = model[0].weight.numpy()  # (hidden, 256): row j is what hidden neuron j multiplies the pixels by
    strongest = np.argsort(-np.abs(weights).sum(axis=1))[:48]
    save(image_grid(weights[strongest].reshape(-1, SIDE, SIDE), columns=12, symmetric=True,
                    title="first-layer weights of 48 hidden neurons (red: ink here excites, blue: inhibits)"),
         args.out, "digits_mlp_weights")
    result("test_accuracy", accuracy)


if __name__ == "__main__":
    main()
