"""`tachyon-export MODEL.keras MODEL.onnx [--cache DIR]` (also `python -m tachyon_export`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .cache import cache_key, lookup, store, use_xla_cache
from .errors import ExportError


def main(argv: list[str] | None = None) -> int:
    """Runs the CLI; returns the exit code (0 ok, 1 bad model, 2 unsupported layer, 3 missing deps)."""
    parser = argparse.ArgumentParser(
        prog="tachyon-export",
        description="Export an HGQ2 (Keras 3) model to ONNX with Tachyon's tachyon.fixed operators.",
    )
    parser.add_argument("model", help="the .keras file")
    parser.add_argument("output", help="the .onnx file to write")
    parser.add_argument(
        "--cache",
        metavar="DIR",
        help="reuse (and keep) exports in DIR, keyed by the model's bytes, the exporter and the package versions",
    )
    args = parser.parse_args(argv)
    key = None
    if args.cache and Path(args.model).is_file():
        key = cache_key(args.model)
        if lookup(Path(args.cache), key, args.output):
            print(f"wrote {args.output} (cached export {key[:12]})")
            return 0
    try:
        if args.cache:
            use_xla_cache(Path(args.cache))
        from .exporter import export_file

        proto = export_file(args.model, args.output)
    except ExportError as e:
        print(f"tachyon-export: error: {e}", file=sys.stderr)
        return e.exit_code
    if key is not None:
        store(Path(args.cache), key, args.output)
    n_fq = sum(1 for n in proto.graph.node if n.op_type == "FixedQuant")
    print(f"wrote {args.output}: {len(proto.graph.node)} nodes, {n_fq} FixedQuant")
    return 0


if __name__ == "__main__":
    sys.exit(main())
