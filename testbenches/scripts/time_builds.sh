#!/bin/sh
# Times `verilator --build` of one harness under several C++ optimisation
# levels, with and without --output-split, and the run of its vectors.
# Usage: time_builds.sh WORK_DIR TOP RTL.v [ROUNDS]
# WORK_DIR must hold tachyon_cosim.cpp and inputs.txt from a previous
# build_harness + run (e.g. target/tmp/cosim/build_speed after
#   cargo test -p tachyon-testbenches --test build_speed -- --ignored).
set -eu
dir=$1; top=$2; rtl=$3; rounds=${4:-2}
common="--cc --exe --build -j 2 --top-module $top --prefix Vdut -o tachyon_cosim --x-assign fast --x-initial fast --noassert"
variant() {
  case $1 in
    Os)       echo "" ;;
    O1)       echo "-MAKEFLAGS OPT_FAST=-O1 -MAKEFLAGS OPT_SLOW=-O1 -MAKEFLAGS OPT_GLOBAL=-O1" ;;
    O1fast)   echo "-MAKEFLAGS OPT_FAST=-O1 -MAKEFLAGS OPT_SLOW=-O0 -MAKEFLAGS OPT_GLOBAL=-O0" ;;
    O0)       echo "-MAKEFLAGS OPT_FAST=-O0 -MAKEFLAGS OPT_SLOW=-O0 -MAKEFLAGS OPT_GLOBAL=-O0" ;;
  esac
}
for r in $(seq "$rounds"); do
  for opt in ${OPTS:-Os O1 O1fast O0}; do
    for split in ${SPLITS:-none 5000 1000}; do
      m="$dir/time_${opt}_${split}"
      rm -rf "$m"
      s=""; [ "$split" = none ] || s="--output-split $split"
      t0=$(date +%s.%N)
      # shellcheck disable=SC2046,SC2086
      verilator $common --Mdir "$m" $(variant $opt) $s "$rtl" "$dir/tachyon_cosim.cpp" >/dev/null 2>&1
      t1=$(date +%s.%N)
      "$m/tachyon_cosim" "$dir/inputs.txt" "$m/out.txt" 0 10000
      t2=$(date +%s.%N)
      printf 'round %s  %-7s split %-5s  build %5.1f s  run %5.2f s  (load %s)\n' "$r" "$opt" "$split" \
        "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" "$(cut -d' ' -f1 /proc/loadavg)"
      rm -rf "$m"
    done
  done
done
