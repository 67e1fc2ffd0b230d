#!/usr/bin/env bash
# The main job: install glassnet with the playground into .venv (once), train the default playground network in the
# terminal (progress bar, test accuracy), then serve the playground on http://127.0.0.1:8000, where the default
# network trains on the circle as soon as the page opens. Extra arguments go to `glassnet playground` (e.g.
# --port 8080, --host 0.0.0.0 to open it to the network on purpose).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
use_venv
install_extras playground "NumPy, Starlette, uvicorn, Click, Rich: about 150 MB"
"$VENV_DIR/bin/glassnet" demo
exec "$VENV_DIR/bin/glassnet" playground "$@"
