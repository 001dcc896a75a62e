"""Dense-like layers: `QDense`, `QBatchNormDense`, `QEinsumDense`, `QEinsumDenseBatchnorm`, and
the stand-alone `QBatchNormalization` (`FixedQuant(iq) → Mul(qscale) → Add(qoffset)`, its scale
and offset quantized by the layer's own weight and bias quantizers).

    FixedQuant(iq) → MatMul(W) | Einsum(W) → Add(b)? → Relu? → FixedQuant(oq)?

`W`, `b` are HGQ2's quantized values as computed at inference (`layer.qkernel`, `layer.qbias`;
for the batch-norm variants the folded kernel and bias, quantized after folding), written as
float32 initializers. `MatMul` is used when the equation is `…c,cd->…d` (always for `QDense`);
otherwise `Einsum` with Keras' own equation, batch letter included.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..onnx_graph import GraphBuilder
from .common import LayerCall, activation, add_bias, contract, quantize, to_numpy


def lower_dense_like(g: GraphBuilder, call: LayerCall, layer: Any, x: str, in_rank: int, out_rank: int, base: str) -> str:
    """The dense chain of `layer` applied to tensor `x`; also used for attention projections."""
    if getattr(layer, "enable_iq", False):
        x = quantize(g, call, x, in_rank, layer.iq, f"{base}/iq")
    kernel = to_numpy(layer.qkernel)
    bias = None if getattr(layer, "bias", None) is None else to_numpy(layer.qbias)
    if hasattr(layer, "equation"):
        equation = str(layer.equation)
    else:  # QDense: matmul over the last axis
        letters = "abcdefghijklmnopqrstuvwxy"[:in_rank]
        equation = f"{letters},{letters[-1]}z->{letters[:-1]}z"
    y = contract(g, x, equation, kernel, base)
    y = add_bias(g, y, bias, out_rank, base)
    y = activation(g, call, y, getattr(layer, "activation", None), f"{base}/relu")
    if getattr(layer, "enable_oq", False):
        y = quantize(g, call, y, out_rank, layer.oq, f"{base}/oq")
    return y


def lower_dense(g: GraphBuilder, call: LayerCall) -> list[str]:
    """`QDense`, `QBatchNormDense`, `QEinsumDense`, `QEinsumDenseBatchnorm`."""
    layer = call.layer
    if getattr(layer, "lora_enabled", False):
        raise call.unsupported("LoRA is enabled")
    in_rank, out_rank = len(call.in_shapes[0]), len(call.out_shapes[0])
    return [lower_dense_like(g, call, layer, call.inputs[0], in_rank, out_rank, call.name)]


def lower_batchnorm(g: GraphBuilder, call: LayerCall) -> list[str]:
    """`QBatchNormalization` at inference: `iq(x) · kq(scale) + bq(offset)` per channel."""
    layer = call.layer
    rank = len(call.in_shapes[0])
    x = call.inputs[0]
    if layer.enable_iq:
        x = quantize(g, call, x, rank, layer.iq, f"{call.name}/iq")
    qscale, qoffset = (to_numpy(t).astype(np.float32) for t in layer.qscaler_and_qoffset)
    shape = [1] * rank
    shape[int(layer.axis) % rank] = call.in_shapes[0][int(layer.axis) % rank]
    y = g.node("Mul", [x, g.const(f"{call.name}.scale", qscale.reshape(shape))], f"{call.name}/scale")
    y = g.node("Add", [y, g.const(f"{call.name}.offset", qoffset.reshape(shape))], f"{call.name}/offset")
    if getattr(layer, "enable_oq", False):
        y = quantize(g, call, y, rank, layer.oq, f"{call.name}/oq")
    return [y]
