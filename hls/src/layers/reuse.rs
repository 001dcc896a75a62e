//! Linear layers with a reuse factor R > 1: every multiplier (a DSP48E2) is time-multiplexed
//! over R cycles, so a layer of N products needs about N / R of them, and the design accepts a
//! new input every R cycles (II = R) instead of every cycle.
//!
//! The inputs are dealt into S = ⌈N_in / R⌉ *slots*, one input per slot and phase, in one of two
//! [`Layout`]s: *strided* (slot k serves inputs k, k + S, k + 2S, …) or *contiguous* (slot k
//! serves inputs kR, kR + 1, …). Each output needs one lane per slot that holds one of its
//! inputs, so the layout with fewer lanes wins: strided for dense rows, contiguous for block
//! rows such as a per-token layer of a transformer or deep set, where each output reads one
//! token's features and one lane serves a whole row. When a token's inputs arrive (the layer's `valid` flag at its input stage),
//! they are latched into hold registers and a phase counter restarts at 0. In phase p:
//!
//! * A — each slot selects its p-th input from the hold registers (a multiplexer tree on the
//!   counter bits, shared by every output), and each *lane* — one per output and slot with a
//!   non-zero coefficient — reads its p-th coefficient from a ROM indexed by the counter;
//!   registered;
//! * B — each lane multiplies, registered;
//! * C — each lane adds the product to its accumulator (the first phase loads it instead).
//!
//! So the lane sums are complete R + 3 cycles after the token arrived, and stay there for the
//! one cycle at which the pipeline reads them (the next token, at least R cycles later,
//! overwrites them only after that). The lanes of a row, constants and the bias are then summed
//! by the usual arrival-ordered adder tree. Hold registers, counter and accumulators are state
//! registers ([`tachyon_rtl::RegRole::State`]); the accumulators are read at stage input + R + 3.

use super::linear::sum_values;
use super::phases;
use crate::delay;
use crate::pipeline::{Builder, Val};
use tachyon_quantize::fixed::bits_for;
use tachyon_rtl::{CmpOp, Expr, SignalId};

/// Pipeline registers between a token's arrival and its complete lane sums, beyond R.
const LANE_LATENCY: u32 = 3;

/// How the inputs of a reused layer are dealt into slots and phases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub reuse: u32,
    pub slots: usize,
    /// Slot k serves inputs kR, kR + 1, … (else k, k + S, k + 2S, …).
    pub contiguous: bool,
}

impl Layout {
    /// The input slot `k` serves in phase `p`, if any.
    fn input(&self, k: usize, p: usize, n_in: usize) -> Option<usize> {
        let r = self.reuse as usize;
        let j = if self.contiguous { k * r + p } else { k + p * self.slots };
        (p < r && j < n_in).then_some(j)
    }

    /// The slot that serves input `j`.
    fn slot(&self, j: usize) -> usize {
        if self.contiguous {
            j / self.reuse as usize
        } else {
            j % self.slots
        }
    }
}

/// Inputs that take a multiplier: they vary and some row weighs them.
fn varying(xs: &[Val], rows: &[Vec<(u32, i128)>]) -> Vec<bool> {
    let mut used = vec![false; xs.len()];
    for &(j, c) in rows.iter().flatten() {
        if c != 0 && xs[j as usize].lo != xs[j as usize].hi {
            used[j as usize] = true;
        }
    }
    used
}

/// The layout with the fewest lanes for `bias + rows · xs` at reuse `reuse`, or `None` when
/// time-multiplexing would not save multipliers: every coefficient is a power of two (shifts,
/// for which an adder tree is cheaper than multiplexers and accumulators), or no lane would
/// serve more than one product.
pub fn layout(xs: &[Val], rows: &[Vec<(u32, i128)>], reuse: u32) -> Option<Layout> {
    let used = varying(xs, rows);
    let products: Vec<Vec<usize>> = rows
        .iter()
        .map(|row| {
            let mut js: Vec<usize> =
                row.iter().filter(|&&(j, c)| c != 0 && used[j as usize]).map(|&(j, _)| j as usize).collect();
            js.sort_unstable();
            js.dedup();
            js
        })
        .collect();
    let multiplies = rows.iter().flatten().any(|&(j, c)| used[j as usize] && c.unsigned_abs().count_ones() > 1);
    if !multiplies {
        return None;
    }
    let slots = xs.len().div_ceil(reuse as usize);
    let lanes = |l: &Layout| -> usize {
        products
            .iter()
            .map(|js| {
                let mut ks: Vec<usize> = js.iter().map(|&j| l.slot(j)).collect();
                ks.dedup();
                ks.sort_unstable();
                ks.dedup();
                ks.len()
            })
            .sum()
    };
    let strided = Layout { reuse, slots, contiguous: false };
    let contiguous = Layout { reuse, slots, contiguous: true };
    let (n_strided, n_contiguous) = (lanes(&strided), lanes(&contiguous));
    let (best, n) = if n_contiguous < n_strided { (contiguous, n_contiguous) } else { (strided, n_strided) };
    let n_products: usize = products.iter().map(Vec::len).sum();
    (n < n_products).then_some(best)
}

