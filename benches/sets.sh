#!/usr/bin/env bash
# Benchmark of the permutation-invariant examples (examples/deep_set, examples/interaction_net) at
# a 2.5 ns clock: compile time, latency in cycles and ns, II, the resource estimate, a Verilator
# co-simulation of the shipped input vectors plus random ones against the reference interpreter
# (0 mismatches expected), and yosys figures measured like ../shared/tools/qor.sh
# (synth_xilinx -family xcup -flatten). Prints a Markdown table.
#
#   benches/sets.sh              everything
#   NO_YOSYS=1 benches/sets.sh   skip yosys (the fully parallel deep set takes it a long time)
#   NO_SIM=1 benches/sets.sh     skip the co-simulation
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${TACHYON:-}" ]; then
  cargo build --release --bin tachyon >/dev/null 2>&1
  T=$PWD/target/release/tachyon
else
  T=$TACHYON
fi
W=$PWD/target/bench-sets
rm -rf "$W"; mkdir -p "$W"
QOR=../shared/tools/qor.sh
# model|label|config (a file, inline JSON, or empty)
runs=(
  "deep_set|deep set N=32 F=16, φ 16-32-32, mean, ρ 32-16-5 (II 1)|"
  "deep_set|deep set, set_reuse 4 (φ ×8, II 4)|examples/deep_set/reuse.json"
  "deep_set|deep set, set_reuse 8 (φ ×4, II 8)|{\"layers\": {\"pool\": {\"set_reuse\": 8}}}"
  "interaction_net|interaction network N=8 F=8, 56 edges (II 1)|"
  "interaction_net|interaction network, set_reuse 4 (f_O ×2, II 4)|examples/interaction_net/reuse.json"
)
echo "Command: \`benches/sets.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores$(command -v yosys >/dev/null && echo ", $(yosys -V | cut -d' ' -f1-2)"))."
echo
echo "| model | clock | II | latency | compile | co-sim (vectors, mismatches) | LUT | FF | CARRY | DSP | est. LUT | est. FF | yosys |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for entry in "${runs[@]}"; do
  IFS='|' read -r name label cfg <<<"$entry"
  out="$W/$(echo "$label" | tr -c 'a-zA-Z0-9' '_')"
  cargs=()
  if [ -n "$cfg" ]; then
    if [ "${cfg:0:1}" = "{" ]; then
      echo "$cfg" >"$out.json"
      cfg="$out.json"
    fi
    cargs=(-c "$cfg")
  fi
  start=$(date +%s%N)
  "$T" build "examples/$name/$name.onnx" "${cargs[@]}" --clock-ns 2.5 -o "$out" --force >/dev/null
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  ct=$(printf "%d.%03d" $((ms / 1000)) $((ms % 1000)))
  read -r ii cyc lat_ns elut eff <<<"$(python3 -c "
import json; r = json.load(open('$out/report.json'))
print(r['ii_cycles'], r['latency_cycles'], '%.1f' % r['latency_ns'], r['total']['lut'], r['total']['ff'])")"
  sim="-"
  if [ -z "${NO_SIM:-}" ] && command -v verilator >/dev/null; then
    "$T" sim "$out" --inputs "examples/$name/$name.input.npy" --random 200 >"$out.sim.txt" 2>&1 || true
    sim=$(python3 -c "
import json; r = json.load(open('$out/sim/results.json'))
print('%d, %d' % (r['vectors'], r['mismatches']))" 2>/dev/null || echo "failed")
  fi
  lut=-; ff=-; car=-; dsp=-; ys=-
  if [ -z "${NO_YOSYS:-}" ] && command -v yosys >/dev/null && [ -x "$QOR" ]; then
    read -r lut ff car dsp ys <<<"$("$QOR" "$out/rtl" xcup | awk '{print $2, $4, $6, $10, $16}')"
    ys="$ys s"
  fi
  printf "| %s | 2.5 ns | %s | %s cycles = %s ns | %s s | %s | %s | %s | %s | %s | %s | %s | %s |\n" \
    "$label" "$ii" "$cyc" "$lat_ns" "$ct" "$sim" "$lut" "$ff" "$car" "$dsp" "$elut" "$eff" "$ys"
done
