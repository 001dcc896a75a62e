#!/usr/bin/env bash
# Benchmark of the jet transformer (examples/transformer) at a 2.5 ns clock: the shipped
# 16 tokens × 16 features, d = 16, 2 heads, 2 blocks model built, put through yosys as a
# hierarchy of its distinct parts (`tachyon synth --partitioned`: ~25 minutes; flat synthesis of
# a million LUTs would take most of a day) and co-simulated on 1,000 particle inputs (a
# ~15-minute Verilator build); the same model at II 2 (transformer_ii2.json: the attention
# products at reuse 2, which fits one VU13P's DSPs) built and synthesized the same way; and the
# 8-token and 4-token encoders of the same construction, built, co-simulated and synthesized
# flat and partitioned (the 8-token one compares the two methods).
#
#   benches/transformer.sh              everything
#   NO_FULL=1 benches/transformer.sh    skip the full-size co-simulation and syntheses
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin transformer_bench >/dev/null 2>&1
B=target/release/transformer_bench
echo "Command: \`benches/transformer.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores$(command -v yosys >/dev/null && echo ", $(yosys -V | cut -d' ' -f1-2)"))."
echo
echo '```'
"$B" 300 --small --yosys --partitioned
"$B" 1000 --medium --yosys --partitioned
if [ -z "${NO_FULL:-}" ]; then
  "$B" 1000 --partitioned
  "$B" 1000 --config examples/transformer/transformer_ii2.json --partitioned --no-sim
else
  "$B" 1000 --no-sim
fi
echo '```'
