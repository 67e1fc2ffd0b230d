"""How a ``Trainer`` spreads training over processes: the small interface that the training loop asks, with the
single-process default.

``Trainer(..., distributed=True)`` takes ``glassnet.distributed.MPIStrategy`` (data-parallel over MPI) and
``distributed=<a Strategy>`` any other. The core only knows this interface: it never imports
``glassnet.distributed``, whose engines (mpi4py) are optional extras.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..nn import Module

__all__ = ["Strategy", "SingleProcess"]


class Strategy:
    """What the training loop asks about the processes it runs on. Every process runs the same loop; the
    methods that combine numbers over processes are collective (every process calls them in the same order).

    ``rank``, ``world_size``: this process's number and how many there are; ``is_main``: rank 0, the one that
    prints progress and writes files (callbacks with ``main_process_only``).
    """

    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wrap_model(self, model: Module) -> Module:
        """The model that the training steps call: ``model`` itself, or a replica wrapper whose backward
        combines the gradients of all processes."""
        return model

    def unwrap_model(self, model: Module) -> Module:
        """The user's model inside what ``wrap_model`` returned (what callbacks save and ``state_dict`` holds)."""
        return model

    def sampler(self, samples: int, shuffle: bool) -> Any:
        """The sample indices of this process for training, as an object with ``set_epoch(epoch)`` and
        ``__iter__`` (e.g. a ``DistributedSampler``), or None: the trainer batches all samples itself."""
        return None

    def evaluation_indices(self, samples: int) -> np.ndarray | None:
        """This process's share of ``samples`` evaluation samples (disjoint shares that cover them all), or None:
        all of them."""
        return None

    def all_reduce_sum(self, values: np.ndarray) -> np.ndarray:
        """The element-wise sum of ``values`` (a float64 vector) over all processes."""
        return values

    def all_finite(self, value: float) -> bool:
        """Whether ``value`` is finite on every process (a step is taken everywhere or nowhere)."""
        return math.isfinite(value)

    def reduce_means(self, means: dict[str, float], samples: int) -> tuple[dict[str, float], int]:
        """Logged means over this process's ``samples`` samples → the means over the samples of all processes
        (weighted by their counts) and the total count. The keys must be the same on every process."""
        if self.world_size == 1:
            return means, samples
        keys = sorted(means)
        sums = self.all_reduce_sum(np.array([samples, *(means[key] * samples for key in keys)], np.float64))
        total = int(round(sums[0]))
        return {key: value / total for key, value in zip(keys, sums[1:].tolist())}, total


class SingleProcess(Strategy):
    """One process: nothing is wrapped, sharded or reduced (the default)."""


def resolve(distributed: Any) -> Strategy:
    """``Trainer``'s ``distributed`` argument as a Strategy: False/None → one process, True → data-parallel over
    MPI, a Strategy as given."""
    if distributed is None or distributed is False:
        return SingleProcess()
    if distributed is True:
        # Imported here, not at the top: the core never imports the outer ring (glassnet.distributed needs mpi4py,
        # an optional extra, and importing it starts MPI), so it loads only when distributed training is asked for.
        from ..distributed import MPIStrategy
        return MPIStrategy()
    if isinstance(distributed, Strategy):
        return distributed
    raise TypeError(f"distributed must be True, False or a glassnet.train.Strategy (e.g. "
                    f"glassnet.distributed.MPIStrategy(comm)), got {type(distributed).__name__}")
