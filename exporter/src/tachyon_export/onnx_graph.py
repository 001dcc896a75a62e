"""`GraphBuilder`: collects ONNX nodes and initializers with unique, layer-derived names.

Every node is named `<keras layer>/<part>` so that Tachyon's diagnostics and Verilog comments
point back at the Keras layer. Output is deterministic: the same model gives the same bytes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from .quantizers import QuantSpec

#: The ONNX domain of Tachyon's operators (docs/qonnx_extension.md).
FIXED_DOMAIN = "tachyon.fixed"
FIXED_DOMAIN_VERSION = 1
#: Opset of the default ONNX domain.
OPSET = 17


class GraphBuilder:
    """Accumulates one ONNX graph; `model()` wraps it into a `ModelProto`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self._used: set[str] = set()

    def fresh(self, base: str) -> str:
        """A tensor or node name not used before, `base` itself when free."""
        name, n = base, 1
        while name in self._used:
            name = f"{base}_{n}"
            n += 1
        self._used.add(name)
        return name

    def const(self, base: str, value: npt.ArrayLike, dtype: type[np.generic] = np.float32) -> str:
        """Adds an initializer holding `value` cast to `dtype`; returns its name."""
        name = self.fresh(base)
        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def node(self, op: str, inputs: list[str], base: str, domain: str = "", **attrs: Any) -> str:
        """Adds node `op` named `base` (made unique) with one output of the same name."""
        name = self.fresh(base)
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, domain=domain, **attrs))
        return name

    def fixed_quant(self, x: str, q: QuantSpec, base: str) -> str:
        """`FixedQuant(x, K, I, F)` with `q`'s per-element parameters (already of `x`'s rank)."""
        k = self.const(f"{base}.k", q.k, np.int32)
        i = self.const(f"{base}.i", q.i, np.int32)
        f = self.const(f"{base}.f", q.f, np.int32)
        return self.node(
            "FixedQuant",
            [x, k, i, f],
            base,
            domain=FIXED_DOMAIN,
            round_mode=q.round_mode,
            overflow_mode=q.overflow_mode,
        )

    def lookup(self, x: str, values: npt.NDArray[np.float32], frac: int, first: int, base: str) -> str:
        """`Lookup(x, values)`: `y = values[x·2^frac − first]`."""
        table = self.const(f"{base}.values", values.reshape(-1))
        return self.node("Lookup", [x, table], base, domain=FIXED_DOMAIN, frac=frac, first=first)

    def add_input(self, name: str, shape: tuple[int, ...]) -> str:
        """Declares a float32 graph input."""
        self._used.add(name)
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape)))
        return name

    def add_output(self, tensor: str, name: str, shape: tuple[int, ...]) -> None:
        """Declares `tensor` a graph output called `name` (an Identity when the names differ)."""
        if tensor != name:
            self._used.add(name)
            self.nodes.append(helper.make_node("Identity", [tensor], [name], name=name))
        self.outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape)))

    def model(self, producer_version: str) -> onnx.ModelProto:
        """The finished model: opset 17 plus `tachyon.fixed` version 1."""
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, self.initializers)
        model = helper.make_model(
            graph,
            opset_imports=[
                helper.make_opsetid("", OPSET),
                helper.make_opsetid(FIXED_DOMAIN, FIXED_DOMAIN_VERSION),
            ],
            producer_name="tachyon-export",
            producer_version=producer_version,
        )
        model.ir_version = 8
        return model
