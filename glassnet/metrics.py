"""The import path ``glassnet.metrics``: the metrics live in ``glassnet.train.metrics``."""
from .train.metrics import *  # noqa: F401,F403
from .train.metrics import __all__  # noqa: F401
