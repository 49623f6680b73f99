#!/usr/bin/env bash
# Detector throughput and peak memory on a 5.18 M-row input (10 hosts × 180 days at 30 s):
# a model trained on the fleet's clean first four months scores the whole six months.
#
#   bench/scripts/detect.sh [work dir, default /tmp/vigil-bench]
#
# Prints the detector's summary line and the peak resident memory (GNU time's maximum
# resident set size).
set -euo pipefail
cd "$(dirname "$0")/../.."
work="${1:-/tmp/vigil-bench}"
shift || true
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil/target}"
cargo build --release --quiet --workspace --tests  # the tests' build: no second burn
bin="$CARGO_TARGET_DIR/release"
scenario=data/scenarios/fleet-180d.toml
"$bin/generator" -c "$scenario" --no-split --no-logs --no-charts -q --out "$work/fleet"
"$bin/generator" -c "$scenario" --no-logs --no-charts -q --out "$work/split"
"$bin/trainer" metrics -q --force -i "$work/split/train/metrics.csv" -m "$work/model"
wc -l "$work/fleet/metrics.csv"
/usr/bin/time -f "peak memory: %M KiB, wall %e s, cpu %P" \
  "$bin/detector" metrics -i "$work/fleet/metrics.csv" -m "$work/model" -o "$work/results" "$@"
