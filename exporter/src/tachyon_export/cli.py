"""`tachyon-export MODEL.keras MODEL.onnx` (also `python -m tachyon_export`)."""

from __future__ import annotations

import argparse
import sys

from .errors import ExportError


def main(argv: list[str] | None = None) -> int:
    """Runs the CLI; returns the exit code (0 ok, 1 bad model, 2 unsupported layer, 3 missing deps)."""
    parser = argparse.ArgumentParser(
        prog="tachyon-export",
        description="Export an HGQ2 (Keras 3) model to ONNX with Tachyon's tachyon.fixed operators.",
    )
    parser.add_argument("model", help="the .keras file")
    parser.add_argument("output", help="the .onnx file to write")
    args = parser.parse_args(argv)
    try:
        from .exporter import export_file

        proto = export_file(args.model, args.output)
    except ExportError as e:
        print(f"tachyon-export: error: {e}", file=sys.stderr)
        return e.exit_code
    n_fq = sum(1 for n in proto.graph.node if n.op_type == "FixedQuant")
    print(f"wrote {args.output}: {len(proto.graph.node)} nodes, {n_fq} FixedQuant")
    return 0


if __name__ == "__main__":
    sys.exit(main())
