"""Data sets and mini-batches with PyTorch's ``torch.utils.data`` names and semantics: ``Dataset``,
``TensorDataset``, ``Subset``, ``random_split``, samplers, ``default_collate`` and ``DataLoader``.

A ``DataLoader`` over a ``TensorDataset`` (or arrays) takes each batch by indexing the whole tensors once, which
gives what collating the samples one by one gives, without a Python loop per sample.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from numbers import Integral
from typing import Any, Callable

import numpy as np

from ..tensor import Generator, Tensor, default_rng, tensor

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "BatchSampler", "default_collate", "default_convert",
           "DataLoader"]


class Dataset:
    """A map-style data set: ``dataset[i]`` is sample i; subclasses define ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are rows: ``dataset[i]`` = ``(tensors[0][i], tensors[1][i], …)``; the tensors share their first
    dimension (e.g. inputs (N, features) and targets (N,))."""

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        tensors = tuple(t if isinstance(t, Tensor) else tensor(t) for t in tensors)
        sizes = [t._data.shape[0] if t._data.ndim else None for t in tensors]
        if None in sizes or len(set(sizes)) > 1:
            raise ValueError(f"TensorDataset: the tensors must share their first dimension (one row per sample), "
                             f"got shapes {[t.shape for t in tensors]}")
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0]._data.shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several data sets one after the other."""

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]))

    def __len__(self) -> int:
        return int(self.cumulative_sizes[-1])

    def __getitem__(self, index: int) -> Any:
        if index < 0:
            if -index > len(self):
                raise IndexError(f"index {index} is out of range for a ConcatDataset of length {len(self)}")
            index += len(self)
        part = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        if part >= len(self.datasets):
            raise IndexError(f"index {index} is out of range for a ConcatDataset of length {len(self)}")
        start = int(self.cumulative_sizes[part - 1]) if part else 0
        return self.datasets[part][index - start]


