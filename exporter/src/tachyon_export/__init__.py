"""tachyon-export: HGQ2 (Keras 3) models → ONNX with Tachyon's exact fixed-point operators
(`tachyon.fixed` `FixedQuant` and `Lookup`, docs/qonnx_extension.md).

`export_file(src, dst)` and `export_model(model)` live in `tachyon_export.exporter`; the
reference evaluator of the written graphs is `tachyon_export.semantics`. Importing this package
does not import Keras.
"""

__version__ = "0.1.0"
