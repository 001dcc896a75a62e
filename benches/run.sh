#!/usr/bin/env bash
# Benchmark: compile time, pipeline stages/latency and yosys resource figures (LUT/FF/CARRY/DSP,
# measured with ../shared/tools/qor.sh's method: synth_xilinx -family xcup -flatten) of Tachyon's
# designs, at 5 ns and 2.5 ns. Prints a Markdown table; `benches/run.sh > benches/RESULTS.md`
# records it. Needs yosys; the da4ml jet model needs python3 with onnx+numpy and ../shared/tools.
set -euo pipefail
cd "$(dirname "$0")/.."
# TACHYON=path/to/tachyon benchmarks a given binary (e.g. a snapshot while the tree changes).
if [ -z "${TACHYON:-}" ]; then
  cargo build --release --bin tachyon >/dev/null 2>&1
  T=$PWD/target/release/tachyon
else
  T=$TACHYON
fi
W=$PWD/target/bench
rm -rf "$W"; mkdir -p "$W"
QOR=../shared/tools/qor.sh
models=("examples/jet_mlp/jet_mlp.onnx|jet_mlp (examples, w8a8)|")
if [ -f ../shared/tools/make_jet_qonnx.py ] && python3 -c "import onnx, numpy" 2>/dev/null; then
  python3 ../shared/tools/make_jet_qonnx.py "$W/da4ml_jet.onnx" >/dev/null
  models+=("$W/da4ml_jet.onnx|da4ml jet MLP 16-64-32-32-5 (seed 0)|")
fi
if [ -f ../shared/models/qonnx-model-zoo/qkeras_jettagging.onnx ]; then
  models+=("../shared/models/qonnx-model-zoo/qkeras_jettagging.onnx|qkeras_jettagging (input fixed<16,6>)|")
fi
echo "# Benchmark results"
echo
echo "Command: \`benches/run.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores, $(yosys -V | cut -d' ' -f1-2))."
echo
echo "| model | clock | stages | latency | slowest stage (model) | compile | LUT | FF | CARRY | DSP | est. LUT | est. FF | yosys |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for entry in "${models[@]}"; do
  IFS='|' read -r model label cfg <<<"$entry"
  for clk in 5 2.5; do
    out="$W/$(basename "$model" .onnx)_$clk"
    start=$(date +%s%N)
    "$T" build "$model" --clock-ns "$clk" -o "$out" --force >/dev/null
    end=$(date +%s%N)
    ms=$(( (end - start) / 1000000 ))
    ct=$(printf "%d.%03d" $((ms / 1000)) $((ms % 1000)))
    read -r stages lat_ns crit elut eff <<<"$(python3 -c "
import json; r = json.load(open('$out/report.json'))
print(r['latency_cycles'], '%.1f' % r['latency_ns'], '%.2f' % r['critical_stage_ns'], r['total']['lut'], r['total']['ff'])")"
    if command -v yosys >/dev/null && [ -x "$QOR" ]; then
      q=$("$QOR" "$out/rtl" xcup)
      read -r lut ff car dsp ys <<<"$(echo "$q" | awk '{print $2, $4, $6, $10, $16}')"
    else
      lut=-; ff=-; car=-; dsp=-; ys=-
    fi
    printf "| %s | %s ns | %s | %s ns | %s ns | %s s | %s | %s | %s | %s | %s | %s | %s s |\n" \
      "$label" "$clk" "$stages" "$lat_ns" "$crit" "$ct" "$lut" "$ff" "$car" "$dsp" "$elut" "$eff" "$ys"
  done
done
