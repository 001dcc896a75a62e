//! ReLU, step functions (thresholds) and table lookups.

use super::requant::{narrow, requant, saturate};
use crate::pipeline::{Builder, Val};
use tachyon_quantize::fixed::Overflow;
use tachyon_quantize::qir::{LookupSpec, Requant, Steps};
use tachyon_rtl::{CmpOp, Expr};

pub fn relu(b: &mut Builder, x: Val) -> Val {
    if x.lo >= 0 {
        return x;
    }
    if x.hi <= 0 {
        return b.constant(0);
    }
    let z = b.constant(0);
    // x < 0 is the sign bit: wiring.
    let top = x.width() - 1;
    let neg = b.op("neg", &[x], 0, 1, 0.0, |s| Expr::Slice { src: s[0], lo: top });
    let y = b.op("relu", &[neg, z, x], 0, x.hi, crate::delay::mux(), |s| Expr::Mux { sel: s[0], t: s[1], f: s[2] });
    if b.relu_to_requant {
        b.relus.insert(y.sig, (neg, x));
    }
    y
}

/// `requant(relu(x))` as `x < 0 ? requant(0) : requant(x)` when the ReLU's multiplexer is
/// `y` (and the requantization wraps): the multiplexer then selects among the requantized
/// bits, not the full-width ones (and a rounding constant already moved into the bias before,
/// `fold_rounding` in tachyon-quantize, the requantization is wiring). `None` when `y` is no
/// ReLU's output.
pub fn requant_after_relu(b: &mut Builder, y: Val, r: &Requant) -> Option<Val> {
    let &(neg, x) = b.relus.get(&y.sig)?;
    if r.overflow != Overflow::Wrap {
        return None;
    }
    let q = requant(b, x, r, r.lo, r.hi);
    let q0 = b.constant(tachyon_quantize::interp::requant(0, r));
    let (lo, hi) = (q.lo.min(q0.lo), q.hi.max(q0.hi));
    Some(b.op("relu", &[neg, q0, q], lo, hi, crate::delay::mux(), |s| Expr::Mux { sel: s[0], t: s[1], f: s[2] }))
}

/// `values[#{t ≤ x}]` as comparators and a mux chain, or as a table of `x`'s varying bits when
/// that takes fewer LUTs ([`steps_table`]).
pub fn steps(b: &mut Builder, x: Val, s: &Steps) -> Val {
    if let Some(y) = steps_table(b, x, s) {
        return y;
    }
    let mut y = b.constant(s.values[0]);
    let lo = *s.values.iter().min().unwrap_or(&0);
    let hi = *s.values.iter().max().unwrap_or(&0);
    for (k, &t) in s.thresholds.iter().enumerate() {
        if t <= x.lo {
            y = b.constant(s.values[k + 1]);
            continue;
        }
        if t > x.hi {
            break;
        }
        let tc = b.constant(t);
        let ge = b.op("ge", &[x, tc], 0, 1, crate::delay::compare(x.width()), |sg| Expr::Cmp(CmpOp::Ge, sg[0], sg[1]));
        let v = b.constant(s.values[k + 1]);
        y = b.op("step", &[ge, v, y], lo, hi, crate::delay::mux(), |sg| Expr::Mux { sel: sg[0], t: sg[1], f: sg[2] });
    }
    y
}

/// Largest table a step function becomes, in index bits.
const STEPS_TABLE_BITS: u32 = 10;

