#!/usr/bin/env bash
# Benchmark of the CNNs in both hardware styles at a 2.5 ns clock: the shipped 64-sample pulse
# CNN (examples/pulse_cnn) and, when ../shared/models is present, hls4ml's conv1d_small_keras
# and conv2d_small_keras (float models at the default fixed<16,6>). Columns: see
# benches/table.sh. Prints a Markdown table.
#
#   benches/cnn.sh              everything
#   NO_YOSYS=1 benches/cnn.sh   skip yosys
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/table.sh
p=examples/pulse_cnn/pulse_cnn; h=../shared/models/hls4ml-example-models
stream='{"default": {"style": "stream"}}'
echo "Command: \`benches/cnn.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores$(command -v yosys >/dev/null && echo ", $(yosys -V | cut -d' ' -f1-2)"))."
echo
bench_table "$PWD/target/bench-cnn" \
  "$p.onnx|$p.input.npy|pulse CNN, 64 samples, parallel|" \
  "$p.onnx|$p.input.npy|pulse CNN, 64 samples, stream|$stream" \
  "$p.onnx|$p.input.npy|pulse CNN, 64 samples, stream, 4 samples per clock|{\"default\": {\"style\": \"stream\", \"pixels_per_clock\": 4}}" \
  "$h/conv1d_small_keras.onnx|$h/conv1d_small_keras.input.npy|hls4ml conv1d_small_keras, parallel|" \
  "$h/conv1d_small_keras.onnx|$h/conv1d_small_keras.input.npy|hls4ml conv1d_small_keras, stream|$stream" \
  "$h/conv2d_small_keras.onnx|$h/conv2d_small_keras.input.npy|hls4ml conv2d_small_keras, parallel|" \
  "$h/conv2d_small_keras.onnx|$h/conv2d_small_keras.input.npy|hls4ml conv2d_small_keras, stream|$stream" \
  "$h/conv2d_small_keras.onnx|$h/conv2d_small_keras.input.npy|hls4ml conv2d_small_keras, stream, dense head on DSPs with reuse 32|{\"default\": {\"style\": \"stream\"}, \"layers\": {\"Gemm#6\": {\"strategy\": \"dsp\", \"reuse\": 32}}}"
