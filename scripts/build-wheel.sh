#!/usr/bin/env bash
# Builds the Python wheel of Tachyon (python/: the `tachyon` package, its native module over the
# same crates as the CLI, and the `tachyon` command) with maturin into target/wheels/.
#
#   scripts/build-wheel.sh            release build (what to install: pip install target/wheels/tachyon_nn-*.whl)
#   scripts/build-wheel.sh --dev      the dev profile (shares target/debug with `cargo test`; what CI tests)
#
# maturin comes from the pinned virtualenv ($TACHYON_VENV, else <repo>/.venv; made by
# scripts/python-env.sh), installed there at the pinned version if missing.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="${TACHYON_VENV:-$repo/.venv}"
MATURIN_VERSION=1.16.0
[ -x "$venv/bin/python" ] || "$repo/scripts/python-env.sh" >/dev/null
if ! "$venv/bin/python" -m maturin --version 2>/dev/null | grep -q " $MATURIN_VERSION"; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "maturin==$MATURIN_VERSION"
fi
profile=release
[ "${1:-}" = "--dev" ] && profile=dev
rm -f "$repo"/target/wheels/tachyon_nn-*.whl
"$venv/bin/python" -m maturin build --quiet --manifest-path "$repo/python/Cargo.toml" --profile "$profile" \
  --interpreter "$venv/bin/python" --out "$repo/target/wheels" >&2
ls "$repo"/target/wheels/tachyon_nn-*.whl
