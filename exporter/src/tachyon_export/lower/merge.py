"""Reductions and merges: `QSum`, `QMeanPow2`, `QAdd`, `QAveragePow2`, `QSubtract`,
`QMultiply`, `QMaximum`, `QMinimum`, `QEinsum`.

    QSum, QMeanPow2:  FixedQuant(iq) → ReduceSum(axes, keepdims) → Mul(scale)?  (a power of two)
    QAdd:             FixedQuant(iq0), FixedQuant(iq1), … → Add → Add …  (NumPy broadcasting)
    QAveragePow2:     … → Add → Add … → Mul(2^round(log2(1/n)))
    QSubtract:        … → Sub;   QMultiply: … → Mul → Mul …;   QMaximum/QMinimum: → Max / Min
    QEinsum:          FixedQuant(iq0), FixedQuant(iq1) → Einsum(equation)   (batch letter included)

Each is followed by `FixedQuant(oq)` when the layer has an output quantizer.
"""

from __future__ import annotations

import math

import numpy as np

from ..onnx_graph import GraphBuilder
from .common import LayerCall, quantize


def output_quant(g: GraphBuilder, call: LayerCall, y: str) -> str:
    """`y` through the layer's output quantizer, if it has one."""
    layer = call.layer
    if getattr(layer, "enable_oq", False):
        return quantize(g, call, y, len(call.out_shapes[0]), layer.oq, f"{call.name}/oq")
    return y


def lower_qsum(g: GraphBuilder, call: LayerCall) -> list[str]:
    """`QSum`: `y = scale · Σ_axes iq(x)`."""
    layer = call.layer
    rank = len(call.in_shapes[0])
    x = call.inputs[0]
    if layer.enable_iq:
        x = quantize(g, call, x, rank, layer.iq, f"{call.name}/iq")
    axes = sorted(a % rank for a in layer.axes)
    if 0 in axes:
        raise call.unsupported("sums over the batch axis")
    axes_t = g.const(f"{call.name}.axes", np.array(axes, dtype=np.int64), np.int64)
    y = g.node("ReduceSum", [x, axes_t], f"{call.name}/sum", keepdims=int(bool(layer.keepdims)))
    scale = float(layer.scale)
    if not math.log2(scale).is_integer():
        raise call.unsupported(f"scale {scale} is not a power of two")
    if scale != 1.0:
        y = g.node("Mul", [y, g.const(f"{call.name}.scale", np.array(scale, dtype=np.float32))], f"{call.name}/scale")
    return [output_quant(g, call, y)]


def _quantized_inputs(g: GraphBuilder, call: LayerCall) -> list[str]:
    layer = call.layer
    xs = list(call.inputs)
    if layer.enable_iq:
        xs = [
            quantize(g, call, x, len(shape), q, f"{call.name}/iq{j}")
            for j, (x, shape, q) in enumerate(zip(xs, call.in_shapes, layer.iq))
        ]
    return xs


#: The ONNX op folding each merge's inputs left to right.
_MERGE_OPS = {
    "QAdd": "Add",
    "QAveragePow2": "Add",
    "QSubtract": "Sub",
    "QMultiply": "Mul",
    "QMaximum": "Max",
    "QMinimum": "Min",
}


def lower_merge(g: GraphBuilder, call: LayerCall) -> list[str]:
    """`QAdd` (`y = iq0(x0) + iq1(x1) + …`) and the other element-wise merges."""
    cls = type(call.layer).__name__
    op = _MERGE_OPS[cls]
    xs = _quantized_inputs(g, call)
    if cls == "QSubtract" and len(xs) != 2:
        raise call.unsupported("QSubtract takes exactly two inputs")
    y = xs[0]
    stem = op.lower()
    for j, x in enumerate(xs[1:], start=1):
        y = g.node(op, [y, x], f"{call.name}/{stem}" if len(xs) == 2 else f"{call.name}/{stem}{j}")
    if cls == "QAveragePow2":
        scale = float(call.layer._scale)
        if not math.log2(scale).is_integer():
            raise call.unsupported(f"scale {scale} is not a power of two")
        y = g.node("Mul", [y, g.const(f"{call.name}.scale", np.array(scale, dtype=np.float32))], f"{call.name}/scale")
    return [output_quant(g, call, y)]


lower_qadd = lower_merge


def lower_einsum(g: GraphBuilder, call: LayerCall) -> list[str]:
    """`QEinsum`: Keras's own equation (its batch letter included) over the quantized inputs."""
    xs = _quantized_inputs(g, call)
    if len(xs) != 2:
        raise call.unsupported(f"QEinsum of {len(xs)} inputs (two are supported)")
    y = g.node("Einsum", xs, f"{call.name}/einsum", equation=str(call.layer.equation).replace(" ", ""))
    return [output_quant(g, call, y)]
