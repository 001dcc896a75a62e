"""Acceptance: the five HGQ2 checkpoints export, and the ONNX graph evaluated by the reference
semantics equals the Keras outputs on all 2,000 vectors bit for bit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tachyon_export import semantics

from .conftest import models_dir

CHECKPOINTS = ["jsc_openml_530", "jsc_openml_13285", "jsc_plf_32x16_64425", "mha_8part", "linformer_8part"]


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_checkpoint_bit_exact(keras: Any, name: str) -> None:
    folder = models_dir()
    if folder is None or not (folder / f"{name}.keras").is_file():
        pytest.skip(f"skipped: checkpoint {name}.keras not found (set TACHYON_HGQ2_MODELS to shared/models/hgq2)")
    from tachyon_export.exporter import export_model, load_model

    proto = export_model(load_model(folder / f"{name}.keras"))
    x = np.load(folder / f"{name}.input.npy")
    want = np.load(folder / f"{name}.output.npy")
    got = semantics.run(proto, {proto.graph.input[0].name: x})["output"]
    assert got.shape == want.shape
    assert np.abs(got - want.astype(np.float64)).max() == 0.0
    domains = {(o.domain, o.version) for o in proto.opset_import}
    assert domains == {("", 17), ("tachyon.fixed", 1)}
