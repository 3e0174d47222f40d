#!/usr/bin/env bash
# The test suite, in the project's virtual environment.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh
exec .venv/bin/python -m pytest "$@"
