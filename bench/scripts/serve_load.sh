#!/usr/bin/env bash
# A bounded load test of `vigil serve` on loopback: the README's service figures.
#
#   bench/scripts/serve_load.sh            # needs data/generated/ (./pipeline.sh writes it)
#
# Starts the server on a free port with a fresh store, trains a model through the API
# (POST /v1/models, dense autoencoder, 5 epochs), then runs the load client
# (serve/examples/load.rs) three times: GET /healthz (16 clients, 5000 requests), GET
# /v1/models/fleet (16 clients, 2000 requests) and POST /v1/models/fleet/detect with one
# host-day of metrics (1,440 rows; 4 clients, 200 requests). Prints one JSON line per run
# and the server's peak resident memory (VmHWM).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')}"
cargo build --release -p vigil --bins --examples --quiet
bin="$CARGO_TARGET_DIR/release"
data=data/generated
[[ -f $data/train/metrics.csv ]] || { echo "run ./pipeline.sh first (it writes $data)" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
"$bin/vigil" serve --store "$tmp/store" --listen 127.0.0.1:0 >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do grep -q listening "$tmp/out" 2>/dev/null && break; sleep 0.1; done
url="$(grep -o 'http://[0-9.:]*' "$tmp/out")"
echo "server $url (pid $pid)"

job="$(curl -sf -X POST "$url/v1/models?name=fleet&epochs=5" -H 'content-type: text/csv' \
    --data-binary @"$data/train/metrics.csv" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
while :; do
    state="$(curl -sf "$url/v1/jobs/$job" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')"
    [[ $state == queued || $state == running ]] || break
    sleep 1
done
echo "training job $job: $state"
[[ $state == succeeded ]]

# One host-day: the header and the first 1,440 rows of web-1.
awk -F, 'NR == 1 || ($2 == "web-1" && n++ < 1440)' "$data/test/metrics.csv" >"$tmp/day.csv"

load() { "$bin/examples/load" --url "$url" "$@"; }
load --name healthz --path /healthz --clients 16 --requests 5000
load --name model --path /v1/models/fleet --clients 16 --requests 2000
load --name detect --path /v1/models/fleet/detect --body "$tmp/day.csv" --content-type text/csv \
    --clients 4 --requests 200
echo "server peak memory: $(grep VmHWM /proc/$pid/status | awk '{print $2/1024 " MiB"}')"
curl -sf "$url/metrics" | grep -E '^vigil_(rows_scored|anomalies_raised)_total'