/// The outputs of `bias_i + Σ c·x[j]` with each multiplier reused `reuse` times.
pub fn lower_linear_reuse(
    b: &mut Builder,
    xs: &[Val],
    rows: &[Vec<(u32, i128)>],
    bias: &[i128],
    layout: &Layout,
) -> Vec<Val> {
    let reuse = layout.reuse;
    let xs = b.register_all(xs);
    let Some(s0) = xs.iter().filter_map(|v| v.stage).max() else {
        // Nothing depends on the input (values derived from constants only): no schedule to
        // share; the parallel lowering wires them.
        return super::linear::lower_linear(b, &xs, rows, bias, tachyon_quantize::config::Strategy::Auto);
    };
    let origin = Some(b.origin.clone()).filter(|o| !o.is_empty());
    let origin = origin.as_deref();
    let prefix = b.prefix.clone();
    let start = b.valid_at(s0);

    // Hold registers for every input that is not a known constant. (A value with no pipeline
    // stage is derived from constants only, but it is one number only when its interval is.)
    let mut held: Vec<Option<SignalId>> = vec![None; xs.len()];
    for (j, (x, used)) in xs.iter().zip(varying(&xs, rows)).enumerate() {
        if used {
            held[j] = Some(phases::hold(b, &format!("{prefix}_hold{j}"), *x, start, origin));
        }
    }
    let ph = phases::phases(b, &prefix, reuse, start, origin);
    let (cnt, cbits) = (ph.cnt, ph.bits.len() as u32);
    let first_a = b.m.reg(&format!("{prefix}_first_a"), ph.first, None, origin);
    let first_b = b.m.reg(&format!("{prefix}_first_b"), first_a, None, origin);

    let read_stage = s0 + reuse + LANE_LATENCY;
    let mut worst_ps = 0u32;
    let ps = |ns: f64| (ns * 1000.0).round() as u32;
    let n_in = xs.len();
    let slots = layout.slots;
    let span = ph.span;
    // The input of slot k in phase p (None: no input, or one that does not vary).
    let input_of = |k: usize, p: usize| -> Option<usize> { layout.input(k, p, n_in).filter(|&j| held[j].is_some()) };
    // A: one operand multiplexer per slot, shared by all outputs.
    let mut operands: Vec<Option<(SignalId, i128, i128)>> = vec![];
    for k in 0..slots {
        let ins: Vec<usize> = (0..span).filter_map(|p| input_of(k, p)).collect();
        if ins.is_empty() {
            operands.push(None);
            continue;
        }
        let lo = ins.iter().map(|&j| xs[j].lo).min().unwrap_or(0);
        let hi = ins.iter().map(|&j| xs[j].hi).max().unwrap_or(0);
        let (ow, osg) = (bits_for(lo, hi), lo < 0);
        let name = |what: &str| format!("{prefix}_s{k}_{what}");
        let inputs: Vec<SignalId> =
            (0..span).map(|p| held[input_of(k, p).unwrap_or(ins[0])].expect("held input")).collect();
        let (sel, levels) = phases::by_phase(b, &name("op"), &inputs, &ph, ow, osg, origin);
        let op_a = b.m.reg(&name("op_a"), sel, None, origin);
        worst_ps = worst_ps.max(ps(levels as f64 * delay::LUT_LEVEL_NS));
        operands.push(Some((op_a, lo, hi)));
    }
    let mut outs = vec![];
    for (i, (row, &bb)) in rows.iter().zip(bias).enumerate() {
        let mut constant = bb;
        let mut coef_of = vec![0i128; n_in];
        for &(j, c) in row {
            if held[j as usize].is_some() {
                coef_of[j as usize] += c;
            } else {
                constant += c * xs[j as usize].lo;
            }
        }
        let mut lanes = vec![];
        for (k, operand) in operands.iter().enumerate() {
            let Some((op_a, lo, hi)) = *operand else { continue };
            let coefs: Vec<i128> = (0..span).map(|p| input_of(k, p).map_or(0, |j| coef_of[j])).collect();
            if coefs.iter().all(|&c| c == 0) {
                continue;
            }
            let name = |what: &str| format!("{prefix}_r{i}s{k}_{what}");
            let (clo, chi) = (*coefs.iter().min().unwrap_or(&0), *coefs.iter().max().unwrap_or(&0));
            let (cw, csg) = (bits_for(clo, chi), clo < 0);
            let coef = b.m.wire(&name("coef"), cw, csg, origin, Expr::Table { index: cnt, entries: coefs.clone() });
            let coef_a = b.m.reg(&name("coef_a"), coef, None, origin);
            if let delay::Delay::Logic(ns) = delay::table(cbits) {
                worst_ps = worst_ps.max(ps(ns));
            }
            // B: the product.
            let ranges: Vec<(i128, i128)> = (0..reuse as usize)
                .map(|p| match input_of(k, p) {
                    Some(j) => {
                        let c = coef_of[j];
                        ((c * xs[j].lo).min(c * xs[j].hi), (c * xs[j].lo).max(c * xs[j].hi))
                    }
                    None => (0, 0),
                })
                .collect();
            let plo =
                ranges.iter().map(|r| r.0).min().unwrap_or(0).min((clo * lo).min(chi * hi).min(clo * hi).min(chi * lo));
            let phi =
                ranges.iter().map(|r| r.1).max().unwrap_or(0).max((clo * lo).max(chi * hi).max(clo * hi).max(chi * lo));
            let (pw, psg) = (bits_for(plo, phi), plo < 0);
            let prod = b.m.wire(&name("prod"), pw, psg, origin, Expr::Mul(op_a, coef_a));
            let prod_b = b.m.reg(&name("prod_b"), prod, None, origin);
            if let delay::Delay::Logic(ns) = delay::multiply(bits_for(lo, hi), cw) {
                worst_ps = worst_ps.max(ps(ns));
            }
            // C: accumulate; the partial sums of the schedule lie in the hull of its prefix sums.
            let (mut alo, mut ahi, mut slo, mut shi) = (0i128, 0i128, i128::MAX, i128::MIN);
            for r in &ranges {
                alo += r.0;
                ahi += r.1;
                slo = slo.min(alo);
                shi = shi.max(ahi);
            }
            let (aw, asg) = (bits_for(slo, shi), slo < 0);
            let acc = b.m.state_reg(&name("acc"), aw, asg, None, Some(read_stage), origin);
            let (tlo, thi) = (slo + plo, shi + phi);
            let sum = b.m.wire(&name("sum"), bits_for(tlo, thi), tlo < 0, origin, Expr::Add(acc, prod_b));
            let sum_t = b.m.wire(&name("sum_t"), aw, asg, origin, Expr::Slice { src: sum, lo: 0 });
            let load = b.m.wire(&name("load"), aw, asg, origin, Expr::Ext(prod_b));
            let d = b.m.wire(&name("acc_next"), aw, asg, origin, Expr::Mux { sel: first_b, t: load, f: sum_t });
            b.m.set_state_input(acc, d);
            if let delay::Delay::Logic(ns) = delay::mux() {
                worst_ps = worst_ps.max(ps(ns) + ps(delay::ADDER_LEVEL_NS + delay::CARRY_PER_BIT_NS * aw as f64));
            }
            lanes.push(Val { sig: acc, stage: Some(read_stage), delay_ps: 0, low_ps: 0, lo: alo, hi: ahi });
        }
        outs.push(sum_values(b, lanes, constant));
    }
    b.critical_ps = b.critical_ps.max(worst_ps);
    outs
}

