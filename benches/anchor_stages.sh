#!/usr/bin/env bash
# yosys figures of an anchor's (da4ml 0.6.0 / alkaid 0.8.2) project too big for one flat yosys
# run: each pipeline-stage module (`src/*_stage*.v`, combinational logic between the top's
# registers) synthesized on its own with ../shared/tools/anchor_qor.sh's command
# (`synth_xilinx -family xcup -flatten -top STAGE`), JOBS at a time, LUTs summed; flip-flops are
# the top's registers (the sum of their widths, an upper bound: flat synthesis could drop unread
# bits). The same split as `tachyon synth --partitioned` on Tachyon's side: what crosses a
# module boundary is not optimized across it, on both sides.
#
#   benches/anchor_stages.sh PROJECT_DIR [JOBS=2]
#   NODSP=1 benches/anchor_stages.sh …   multiplies in LUTs (`synth_xilinx -nodsp`): the anchors'
#                                        designs are 0-DSP in their papers (Vivado); yosys puts
#                                        their `*` into DSP48E2s by default
set -euo pipefail
d=$(cd "$1" && pwd); jobs=${2:-2}
[ -d "$d/src" ] || { echo "$d/src: not a da4ml/alkaid project"; exit 2; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cp "$d"/src/memfiles/*.mem "$work"/ 2>/dev/null || true
# The static library, with `rom_style` attributes dropped: yosys 0.23 finds "no valid mapping"
# for da4ml's 512-deep `(* rom_style = "distributed" *)` tables (the softmax's) and maps them to
# LUTs without the hint.
mkdir -p "$work/static"
for f in "$d"/src/static/*.v; do
  [ -e "$f" ] && sed 's/(\* *rom_style[^*]*\*)//' "$f" >"$work/static/$(basename "$f")"
done
static=$(ls "$work"/static/*.v 2>/dev/null | tr '\n' ' ' || true)
stages=$(ls "$d"/src/*_stage*.v)
# One stage: `one.sh FILE` (run by xargs, JOBS at a time).
{
  echo '#!/bin/sh'
  echo 'm=$(basename "$1" .v)'
  echo "cd '$work' || exit 1"
  echo "yosys -q -l \"\$m.log\" -p \"read_verilog -defer \$1 $static; synth_xilinx -family xcup -flatten${NODSP:+ -nodsp} -top \$m; tee -q -o \$m.stat stat\" >/dev/null 2>&1 || echo \"yosys failed on \$m (log: $work/\$m.log)\" >&2"
} >"$work/one.sh"
chmod +x "$work/one.sh"
start=$(date +%s)
printf '%s\n' $stages | xargs -P "$jobs" -n 1 "$work/one.sh"
lut=0; carry=0; dsp=0
for f in $stages; do
  m=$(basename "$f" .v)
  [ -s "$work/$m.stat" ] || { echo "no statistics for $m"; exit 1; }
  read -r l c p <<<"$(awk '/LUT[1-6] |LUT6_2 /{l+=$2} /CARRY[48] /{c+=$2} /DSP48E[12] /{d+=$2} END{print l+0, c+0, d+0}' "$work/$m.stat")"
  lut=$((lut + l)); carry=$((carry + c)); dsp=$((dsp + p))
done
top=$(ls "$d"/src/*.v | grep -v -e _stage -e _wrapper | head -1)
ff=$(grep -oE '^\s*(output )?reg \[[0-9]+:0\]' "$top" | grep -oE '[0-9]+:' | tr -d : | awk '{s+=$1+1} END{print s+0}')
echo "$(basename "$d"): $(echo "$stages" | wc -w) stage modules, yosys${NODSP:+ -nodsp} (each stage on its own, $jobs at a time) LUT $lut CARRY $carry DSP $dsp, FF $ff (the top's registers), $(( $(date +%s) - start )) s"
