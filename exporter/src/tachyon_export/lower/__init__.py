"""Lowerings from HGQ2/Keras layers to ONNX, one module per layer family, and the registry
that maps a layer class to its lowering (`LOWERINGS`)."""

from __future__ import annotations

from .attention import lower_attention
from .common import LayerCall, Lowering
from .conv import lower_conv
from .dense import lower_dense
from .merge import lower_qadd, lower_qsum
from .shape import lower_activation, lower_flatten, lower_identity, lower_permute, lower_reshape
from .softmax import lower_softmax

#: Layer class name → lowering. Matched on the exact class, never a subclass: a subclass
#: may compute something else (QBatchNormDense is a QDense that folds a batch norm).
LOWERINGS: dict[str, Lowering] = {
    "QDense": lower_dense,
    "QBatchNormDense": lower_dense,
    "QEinsumDense": lower_dense,
    "QEinsumDenseBatchnorm": lower_dense,
    "QConv1D": lower_conv,
    "QConv2D": lower_conv,
    "QSum": lower_qsum,
    "QAdd": lower_qadd,
    "QSoftmax": lower_softmax,
    "QMultiHeadAttention": lower_attention,
    "QLinformerAttention": lower_attention,
    "Flatten": lower_flatten,
    "Reshape": lower_reshape,
    "Permute": lower_permute,
    "Activation": lower_activation,
    "ReLU": lower_activation,
    "Dropout": lower_identity,
}

SUPPORTED: tuple[str, ...] = tuple(sorted(LOWERINGS))

__all__ = ["LOWERINGS", "SUPPORTED", "LayerCall", "Lowering"]
