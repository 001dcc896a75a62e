//! Linear layers with a reuse factor R > 1: every multiplier (a DSP48E2) is time-multiplexed
//! over R cycles, so a layer of N products needs about N / R of them, and the design accepts a
//! new input every R cycles (II = R) instead of every cycle.
//!
//! The inputs are dealt into S = ⌈N_in / R⌉ *slots*: slot k serves inputs k, k + S, k + 2S, …
//! one per phase. When a token's inputs arrive (the layer's `valid` flag at its input stage),
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
use tachyon_rtl::{Expr, SignalId};

/// Pipeline registers between a token's arrival and its complete lane sums, beyond R.
const LANE_LATENCY: u32 = 3;

/// The outputs of `bias_i + Σ c·x[j]` with each multiplier reused `reuse` times.
pub fn lower_linear_reuse(
    b: &mut Builder,
    xs: &[Val],
    rows: &[Vec<(u32, i128)>],
    bias: &[i128],
    reuse: u32,
) -> Vec<Val> {
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
    for (j, x) in xs.iter().enumerate() {
        if x.lo == x.hi || !rows.iter().any(|r| r.iter().any(|&(k, c)| k as usize == j && c != 0)) {
            continue;
        }
        held[j] = Some(phases::hold(b, &format!("{prefix}_hold{j}"), *x, start, origin));
    }
    let ph = phases::phases(b, &prefix, reuse, start, origin);
    let (cnt, cbits) = (ph.cnt, ph.bits.len() as u32);
    let first_a = b.m.reg(&format!("{prefix}_first_a"), ph.first, None, origin);
    let first_b = b.m.reg(&format!("{prefix}_first_b"), first_a, None, origin);

    let read_stage = s0 + reuse + LANE_LATENCY;
    let mut worst_ps = 0u32;
    let ps = |ns: f64| (ns * 1000.0).round() as u32;
    let n_in = xs.len();
    let slots = n_in.div_ceil(reuse as usize);
    let span = ph.span;
    // The input of slot k in phase p (None: no input, or one that does not vary).
    let input_of = |k: usize, p: usize| -> Option<usize> {
        let j = k + p * slots;
        (p < reuse as usize && j < n_in && held[j].is_some()).then_some(j)
    };
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
