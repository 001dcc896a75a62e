"""Errors a user of tachyon-export can meet, each with what to do about it.

Every error is an `ExportError`; the CLI prints its message and exits with its `exit_code`.
Internal bugs are plain exceptions (assertions) and are not caught by the CLI.
"""

from __future__ import annotations

from collections.abc import Iterable


class ExportError(Exception):
    """A model or environment tachyon-export cannot handle; the message says why and what to do."""

    exit_code: int = 1


class MissingDependencyError(ExportError):
    """hgq2, keras or jax cannot be imported."""

    exit_code = 3

    def __init__(self, module: str, cause: BaseException) -> None:
        super().__init__(
            f"cannot import {module} ({type(cause).__name__}: {cause}). tachyon-export needs HGQ2 and "
            "Keras 3 on JAX: run scripts/python-env.sh (creates .venv with the pinned versions), or "
            "`pip install hgq2==0.2.0 keras==3.15.1 jax==0.10.2`"
        )


class UnsupportedLayerError(ExportError):
    """Layers (or configurations of supported layers) that the exporter does not lower.

    `problems` lists `(layer name, class name, detail)`; an empty detail means the class itself
    is not supported. All problems of a model are reported together.
    """

    exit_code = 2

    def __init__(self, problems: list[tuple[str, str, str]], supported: Iterable[str]) -> None:
        lines = [
            f"layer '{name}' ({cls}): {detail}" if detail else f"layer '{name}' of class {cls} is not supported"
            for name, cls, detail in problems
        ]
        super().__init__(
            "; ".join(lines) + f". Nothing was written. Supported layer classes: {', '.join(sorted(supported))}"
        )
        self.problems = problems
