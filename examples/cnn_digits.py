"""A small convolutional network (CNN) on the digits: filters that slide over the image instead of one weight per
pixel per neuron.

    python examples/cnn_digits.py [--quick] [--out DIR]

conv 5×5 (16 filters) → ReLU → max-pool 2 → conv 5×5 (32) → ReLU → max-pool 2 → 128 → 10, trained with
random shifts of up to 2 pixels (``_common.ShiftingTrainer``) on the same 8,000 training and 2,000 test digits as
``digits_mlp.py``, on the 28×28 images (the RESULT) and on the course's 16×16 ones (to compare with the MLP's).
Figures: the first layer's learned filters and the feature maps of one test digit after each convolution.
"""
from __future__ import annotations

import numpy as np

from _common import Clock, ShiftingTrainer, image_grid, parse_args, progress_printer, result, save

import glassnet as gn
from glassnet import nn


def small_cnn(side: int) -> nn.Sequential:
    """(N, 1, side, side) → (N, 10) logits."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * (side // 4) ** 2, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))


def train_cnn(side: int, train_size: int, epochs: int, clock: Clock) -> tuple[nn.Sequential, float, np.ndarray]:
    """(model, test accuracy, test images) of a CNN trained on ``side``×``side`` digits."""
    gn.manual_seed(0)
    X, y = gn.data.load_digits(size=side, binary=False, flatten=False)
    X = X[:, None]  # (n, 1, side, side): one input channel
    X_train, X_test, y_train, y_test = gn.data.train_test_split(X, y, test_size=2000, seed=0, stratify=y)
    X_train, y_train = X_train[:train_size], y_train[:train_size]
    print(f"{clock} {side}×{side}: {len(X_train)} training and {len(X_test)} test digits")
    model = small_cnn(side)
    optimizer = gn.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = gn.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, epochs * 2 // 5), gamma=0.5)
    trainer = ShiftingTrainer(model, loss=nn.CrossEntropyLoss(), optimizer=optimizer, scheduler=scheduler,
                              metrics=["accuracy"], callbacks=[progress_printer(clock, epochs, f"{side}×{side} ")],
                              max_shift=2 if side == 28 else 1)
    trainer.fit(X_train, y_train, epochs=epochs, batch_size=64, validation_data=(X_test, y_test), verbose=0)
    accuracy = float((trainer.predict(X_test, batch_size=500).argmax(axis=1) == y_test).mean())
    print(f"{clock} {side}×{side}: test accuracy {accuracy:.4f}")
    return model, accuracy, X_test


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    clock = Clock()
    train_size, epochs, sides = (1500, 2, (28,)) if args.quick else (8000, 25, (16, 28))
    accuracies = {}
    for side in sides:
        model, accuracies[side], X_test = train_cnn(side, train_size, epochs, clock)
    print(f"{clock} test accuracy by image size: " + ", ".join(f"{s}×{s} {a:.4f}" for s, a in accuracies.items()))

    filters = model[0].weight.numpy()[:, 0]  # (16, 5, 5), of the last (28×28) model
    save(image_grid(filters, columns=8, symmetric=True, scale=1.2,
                    title="first-layer 5×5 filters (red: ink here excites, blue: inhibits)"), args.out, "cnn_filters")
    digit = gn.tensor(X_test[:1])
    with gn.no_grad():
        model.eval()
        first = model[1](model[0](digit))  # after conv 1 and ReLU: (1, 16, 28, 28)
        second = model[4](model[3](model[2](first)))  # after pool, conv 2 and ReLU: (1, 32, 14, 14)
    def normalised(maps: np.ndarray) -> np.ndarray:  # each map on its own scale, 0 to its maximum
        return maps / (maps.max(axis=(1, 2), keepdims=True) + 1e-8)

    save(image_grid(np.concatenate([X_test[0], normalised(first.numpy()[0])]), columns=17, cmap="magma",
                    titles=["the digit"] + [f"filter {k}" for k in range(16)],
                    title="the digit and its 16 feature maps after the first convolution"),
         args.out, "cnn_feature_maps_1")
    save(image_grid(normalised(second.numpy()[0]), columns=16, cmap="magma",
                    title="its 32 feature maps after the second convolution (14×14)"), args.out, "cnn_feature_maps_2")
    result("test_accuracy_28", accuracies[28])


if __name__ == "__main__":
    main()