/// A step function as a table, when its thresholds inside `x`'s interval are all multiples of
/// some `2^s` (a table lookup composed with the layers after it has its index intervals as
/// thresholds: `tachyon_quantize::lower::fuse::compose_tables`), so that the value depends on
/// `v = x >> s` alone, and the table costs fewer LUTs than a comparator and a multiplexer per
/// threshold. The table is addressed by `v`'s varying bits when they are few, else by `v`
/// clamped to the thresholds' span. `None` otherwise.
fn steps_table(b: &mut Builder, x: Val, s: &Steps) -> Option<Val> {
    let inside: Vec<i128> = s.thresholds.iter().copied().filter(|&t| x.lo < t && t <= x.hi).collect();
    let (&first, &last) = (inside.first()?, inside.last()?);
    let shift = inside.iter().map(|t| t.trailing_zeros()).min()?.min(x.width());
    let (vlo, vhi) = (x.lo >> shift, x.hi >> shift);
    let value = |v: i128| tachyon_quantize::interp::steps(v.clamp(vlo, vhi) << shift, s);
    let k = 128 - (vlo ^ vhi).leading_zeros();
    let (offset, entries, clamp) = if k <= STEPS_TABLE_BITS {
        // The varying bits of `v` address the table: wiring.
        let base = (vlo >> k) << k;
        (base, (0..1i128 << k).map(|t| value(base + t)).collect::<Vec<_>>(), 0)
    } else {
        // `v` clamped to the span of the thresholds: the value below the first, then one
        // entry per step of `2^s` up to the last.
        let offset = (first >> shift) - 1;
        let len = (last >> shift) - offset + 1;
        if len > 1 << STEPS_TABLE_BITS {
            return None;
        }
        // A subtraction and a comparison at each end.
        (offset, (0..len).map(|u| value(offset + u)).collect(), 3 * u64::from(x.width()))
    };
    let index_bits = (entries.len() as u64).next_power_of_two().trailing_zeros();
    // LUTs as the estimate counts them: the table's per output bit, against a comparator and
    // a multiplexer per threshold.
    let width = |v: &[i128]| {
        let (lo, hi) = (v.iter().min().copied().unwrap_or(0), v.iter().max().copied().unwrap_or(0));
        tachyon_quantize::fixed::bits_for(lo, hi)
    };
    let table = u64::from(width(&entries)) * crate::report::table_luts_per_bit(index_bits) + clamp;
    let chain = inside.len() as u64 * u64::from(x.width().div_ceil(2) + width(&s.values).div_ceil(2));
    (table <= chain).then(|| table_at(b, x, shift, offset, &entries))
}

/// `entries[clamp((x >> shift) − offset, 0, len−1)]`.
pub fn lookup(b: &mut Builder, x: Val, t: &LookupSpec) -> Val {
    table_at(b, x, t.shift, t.offset, &t.entries)
}

/// Shared by lookups and softmax: index computation, clamping and the ROM.
pub fn table_at(b: &mut Builder, x: Val, shift: u32, offset: i128, entries: &[i128]) -> Val {
    let len = entries.len() as i128;
    let mut v = x;
    if shift > 0 {
        v = b.op("shr", &[v], v.lo >> shift, v.hi >> shift, 0.0, |s| Expr::Shr(s[0], shift));
    }
    // The low bits that vary over `v`'s range (all 128 when it spans zero).
    let k = 128 - (v.lo ^ v.hi).leading_zeros();
    let bits = (len as u64).next_power_of_two().trailing_zeros().max(1);
    if v.lo < v.hi && v.lo - offset >= 0 && v.hi - offset < len && k <= bits {
        // Every reachable index is inside the table: no clamp, and no subtraction of the
        // offset either. Those low bits address the entries `v` can reach (a softmax's
        // `m − x ≥ 0`, narrowed by `tachyon_quantize::relations`, reaches half its table).
        let base = (v.lo >> k) << k;
        let rom: Vec<i128> = (0..1i128 << k).map(|t| entries[(base + t - offset).clamp(0, len - 1) as usize]).collect();
        let (lo, hi) = (*rom.iter().min().unwrap_or(&0), *rom.iter().max().unwrap_or(&0));
        let idx = b.op("idx", &[v], 0, (1i128 << k) - 1, 0.0, |s| Expr::Slice { src: s[0], lo: 0 });
        return b.op("rom", &[idx], lo, hi, crate::delay::table(k), move |s| Expr::Table { index: s[0], entries: rom });
    }
    if offset != 0 {
        let k = b.constant(offset);
        let (lo, hi) = (v.lo - offset, v.hi - offset);
        v = b.op("idx", &[v, k], lo, hi, crate::delay::add(tachyon_quantize::fixed::bits_for(lo, hi)), |s| {
            Expr::Sub(s[0], s[1])
        });
    }
    let v = saturate(b, v, 0, len - 1);
    let idx = narrow(b, v, 0, (1i128 << bits) - 1);
    let idx =
        if idx.width() == bits { idx } else { b.op("idx", &[idx], 0, (1i128 << bits) - 1, 0.0, |s| Expr::Ext(s[0])) };
    let mut full: Vec<i128> = entries.to_vec();
    let last = *full.last().unwrap_or(&0);
    full.resize(1 << bits, last);
    let (lo, hi) = (*full.iter().min().unwrap_or(&0), *full.iter().max().unwrap_or(&0));
    b.op("rom", &[idx], lo, hi, crate::delay::table(bits), move |s| Expr::Table { index: s[0], entries: full })
}
