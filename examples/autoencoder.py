"""An autoencoder: 16×16 digits squeezed through a small code and rebuilt from it.

    python examples/autoencoder.py [--quick] [--out DIR]

Three networks, each trained through a ``gn.Trainer`` subclass whose ``train_step`` feeds the image in and asks
for the same image out (no labels):
1. a 256 → 128 → 16 → 128 → 256 autoencoder trained on every digit but one (HELD_OUT). It rebuilds digits like
   those it has seen and the held-out digit badly, so its reconstruction error is an anomaly score: the ROC AUC
   of that score, held-out test digits against the other test digits, is the RESULT;
2. the same network as a denoising autoencoder: a quarter of the input pixels replaced by random grey levels,
   the clean image as target;
3. a 2-D code (256 → 128 → 2 → 128 → 256), plotted: each test digit is one point, coloured by its label
   (dimensionality reduction without labels).
"""
from __future__ import annotations

import numpy as np

from _common import Clock, image_grid, parse_args, pyplot, result, roc_auc, save

import glassnet as gn
from glassnet import nn
from glassnet.nn import functional as F

SIDE = 16
HELD_OUT = 0  # the digit the first autoencoder never sees in training: the "anomaly"
NOISE = 0.25  # the fraction of pixels the denoising autoencoder gets as random grey levels


class Autoencoder(nn.Module):
    """pixels (N, 256) → code (N, code_size) → logits of the rebuilt pixels (N, 256)."""

    def __init__(self, code_size: int, hidden: int = 128) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(SIDE * SIDE, hidden), nn.ReLU(), nn.Linear(hidden, code_size))
        self.decoder = nn.Sequential(nn.Linear(code_size, hidden), nn.ReLU(), nn.Linear(hidden, SIDE * SIDE))

    def forward(self, pixels):
        return self.decoder(self.encoder(pixels))


def corrupt(pixels: np.ndarray, rng: np.random.Generator, fraction: float = NOISE) -> np.ndarray:
    """``pixels`` with ``fraction`` of them (chosen at random) replaced by uniform random grey levels."""
    hit = rng.random(pixels.shape) < fraction
    return np.where(hit, rng.random(pixels.shape), pixels).astype(pixels.dtype)


class AutoencoderTrainer(gn.Trainer):
    """Trains ``model`` to give back its input: a batch is (images,), the loss is the binary cross-entropy of
    the rebuilt pixels against the clean ones. With ``noise`` > 0 the model sees corrupted images (denoising)."""

    def __init__(self, model: nn.Module, optimizer, noise: float = 0.0, seed: int = 0, **kwargs) -> None:
        super().__init__(model, optimizer=optimizer, **kwargs)
        self.noise, self.rng = noise, np.random.default_rng(seed)

    def reconstruction_loss(self, images):
        seen = gn.tensor(corrupt(images.numpy(), self.rng, self.noise)) if self.noise else images
        return F.binary_cross_entropy_with_logits(self.model(seen), images)

    def train_step(self, batch):
        self.optimizer.zero_grad()
        loss = self.reconstruction_loss(batch[0])
        loss.backward()
        self.optimizer.step()
        return {"loss": float(loss.item())}

    def validation_step(self, batch):
        return {"loss": float(self.reconstruction_loss(batch[0]).item())}


def train(name: str, model: Autoencoder, images: np.ndarray, test: np.ndarray, epochs: int, clock: Clock,
          noise: float = 0.0) -> Autoencoder:
    progress = gn.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: print(
        f"{clock} {name} epoch {epoch + 1:2d}/{epochs}: loss {logs['loss']:.4f}, test loss {logs['val_loss']:.4f}",
        flush=True))
    trainer = AutoencoderTrainer(model, gn.optim.Adam(model.parameters(), lr=2e-3), noise=noise,
                                 callbacks=[progress])
    trainer.fit(images, epochs=epochs, batch_size=64, validation_data=(test,), verbose=0)
    return model


