#!/usr/bin/env bash
# Fetches the public benchmarks from their sources into the layout ../shared/benchmarks has
# (what `vigil-bench` and `detector eval` read), and checks every file against the
# checksums of the copies Vigil's README figures were measured on (scripts/benchmarks.sha256).
#
#   scripts/fetch-benchmarks.sh [OUT]          # OUT defaults to ../shared/benchmarks
#   scripts/fetch-benchmarks.sh --verify DIR   # only check an existing copy
#
# Sources (git, shallow clones; needs network and git):
#   nab/           github.com/numenta/NAB: data/<category>/*.csv for six categories (one real
#                  category is left out on purpose, as in the shared copy), labels/, LICENSE.txt
#   loghub-2k/     github.com/logpai/logparser: data/loghub_2k_corrected/<System>/ (16 systems)
#   hdfs-deeplog/  github.com/wuyifan18/DeepLog: data/hdfs_train, data/hdfs_test_abnormal
#   hdfs/          HDFS_100k sessions, derived from logpai/deep-loglizer's processed HDFS_100k:
#                  its derivation is not scripted here; the script says so and checks a copy
#                  that is already present.
# A file whose checksum differs is reported (the upstream file changed since these figures
# were measured); the script exits 1 then.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
sums="$here/benchmarks.sha256"

verify() {
    local dir=$1
    echo "== checking $dir against scripts/benchmarks.sha256"
    (cd "$dir" && sha256sum --quiet -c "$sums")
    echo "all $(wc -l <"$sums") files match"
}

if [[ ${1:-} == --verify ]]; then
    verify "${2:?--verify DIR}"
    exit
fi
out="${1:-$here/../../shared/benchmarks}"
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
clone() { git clone --quiet --depth 1 "https://github.com/$1.git" "$tmp/$2"; }

echo "== NAB"
clone numenta/NAB nab
mkdir -p "$out/nab/data" "$out/nab/labels"
for c in realAWSCloudwatch realAdExchange realTraffic realTweets artificialWithAnomaly artificialNoAnomaly; do
    rm -rf "$out/nab/data/$c"
    cp -r "$tmp/nab/data/$c" "$out/nab/data/"
done
cp "$tmp/nab/labels/combined_windows.json" "$tmp/nab/labels/combined_labels.json" "$out/nab/labels/"
cp "$tmp/nab/LICENSE.txt" "$out/nab/"

echo "== loghub-2k (logparser's corrected templates)"
clone logpai/logparser logparser
mkdir -p "$out/loghub-2k"
cp -r "$tmp/logparser/data/loghub_2k_corrected/"* "$out/loghub-2k/"
[[ -f $tmp/logparser/LICENSE ]] && cp "$tmp/logparser/LICENSE" "$out/loghub-2k/LICENSE_loghub_2k.txt"

echo "== HDFS as DeepLog used it"
clone wuyifan18/DeepLog deeplog
mkdir -p "$out/hdfs-deeplog"
cp "$tmp/deeplog/data/hdfs_train" "$tmp/deeplog/data/hdfs_test_abnormal" "$out/hdfs-deeplog/"
[[ -f $tmp/deeplog/LICENSE ]] && cp "$tmp/deeplog/LICENSE" "$out/hdfs-deeplog/LICENSE_DeepLog.txt"

if [[ ! -f $out/hdfs/HDFS_100k_sessions.csv ]]; then
    echo "note: hdfs/ (HDFS_100k sessions) is derived from logpai/deep-loglizer's processed"
    echo "      HDFS_100k and not fetched by this script; vigil-bench hdfs needs it"
    grep -v ' hdfs/' "$sums" >"$tmp/sums"
    sums="$tmp/sums"
fi
verify "$out"
