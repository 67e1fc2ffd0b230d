"""glassnet.utils.data against torch.utils.data: datasets, splits, samplers, collation and the DataLoader."""
import collections

import numpy as np
import pytest
import torch
import torch.utils.data as TD

import glassnet as gn
import glassnet.utils.data as D


def as_numpy(batch):
    """A batch of either library as nested lists/dicts of (type name, ndarray) leaves, to compare the two."""
    if isinstance(batch, (gn.Tensor, torch.Tensor)):
        return ("tensor", np.asarray(batch.numpy()), str(batch.numpy().dtype))
    if isinstance(batch, dict):
        return {key: as_numpy(value) for key, value in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return (type(batch).__name__, [as_numpy(b) for b in batch])
    if isinstance(batch, (list, tuple)):
        return (type(batch).__name__, [as_numpy(b) for b in batch])
    return batch


def assert_same(a, b):
    if isinstance(a, tuple) and a and a[0] == "tensor":
        assert b[0] == "tensor" and a[2] == b[2], f"{a[2]} vs torch {b[2]}"
        np.testing.assert_array_equal(a[1], b[1])
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, tuple):
        assert a[0] == b[0], f"{a[0]} vs torch {b[0]}"
        assert len(a[1]) == len(b[1])
        for x, y in zip(a[1], b[1]):
            assert_same(x, y)
    else:
        assert a == b


Point = collections.namedtuple("Point", "x y")
X, Y = np.arange(20.0).reshape(10, 2), np.arange(10)
SAMPLES = {  # id: (glassnet data set, torch data set)
    "TensorDataset": (D.TensorDataset(gn.tensor(X), gn.tensor(Y)), TD.TensorDataset(torch.tensor(X), torch.tensor(Y))),
    "one tensor": (D.TensorDataset(gn.tensor(X.astype(np.float32))), TD.TensorDataset(torch.tensor(X).float())),
    "numbers and dicts": ([(i, i / 2, {"a": np.full(2, i), "name": f"s{i}"}) for i in range(5)],) * 2,
    "lists": ([[i, i + 1] for i in range(5)],) * 2,
    "named tuples": ([Point(np.ones(3) * i, i) for i in range(5)],) * 2,
    "numpy arrays": ([np.arange(3, dtype=np.float32) + i for i in range(5)],) * 2,
    "numpy scalars and bools": ([(np.float32(i), i % 2 == 0) for i in range(5)],) * 2,
    "an array as the data set": (X, X),
}


@pytest.mark.parametrize("batch_size", [1, 3, None])
@pytest.mark.parametrize("name", list(SAMPLES))
def test_batches_and_collation_are_torchs(name, batch_size):
    ours, theirs = SAMPLES[name]
    mine, reference = list(D.DataLoader(ours, batch_size)), list(TD.DataLoader(theirs, batch_size))
    assert len(mine) == len(reference) == len(D.DataLoader(ours, batch_size))
    for a, b in zip(mine, reference):
        assert_same(as_numpy(a), as_numpy(b))


def test_batches_of_subsets_of_a_tensor_dataset_equal_collating_the_samples():
    """Subsets (of random_split, nested) are gathered from the tensors at once: the same batches as collating the
    samples one by one."""
    data = D.TensorDataset(np.arange(40.0).reshape(20, 2), np.arange(20) % 3)
    train, _ = D.random_split(data, [0.7, 0.3], generator=gn.Generator().manual_seed(1))
    nested = D.Subset(train, [5, 0, 9, 2, 13, 7, 7])
    for dataset in (train, nested):
        fast = list(D.DataLoader(dataset, batch_size=4))
        slow = list(D.DataLoader(dataset, batch_size=4, collate_fn=lambda samples: D.default_collate(samples)))
        assert len(fast) == len(slow)
        for a, b in zip(fast, slow):
            assert_same(as_numpy(a), as_numpy(b))
    assert [row.tolist() for row in next(iter(D.DataLoader(nested, batch_size=2)))[0]] == \
        [data[train.indices[5]][0].tolist(), data[train.indices[0]][0].tolist()]


@pytest.mark.parametrize("n, batch_size, drop_last", [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, True)])
def test_len_and_drop_last_as_torch(n, batch_size, drop_last):
    ours = D.DataLoader(D.TensorDataset(np.arange(n)), batch_size, drop_last=drop_last)
    theirs = TD.DataLoader(TD.TensorDataset(torch.arange(n)), batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs) == len(list(ours)) == len(list(theirs))
    assert [len(b[0]) for b in ours] == [len(b[0]) for b in theirs]


def test_a_tuple_of_arrays_is_a_data_set_and_batches_are_a_list_of_tensors():
    batches = list(D.DataLoader((X, Y), batch_size=4))
    assert [type(b) for b in batches] == [list] * 3 and all(isinstance(t, gn.Tensor) for b in batches for t in b)
    np.testing.assert_array_equal(np.concatenate([yb.numpy() for _, yb in batches]), Y)
    assert batches[0][0].dtype == np.float64 and batches[0][1].dtype == np.int64


