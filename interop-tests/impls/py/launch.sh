#!/usr/bin/env bash
# Run a Python entry point of the interop harness in the project-local virtual environment.
#   bash interop-tests/impls/py/launch.sh interop-tests/impls/py/codec.py [args...]
# The environment is created on first use (python/tools/ensure-venv.sh); its one-line report goes to
# stderr because stdout belongs to the harness's JSON lines. Run from the repository root.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
bash "$root/python/tools/ensure-venv.sh" >&2
exec "$root/python/.venv/bin/python" "$@"
