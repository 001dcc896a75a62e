#!/usr/bin/env bash
# Benchmark of the jet transformer (examples/transformer) at a 2.5 ns clock: the shipped
# 16 tokens × 16 features, d = 16, 2 heads, 2 blocks model built and co-simulated on 1,000
# particle inputs (the Verilator build takes ~25 minutes of two cores), and the 8-token and
# 4-token encoders of the same construction built, co-simulated and put through yosys (the
# full-size design, ~1.1M estimated LUTs, is beyond yosys on this machine).
#
#   benches/transformer.sh              everything
#   NO_FULL=1 benches/transformer.sh    skip the full-size co-simulation
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin transformer_bench >/dev/null 2>&1
B=target/release/transformer_bench
echo "Command: \`benches/transformer.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores$(command -v yosys >/dev/null && echo ", $(yosys -V | cut -d' ' -f1-2)"))."
echo
echo '```'
"$B" 300 --small --yosys
"$B" 1000 --medium --yosys
if [ -z "${NO_FULL:-}" ]; then
  "$B" 1000
else
  "$B" 1000 --no-sim
fi
echo '```'
