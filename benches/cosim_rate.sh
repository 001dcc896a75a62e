#!/usr/bin/env bash
# Benchmark: co-simulation throughput (inferences per second) of the Verilator harness, beside
# the anchor on the same model in the same run. For the shipped jet MLP and HGQ2's
# jsc_openml_13285 (when ../shared/models is present): `tachyon sim OUT --random N` (a long run
# builds the harness at -O1; 0 mismatches expected), then the harness binary alone on the
# vector file that run wrote (best of 3). Beside jsc_openml_13285: da4ml 0.6.0's bit-exact
# emulator of its own design (`CombLogic.predict`, one thread), from the scratch virtualenv
# ../shared/tools/anchor_qor.sh makes (~/.cache/tachyon-anchors/da4ml).
#
#   benches/cosim_rate.sh [N=1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
cargo build --release --bin tachyon >/dev/null 2>&1
T=$PWD/target/release/tachyon
W=$PWD/target/bench-cosim-rate; mkdir -p "$W"
export TACHYON_PYTHON=${TACHYON_PYTHON:-$PWD/.venv/bin/python}
hgq=$PWD/../shared/models/hgq2/jsc_openml_13285.keras
echo "Command: \`benches/cosim_rate.sh $N\` ($(date -u +%Y-%m-%d), $(nproc) cores, $(verilator --version | cut -d' ' -f1-2))"
echo
echo "| model | what | vectors | seconds | inferences/s |"
echo "|---|---|---|---|---|"
rate() { python3 -c "print(f'{$1 / $2:,.0f}')"; }
row() { # name model clock
  local out="$W/$1"
  "$T" build "$2" --clock-ns "$3" -o "$out" --force >/dev/null
  local s e r
  s=$(date +%s.%N)
  r=$("$T" sim "$out" --random "$N")
  e=$(echo "$(date +%s.%N) - $s" | bc)
  echo "$r" | grep -q '^mismatches   0$' || { echo "| $1 | mismatches: $r |"; exit 1; }
  local run; run=$(echo "$r" | awk '/^verilator/ {print $6}')
  echo "| $1 | \`tachyon sim --random $N\` (build $(echo "$r" | awk '/^verilator/ {print $3}') s; whole command $(printf %.1f "$e") s) | $N | $run (run phase) | $(rate "$N" "$run") |"
  local best=999
  for _ in 1 2 3; do
    s=$(date +%s.%N)
    (cd "$out/sim" && taskset -c 0 ./obj_dir_O1/tachyon_cosim inputs.txt "$W/outputs.txt" 0 10000)
    e=$(echo "$(date +%s.%N) - $s" | bc)
    best=$(echo "if ($e < $best) $e else $best" | bc)
  done
  cmp -s "$W/outputs.txt" "$out/sim/outputs.txt" || { echo "| $1 | the harness alone wrote other outputs |"; exit 1; }
  echo "| $1 | the harness alone (\`sim/obj_dir_O1/tachyon_cosim\`, one core, best of 3) | $N | $(printf %.2f "$best") | $(rate "$N" "$best") |"
}
row jet_mlp examples/jet_mlp/jet_mlp.onnx 5
[ -f "$hgq" ] || { echo; echo "(jsc_openml_13285 not run: ../shared/models is absent)"; exit 0; }
row jsc_openml_13285 "$hgq" 5
da4ml="${DA4ML_VENV:-$HOME/.cache/tachyon-anchors/da4ml}"
if [ -x "$da4ml/bin/python" ]; then
  r=$(KERAS_BACKEND=jax JAX_PLATFORM_NAME=cpu OMP_NUM_THREADS=1 taskset -c 0 "$da4ml/bin/python" \
    benches/da4ml_predict.py "$N" "$hgq" 3 2>/dev/null)
  echo "| jsc_openml_13285 | da4ml 0.6.0's emulator (\`CombLogic.predict\`, one thread, best of 3) | $N | $r |"
else
  echo "(da4ml 0.6.0 not run: no virtualenv at $da4ml — ../shared/tools/anchor_qor.sh makes it)"
fi
