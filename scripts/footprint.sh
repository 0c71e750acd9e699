#!/usr/bin/env bash
# Prints the footprint of W1 (2 -> 16 tanh -> 16 tanh -> 1) with its weights
# baked in at compile time: the code and read-only data of the inference
# function `w1_infer` (tests/no_std_check/src/baked.rs) and of everything it
# calls, and the stack it needs, in a release build of the no_std check
# crate for the host (x86-64).
#
# How each figure is measured, from the linked executable:
# - code: each function's symbol size (`nm -S`);
# - data: the bytes of read-only memory the function's instructions load
#   (each RIP-relative operand's address and width, overlapping ranges
#   merged; a `lea` of a data symbol counts the whole symbol);
# - stack: each function's frame from its prologue (pushes and the
#   `sub $n, %rsp`), and the deepest call chain from `w1_infer`, counting
#   8 bytes of return address per call. With a nightly toolchain the frames
#   are cross-checked against the compiler's own `-Z emit-stack-sizes`.
# The build uses the static relocation model (no PIE) so that calls are
# direct and the call graph can be read off the disassembly.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
host="$(rustc -vV | sed -n 's/^host: //p')"
if [ "${host%%-*}" != "x86_64" ]; then
    echo "footprint.sh reads x86-64 disassembly; this host is $host" >&2
    exit 1
fi
target_dir="$root/target/footprint"
flags="-C relocation-model=static -C link-arg=-no-pie"

cd "$root/tests/no_std_check"
RUSTFLAGS="$flags" cargo build --release --quiet --target "$host" --target-dir "$target_dir"
bin="$target_dir/$host/release/no_std_check"

# awk without extensions (mawk) has no strtonum: hex by hand.
HEX='function hex(s,  i, n) { n = 0; s = tolower(s); sub(/^0x/, "", s)
    for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
    return n }'

# The symbol tables, read once (an awk that stops early would break the
# pipe from nm, which pipefail reports as a failure).
symbols="$(nm -S "$bin")"
demangled="$(nm -C "$bin")"
demangle() { awk -v a="$1" '!done && $1 == a { $1 = ""; $2 = ""; sub(/^  /, ""); print; done = 1 }' <<<"$demangled"; }
address_of() { awk -v s="$1" '!done && $NF == s { print $1; done = 1 }' <<<"$symbols"; }
size_of() { awk -v s="$1" "$HEX"' !done && NF == 4 && $4 == s { print hex($2); done = 1 }' <<<"$symbols"; }

# One function's disassembly, instructions only.
disassemble() {
    objdump -d --no-show-raw-insn --disassemble="$1" "$bin" | grep -E '^ +[0-9a-f]+:'
}

# The functions a function calls (or tail-calls), by symbol.
callees() {
    disassemble "$1" | awk -v self="$1" '
        $2 == "call" || ($2 == "jmp" && $4 !~ /\+0x/) {
            if (match($0, /<[^>]+>/)) {
                s = substr($0, RSTART + 1, RLENGTH - 2)
                if (s != self && s !~ /\+0x/) print s
            }
        }' | sort -u
}

# Bytes of the prologue: 8 per push and the `sub $n,%rsp`, within the
# first 16 instructions.
frame() {
    disassemble "$1" | awk "$HEX"'
        NR <= 16 && $2 == "push" { n += 8 }
        NR <= 16 && $2 == "sub" && $3 ~ /,%rsp$/ { v = $3; sub(/^\$/, "", v); sub(/,%rsp$/, "", v); n += hex(v) }
        END { print n + 0 }'
}

# "address width" for every RIP-relative load, and "address size" for
# every `lea` of a data symbol.
data_ranges() {
    disassemble "$1" | awk '
        /\(%rip\)/ && /# [0-9a-f]+ </ {
            match($0, /# [0-9a-f]+ </); addr = substr($0, RSTART + 2, RLENGTH - 4)
            op = $2
            if (op == "lea") { print "lea", addr; next }
            w = 4
            if (op ~ /ss$/) w = 4
            else if (op ~ /sd$/ && op != "movsd" || op == "movsd") w = 8
            else if (op ~ /(ps|pd)$/ || op ~ /^p/) w = 16
            else if ($0 ~ /%r[a-z0-9]+$/ && $0 !~ /%r[0-9]+d$/) w = 8
            if ($0 ~ /%ymm/) w = 32
            if ($0 ~ /%zmm/) w = 64
            print "load", addr, w
        }'
}

