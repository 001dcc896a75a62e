#!/usr/bin/env bash
# The README's first command: install the tools, build Tachyon, compile the shipped jet-tagging
# MLP (examples/jet_mlp) into out/jet_mlp, and co-simulate it bit-exactly with Verilator.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/python-env.sh >/dev/null   # the HGQ2 exporter's virtualenv (.venv), for .keras models and the tests
cargo build --release --bin tachyon
T=target/release/tachyon
$T build examples/jet_mlp/jet_mlp.onnx --clock-ns 5 -o out/jet_mlp --force
$T sim out/jet_mlp --inputs examples/jet_mlp/jet_mlp.input.npy --random 1000
$T report out/jet_mlp
