"""Data-parallel training over MPI (``mpi4py`` with an MPI such as Debian's OpenMPI): every process holds a replica
of the model, trains on its own shard of each global batch, and the gradients are averaged with Allreduce during
``backward()``, so every replica takes the same step — the course's "make backpropagation parallel".

Run with ``mpirun -n 4 python train.py`` (one machine) or ``mpirun --hostfile hosts -n 8 python train.py`` (several;
see docs/scaling.md). The same script runs alone (``python train.py``) as a world of one.
"""
from __future__ import annotations

import math
import sys
import weakref
from collections.abc import Iterator, Sized
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..autograd import gradient_buffer
from ..nn import Module, Parameter
from ..tensor import Tensor, is_grad_enabled, result
from ..train.strategy import Strategy

__all__ = ["DistributedDataParallel", "DistributedSampler", "MPIStrategy", "world", "abort_on_error",
           "bucket_assignment"]

DEFAULT_BUCKET_CAP_MB = 25  # PyTorch's
FIRST_BUCKET_MB = 1  # PyTorch's first bucket (the first-registered parameters, reduced last) under the default cap


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


def bucket_assignment(module: Module, bucket_cap_mb: float | None = None) -> list[list[Parameter]]:
    """The parameters of ``module`` that require a gradient, in buckets reduced together, as PyTorch's DDP makes
    them: in registration order, a bucket closes once it holds ``bucket_cap_mb`` MiB (25 when None, the first one
    then 1 MiB: the first-registered parameters are reduced last, after backward has ended, so a small bucket there
    leaves little to wait for), and the buckets are listed last first, the order in which backward completes them.
    Unlike PyTorch's, a bucket never splits one module's own parameters (a layer's weight and bias are done by one
    node), and the buckets are not rebuilt from the order seen in the first backward pass."""
    if bucket_cap_mb is not None and not bucket_cap_mb > 0:
        raise ValueError(f"bucket_cap_mb must be a positive number of MiB, got {bucket_cap_mb!r}")
    cap = 2 ** 20 * (DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb)
    limit = 2 ** 20 * FIRST_BUCKET_MB if bucket_cap_mb is None else cap
    buckets: list[list[Parameter]] = [[]]
    size, seen = 0, set()
    for sub in module.modules():
        own = [p for p in sub.parameters(recurse=False) if p.requires_grad and id(p) not in seen]
        seen.update(id(p) for p in own)
        buckets[-1] += own
        size += sum(p._data.nbytes for p in own)
        if size >= limit:
            buckets.append([])
            size, limit = 0, cap
    return [bucket for bucket in reversed(buckets) if bucket]


class _Bucket:
    """Parameters whose gradients are averaged by one Allreduce, in place when the gradients lie side by side in
    one buffer (as in a glassnet optimizer's flat gradient), else through a buffer of the bucket's own."""

    def __init__(self, params: list[Parameter]) -> None:
        self.params = params
        self.ready = 0  # parameters whose gradient this backward pass has completed
        self.own: np.ndarray | None = None
        self.flat: np.ndarray | None = None  # what the reduction in flight works on
        self.request: Any = None

    def start(self, comm: Any) -> None:
        """Start the non-blocking Allreduce of the gradients' sum (a parameter without a gradient adds zeros and
        receives the average)."""
        from mpi4py import MPI

        for p in self.params:
            if p.grad is None:
                store = gradient_buffer(p, p._data.dtype)
                if store is None:
                    p.grad = Tensor._wrap(np.zeros_like(p._data))
                else:
                    store[...] = 0
        grads = [p.grad._data for p in self.params]
        flat = _side_by_side(grads)
        if flat is None:
            size, dtype = sum(g.size for g in grads), np.result_type(*grads)
            if self.own is None or self.own.size != size or self.own.dtype != dtype:
                self.own = np.empty(size, dtype)
            flat = self.own
            np.concatenate([g.reshape(-1) for g in grads], out=flat)
        self.flat = flat
        self.request = comm.Iallreduce(MPI.IN_PLACE, flat, op=MPI.SUM)

    def finish(self, world_size: int) -> None:
        """Wait for the reduction and leave the average in every parameter's gradient."""
        self.request.Wait()
        flat = self.flat
        flat /= world_size
        if flat is self.own:
            start = 0
            for p in self.params:
                p.grad._data[...] = flat[start:start + p._data.size].reshape(p._data.shape)
                start += p._data.size
        self.flat = self.request = None
        self.ready = 0


