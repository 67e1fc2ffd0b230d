"""Data-parallel training over MPI (``mpi4py`` with an MPI such as Debian's OpenMPI): every process holds a replica
of the model, trains on its own shard of each global batch, and the gradients are averaged with one Allreduce
after ``backward()``, so every replica takes the same step — the course's "make backpropagation parallel".

Run with ``mpirun -n 4 python train.py`` (one machine) or ``mpirun --hostfile hosts -n 8 python train.py`` (several;
see docs/scaling.md). The same script runs alone (``python train.py``) as a world of one.
"""
from __future__ import annotations

import math
import sys
from collections.abc import Iterator, Sized
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..nn import Module
from ..tensor import Tensor, is_grad_enabled, result
from ..train.strategy import Strategy

__all__ = ["DistributedDataParallel", "DistributedSampler", "MPIStrategy", "world", "abort_on_error"]


def world(comm: Any = None) -> Any:
    """The communicator: ``comm``, or MPI's COMM_WORLD (importing mpi4py, which starts MPI)."""
    if comm is not None:
        return comm
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError("glassnet.distributed needs mpi4py and an MPI library: apt-get install openmpi-bin "
                          "libopenmpi-dev, then pip install mpi4py (the glassnet[distributed] extra)") from error
    return MPI.COMM_WORLD


_aborting: set[int] = set()


def abort_on_error(comm: Any = None) -> None:
    """Make an exception that nobody catches on one process end the whole job: print it, say which rank failed,
    then ``MPI_Abort``, which stops every rank (the others would otherwise wait forever in the next Allreduce)."""
    comm = world(comm)
    if id(comm) in _aborting:
        return
    _aborting.add(id(comm))
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, trace: Any) -> None:
        previous(kind, value, trace)
        sys.stderr.write(f"glassnet.distributed: rank {comm.Get_rank()} of {comm.Get_size()} failed with "
                         f"{kind.__name__}: {value}; aborting every rank of the job\n")
        sys.stderr.flush()
        comm.Abort(1)

    sys.excepthook = hook


def _zero_like(array: np.ndarray) -> np.ndarray:
    return np.zeros((), array.dtype)


