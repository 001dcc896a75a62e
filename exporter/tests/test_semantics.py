"""Unit tests of the reference semantics (docs/qonnx_extension.md): FixedQuant in every round
and overflow mode at ties and wrap boundaries, pruned elements, Lookup, exact linear ops."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from tachyon_export.semantics import SemanticsError, exact, fixed_quant, frac_bits, lookup


def fq(x: list[float], k: int, i: int, f: int, rnd: str, ovf: str) -> list[float]:
    return [float(v) for v in fixed_quant(np.array(x), k, i, f, rnd, ovf)]


def naive(x: float, k: int, i: int, f: int, rnd: str, ovf: str) -> float:
    """The spec's formula in Python fractions, independent of the NumPy implementation."""
    if k + i + f <= 0:
        return 0.0
    v = Fraction(x) * Fraction(2) ** f
    fl = v.numerator // v.denominator
    r = v - fl
    n = {"TRN": fl, "RND": fl + (r >= Fraction(1, 2)), "RND_CONV": fl + (r > Fraction(1, 2) or (r == Fraction(1, 2) and fl % 2 == 1))}[rnd]
    top = 2 ** (i + f)
    if ovf == "WRAP":
        n = (n + k * top) % 2 ** (k + i + f) - k * top
    else:
        lo = -k * (top - 1) if ovf == "SAT_SYM" else -k * top
        n = min(max(n, lo), top - 1)
    return float(Fraction(n) / Fraction(2) ** f)


@pytest.mark.parametrize("rnd", ["TRN", "RND", "RND_CONV"])
def test_round_modes_match_the_formula_at_ties(rnd: str) -> None:
    # f = 2: every x is a tie (code ± 1/2) or on the grid; signed and unsigned, both signs
    x = [v / 8 for v in range(-21, 22)]
    for k in (0, 1):
        assert fq(x, k, 3, 2, rnd, "SAT") == [naive(v, k, 3, 2, rnd, "SAT") for v in x]


def test_rnd_tie_examples() -> None:
    # f = 0: 0.5 → 1 (RND), 0 (RND_CONV); -0.5 → 0 (RND), 0 (RND_CONV); 1.5 → 2 both; -1.5 → -1 RND, -2 RND_CONV
    assert fq([0.5, -0.5, 1.5, -1.5, 2.5], 1, 4, 0, "RND", "SAT") == [1.0, 0.0, 2.0, -1.0, 3.0]
    assert fq([0.5, -0.5, 1.5, -1.5, 2.5], 1, 4, 0, "RND_CONV", "SAT") == [0.0, 0.0, 2.0, -2.0, 2.0]
    assert fq([0.5, -0.5, 1.5, -1.5, 2.5], 1, 4, 0, "TRN", "SAT") == [0.0, -1.0, 1.0, -2.0, 2.0]


def test_wrap_boundaries() -> None:
    # k=1, i=2, f=1: codes [-8, 7], values [-4, 3.5]
    assert fq([3.5, 4.0, 4.5, -4.0, -4.5, 7.5, 8.0, -8.0], 1, 2, 1, "TRN", "WRAP") == [3.5, -4.0, -3.5, -4.0, 3.5, -0.5, 0.0, 0.0]
    # RND can carry a value over the top: 3.75 → code 8 → wraps to -8
    assert fq([3.75, 3.7], 1, 2, 1, "RND", "WRAP") == [-4.0, 3.5]
    # unsigned: k=0, i=2, f=0: [0, 3]
    assert fq([3.0, 4.0, -1.0, 5.0], 0, 2, 0, "TRN", "WRAP") == [3.0, 0.0, 3.0, 1.0]


def test_saturation() -> None:
    assert fq([100.0, -100.0, 3.5, -4.0], 1, 2, 1, "RND", "SAT") == [3.5, -4.0, 3.5, -4.0]
    assert fq([100.0, -100.0, -4.0, -3.5], 1, 2, 1, "RND", "SAT_SYM") == [3.5, -3.5, -3.5, -3.5]
    assert fq([-1.0, 2.0], 0, 1, 2, "RND", "SAT") == [0.0, 1.75]
    assert fq([float("inf"), float("-inf")], 1, 2, 1, "RND", "SAT") == [3.5, -4.0]
    with pytest.raises(SemanticsError):
        fixed_quant(np.array([float("inf")]), 1, 2, 1, "RND", "WRAP")
    with pytest.raises(SemanticsError):
        fixed_quant(np.array([float("nan")]), 1, 2, 1, "RND", "SAT")


