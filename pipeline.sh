#!/usr/bin/env bash
# Vigil's default pipeline on the embedded default scenario:
#
#   generate → train → detect → evaluate → charts
#
# Outputs: data/generated/{train,test}/ (metrics.csv, logs.log, labels.csv, …),
# charts/generator/ (the generator's charts), models/metrics/ (the trained model and its
# loss curves), models/logs/ (the DeepLog model, transitions.dot) and results/ (scores.csv,
# anomalies.csv, evaluation.txt/json, summary.json, charts/; logs/sessions.csv and its evaluation).
set -euo pipefail
cd "$(dirname "$0")"

# One build serves both README commands: `cargo build --tests` compiles exactly the units
# `cargo test --release --workspace` does (dev-dependencies change the features of shared
# dependencies such as crossbeam and bitflags, and with them burn's hash), so running the
# tests after the pipeline, or the pipeline after the tests, compiles nothing twice.
cargo build --release --workspace --tests
target="${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')}"
run() {
  local program=$1
  shift
  [[ ${1:-} == -- ]] && shift
  "$target/release/$program" "$@"
}

run generator -- --out data/generated --charts-dir charts/generator "$@"
run trainer -- metrics --input data/generated/train/metrics.csv --model models/metrics --force
run detector -- metrics --input data/generated/test/metrics.csv --model models/metrics \
  --out results --labels data/generated/test/labels.csv
run trainer -- logs --input data/generated/train/logs.log --model models/logs --force --quiet
run detector -- logs --input data/generated/test/logs.log --model models/logs --out results/logs \
  --labels data/generated/test/session_labels.csv