def rebuild(model: Autoencoder, images: np.ndarray) -> np.ndarray:
    """The model's reconstruction of (N, 256) images, as grey levels."""
    with gn.no_grad():
        model.eval()
        return gn.sigmoid(model(gn.tensor(images))).numpy()


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    clock = Clock()
    train_size, epochs = (3000, 4) if args.quick else (8000, 30)
    gn.manual_seed(0)
    rng = np.random.default_rng(0)
    X, y = gn.data.load_digits(size=SIDE, binary=False)
    X_train, X_test, y_train, y_test = gn.data.train_test_split(X, y, test_size=2000, seed=0, stratify=y)
    X_train, y_train = X_train[:train_size], y_train[:train_size]
    normal = X_train[y_train != HELD_OUT]
    print(f"{clock} {len(normal)} training digits (no {HELD_OUT}s), {len(X_test)} test digits")

    # 1. anomaly detection: the reconstruction error of digits unlike the training set is large
    model = train("16-d code", Autoencoder(code_size=16), normal, X_test[y_test != HELD_OUT], epochs, clock)
    rebuilt = rebuild(model, X_test)
    error = ((rebuilt - X_test) ** 2).mean(axis=1)
    auc = roc_auc(error, y_test == HELD_OUT)
    print(f"{clock} reconstruction error: {error[y_test != HELD_OUT].mean():.4f} on seen digits, "
          f"{error[y_test == HELD_OUT].mean():.4f} on the held-out {HELD_OUT}s; ROC AUC {auc:.4f}")
    shown = np.concatenate([np.flatnonzero(y_test == d)[:2] for d in range(10)])
    save(image_grid(np.concatenate([X_test[shown], rebuilt[shown]]).reshape(-1, SIDE, SIDE), columns=len(shown),
                    title=f"test digits (top) rebuilt from a 16-number code (bottom); the {HELD_OUT}s were never "
                          f"seen in training", scale=0.8), args.out, "autoencoder_reconstructions")

    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
    bins = np.linspace(0, np.quantile(error, 0.995), 40)
    left.hist(error[y_test != HELD_OUT], bins, alpha=0.6, density=True, label="digits seen in training")
    left.hist(error[y_test == HELD_OUT], bins, alpha=0.6, density=True, label=f"held-out {HELD_OUT}s")
    left.set(xlabel="reconstruction error (mean squared, per image)", ylabel="density")
    left.legend()
    positive = (y_test == HELD_OUT)[np.argsort(-error, kind="mergesort")]
    right.plot(np.cumsum(~positive) / (~positive).sum(), np.cumsum(positive) / positive.sum())
    right.plot([0, 1], [0, 1], "k:", linewidth=0.8)
    right.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC, AUC = {auc:.3f}")
    save(fig, args.out, "autoencoder_anomaly")

    # 2. denoising: corrupted digits in, clean digits out
    denoiser = train("denoising", Autoencoder(code_size=16), X_train, X_test, epochs, clock, noise=NOISE)
    noisy = corrupt(X_test, rng)
    cleaned = rebuild(denoiser, noisy)
    noisy_error, cleaned_error = ((noisy - X_test) ** 2).mean(), ((cleaned - X_test) ** 2).mean()
    print(f"{clock} denoising: mean squared error {noisy_error:.4f} of the noisy digits, {cleaned_error:.4f} "
          f"after the denoiser")
    few = shown[::2]
    save(image_grid(np.concatenate([noisy[few], cleaned[few], X_test[few]]).reshape(-1, SIDE, SIDE),
                    columns=len(few), title="noisy input (top), denoised (middle), clean digit (bottom)"),
         args.out, "autoencoder_denoising")

    # 3. a 2-D code: the digits laid out on a plane
    flat = train("2-d code", Autoencoder(code_size=2), X_train, X_test, epochs, clock)
    with gn.no_grad():
        flat.eval()
        codes = flat.encoder(gn.tensor(X_test)).numpy()
    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    points = ax.scatter(codes[:, 0], codes[:, 1], c=y_test, cmap="tab10", s=5, vmin=-0.5, vmax=9.5)
    fig.colorbar(points, ax=ax, ticks=range(10), label="digit")
    ax.set(xlabel="code 1", ylabel="code 2", title="test digits by their 2-number code (trained without labels)")
    save(fig, args.out, "autoencoder_code2d")
    result("anomaly_roc_auc", auc)


if __name__ == "__main__":
    main()
