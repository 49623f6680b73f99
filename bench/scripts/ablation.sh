#!/usr/bin/env bash
# The README's ablation table: what each part of the metrics decision adds, on NAB (51
# files, standard profile) and on generated data (the default scenario's seed, which the
# defaults were chosen on, and seed 20261122, which they were checked on).
#
#   bench/scripts/ablation.sh [work dir, default /tmp/vigil-ablation]
#
# Needs ../shared/benchmarks/nab and python3 (to read the JSON reports).
set -euo pipefail
cd "$(dirname "$0")/../.."
work="${1:-/tmp/vigil-ablation}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil/target}"
cargo build --release --quiet --workspace --tests  # the tests' build: no second burn
bin="$CARGO_TARGET_DIR/release"
mkdir -p "$work"
for seed in default 20261122; do
  if [ ! -f "$work/$seed/model/manifest.json" ]; then
    flags=()
    [ "$seed" = default ] || flags=(--seed "$seed")
    "$bin/generator" "${flags[@]}" --no-logs --no-charts -q --out "$work/$seed/data"
    "$bin/trainer" metrics -q --force -i "$work/$seed/data/train/metrics.csv" -m "$work/$seed/model"
  fi
  if [ ! -f "$work/$seed/pca/manifest.json" ]; then
    "$bin/trainer" metrics -q --force --model-kind pca -i "$work/$seed/data/train/metrics.csv" -m "$work/$seed/pca"
  fi
done

variants=(
  "first wave: raw score, POT threshold|--score raw --no-range --raise-daily-repeats --coarse-gate 0"
  "likelihood (one scale)|--long-scale 1 --no-range --no-context --no-column-scores --clip 0 --raise-daily-repeats --coarse-gate 0"
  "+ range rule|--long-scale 1 --no-context --no-column-scores --clip 0 --no-range-absorb --raise-daily-repeats --coarse-gate 0"
  "+ coarser scale|--no-context --no-column-scores --clip 0 --no-range-absorb --raise-daily-repeats --coarse-gate 0"
  "+ per-hour context|--no-column-scores --clip 0 --no-range-absorb --raise-daily-repeats --coarse-gate 0"
  "+ per-column scores|--no-seasonal --clip 0 --no-range-absorb --raise-daily-repeats --coarse-gate 0"
  "+ hour-of-day discount|--clip 0 --no-range-absorb --raise-daily-repeats --coarse-gate 0"
  "+ short falls kept out of the range|--clip 0 --raise-daily-repeats --coarse-gate 0"
  "+ bursts clipped in the history|--raise-daily-repeats --coarse-gate 0"
  "+ daily repeats not raised|--coarse-gate 0"
  "+ coarser scale gated by the recent error (default)|"
  "default + the network adapts online (--adapt)|--adapt"
  "default without suppression|--no-suppress"
  "PCA in the model's place, defaults|@pca"
)
printf '%-38s %17s %17s %28s %20s\n' "variant" "NAB51 def/opt" "AWS def/opt" "generated found F1 FA/h-d" "seed 20261122"
for v in "${variants[@]}"; do
  name="${v%%|*}"
  read -r -a flags <<< "${v#*|}"
  tag=$(echo "$name" | tr -c 'a-z0-9' '_')
  model=model
  kind=()
  if [ "${flags[*]:-}" = "@pca" ]; then
    flags=()
    model=pca
    kind=(--model-kind pca)
  fi
  "$bin/vigil-bench" nab --out "$work/nab-$tag" "${kind[@]}" "${flags[@]}" > /dev/null
  for seed in default 20261122; do
    "$bin/detector" metrics -q --no-charts -i "$work/$seed/data/test/metrics.csv" -m "$work/$seed/$model" \
      -o "$work/det-$seed-$tag" --labels "$work/$seed/data/test/labels.csv" "${flags[@]}"
  done
  python3 - "$work" "$tag" "$name" <<'PY'
import json, sys
work, tag, name = sys.argv[1:]
nab = json.load(open(f"{work}/nab-{tag}/nab.json"))
std = [p for p in nab["profiles"] if p["profile"] == "standard"][0]
aws = [c for c in nab["categories"] if c["category"] == "realAWSCloudwatch"][0]["profiles"][0]
ev = {s: json.load(open(f"{work}/det-{s}-{tag}/evaluation.json")) for s in ("default", "20261122")}
for who, label in (("model", name), ("baseline", "  per-hour z-score, same decision")):
    a, b = ev["default"][who], ev["20261122"][who]
    print(f"{label:38} {std[who + '_default']:8.1f}/{std[who + '_optimised']:<8.1f} "
          f"{aws[who + '_default']:8.1f}/{aws[who + '_optimised']:<8.1f} "
          f"{a['incidents_found']:>8}/{a['incidents']} {a['event_f1']:.3f} {a['false_alarms_per_host_day']:.2f}     "
          f"{b['incidents_found']}/{b['incidents']} {b['event_f1']:.3f} {b['false_alarms_per_host_day']:.2f}")
PY
done
