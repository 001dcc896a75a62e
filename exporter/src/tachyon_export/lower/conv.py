"""`QConv1D`, `QConv2D` (channels_last, any strides, dilations, groups; padding valid, same,
causal).

    FixedQuant(iq) → Transpose(to NC…) → Conv(W; kernel_shape, strides, dilations, pads, group)
      → Transpose(back to N…C) → Add(b)? → Relu?

ONNX `Conv` is channels-first, so the channels_last Keras tensor is transposed around it. `W` is
HGQ2's `qkernel` moved from Keras' `(k…, in/groups, out)` to ONNX's `(out, in/groups, k…)`;
`pads` are explicit (`same`: as JAX/TensorFlow, the odd extra pixel at the end; `causal`:
all on the left); no `auto_pad`. The bias is a separate `Add` as in the dense chain.
"""

from __future__ import annotations

import numpy as np

from ..onnx_graph import GraphBuilder
from .common import LayerCall, activation, add_bias, quantize, to_numpy


def _pads(padding: str, size: list[int], k: list[int], s: list[int], d: list[int]) -> list[int]:
    begin, end = [], []
    for n, kk, ss, dd in zip(size, k, s, d):
        span = (kk - 1) * dd + 1
        if padding == "valid":
            total = 0
        elif padding == "causal":
            begin.append(span - 1)
            end.append(0)
            continue
        else:  # same
            out = -(-n // ss)
            total = max((out - 1) * ss + span - n, 0)
        begin.append(total // 2)
        end.append(total - total // 2)
    return begin + end


def lower_conv(g: GraphBuilder, call: LayerCall) -> list[str]:
    """`QConv1D`, `QConv2D`."""
    layer = call.layer
    if layer.data_format != "channels_last":
        raise call.unsupported("data_format channels_first")
    rank = int(layer.rank)
    in_shape = call.in_shapes[0]
    x = call.inputs[0]
    if layer.enable_iq:
        x = quantize(g, call, x, rank + 2, layer.iq, f"{call.name}/iq")
    to_first = [0, rank + 1] + list(range(1, rank + 1))
    to_last = [0] + list(range(2, rank + 2)) + [1]
    kernel = to_numpy(layer.qkernel)
    w = np.transpose(kernel, [rank + 1, rank] + list(range(rank)))
    k = [int(v) for v in layer.kernel_size]
    s = [int(v) for v in layer.strides]
    d = [int(v) for v in layer.dilation_rate]
    pads = _pads(str(layer.padding), list(in_shape[1:-1]), k, s, d)
    x = g.node("Transpose", [x], f"{call.name}/to_nc", perm=to_first)
    y = g.node(
        "Conv",
        [x, g.const(f"{call.name}.kernel", w)],
        f"{call.name}/conv",
        kernel_shape=k,
        strides=s,
        dilations=d,
        pads=pads,
        group=int(layer.groups),
    )
    y = g.node("Transpose", [y], f"{call.name}/to_nlc", perm=to_last)
    if layer.use_bias:
        y = add_bias(g, y, to_numpy(layer.qbias), rank + 2, call.name)
    y = activation(g, call, y, layer.activation, f"{call.name}/relu")
    if getattr(layer, "enable_oq", False):
        y = quantize(g, call, y, rank + 2, layer.oq, f"{call.name}/oq")
    return [y]
