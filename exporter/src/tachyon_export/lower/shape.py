"""Layers that only move data or apply a plain activation: `Flatten`, `Reshape`, `Permute`,
`Activation` (relu/linear), `ReLU`, `Dropout` (inference: identity), `InputLayer`.

    Flatten → Flatten(axis=1);  Reshape → Reshape(x, [0, d1, …]) (0 copies the batch axis);
    Permute → Transpose(perm=[0, p1, …]);  relu → Relu
"""

from __future__ import annotations

import numpy as np

from ..onnx_graph import GraphBuilder
from .common import LayerCall, activation


def lower_flatten(g: GraphBuilder, call: LayerCall) -> list[str]:
    """`Flatten` (channels_last): all axes but the batch into one."""
    if getattr(call.layer, "data_format", "channels_last") != "channels_last":
        raise call.unsupported("data_format channels_first")
    return [g.node("Flatten", [call.inputs[0]], call.name, axis=1)]


def lower_reshape(g: GraphBuilder, call: LayerCall) -> list[str]:
    """`Reshape` to Keras' resolved output shape."""
    target = np.array((0,) + tuple(call.out_shapes[0][1:]), dtype=np.int64)
    shape = g.const(f"{call.name}.shape", target, np.int64)
    return [g.node("Reshape", [call.inputs[0], shape], call.name)]


def lower_permute(g: GraphBuilder, call: LayerCall) -> list[str]:
    """`Permute(dims)` (1-based, batch excluded) → `Transpose([0, *dims])`."""
    perm = [0] + [int(d) for d in call.layer.dims]
    return [g.node("Transpose", [call.inputs[0]], call.name, perm=perm)]


def lower_activation(g: GraphBuilder, call: LayerCall) -> list[str]:
    """`Activation('relu' | 'linear')` and `ReLU()` with default arguments."""
    layer = call.layer
    if type(layer).__name__ == "ReLU":
        if layer.max_value is not None or float(layer.negative_slope) != 0.0 or float(layer.threshold) != 0.0:
            raise call.unsupported("ReLU with max_value, negative_slope or threshold")
        return [g.node("Relu", [call.inputs[0]], call.name)]
    return [activation(g, call, call.inputs[0], layer.activation, call.name)]


def lower_identity(g: GraphBuilder, call: LayerCall) -> list[str]:
    """Layers that are the identity at inference (`Dropout`)."""
    return [call.inputs[0]]
