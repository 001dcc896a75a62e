#!/usr/bin/env bash
# Benchmark: the Verilator harness build of every shipped example, cold (ccache emptied before
# each build, so Verilator's runtime is compiled too), and a co-simulation of the example's
# input vectors (0 mismatches expected). Prints one Markdown row per example: RTL lines,
# hierarchical blocks, build and run time. Empties ccache: run it on a machine of your own.
#
#   benches/harness_builds.sh            every example in its documented configuration
#   PARALLEL_CALO=1 benches/harness_builds.sh   also the calorimeter CNN in the parallel style
#                                               (1.3 M LUTs; ~3 minutes of build)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin tachyon >/dev/null 2>&1
T=$PWD/target/release/tachyon
W=$PWD/target/bench-harness; mkdir -p "$W"
echo '{"default": {"style": "stream"}}' >"$W/stream.json"
echo "Command: \`benches/harness_builds.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores, $(verilator --version | cut -d' ' -f1-2), $(command -v clang++ >/dev/null && clang++ --version | head -1 || g++ --version | head -1))"
echo
echo "| example | clock | RTL lines | hier blocks | harness build | run | mismatches |"
echo "|---|---|---|---|---|---|---|"
row() { # name model clock config inputs
  local out="$W/$1"
  "$T" build "$2" --clock-ns "$3" ${4:+-c "$4"} -o "$out" --force >/dev/null
  command -v ccache >/dev/null && ccache -C >/dev/null
  local lines blocks r
  lines=$(wc -l <"$out/rtl/tachyon_top.v"); blocks=$(grep -c 'verilator hier_block' "$out/rtl/tachyon_top.v" || true)
  r=$("$T" sim "$out" --inputs "$5")
  echo "$r" | awk -v n="$1" -v c="$3" -v l="$lines" -v b="$blocks" '
    /^mismatches/ { m = $2 } /^verilator/ { bld = $3; run = $6 }
    END { printf "| %s | %s ns | %s | %s | %s s | %s s | %s |\n", n, c, l, b, bld, run, m }'
}
e=examples
row jet_mlp $e/jet_mlp/jet_mlp.onnx 5 "" $e/jet_mlp/jet_mlp.input.npy
row tiny_mlp $e/tiny_mlp/tiny_mlp.onnx 5 "" $e/tiny_mlp/tiny_mlp.input.npy
row pulse_cnn $e/pulse_cnn/pulse_cnn.onnx 2.5 "" $e/pulse_cnn/pulse_cnn.input.npy
row pulse_cnn_stream $e/pulse_cnn/pulse_cnn.onnx 2.5 "$W/stream.json" $e/pulse_cnn/pulse_cnn.input.npy
row calo_cnn_stream $e/calo_cnn/calo_cnn.onnx 2.5 "$W/stream.json" $e/calo_cnn/calo_cnn.input.npy
row deep_set $e/deep_set/deep_set.onnx 5 "" $e/deep_set/deep_set.input.npy
row deep_set_reuse $e/deep_set/deep_set.onnx 5 $e/deep_set/reuse.json $e/deep_set/deep_set.input.npy
row interaction_net $e/interaction_net/interaction_net.onnx 5 "" $e/interaction_net/interaction_net.input.npy
row interaction_net_reuse $e/interaction_net/interaction_net.onnx 5 $e/interaction_net/reuse.json $e/interaction_net/interaction_net.input.npy
row transformer $e/transformer/transformer.onnx 5 $e/transformer/transformer.json $e/transformer/transformer.input.npy
if [ -n "${PARALLEL_CALO:-}" ]; then
  row calo_cnn $e/calo_cnn/calo_cnn.onnx 2.5 "" $e/calo_cnn/calo_cnn.input.npy
fi
