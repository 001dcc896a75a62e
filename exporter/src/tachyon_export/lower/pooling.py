"""Pooling: `QMaxPooling1D/2D`, `QAveragePooling1D/2D` and their global forms (channels_last).

    window:  FixedQuant(iq) → Transpose(to NC…) → MaxPool | AveragePool → Transpose(back) → FixedQuant(oq)?
    global:  FixedQuant(iq) → ReduceMax | ReduceMean(spatial axes, keepdims) → FixedQuant(oq)?

An average is exact in fixed point only over a power-of-two count (a division by any other
count would need a rounding the layer does not state), so average pooling needs power-of-two
windows with no padding at the edges (`valid`, or `same` where no padding is needed), and
global average pooling a power-of-two number of positions.
"""

from __future__ import annotations

import math

from ..onnx_graph import GraphBuilder
from .common import LayerCall, quantize
from .conv import _pads
from .merge import output_quant


def _pow2(n: int) -> bool:
    return n > 0 and math.log2(n).is_integer()


def lower_pool(g: GraphBuilder, call: LayerCall) -> list[str]:
    """`QMaxPooling1D/2D`, `QAveragePooling1D/2D`."""
    layer = call.layer
    if layer.data_format != "channels_last":
        raise call.unsupported("data_format channels_first")
    rank = len(call.in_shapes[0]) - 2
    x = call.inputs[0]
    if layer.enable_iq:
        x = quantize(g, call, x, rank + 2, layer.iq, f"{call.name}/iq")
    k = [int(v) for v in layer.pool_size]
    s = [int(v) for v in layer.strides]
    pads = _pads(str(layer.padding), list(call.in_shapes[0][1:-1]), k, s, [1] * rank)
    average = "Average" in type(layer).__name__
    if average and (any(pads) or not _pow2(math.prod(k))):
        raise call.unsupported(
            f"average pooling over {'×'.join(map(str, k))} windows"
            + (" with padding at the edges" if any(pads) else "")
            + ": only power-of-two windows without padding are exact in fixed point (use MaxPooling, or a power-of-two pool_size with padding='valid')"
        )
    to_first = [0, rank + 1] + list(range(1, rank + 1))
    to_last = [0] + list(range(2, rank + 2)) + [1]
    x = g.node("Transpose", [x], f"{call.name}/to_nc", perm=to_first)
    y = g.node("AveragePool" if average else "MaxPool", [x], f"{call.name}/pool", kernel_shape=k, strides=s, pads=pads)
    y = g.node("Transpose", [y], f"{call.name}/to_nhwc", perm=to_last)
    return [output_quant(g, call, y)]


def lower_global_pool(g: GraphBuilder, call: LayerCall) -> list[str]:
    """`QGlobalMaxPooling1D/2D`, `QGlobalAveragePooling1D/2D`."""
    layer = call.layer
    if layer.data_format != "channels_last":
        raise call.unsupported("data_format channels_first")
    shape = call.in_shapes[0]
    rank = len(shape)
    x = call.inputs[0]
    if layer.enable_iq:
        x = quantize(g, call, x, rank, layer.iq, f"{call.name}/iq")
    axes = list(range(1, rank - 1))
    average = "Average" in type(layer).__name__
    if average and not _pow2(math.prod(shape[1:-1])):
        raise call.unsupported(
            f"global average pooling over {math.prod(shape[1:-1])} positions: only a power-of-two count is exact in fixed point"
        )
    y = g.node("ReduceMean" if average else "ReduceMax", [x], f"{call.name}/pool", axes=axes, keepdims=int(bool(layer.keepdims)))
    return [output_quant(g, call, y)]
