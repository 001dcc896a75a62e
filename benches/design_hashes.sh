#!/usr/bin/env bash
# Checks that every shipped example and every model of ../shared/models (the slow ones too: the
# transformers, the calorimeter CNN, the TFC MLP) compiles to the Verilog, report and quantized
# model recorded in tests/fixtures/design_hashes.txt. Prints the test's verdict and the time.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
TACHYON_ALL_DESIGNS=1 cargo test --release -p tachyon --test it -- design_hashes --nocapture
echo "all designs checked in $(( $(date +%s) - start )) s"
