#!/usr/bin/env bash
# The differential fuzzer's post-synthesis level (d) on every model: MODELS random quantized
# models (default 200, seeds SEED.., default 1), each built with its seed's hardware variant,
# co-simulated in Verilator (level c), then synthesized by yosys for UltraScale+ and simulated
# with yosys' cell models in Icarus (level d, at most 50 vectors), both against the reference
# interpreter. Prints the fuzzer's summary and a pass/fail line; exits non-zero on any failure
# (failing models, shrunk, in target/bench-post-synth-fuzz/failures).
#
#   benches/post_synth_fuzz.sh                 200 models
#   MODELS=20 SEED=1001 benches/post_synth_fuzz.sh
set -uo pipefail
cd "$(dirname "$0")/.."
cargo build -q --bin tachyon || exit 1
MODELS="${MODELS:-200}"
SEED="${SEED:-1}"
VECTORS="${VECTORS:-50}"
OUT="$PWD/target/bench-post-synth-fuzz"
rm -rf "$OUT" && mkdir -p "$OUT"
echo "Command: \`MODELS=$MODELS SEED=$SEED benches/post_synth_fuzz.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores, $(yosys -V | cut -d' ' -f1-2), $(verilator --version | cut -d' ' -f1-2), $(iverilog -V 2>/dev/null | head -1 | cut -d' ' -f1-4))"
start=$(date +%s)
./target/debug/tachyon fuzz --models "$MODELS" --seed "$SEED" --vectors "$VECTORS" --post-synth-every 1 \
  -o "$OUT/failures" > "$OUT/summary.txt" 2> "$OUT/stderr.txt"
status=$?
secs=$(( $(date +%s) - start ))
cat "$OUT/summary.txt"
line=$(grep '^(d) post-synth' "$OUT/summary.txt")
passed=$(sed -E 's/.*; ([0-9]+) exact.*/\1/' <<< "$line")
failed=$(sed -E 's/^\(d\) post-synth ([0-9]+) mismatches.*/\1/' <<< "$line")
skipped=$(sed -E 's/.*, ([0-9]+) skipped.*/\1/' <<< "$line")
echo
echo "post-synthesis level: $passed passed, $failed failed, $skipped skipped of $MODELS models in ${secs} s ($(( secs / (MODELS > 0 ? MODELS : 1) )) s per model, all four levels)"
if [[ $status -ne 0 || "$failed" != 0 || "$skipped" != 0 ]]; then
  echo "FAILED (exit $status); failing models in $OUT/failures"
  exit 1
fi
