# Sourced by run.sh and test.sh: create (once) and use a virtual environment in the checkout (.venv), so the
# commands work with Debian's externally managed /usr/bin/python3 as well as with pyenv or conda, and never install
# into the user's own environment. `use_venv` leaves the venv's python in $VENV_PYTHON; `install_extras EXTRAS
# SIZE` installs the checkout (editable) with those extras unless the stamp says pyproject.toml has not changed.
VENV_DIR="${GLASSNET_VENV:-.venv}"
VENV_PYTHON="$VENV_DIR/bin/python"
export PIP_USER=0 PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf '==> %s\n' "$*" >&2; }

as_root() {  # run a command as root: directly, through sudo, or fail with what to run by hand
  if [ "$(id -u)" = 0 ]; then "$@";
  elif command -v sudo >/dev/null 2>&1; then sudo "$@";
  else say "needs root: run '$*' as root, then this command again"; return 1; fi
}

base_python() {  # the python3 on PATH (or $PYTHON), checked to be 3.10+
  local python="${PYTHON:-python3}"
  if ! command -v "$python" >/dev/null 2>&1; then say "no $python on PATH: install Python 3.10 or newer"; return 1; fi
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    say "$("$python" --version 2>&1) is too old: glassnet needs Python 3.10 or newer"; return 1
  fi
  printf '%s\n' "$python"
}

use_venv() {
  if [ -x "$VENV_PYTHON" ] && "$VENV_PYTHON" -c 'import sys' 2>/dev/null; then return 0; fi
  local python; python="$(base_python)" || return 1
  if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then  # Debian/Ubuntu split venv into python3-venv
    local version; version="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    local package="python$version-venv"
    say "$python has no venv module: installing Debian's $package with apt (a few MB)"
    as_root apt-get update -q && as_root apt-get install -y -q "$package" || return 1
  fi
  say "creating the virtual environment $VENV_DIR with $("$python" --version 2>&1) ($(command -v "$python"))"
  rm -rf "$VENV_DIR"
  "$python" -m venv "$VENV_DIR"
}

stamp_of() {  # what the installed extras depend on: pyproject.toml and the venv's Python version
  printf '%s %s\n' "$1" "$( (cat pyproject.toml; "$VENV_PYTHON" --version) | sha256sum | cut -d' ' -f1)"
}

install_extras() {  # install_extras EXTRAS "SIZE" (the size is said before the download starts)
  local extras="$1" size="$2" stamp="$VENV_DIR/.installed-${1//,/-}"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(stamp_of "$extras")" ]; then return 0; fi
  say "installing glassnet[$extras] into $VENV_DIR ($size; once, until pyproject.toml changes)"
  "$VENV_PYTHON" -m pip install --progress-bar on -e ".[$extras]"
  stamp_of "$extras" > "$stamp"
  say "installed glassnet[$extras]"
}
