#!/usr/bin/env bash
# The whole test suite (what CI runs, via .ci/run): the pinned Python environment, the Python
# wheel (dev profile, sharing target/debug with the tests), then `cargo test --workspace`, whose
# tests/it/python_package.rs runs the wheel's pytest suite and mypy. Extra arguments go to
# `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/python-env.sh >/dev/null
./scripts/build-wheel.sh --dev >/dev/null
cargo test --workspace "$@"
