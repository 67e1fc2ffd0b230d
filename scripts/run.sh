#!/usr/bin/env bash
# The main job: install glassnet with the playground, then start the playground on http://127.0.0.1:8000 with the
# default network training on the built-in circle data. Extra arguments go to `glassnet playground`.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e ".[playground,progress]"
exec glassnet playground "$@"
