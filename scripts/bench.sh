#!/usr/bin/env bash
# `make bench`: builds the benchmark harness (Benchmarks/, a separate SwiftPM package that depends
# on this one) in release, runs every benchmark in its own process and writes bench/REPORT.md and
# bench/results.json. Takes about 35 minutes on a 2-core host, 16–18 of them the MeshGEMM on the whole
# 750×994 fabric (750² cores, 8.2 G events: a MeshGEMM's events grow with the side cubed).
#
# Environment:
#   BENCH_QUICK=1        smaller sizes (a smoke run of the harness, a minute or two)
#   BASELINE_BIN=path    also time this `waferscope` binary (e.g. built from an older commit) and
#                        the current one on the same command lines, alternated
#   BASELINE_ROUNDS=n    rounds of those (default 3; the report keeps each command line's fastest)
#   ENGINE_ROUNDS=n      rounds of the engine rows (default 3; the report keeps each row's fastest)
#   FULL_GEMM=0          skip the full-fabric MeshGEMM (one round; on by default, off with BENCH_QUICK)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
OUT="$ROOT/bench"
PARTS="$OUT/tmp/parts"
SCRATCH="$ROOT/.build-bench"
rm -rf "$PARTS"
mkdir -p "$PARTS" "$OUT/tmp"

# The harness needs the kernel, model and LLM modules as library products of the root package.
# Until Package.swift exports them, build against an overlay: the same sources with a manifest
# that adds those products.
if grep -q '\.library(name: "WaferLLM"' Package.swift && grep -q '\.library(name: "WaferKernels"' Package.swift \
    && grep -q '\.library(name: "WaferModel"' Package.swift && grep -q '\.library(name: "WaferSpec"' Package.swift; then
    export WAFERSCOPE_ROOT=".."
else
    OVERLAY="$SCRATCH/overlay/waferscope-root"
    mkdir -p "$OVERLAY"
    for f in Sources Tests Package.resolved; do
        [[ -e "$f" ]] && ln -sfn "$ROOT/$f" "$OVERLAY/$f"
    done
    python3 - "$ROOT/Package.swift" "$OVERLAY/Package.swift" <<'EOF'
import re, sys
src = open(sys.argv[1]).read()
anchor = '.library(name: "WaferTrace", targets: ["WaferTrace"]),'
if anchor not in src:
    sys.exit("bench.sh: cannot find the WaferTrace product in Package.swift to add the harness's products after it")
extra = ''.join(f'\n        .library(name: "{m}", targets: ["{m}"]),' for m in ["WaferSpec", "WaferKernels", "WaferModel", "WaferLLM"]
                if f'.library(name: "{m}"' not in src)
open(sys.argv[2], "w").write(src.replace(anchor, anchor + extra, 1))
EOF
    export WAFERSCOPE_ROOT="$OVERLAY"
fi

export BENCH_SWIFT_VERSION="$(swift --version 2>/dev/null | head -1)"
export BENCH_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- Sources 2>/dev/null || echo '+changes')"

echo "bench: building the harness (release)…"
# SwiftPM keeps the root package's file lists in the harness's build plan: drop the plan, so files
# added to Sources since the last bench are compiled.
rm -f "$SCRATCH/build/release.yaml" "$SCRATCH/build/release/description.json" "$SCRATCH/build/x86_64-unknown-linux-gnu/release/description.json"
swift build -c release --package-path Benchmarks --scratch-path "$SCRATCH/build" --manifest-cache none 2>&1 | grep -E "error|warning: unre|Compiling|Build" | tail -3
BIN="$SCRATCH/build/release/waferbench"
[[ -x "$BIN" ]] || { echo "bench: the harness did not build" >&2; exit 1; }

n=0
part() { n=$((n + 1)); local cmd="$1"; shift; "$BIN" "$cmd" --out "$PARTS/$(printf %02d $n)-$cmd.json" "$@"; }

BASELINE_ROUNDS="${BASELINE_ROUNDS:-3}"; ENGINE_ROUNDS="${ENGINE_ROUNDS:-3}"
if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
    GEMV_SIDES="64x64 128x128 256x256"; GEMM_SIDES="32x32 64x64 128x128"; GEMM_N=1024; FULL_GEMM="${FULL_GEMM:-0}"
    DECODE="8:8388608 16:4194304 32:1048576"; ROUNDS="10 40 160"; TOKENS=1; LONG_TOKENS="2 8 32"
