"""Reads an HGQ2 quantizer's per-element fixed-point parameters into a `QuantSpec`.

HGQ2 (0.2.0) keeps, per quantizer, arrays `k, i, f` (`FixedPointQuantizerKIF`) or `k, b, i`
(`FixedPointQuantizerKBI`, `f = b − i`), both exposed through the internal quantizer's `kif`
property (rounded to integers with `round_conv`). For activation quantizers the arrays already
carry the batch axis (a leading 1), for weight quantizers they have the weight's shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

#: HGQ2 round modes and the `FixedQuant` mode each is at inference (stochastic modes round
#: stochastically only while training).
ROUND_MODES = {"TRN": "TRN", "RND": "RND", "RND_CONV": "RND_CONV", "S_RND": "RND", "S_RND_CONV": "RND_CONV"}
OVERFLOW_MODES = ("WRAP", "SAT", "SAT_SYM")


class QuantizerNotExportable(Exception):
    """The quantizer has a feature `FixedQuant` cannot state; the caller names the layer."""


@dataclass(frozen=True)
class QuantSpec:
    """One quantizer: integer arrays `k, i, f` (same shape) and the modes of `FixedQuant`."""

    k: npt.NDArray[np.int64]
    i: npt.NDArray[np.int64]
    f: npt.NDArray[np.int64]
    round_mode: str
    overflow_mode: str

    @property
    def bits(self) -> npt.NDArray[np.int64]:
        """Per-element width `k + i + f` (≤ 0: pruned)."""
        return self.k + self.i + self.f

    def with_rank(self, rank: int) -> QuantSpec:
        """The same parameters with leading unit axes added (or removed) to reach `rank`."""
        k, i, f = self.k, self.i, self.f
        while k.ndim > rank and k.shape[0] == 1:
            k, i, f = k[0], i[0], f[0]
        shape = (1,) * (rank - k.ndim) + k.shape
        return QuantSpec(k.reshape(shape), i.reshape(shape), f.reshape(shape), self.round_mode, self.overflow_mode)


def _to_int(value: Any) -> npt.NDArray[np.int64]:
    arr = np.asarray(value, dtype=np.float64)
    out = np.rint(arr)
    if not np.array_equal(out, arr):
        raise QuantizerNotExportable("non-integer k/i/f parameters")
    return out.astype(np.int64)


def read_quantizer(q: Any) -> QuantSpec | None:
    """The `QuantSpec` of an HGQ2 `Quantizer` layer, or None for a pass-through (dummy) one."""
    inner = getattr(q, "quantizer", q)
    if getattr(inner, "__dummy__", False):
        return None
    for attr in ("scaler", "affine"):
        if getattr(q, attr, None) is not None:
            raise QuantizerNotExportable(f"quantizer {q.name} has a {attr}, which FixedQuant cannot express")
    if not hasattr(inner, "kif") or not hasattr(inner, "round_mode"):
        raise QuantizerNotExportable(f"quantizer {q.name} is a {type(inner).__name__}, not a fixed-point quantizer")
    round_mode = ROUND_MODES.get(str(inner.round_mode).upper())
    overflow_mode = str(inner.overflow_mode).upper()
    if round_mode is None:
        raise QuantizerNotExportable(f"quantizer {q.name}: round mode {inner.round_mode} (supported: {', '.join(ROUND_MODES)})")
    if overflow_mode not in OVERFLOW_MODES:
        raise QuantizerNotExportable(f"quantizer {q.name}: overflow mode {overflow_mode} (supported: {', '.join(OVERFLOW_MODES)})")
    k, i, f = (_to_int(t) for t in inner.kif)
    k, i, f = np.broadcast_arrays(k, i, f)
    if not np.isin(k, (0, 1)).all():
        raise QuantizerNotExportable(f"quantizer {q.name}: k outside {{0, 1}}")
    live = (k + i + f) > 0
    if (np.abs(f[live]) > 64).any() or ((k + i + f) > 64).any():
        raise QuantizerNotExportable(f"quantizer {q.name}: more than 64 bits (|f| ≤ 64, k+i+f ≤ 64 required)")
    # Pruned elements only need b ≤ 0; clamp their f so the |f| ≤ 64 constraint holds.
    f = np.where(live, f, np.clip(f, -64, 64))
    i = np.where(live, i, np.minimum(i, -f - k))
    return QuantSpec(k.copy(), i.copy(), f.copy(), round_mode, overflow_mode)
