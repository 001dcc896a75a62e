#!/usr/bin/env bash
# Benchmark: `tachyon.Project.predict` throughput (the bit-exact interpreter from Python, one
# core) on the shipped jet MLP (16-64-32-32-5, 8-bit) and on HGQ2's jsc_openml_13285 when
# ../shared/models is present. Builds the release wheel into target/wheels-release, installs it
# into a scratch virtualenv over the pinned .venv, prints inferences per second.
#
#   benches/predict.sh [N=200000]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
venv="${TACHYON_VENV:-$PWD/.venv}"
[ -x "$venv/bin/python" ] || { echo "no pinned virtualenv at $venv: run scripts/python-env.sh"; exit 2; }
"$venv/bin/python" -m maturin --version >/dev/null 2>&1 || scripts/build-wheel.sh --dev >/dev/null
rm -rf target/wheels-release
"$venv/bin/python" -m maturin build --quiet --release --manifest-path python/Cargo.toml \
  --interpreter "$venv/bin/python" --out target/wheels-release >&2
scratch=target/bench-predict; rm -rf "$scratch"; python3 -m venv "$scratch"
site=$("$scratch/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
base=$("$venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
echo "import site; site.addsitedir('$base')" > "$site/_tachyon_base.pth"
"$scratch/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps target/wheels-release/tachyon_nn-*.whl
echo "Command: \`benches/predict.sh $N\` ($(date -u +%Y-%m-%d), $(nproc) cores, one thread)"
cd "$scratch"
OMP_NUM_THREADS=1 taskset -c 0 bin/python - "$N" "$OLDPWD" <<'PY'
import os, sys, time
import numpy as np
import tachyon

n, repo = int(sys.argv[1]), sys.argv[2]
models = [("jet_mlp (examples)", os.path.join(repo, "examples/jet_mlp/jet_mlp.onnx"), 16)]
hgq = os.path.join(repo, "../shared/models/hgq2/jsc_openml_13285.keras")
if os.path.exists(hgq):
    models.append(("jsc_openml_13285 (HGQ2)", hgq, 16))
print("| model | inferences | seconds | inferences/s |")
print("|---|---|---|---|")
for name, path, k in models:
    prj = tachyon.convert(path)
    x = np.random.default_rng(0).normal(size=(n, prj.input_len))
    prj.predict(x[:1000])
    t = time.perf_counter()
    prj.predict(x)
    dt = time.perf_counter() - t
    print(f"| {name} | {n} | {dt:.2f} | {n / dt:,.0f} |")
PY
# The anchor beside it, same model, same core: da4ml 0.6.0's compiled interpreter
# (`CombLogic.predict`, one thread), from the scratch virtualenv ../shared/tools/anchor_qor.sh makes.
da4ml="${DA4ML_VENV:-$HOME/.cache/tachyon-anchors/da4ml}"
hgq="$OLDPWD/../shared/models/hgq2/jsc_openml_13285.keras"
if [ -x "$da4ml/bin/python" ] && [ -f "$hgq" ]; then
  r=$(KERAS_BACKEND=jax JAX_PLATFORM_NAME=cpu OMP_NUM_THREADS=1 taskset -c 0 "$da4ml/bin/python" \
    "$OLDPWD/benches/da4ml_predict.py" "$N" "$hgq" 1 2>/dev/null)
  echo "| jsc_openml_13285, da4ml 0.6.0 \`CombLogic.predict\` (1 thread) | $N | $r |"
else
  echo "(da4ml 0.6.0 not run: no virtualenv at $da4ml — ../shared/tools/anchor_qor.sh makes it)"
fi
