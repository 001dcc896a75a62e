#!/usr/bin/env bash
# Mixed-TD benchmark at a 2.5 ns clock, stream style: the shipped calorimeter CNN
# (examples/calo_cnn) before and after `tachyon decompose --budget 0.01` (calibrated on the
# example's 64 input images, the cost model compiling each layer in the stream style). Prints
# the decomposition table (with the error on 256 held-out images drawn by numpy from the same
# shower distribution, seed 2, not used to choose), then the bench_table rows (see
# benches/table.sh) of both models.
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
python3 - "$W.td/holdout.npy" <<'PY'
import sys, numpy as np
rng = np.random.default_rng(2)
n, side = 256, 12
r, c = np.mgrid[0:side, 0:side]
x = np.zeros((n, 1, side, side), np.float32)
for i in range(n):
    img = np.zeros((side, side))
    for _ in range(1 + rng.integers(2)):
        r0, c0 = 2 + rng.uniform(0, 8, 2)
        w, e = 0.8 + 0.8 * rng.uniform(), 2 + 10 * rng.uniform()
        img += e * np.exp(-((r - r0) ** 2 + (c - c0) ** 2) / (2 * w * w))
    x[i, 0] = np.maximum(img + 0.1 * rng.standard_normal((side, side)), 0)
np.save(sys.argv[1], x)
PY
start=$(date +%s)
echo '```'
"$T" decompose "$m.onnx" --budget 0.01 --inputs "$m.input.npy" --validate "$W.td/holdout.npy" -c "$W.td/stream.json" --clock-ns 2.5 \
  -o "$W.td/calo_cnn.td.onnx" --json "$W.td/calo_cnn.td.json"
echo '```'
echo "decompose: $(( $(date +%s) - start )) s"
echo
TACHYON=$T bench_table "$W" \
  "$m.onnx|$m.input.npy|calo CNN 12×12, stream|$stream" \
  "$W.td/calo_cnn.td.onnx|$m.input.npy|calo CNN, Mixed-TD 1 %, stream|$stream"
