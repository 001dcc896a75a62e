"""HGQ2's table activations: `QUnaryFunctionLUT` and `QAffinedUnaryFunctionLUT`.

    FixedQuant(iq) → Lookup(table) [→ FixedQuant(oq)]

A table layer computes `oq(act(iq(x)))` (the affine variant `oq(act(iq(x)·scale + bias))`),
`act` in float32. Every input the table can see is a code of its input quantizer, so the table
is tabulated by Keras itself:

* homogeneous quantizers (one `k, i, f` for every element, in and out): the table holds the
  layer's own output for every code of the input quantizer (`oq` included), exactly as the
  softmax tables are made;
* heterogeneous quantizers (per-element widths): one table over the union of the elements'
  grids (the finest `f`, the widest range) holding the float32 activation (affine part
  included) without `oq`, followed by the per-element `FixedQuant(oq)`. The float32 values are
  exact dyadic numbers, so the result is again the layer's own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..onnx_graph import GraphBuilder
from ..quantizers import QuantizerNotExportable, QuantSpec, read_quantizer
from .common import LayerCall, quantize, to_numpy
from .softmax import MAX_TABLE_BITS, code_range


def _spec(call: LayerCall, q: Any) -> QuantSpec | None:
    try:
        return read_quantizer(q)
    except QuantizerNotExportable as e:
        raise call.unsupported(str(e)) from e


def _homogeneous(spec: QuantSpec | None) -> bool:
    if spec is None:
        return True
    return all(np.unique(a).size == 1 for a in (spec.k, spec.i, spec.f))


def _scalar(spec: QuantSpec) -> QuantSpec:
    """The first element's parameters (all elements share them)."""
    k, i, f = (a.reshape(-1)[:1] for a in (spec.k, spec.i, spec.f))
    return QuantSpec(k, i, f, spec.round_mode, spec.overflow_mode)


def union_grid(spec: QuantSpec) -> tuple[int, int, int]:
    """`(frac, first, last)`: the finest grid of the live elements and the smallest and largest
    code any element (pruned ones: 0) takes on it."""
    live = spec.bits > 0
    if not live.any():
        return 0, 0, 0
    frac = int(spec.f[live].max())
    first, last = 0, 0
    for k, i, f in {(int(k), int(i), int(f)) for k, i, f in zip(spec.k[live], spec.i[live], spec.f[live])}:
        top = 2 ** (i + f)
        lo = -k * (top - 1) if spec.overflow_mode == "SAT_SYM" else -k * top
        first, last = min(first, lo << (frac - f)), max(last, (top - 1) << (frac - f))
    return frac, first, last


def _activation_values(call: LayerCall, codes: np.ndarray[Any, Any], frac: int) -> np.ndarray[Any, Any]:
    """The layer's float32 activation (its affine part included, `oq` not) on `codes·2^−frac`."""
    from keras import ops

    layer = call.layer
    x = ops.convert_to_tensor((codes * 2.0**-frac).astype(np.float32))
    if type(layer).__name__ == "QAffinedUnaryFunctionLUT":
        x = x * layer.scale + layer.bias
    return to_numpy(layer.activation(x)).astype(np.float32).reshape(-1)


def _layer_table(call: LayerCall, iq: QuantSpec) -> tuple[np.ndarray[Any, Any], int, int]:
    """`(values, frac, first)`: the layer's own output (`oq` included) on every code of its
    homogeneous input quantizer, every element of a row given the same code."""
    frac, first, last = code_range(iq)
    if int(iq.bits.reshape(-1)[0]) > MAX_TABLE_BITS:
        raise call.unsupported(f"the table input has more than {MAX_TABLE_BITS} bits")
    codes = np.arange(first, last + 1, dtype=np.float64)
    shape = call.in_shapes[0][1:]
    x = np.broadcast_to((codes * 2.0**-frac).astype(np.float32).reshape((-1,) + (1,) * len(shape)), (codes.size,) + shape)
    y = to_numpy(call.layer(np.ascontiguousarray(x), training=False)).astype(np.float32).reshape(codes.size, -1)
    if not (y == y[:, :1]).all():
        raise call.unsupported("the table's output differs between elements of equal input (heterogeneous table)")
    return y[:, 0].copy(), frac, first


def lower_unary_lut(g: GraphBuilder, call: LayerCall) -> list[str]:
    """`QUnaryFunctionLUT`, `QAffinedUnaryFunctionLUT`."""
    layer = call.layer
    rank = len(call.in_shapes[0])
    if not layer.enable_iq:
        raise call.unsupported("a table activation without an input quantizer (enable_iq=False) has no finite table")
    iq = _spec(call, layer.iq)
    if iq is None:
        raise call.unsupported("a table activation whose input quantizer passes values through has no finite table")
    oq = _spec(call, layer.oq) if layer.enable_oq else None
    x = quantize(g, call, call.inputs[0], rank, layer.iq, f"{call.name}/iq")
    if _homogeneous(iq) and _homogeneous(oq):
        values, frac, first = _layer_table(call, _scalar(iq))
        return [g.lookup(x, values, frac, first, f"{call.name}/table")]
    frac, first, last = union_grid(iq)
    if (last - first + 1).bit_length() > MAX_TABLE_BITS:
        raise call.unsupported(f"the table over its input's codes would have more than 2^{MAX_TABLE_BITS} entries")
    values = _activation_values(call, np.arange(first, last + 1, dtype=np.float64), frac)
    if not np.isfinite(values).all():
        raise call.unsupported("the activation is not finite on every input code")
    y = g.lookup(x, values, frac, first, f"{call.name}/table")
    if oq is not None:
        y = quantize(g, call, y, rank, layer.oq, f"{call.name}/oq")
    return [y]


__all__ = ["lower_unary_lut", "union_grid", "code_range"]
