#!/usr/bin/env bash
# Benchmark: compile time, pipeline stages/latency and yosys resource figures (LUT/FF/CARRY/DSP,
# measured with ../shared/tools/qor.sh's method: synth_xilinx -family xcup -flatten) of Tachyon's
# designs, at 5 ns and 2.5 ns, plus reuse-factor variants, next to the resource estimate. Prints a
# Markdown table. Needs yosys; the da4ml jet model needs python3 with onnx+numpy and
# ../shared/tools. With DA4ML_PYTHON=/path/to/venv/bin/python (a scratch virtualenv with
# da4ml==0.6.0, see benches/da4ml_compare.py) da4ml itself is run on the same weights too.
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
QOR=benches/qor.sh
# model|label|config (JSON, may be empty)|clocks
models=("examples/jet_mlp/jet_mlp.onnx|jet_mlp (examples, w8a8)||5 2.5")
if [ -f ../shared/tools/make_jet_qonnx.py ] && python3 -c "import onnx, numpy" 2>/dev/null; then
  python3 ../shared/tools/make_jet_qonnx.py "$W/da4ml_jet.onnx" >/dev/null
  models+=("$W/da4ml_jet.onnx|da4ml jet MLP 16-64-32-32-5 (seed 0)||5 2.5")
fi
if [ -f ../shared/models/qonnx-model-zoo/qkeras_jettagging.onnx ]; then
  models+=("../shared/models/qonnx-model-zoo/qkeras_jettagging.onnx|qkeras_jettagging (input fixed<16,6>)||5 2.5")
fi
models+=("examples/jet_mlp/jet_mlp.onnx|jet_mlp, reuse 4 (II 4)|{\"default\": {\"reuse\": 4}}|5")
models+=("examples/jet_mlp/jet_mlp.onnx|jet_mlp, reuse 8 (II 8)|{\"default\": {\"reuse\": 8}}|5")
echo "# Benchmark results"
echo
echo "Command: \`benches/run.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores, $(yosys -V | cut -d' ' -f1-2))."
echo
echo "| model | clock | stages | latency | slowest stage (model) | compile | LUT | FF | CARRY | DSP | est. LUT | est. FF | est. DSP | yosys |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for entry in "${models[@]}"; do
  IFS='|' read -r model label cfg clocks <<<"$entry"
  for clk in $clocks; do
    out="$W/$(echo "$label" | tr -c 'a-zA-Z0-9' '_')_$clk"
    cargs=()
    if [ -n "$cfg" ]; then
      echo "$cfg" >"$out.json"
      cargs=(-c "$out.json")
    fi
    start=$(date +%s%N)
    "$T" build "$model" "${cargs[@]}" --clock-ns "$clk" -o "$out" --force >/dev/null
    end=$(date +%s%N)
    ms=$(( (end - start) / 1000000 ))
    ct=$(printf "%d.%03d" $((ms / 1000)) $((ms % 1000)))
    read -r stages lat_ns crit elut eff edsp <<<"$(python3 -c "
import json; r = json.load(open('$out/report.json'))
print(r['latency_cycles'], '%.1f' % r['latency_ns'], '%.2f' % r['critical_stage_ns'], r['total']['lut'], r['total']['ff'], r['total']['dsp'])")"
    if command -v yosys >/dev/null && [ -x "$QOR" ]; then
      q=$("$QOR" "$out/rtl" xcup)
      read -r lut ff car dsp ys <<<"$(echo "$q" | awk '{print $2, $4, $6, $10, $16}')"
    else
      lut=-; ff=-; car=-; dsp=-; ys=-
    fi
    printf "| %s | %s ns | %s | %s ns | %s ns | %s s | %s | %s | %s | %s | %s | %s | %s | %s s |\n" \
      "$label" "$clk" "$stages" "$lat_ns" "$crit" "$ct" "$lut" "$ff" "$car" "$dsp" "$elut" "$eff" "$edsp" "$ys"
  done
done
# da4ml 0.6.0 on the same weights, when a scratch virtualenv with it is given. Its pipelining is
# set by `latency_cutoff` (its own delay units): the cutoffs that give 6 stages at 5 ns (as in the
# hardware-quality issue) and twice as many stages.
if [ -n "${DA4ML_PYTHON:-}" ] && [ -x "$QOR" ]; then
  for cut in 7 3.5; do
    d="$W/da4ml_cut$cut"
    "$DA4ML_PYTHON" benches/da4ml_compare.py "$d" "$cut" >/dev/null
    # The wrapper only renames ports; the lookup-table module is unused here (and reads a
    # memory file yosys cannot find).
    mkdir -p "$d/flat" && cp $(find "$d/src" -name '*.v' ! -name lookup_table.v) "$d/flat/"
    stages=$(python3 -c "import json;print(json.load(open('$d/metadata.json'))['latency'])")
    read -r lut ff car dsp ys <<<"$("$QOR" "$d/flat" xcup | awk '{print $2, $4, $6, $10, $16}')"
    printf "| da4ml 0.6.0, same weights (latency_cutoff %s) | - | %s | - | - | - | %s | %s | %s | %s | - | - | - | %s s |\n" \
      "$cut" "$stages" "$lut" "$ff" "$car" "$dsp" "$ys"
  done
fi
