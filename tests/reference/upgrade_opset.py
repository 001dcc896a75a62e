"""Converts an ONNX model to another default-domain opset with ONNX's own version converter, so
a model of an opset onnxruntime no longer runs (< 7) can be run by the reference executor.

    python upgrade_opset.py IN.onnx OUT.onnx VERSION
"""

from __future__ import annotations

import sys

import onnx
from onnx import version_converter


def main(argv: list[str]) -> None:
    if len(argv) != 4:
        raise SystemExit(__doc__)
    # The converter's broadcast adapters read the operands' shapes.
    model = onnx.shape_inference.infer_shapes(onnx.load(argv[1]))
    onnx.save(version_converter.convert_version(model, int(argv[3])), argv[2])


if __name__ == "__main__":
    main(sys.argv)
