#!/usr/bin/env bash
# Records a set of traces with a baseline `waferscope` binary and with this tree's release build,
# and checks that every pair is byte-identical (sha256). Run it before every commit that touches
# the engine.
#
# Usage: bench/trace-check.sh BASELINE_BIN [CANDIDATE_BIN]
#   BASELINE_BIN   waferscope built from the reference commit (e.g. c106c3f), or set BASELINE_BIN
#   CANDIDATE_BIN  default: .build/release/waferscope (built first with `swift build -c release`)
# Environment: TRACE_CHECK_DIR (default /tmp/trace-check) holds the traces; KEEP=1 keeps them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BASE="${1:-${BASELINE_BIN:-}}"
CAND="${2:-.build/release/waferscope}"
[[ -x "$BASE" ]] || { echo "usage: bench/trace-check.sh BASELINE_BIN [CANDIDATE_BIN]" >&2; exit 2; }
if [[ -z "${2:-}" ]]; then swift build -c release --product waferscope 2>&1 | grep -E "error|Compiling|Build" | tail -2; fi
BASE="$(realpath "$BASE")"; CAND="$(realpath "$CAND")"
DIR="${TRACE_CHECK_DIR:-/tmp/trace-check}"
rm -rf "$DIR"; mkdir -p "$DIR/base" "$DIR/cand"

# name | arguments (the trace is written to ./NAME.wtrace; the command line, which the trace's
# metadata records, is the same for both binaries)
CASES=(
  "comm-neighbor-full|record comm --pattern neighbor --mesh 32x32 --bytes 512 --detail full"
  "comm-transpose-full|record comm --pattern transpose --mesh 48x32 --bytes 300 --detail full"
  "comm-hotspot-kernel|record comm --pattern hotspot --mesh 32x32 --bytes 64 --detail kernel"
  "comm-transpose-summary|record comm --pattern transpose --mesh 64x64 --bytes 256 --detail summary"
  "gemm-meshgemm-full|record gemm --algo meshgemm --mesh 16x16 --m 256 --k 256 --n 256 --detail full"
  "gemm-meshgemm-kernel|record gemm --algo meshgemm --mesh 32x32 --m 512 --k 512 --n 512 --detail kernel --timing-only"
  "gemm-cannon-full|record gemm --algo cannon --mesh 16x16 --m 256 --k 192 --n 320 --detail full"
  "gemm-cannon-kernel|record gemm --algo cannon --mesh 24x24 --m 384 --k 384 --n 384 --detail kernel --timing-only"
  "gemm-summa-full|record gemm --algo summa --mesh 16x12 --m 192 --k 256 --n 128 --detail full --record-violations"
  "gemm-summa-kernel|record gemm --algo summa --mesh 32x32 --m 512 --k 512 --n 512 --detail kernel --timing-only --record-violations"
  "gemm-gemmt-full|record gemm --algo gemmt --mesh 16x16 --m 256 --k 256 --n 256 --detail full"
  "gemm-gemmt-kernel|record gemm --algo gemmt --mesh 32x32 --m 512 --k 512 --n 512 --detail kernel --timing-only"
  "gemv-ktree-full|record gemv --algo ktree --mesh 32x32 --rows 2048 --cols 2048 --detail full"
  "gemv-ktree-kernel|record gemv --algo ktree --mesh 128x96 --rows 8192 --cols 8192 --detail kernel --timing-only"
  "gemv-pipeline-full|record gemv --algo pipeline --mesh 24x32 --rows 1024 --cols 1536 --detail full"
  "gemv-pipeline-kernel|record gemv --algo pipeline --mesh 64x64 --rows 4096 --cols 4096 --detail kernel --timing-only"
  "gemv-ring-full|record gemv --algo ring --mesh 32x16 --rows 1024 --cols 1024 --detail full"
  "gemv-ring-kernel|record gemv --algo ring --mesh 64x64 --rows 4096 --cols 4096 --detail kernel --timing-only"
  "generate-smollm2-full|generate --timing-only --config smollm2-135m --mesh 96x96 --prompt-tokens 2 --max-tokens 2 --simulate-layers 1 --detail full --region 0,0,15,15"
  "generate-smollm2-kernel|generate --timing-only --config smollm2-135m --mesh 96x96 --prompt-tokens 3 --max-tokens 2 --simulate-layers 1 --detail kernel"
  "generate-smollm2-violations|generate --timing-only --config smollm2-135m --mesh 48x48 --prompt-tokens 3 --max-tokens 2 --simulate-layers 1 --detail summary --record-violations"
  # Every layer simulated: runs that repeat are replayed (the trace must not show it).
  "generate-smollm2-layers-kernel|generate --timing-only --config smollm2-135m --mesh 96x96 --prompt-tokens 3 --max-tokens 3 --detail kernel --region 0,0,7,7"
  "generate-smollm2-layers-summary|generate --timing-only --config smollm2-135m --mesh 96x96 --prompt-tokens 2 --max-tokens 2 --detail summary"
  # A MeshGEMM prefill: from layer 2 on its runs (SRAM allocations included) are replayed.
  "generate-prefill-kernel|generate --timing-only --config smollm2-135m --mesh 96x96 --prompt-tokens 96 --max-tokens 2 --prefill meshgemm --simulate-layers 5 --detail kernel --region 0,0,11,11"
)
# With the model downloaded (`make model`): real numbers, replayed on two host threads.
MODEL="$(pwd)/.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
if [[ -f "$MODEL" ]]; then
  CASES+=("generate-chat-kernel|generate --chat --prompt Paris? --mesh 96x96 --max-tokens 3 --detail kernel --region 0,0,11,11 --model $MODEL")
fi

fail=0
for c in "${CASES[@]}"; do
  name="${c%%|*}"; args="${c#*|}"
  out="--out"; [[ "$args" == generate* ]] && out="--trace"
  for side in base cand; do
    bin="$BASE"; [[ $side == cand ]] && bin="$CAND"
    (cd "$DIR/$side" && "$bin" $args $out "$name.wtrace" >"$name.log" 2>&1) || { echo "FAIL $name: $side exited $? (see $DIR/$side/$name.log)"; fail=1; continue 2; }
  done
  a=$(sha256sum "$DIR/base/$name.wtrace" | cut -c1-16); b=$(sha256sum "$DIR/cand/$name.wtrace" | cut -c1-16)
  size=$(stat -c %s "$DIR/cand/$name.wtrace")
  if [[ "$a" == "$b" ]]; then echo "same $a  $name ($size B)"; else echo "DIFF $a $b  $name"; fail=1; fi
done
[[ "${KEEP:-0}" == 1 ]] || [[ $fail == 1 ]] || rm -rf "$DIR"
if [[ $fail == 0 ]]; then echo "trace-check: all ${#CASES[@]} traces byte-identical"; else echo "trace-check: FAILED"; exit 1; fi
