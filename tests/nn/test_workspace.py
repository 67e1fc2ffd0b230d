"""The sequence kernels' scratch arrays: reused only once nobody references them."""
from __future__ import annotations

import threading

import numpy as np

import glassnet as gn
from glassnet.nn import workspace


def test_a_free_array_is_reused_and_a_held_one_never():
    shape = (64, 1024)  # 256 KiB of float32: pooled
    first = workspace.empty(shape, np.float32)
    held = workspace.empty(shape, np.float32)
    assert held is not first
    address = first.__array_interface__["data"][0]
    del first
    again = workspace.empty(shape, np.float32)
    assert again.__array_interface__["data"][0] == address  # the freed one came back
    view = again[3:]
    del again
    assert workspace.empty(shape, np.float32).__array_interface__["data"][0] != address  # a view holds it
    del view
    tensor = gn.tensor(workspace.empty(shape, np.float32))
    assert workspace.empty(shape, np.float32) is not tensor._data  # so does a Tensor
    assert workspace.empty(shape, np.float64).dtype == np.float64 and held.shape == shape


def test_small_arrays_are_not_kept():
    assert workspace.empty((4, 4), np.float32).shape == (4, 4)
    assert ((4, 4), np.dtype(np.float32)) not in workspace._pool.arrays


def test_threads_never_share_an_array():
    shape, seen = (128, 1024), []

    def take():
        seen.append(workspace.empty(shape, np.float32))
    threads = [threading.Thread(target=take) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen[0] is not seen[1]


def test_outputs_kept_by_the_user_survive_later_steps():
    """An LSTM's and an attention layer's outputs from one step are unchanged by the next steps."""
    lstm, mha = gn.nn.LSTM(8, 64), gn.nn.MultiheadAttention(64, 4, batch_first=True)
    x = gn.tensor(np.random.default_rng(0).normal(size=(50, 32, 8)).astype(np.float32))
    out, (h, c) = lstm(x)
    kept = out._data.copy(), c._data.copy()
    attended, _ = mha(out, out, out)
    kept_attention = attended._data.copy()
    for _ in range(3):
        other, _ = lstm(gn.tensor(np.ones((50, 32, 8), np.float32)))
        mha(other, other, other)[0].sum().backward()
    np.testing.assert_array_equal(out._data, kept[0])
    np.testing.assert_array_equal(c._data, kept[1])
    np.testing.assert_array_equal(attended._data, kept_attention)
