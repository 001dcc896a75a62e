"""Lowerings from HGQ2/Keras layers to ONNX, one module per layer family, and the registry
that maps a layer class to its lowering (`LOWERINGS`)."""

from __future__ import annotations

from .attention import lower_attention
from .common import LayerCall, Lowering
from .conv import lower_conv
from .dense import lower_batchnorm, lower_dense
from .merge import lower_einsum, lower_merge, lower_qsum
from .pooling import lower_global_pool, lower_pool
from .shape import lower_activation, lower_flatten, lower_identity, lower_permute, lower_reshape
from .softmax import lower_softmax
from .table import lower_unary_lut

#: Layer class name → lowering. Matched on the exact class, never a subclass: a subclass
#: may compute something else (QBatchNormDense is a QDense that folds a batch norm).
LOWERINGS: dict[str, Lowering] = {
    "QDense": lower_dense,
    "QBatchNormDense": lower_dense,
    "QEinsumDense": lower_dense,
    "QEinsumDenseBatchnorm": lower_dense,
    "QConv1D": lower_conv,
    "QConv2D": lower_conv,
    "QBatchNormalization": lower_batchnorm,
    "QEinsum": lower_einsum,
    "QSum": lower_qsum,
    "QMeanPow2": lower_qsum,
    "QAdd": lower_merge,
    "QAveragePow2": lower_merge,
    "QSubtract": lower_merge,
    "QMultiply": lower_merge,
    "QMaximum": lower_merge,
    "QMinimum": lower_merge,
    "QMaxPooling1D": lower_pool,
    "QMaxPooling2D": lower_pool,
    "QAveragePooling1D": lower_pool,
    "QAveragePooling2D": lower_pool,
    "QGlobalMaxPooling1D": lower_global_pool,
    "QGlobalMaxPooling2D": lower_global_pool,
    "QGlobalAveragePooling1D": lower_global_pool,
    "QGlobalAveragePooling2D": lower_global_pool,
    "QSoftmax": lower_softmax,
    "QUnaryFunctionLUT": lower_unary_lut,
    "QAffinedUnaryFunctionLUT": lower_unary_lut,
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
