#!/usr/bin/env bash
# Benchmark: the 8-particle HGQ2 transformers' construction at 16 and 32 particles.
# The anchors' 16- and 32-particle checkpoints are held back, so benches/particles.py builds
# surrogates from the 8-particle checkpoints (the model rebuilt at N particles, every weight and
# quantizer tiled along the particle axis, Keras's own output on 2,000 vectors as reference). For
# each (model, N): compile time and peak memory of `tachyon build`, stages and latency, the
# estimate, and the co-simulation against Keras (mismatches must be 0) with its Verilator build
# time. SYNTH=1 adds `tachyon synth --partitioned` (yosys; tens of minutes at 32 particles).
#
#   benches/particles.sh                      mha and linformer at 16 and 32 particles, 5 ns
#   PARTICLES="8 16" CLOCK=5 benches/particles.sh mha
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/hgq2_env.sh
W=$PWD/target/bench-particles; mkdir -p "$W"
clk=${CLOCK:-5}
models=("$@"); [ ${#models[@]} -gt 0 ] || models=(mha linformer)
echo "Command: \`benches/particles.sh ${*:-}\` (PARTICLES=\"${PARTICLES:-16 32}\", CLOCK=$clk$([ -n "${SYNTH:-}" ] && echo ", SYNTH=1"); $(date -u +%Y-%m-%d), $(nproc) cores, $(verilator --version | cut -d' ' -f1-2)); Vivado is not available here."
echo
echo "| model | particles | stages | latency | compile | peak memory | est. LUT | est. FF | DSP | vs Keras (2,000 vectors) | Verilator build | yosys LUT | yosys FF |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
failed=0
for m in "${models[@]}"; do
  for n in ${PARTICLES:-16 32}; do
    s="$W/${m}_$n"
    [ -s "$s.keras" ] || "$TACHYON_PYTHON" benches/particles.py "$H/${m}_8part.keras" "$n" "$s" >"$s.make.log" 2>&1 \
      || { echo "| $m | $n | surrogate failed: $(tail -1 "$s.make.log") |"; failed=1; continue; }
    out="${s}_$clk"
    /usr/bin/time -f "%e %M" -o "$out.time" "$T" build "$s.keras" --clock-ns "$clk" -o "$out" --force >"$out.build.log" 2>&1 \
      || { echo "| $m | $n | build failed: $(tail -1 "$out.build.log") |"; failed=1; continue; }
    read -r secs kb <"$out.time"
    r=$(python3 -c "import json;r=json.load(open('$out/report.json'));t=r['total'];print(r['latency_cycles'],r['latency_ns'],t['lut'],t['ff'],t['dsp'])")
    read -r stages lat elut eff edsp <<<"$r"
    "$T" sim "$out" --inputs "$s.input.npy" --expect "$s.output.npy" >"$out.sim.log" 2>&1 || true
    sim=$(python3 -c "import json;r=json.load(open('$out/sim/results.json'));print(r['mismatches'],r['max_abs_diff'],round(r['build_seconds']))" 2>/dev/null || echo "? ? ?")
    read -r mism dmax vsecs <<<"$sim"
    [ "$mism" = 0 ] || failed=1
    ylut=-; yff=-
    if [ -n "${SYNTH:-}" ]; then
      q=$("$T" synth "$out" --partitioned 2>&1 | awk '/^yosys /{print $2, $3}')
      read -r ylut yff <<<"$q"
      [ -n "${ylut:-}" ] || { failed=1; ylut=failed; }
    fi
    printf "| %s | %s | %s | %s ns | %.1f s | %d MB | %s | %s | %s | %s mismatches, max \\|Δ\\| %s | %s s | %s | %s |\n" \
      "$m" "$n" "$stages" "$lat" "$secs" "$((kb / 1024))" "$elut" "$eff" "$edsp" "$mism" "$dmax" "$vsecs" "$ylut" "$yff"
  done
done
[ "$failed" = 0 ] || { echo; echo "FAILED: a surrogate, a build, a comparison with Keras or a synthesis failed (see above)"; exit 1; }
