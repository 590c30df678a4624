#!/usr/bin/env bash
# Create or refresh the project-local virtual environment python/.venv.
#
# The environment is built from python/requirements.txt (every package pinned with ==), then the
# spikewire package itself is installed in editable mode without dependencies. A stamp file holds the
# sha256 of requirements.txt and pyproject.toml: when both are unchanged the script only prints one line
# and exits, so it is cheap to run before every test command. Uses the first python3 >= 3.11 on PATH.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"   # the python/ folder
venv="$here/.venv"
stamp="$venv/.spikewire-stamp"

want="$(cat "$here/requirements.txt" "$here/pyproject.toml" | sha256sum | cut -d' ' -f1)"

# Two commands may run this at once (a test run and the interop harness): one builds, the other waits.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$here/.venv.lock"
  flock 9
fi

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
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

if ! py="$(pick_python)"; then
  echo "ensure-venv: no python3 >= 3.11 on PATH; install Python 3.11 or later" >&2
  exit 1
fi

started=$SECONDS
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
{
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$here/requirements.txt"
  "$venv/bin/python" -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e "$here"
} >"$log" 2>&1 || {
  cat "$log" >&2
  echo "ensure-venv: failed to build $venv (see the output above)" >&2
  rm -f "$stamp"
  exit 1
}
echo "$want" >"$stamp"
echo "python venv created: $venv ($("$venv/bin/python" --version 2>&1), $((SECONDS - started)) s)"
