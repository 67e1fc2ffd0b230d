"""A recurrent network forecasting a noisy seasonal time series one step ahead.

    python examples/rnn_forecast.py [--quick] [--out DIR]

The series: a daily cycle (period 24) whose amplitude drifts slowly, a faster 7-step ripple and Gaussian noise.
From the last WINDOW values an LSTM and a GRU (``batch_first``, hidden state → one linear output) predict the next
one. The baseline is the seasonal-naive forecast, "the same as one period ago" (``x[t+1-24]``). The RESULT is the
better network's improvement over it on the last 30% of the series (never seen in training): 1 − MSE ÷ MSE_naive.
"""
from __future__ import annotations

import numpy as np

from _common import Clock, parse_args, progress_printer, pyplot, result, save

import glassnet as gn
from glassnet import nn

PERIOD, WINDOW, NOISE = 24, 48, 0.3


def seasonal_series(length: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(length)
    amplitude = 1 + 0.5 * np.sin(2 * np.pi * t / 700)
    clean = amplitude * np.sin(2 * np.pi * t / PERIOD) + 0.3 * np.sin(2 * np.pi * t / 7)
    return (clean + NOISE * rng.standard_normal(length)).astype(np.float32)


def windows(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(inputs (n, WINDOW, 1), next values (n,)) of every window of the series."""
    starts = np.arange(len(series) - WINDOW)
    inputs = series[starts[:, None] + np.arange(WINDOW)]
    return inputs[:, :, None], series[starts + WINDOW]


class Forecaster(nn.Module):
    """(N, WINDOW, 1) past values → (N, 1) the next value, from the recurrent layer's last hidden state."""

    def __init__(self, kind: type[nn.Module], hidden: int = 32) -> None:
        super().__init__()
        self.rnn = kind(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, past):
        output, _ = self.rnn(past)
        return self.head(output[:, -1])


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    clock = Clock()
    length, epochs = (1500, 4) if args.quick else (4000, 25)
    rng = np.random.default_rng(0)
    series = seasonal_series(length, rng)
    X, y = windows(series)
    cut = int(0.7 * len(X))
    X_train, y_train, X_test, y_test = X[:cut], y[:cut], X[cut:], y[cut:]
    naive = X_test[:, WINDOW - PERIOD, 0]  # the value one period before the one to predict
    naive_mse = float(((naive - y_test) ** 2).mean())
    print(f"{clock} {len(X_train)} training and {len(X_test)} test windows; seasonal-naive test MSE {naive_mse:.4f} "
          f"(the noise alone gives {NOISE ** 2:.4f} to any forecast)")

    forecasts, scores = {}, {}
    for kind in (nn.LSTM, nn.GRU):
        gn.manual_seed(0)
        model = Forecaster(kind)
        trainer = gn.Trainer(model, loss=nn.MSELoss(), optimizer=gn.optim.Adam(model.parameters(), lr=3e-3),
                             callbacks=[progress_printer(clock, epochs, f"{kind.__name__} ")])
        trainer.fit(X_train, y_train, epochs=epochs, batch_size=64, validation_data=(X_test, y_test), verbose=0)
        forecasts[kind.__name__] = trainer.predict(X_test)[:, 0]
        scores[kind.__name__] = float(((forecasts[kind.__name__] - y_test) ** 2).mean())
        print(f"{clock} {kind.__name__}: test MSE {scores[kind.__name__]:.4f}, "
              f"{1 - scores[kind.__name__] / naive_mse:.1%} below the seasonal-naive forecast")

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 3.2))
    shown = slice(0, 4 * PERIOD)
    ax.plot(y_test[shown], "k.", markersize=3, label="series (test part)")
    ax.plot(naive[shown], ":", label=f"seasonal naive (MSE {naive_mse:.3f})")
    for name, forecast in forecasts.items():
        ax.plot(forecast[shown], label=f"{name} (MSE {scores[name]:.3f})")
    ax.set(xlabel="time step", title="one-step-ahead forecasts on unseen data")
    ax.legend(fontsize=8)
    save(fig, args.out, "rnn_forecast")
    result("improvement_over_seasonal_naive", 1 - min(scores.values()) / naive_mse)


if __name__ == "__main__":
    main()
