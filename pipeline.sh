#!/usr/bin/env bash
# Vigil's default pipeline on the embedded default scenario.
#
#   generate → (train → detect → evaluate: not implemented yet, issues 3 and 4) → charts
#
# Outputs: data/generated/{train,test}/ (metrics.csv, logs.log, labels.csv, …) and
# charts/generator/ (distributions and per-host monthly time series).
set -euo pipefail
cd "$(dirname "$0")"

run() { cargo run --release --quiet --bin "$@"; }

run generator -- --out data/generated --charts-dir charts/generator "$@"

echo "pipeline: the trainer and detector are not implemented yet; only generation ran."
