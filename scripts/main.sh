#!/usr/bin/env bash
# The main job on the embedded default: the paper's protocol on the synthetic quick cohort (resumable).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh
exec .venv/bin/spinedet study out/study --preset quick --seed 0 "$@"
