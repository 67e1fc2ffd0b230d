#!/usr/bin/env bash
# Install what the tests need into .venv (once): Debian's Chromium for the browser tests and OpenMPI for the
# data-parallel ones, the package with its test extra (PyTorch 2.13.0 CPU as the gradient oracle, scikit-learn,
# matplotlib, Playwright, mpi4py, Dask…), then run the whole suite. Arguments go to pytest (e.g. -q,
# tests/test_cli.py).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
if ! command -v chromium >/dev/null 2>&1; then
  say "installing Debian's Chromium with apt for the browser tests (about 480 MB on disk)"
  as_root apt-get update -q
  as_root apt-get install -y -q chromium
fi
if ! command -v mpirun >/dev/null 2>&1 || ! command -v mpicc >/dev/null 2>&1; then
  say "installing Debian's OpenMPI with apt for the data-parallel tests (mpirun; mpicc builds mpi4py): about 60 MB"
  as_root apt-get update -q
  as_root apt-get install -y -q openmpi-bin libopenmpi-dev
fi
use_venv
install_extras test "PyTorch 2.13.0 CPU about 750 MB, Playwright, scikit-learn, ONNX, Jupyter…: about 1.8 GB"
say "running the tests"
exec "$VENV_PYTHON" -m pytest "$@"
