#!/usr/bin/env bash
# Create or refresh the project-local virtual environment python/.venv.
#
# The environment is built from python/requirements.txt (every package pinned with ==), then the
# spikewire package itself is installed in editable mode without dependencies. Two stamps hold the sha256
# of requirements.txt (a change rebuilds the environment) and of pyproject.toml (a change reinstalls only
# the package). When both are current the script prints one line and exits, so it is cheap to run before
# every test command. Uses the first python3 >= 3.11 on PATH.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"   # the python/ folder
venv="$here/.venv"
req_stamp="$venv/.spikewire-requirements"
pkg_stamp="$venv/.spikewire-package"
req_hash="$(sha256sum <"$here/requirements.txt" | cut -d' ' -f1)"
pkg_hash="$(sha256sum <"$here/pyproject.toml" | cut -d' ' -f1)"

# Two commands may run this at once (a test run and the interop harness): one builds, the other waits.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$here/.venv.lock"
  flock 9
fi

current() { [[ -f "$1" && "$(cat "$1")" == "$2" ]]; }

if [[ -x "$venv/bin/python" ]] && current "$req_stamp" "$req_hash" && current "$pkg_stamp" "$pkg_hash"; then
  echo "python venv up to date: $venv ($("$venv/bin/python" --version 2>&1))"
  exit 0
fi

pick_python() {
  local candidate
  for candidate in python3 python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

started=$SECONDS
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
pip=("$venv/bin/python" -m pip install --disable-pip-version-check -q)

if [[ -x "$venv/bin/python" ]] && current "$req_stamp" "$req_hash"; then
  action="package reinstalled"
else
  if ! py="$(pick_python)"; then
    echo "ensure-venv: no python3 >= 3.11 on PATH; install Python 3.11 or later" >&2
    exit 1
  fi
  action="created"
  {
    rm -rf "$venv"
    "$py" -m venv "$venv"
    "${pip[@]}" -r "$here/requirements.txt"
  } >"$log" 2>&1 || {
    cat "$log" >&2
    echo "ensure-venv: failed to build $venv from requirements.txt (see the output above)" >&2
    rm -f "$req_stamp"
    exit 1
  }
  echo "$req_hash" >"$req_stamp"
fi

"${pip[@]}" --no-deps --no-build-isolation -e "$here" >"$log" 2>&1 || {
  cat "$log" >&2
  echo "ensure-venv: failed to install the spikewire package into $venv (see the output above)" >&2
  rm -f "$pkg_stamp"
  exit 1
}
echo "$pkg_hash" >"$pkg_stamp"
echo "python venv $action: $venv ($("$venv/bin/python" --version 2>&1), $((SECONDS - started)) s)"
