"""A generative adversarial network (GAN): a generator learns to turn random noise into data like a training set,
against a discriminator that learns to tell its samples from the real ones.

    python examples/gan.py [--quick] [--out DIR]

1. The classic test of a GAN: a ring of 8 Gaussians (radius 2, σ = SIGMA). A GAN that collapses onto a few modes
   fails it. Quality is stated two ways: how many of the 8 modes the generator covers (a mode is covered when at
   least a quarter of its fair share, 1/32 of the samples, lies within 3σ of it) and the fraction of samples
   within 3σ of some mode. The RESULT is the number of modes covered.
2. 16×16 grey digits from the same kind of networks (quality shown, not measured).
Both train through ``GANTrainer``, a ``gn.Trainer`` subclass whose ``train_step`` updates the discriminator and
then the generator and returns ``{"d_loss", "g_loss"}``; a callback keeps samples as training goes on.
"""
from __future__ import annotations

import numpy as np

from _common import Clock, image_grid, parse_args, pyplot, result, save

import glassnet as gn
from glassnet import nn
from glassnet.nn import functional as F

MODES, RADIUS, SIGMA = 8, 2.0, 0.05
CENTRES = RADIUS * np.stack([np.cos(2 * np.pi * np.arange(MODES) / MODES),
                             np.sin(2 * np.pi * np.arange(MODES) / MODES)], axis=1)