else
    GEMV_SIDES="64x64 256x256 750x994"; GEMM_SIDES="64x64 128x128 256x256"; GEMM_N=2048; FULL_GEMM="${FULL_GEMM:-1}"
    DECODE="8:8388608 32:1048576 96:0"; ROUNDS="25 100 400"; TOKENS=3; LONG_TOKENS="4 16 64"
fi

echo "bench: engine throughput ($ENGINE_ROUNDS rounds; the report keeps each row's fastest)"
for round in $(seq "$ENGINE_ROUNDS"); do
    for m in $GEMV_SIDES; do part engine --kernel gemv --algo ktree --mesh "$m" --rows 8192 --cols 8192; done
    for m in $GEMM_SIDES; do part engine --kernel gemm --algo meshgemm --mesh "$m" --m $GEMM_N --k $GEMM_N --n $GEMM_N; done
done
if [[ "$FULL_GEMM" == 1 ]]; then
    echo "bench: MeshGEMM on the whole 750x994 fabric (one round, ~18 minutes)"
    part engine --kernel gemm --algo meshgemm --mesh 750x994 --m $GEMM_N --k $GEMM_N --n $GEMM_N
fi

echo "bench: real numerics against the dense reference"
for d in $DECODE; do
    side="${d%%:*}"; sram="${d##*:}"
    part decode --side "$side" --sram "$sram" --decode-tokens $TOKENS
done

echo "bench: traces and Perfetto export"
for r in $ROUNDS; do
    part trace --workload shift --mesh 32x32 --rounds "$r" --out-trace "$OUT/tmp/shift-$r.wtrace"
done
part trace --workload gemm --mesh 32x32 --n 512 --out-trace "$OUT/tmp/gemm-32.wtrace"
part trace --workload comm --mesh 64x64 --pattern transpose --out-trace "$OUT/tmp/transpose-64.wtrace"
for r in $ROUNDS; do
    part export --trace "$OUT/tmp/shift-$r.wtrace" --out-json "$OUT/tmp/shift-$r.json"
done

echo "bench: memory of long runs (waferscope generate, no trace file: only totals are kept)"
swift build -c release --product waferscope --scratch-path "$SCRATCH/cli" 2>&1 | tail -1
for t in $LONG_TOKENS; do
    part cli --bin "$SCRATCH/cli/release/waferscope" --label "long-run $t" -- generate --timing-only --config smollm2-135m \
        --mesh 96x96 --prompt-tokens "$t" --max-tokens 1 --prefill steps --simulate-layers 1
done

echo "bench: a MeshGEMM prefill with its layers replayed and simulated (waferscope generate, timing-only)"
PREFILL=(generate --timing-only --config smollm2-135m --mesh 96x96 --prompt-tokens 96 --max-tokens 1 --prefill meshgemm)
part cli --bin /usr/bin/env --label "prefill simulated, 6 layers" -- WAFERSCOPE_REPLAY=0 "$SCRATCH/cli/release/waferscope" \
    "${PREFILL[@]}" --simulate-layers 6
part cli --bin /usr/bin/env --label "prefill replayed, 6 layers" -- WAFERSCOPE_REPLAY=1 "$SCRATCH/cli/release/waferscope" \
    "${PREFILL[@]}" --simulate-layers 6
part cli --bin /usr/bin/env --label "prefill replayed, 30 layers" -- WAFERSCOPE_REPLAY=1 "$SCRATCH/cli/release/waferscope" "${PREFILL[@]}"
# With real numbers (the model's weights, all 30 layers): the GEMMs' numerics tapes are too long to
# keep, so their replays rerun the numerics from the programs' ops (on two threads, and on one).
# About 2 + 5 + 3 minutes.
if [[ "${BENCH_QUICK:-0}" != 1 ]]; then
    PROMPT="The history of the city of Paris goes back more than two thousand years. It began as a small settlement on an island in the river Seine and grew into one of the largest cities in Europe."
    NUMBERS=(generate --mesh 96x96 --prompt "$PROMPT" --prefill meshgemm --max-tokens 1 --json)
    part cli --bin /usr/bin/env --label "prefill with numbers replayed" -- WAFERSCOPE_REPLAY=1 "$SCRATCH/cli/release/waferscope" "${NUMBERS[@]}"
    part cli --bin /usr/bin/env --label "prefill with numbers simulated" -- WAFERSCOPE_REPLAY=0 "$SCRATCH/cli/release/waferscope" "${NUMBERS[@]}"
    part cli --bin /usr/bin/env --label "prefill with numbers replayed, one thread" -- WAFERSCOPE_REPLAY=1 WAFERSCOPE_NUMERICS_THREADS=1 \
        "$SCRATCH/cli/release/waferscope" "${NUMBERS[@]}"
