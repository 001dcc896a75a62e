#!/usr/bin/env bash
# Benchmark: the five HGQ2 checkpoints of ../shared/models/hgq2 built from their .keras files.
# For each (model, clock): compile time (export + build), pipeline stages and latency, input bus
# bits, Tachyon's estimate, co-simulation against Keras's own outputs on all 2,000 vectors
# (mismatches and max |Δ|, which must be 0), and yosys synth_xilinx -family xcup figures
# (benches/qor.sh's method, flat; `tachyon synth --partitioned` for the transformers). With
# ANCHORS=1 the anchors run on the same checkpoint at Tachyon's stage count through
# ../shared/tools/anchor_qor.sh (alkaid 0.8.2 and da4ml 0.6.0 from scratch virtualenvs).
# Prints a Markdown table, then the anchors' lines.
#
# MAX_LATENCY=N builds with `{"default": {"max_latency": N}}` (N cycles at most: cycles beyond
# the fewest go to ternary adders), to compare at the anchors' stage counts. An anchors' run is
# kept in target/bench-hgq2/anchors_MODEL_STAGES.txt and reused (ANCHORS=fresh runs it again).
#
#   benches/hgq2.sh                         every model at 5 ns
#   CLOCKS="5 2.5" ANCHORS=1 benches/hgq2.sh jsc_openml_530 jsc_openml_13285
#   MAX_LATENCY=5 ANCHORS=1 benches/hgq2.sh jsc_openml_13285
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/hgq2_env.sh
W=$PWD/target/bench-hgq2; mkdir -p "$W"
models=("$@"); [ ${#models[@]} -gt 0 ] || models=(jsc_openml_530 jsc_openml_13285 jsc_plf_32x16_64425 mha_8part linformer_8part)
config=()
if [ -n "${MAX_LATENCY:-}" ]; then
  echo "{\"default\": {\"max_latency\": $MAX_LATENCY}}" >"$W/max_latency.json"; config=(--config "$W/max_latency.json")
fi
echo "Command: \`benches/hgq2.sh ${*:-}\` (CLOCKS=\"${CLOCKS:-5}\"${MAX_LATENCY:+, MAX_LATENCY=$MAX_LATENCY}; $(date -u +%Y-%m-%d), $(nproc) cores, $(yosys -V | cut -d' ' -f1-2)); Vivado is not available here."
echo
echo "| model | clock | stages | latency | input bits | compile | est. LUT | est. FF | DSP | vs Keras (2,000 vectors) | yosys LUT | yosys FF | yosys |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
anchors=()
failed=0
for m in "${models[@]}"; do
  for clk in ${CLOCKS:-5}; do
    out="$W/${m}_$clk${MAX_LATENCY:+_max$MAX_LATENCY}"
    s=$(date +%s.%N)
    "$T" build "$H/$m.keras" --clock-ns "$clk" "${config[@]}" -o "$out" --force >"$out.build.log" 2>&1 || { echo "| $m | $clk ns | build failed: $(tail -1 "$out.build.log") |"; failed=1; continue; }
    compile=$(echo "$(date +%s.%N) - $s" | bc)
    r=$(python3 -c "import json;r=json.load(open('$out/report.json'));t=r['total'];print(r['latency_cycles'],r['latency_ns'],r['input_bits'],t['lut'],t['ff'],t['dsp'])")
    read -r stages lat bits elut eff edsp <<<"$r"
    sim=$("$T" sim "$out" --inputs "$H/$m.input.npy" --expect "$H/$m.output.npy" 2>&1 || true)
    mism=$(echo "$sim" | awk '/^mismatches/{print $2}'); dmax=$(echo "$sim" | awk '/max \|Δ\|/{print $5; exit}' | tr -d ',')
    [ "${mism:-x}" = 0 ] && awk -v d="${dmax:-x}" 'BEGIN { exit !(d == "0" || (d ~ /^[0-9.]+$/ && d + 0 == 0)) }' || failed=1
    if [ "$elut" -gt 60000 ]; then
      q=$("$T" synth "$out" --partitioned 2>&1 | awk '/^yosys /{print "LUT", $2, "FF", $3}'); how="partitioned"
    else
      q=$(benches/qor.sh "$out/rtl" | awk '{print "LUT", $2, "FF", $4}'); how="flat"
    fi
    read -r _ ylut _ yff <<<"$q"
    [ -n "${ylut:-}" ] || failed=1
    printf "| %s | %s ns | %s | %s ns | %s | %.1f s | %s | %s | %s | %s mismatches, max \\|Δ\\| %s | %s | %s | %s |\n" \
      "$m" "$clk" "$stages" "$lat" "$bits" "$compile" "$elut" "$eff" "$edsp" "${mism:-?}" "${dmax:-?}" "${ylut:-?}" "${yff:-?}" "$how"
    [ -n "${ANCHORS:-}" ] && anchors+=("$m|$stages")
  done
done
for a in "${anchors[@]}"; do
  IFS='|' read -r m st <<<"$a"
  echo
  kept="$W/anchors_${m}_$st.txt"
  if [ -s "$kept" ] && [ "${ANCHORS:-}" != fresh ]; then
    echo "Anchors on $m at $st stages (../shared/tools/anchor_qor.sh; the run of $(date -u -r "$kept" +%Y-%m-%d), kept in $kept):"
    sed 's/^/    /' "$kept"
  else
    echo "Anchors on $m at $st stages (../shared/tools/anchor_qor.sh):"
    ../shared/tools/anchor_qor.sh "$H/$m.keras" "$st" "$W/anchors_${m}_$st" >"$kept.new" 2>&1 || true
    mv "$kept.new" "$kept"
    sed 's/^/    /' "$kept"
  fi
done
# A figure from a design that failed to build, to match Keras or to synthesize is no figure.
[ "$failed" = 0 ] || { echo; echo "FAILED: a build, a comparison with Keras or a synthesis failed (see above)"; exit 1; }