def test_negative_i_and_f_and_pruned() -> None:
    # f = -2: grid 4; k=1, i=4: codes [-4, 3] → values [-16, 12]
    assert fq([5.9, 6.0, 13.0, 14.0, -18.0, -18.1], 1, 4, -2, "RND", "WRAP") == [4.0, 8.0, 12.0, -16.0, -16.0, 12.0]
    # i = -2, f = 4: k=0 → codes [0, 3], values {0, 1/16, 2/16, 3/16}
    assert fq([0.1, 0.3, 0.19], 0, -2, 4, "RND", "SAT") == [0.125, 0.1875, 0.1875]
    # pruned (k+i+f ≤ 0) is 0 whatever x, even out of range
    assert fq([123.0, -7.0], 1, -3, 2, "RND", "WRAP") == [0.0, 0.0]
    assert fq([123.0], 0, 0, 0, "RND", "SAT") == [0.0]


def test_per_element_broadcast_against_naive() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0, 8, (50, 3, 4)).astype(np.float32)
    x[:10] = np.round(x[:10] * 4) / 4 + 0.125  # many exact ties
    k = rng.integers(0, 2, (1, 3, 4))
    i = rng.integers(-3, 6, (1, 3, 4))
    f = rng.integers(-2, 6, (1, 1, 4))
    for rnd in ("TRN", "RND", "RND_CONV"):
        for ovf in ("WRAP", "SAT", "SAT_SYM"):
            got = fixed_quant(x, k, i, f, rnd, ovf)
            kk, ii, ff = np.broadcast_arrays(k, i, f)
            for idx in np.ndindex(x.shape):
                j = (0,) + idx[1:]
                assert got[idx] == naive(float(x[idx]), int(kk[j]), int(ii[j]), int(ff[j]), rnd, ovf), (rnd, ovf, idx)


def test_wide_values_use_exact_integers() -> None:
    # |x·2^f| ≥ 2^62 takes the Python-integer path; the wrap is still exact
    x = np.array([2.0**70 + 2.0**20 + 3.0, -(2.0**66) - 5.0])
    assert [float(v) for v in fixed_quant(x, 1, 10, 0, "TRN", "WRAP")] == [naive(float(v), 1, 10, 0, "TRN", "WRAP") for v in x]
    assert [float(v) for v in fixed_quant(x, 1, 10, 0, "RND", "SAT")] == [1023.0, -1024.0]


def test_lookup() -> None:
    table = np.array([10.0, 11.0, 12.0, 13.0])
    assert list(lookup(np.array([-0.5, 0.0, 0.25]), table, 2, -2)) == [10.0, 12.0, 13.0]
    with pytest.raises(SemanticsError):
        lookup(np.array([0.1]), table, 2, -2)  # off the grid
    with pytest.raises(SemanticsError):
        lookup(np.array([1.0]), table, 2, -2)  # code 4 outside [-2, 2)


def test_frac_bits_and_exact_linear_ops() -> None:
    assert frac_bits(np.array([0.0, 3.0, 0.375, -2.0**-30])) == 30
    assert frac_bits(np.array([2.0**40])) == 0
    # a contraction whose float64 result would round: 2^60 + 1 - 2^60
    a = np.array([[2.0**60, 1.0, -(2.0**60)]])
    w = np.array([[1.0], [1.0], [1.0]])
    assert exact(np.matmul, [a, w], shared_grid=False)[0, 0] == 1.0
    # tiny weights next to big activations (the jsc_plf kernels reach f = 68)
    a2 = np.array([[2.0**10, 2.0**10]])
    w2 = np.array([[2.0**-68], [-(2.0**-68)]])
    assert exact(np.matmul, [a2, w2], shared_grid=False)[0, 0] == 0.0
    with pytest.raises(SemanticsError):  # 2^70 + 2^-10 has no float64
        exact(np.add, [np.array([2.0**70]), np.array([2.0**-10])], shared_grid=True)
