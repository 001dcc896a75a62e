"""Walks a Keras (HGQ2) model graph in dependency order and lowers every layer call to ONNX.

Entry points: `export_model(model)` → `onnx.ModelProto`, `export_file(src, dst)`. Graph inputs
are the model's inputs with the batch axis as 1 (`[1, …]`), outputs are named `output`
(`output_0`, `output_1`, … for several).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import onnx

from . import __version__
from .deps import import_keras
from .errors import ExportError, UnsupportedLayerError
from .lower import LOWERINGS, SUPPORTED, LayerCall
from .onnx_graph import GraphBuilder

_TensorKey = tuple[int, int, int]


def _key(tensor: Any) -> _TensorKey:
    history = tensor._keras_history
    return (id(history.operation), int(history.node_index), int(history.tensor_index))


def _shape(tensor: Any) -> tuple[int, ...]:
    dims = tuple(tensor.shape)[1:]
    if any(d is None for d in dims):
        raise ExportError(f"tensor {tensor.name} has an unknown dimension {tuple(tensor.shape)}: only static shapes export")
    return (1,) + tuple(int(d) for d in dims)


def _clean(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.:/-]", "_", name)


def _functional(model: Any) -> Any:
    keras = import_keras()
    if isinstance(model, keras.Sequential):
        if getattr(model, "_functional", None) is None:
            raise ExportError(f"Sequential model {model.name} is not built (give it an Input)")
        return model._functional
    if not hasattr(model, "_nodes_by_depth"):
        raise ExportError(f"model {model.name} ({type(model).__name__}) is neither Functional nor Sequential")
    return model


def _check_supported(fn: Any) -> None:
    problems = []
    for op in fn.operations:
        cls = type(op).__name__
        if cls == "InputLayer":
            continue
        if cls not in LOWERINGS:
            problems.append((str(op.name), cls, ""))
        elif getattr(op, "compute_dtype", "float32") != "float32":
            problems.append((str(op.name), cls, f"computes in {op.compute_dtype}, only float32 exports"))
    if problems:
        raise UnsupportedLayerError(problems, SUPPORTED)


def export_model(model: Any) -> onnx.ModelProto:
    """The ONNX model (opset 17 + `tachyon.fixed` 1) computing what `model.predict` computes."""
    fn = _functional(model)
    _check_supported(fn)
    g = GraphBuilder(_clean(str(model.name)))
    names: dict[_TensorKey, str] = {}
    shapes: dict[_TensorKey, tuple[int, ...]] = {}
    for t in fn.inputs:
        names[_key(t)] = g.add_input(_clean(str(t._keras_history.operation.name)), _shape(t))
        shapes[_key(t)] = _shape(t)

    for depth in sorted(fn._nodes_by_depth, reverse=True):
        for node in fn._nodes_by_depth[depth]:
            op = node.operation
            if type(op).__name__ == "InputLayer":
                continue
            args = node.arguments
            positional = [t for a in args.args for t in (a if isinstance(a, (list, tuple)) else [a])]
            tensor_kwargs = {k: v for k, v in args.kwargs.items() if v is not None and hasattr(v, "_keras_history")}
            bad = [k for k, v in args.kwargs.items() if k not in tensor_kwargs and v not in (None, False)]
            tensors = [t for t in positional if hasattr(t, "_keras_history")]
            call = LayerCall(
                layer=op,
                inputs=[names[_key(t)] for t in tensors],
                in_shapes=[shapes[_key(t)] for t in tensors],
                out_shapes=[_shape(t) for t in node.outputs],
                kwargs={k: names[_key(v)] for k, v in tensor_kwargs.items()},
                supported=SUPPORTED,
            )
            if not all(hasattr(t, "_keras_history") for t in positional):
                bad.append("non-tensor positional arguments")
            if bad:
                raise call.unsupported(f"called with option(s) {', '.join(bad)}")
            outs = LOWERINGS[type(op).__name__](g, call)
            for t, name in zip(node.outputs, outs, strict=True):
                names[_key(t)] = name
                shapes[_key(t)] = _shape(t)

    outputs = list(fn.outputs)
    for j, t in enumerate(outputs):
        g.add_output(names[_key(t)], "output" if len(outputs) == 1 else f"output_{j}", _shape(t))
    return g.model(__version__)


def load_model(path: str | os.PathLike[str]) -> Any:
    """Loads a `.keras` file with HGQ2's layers registered (`compile=False`)."""
    keras = import_keras()
    if not Path(path).is_file():
        raise ExportError(f"no such model file: {path}")
    try:
        return keras.models.load_model(str(path), compile=False)
    except Exception as e:
        raise ExportError(f"Keras cannot load {path}: {type(e).__name__}: {e}") from e


def export_file(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> onnx.ModelProto:
    """Exports the `.keras` file `src` to the ONNX file `dst` (written atomically)."""
    proto = export_model(load_model(src))
    dst = Path(dst)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", dir=dst.parent if str(dst.parent) else ".")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(proto.SerializeToString())
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return proto