class DistributedDataParallel(Module):
    """Wrap a model so that ``backward()`` through its output averages the gradients of all processes.

    On construction, rank 0's parameters and buffers are broadcast to every process (all replicas start equal).
    When the wrapped module is in training mode, each forward first broadcasts rank 0's buffers (BatchNorm's
    running statistics), as PyTorch's DDP does with ``broadcast_buffers=True``. The gradients are averaged when
    backward reaches a small node that the forward records before the model's own nodes: the engine visits nodes
    newest first, so by then every parameter's gradient is complete. The gradients are reduced in place when they
    lie side by side in one buffer (as in a glassnet optimizer's flat gradient), else through one buffer of the
    wrapper's own: one Allreduce per step.
    ``no_sync()`` skips the averaging (gradient accumulation over several backward passes).
    """

    def __init__(self, module: Module, comm: Any = None, broadcast_buffers: bool = True) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel wraps a glassnet Module, got {type(module).__name__}")
        self.module = module
        self.comm = world(comm)
        self.rank, self.world_size = self.comm.Get_rank(), self.comm.Get_size()
        self.broadcast_buffers = broadcast_buffers
        self._sync = True
        self._own_buffer: np.ndarray | None = None
        abort_on_error(self.comm)
        for array in self._state_arrays():
            self.comm.Bcast(array, root=0)

    def _state_arrays(self) -> Iterator[np.ndarray]:
        for param in self.module.parameters():
            yield param._data
        yield from self._buffer_arrays()

    def _buffer_arrays(self) -> Iterator[np.ndarray]:
        for buffer in self.module.buffers():
            yield buffer._data

    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backward passes inside accumulate local gradients without averaging them."""
        previous, self._sync = self._sync, False
        try:
            yield
        finally:
            self._sync = previous

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if self.module.training and self.broadcast_buffers and self.world_size > 1:
            for array in self._buffer_arrays():
                self.comm.Bcast(array, root=0)
        if not (self._sync and is_grad_enabled()):
            return self.module(*args, **kwargs)
        trigger = Tensor(np.zeros(()), requires_grad=True)
        # recorded before the model's nodes, so that backward reaches it after all of them
        averaged = result(trigger._data, (trigger,), lambda g: (self.average_gradients(),))
        output = self.module(*args, **kwargs)
        if not isinstance(output, Tensor) or not output.requires_grad:
            return output
        return result(output._data, (output, averaged), lambda g: (g, _zero_like(g)))

    def average_gradients(self) -> None:
        """Allreduce the gradients of every parameter that requires one and divide them by the number of
        processes (a parameter without a gradient contributes zeros and receives the average)."""
        from mpi4py import MPI

        params = [p for p in self.module.parameters() if p.requires_grad]
        for p in params:
            if p.grad is None:
                p.grad = Tensor(np.zeros_like(p._data))
        flat = _side_by_side([p.grad._data for p in params])
        if flat is None:
            size = sum(p._data.size for p in params)
            dtype = np.result_type(*(p.grad._data.dtype for p in params))
            if self._own_buffer is None or self._own_buffer.size != size or self._own_buffer.dtype != dtype:
                self._own_buffer = np.empty(size, dtype)
            flat = self._own_buffer
            np.concatenate([p.grad._data.reshape(-1) for p in params], out=flat)
        self.comm.Allreduce(MPI.IN_PLACE, flat, op=MPI.SUM)
        flat /= self.world_size
        if flat is self._own_buffer:
            start = 0
            for p in params:
                p.grad._data[...] = flat[start:start + p._data.size].reshape(p._data.shape)
                start += p._data.size
        return None

    def extra_repr(self) -> str:
        return f"rank={self.rank}, world_size={self.world_size}"


def _side_by_side(arrays: list[np.ndarray]) -> np.ndarray | None:
    """One flat view over ``arrays`` when they are C-contiguous views lying one after the other in one buffer of
    one dtype, else None."""
    if not arrays:
        return None
    base = arrays[0].base
    dtype = arrays[0].dtype
    if base is None or not isinstance(base, np.ndarray) or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    origin = base.__array_interface__["data"][0]
    start = (arrays[0].__array_interface__["data"][0] - origin) // base.itemsize
    position = start
    for array in arrays:
        if (array.base is not base or array.dtype != dtype or not array.flags.c_contiguous
                or array.__array_interface__["data"][0] != origin + position * base.itemsize):
            return None
        position += array.size
    return base[start:position]


class DistributedSampler:
    """The indices of one process's shard of a dataset, as PyTorch's ``DistributedSampler``: the indices (shuffled
    per epoch from ``seed + epoch`` when ``shuffle``) are padded by repetition to a multiple of the number of
    processes (or cut, with ``drop_last``), and rank r takes every num_replicas-th one from r. Call
    ``set_epoch(epoch)`` before each epoch to reshuffle."""

    def __init__(self, dataset: Sized, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            comm = world()
            num_replicas = comm.Get_size() if num_replicas is None else num_replicas
            rank = comm.Get_rank() if rank is None else rank
        if not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: rank {rank} is outside [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, seed, drop_last, 0
        n = len(dataset)
        self.num_samples = n // num_replicas if drop_last else math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        order = (np.random.default_rng(self.seed + self.epoch).permutation(n) if self.shuffle
                 else np.arange(n))
        if self.total_size > n:
            order = np.resize(order, self.total_size)  # pads by repeating from the start
        order = order[:self.total_size]
        return iter(order[self.rank::self.num_replicas].tolist())

    def __len__(self) -> int:
        return self.num_samples


class MPIStrategy(Strategy):
    """``Trainer(..., distributed=MPIStrategy())`` (what ``distributed=True`` makes): data-parallel training over
    the MPI communicator ``comm`` (COMM_WORLD by default). The model is wrapped in ``DistributedDataParallel``;
    each epoch's samples are sharded by a ``DistributedSampler`` (shuffled from ``seed + epoch``); validation
    samples are split without padding (rank r takes every world_size-th from r) so that the combined means are
    exactly those of one process; logs are combined with Allreduce."""

    def __init__(self, comm: Any = None, seed: int = 0, broadcast_buffers: bool = True) -> None:
        self.comm = world(comm)
        self.rank, self.world_size = self.comm.Get_rank(), self.comm.Get_size()
        self.seed, self.broadcast_buffers = seed, broadcast_buffers

    def wrap_model(self, model: Module) -> Module:
        if isinstance(model, DistributedDataParallel):
            return model
        return DistributedDataParallel(model, self.comm, self.broadcast_buffers)

    def unwrap_model(self, model: Module) -> Module:
        return model.module if isinstance(model, DistributedDataParallel) else model

    def sampler(self, samples: int, shuffle: bool) -> DistributedSampler:
        return DistributedSampler(range(samples), self.world_size, self.rank, shuffle=shuffle, seed=self.seed)

    def evaluation_indices(self, samples: int) -> np.ndarray:
        if samples < self.world_size:
            raise ValueError(f"distributed evaluation: {samples} sample(s) cannot be shared by {self.world_size} "
                             f"processes; give at least one sample per process")
        return np.arange(self.rank, samples, self.world_size)

    def all_reduce_sum(self, values: np.ndarray) -> np.ndarray:
        from mpi4py import MPI
        summed = np.array(values, np.float64)
        self.comm.Allreduce(MPI.IN_PLACE, summed, op=MPI.SUM)
        return summed

    def all_finite(self, value: float) -> bool:
        from mpi4py import MPI
        flag = np.array([math.isfinite(value)], np.int32)
        self.comm.Allreduce(MPI.IN_PLACE, flag, op=MPI.MIN)
        return bool(flag[0])
