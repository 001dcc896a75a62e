"""Writes a QONNX dense model for the compile-time scaling benchmark (benches/scaling.sh).

    python make_dense.py OUT.onnx N_IN N_OUT BITS [SEED]

x[1, N_IN] → Quant(8 bits, 2^-4) → MatMul(W[N_IN, N_OUT]) + b → Relu → Quant(8 bits, unsigned):
one dense layer of N_IN·N_OUT weights, each a uniformly drawn BITS-bit signed integer times
2^-(BITS-1) (about a tenth of them zero), as a trained quantized layer looks to the compiler.
"""

from __future__ import annotations

import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

QONNX = "qonnx.custom_op.general"


def quant(name: str, x: str, scale: float, bits: int, signed: bool) -> tuple[onnx.NodeProto, list[onnx.TensorProto]]:
    inits = [
        numpy_helper.from_array(np.array(scale, dtype=np.float32), f"{name}_s"),
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), f"{name}_z"),
        numpy_helper.from_array(np.array(float(bits), dtype=np.float32), f"{name}_b"),
    ]
    node = helper.make_node(
        "Quant", [x, f"{name}_s", f"{name}_z", f"{name}_b"], [name], name=name, domain=QONNX,
        signed=int(signed), narrow=0, rounding_mode="ROUND",
    )
    return node, inits


def main(argv: list[str]) -> None:
    out, n_in, n_out, bits = argv[1], int(argv[2]), int(argv[3]), int(argv[4])
    rng = np.random.default_rng(int(argv[5]) if len(argv) > 5 else 0)
    top = 2 ** (bits - 1)
    w = rng.integers(-top, top, (n_in, n_out)) if bits > 1 else rng.choice([-1, 1], (n_in, n_out))
    w = np.where(rng.random((n_in, n_out)) < 0.1, 0, w).astype(np.float32) / max(top, 1)
    b = (rng.integers(-64, 64, n_out) / 16).astype(np.float32)
    q0, i0 = quant("xq", "x", 2.0**-4, 8, True)
    q1, i1 = quant("y", "relu", 2.0**-2, 8, False)
    nodes = [
        q0,
        helper.make_node("MatMul", ["xq", "W"], ["mm"], name="dense"),
        helper.make_node("Add", ["mm", "B"], ["add"], name="bias"),
        helper.make_node("Relu", ["add"], ["relu"], name="relu"),
        q1,
    ]
    graph = helper.make_graph(
        nodes, "dense",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n_in])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n_out])],
        [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B"), *i0, *i1],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(QONNX, 1)])
    onnx.save(model, out)


if __name__ == "__main__":
    main(sys.argv)
