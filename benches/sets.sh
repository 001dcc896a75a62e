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
source benches/table.sh
d=examples/deep_set/deep_set; i=examples/interaction_net/interaction_net
echo "Command: \`benches/sets.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores$(command -v yosys >/dev/null && echo ", $(yosys -V | cut -d' ' -f1-2)"))."
echo
bench_table "$PWD/target/bench-sets" \
  "$d.onnx|$d.input.npy|deep set N=32 F=16, φ 16-32-32, mean, ρ 32-16-5 (II 1)|" \
  "$d.onnx|$d.input.npy|deep set, set_reuse 4 (φ ×8, II 4)|examples/deep_set/reuse.json" \
  "$d.onnx|$d.input.npy|deep set, set_reuse 8 (φ ×4, II 8)|{\"layers\": {\"pool\": {\"set_reuse\": 8}}}" \
  "$i.onnx|$i.input.npy|interaction network N=8 F=8, 56 edges (II 1)|" \
  "$i.onnx|$i.input.npy|interaction network, set_reuse 4 (f_O ×2, II 4)|examples/interaction_net/reuse.json"
