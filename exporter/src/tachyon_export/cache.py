"""A content-addressed cache of exported models, so that building the same `.keras` file again
(another clock, another config, `tachyon sim` after `build`) does not start Keras and JAX again.

The key is the SHA-256 of the model file's bytes, the exporter's own source files and the
versions of the packages whose arithmetic the export depends on (hgq2, keras, jax, jaxlib,
numpy, onnx): a change to any of them is a different key. Computing it imports none of them.
Entries are written atomically; a cache that cannot be written is skipped silently.

The same folder keeps JAX's persistent compilation cache (`xla/`, see `use_xla_cache`): loading a
model runs each Keras operation eagerly, and JAX compiles every distinct operation with XLA
first, which is most of an export's time. Reusing those compilations makes the export of a
retrained model (same architecture, new weights) 3–4× faster; they are keyed by JAX itself
on the computation, the jaxlib version and the machine, and change no result.
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


def use_xla_cache(cache: Path) -> None:
    """Keeps JAX's XLA compilations in `cache/xla`, every one of them (the eager operations of a
    model load compile in milliseconds each, under JAX's default thresholds for keeping one).

    Set through JAX's environment variables, which it reads when imported: a process that has
    imported JAX already (a caller of `main`) keeps its own settings, as does a user who set
    them."""
    import sys

    if "jax" in sys.modules:
        return
    try:
        (cache / "xla").mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(cache / "xla"))
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")


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
