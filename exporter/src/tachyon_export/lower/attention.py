"""`QMultiHeadAttention` and `QLinformerAttention` (self- or cross-attention, no masks).

    [Linformer: key ← lin_key(key), value ← lin_value(value)   (dense chains, `Einsum`)]
    Q, K, V = query/key/value(x)                  (dense chains, `Einsum` `abc,cde->abde`)
    Q ← Mul(Q, 1/√d)?                             (only if Keras still scales Q; HGQ2 folds it
                                                   into the exp table, so normally absent)
    scores = Einsum(K, Q)    Keras' dot-product equation, e.g. `aecd,abcd->acbe`
    a = QSoftmax(scores)     (see softmax.py)
    O = Einsum(a, V)         Keras' combine equation, e.g. `acbe,aecd->abcd`
    out = attention_output(O) → FixedQuant(oq)?
"""

from __future__ import annotations

import math

import numpy as np

from ..onnx_graph import GraphBuilder
from .common import LayerCall, quantize
from .dense import lower_dense_like
from .softmax import lower_softmax_on

_REFUSED_OPTIONS = ("query_mask", "value_mask", "key_mask", "attention_mask")


def lower_attention(g: GraphBuilder, call: LayerCall) -> list[str]:
    """`QMultiHeadAttention`, `QLinformerAttention`."""
    layer = call.layer
    for opt in _REFUSED_OPTIONS:
        if opt in call.kwargs:
            raise call.unsupported(f"attention with {opt}")
    query = call.inputs[0]
    value = call.kwargs.get("value", call.inputs[1] if len(call.inputs) > 1 else query)
    key = call.kwargs.get("key", call.inputs[2] if len(call.inputs) > 2 else value)
    q_rank = len(call.in_shapes[0])
    kv_rank = q_rank  # HGQ2 requires key and value of the query's rank here
    base = call.name

    if hasattr(layer, "_lin_k_proj"):
        key = lower_dense_like(g, call, layer._lin_k_proj, key, kv_rank, kv_rank, f"{base}/lin_key")
        if layer.share_kv_proj:
            value = lower_dense_like(g, call, layer._lin_k_proj, value, kv_rank, kv_rank, f"{base}/lin_value")
        else:
            value = lower_dense_like(g, call, layer._lin_v_proj, value, kv_rank, kv_rank, f"{base}/lin_value")

    q = lower_dense_like(g, call, layer._query_dense, query, q_rank, q_rank + 1, f"{base}/query")
    k = lower_dense_like(g, call, layer._key_dense, key, kv_rank, kv_rank + 1, f"{base}/key")
    v = lower_dense_like(g, call, layer._value_dense, value, kv_rank, kv_rank + 1, f"{base}/value")
    scale = float(layer._inverse_sqrt_key_dim)
    if scale != 1.0:
        if not math.log2(scale).is_integer():
            raise call.unsupported(f"query scale {scale} is not a power of two (not exact in fixed point)")
        q = g.node("Mul", [q, g.const(f"{base}.query_scale", np.array(scale, dtype=np.float32))], f"{base}/query_scale")

    scores = g.node("Einsum", [k, q], f"{base}/scores", equation=str(layer._dot_product_equation))
    score_rank = len(str(layer._dot_product_equation).split("->")[1])
    a = lower_softmax_on(g, call, layer._softmax, scores, score_rank, f"{base}/softmax")
    o = g.node("Einsum", [a, v], f"{base}/combine", equation=str(layer._combine_equation))
    out = lower_dense_like(g, call, layer._output_dense, o, q_rank + 1, q_rank, f"{base}/attention_output")
    if layer.enable_oq:
        out = quantize(g, call, out, q_rank, layer.oq, f"{base}/oq")
    return [out]
