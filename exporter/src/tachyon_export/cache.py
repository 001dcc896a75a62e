"""A content-addressed cache of exported models, so that building the same `.keras` file again
(another clock, another config, `tachyon sim` after `build`) does not start Keras and JAX again.

The key is the SHA-256 of the model file's bytes, the exporter's own source files and the
versions of the packages whose arithmetic the export depends on (hgq2, keras, jax, jaxlib,
numpy, onnx): a change to any of them is a different key. Computing it imports none of them.
Entries are written atomically; a cache that cannot be written is skipped silently.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

#: Distributions whose version is part of the key.
PACKAGES = ("hgq2", "keras", "jax", "jaxlib", "numpy", "onnx")


def cache_key(model: str | os.PathLike[str]) -> str:
    """The hex SHA-256 naming the export of `model` by this exporter and these packages."""
    h = hashlib.sha256()
    h.update(Path(model).read_bytes())
    here = Path(__file__).resolve().parent
    for src in sorted(here.rglob("*.py")):
        h.update(str(src.relative_to(here)).encode())
        h.update(src.read_bytes())
    for pkg in PACKAGES:
        try:
            version = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            version = "absent"
        h.update(f"{pkg}=={version}".encode())
    return h.hexdigest()


def lookup(cache: Path, key: str, dst: str | os.PathLike[str]) -> bool:
    """Copies the cached export `key` to `dst` if there is one."""
    entry = cache / f"{key}.onnx"
    if not entry.is_file():
        return False
    _atomic_copy(entry, Path(dst))
    return True


def store(cache: Path, key: str, src: str | os.PathLike[str]) -> None:
    """Keeps `src` as the export `key` (best effort)."""
    try:
        cache.mkdir(parents=True, exist_ok=True)
        _atomic_copy(Path(src), cache / f"{key}.onnx")
    except OSError:
        pass


def _atomic_copy(src: Path, dst: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", dir=dst.parent if str(dst.parent) else ".")
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