fi

echo "bench: a sweep on one host thread and on every host core (waferscope sweep --jobs)"
SWEEP_SIDES="16,32,64,128"; [[ "${BENCH_QUICK:-0}" == 1 ]] && SWEEP_SIDES="16,32,64"
CORES="$(nproc)"
for j in 1 "$CORES"; do
    part cli --bin "$SCRATCH/cli/release/waferscope" --label "sweep jobs $j" -- sweep --kernel gemm --algos meshgemm,cannon \
        --mesh-sides "$SWEEP_SIDES" --m $GEMM_N --k $GEMM_N --n $GEMM_N --timing-only --jobs "$j" --out "$OUT/tmp/sweep-$j.csv"
done
cmp -s "$OUT/tmp/sweep-1.csv" "$OUT/tmp/sweep-$CORES.csv" || { echo "bench: sweep --jobs $CORES wrote a different CSV from --jobs 1" >&2; exit 1; }

if [[ -n "${BASELINE_BIN:-}" ]]; then
    echo "bench: command-line runs, baseline against this build (alternated, $BASELINE_ROUNDS rounds)"
    for round in $(seq "$BASELINE_ROUNDS"); do
    for pair in "baseline:$BASELINE_BIN" "current:$SCRATCH/cli/release/waferscope"; do
        label="${pair%%:*}"; bin="${pair#*:}"
        part cli --bin "$bin" --label "$label gemv 750x994" -- record gemv --algo ktree --mesh 750x994 --rows 8192 --cols 8192 \
            --timing-only --detail summary --out "$OUT/tmp/cli.wtrace"
        part cli --bin "$bin" --label "$label gemm 128x128" -- record gemm --algo meshgemm --mesh 128x128 --m 2048 --k 2048 \
            --n 2048 --timing-only --detail summary --out "$OUT/tmp/cli.wtrace"
        for t in 1 3; do
            # With a trace file at summary or kernel detail (replayed runs write the same bytes).
            part cli --bin "$bin" --label "$label generate 96x96 timing-only, $t token(s)" -- generate --timing-only \
                --config smollm2-135m --prompt-tokens 2 --mesh 96x96 --max-tokens $t --detail summary --trace "$OUT/tmp/cli.wtrace" --json
            part cli --bin "$bin" --label "$label generate 96x96 timing-only, kernel trace, $t token(s)" -- generate --timing-only \
                --config smollm2-135m --prompt-tokens 2 --mesh 96x96 --max-tokens $t --detail kernel --region 0,0,11,11 --trace "$OUT/tmp/cli.wtrace" --json
            part cli --bin "$bin" --label "$label generate 96x96 SmolLM2, $t token(s)" -- generate --prompt "Hi there" \
                --mesh 96x96 --max-tokens $t --detail summary --trace "$OUT/tmp/cli.wtrace" --json
            # No trace file (only totals kept): decode layers may be replayed (run replay).
            part cli --bin "$bin" --label "$label generate 96x96 timing, no trace file, $t token(s)" -- generate --timing-only \
                --config smollm2-135m --prompt-tokens 2 --mesh 96x96 --max-tokens $t --json
            part cli --bin "$bin" --label "$label generate 96x96 numerics, no trace file, $t token(s)" -- generate --prompt "Hi there" \
                --mesh 96x96 --max-tokens $t --json
        done
    done
    done
fi

"$BIN" report --parts "$PARTS" --json "$OUT/results.json" --markdown "$OUT/REPORT.md"
rm -f "$OUT"/tmp/*.wtrace "$OUT"/tmp/*.json "$OUT"/tmp/*.csv
echo "bench: wrote bench/REPORT.md and bench/results.json"