def random_split(dataset: Any, lengths: Sequence[int | float], generator: Generator | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given lengths, or fractions (summing to 1:
    each gets ⌊fraction·n⌋, and what is left goes one each to the first subsets, as PyTorch)."""
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(0 <= f <= 1 for f in lengths) and math.isclose(sum(lengths), 1) and sum(lengths) != n:
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(not isinstance(k, Integral) or k < 0 for k in lengths):
        raise ValueError(f"random_split: lengths must be counts ≥ 0 or fractions that sum to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: the lengths {lengths} sum to {sum(lengths)}, not to the dataset's length "
                         f"{n}")
    order = default_rng(generator).permutation(n).tolist()
    ends = np.cumsum(lengths).tolist()
    return [Subset(dataset, order[end - k:end]) for k, end in zip(lengths, ends)]


# ---------------------------------------------------------------------------------------------------- samplers

class Sampler:
    """An iterable of sample indices (one epoch per ``iter()``) with a ``len``."""

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, …, n − 1."""

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh random order of the samples every epoch, drawn from ``generator`` (by default glassnet's, which
    ``gn.manual_seed`` seeds); with ``replacement``, ``num_samples`` independent draws."""

    def __init__(self, data_source: Any, replacement: bool = False, num_samples: int | None = None,
                 generator: Generator | None = None) -> None:
        self.data_source, self.replacement, self.generator = data_source, replacement, generator
        self._num_samples = num_samples
        if num_samples is not None and (not isinstance(num_samples, Integral) or num_samples <= 0):
            raise ValueError(f"RandomSampler: num_samples must be a positive integer, got {num_samples!r}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        rng, n = default_rng(self.generator), len(self.data_source)
        if self.replacement:
            return iter(rng.integers(0, n, self.num_samples).tolist())
        draws = [rng.permutation(n) for _ in range(-(-self.num_samples // n))] if n else [np.zeros(0, np.int64)]
        return iter(np.concatenate(draws)[:self.num_samples].tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a fresh random order every epoch."""

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices, self.generator = indices, generator

    def __iter__(self) -> Iterator[int]:
        return iter([self.indices[i] for i in default_rng(self.generator).permutation(len(self.indices))])

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler`` (the last one shorter unless ``drop_last``)."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, Integral) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), bool(drop_last)

    def __iter__(self) -> Iterator[list[int]]:
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        full, rest = divmod(len(self.sampler), self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)


# ---------------------------------------------------------------------------------------------------- collation

def default_convert(data: Any) -> Any:
    """NumPy arrays (also inside dicts, lists, tuples) → Tensors, tuples → lists (as PyTorch); everything else
    unchanged."""
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf":
        return Tensor._wrap(data)
    if isinstance(data, np.generic) and data.dtype.kind in "biuf":
        return Tensor._wrap(np.asarray(data))
    if isinstance(data, Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # a named tuple
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (tuple, list)):  # a list, as PyTorch
        return [default_convert(d) for d in data]
    return data


def default_collate(batch: Sequence[Any]) -> Any:
    """A list of samples → one batch, as PyTorch: Tensors and NumPy arrays are stacked into a Tensor (a new first
    dim), Python floats → a float64 Tensor, ints → int64, bools → bool; dicts are collated key by key, named
    tuples field by field, and other sequences (tuples, lists) position by position into a list; strings stay a
    list."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        _same_shapes(batch, [b._data.shape for b in batch])
        return Tensor._wrap(np.stack([b._data for b in batch]))
    if isinstance(elem, np.ndarray) and elem.dtype.kind in "biuf":
        _same_shapes(batch, [np.shape(b) for b in batch])
        return Tensor._wrap(np.stack(batch))
    if isinstance(elem, np.generic) and elem.dtype.kind in "biuf":
        return Tensor._wrap(np.array(batch))
    if isinstance(elem, bool):
        return Tensor._wrap(np.array(batch, dtype=np.bool_))
    if isinstance(elem, float):
        return Tensor._wrap(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):
        return Tensor._wrap(np.array(batch, dtype=np.int64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise ValueError(f"default_collate: each sample of the batch must have the same length, got "
                             f"{[len(sample) for sample in batch]}")
        return [default_collate(list(samples)) for samples in zip(*batch)]
    raise TypeError(f"default_collate: batches must contain Tensors, NumPy arrays, numbers, dicts or lists; found "
                    f"{type(elem).__name__}")


def _same_shapes(batch: Sequence[Any], shapes: list[tuple[int, ...]]) -> None:
    if len(set(shapes)) > 1:
        raise ValueError(f"default_collate: cannot stack samples of different shapes {sorted(set(shapes))}; pass a "
                         f"collate_fn that pads them")


# ---------------------------------------------------------------------------------------------------- DataLoader

class _ArrayDataset(Dataset):
    """A tuple of arrays (or Tensors) with one row per sample, or one array, as a data set (what ``DataLoader``
    makes of ``(X, y)`` or ``X``)."""

    def __init__(self, arrays: Sequence[Any], single: bool) -> None:
        # shares the arrays' memory: batches are gathered copies, and the arrays are never written
        self.tensors = TensorDataset(*(a if isinstance(a, Tensor) else Tensor._wrap(a) for a in arrays)).tensors
        self.single = single

    def __getitem__(self, index: Any) -> Any:
        return self.tensors[0][index] if self.single else tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0]._data.shape[0]


class DataLoader:
    """Iterate over mini-batches of ``dataset``, PyTorch's ``torch.utils.data.DataLoader``.

    Each ``iter()`` is one epoch. ``dataset`` is a map-style data set (``dataset[i]``, ``len``), such as a
    ``TensorDataset``; a tuple of arrays ``(X, y)`` or one array is taken as the data set of their rows.
    With ``shuffle`` the order is drawn afresh every epoch from ``generator`` (by default glassnet's, which
    ``gn.manual_seed`` seeds), or ``sampler`` gives the indices; ``collate_fn`` (default ``default_collate``)
    turns a list of samples into a batch. ``len(loader)`` is the number of batches per epoch.

    Data is loaded in the main process: ``num_workers``, ``pin_memory``, ``timeout`` and the other worker options
    are accepted and change nothing (the batches are those that workers would give).
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Iterable[int] | None = None, batch_sampler: Iterable[Sequence[int]] | None = None,
                 num_workers: int = 0, collate_fn: Callable[[list], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn: Callable | None = None,
                 multiprocessing_context: Any = None, generator: Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True) -> None:
        if isinstance(dataset, tuple) and dataset and all(_is_array(a) for a in dataset):
            dataset = _ArrayDataset(dataset, single=False)
        elif _is_array(dataset):
            dataset = _ArrayDataset([dataset], single=True)
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(f"DataLoader: the dataset must support dataset[i] and len(dataset) (e.g. a "
                            f"TensorDataset, or a tuple of arrays), got {type(dataset).__name__}")
        if not isinstance(num_workers, Integral) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be an integer ≥ 0, got {num_workers!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True are mutually exclusive (the sampler gives the "
                             "order)")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
            raise ValueError("DataLoader: batch_sampler is mutually exclusive with batch_size, shuffle, sampler and "
                             "drop_last")
        self.dataset, self.num_workers, self.generator = dataset, num_workers, generator
        self.batch_size, self.drop_last = batch_size, bool(drop_last)
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        self.sampler = sampler
        if batch_sampler is None and batch_size is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: drop_last needs a batch_size (batch_size=None loads one sample at a time)")
        self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if batch_sampler is not None else default_convert)

    def __len__(self) -> int:
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    def __iter__(self) -> Iterator[Any]:
        if self.batch_sampler is None:  # no batching: one converted sample at a time
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        rows = _rows_of(self.dataset)
        if self.collate_fn is default_collate and rows is not None:
            return self._indexed_batches(*rows)
        return (self.collate_fn([self.dataset[i] for i in batch]) for batch in self.batch_sampler)

    def _indexed_batches(self, tensors: tuple[Tensor, ...], single: bool,
                         indices: np.ndarray | None) -> Iterator[Any]:
        """Each batch by one gather per tensor: what default_collate of the samples gives (a list of Tensors;
        one Tensor for a single array)."""
        for batch in self.batch_sampler:
            index = np.asarray(batch, dtype=np.intp)
            if indices is not None:
                index = indices[index]
            parts = [Tensor._wrap(t._data[index]) for t in tensors]
            yield parts[0] if single else parts

    def __repr__(self) -> str:
        return (f"DataLoader(dataset={type(self.dataset).__name__} of {len(self.dataset)}, batch_size="
                f"{self.batch_size}, sampler={type(self.sampler).__name__}, drop_last={self.drop_last}, "
                f"batches={len(self)})")


def _rows_of(dataset: Any) -> tuple[tuple[Tensor, ...], bool, np.ndarray | None] | None:
    """(tensors, single, indices) when each sample of ``dataset`` is a row of the same tensors: a TensorDataset
    or arrays, also through Subsets (e.g. of random_split), sample i being row indices[i]; else None."""
    indices = None
    while isinstance(dataset, Subset):
        outer = np.asarray(dataset.indices, dtype=np.intp)
        indices = outer if indices is None else outer[indices]
        dataset = dataset.dataset
    if not isinstance(dataset, (TensorDataset, _ArrayDataset)):
        return None
    return dataset.tensors, getattr(dataset, "single", False), indices


def _is_array(value: Any) -> bool:
    return isinstance(value, (np.ndarray, Tensor))
