"""Beyond one process (optional extra ``glassnet[distributed]``): sweeps and cross-validation as Dask tasks
(``sweep``). Nothing in the core imports this package; Dask is imported only when a sweep uses it."""
from .sweep import ConfigScore, SweepResult, grid_configs, kfold_indices, local_client, sweep

__all__ = ["sweep", "SweepResult", "ConfigScore", "grid_configs", "kfold_indices", "local_client"]
