"""benches/particles.py: how the 8-particle checkpoints are tiled into surrogates at N particles."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest


def particles_bench() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "benches" / "particles.py"
    spec = importlib.util.spec_from_file_location("particles_bench", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tiling_repeats_the_particles_in_order(keras: Any) -> None:
    bench = particles_bench()
    q = np.arange(6).reshape(1, 2, 3)  # a per-element quantizer parameter of 2 particles
    assert bench.tiled(q, (1, 4, 3)).tolist() == [[[0, 1, 2], [3, 4, 5], [0, 1, 2], [3, 4, 5]]]
    # The dense layer after a flatten: its rows are particle-major, so whole blocks repeat.
    w = np.arange(12).reshape(6, 2)
    assert (bench.tiled(w, (12, 2)) == np.concatenate([w, w])).all()
    with pytest.raises(ValueError, match="cannot tile"):
        bench.tiled(q, (1, 3, 3))


def test_weights_pair_up_by_layer_and_variable(keras: Any) -> None:
    bench = particles_bench()
    assert bench.stem("q_dense_40/q_dense_40_iq/fixed_point_quantizer_kif_24/f") == ("q_dense_40", "f")
    assert bench.stem("mha1/query/kernel") == ("mha1", "kernel")
