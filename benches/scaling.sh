#!/usr/bin/env bash
# Benchmark: compile time and peak memory of `tachyon build` against model size — one dense
# layer (QONNX, 8-bit input, ReLU, 8-bit output) of N_IN × N_OUT weights at 1, 4 and 8 bits
# (benches/scaling/make_dense.py; the pinned .venv writes the models). Prints a Markdown table:
# weights, bits, wall and user seconds, peak RSS, estimated LUTs, and weights per CPU second.
#
#   benches/scaling.sh                  1 k … 256 k weights
#   SIZES="32x32 1024x1024" benches/scaling.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${TACHYON_PYTHON:-$PWD/.venv/bin/python}
[ -x "$PY" ] || { echo "no Python at $PY: run scripts/python-env.sh"; exit 2; }
cargo build --release --bin tachyon >/dev/null 2>&1
T=$PWD/target/release/tachyon
W=$PWD/target/bench-scaling; mkdir -p "$W"
sizes=${SIZES:-"32x32 64x64 128x128 256x256 512x512"}
echo "Command: \`SIZES=\"$sizes\" benches/scaling.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
echo
echo "| weights | bits | wall | user CPU | peak RSS | est. LUT | weights / CPU s |"
echo "|---|---|---|---|---|---|---|"
failed=0
for s in $sizes; do
  IFS=x read -r nin nout <<<"$s"
  for bits in 1 4 8; do
    m="$W/dense_${s}_${bits}.onnx"
    [ -f "$m" ] || "$PY" benches/scaling/make_dense.py "$m" "$nin" "$nout" "$bits"
    out="$W/out_${s}_${bits}"
    if ! /usr/bin/time -f "%e %U %M" -o "$W/time.txt" "$T" build "$m" -o "$out" --force >"$W/build.log" 2>&1; then
      echo "| $((nin * nout)) | $bits | build failed: $(tail -1 "$W/build.log") |"; failed=1; continue
    fi
    read -r wall user rss <"$W/time.txt"
    lut=$(python3 -c "import json;print(json.load(open('$out/report.json'))['total']['lut'])")
    rate=$(python3 -c "print('%.0f' % ($nin * $nout / max($user, 0.01)))")
    printf "| %d | %d | %.2f s | %.2f s | %d MB | %s | %s |\n" $((nin * nout)) "$bits" "$wall" "$user" $((rss / 1024)) "$lut" "$rate"
  done
done
[ "$failed" = 0 ] || exit 1
