#!/usr/bin/env bash
# Shared by the benchmark scripts (sourced): builds each run at a 2.5 ns clock and prints one
# Markdown row with compile time, latency in cycles and ns, II, a Verilator co-simulation of the
# run's input samples plus 200 random vectors against the reference interpreter (0 mismatches
# expected), yosys figures measured like ../shared/tools/qor.sh (synth_xilinx -family xcup
# -flatten; SRL = shift-register LUTs, counted apart from LUT) and the resource estimate.
#
# bench_table WORKDIR RUN...   where RUN is "MODEL.onnx|INPUTS.npy|label|config", config being
# a file, inline JSON or empty. NO_YOSYS=1 skips yosys, NO_SIM=1 the co-simulation. Returns
# non-zero (after printing every row) when a build, a co-simulation (any mismatch or latency
# error) or a synthesis failed: a figure from a failed design is no figure.

bench_table() {
  local W=$1
  shift
  local T
  if [ -z "${TACHYON:-}" ]; then
    cargo build --release --bin tachyon >/dev/null 2>&1
    T=$PWD/target/release/tachyon
  else
    T=$TACHYON
  fi
  rm -rf "$W"; mkdir -p "$W"
  local QOR=benches/qor.sh
  echo "| model | clock | II | latency | compile | co-sim (vectors, mismatches) | LUT | SRL | FF | CARRY | DSP | est. LUT | est. FF | yosys |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  local entry model inputs label cfg out cargs start ms ct ii cyc lat_ns elut eff sim lut srl ff car dsp ys
  local failed=0
  for entry in "$@"; do
    IFS='|' read -r model inputs label cfg <<<"$entry"
    if [ ! -f "$model" ]; then
      echo "| $label | skipped: $model is absent |"
      continue
    fi
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
    if ! "$T" build "$model" "${cargs[@]}" --clock-ns 2.5 -o "$out" --force >"$out.build.txt" 2>&1; then
      echo "| $label | build failed: $(tail -1 "$out.build.txt") |"
      failed=1
      continue
    fi
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    ct=$(printf "%d.%03d" $((ms / 1000)) $((ms % 1000)))
    read -r ii cyc lat_ns elut eff <<<"$(python3 -c "
import json; r = json.load(open('$out/report.json'))
print(r['ii_cycles'], r['latency_cycles'], '%.1f' % r['latency_ns'], r['total']['lut'], r['total']['ff'])")"
    sim="-"
    if [ -z "${NO_SIM:-}" ] && command -v verilator >/dev/null; then
      "$T" sim "$out" --inputs "$inputs" --random 200 >"$out.sim.txt" 2>&1 || failed=1
      sim=$(python3 -c "
import json; r = json.load(open('$out/sim/results.json'))
print('%d, %d' % (r['vectors'], r['mismatches']))" 2>/dev/null || echo "failed")
      [ "$sim" != failed ] || failed=1
    fi
    lut=-; srl=-; ff=-; car=-; dsp=-; ys=-
    if [ -z "${NO_YOSYS:-}" ] && command -v yosys >/dev/null && [ -x "$QOR" ]; then
      read -r lut ff car srl dsp ys <<<"$("$QOR" "$out/rtl" xcup | awk '{print $2, $4, $6, $8, $10, $16}')"
      ys="$ys s"
      [ -n "$lut" ] || failed=1
    fi
    printf "| %s | 2.5 ns | %s | %s cycles = %s ns | %s s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n" \
      "$label" "$ii" "$cyc" "$lat_ns" "$ct" "$sim" "$lut" "$srl" "$ff" "$car" "$dsp" "$elut" "$eff" "$ys"
  done
  if [ "$failed" != 0 ]; then
    echo
    echo "FAILED: a build, a co-simulation or a synthesis failed (see the rows above and $W/*.txt)"
    return 1
  fi
}
