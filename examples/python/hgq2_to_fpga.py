"""From a trained HGQ2 checkpoint to a co-simulated FPGA project, as a notebook would do it.

    python examples/python/hgq2_to_fpga.py [MODEL.keras] [OUT]

Default model: ../shared/models/hgq2/jsc_openml_530.keras (with its Keras reference vectors);
without it, the shipped QONNX jet MLP (examples/jet_mlp). Needs the wheel
(scripts/build-wheel.sh; pip install target/wheels/tachyon_nn-*.whl) and, for a Keras model,
the exporter's environment (scripts/python-env.sh).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

import tachyon

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    default = REPO.parent / "shared/models/hgq2/jsc_openml_530.keras"
    model_path = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("out/hgq2_example")
    x: np.ndarray
    want: np.ndarray | None = None
    if model_path.suffix == ".keras" and model_path.exists():
        os.environ.setdefault("KERAS_BACKEND", "jax")
        import hgq  # noqa: F401  (registers HGQ2's layers with Keras)
        import keras  # the user's trained model, as a live object

        model = keras.models.load_model(model_path, compile=False)
        stem = model_path.with_suffix("")
        x = np.load(f"{stem}.input.npy") if Path(f"{stem}.input.npy").exists() else np.zeros((1, 16))
        want = np.asarray(model.predict(x, verbose=0), dtype=np.float64)
        prj = tachyon.convert(model, clock_ns=5.0)
    else:
        model_path = REPO / "examples/jet_mlp/jet_mlp.onnx"
        x = np.load(REPO / "examples/jet_mlp/jet_mlp.input.npy")
        prj = tachyon.convert(model_path, clock_ns=5.0)
    print(prj)

    y = prj.predict(x)  # the bit-exact interpreter: what the FPGA will output
    if want is not None:
        diff = np.max(np.abs(y - want.reshape(y.shape)))
        print(f"predict vs Keras on {len(x)} vectors: max |Δ| = {diff}")

    r = prj.report()
    print(r)
    for layer in r.layers:
        est = layer["estimate"]
        print(f"  {layer['name']:<24} {layer['kind']:<10} stages {layer['stage_in']}-{layer['stage_out']}  "
              f"LUT {est['lut']:>6}  FF {est['ff']:>5}  DSP {est['dsp']}")

    prj.build(out, force=True)
    print(f"project written to {out}/ (rtl/, report.json, tachyon.json, sim/)")

    res = prj.sim(x[:500], expect=y[:500])
    print(f"co-simulation: {res.vectors} vectors, {res.mismatches} mismatches, latency {res.latency_cycles} cycles "
          f"(report {res.expected_latency_cycles}), II {res.ii_cycles}, max |Δ| vs predict {res.max_abs_diff}")
    if not res.ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
