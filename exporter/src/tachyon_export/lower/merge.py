"""Reductions and merges: `QSum`, `QAdd`.

    QSum:  FixedQuant(iq) → ReduceSum(axes, keepdims) → Mul(scale)?      (scale a power of two)
    QAdd:  FixedQuant(iq0), FixedQuant(iq1), … → Add → Add …             (NumPy broadcasting)
"""

from __future__ import annotations

import math

import numpy as np

from ..onnx_graph import GraphBuilder
from .common import LayerCall, quantize


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
    return [y]


def lower_qadd(g: GraphBuilder, call: LayerCall) -> list[str]:
    """`QAdd`: `y = iq0(x0) + iq1(x1) + …`."""
    layer = call.layer
    xs = list(call.inputs)
    if layer.enable_iq:
        xs = [
            quantize(g, call, x, len(shape), q, f"{call.name}/iq{j}")
            for j, (x, shape, q) in enumerate(zip(xs, call.in_shapes, layer.iq))
        ]
    y = xs[0]
    for j, x in enumerate(xs[1:], start=1):
        y = g.node("Add", [y, x], f"{call.name}/add" if len(xs) == 2 else f"{call.name}/add{j}")
    return [y]
