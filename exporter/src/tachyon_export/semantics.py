"""Reference evaluator of the ONNX graphs tachyon-export writes, in pure NumPy.

It computes exactly what docs/qonnx_extension.md specifies, so the exporter can be checked
against Keras without Tachyon:

* `FixedQuant` uses exact integer arithmetic (int64, or Python integers when a value needs
  more than 62 bits) on `v = x·2^f` (an exact power-of-two scaling of a float64);
* `Lookup` indexes its table by the exact code `x·2^frac`, refusing off-grid or out-of-table
  inputs;
* the linear ops (`MatMul`, `Einsum`, `Add`, `Sub`, `Mul`, `ReduceSum`) run in float64 when a
  bound on every partial result proves float64 exact (all values are dyadic), and otherwise
  in exact integers (object arrays); a result that float64 cannot hold is an error, never a
  rounded number.

The batch axis is free: feed `[N, …]` inputs to evaluate N samples at once (every parameter
tensor has a leading 1 and broadcasts).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import numpy_helper

Array = npt.NDArray[Any]

ROUND_MODES = ("TRN", "RND", "RND_CONV")
OVERFLOW_MODES = ("WRAP", "SAT", "SAT_SYM")
_SAFE = 2**62


class SemanticsError(ValueError):
    """An input the operator's semantics leave undefined (NaN, ∞ under WRAP, off-grid or
    out-of-table `Lookup` codes), or a result float64 cannot represent exactly."""


def _round(v: Array, mode: str) -> Array:
    """Integer-valued float64 `round_mode(v)`, computed without rounding error."""
    fl = np.floor(v)
    r = v - fl  # exact: v and floor(v) share their exponent range
    if mode == "TRN":
        return fl
    if mode == "RND":
        return fl + (r >= 0.5)
    if mode == "RND_CONV":
        odd = np.mod(fl, 2.0) == 1.0
        return np.asarray(fl + ((r > 0.5) | ((r == 0.5) & odd)))
    raise SemanticsError(f"unknown round_mode {mode!r}")


def fixed_quant(x: npt.ArrayLike, k: npt.ArrayLike, i: npt.ArrayLike, f: npt.ArrayLike,
                round_mode: str = "TRN", overflow_mode: str = "WRAP") -> Array:
    """`FixedQuant(X, K, I, F)` of docs/qonnx_extension.md, as float64 (exact)."""
    x64 = np.asarray(x, dtype=np.float64)
    k_, i_, f_ = (np.asarray(a).astype(np.int64) for a in (k, i, f))
    x64, k_, i_, f_ = np.broadcast_arrays(x64, k_, i_, f_)
    if overflow_mode not in OVERFLOW_MODES:
        raise SemanticsError(f"unknown overflow_mode {overflow_mode!r}")
    if np.isnan(x64).any():
        raise SemanticsError("FixedQuant of NaN")
    b = k_ + i_ + f_
    live = b > 0
    if not np.isin(k_, (0, 1)).all() or (np.abs(f_[live]) > 64).any() or (b > 64).any():
        raise SemanticsError("FixedQuant parameters outside k ∈ {0,1}, |f| ≤ 64, k+i+f ≤ 64")
    if overflow_mode == "WRAP" and np.isinf(x64[live]).any():
        raise SemanticsError("FixedQuant(WRAP) of an infinity")
    fl = np.where(live, f_, 0)
    v = np.ldexp(x64, fl)  # exact power-of-two scaling (barring float64 overflow)
    top_bits = np.where(live, i_ + f_, 0)  # log2 of 2^(i+f)
    if overflow_mode != "WRAP":  # saturating: clipping v far outside the range changes nothing
        lim = np.ldexp(1.0, top_bits + 1)
        v = np.clip(v, -lim, lim)
    n = _round(v, round_mode)
    if np.abs(n).max(initial=0.0) < _SAFE and top_bits.max(initial=0) <= 61:
        out = _overflow_int64(n.astype(np.int64), k_, top_bits, b, overflow_mode)
    else:
        out = _overflow_exact(n, k_, top_bits, b, overflow_mode)
    out = np.where(live, out, 0)
    if np.abs(out).max(initial=0) >= 2**53:
        raise SemanticsError("FixedQuant result wider than 53 bits: not exact in float64")
    return np.ldexp(out.astype(np.float64), -fl) * live


def _overflow_int64(n: Array, k: Array, top_bits: Array, b: Array, mode: str) -> Array:
    top = np.left_shift(np.int64(1), top_bits)  # 2^(i+f)
    if mode == "WRAP":
        width = np.left_shift(np.int64(1), np.clip(b, 0, 62))
        return np.asarray(np.mod(n + k * top, width) - k * top)
    lo = -k * (top - 1) if mode == "SAT_SYM" else -k * top
    return np.clip(n, lo, top - 1)


def _overflow_exact(n: Array, k: Array, top_bits: Array, b: Array, mode: str) -> Array:
    def one(nv: float, kv: int, tb: int, bv: int) -> int:
        if bv <= 0:
            return 0
        ni, top = int(nv), 1 << int(tb)
        if mode == "WRAP":
            return (ni + kv * top) % (1 << int(bv)) - kv * top
        lo = -kv * (top - 1) if mode == "SAT_SYM" else -kv * top
        return min(max(ni, lo), top - 1)

    return np.asarray(np.frompyfunc(one, 4, 1)(n, k, top_bits, b), dtype=object)


def lookup(x: npt.ArrayLike, values: npt.ArrayLike, frac: int, first: int) -> Array:
    """`Lookup(X, Values)`: `y = values[x·2^frac − first]`, refusing codes off the grid or table."""
    v = np.ldexp(np.asarray(x, dtype=np.float64), frac)
    table = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.array_equal(v, np.floor(v)):
        raise SemanticsError(f"Lookup input off the grid 2^-{frac}")
    idx = v - first
    if idx.size and (idx.min() < 0 or idx.max() >= table.size):
        raise SemanticsError(f"Lookup code outside the table [{first}, {first + table.size})")
    return table[idx.astype(np.int64)]


# --- exact linear arithmetic on dyadic float64 values ---------------------------------------

def frac_bits(a: Array) -> int:
    """Smallest `F ≥ 0` with `a·2^F` integral for every element (a must be finite)."""
    a = np.asarray(a, dtype=np.float64)
    nz = a[a != 0]
    if nz.size == 0:
        return 0
    if not np.isfinite(nz).all():
        raise SemanticsError("non-finite value in a linear op")
    m, e = np.frexp(np.abs(nz))  # |a| = m·2^e, m ∈ [0.5, 1)
    mi = np.ldexp(m, 53).astype(np.int64)  # 53-bit integer mantissa
    tz = np.log2((mi & -mi).astype(np.float64)).astype(np.int64)
    return max(0, int((53 - e - tz).max()))


def _to_int(a: Array, fb: int) -> Array:
    scaled = np.ldexp(np.asarray(a, dtype=np.float64), fb)
    return np.asarray(np.frompyfunc(int, 1, 1)(scaled), dtype=object)


def _from_int(n: Array, fb: int) -> Array:
    def one(v: int) -> float:
        fv = float(v)
        if int(fv) != v:
            raise SemanticsError("exact result not representable in float64")
        return math.ldexp(fv, -fb)

    return np.asarray(np.frompyfunc(one, 1, 1)(n), dtype=np.float64)


def exact(fn: Callable[..., Array], operands: list[Array], shared_grid: bool) -> Array:
    """`fn(*operands)` computed exactly: float64 when a bound proves it exact, else integers.

    `shared_grid`: operands are first put on one common grid (sums); otherwise each keeps
    its own and the result's grid is the sum of theirs (products, contractions).
    """
    ops = [np.asarray(a, dtype=np.float64) for a in operands]
    fbs = [frac_bits(a) for a in ops]
    total = max(fbs) if shared_grid else sum(fbs)
    bound = np.asarray(fn(*[np.abs(a) for a in ops]), dtype=np.float64)
    peak = float(bound.max(initial=0.0)) * (1 + 2**-40)
    if peak == 0.0 or math.log2(peak) + total < 52:
        return np.asarray(fn(*ops), dtype=np.float64)
    ints = [_to_int(a, total if shared_grid else fb) for a, fb in zip(ops, fbs)]
    return _from_int(np.asarray(fn(*ints)), total)


# --- graph evaluation ------------------------------------------------------------------------

def _attrs(node: onnx.NodeProto) -> dict[str, Any]:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _axes(node: onnx.NodeProto, env: Mapping[str, Array], attrs: Mapping[str, Any]) -> tuple[int, ...] | None:
    if len(node.input) > 1 and node.input[1]:
        return tuple(int(a) for a in env[node.input[1]].reshape(-1))
    if "axes" in attrs:
        return tuple(int(a) for a in attrs["axes"])
    return None


def _conv(x: Array, w: Array, attrs: Mapping[str, Any]) -> Array:
    """ONNX `Conv` (NC…, explicit pads, strides, dilations, group) as one einsum over patches;
    works on float64 and on exact-integer object arrays alike."""
    nd = w.ndim - 2
    k = list(w.shape[2:])
    s = list(attrs.get("strides", [1] * nd))
    d = list(attrs.get("dilations", [1] * nd))
    pads = list(attrs.get("pads", [0] * (2 * nd)))
    groups = int(attrs.get("group", 1))
    zero = np.zeros((), dtype=x.dtype)[()] if x.dtype != object else 0
    xp = np.pad(x, [(0, 0), (0, 0)] + [(pads[j], pads[j + nd]) for j in range(nd)], constant_values=zero)
    out = [(xp.shape[2 + j] - (k[j] - 1) * d[j] - 1) // s[j] + 1 for j in range(nd)]
    patches = np.empty(x.shape[:2] + tuple(out) + tuple(k), dtype=x.dtype)
    for offs in np.ndindex(*k):
        sl = tuple(slice(o * dd, o * dd + (n - 1) * ss + 1, ss) for o, dd, n, ss in zip(offs, d, out, s))
        patches[(..., *[slice(None)] * nd, *offs)] = xp[(slice(None), slice(None), *sl)]
    n, c = x.shape[:2]
    o = w.shape[0]
    pg = patches.reshape((n, groups, c // groups) + tuple(out) + tuple(k))
    wg = w.reshape((groups, o // groups, c // groups) + tuple(k))
    sp = "pqrs"[:nd]
    kk = "wxyz"[:nd]
    y = np.einsum(f"ngc{sp}{kk},goc{kk}->ngo{sp}", pg, wg)
    return np.asarray(y.reshape((n, o) + tuple(out)))


def _windows(x: Array, attrs: Mapping[str, Any], fill: float) -> Array:
    """The pooling windows of `x` (NC…): shape `(N, C, out…, k…)`, padding filled with `fill`."""
    k = list(attrs["kernel_shape"])
    nd = len(k)
    s = list(attrs.get("strides", [1] * nd))
    pads = list(attrs.get("pads", [0] * (2 * nd)))
    xp = np.pad(x, [(0, 0), (0, 0)] + [(pads[j], pads[j + nd]) for j in range(nd)], constant_values=fill)
    out = [(xp.shape[2 + j] - k[j]) // s[j] + 1 for j in range(nd)]
    win = np.empty(x.shape[:2] + tuple(out) + tuple(k), dtype=x.dtype)
    for offs in np.ndindex(*k):
        sl = tuple(slice(o, o + (n - 1) * ss + 1, ss) for o, n, ss in zip(offs, out, s))
        win[(..., *[slice(None)] * nd, *offs)] = xp[(slice(None), slice(None), *sl)]
    return win


def _pow2_mean(total: Array, count: int, what: str) -> Array:
    """`total / count` for a power-of-two `count` (exact in float64)."""
    if count <= 0 or count & (count - 1):
        raise SemanticsError(f"{what} over {count} elements: only power-of-two counts are exact")
    return np.asarray(total / float(count))


def _reduce_sum(x: Array, axes: tuple[int, ...] | None, keep: bool) -> Array:
    return np.asarray(np.sum(x, axis=axes, keepdims=keep))


def eval_node(node: onnx.NodeProto, env: Mapping[str, Array]) -> Array:
    """The output of one node given the values of its inputs in `env`."""
    a = _attrs(node)
    xs = [env[n] for n in node.input if n]
    op = node.op_type
    if node.domain == "tachyon.fixed":
        if op == "FixedQuant":
            return fixed_quant(xs[0], xs[1], xs[2], xs[3], _text(a.get("round_mode", "TRN")), _text(a.get("overflow_mode", "WRAP")))
        if op == "Lookup":
            return lookup(xs[0], xs[1], int(a["frac"]), int(a["first"]))
    elif node.domain in ("", "ai.onnx"):
        if op == "MatMul":
            return exact(np.matmul, xs, shared_grid=False)
        if op == "Einsum":
            eq = _text(a["equation"])
            return exact(lambda *t: np.einsum(eq, *t), xs, shared_grid=False)
        if op == "Conv":
            if len(xs) > 2:
                raise SemanticsError(f"node {node.name}: Conv with a bias input is not emitted by tachyon-export")
            return exact(lambda p, q: _conv(p, q, a), xs, shared_grid=False)
        if op == "Add":
            return exact(np.add, xs, shared_grid=True)
        if op == "Sub":
            return exact(lambda p, q: np.add(p, -q), xs, shared_grid=True)
        if op == "Mul":
            return exact(np.multiply, xs, shared_grid=False)
        if op == "ReduceSum":
            axes, keep = _axes(node, env, a), bool(a.get("keepdims", 1))
            return exact(lambda t: _reduce_sum(t, axes, keep), xs[:1], shared_grid=True)
        if op == "ReduceMax":
            return np.asarray(np.max(xs[0], axis=_axes(node, env, a), keepdims=bool(a.get("keepdims", 1))))
        if op == "ReduceMean":
            axes, keep = _axes(node, env, a), bool(a.get("keepdims", 1))
            count = int(np.prod([xs[0].shape[j] for j in (axes if axes is not None else range(xs[0].ndim))]))
            total = exact(lambda t: _reduce_sum(t, axes, keep), xs[:1], shared_grid=True)
            return _pow2_mean(total, count, f"node {node.name}: ReduceMean")
        if op == "MaxPool":
            w = _windows(xs[0], a, -np.inf)
            return np.asarray(w.max(axis=tuple(range(w.ndim - len(a["kernel_shape"]), w.ndim))))
        if op == "AveragePool":
            if any(a.get("pads", [])):
                raise SemanticsError(f"node {node.name}: AveragePool with padding is not emitted by tachyon-export")
            nk = len(a["kernel_shape"])
            w = _windows(xs[0], a, 0.0)
            total = exact(lambda t: np.sum(t, axis=tuple(range(t.ndim - nk, t.ndim))), [w], shared_grid=True)
            return _pow2_mean(total, int(np.prod(a["kernel_shape"])), f"node {node.name}: AveragePool")
        if op == "Max":
            return np.asarray(np.maximum(xs[0], xs[1]))
        if op == "Min":
            return np.asarray(np.minimum(xs[0], xs[1]))
        if op == "Relu":
            return np.maximum(xs[0], 0.0)
        if op == "Identity":
            return xs[0]
        if op == "Flatten":
            ax = int(a.get("axis", 1))
            return xs[0].reshape(int(np.prod(xs[0].shape[:ax])), -1)
        if op == "Reshape":
            shape = [xs[0].shape[j] if d == 0 else int(d) for j, d in enumerate(xs[1].reshape(-1))]
            return xs[0].reshape(shape)
        if op == "Transpose":
            return np.transpose(xs[0], a.get("perm"))
    raise SemanticsError(f"node {node.name}: operator {node.domain or 'ai.onnx'}::{op} is not in the reference semantics")


def run(model: onnx.ModelProto, inputs: Mapping[str, npt.ArrayLike]) -> dict[str, Array]:
    """Evaluates `model` on `inputs` (by graph input name); returns every graph output, float64."""
    env: dict[str, Array] = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    for inp in model.graph.input:
        if inp.name not in env:
            env[inp.name] = np.asarray(inputs[inp.name], dtype=np.float64)
    for node in model.graph.node:
        env[node.output[0]] = eval_node(node, env)
    return {o.name: env[o.name] for o in model.graph.output}
