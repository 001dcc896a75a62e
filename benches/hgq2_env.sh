# Sourced by the benches of ../shared/models/hgq2 (hgq2.sh, particles.sh): from the repository
# root, exits "skipped" without the models, finds the exporter's Python (TACHYON_PYTHON, else
# .venv), builds the release CLI and sets H (the models) and T (the CLI).
H=../shared/models/hgq2
[ -d "$H" ] || { echo "skipped: $H is absent"; exit 0; }
export TACHYON_PYTHON=${TACHYON_PYTHON:-$PWD/.venv/bin/python}
[ -x "$TACHYON_PYTHON" ] || { echo "no exporter Python at $TACHYON_PYTHON: run scripts/python-env.sh"; exit 2; }
cargo build --release --bin tachyon >/dev/null 2>&1
T=$PWD/target/release/tachyon