def test_shuffle_reshuffles_each_epoch_from_the_generator_and_visits_every_sample_once():
    loader = D.DataLoader(D.TensorDataset(np.arange(50)), batch_size=7, shuffle=True,
                          generator=gn.Generator().manual_seed(3))
    epochs = [np.concatenate([b[0].numpy() for b in loader]) for _ in range(3)]
    for order in epochs:
        np.testing.assert_array_equal(np.sort(order), np.arange(50))
    assert not np.array_equal(epochs[0], epochs[1]) and not np.array_equal(epochs[1], epochs[2])
    again = D.DataLoader(D.TensorDataset(np.arange(50)), batch_size=7, shuffle=True,
                         generator=gn.Generator().manual_seed(3))
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in again]), epochs[0])


def test_without_a_generator_shuffling_follows_manual_seed():
    def first_epoch():
        return np.concatenate([b.numpy() for b in D.DataLoader(np.arange(30), 4, shuffle=True)])
    gn.manual_seed(7)
    one = first_epoch()
    gn.manual_seed(7)
    np.testing.assert_array_equal(first_epoch(), one)
    assert not np.array_equal(one, np.arange(30))


def test_sampler_batch_sampler_and_collate_fn():
    dataset = D.TensorDataset(np.arange(10))
    picked = [b[0].tolist() for b in D.DataLoader(dataset, batch_size=2, sampler=[9, 0, 4, 5, 1])]
    assert picked == [[9, 0], [4, 5], [1]]
    assert [b[0].tolist() for b in D.DataLoader(dataset, batch_sampler=[[3, 1], [2]])] == [[3, 1], [2]]
    sums = list(D.DataLoader(dataset, batch_size=4, collate_fn=lambda samples: sum(s[0].item() for s in samples)))
    assert sums == [6, 22, 17]
    loader = D.DataLoader(dataset, 3, sampler=D.SubsetRandomSampler([1, 4, 8]))
    subset = sorted(i for b in loader for i in b[0].tolist())
    assert subset == [1, 4, 8]
    with pytest.raises(ValueError, match="mutually exclusive"):
        D.DataLoader(dataset, shuffle=True, sampler=[0, 1])
    with pytest.raises(ValueError, match="batch_sampler"):
        D.DataLoader(dataset, batch_size=3, batch_sampler=[[0]])


def test_random_sampler_with_replacement_and_num_samples():
    sampler = D.RandomSampler(range(5), replacement=True, num_samples=12, generator=gn.Generator().manual_seed(0))
    draws = list(sampler)
    assert len(draws) == len(sampler) == 12 and set(draws) <= set(range(5))
    longer = list(D.RandomSampler(range(5), num_samples=7))
    assert len(longer) == 7 and sorted(longer[:5]) == list(range(5))


@pytest.mark.parametrize("n, lengths", [(10, [3, 7]), (10, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]),
                                        (10, [0.33, 0.33, 0.34]), (5, [5, 0])])
def test_random_split_sizes_are_torchs_and_the_subsets_partition_the_data(n, lengths):
    ours = D.random_split(range(n), lengths, generator=gn.Generator().manual_seed(0))
    theirs = TD.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert all(isinstance(s, D.Subset) for s in ours)
    assert sorted(i for s in ours for i in s) == list(range(n))
    again = D.random_split(range(n), lengths, generator=gn.Generator().manual_seed(0))
    assert [list(s.indices) for s in again] == [list(s.indices) for s in ours]


@pytest.mark.parametrize("lengths", [[3, 3], [0.5, 0.6], [-1, 11], [2.5, 7.5]])
def test_random_split_rejects_lengths_that_do_not_fit(lengths):
    with pytest.raises(ValueError, match="random_split"):
        D.random_split(range(10), lengths)


def test_subset_and_concat_dataset_index_as_torch():
    data = D.TensorDataset(np.arange(10) * 10)
    subset = D.Subset(data, [4, 2])
    assert len(subset) == 2 and subset[1][0].item() == 20
    both = D.Subset(range(3), [0]) + D.TensorDataset(np.arange(4))
    reference = TD.Subset(range(3), [0]) + TD.TensorDataset(torch.arange(4))
    assert len(both) == len(reference) == 5
    def value(sample):  # an int from the range, or a one-tensor tuple from the TensorDataset
        return sample if isinstance(sample, int) else sample[0].item()
    assert [value(both[i]) for i in range(-5, 5)] == [value(reference[i]) for i in range(-5, 5)]
    with pytest.raises(IndexError):
        both[5]


def test_a_custom_dataset_subclass_as_in_the_tutorials():
    class Squares(D.Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return np.float32(i), np.array([i * i], np.float32)

    xb, yb = next(iter(D.DataLoader(Squares(), batch_size=4)))
    assert xb.dtype == np.float32 and xb.shape == (4,) and yb.shape == (4, 1)
    np.testing.assert_array_equal(yb.numpy()[:, 0], [0, 1, 4, 9])


def test_bad_data_sets_and_samples_are_named():
    with pytest.raises(TypeError, match="dataset"):
        D.DataLoader(5)
    with pytest.raises(ValueError, match="first dimension"):
        D.TensorDataset(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="different shapes"):
        next(iter(D.DataLoader([np.zeros(2), np.zeros(3)], batch_size=2)))
    with pytest.raises(TypeError, match="found object"):
        next(iter(D.DataLoader([object(), object()], batch_size=2)))


def test_utils_data_is_importable_both_ways():
    import glassnet.utils.data
    assert gn.utils.data is glassnet.utils.data and gn.data.DataLoader is D.DataLoader