/// Products of two activations (a Q·Kᵀ or A·V of attention) that time-multiplexing saves
/// multipliers on: the pairs whose operands both vary, when there are at least two of them.
pub fn product_pairs(xs: &[Val], pairs: &[(u32, u32)]) -> Option<Vec<usize>> {
    let varies = |j: u32| xs[j as usize].lo != xs[j as usize].hi;
    let v: Vec<usize> = (0..pairs.len()).filter(|&i| varies(pairs[i].0) && varies(pairs[i].1)).collect();
    (v.len() >= 2).then_some(v)
}

/// The products `x[a] · x[c]` of `pairs` with each multiplier (a DSP48E2) reused `reuse` times:
/// the varying pairs are dealt contiguously into ⌈N / R⌉ slots, slot k serving pairs kR … kR +
/// R − 1, one per phase. A token reaches the layer's stage s in cycle t; in cycle t + p each
/// slot selects both operands of its p-th pair — in phase 0 straight from the pipeline, later
/// from hold registers loaded in cycle t — into its operand registers (A), multiplies into the
/// product register (B), and every pair but the slot's last is loaded into its output register
/// in cycle t + p + 2. The last pair's product is still in B in cycle t + R + 1, which is when
/// every output is read: stage s + R + 1. Pairs with a constant operand are constant
/// multiplies, in parallel.
pub fn lower_product_reuse(b: &mut Builder, xs: &[Val], pairs: &[(u32, u32)], reuse: u32) -> Vec<Val> {
    let mut xs = b.register_all(xs);
    let Some(varying) = product_pairs(&xs, pairs) else {
        return pairs.iter().map(|&(a, c)| super::product(b, xs[a as usize], xs[c as usize])).collect();
    };
    let mut s0 = xs.iter().filter_map(|v| v.stage).max().expect("varying operands have a stage");
    if s0 == 0 {
        // The phase counter starts a cycle before the token arrives: it needs a stage before.
        s0 = 1;
        xs = xs.iter().map(|&v| if v.stage.is_some() { b.at_stage(v, 1) } else { v }).collect();
    }
    let origin = Some(b.origin.clone()).filter(|o| !o.is_empty());
    let origin = origin.as_deref();
    let prefix = b.prefix.clone();
    let start = b.valid_at(s0);
    let early = b.valid_at(s0 - 1);
    let mut held: Vec<Option<SignalId>> = vec![None; xs.len()];
    for &i in &varying {
        for j in [pairs[i].0 as usize, pairs[i].1 as usize] {
            if held[j].is_none() {
                held[j] = Some(phases::hold(b, &format!("{prefix}_hold{j}"), xs[j], start, origin));
            }
        }
    }
    // Phase p in cycle t + p.
    let ph = phases::phases(b, &prefix, reuse, early, origin);
    let cbits = ph.bits.len() as u32;
    let cnt_a = b.m.reg(&format!("{prefix}_phase_a"), ph.cnt, None, origin);
    let cnt_b = b.m.reg(&format!("{prefix}_phase_b"), cnt_a, None, origin);
    let r = reuse as usize;
    // The output registers' load enables: the phase of the product in B.
    let load: Vec<SignalId> = (0..r.min(varying.len()))
        .map(|p| {
            let k = b.m.wire(&format!("{prefix}_phase_is{p}"), cbits, false, None, Expr::Const(p as i128));
            b.m.wire(&format!("{prefix}_load{p}"), 1, false, origin, Expr::Cmp(CmpOp::Eq, cnt_b, k))
        })
        .collect();
    let read_stage = s0 + reuse + 1;
    let ps = |ns: f64| (ns * 1000.0).round() as u32;
    let mut worst_ps = 0u32;
    let hull = |js: &mut dyn Iterator<Item = usize>| -> (i128, i128) {
        js.fold((i128::MAX, i128::MIN), |(lo, hi), j| (lo.min(xs[j].lo), hi.max(xs[j].hi)))
    };
    let mut ys: Vec<Option<Val>> = vec![None; pairs.len()];
    for (k, slot) in varying.chunks(r).enumerate() {
        let name = |what: &str| format!("{prefix}_s{k}_{what}");
        let mut operand = |side: usize, b: &mut Builder| -> (SignalId, i128, i128) {
            let of = |i: usize| if side == 0 { pairs[i].0 as usize } else { pairs[i].1 as usize };
            let (lo, hi) = hull(&mut slot.iter().map(|&i| of(i)));
            let inputs: Vec<SignalId> = (0..ph.span)
                .map(|p| {
                    let j = of(slot[p.min(slot.len() - 1)]);
                    if p == 0 {
                        xs[j].sig
                    } else {
                        held[j].expect("held operand")
                    }
                })
                .collect();
            let (sel, levels) =
                phases::by_phase(b, &name(&format!("op{side}")), &inputs, &ph, bits_for(lo, hi), lo < 0, origin);
            worst_ps = worst_ps.max(ps(levels as f64 * delay::LUT_LEVEL_NS));
            (b.m.reg(&name(&format!("op{side}_a")), sel, None, origin), lo, hi)
        };
        let (x, xlo, xhi) = operand(0, b);
        let (y, ylo, yhi) = operand(1, b);
        let (plo, phi) = super::product_range((xlo, xhi), (ylo, yhi));
        let prod = b.m.wire(&name("prod"), bits_for(plo, phi), plo < 0, origin, Expr::Mul(x, y));
        // A state register: it holds the slot's last product in cycle t + R + 1, read then.
        let prod_b = b.m.state_reg(&name("prod_b"), bits_for(plo, phi), plo < 0, None, Some(read_stage), origin);
        b.m.set_state_input(prod_b, prod);
        if let delay::Delay::Logic(ns) = delay::multiply(bits_for(xlo, xhi), bits_for(ylo, yhi)) {
            worst_ps = worst_ps.max(ps(ns));
        }
        for (p, &i) in slot.iter().enumerate() {
            let (u, v) = (xs[pairs[i].0 as usize], xs[pairs[i].1 as usize]);
            let (lo, hi) = super::product_range((u.lo, u.hi), (v.lo, v.hi));
            let (w, sg) = (bits_for(lo, hi), lo < 0);
            let fit = b.m.wire(&format!("{prefix}_y{i}_d"), w, sg, origin, Expr::Slice { src: prod_b, lo: 0 });
            let sig = if p + 1 == slot.len() {
                fit
            } else {
                let y = b.m.state_reg(&format!("{prefix}_y{i}"), w, sg, None, Some(read_stage), origin);
                let d =
                    b.m.wire(&format!("{prefix}_y{i}_next"), w, sg, origin, Expr::Mux { sel: load[p], t: fit, f: y });
                b.m.set_state_input(y, d);
                y
            };
            ys[i] = Some(Val { sig, stage: Some(read_stage), delay_ps: 0, low_ps: 0, lo, hi });
        }
    }
    if let delay::Delay::Logic(ns) = delay::mux() {
        b.critical_ps = b.critical_ps.max(worst_ps + ps(ns));
    }
    ys.into_iter()
        .zip(pairs)
        .map(|(y, &(a, c))| y.unwrap_or_else(|| super::product(b, xs[a as usize], xs[c as usize])))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(n: usize) -> Vec<Val> {
        (0..n)
            .map(|j| Val { sig: SignalId(j as u32), stage: Some(0), delay_ps: 0, low_ps: 0, lo: -128, hi: 127 })
            .collect()
    }

    /// A per-token layer (4 tokens × 4 features → 4 tokens × 2): each output reads one token.
    fn per_token() -> Vec<Vec<(u32, i128)>> {
        (0..4)
            .flat_map(|t| (0..2).map(move |o| (0..4).map(|f| (t * 4 + f, 3 + o as i128 + f as i128)).collect()))
            .collect()
    }

    #[test]
    fn per_token_rows_take_the_contiguous_layout() {
        let l = layout(&inputs(16), &per_token(), 4).expect("multipliers to share");
        assert!(l.contiguous, "{l:?}");
        // One lane per output: slot t holds token t's four features, one per phase.
        assert_eq!((0..4).map(|p| l.input(1, p, 16)).collect::<Vec<_>>(), [Some(4), Some(5), Some(6), Some(7)]);
    }

    #[test]
    fn dense_rows_take_the_strided_layout() {
        let rows: Vec<Vec<(u32, i128)>> = (0..3).map(|o| (0..10).map(|j| (j, 3 + o + j as i128)).collect()).collect();
        let l = layout(&inputs(10), &rows, 4).expect("multipliers to share");
        assert!(!l.contiguous && l.slots == 3, "{l:?}");
        assert_eq!((0..4).map(|p| l.input(2, p, 10)).collect::<Vec<_>>(), [Some(2), Some(5), Some(8), None]);
    }

    #[test]
    fn shifts_and_unshared_rows_stay_parallel() {
        // Powers of two are wiring and adders: nothing for a DSP to do.
        let sums: Vec<Vec<(u32, i128)>> = (0..4).map(|o| vec![(2 * o, 1), (2 * o + 1, -4)]).collect();
        assert_eq!(layout(&inputs(8), &sums, 4), None);
        // One product per output in each slot: no multiplier would take turns.
        let diag: Vec<Vec<(u32, i128)>> = (0..8).map(|o| vec![(o, 3)]).collect();
        assert_eq!(layout(&inputs(8), &diag, 4), None);
    }
}
