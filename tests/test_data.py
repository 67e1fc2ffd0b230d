"""Tests of glassnet.data: the playground generators, features, split, loader and CSV points."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassnet as gn
from glassnet.data import (DATASETS, FEATURES, DataLoader, features, make_dataset, read_points_csv,
                           train_test_split, write_points_csv)

CLASSIFICATION = [name for name, info in DATASETS.items() if info.problem != "regression"]
REGRESSION = [name for name, info in DATASETS.items() if info.problem == "regression"]


# --- make_dataset: every generator -------------------------------------------------------------

def test_datasets_lists_every_generator_with_its_problem_type():
    assert list(DATASETS) == ["circle", "xor", "gauss", "spiral", "plane", "multi_gauss", "spiral3", "sine"]
    kinds = {name: (info.problem, info.n_classes, info.default_n) for name, info in DATASETS.items()}
    assert kinds == {
        "circle": ("binary", 2, 500), "xor": ("binary", 2, 500), "gauss": ("binary", 2, 500),
        "spiral": ("binary", 2, 500), "sine": ("binary", 2, 500), "spiral3": ("multiclass", 3, 500),
        "plane": ("regression", None, 1200), "multi_gauss": ("regression", None, 1200),
    }
    with pytest.raises(TypeError):
        DATASETS["new"] = DATASETS["circle"]  # read-only


@pytest.mark.parametrize("name", list(DATASETS))
def test_default_shapes_dtypes_and_labels(name):
    info = DATASETS[name]
    X, y = make_dataset(name, seed=0)
    assert X.shape == (info.default_n, 2) and X.dtype == np.float64
    assert y.shape == (info.default_n,)
    assert np.isfinite(X).all() and np.isfinite(y).all()
    if info.problem == "regression":
        assert y.dtype == np.float64
    else:
        assert y.dtype == np.int64
        assert set(np.unique(y)) == set(range(info.n_classes))


@pytest.mark.parametrize("name", list(DATASETS))
@pytest.mark.parametrize("n", [1, 2, 7, 101])
def test_n_is_exact_even_when_odd(name, n):
    X, y = make_dataset(name, n=n, noise=0.2, seed=1)
    assert X.shape == (n, 2) and y.shape == (n,)


@pytest.mark.parametrize("name", list(DATASETS))
def test_same_seed_same_data_other_seed_other_data(name):
    X1, y1 = make_dataset(name, n=200, noise=0.3, seed=42)
    X2, y2 = make_dataset(name, n=200, noise=0.3, seed=42)
    X3, _ = make_dataset(name, n=200, noise=0.3, seed=43)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("name", ["circle", "gauss", "spiral"])
def test_binary_halves_are_balanced_and_ordered_positive_first(name):
    _, y = make_dataset(name, n=501, seed=0)
    np.testing.assert_array_equal(y, np.r_[np.ones(251, int), np.zeros(250, int)])


# --- the playground's facts ----------------------------------------------------------------------

def test_circle_inner_disc_is_1_outer_ring_is_0_at_noise_0():
    X, y = make_dataset("circle", n=2000, noise=0.0, seed=3)
    r = np.hypot(X[:, 0], X[:, 1])
    inner, outer = r[:1000], r[1000:]
    assert inner.max() <= 2.5 and inner.min() < 0.1          # r ~ U(0, 2.5): crowds the centre
    assert outer.min() >= 3.5 and outer.max() <= 5.0
    assert (y[:1000] == 1).all() and (y[1000:] == 0).all()
    np.testing.assert_array_equal(y, (r < 2.5).astype(int))


def test_circle_noise_changes_labels_not_points():
    X0, y0 = make_dataset("circle", n=1000, noise=0.0, seed=5)
    X5, y5 = make_dataset("circle", n=1000, noise=0.5, seed=5)
    np.testing.assert_array_equal(X0, X5)
    flipped = y0 != y5
    assert 0 < flipped.sum() < 500
    # offsets are at most 2.5·√2 long: points farther than that from the r = 2.5 border keep their label
    r = np.hypot(X0[:, 0], X0[:, 1])
    assert not flipped[np.abs(r - 2.5) > 2.5 * math.sqrt(2)].any()


@pytest.mark.parametrize("name", ["xor", "sine", "plane", "multi_gauss"])
def test_noise_moves_only_the_labels(name):
    X0, y0 = make_dataset(name, n=500, noise=0.0, seed=9)
    X1, y1 = make_dataset(name, n=500, noise=0.4, seed=9)
    np.testing.assert_array_equal(X0, X1)
    assert not np.array_equal(y0, y1)


def test_xor_sign_rule_and_the_push_of_0_3():
    X, y = make_dataset("xor", n=5000, noise=0.0, seed=1)
    a = np.abs(X)
    assert a.min() >= 0.3 and a.min() < 0.31     # pushed exactly 0.3 away from zero
    assert a.max() <= 5.3 and a.max() > 5.29
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] >= 0).astype(int))


def test_xor_noise_flips_labels_near_the_axes_only():
    X0, y0 = make_dataset("xor", n=5000, noise=0.0, seed=2)
    _, y1 = make_dataset("xor", n=5000, noise=0.1, seed=2)   # offsets at most 0.5 per coordinate
    flipped = y0 != y1
    assert flipped.any()
    assert (np.abs(X0[flipped]).min(axis=1) <= 0.5).all()


@pytest.mark.parametrize("noise", [0.0, 0.2, 0.5])
def test_gauss_means_and_variance(noise):
    X, y = make_dataset("gauss", n=20000, noise=noise, seed=4)
    pos, neg = X[y == 1], X[y == 0]
    assert len(pos) == len(neg) == 10000
    np.testing.assert_allclose(pos.mean(axis=0), [2, 2], atol=0.06)
    np.testing.assert_allclose(neg.mean(axis=0), [-2, -2], atol=0.06)
    variance = 0.5 + 7 * noise    # 0.5 → 4 as the slider goes 0 → 50
    np.testing.assert_allclose(pos.var(axis=0), variance, rtol=0.05)
    np.testing.assert_allclose(neg.var(axis=0), variance, rtol=0.05)


def test_spiral_radius_and_angle_at_noise_0():
    X, y = make_dataset("spiral", n=500, noise=0.0, seed=0)
    i = np.arange(250)
    r = 5 * i / 250
    t = 1.75 * 2 * np.pi * i / 250
    np.testing.assert_allclose(np.hypot(X[:, 0], X[:, 1]), np.r_[r, r], atol=1e-12)
    np.testing.assert_allclose(X[:250], np.c_[r * np.sin(t), r * np.cos(t)], atol=1e-12)
    np.testing.assert_allclose(X[250:], np.c_[r * np.sin(t + np.pi), r * np.cos(t + np.pi)], atol=1e-12)
    assert (y[:250] == 1).all() and (y[250:] == 0).all()


def test_spiral_noise_displaces_at_most_half_a_unit():
    X0, _ = make_dataset("spiral", n=2000, noise=0.0, seed=0)
    X5, _ = make_dataset("spiral", n=2000, noise=0.5, seed=7)
    d = X5 - X0
    assert np.abs(d).max() <= 0.5 and np.abs(d).max() > 0.49


def test_spiral3_has_three_arms_a_third_of_a_turn_apart():
    X, y = make_dataset("spiral3", n=500, noise=0.0, seed=0)
    sizes = [167, 167, 166]
    np.testing.assert_array_equal(y, np.repeat([0, 1, 2], sizes))
    start = 0
    for label, m in enumerate(sizes):
        i = np.arange(m)
        r, t = 5 * i / m, 1.75 * 2 * np.pi * i / m + label * 2 * np.pi / 3
        np.testing.assert_allclose(X[start:start + m], np.c_[r * np.sin(t), r * np.cos(t)], atol=1e-12)
        start += m


def test_plane_target_is_the_scaled_sum():
    X, y = make_dataset("plane", noise=0.0, seed=0)
    assert np.abs(X).max() <= 6
    np.testing.assert_allclose(y, (X[:, 0] + X[:, 1]) / 10, rtol=0, atol=1e-15)
    _, y_noisy = make_dataset("plane", noise=0.5, seed=0)
    shift = np.abs(y_noisy - y)
    assert shift.max() <= 0.6 + 1e-12 and shift.max() > 0.5   # (nx + ny)/10 with n ~ U(−3, 3)


def _cones(X):
    centres = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]
    values = np.stack([s * np.maximum(0, 1 - np.hypot(X[:, 0] - cx, X[:, 1] - cy) / 2) for cx, cy, s in centres])
    return values[np.abs(values).argmax(axis=0), np.arange(len(X))]


def test_multi_gauss_is_six_cones_of_radius_2():
    X, y = make_dataset("multi_gauss", n=5000, noise=0.0, seed=0)
    assert y.min() >= -1 and y.max() <= 1
    np.testing.assert_allclose(y, _cones(X), atol=1e-15)
    near = np.hypot(X[:, 0] - 4, X[:, 1] + 2.5) < 0.2          # next to the centre (4, −2.5, −)
    assert near.any() and (y[near] < -0.9).all()
    far = np.hypot(X[:, 0], X[:, 1]) < 0.3                     # (0, 0) is 2.5 from every centre
    assert far.any() and (y[far] == 0).all()
    _, y_noisy = make_dataset("multi_gauss", n=5000, noise=0.5, seed=0)
    assert np.abs(y_noisy).max() <= 1


def test_sine_labels_by_the_curve():
    X, y = make_dataset("sine", n=2000, noise=0.0, seed=0)
    assert np.abs(X).max() <= 6 and np.abs(X).max() > 5.9
    np.testing.assert_array_equal(y, (X[:, 1] > 3 * np.sin(X[:, 0])).astype(int))


# --- make_dataset: bad input --------------------------------------------------------------------

@pytest.mark.parametrize("noise", [-0.1, 0.81, 1.0, float("nan"), float("inf")])
def test_noise_out_of_range_names_value_and_range(noise):
    with pytest.raises(ValueError) as error:
        make_dataset("circle", noise=noise)
    assert f"noise={noise!r}" in str(error.value) and "[0, 0.8]" in str(error.value)


def test_noise_given_as_slider_value_gets_a_hint():
    with pytest.raises(ValueError, match=r"slider's 25 is noise=0.25"):
        make_dataset("spiral", noise=25)


def test_noise_must_be_a_number():
    with pytest.raises(TypeError, match="noise"):
        make_dataset("spiral", noise="0.1")


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(ValueError) as error:
        make_dataset("circel")
    message = str(error.value)
    assert "'circel'" in message and "did you mean 'circle'" in message
    assert all(repr(name) in message for name in DATASETS)


@pytest.mark.parametrize("n, kind", [(0, ValueError), (-5, ValueError), (2.5, TypeError), (True, TypeError)])
def test_bad_n(n, kind):
    with pytest.raises(kind, match="n must be"):
        make_dataset("xor", n=n)


# --- features -----------------------------------------------------------------------------------

def test_features_columns():
    X = np.array([[1.0, 2.0], [-0.5, 3.0]])
    assert FEATURES == ("x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2")
    F = features(X, FEATURES)
    expected = np.c_[X[:, 0], X[:, 1], X[:, 0] ** 2, X[:, 1] ** 2, X[:, 0] * X[:, 1], np.sin(X[:, 0]), np.sin(X[:, 1])]
    np.testing.assert_array_equal(F, expected)
    np.testing.assert_array_equal(features(X, ["sin_x2", "x1"]), np.c_[np.sin(X[:, 1]), X[:, 0]])
    assert features(X, "x1x2").shape == (2, 1)


def test_features_dtypes():
    assert features([[1, 2]], ["x1"]).dtype == np.float64
    assert features(np.ones((3, 2), np.float32), ["x1^2"]).dtype == np.float32


def test_features_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError) as error:
        features(np.zeros((3, 2)), ["x1", "x3"])
    assert "'x3'" in str(error.value) and all(repr(f) in str(error.value) for f in FEATURES)


def test_features_needs_two_columns():
    with pytest.raises(ValueError, match=r"shape \(n, 2\).*\(4, 3\)"):
        features(np.zeros((4, 3)), ["x1"])


# --- train_test_split ---------------------------------------------------------------------------

def test_split_sizes_disjoint_and_aligned():
    X = np.arange(100).reshape(50, 2)
    y = np.arange(50)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, seed=0)
    assert (len(Xtr), len(Xte), len(ytr), len(yte)) == (35, 15, 35, 15)
    np.testing.assert_array_equal(Xtr[:, 0] // 2, ytr)   # rows stay with their labels
    np.testing.assert_array_equal(Xte[:, 0] // 2, yte)
    assert set(ytr).isdisjoint(yte) and set(ytr) | set(yte) == set(range(50))
    assert not np.array_equal(np.sort(yte), np.arange(35, 50))   # shuffled


def test_split_fraction_rounds_test_up_and_accepts_a_count():
    assert [len(a) for a in train_test_split(np.zeros(10), test_size=0.25)] == [7, 3]
    assert [len(a) for a in train_test_split(np.zeros(10), test_size=4)] == [6, 4]
    assert [len(a) for a in train_test_split(list(range(8)))] == [6, 2]   # default 0.25, array-like


def test_split_seed_and_no_shuffle():
    a = train_test_split(np.arange(30), seed=1)
    b = train_test_split(np.arange(30), seed=1)
    c = train_test_split(np.arange(30), seed=2)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    tr, te = train_test_split(np.arange(10), test_size=0.2, shuffle=False)
    np.testing.assert_array_equal(tr, np.arange(8))
    np.testing.assert_array_equal(te, [8, 9])


def test_split_stratify_keeps_proportions():
    y = np.repeat([0, 1, 2], [60, 30, 10])
    ytr, yte = train_test_split(y, test_size=0.2, seed=0, stratify=y)
    np.testing.assert_array_equal(np.bincount(yte), [12, 6, 2])
    np.testing.assert_array_equal(np.bincount(ytr), [48, 24, 8])
    assert not np.array_equal(yte, np.sort(yte))   # shuffled, not grouped by class


def test_split_stratify_gives_the_leftover_to_the_largest_remainder():
    y = np.repeat([0, 1], [8, 2])            # test shares 2.4 and 0.6 of 3: floors 2 + 0, the 1 left goes to class 1
    for seed in range(5):
        _, yte = train_test_split(y, test_size=3, seed=seed, stratify=y)
        np.testing.assert_array_equal(np.bincount(yte), [2, 1])


def test_split_stratify_rounds_to_the_total():
    y = np.repeat([0, 1, 2], [5, 5, 5])
    for seed in range(5):
        ytr, yte = train_test_split(y, test_size=4, seed=seed, stratify=y)
        assert len(yte) == 4 and sorted(np.bincount(yte, minlength=3)) == [1, 1, 2]


def test_split_mismatched_lengths_names_them():
    with pytest.raises(ValueError, match="array 0 has 5, array 1 has 4"):
        train_test_split(np.zeros(5), np.zeros(4))


@pytest.mark.parametrize("arrays", [(), (np.zeros(0),), (np.zeros((0, 2)), np.zeros(0))])
def test_split_empty(arrays):
    with pytest.raises(ValueError, match="at least one"):
        train_test_split(*arrays)


@pytest.mark.parametrize("test_size", [0.0, 1.0, 1.5, -0.2, 0, 10, 11, -1, float("nan")])
def test_split_test_size_out_of_range(test_size):
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(np.zeros(10), test_size=test_size)


def test_split_test_size_type():
    with pytest.raises(TypeError, match="test_size"):
        train_test_split(np.zeros(10), test_size="half")


def test_split_stratify_errors():
    y = np.array([0, 0, 0, 1, 1, 2])
    with pytest.raises(ValueError, match="class 2 has only 1"):
        train_test_split(y, stratify=y)
    with pytest.raises(ValueError, match="shuffle"):
        train_test_split(y, stratify=y, shuffle=False)
    with pytest.raises(ValueError, match=r"shape \(5,\)"):
        train_test_split(y, stratify=y[:5])


# --- DataLoader ---------------------------------------------------------------------------------

def test_loader_covers_every_sample_once_per_epoch_and_reshuffles():
    X = np.arange(23 * 2).reshape(23, 2)
    y = np.arange(23)
    loader = DataLoader((X, y), batch_size=5, shuffle=True, generator=gn.Generator().manual_seed(0))
    assert len(loader) == 5
    epochs = []
    for _ in range(3):
        batches = list(loader)
        assert [len(xb) for xb, _ in batches] == [5, 5, 5, 5, 3]
        order = np.concatenate([yb.numpy() for _, yb in batches])
        np.testing.assert_array_equal(np.sort(order), y)
        for xb, yb in batches:
            np.testing.assert_array_equal(xb.numpy()[:, 0] // 2, yb.numpy())
        epochs.append(order)
    assert not np.array_equal(epochs[0], epochs[1]) and not np.array_equal(epochs[1], epochs[2])
    again = DataLoader((X, y), batch_size=5, shuffle=True, generator=gn.Generator().manual_seed(0))
    np.testing.assert_array_equal(np.concatenate([yb.numpy() for _, yb in again]), epochs[0])


def test_loader_is_the_core_one_and_does_not_shuffle_by_default():
    assert DataLoader is gn.utils.data.DataLoader
    order = np.concatenate([yb.numpy() for _, yb in DataLoader((np.zeros((7, 2)), np.arange(7)), batch_size=3)])
    np.testing.assert_array_equal(order, np.arange(7))


def test_loader_drop_last_and_x_only():
    loader = DataLoader(np.arange(7).reshape(7, 1), batch_size=3, drop_last=True)
    batches = list(loader)
    assert len(loader) == 2 and len(batches) == 2
    assert isinstance(batches[0], gn.Tensor)
    np.testing.assert_array_equal(np.concatenate(batches).ravel(), np.arange(6))
    assert len(DataLoader(np.zeros(2), batch_size=3, drop_last=True)) == 0
    assert [len(b) for b in DataLoader(np.zeros(2), batch_size=3)] == [2]


def test_loader_keeps_dtype():
    xb, yb = next(iter(DataLoader((np.ones((4, 2), np.float32), np.zeros(4, np.int64)), batch_size=2)))
    assert xb.dtype == np.float32 and yb.dtype == np.int64


@pytest.mark.parametrize("batch_size", [0, -1, 2.0, True])
def test_loader_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(np.zeros((4, 2)), batch_size=batch_size)


def test_loader_bad_data():
    with pytest.raises(ValueError, match=r"first dimension.*\(4, 2\).*\(3,\)"):
        DataLoader((np.zeros((4, 2)), np.zeros(3)))


# --- Hypothesis: split and loader partition the samples -----------------------------------------

@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 300), fraction=st.floats(0.01, 0.99), batch_size=st.integers(1, 50),
       drop_last=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_split_then_loader_partition_the_samples(n, fraction, batch_size, drop_last, seed):
    ids = np.arange(n)
    if math.ceil(fraction * n) >= n:
        with pytest.raises(ValueError):
            train_test_split(ids, test_size=fraction, seed=seed)
        return
    train, test = train_test_split(ids, test_size=fraction, seed=seed)
    assert len(test) == math.ceil(fraction * n) and len(train) + len(test) == n
    np.testing.assert_array_equal(np.sort(np.r_[train, test]), ids)

    loader = DataLoader(train, batch_size=batch_size, shuffle=True, generator=gn.Generator().manual_seed(seed),
                        drop_last=drop_last)
    batches = [b.numpy() for b in loader]
    assert len(batches) == len(loader)
    assert all(len(b) == batch_size for b in batches[:-1])
    seen = np.concatenate(batches) if batches else np.array([], int)
    assert len(set(seen)) == len(seen)                      # no sample twice
    expected = len(train) - len(train) % batch_size if drop_last else len(train)
    assert len(seen) == expected and set(seen) <= set(train)


# --- CSV points ---------------------------------------------------------------------------------

def test_csv_with_and_without_header():
    X, y = read_points_csv("x1,x2,label\n1,2,1\n-0.5, 3e-1 ,-1\n")
    np.testing.assert_array_equal(X, [[1, 2], [-0.5, 0.3]])
    np.testing.assert_array_equal(y, [1, -1])
    assert X.dtype == y.dtype == np.float64 and X.shape == (2, 2) and y.shape == (2,)
    X2, y2 = read_points_csv("\ufeff1,2,1\r\n\r\n-0.5,0.3,-1\r\n")   # BOM, CRLF, blank line
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
    X3, _ = read_points_csv(b" X1 , x2,LABEL\n1,2,0.25\n")
    np.testing.assert_array_equal(X3, [[1, 2]])


def test_csv_round_trip():
    X, y = make_dataset("multi_gauss", n=50, noise=0.1, seed=0)
    X2, y2 = read_points_csv(write_points_csv(X, y))
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)


BAD_CSV = [
    ("x1,x2,label\n" + "1,2,1\n" * 5 + "1,abc,0\n", r"^row 7, column 'x2': 'abc' is not a number$"),
    ("1,2,1\n3,4\n", r"row 2: expected 3 columns \(x1, x2, label\), got 2"),
    ("1,2,1,\n", r"row 1: expected 3 columns .* got 4"),
    ("1,2,1\n\n1,2,nan\n", r"row 3, column 'label': 'nan' is not a finite number"),
    ("1,-inf,1\n", r"row 1, column 'x2': '-inf' is not a finite number"),
    ("1,,1\n", r"row 1, column 'x2': an empty cell is not a number"),
    ("x,y,class\n1,2,3\n", r"row 1: the header must be 'x1,x2,label' \(or leave it out\), got 'x,y,class'"),
    ("1,2,abc\n", r"row 1, column 'label': 'abc' is not a number"),
    ("1_000,2,1\n", r"'1_000' is not a number"),
    ("", r"empty"),
    ("x1,x2,label\n\n", r"empty"),
    ('1,"2,1\n', r"row \d+: (expected 3 columns|.*not valid CSV)"),
]


@pytest.mark.parametrize("text, message", BAD_CSV)
def test_csv_bad_files_say_where(text, message):
    with pytest.raises(ValueError, match=message):
        read_points_csv(text)


def test_csv_limits():
    rows = "".join(f"{i},{i},1\n" for i in range(11))
    assert len(read_points_csv(rows, max_rows=11)[0]) == 11
    with pytest.raises(ValueError, match="too many rows.*10"):
        read_points_csv(rows, max_rows=10)
    with pytest.raises(ValueError, match=rf"too large: {len(rows)} bytes, the limit is 20 bytes"):
        read_points_csv(rows, max_bytes=20)
    with pytest.raises(ValueError, match="too large"):
        read_points_csv("1,2,1\n" + "é" * 40, max_bytes=50)     # bytes of UTF-8, not characters
    with pytest.raises(ValueError, match="UTF-8"):
        read_points_csv(b"1,2,\xff\n")
    with pytest.raises(TypeError):
        read_points_csv(None)
