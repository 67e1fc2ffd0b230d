#!/usr/bin/env bash
# The main job: install glassnet with the playground, train the default playground network on the built-in spiral
# in the terminal (progress bar, test accuracy), then serve the playground on http://127.0.0.1:8000, where the
# default network trains on the circle as soon as the page opens. Extra arguments go to `glassnet playground`
# (e.g. --port 8080, --host 0.0.0.0 to open it to the network on purpose).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e ".[playground,progress]"
glassnet demo
exec glassnet playground "$@"
