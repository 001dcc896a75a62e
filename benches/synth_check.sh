#!/usr/bin/env bash
# Every model Tachyon compiles in its tests, built at 5 ns and put through yosys synth_xilinx
# -family xcup (../shared/tools/qor.sh's method) — the designs too big for the test suite's time
# budget included. Prints a Markdown table; appended to benches/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin tachyon >/dev/null 2>&1
T=$PWD/target/release/tachyon
W=$PWD/target/synth-check
rm -rf "$W"; mkdir -p "$W"
QOR=benches/qor.sh
[ -x "$QOR" ] || { echo "needs ../shared/tools/qor.sh"; exit 2; }
S=../shared/models
echo '{ "input": "fixed<40,5>" }' > "$W/jet_cfg.json"
rows=(
  "examples/tiny_mlp/tiny_mlp.onnx|"
  "examples/jet_mlp/jet_mlp.onnx|"
  "$S/hls4ml-example-models/bnn_model_fc_1layer.onnx|"
  "$S/hls4ml-example-models/two_layer_keras.onnx|"
  "$S/hls4ml-example-models/three_layer_keras.onnx|"
  "$S/qonnx-model-zoo/TFC_2W2A.onnx|"
  "$S/qonnx-model-zoo/qkeras_jettagging.onnx|$W/jet_cfg.json"
)
echo "| model | config | stages @5 ns | yosys synth_xilinx -family xcup | LUT | FF | CARRY | DSP |"
echo "|---|---|---|---|---|---|---|---|"
for r in "${rows[@]}"; do
  IFS='|' read -r model cfg <<<"$r"
  [ -f "$model" ] || continue
  name=$(basename "$model" .onnx)
  args=(build "$model" --clock-ns 5 -o "$W/$name" --force)
  [ -n "$cfg" ] && args+=(-c "$cfg")
  "$T" "${args[@]}" >/dev/null
  lat=$(python3 -c "import json;print(json.load(open('$W/$name/report.json'))['latency_cycles'])")
  if q=$("$QOR" "$W/$name/rtl" xcup 2>&1); then
    read -r lut ff car dsp ys <<<"$(echo "$q" | awk '{print $2, $4, $6, $10, $16}')"
    echo "| $name | ${cfg:+input fixed<40,5>} | $lat | ok (${ys} s) | $lut | $ff | $car | $dsp |"
  else
    echo "| $name | ${cfg:+input fixed<40,5>} | $lat | FAILED: $(echo "$q" | head -2 | tr '\n' ' ') | | | | |"
  fi
done
