#!/usr/bin/env bash
# Post-synthesis co-simulation of the shipped examples that gate-level simulation can take:
# `tachyon sim OUT --post-synth` (yosys synth_xilinx for the family, or synth_ice40; the netlist
# with yosys' cell models in Icarus) on random vectors, against the reference interpreter.
# Prints a Markdown table: design, target, cells, yosys time, simulator build and run time,
# mismatches (0 expected), latency and II as measured (= reported). Exits non-zero if any run
# mismatches or fails.
#
#   benches/post_synth.sh              every row (about 75 minutes on 2 busy cores)
#   ROWS=tiny benches/post_synth.sh    the rows whose name contains "tiny"
#   VECTORS=50 benches/post_synth.sh   random vectors per run (default 20)
set -uo pipefail
cd "$(dirname "$0")/.."
cargo build -q --bin tachyon || exit 1
T="$PWD/target/debug/tachyon"
OUT="$PWD/target/bench-post-synth"
VECTORS="${VECTORS:-20}"
mkdir -p "$OUT"
echo '{"default": {"primitives": "portable"}}' > "$OUT/portable.json"
echo '{"default": {"style": "stream"}}' > "$OUT/stream.json"
echo '{"layers": {"pool": {"set_reuse": 8}}}' > "$OUT/deep_set_reuse8.json"
echo '{"default": {"primitives": "portable"}, "layers": {"pool": {"set_reuse": 8}}}' > "$OUT/deep_set_reuse8_portable.json"
qk=../shared/models/qonnx-model-zoo/qkeras_jettagging.onnx

# name|model|build flags
rows=(
  "tiny MLP, xcup (ternary adders)|examples/tiny_mlp/tiny_mlp.onnx|"
  "tiny MLP, xcup portable|examples/tiny_mlp/tiny_mlp.onnx|-c $OUT/portable.json"
  "tiny MLP, arty-a7 (xc7)|examples/tiny_mlp/tiny_mlp.onnx|--board arty-a7"
  "tiny MLP, icebreaker (iCE40)|examples/tiny_mlp/tiny_mlp.onnx|--board icebreaker"
  "pulse CNN stream, xcup|examples/pulse_cnn/pulse_cnn.onnx|-c $OUT/stream.json"
  "jet MLP, xcup (ternary adders)|examples/jet_mlp/jet_mlp.onnx|"
  "jet MLP, xcup portable|examples/jet_mlp/jet_mlp.onnx|-c $OUT/portable.json"
  "jet MLP, arty-a7 (xc7)|examples/jet_mlp/jet_mlp.onnx|--board arty-a7"
  "qkeras jet tagger, xcup (ternary adders)|$qk|"
  "qkeras jet tagger, xcup portable|$qk|-c $OUT/portable.json"
  "deep set N=32 F=16, set_reuse 8 (II 8), xcup|examples/deep_set/deep_set.onnx|-c $OUT/deep_set_reuse8.json"
  "deep set N=32 F=16, set_reuse 8 (II 8), xcup portable|examples/deep_set/deep_set.onnx|-c $OUT/deep_set_reuse8_portable.json"
)

echo "Command: \`benches/post_synth.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores, $(yosys -V | cut -d' ' -f1-2), $(iverilog -V 2>/dev/null | head -1 | cut -d' ' -f1-4)), $VECTORS random vectors per design."
echo
echo "| design | netlist | cells | yosys s | sim build s | sim run s | mismatches | latency | II |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
failed=0
k=0
for row in "${rows[@]}"; do
  IFS='|' read -r name model flags <<< "$row"
  k=$((k + 1))
  [[ -n "${ROWS:-}" && "$name" != *"$ROWS"* ]] && continue
  if [[ ! -f "$model" ]]; then
    echo "| $name | (model absent: $model) | | | | | | | |"
    continue
  fi
  p="$OUT/p$k"
  rm -rf "$p"
  # shellcheck disable=SC2086
  if ! "$T" build "$model" -o "$p" --force $flags > "$OUT/p$k.build.log" 2>&1; then
    echo "| $name | build failed (see $OUT/p$k.build.log) | | | | | | | |"
    failed=1
    continue
  fi
  if ! "$T" sim "$p" --post-synth --random "$VECTORS" > "$OUT/p$k.sim.log" 2>&1; then
    failed=1
  fi
  if [[ ! -f "$p/sim-post/results.json" ]]; then
    echo "| $name | sim failed: $(tail -1 "$OUT/p$k.sim.log") | | | | | | | |"
    failed=1
    continue
  fi
  python3 - "$p/sim-post/results.json" "$name" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
p = s["post_synth"]
cmd = p["command"].split(" -top")[0]
cells = sum(p["cells"].values())
print(f"| {sys.argv[2]} | `{cmd}` | {cells} | {p['synth_seconds']:.0f} | {s['build_seconds']:.1f} | "
      f"{s['run_seconds']:.1f} | {s['mismatches']} of {s['vectors']} | {s['latency_cycles']} "
      f"(report {s['expected_latency_cycles']}) | {s['ii_cycles']} |")
EOF
done
exit $failed
