"""Runs an ONNX/QONNX model through an independent reference executor, for the Rust tests.

    python run_reference.py {qonnx|ort} MODEL.onnx INPUTS.npy OUTPUTS.npy

`qonnx` is qonnx's own executor (`execute_onnx`, which runs the custom Quant/BipolarQuant/Trunc
ops in NumPy and every standard op through onnxruntime node by node); `ort` is onnxruntime on
the whole graph (standard ONNX only: QDQ, QLinear*, float models). INPUTS.npy holds one row per
sample (the sample axis first, the model's own batch axis of 1 dropped or not, either works);
OUTPUTS.npy receives float32 outputs, one row per sample, flattened per sample.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import numpy as np


def _feed_shape(model_shape: list[int], row: np.ndarray[Any, Any]) -> tuple[int, ...]:
    """The shape one sample is fed with: the model's input shape with unknown dims as 1."""
    shape = tuple(d if d > 0 else 1 for d in model_shape)
    if int(np.prod(shape)) != row.size:
        raise SystemExit(f"input row of {row.size} values does not fit the model input shape {model_shape}")
    return shape


def run_qonnx(model_path: str, xs: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.transformation.infer_shapes import InferShapes

    model = ModelWrapper(model_path).transform(InferShapes())
    inp = model.graph.input[0].name
    out = model.graph.output[0].name
    shape = _feed_shape(list(model.get_tensor_shape(inp)), xs[0])
    rows = [np.asarray(execute_onnx(model, {inp: x.reshape(shape).astype(np.float32)})[out]).reshape(-1) for x in xs]
    return np.stack(rows).astype(np.float32)


def run_ort(model_path: str, xs: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model_path, opts, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    dims = [d if isinstance(d, int) else 1 for d in inp.shape]
    shape = _feed_shape(dims, xs[0])
    rows = [np.asarray(sess.run(None, {inp.name: x.reshape(shape).astype(np.float32)})[0]).reshape(-1) for x in xs]
    return np.stack(rows).astype(np.float32)


def main(argv: list[str]) -> None:
    if len(argv) != 5 or argv[1] not in ("qonnx", "ort"):
        raise SystemExit(__doc__)
    warnings.filterwarnings("ignore")
    xs = np.load(argv[3])
    xs = xs.reshape(xs.shape[0], -1)
    ys = run_qonnx(argv[2], xs) if argv[1] == "qonnx" else run_ort(argv[2], xs)
    np.save(argv[4], ys)


if __name__ == "__main__":
    main(sys.argv)
