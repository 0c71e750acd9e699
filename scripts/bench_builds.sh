#!/usr/bin/env bash
# Runs the workload benches in two builds and prints their medians side by
# side:
#   default  what `cargo bench` gives a user: no target flags; staticnet picks
#            AVX2+FMA or AVX-512 at run time;
#   native   RUSTFLAGS="-C target-cpu=native", in its own target directory.
#
# Usage: scripts/bench_builds.sh [criterion filter, e.g. W1]
set -euo pipefail
cd "$(dirname "$0")/.."
filter=("$@")

run() {
    local dir=$1
    shift
    echo "=== build: ${dir}" >&2
    env "$@" CARGO_TARGET_DIR="${dir}" cargo bench --bench workloads -- "${filter[@]}" >&2
}

# Only benchmarks this run measured go into the table: criterion keeps the
# estimates of earlier runs (other filters) beside them.
marker=$(mktemp)
trap 'rm -f "${marker}"' EXIT

run target
run target/native RUSTFLAGS="-C target-cpu=native"

# The median (ns) recorded in a criterion estimates.json.
median() {
    sed -E 's/.*"median":\{"confidence_interval":\{[^}]*\},"point_estimate":([-0-9.eE+]+).*/\1/' "$1"
}

human() {
    awk -v ns="$1" 'BEGIN {
        if (ns < 1e3) printf "%.1f ns", ns;
        else if (ns < 1e6) printf "%.2f us", ns / 1e3;
        else printf "%.3f ms", ns / 1e6 }'
}

printf '\n| benchmark | default build | native build | default / native |\n'
printf '| --- | --- | --- | --- |\n'
find target/criterion -path '*/new/estimates.json' -newer "${marker}" | sort | while read -r f; do
    id=${f#target/criterion/}
    id=${id%/new/estimates.json}
    native=target/native/criterion/${id}/new/estimates.json
    [ "${native}" -nt "${marker}" ] || continue
    a=$(median "${f}")
    b=$(median "${native}")
    ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')
    printf '| %s | %s | %s | %s |\n' "${id}" "$(human "$a")" "$(human "$b")" "${ratio}"
done
