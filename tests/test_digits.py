"""gn.data.load_digits: the course's 16×16 ink/no-ink digits (from the shipped MNIST sample), 28×28 and 8×8."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.data.digits import _mnist, _to_16


def test_16x16_binary_digits_as_the_course_draws_them():
    X, y = gn.data.load_digits()
    assert X.shape == (10000, 256) and X.dtype == np.float32 and y.dtype == np.int64
    assert set(np.unique(X)) == {0.0, 1.0}
    assert np.bincount(y).min() > 800  # every digit, about 1,000 each
    ink = X.reshape(-1, 16, 16)
    assert ink[:, :2].sum() < ink[:, 6:10].sum() / 20  # the padding keeps the border blank, the ink in the middle
    grey, _ = gn.data.load_digits(binary=False, flatten=False)
    assert grey.shape == (10000, 16, 16) and 0 <= grey.min() and grey.max() <= 1
    np.testing.assert_array_equal(grey >= 0.5, ink.astype(bool))


def test_pooling_is_the_mean_of_2x2_blocks_of_the_padded_image():
    raw, _ = _mnist()
    image = raw[:1].astype(np.float32) / 255
    padded = np.zeros((32, 32), np.float32)
    padded[2:30, 2:30] = image[0]
    expected = np.array([[padded[2 * i:2 * i + 2, 2 * j:2 * j + 2].mean() for j in range(16)] for i in range(16)])
    np.testing.assert_allclose(_to_16(raw[:1])[0], expected, rtol=1e-6)


def test_other_sizes_and_errors():
    X28, y28 = gn.data.load_digits(size=28, binary=False)
    assert X28.shape == (10000, 784) and X28.max() == 1.0
    X8, y8 = gn.data.load_digits(size=8)
    assert X8.shape == (1797, 64) and set(np.unique(X8)) == {0.0, 1.0}
    with pytest.raises(ValueError, match="size must be one of"):
        gn.data.load_digits(size=12)


def test_a_perceptron_learns_the_16x16_digits():
    """The course's network (256 inputs → 10 outputs, softmax + cross-entropy) separates the digits well above
    chance after a few epochs."""
    X, y = gn.data.load_digits()
    gn.manual_seed(0)
    model = gn.nn.Sequential(gn.nn.Linear(256, 10))
    gn.fit(model, X[:8000], y[:8000], loss=gn.nn.CrossEntropyLoss(), optimizer="adam", epochs=5, batch_size=64)
    accuracy = gn.evaluate(model, X[8000:], y[8000:], loss=gn.nn.CrossEntropyLoss(), metrics=["accuracy"])
    assert accuracy["accuracy"] > 0.75  # chance: 0.1
