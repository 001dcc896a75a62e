"""Shared fixtures: Keras/HGQ2 (skipped when absent), quantizer setters."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest


@pytest.fixture(scope="session")
def keras() -> Any:
    """The keras module with HGQ2 registered, or a skip saying what to install."""
    from tachyon_export.deps import import_keras
    from tachyon_export.errors import MissingDependencyError

    try:
        return import_keras()
    except MissingDependencyError as e:
        pytest.skip(f"skipped: {e}")


def set_kif(q: Any, k: Any, i: Any, f: Any) -> None:
    """Sets an HGQ2 fixed-point quantizer's per-element k, i, f (broadcast to its shape)."""
    inner = q.quantizer
    shape = tuple(inner._k.shape)
    k, i, f = (np.broadcast_to(np.asarray(a, dtype=np.float32), shape) for a in (k, i, f))
    inner._k.assign(k.astype(np.uint8))
    inner._i.assign(i)
    if hasattr(inner, "_f"):
        inner._f.assign(f)
    else:  # KBI: b = i + f
        inner._b.assign(i + f)