def ring_of_gaussians(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 2) points, each from one of the 8 Gaussians (chosen uniformly) around the ring."""
    return (CENTRES[rng.integers(MODES, size=n)] + SIGMA * rng.standard_normal((n, 2))).astype(np.float32)


def mode_quality(samples: np.ndarray) -> tuple[int, float]:
    """(modes covered, fraction of samples within 3σ of a mode); a mode is covered when at least 1/32 of the
    samples (a quarter of its fair share) lie within 3σ of it."""
    distance = np.linalg.norm(samples[:, None, :] - CENTRES[None], axis=2)  # (n, modes)
    near = distance.min(axis=1) <= 3 * SIGMA
    per_mode = np.bincount(distance.argmin(axis=1)[near], minlength=MODES)
    return int((per_mode >= len(samples) / (4 * MODES)).sum()), float(near.mean())


def mlp(sizes: list[int], activation: type[nn.Module], last: nn.Module | None = None) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers, *([last] if last is not None else []))


class GANTrainer(gn.Trainer):
    """A GAN's training step: a batch is (real samples,). The discriminator learns to score real samples 1 and
    generated ones 0 (binary cross-entropy on its logits); then the generator learns to make the discriminator
    score its samples 1 (the non-saturating generator loss of Goodfellow et al., 2014)."""

    def __init__(self, generator: nn.Module, discriminator: nn.Module, noise_size: int, lr: float = 2e-4,
                 seed: int = 0, **kwargs) -> None:
        g_optimizer = gn.optim.Adam(generator.parameters(), lr=lr, betas=(0.5, 0.999))
        super().__init__(generator, optimizer=g_optimizer, **kwargs)
        self.discriminator = discriminator
        self.d_optimizer = gn.optim.Adam(discriminator.parameters(), lr=lr, betas=(0.5, 0.999))
        self.noise_size, self.rng = noise_size, np.random.default_rng(seed)

    def noise(self, n: int):
        return gn.tensor(self.rng.standard_normal((n, self.noise_size)).astype(np.float32))

    def train_step(self, batch):
        real = batch[0]
        n = len(real.numpy())
        ones, zeros = gn.tensor(np.ones((n, 1), np.float32)), gn.tensor(np.zeros((n, 1), np.float32))
        fake = self.model(self.noise(n))

        self.d_optimizer.zero_grad()
        d_loss = (F.binary_cross_entropy_with_logits(self.discriminator(real), ones)
                  + F.binary_cross_entropy_with_logits(self.discriminator(fake.detach()), zeros))
        d_loss.backward()
        self.d_optimizer.step()

        self.optimizer.zero_grad()
        g_loss = F.binary_cross_entropy_with_logits(self.discriminator(fake), ones)
        g_loss.backward()  # reaches the discriminator's weights too; its next step zeroes them first
        self.optimizer.step()
        return {"d_loss": float(d_loss.item()), "g_loss": float(g_loss.item())}

    def sample(self, n: int, seed: int = 1) -> np.ndarray:
        """n samples from the generator (the same noise for the same seed), in the mode training left it in (a
        generator with batch norm normalises over these samples, as it does in training)."""
        rng = np.random.default_rng(seed)
        with gn.no_grad():
            return self.model(gn.tensor(rng.standard_normal((n, self.noise_size)).astype(np.float32))).numpy()


def fit_gan(name: str, trainer: GANTrainer, data: np.ndarray, epochs: int, snapshots: int, samples: int,
            clock: Clock) -> list[tuple[int, np.ndarray]]:
    """Train; return (epoch, generator samples) at ``snapshots`` evenly spaced epochs (the same noise each time)."""
    keep = set(np.linspace(0, epochs, snapshots + 1).astype(int)[1:] - 1)
    kept: list[tuple[int, np.ndarray]] = []

    def on_epoch_end(epoch, logs):
        if epoch in keep:
            kept.append((epoch + 1, trainer.sample(samples)))
            print(f"{clock} {name} epoch {epoch + 1:3d}/{epochs}: d_loss {logs['d_loss']:.3f}, "
                  f"g_loss {logs['g_loss']:.3f}", flush=True)

    trainer.callbacks.append(gn.callbacks.LambdaCallback(on_epoch_end=on_epoch_end))
    trainer.fit(data, epochs=epochs, batch_size=128, verbose=0)
    return kept


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    clock = Clock()
    plt = pyplot()
    gn.manual_seed(0)
    rng = np.random.default_rng(0)

    # 1. the ring of 8 Gaussians
    ring_epochs, ring_lr, digit_epochs, digits = (20, 2e-3, 0, 0) if args.quick else (40, 1e-3, 30, 10000)
    real = ring_of_gaussians(10000, rng)
    noise_size = 8
    trainer = GANTrainer(mlp([noise_size, 128, 128, 2], nn.ReLU), mlp([2, 128, 128, 1], nn.LeakyReLU),
                         noise_size, lr=ring_lr)
    kept = fit_gan("ring", trainer, real, ring_epochs, snapshots=6, samples=2000, clock=clock)
    covered, within = mode_quality(kept[-1][1])
    print(f"{clock} ring: {covered} of {MODES} modes covered, {within:.1%} of samples within 3σ of a mode")
    fig, axes = plt.subplots(1, len(kept), figsize=(2.3 * len(kept), 2.5), squeeze=False)
    for ax, (epoch, points) in zip(axes.flat, kept):
        ax.scatter(real[:2000, 0], real[:2000, 1], s=1, c="lightgray")
        ax.scatter(points[:, 0], points[:, 1], s=1, c="tab:red")
        ax.set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal", xticks=[], yticks=[], title=f"epoch {epoch}")
    fig.suptitle(f"GAN samples (red) over training, real data grey: {covered}/{MODES} modes, {within:.0%} "
                 f"within 3σ", fontsize=10)
    save(fig, args.out, "gan_ring")

    # 2. 16×16 digits
    if digits:
        X, _ = gn.data.load_digits(size=16, binary=False)
        images = X[:digits] * 2 - 1  # in [-1, 1], the generator's tanh range
        generator = nn.Sequential(  # batch norm in the generator, dropout in the discriminator: both needed here
            nn.Linear(64, 256), nn.BatchNorm1d(256), nn.LeakyReLU(0.2),
            nn.Linear(256, 512), nn.BatchNorm1d(512), nn.LeakyReLU(0.2), nn.Linear(512, 256), nn.Tanh())
        discriminator = nn.Sequential(
            nn.Linear(256, 256), nn.LeakyReLU(0.2), nn.Dropout(0.3),
            nn.Linear(256, 256), nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.Linear(256, 1))
        digit_trainer = GANTrainer(generator, discriminator, 64, lr=2e-4, seed=1)
        shots = fit_gan("digits", digit_trainer, images, digit_epochs, snapshots=4, samples=16, clock=clock)
        grid = np.concatenate([(points + 1) / 2 for _, points in shots]).reshape(-1, 16, 16)
        save(image_grid(grid, columns=16, titles=[f"ep {e}" if k == 0 else "" for e, _ in shots for k in range(16)],
                        title="generated digits over training (one row per snapshot, the same noise)"),
             args.out, "gan_digits")
    result("modes_covered", covered)


if __name__ == "__main__":
    main()