class DistributedDataParallel(Module):
    """Wrap a model so that ``backward()`` through its output averages the gradients of all processes.

    On construction, rank 0's parameters and buffers are broadcast to every process (all replicas start equal).
    When the wrapped module is in training mode, each forward first broadcasts rank 0's buffers (BatchNorm's
    running statistics), as PyTorch's DDP does with ``broadcast_buffers=True``.

    The gradients are averaged in buckets of about ``bucket_cap_mb`` MiB (``bucket_assignment``), one Allreduce
    each, all waited for when backward reaches a small node that the forward records before the model's own (the
    engine visits nodes newest first, so by then every gradient of the model is complete; the forwards since the
    last averaging share it, so that several forwards before one backward average once); the optimizer's step
    sees the averages. With ``overlap``, a
    bucket's non-blocking Allreduce starts as soon as backward has completed all its gradients (the parameters'
    post-accumulate hooks), while backward goes on with the layers below, as PyTorch's DDP does; without it, all
    start when backward ends. Overlap needs an MPI that moves a reduction forward while the process computes:
    OpenMPI 4 does so only inside MPI calls, and on 2 processes of a 2-core machine it did not pay
    (docs/scaling.md), hence off by default. A model that is one graph node (a ``Sequential`` of Linear layers and
    activations runs as one fused node) completes all its gradients at once and has nothing to overlap.
    ``no_sync()`` skips the averaging (gradient accumulation over several backward passes).
    """

    def __init__(self, module: Module, comm: Any = None, broadcast_buffers: bool = True,
                 bucket_cap_mb: float | None = None, overlap: bool = False) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel wraps a glassnet Module, got {type(module).__name__}")
        self.module = module
        self.comm = world(comm)
        self.rank, self.world_size = self.comm.Get_rank(), self.comm.Get_size()
        self.broadcast_buffers, self.overlap = broadcast_buffers, bool(overlap)
        self.buckets = [_Bucket(params) for params in bucket_assignment(module, bucket_cap_mb)]
        self._sync = True
        self._armed = False  # the last forward that recorded a graph was outside no_sync: its backward averages
        self._trigger: weakref.ref | None = None  # the node whose backward averages (see _trigger_node)
        self._in_flight: list[Any] = []
        abort_on_error(self.comm)
        for array in self._state_arrays():
            self.comm.Bcast(array, root=0)
        if self.overlap:
            for bucket in self.buckets:
                for p in bucket.params:
                    p.register_post_accumulate_grad_hook(lambda p, bucket=bucket: self._gradient_done(bucket))

    def _state_arrays(self) -> Iterator[np.ndarray]:
        for param in self.module.parameters():
            yield param._data
        yield from self._buffer_arrays()

    def _buffer_arrays(self) -> Iterator[np.ndarray]:
        for buffer in self.module.buffers():
            yield buffer._data

    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """The backward passes of forwards inside accumulate local gradients without averaging them."""
        previous, self._sync = self._sync, False
        try:
            yield
        finally:
            self._sync = previous

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if self._in_flight:
            raise RuntimeError("DistributedDataParallel: the last backward pass started reductions of this "
                               "model's gradients but never reached its output, so they were not finished; "
                               "compute the loss from the model's output")
        if self.module.training and self.broadcast_buffers and self.world_size > 1:
            for array in self._buffer_arrays():
                self.comm.Bcast(array, root=0)
        if not is_grad_enabled():
            return self.module(*args, **kwargs)
        self._armed = self._sync
        if not self._sync:
            return self.module(*args, **kwargs)
        trigger = self._trigger_node()
        output = self.module(*args, **kwargs)
        if not isinstance(output, Tensor) or not output.requires_grad:
            return output
        return result(output._data, (output, trigger), lambda g: (g, _zero_like(g)))

    def _trigger_node(self) -> Tensor:
        """The node whose backward averages the gradients: made before this forward's nodes, or by the first of
        the forwards since the last averaging whose output is still alive, so that backward reaches it after the
        nodes of all of them (newest first) and averages once, e.g. after a GAN discriminator's two forwards."""
        trigger = None if self._trigger is None else self._trigger()
        if trigger is None:
            leaf = Tensor(np.zeros(()), requires_grad=True)
            trigger = result(leaf._data, (leaf,), lambda g: (self.average_gradients(),))
            self._trigger = weakref.ref(trigger)
        return trigger

    def _gradient_done(self, bucket: _Bucket) -> None:
        """A parameter's post-accumulate hook: start its bucket's reduction once the bucket is complete."""
        if not self._armed:
            return
        if self._in_flight:
            from mpi4py import MPI
            MPI.Request.Testall(self._in_flight)  # OpenMPI moves non-blocking reductions on inside MPI calls only
        bucket.ready += 1
        if bucket.ready == len(bucket.params):
            bucket.start(self.comm)
            self._in_flight.append(bucket.request)

    def average_gradients(self) -> None:
        """Average the gradients over the processes: start the reductions of the buckets not started yet, wait
        for all, divide by the number of processes. Backward calls it after the model's last node."""
        for bucket in self.buckets:
            if bucket.request is None:
                bucket.start(self.comm)
        for bucket in self.buckets:
            bucket.finish(self.world_size)
        self._armed, self._trigger, self._in_flight = False, None, []

    def extra_repr(self) -> str:
        return (f"rank={self.rank}, world_size={self.world_size}, buckets={len(self.buckets)}, "
                f"overlap={self.overlap}")


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
    exactly those of one process; logs are combined with Allreduce. ``broadcast_buffers``, ``bucket_cap_mb`` and
    ``overlap`` go to every ``DistributedDataParallel``."""

    def __init__(self, comm: Any = None, seed: int = 0, broadcast_buffers: bool = True,
                 bucket_cap_mb: float | None = None, overlap: bool = False) -> None:
        self.comm = world(comm)
        self.rank, self.world_size = self.comm.Get_rank(), self.comm.Get_size()
        self.seed, self.broadcast_buffers = seed, broadcast_buffers
        self.bucket_cap_mb, self.overlap = bucket_cap_mb, overlap

    def wrap_model(self, model: Module) -> Module:
        if isinstance(model, DistributedDataParallel):
            return model
        return DistributedDataParallel(model, self.comm, self.broadcast_buffers, self.bucket_cap_mb, self.overlap)

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