# Merges the ranges into a byte count; a `lea` counts its whole symbol.
data_bytes() {
    local ranges
    ranges="$(data_ranges "$1")"
    {
        printf '%s\n' "$ranges" | awk "$HEX"' $1 == "load" { print hex($2), $3 }'
        printf '%s\n' "$ranges" | awk '$1 == "lea" { print $2 }' | while read -r addr; do
            awk -v a="$addr" "$HEX"' !done && NF == 4 && hex($1) == hex(a) { print hex($1), hex($2); done = 1 }' <<<"$symbols"
        done
    } | sort -n | awk '
        NF == 2 {
            s = $1; e = $1 + $2
            if (s > end) { total += end - start; start = s; end = e }
            else if (e > end) end = e
        }
        END { total += end - start; print total + 0 }' start=0 end=0
}

# Walk the call graph from w1_infer.
declare -A code data frames calls seen
queue=(w1_infer)
while [ ${#queue[@]} -gt 0 ]; do
    f="${queue[0]}"
    queue=("${queue[@]:1}")
    [ -n "${seen[$f]:-}" ] && continue
    seen[$f]=1
    code[$f]="$(size_of "$f")"
    data[$f]="$(data_bytes "$f")"
    frames[$f]="$(frame "$f")"
    calls[$f]="$(callees "$f" | tr '\n' ' ')"
    for c in ${calls[$f]}; do
        [ -z "$(address_of "$c")" ] && { echo "w1_infer calls $c, which is not in the executable" >&2; exit 1; }
        queue+=("$c")
    done
done

# Deepest stack from f: its return address, its frame, and its deepest callee.
declare -A depth path
deepest() {
    local f="$1" best=0 best_path="" c
    for c in ${calls[$f]}; do
        [ -z "${depth[$c]:-}" ] && deepest "$c"
        if [ "${depth[$c]}" -gt "$best" ]; then best="${depth[$c]}"; best_path="${path[$c]}"; fi
    done
    depth[$f]=$((8 + frames[$f] + best))
    path[$f]="$(demangle "$(address_of "$f")")${best_path:+ -> $best_path}"
}
deepest w1_infer

weights="$(size_of W1_WEIGHTS)"
echo "W1 (2 -> 16 tanh -> 16 tanh -> 1), weights baked in: release build of tests/no_std_check"
echo "for $host with $(rustc --version | cut -d' ' -f1-2)"
echo
printf '%-34s %10s %16s %10s\n' "function" "code (B)" "data read (B)" "frame (B)"
total_code=0
total_data=0
for f in "${!seen[@]}"; do
    total_code=$((total_code + code[$f]))
    total_data=$((total_data + data[$f]))
    printf '%-34s %10d %16d %10d\n' "$(demangle "$(address_of "$f")")" "${code[$f]}" "${data[$f]}" "${frames[$f]}"
done | sort -k2 -n -r
for f in "${!seen[@]}"; do
    total_code=$((total_code + code[$f]))
    total_data=$((total_data + data[$f]))
done
printf '%-34s %10d %16d\n' "total" "$total_code" "$total_data"
echo
echo "stack: ${depth[w1_infer]} bytes (deepest chain: ${path[w1_infer]}; frames plus 8-byte return addresses)"
echo "weights: $((weights / 4)) f32 = $weights bytes in the static W1_WEIGHTS; the compiler reads some from"
echo "there and folds others into the function's own constants: 'data read' counts both"

if cargo +nightly --version >/dev/null 2>&1 && command -v llvm-readobj >/dev/null; then
    RUSTFLAGS="$flags -Z emit-stack-sizes" cargo +nightly build --release --quiet --target "$host" \
        --target-dir "$target_dir/nightly"
    nightly_bin="$target_dir/nightly/$host/release/no_std_check"
    echo
    echo "cross-check, $(cargo +nightly --version | cut -d' ' -f1-2) -Z emit-stack-sizes (frame sizes):"
    sizes="$(llvm-readobj --stack-sizes --demangle "$nightly_bin")"
    for f in "${!seen[@]}"; do
        name="$(demangle "$(address_of "$f")")"
        awk -v f="$name" "$HEX"'
            /Functions:/ { hit = index($0, "[" f "]") > 0 }
            hit && /Size:/ { printf "  %-34s %10d\n", f, hex($2); hit = 0 }' <<<"$sizes"
    done
fi
