"""Beyond one process (optional extra ``glassnet[distributed]``): data-parallel training over MPI
(``DistributedDataParallel``, ``DistributedSampler``) and sweeps and cross-validation as Dask tasks (``sweep``).
The core imports this package only when asked to (``Trainer(distributed=True)``); mpi4py and Dask are imported
only when used."""
from .ddp import DistributedDataParallel, DistributedSampler, MPIStrategy, abort_on_error, bucket_assignment, world
from .sweep import ConfigScore, SweepResult, grid_configs, kfold_indices, local_client, sweep

__all__ = ["DistributedDataParallel", "DistributedSampler", "MPIStrategy", "abort_on_error", "bucket_assignment",
           "world", "sweep", "SweepResult", "ConfigScore", "grid_configs", "kfold_indices", "local_client"]
