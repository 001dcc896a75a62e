"""Imports Keras 3 (JAX backend) and HGQ2, turning a failed import into a `MissingDependencyError`."""

from __future__ import annotations

import os
from types import ModuleType

from .errors import MissingDependencyError


def import_keras() -> ModuleType:
    """Returns the `keras` module with HGQ2's layers registered (KERAS_BACKEND=jax unless set)."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    for module in ("jax", "keras", "hgq"):
        try:
            __import__(module)
        except Exception as e:  # an ImportError, or a broken install raising anything
            raise MissingDependencyError("hgq2" if module == "hgq" else module, e) from e
    import keras

    keras_module: ModuleType = keras
    return keras_module
