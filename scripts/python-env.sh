#!/usr/bin/env bash
# Creates (or updates) the Python environment of the HGQ2 → ONNX exporter (exporter/):
# a virtualenv with the pinned versions of exporter/requirements.lock (hgq2, keras, jax on CPU,
# onnxruntime and qonnx as reference executors,
# onnx, pytest, mypy) and tachyon-export installed in editable mode.
#
#   scripts/python-env.sh [VENV]      VENV defaults to $TACHYON_VENV, else <repo>/.venv
#
# Idempotent and quiet: a second run only checks that the pins are satisfied. Prints the
# environment's python path at the end.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-${TACHYON_VENV:-$repo/.venv}}"
lock="$repo/exporter/requirements.lock"
python="${PYTHON:-python3}"

if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 10) else 1)' 2>/dev/null; then
  echo "python-env.sh: needs Python >= 3.10 as '$python' (set PYTHON=...); the pins were made on 3.11" >&2
  exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi

stamp="$venv/.tachyon-lock.sha256"
want="$(sha256sum "$lock" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$lock"
  echo "$want" > "$stamp"
fi
if ! "$venv/bin/python" -c 'import tachyon_export' 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e "$repo/exporter"
fi

echo "$venv/bin/python"
