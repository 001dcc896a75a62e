#!/usr/bin/env bash
# Mixed-TD benchmark at a 2.5 ns clock, stream style: the shipped calorimeter CNN
# (examples/calo_cnn) before and after `tachyon decompose --budget 0.01` (calibrated on the
# example's 64 input images, the cost model compiling each layer in the stream style). Prints
# the decomposition table, then the bench_table rows (see benches/table.sh) of both models.
#
#   benches/decompose.sh              everything
#   NO_YOSYS=1 benches/decompose.sh   skip yosys
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/table.sh
m=examples/calo_cnn/calo_cnn
W=$PWD/target/bench-decompose
stream='{"default": {"style": "stream"}}'
cargo build --release --bin tachyon >/dev/null 2>&1
T=$PWD/target/release/tachyon
mkdir -p "$W.td"
echo "$stream" >"$W.td/stream.json"
echo "Command: \`benches/decompose.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores$(command -v yosys >/dev/null && echo ", $(yosys -V | cut -d' ' -f1-2)"))."
echo
start=$(date +%s)
echo '```'
"$T" decompose "$m.onnx" --budget 0.01 --inputs "$m.input.npy" -c "$W.td/stream.json" --clock-ns 2.5 \
  -o "$W.td/calo_cnn.td.onnx" --json "$W.td/calo_cnn.td.json"
echo '```'
echo "decompose: $(( $(date +%s) - start )) s"
echo
TACHYON=$T bench_table "$W" \
  "$m.onnx|$m.input.npy|calo CNN 12×12, stream|$stream" \
  "$W.td/calo_cnn.td.onnx|$m.input.npy|calo CNN, Mixed-TD 1 %, stream|$stream"
