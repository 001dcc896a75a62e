#!/usr/bin/env bash
# benches/qor.sh RTL_DIR [FAMILY] — ../shared/tools/qor.sh's measurement (yosys synth_xilinx
# -family FAMILY -flatten, top found automatically), with one difference: LUT6_2 cells count
# as LUTs. Tachyon's ternary adders instantiate LUT6_2 (one LUT6 site each, as Vivado counts
# them); qor.sh's LUT figure sums only LUT1..LUT6 and would leave them out. Same output format.
set -eu
d=${1:?usage: qor.sh RTL_DIR [xcup|xc7]}; fam=${2:-xcup}
command -v yosys >/dev/null || { echo "yosys not installed (apt-get install -y yosys)"; exit 2; }
files=$(find "$d" -maxdepth 1 -name '*.v' | sort | tr '\n' ' ')
[ -n "$files" ] || { echo "no .v files in $d"; exit 2; }
log=$(mktemp); stat=$(mktemp); start=$(date +%s)
if ! yosys -q -l "$log" -p "read_verilog $files; hierarchy -auto-top; synth_xilinx -family $fam -flatten; tee -o $stat stat" >/dev/null 2>&1; then
  echo "yosys failed:"; grep -m5 -i error "$log"; exit 1
fi
awk -v t=$(( $(date +%s) - start )) '
  /LUT[1-6] /{lut+=$2} /LUT6_2 /{lut+=$2} /FD[CPRS]E? /{ff+=$2} /CARRY[48] /{car+=$2} /DSP48E[12] /{dsp+=$2}
  /RAMB(18|36)/{bram+=$2} /URAM/{uram+=$2} /SRL/{srl+=$2}
  END{printf "LUT %d  FF %d  CARRY %d  SRL %d  DSP %d  BRAM %d  URAM %d  (yosys %d s)\n", lut, ff, car, srl, dsp, bram, uram, t}' "$stat"
rm -f "$log" "$stat"
