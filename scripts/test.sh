#!/usr/bin/env bash
# Install what the tests need into .venv (once): Debian's Chromium for the browser tests, the package with its test
# extra (PyTorch 2.13.0 CPU as the gradient oracle, scikit-learn, matplotlib, Playwright…), then run the whole
# suite. Arguments go to pytest (e.g. -q, tests/test_cli.py).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
if ! command -v chromium >/dev/null 2>&1; then
  say "installing Debian's Chromium with apt for the browser tests (about 480 MB on disk)"
  as_root apt-get update -q
  as_root apt-get install -y -q chromium
fi
use_venv
install_extras test "PyTorch 2.13.0 CPU about 750 MB, Playwright, scikit-learn, ONNX, Jupyter…: about 1.8 GB"
say "running the tests"
exec "$VENV_PYTHON" -m pytest "$@"
