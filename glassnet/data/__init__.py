"""``glassnet.data``: toy data sets, features, splitting, batching and CSV points.

An outer ring: the core never imports it; its ``DataLoader`` is the core's ``glassnet.utils.data.DataLoader``.
"""

from .datasets import DATASETS, NOISE_MAX, DatasetInfo, make_dataset
from .digits import load_digits
from .features import FEATURES, features
from .loader import DataLoader
from .points_csv import read_points_csv, write_points_csv
from .split import train_test_split

__all__ = [
    "DATASETS", "NOISE_MAX", "DatasetInfo", "make_dataset", "load_digits",
    "FEATURES", "features",
    "train_test_split",
    "DataLoader",
    "read_points_csv", "write_points_csv",
]
