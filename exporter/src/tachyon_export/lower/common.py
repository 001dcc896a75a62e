"""What every lowering shares: the `LayerCall` it receives and helpers for quantizers,
activations, einsum/matmul and biases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import UnsupportedLayerError
from ..onnx_graph import GraphBuilder
from ..quantizers import QuantizerNotExportable, read_quantizer


@dataclass
class LayerCall:
    """One call of a Keras layer in the model graph, its inputs already in the ONNX graph.

    `inputs` are ONNX tensor names in call order (a list argument, as for `QAdd`, is
    flattened), `kwargs` the keyword tensor arguments, shapes carry the batch axis as 1.
    """

    layer: Any
    inputs: list[str]
    in_shapes: list[tuple[int, ...]]
    out_shapes: list[tuple[int, ...]]
    kwargs: dict[str, str] = field(default_factory=dict)
    supported: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return str(self.layer.name)

    def unsupported(self, detail: str) -> UnsupportedLayerError:
        """The error for a configuration of this layer that cannot be exported."""
        return UnsupportedLayerError([(self.name, type(self.layer).__name__, detail)], self.supported)


#: A lowering writes the layer's nodes and returns its output tensor names.
Lowering = Callable[[GraphBuilder, LayerCall], list[str]]


def quantize(g: GraphBuilder, call: LayerCall, x: str, rank: int, q: Any, base: str) -> str:
    """Applies HGQ2 quantizer `q` (a `Quantizer` layer) to `x` of rank `rank` as `FixedQuant`."""
    try:
        spec = read_quantizer(q)
    except QuantizerNotExportable as e:
        raise call.unsupported(str(e)) from e
    if spec is None:
        return x
    if spec.k.ndim > rank and any(s != 1 for s in spec.k.shape[: spec.k.ndim - rank]):
        raise call.unsupported(f"quantizer {q.name} has parameters of shape {spec.k.shape} for a rank-{rank} tensor")
    return g.fixed_quant(x, spec.with_rank(rank), base)


def activation(g: GraphBuilder, call: LayerCall, x: str, fn: Any, base: str) -> str:
    """`relu` → `Relu`; `linear`/None → nothing; anything else is refused."""
    name = getattr(fn, "__name__", str(fn)) if fn is not None else "linear"
    if name == "linear":
        return x
    if name == "relu":
        return g.node("Relu", [x], base)
    raise call.unsupported(f"activation '{name}' (supported: relu, linear)")


def parse_einsum(equation: str) -> tuple[str, str, str]:
    """Splits `in,kernel->out`."""
    lhs, out = equation.split("->")
    a, b = lhs.split(",")
    return a, b, out


def is_plain_dense(equation: str) -> bool:
    """True for `…c,cd->…d`: contraction over the input's last axis with a 2-D kernel, which
    is exactly `MatMul(x, W)`."""
    if "." in equation:
        return False
    a, b, out = parse_einsum(equation)
    return (
        len(b) == 2
        and len(set(a)) == len(a)
        and a[-1] == b[0]
        and b[1] not in a
        and out == a[:-1] + b[1]
    )


def contract(g: GraphBuilder, x: str, equation: str, kernel: np.ndarray[Any, Any], base: str) -> str:
    """`x` contracted with the constant `kernel`: `MatMul` for a plain dense, else `Einsum`."""
    w = g.const(f"{base}.kernel", kernel)
    if is_plain_dense(equation):
        return g.node("MatMul", [x, w], f"{base}/matmul")
    return g.node("Einsum", [x, w], f"{base}/einsum", equation=equation)


def add_bias(g: GraphBuilder, x: str, bias: np.ndarray[Any, Any] | None, out_rank: int, base: str) -> str:
    """`x + bias`, the bias given `x`'s rank (leading unit axes) so it broadcasts as in Keras."""
    if bias is None:
        return x
    b = np.asarray(bias, dtype=np.float32)
    b = b.reshape((1,) * (out_rank - b.ndim) + b.shape)
    return g.node("Add", [x, g.const(f"{base}.bias", b)], f"{base}/bias")


def to_numpy(t: Any) -> np.ndarray[Any, Any]:
    """A Keras tensor or variable as a NumPy array."""
    from keras import ops

    return np.asarray(ops.convert_to_numpy(t))
