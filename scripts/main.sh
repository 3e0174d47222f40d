#!/usr/bin/env bash
# The main job on the embedded default: a synthetic sample scan, then what spinedet loads from it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh
exec .venv/bin/spinedet inspect ../shared/realdata/lumbar_sag_t2.nii.gz "$@"
