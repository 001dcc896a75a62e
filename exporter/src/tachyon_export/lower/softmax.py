"""`QSoftmax` (stable) with its exp and inverse lookup tables.

    FixedQuant(iq)? → ReduceMax(axes, keepdims=1) → Sub(max, s) → FixedQuant(exp iq)
      → Lookup(exp table) → ReduceSum(axes, keepdims=1) → FixedQuant(inv iq) → Lookup(inv table)
      → Mul(e, inv) → FixedQuant(oq)?

When the inverse table's input quantizer has no bits (k+i+f ≤ 0) its input is always 0 and
the normalisation is the constant `c = inv_table(0)`: `ReduceSum`, `FixedQuant(inv iq)` and
the `Lookup` are replaced by `Mul(e, c)` with `c` of shape [1]*rank.

Tables hold, for every code `n` of the table's input quantizer (`first ≤ n ≤ last`, the
quantizer's whole range), the table layer's own Keras float32 output on `n·2^−f`
(`oq(exp(−scale·x))`, `oq(1/(x + ε))`), so the ONNX model reproduces HGQ2 bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..onnx_graph import GraphBuilder
from ..quantizers import QuantizerNotExportable, QuantSpec, read_quantizer
from .common import LayerCall, quantize, to_numpy

#: Largest table input width (bits) the exporter tabulates.
MAX_TABLE_BITS = 20


def _scalar_spec(call: LayerCall, q: Any, what: str) -> QuantSpec:
    try:
        spec = read_quantizer(q)
    except QuantizerNotExportable as e:
        raise call.unsupported(str(e)) from e
    if spec is None or spec.k.size != 1:
        raise call.unsupported(f"{what} input quantizer must be one scalar fixed-point quantizer (heterogeneous tables are not supported)")
    return spec


def code_range(spec: QuantSpec) -> tuple[int, int, int]:
    """`(frac, first, last)`: the grid and the smallest and largest code of a scalar quantizer."""
    k, i, f = (int(a.reshape(-1)[0]) for a in (spec.k, spec.i, spec.f))
    if k + i + f <= 0:
        return 0, 0, 0
    top = 2 ** (i + f)
    lo = -k * (top - 1) if spec.overflow_mode == "SAT_SYM" else -k * top
    return f, lo, top - 1


def tabulate(call: LayerCall, table: Any, spec: QuantSpec, rank: int, what: str) -> tuple[np.ndarray[Any, Any], int, int]:
    """`(values, frac, first)`: `table` (a `QUnaryFunctionLUT`) evaluated by Keras on every code."""
    frac, first, last = code_range(spec)
    if int(spec.bits.reshape(-1)[0]) > MAX_TABLE_BITS:
        raise call.unsupported(f"{what} table input has more than {MAX_TABLE_BITS} bits")
    codes = np.arange(first, last + 1, dtype=np.float64)
    x = (codes * 2.0**-frac).astype(np.float32).reshape((-1,) + (1,) * (rank - 1))
    values = to_numpy(table(x, training=False)).astype(np.float32).reshape(-1)
    if values.shape[0] != codes.shape[0]:
        raise call.unsupported(f"{what} table output is not one value per input (heterogeneous table)")
    return values, frac, first


def lower_softmax_on(g: GraphBuilder, call: LayerCall, sm: Any, x: str, rank: int, base: str) -> str:
    """The `QSoftmax` layer `sm` applied to `x` (rank `rank`)."""
    if not sm.stable:
        raise call.unsupported("QSoftmax(stable=False) is not supported (its exp table has no input quantizer)")
    if sm.enable_iq:
        x = quantize(g, call, x, rank, sm.iq, f"{base}/iq")
    axes = [int(a) % rank for a in sm.axes]
    m = g.node("ReduceMax", [x], f"{base}/max", axes=axes, keepdims=1)
    d = g.node("Sub", [m, x], f"{base}/sub")

    exp_spec = _scalar_spec(call, sm.exp_table.iq, "exp table")
    d = g.fixed_quant(d, exp_spec.with_rank(rank), f"{base}/exp_iq")
    values, frac, first = tabulate(call, sm.exp_table, exp_spec, rank, "exp")
    e = g.lookup(d, values, frac, first, f"{base}/exp")

    inv_spec = _scalar_spec(call, sm.inv_table.iq, "inverse table")
    if int(inv_spec.bits.reshape(-1)[0]) <= 0:
        c, _, _ = tabulate(call, sm.inv_table, inv_spec, rank, "inverse")
        const = g.const(f"{base}.inv_const", c.reshape((1,) * rank))
        a = g.node("Mul", [e, const], f"{base}/mul")
    else:
        axes_t = g.const(f"{base}.axes", np.array(axes, dtype=np.int64), np.int64)
        s = g.node("ReduceSum", [e, axes_t], f"{base}/sum", keepdims=1)
        s = g.fixed_quant(s, inv_spec.with_rank(rank), f"{base}/inv_iq")
        values, frac, first = tabulate(call, sm.inv_table, inv_spec, rank, "inverse")
        inv = g.lookup(s, values, frac, first, f"{base}/inv")
        a = g.node("Mul", [e, inv], f"{base}/mul")
    if sm.enable_oq:
        a = quantize(g, call, a, rank, sm.oq, f"{base}/oq")
    return a


def lower_softmax(g: GraphBuilder, call: LayerCall) -> list[str]:
    """A stand-alone `QSoftmax` layer."""
    if call.kwargs:
        raise call.unsupported("masked softmax")
    return [lower_softmax_on(g, call, call.layer, call.inputs[0], len(call.in_shapes[0]), call.name)]
