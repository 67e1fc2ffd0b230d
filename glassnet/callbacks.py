"""The import path ``glassnet.callbacks``: the callbacks live in ``glassnet.train.callbacks``."""
from .train.callbacks import *  # noqa: F401,F403
from .train.callbacks import __all__  # noqa: F401
