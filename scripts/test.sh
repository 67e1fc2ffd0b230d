#!/usr/bin/env bash
# Install what the tests need (Debian's Chromium for the browser tests, the package with its test extra), then run
# the whole suite. Safe to run again: installed things are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null;
  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi
fi
python3 -m pip install --quiet --disable-pip-version-check -e ".[test]"
exec python3 -m pytest "$@"
