#!/usr/bin/env bash
# Builds and runs tests/no_std_check: an executable with no std, no alloc and
# no global allocator that declares a network and runs inference, forward and
# backward on it. The build fails if anything links std or alloc; the run
# fails (non-zero exit, see `Failure` in its lib.rs) if a result is wrong.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="$root/target/no_std_check"

cd "$root/tests/no_std_check"
cargo build --release --target-dir "$target_dir"

status=0
"$target_dir/release/no_std_check" || status=$?
if [ "$status" -ne 0 ]; then
    echo "no_std check failed with code $status (see Failure in tests/no_std_check/src/lib.rs)" >&2
    exit 1
fi
echo "no_std check passed: built without std or alloc, and every check ran clean"
