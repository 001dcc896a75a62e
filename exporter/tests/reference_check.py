"""Evaluates an exported ONNX model with the exporter's reference semantics (NumPy) and checks it
against the Keras outputs bit for bit: the acceptance check of the five HGQ2 checkpoints.

The Rust test `tests/it/hgq2.rs` runs it on the `model.onnx` that `tachyon build CHECKPOINT.keras`
stored (the exporter's output for that file), so each checkpoint is exported once per test run:

    python exporter/tests/reference_check.py MODEL.onnx INPUTS.npy KERAS_OUTPUTS.npy
"""

from __future__ import annotations

import sys

import numpy as np
import onnx

from tachyon_export import semantics


def check(model: str, inputs: str, outputs: str) -> str | None:
    """`None` when the reference semantics of `model` on `inputs` equal `outputs` bit for bit and
    the model uses exactly the standard and tachyon.fixed opsets; else what differs."""
    proto = onnx.load(model)
    x = np.load(inputs)
    want = np.load(outputs).astype(np.float64)
    got = semantics.run(proto, {proto.graph.input[0].name: x})["output"]
    if got.shape != want.shape:
        return f"output shape {got.shape}, Keras {want.shape}"
    bad = np.argwhere(got != want)
    if len(bad):
        at = tuple(int(i) for i in bad[0])
        return f"{len(bad)} outputs differ from Keras, the first at {at}: {got[at]} (Keras {want[at]})"
    domains = {(o.domain, o.version) for o in proto.opset_import}
    if domains != {("", 17), ("tachyon.fixed", 1)}:
        return f"opsets {sorted(domains)}"
    return None


if __name__ == "__main__":
    problem = check(*sys.argv[1:4])
    if problem is not None:
        print(f"{sys.argv[1]}: {problem}", file=sys.stderr)
        sys.exit(1)
