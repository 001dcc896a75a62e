//! Set models folded over their particles: the per-particle network φ of a deep set (the chain
//! of layers that acts on every particle alike, ending in a sum, mean or max over the particles)
//! is built `N / R` times instead of `N` times and time-multiplexed over `R` phases, so the design
//! accepts a new set every `R` cycles (II = R).
//!
//! When a token's particles reach the segment, they are latched into hold registers and a phase
//! counter restarts. In phase p, copy i of φ reads particle `p·(N/R) + i` through a multiplexer
//! on the counter (registered), and runs the ordinary pipelined lowering of φ's layers. The
//! copies' outputs are summed (or maxed) per feature into a partial result, and an accumulator
//! per feature loads the partial of phase 0 and adds (or maxes) the others. The accumulators
//! hold the aggregate R cycles after the first partial, when the pipeline reads them (the next
//! token overwrites them only later). Hold registers, counter and accumulators are state
//! registers; the accumulators declare the stage at which they are read.

use super::phases;
use super::softmax::{max2, tree};
use crate::delay;
use crate::pipeline::{Builder, Val};
use std::collections::BTreeMap;
use tachyon_quantize::config::Strategy;
use tachyon_quantize::fixed::bits_for;
use tachyon_quantize::qir::{LayerKind, QModel};
use tachyon_quantize::Elem;
use tachyon_rtl::{Expr, SignalId};

/// A foldable segment: the layers of φ (in order) and the aggregation that ends it, with what
/// [`segment`] proved about them (so lowering re-derives nothing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Indices into `QModel::layers`: φ's layers (the aggregation is not among them).
    pub layers: Vec<usize>,
    pub aggregation: usize,
    pub particles: usize,
    /// The reuse factor R: φ is built `particles / R` times and runs over R phases.
    pub reuse: u32,
    /// How the aggregation combines the particles.
    combine: Combine,
    /// φ's layers restricted to particle 0 (one per entry of `layers`).
    phi: Vec<LayerKind>,
}

/// Why a layer's set cannot be folded ([`segment`]). Each names the aggregation layer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FoldError {
    #[error("layer {layer} ({origin}): it reads several tensors")]
    SeveralInputs { layer: String, origin: String },
    #[error("layer {layer} ({origin}): it is not a sum, mean or maximum over a particle axis")]
    NoParticleAxis { layer: String, origin: String },
    #[error("layer {layer} ({origin}): it is not a sum or mean over the particles (rows differ per particle)")]
    RowsDiffer { layer: String, origin: String },
    #[error("layer {layer} ({origin}): it is not a maximum over the particles")]
    NotAMaximum { layer: String, origin: String },
    #[error("layer {layer} ({origin}): only sums, means and maxima over particles can be folded")]
    NotAnAggregation { layer: String, origin: String },
    #[error("layer {layer}: set_reuse {reuse} must divide the {particles} particles (and be at least 2)")]
    ReuseDoesNotDivide { layer: String, reuse: u32, particles: usize },
    #[error(
        "layer {layer}: the particles entering the per-particle network differ in type; they cannot share hardware"
    )]
    MixedParticleTypes { layer: String },
}

/// How the aggregation combines particles.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Combine {
    /// `Σ_p c_o · x[p, o]` per output `o` (plus the layer's bias).
    Sum(Vec<i128>),
    Max,
}

/// The aggregation layer `agg` as a sum or max over particles: `(particles, combine)`.
fn aggregation(m: &QModel, agg: usize) -> Result<(usize, Combine), FoldError> {
    let l = &m.layers[agg];
    let (layer, origin) = (l.name.clone(), l.origin.join(", "));
    if l.inputs.len() != 1 {
        return Err(FoldError::SeveralInputs { layer, origin });
    }
    let n_in = m.tensor(l.inputs[0]).elems.len();
    let f = m.tensor(l.output).elems.len();
    if f == 0 || !n_in.is_multiple_of(f) || n_in / f < 2 {
        return Err(FoldError::NoParticleAxis { layer, origin });
    }
    let n = n_in / f;
    match &l.kind {
        LayerKind::Linear { rows, .. } => {
            let mut coefs = vec![];
            for (o, row) in rows.iter().enumerate() {
                let c = row.first().map_or(0, |t| t.1);
                let ok =
                    row.len() == n && row.iter().enumerate().all(|(p, &(j, cj))| j as usize == p * f + o && cj == c);
                if !ok {
                    return Err(FoldError::RowsDiffer { layer, origin });
                }
                coefs.push(c);
            }
            Ok((n, Combine::Sum(coefs)))
        }
        LayerKind::Max(sets) => {
            let ok = sets
                .iter()
                .enumerate()
                .all(|(o, s)| s.len() == n && s.iter().enumerate().all(|(p, &j)| j as usize == p * f + o));
            if !ok {
                return Err(FoldError::NotAMaximum { layer, origin });
            }
            Ok((n, Combine::Max))
        }
        _ => Err(FoldError::NotAnAggregation { layer, origin }),
    }
}

/// Layer `li` restricted to particle 0 when it acts on each of `n` particles alike (same kind,
/// parameters and element types per particle, reading only its own particle); `None` otherwise.
fn per_particle(m: &QModel, li: usize, n: usize) -> Option<LayerKind> {
    let l = &m.layers[li];
    if l.inputs.len() != 1 {
        return None;
    }
    let (xe, ye) = (&m.tensor(l.inputs[0]).elems, &m.tensor(l.output).elems);
    if xe.len() % n != 0 || ye.len() % n != 0 {
        return None;
    }
    let (fi, fo) = (xe.len() / n, ye.len() / n);
    let same_elems = |e: &[Elem], f: usize| (0..e.len()).all(|k| e[k] == e[k % f]);
    if !same_elems(xe, fi) || !same_elems(ye, fo) {
        return None;
    }
    let blocks_equal = |eq: &dyn Fn(usize, usize, usize) -> bool| (0..n).all(|p| (0..fo).all(|o| eq(p, o, p * fo + o)));
    Some(match &l.kind {
        LayerKind::Linear { rows, bias } => {
            let ok = rows[..fo].iter().all(|r| r.iter().all(|&(j, _)| (j as usize) < fi))
                && blocks_equal(&|p, o, k| {
                    bias[k] == bias[o]
                        && rows[k].len() == rows[o].len()
                        && rows[k]
                            .iter()
                            .zip(&rows[o])
                            .all(|(&(j, c), &(j0, c0))| c == c0 && j as usize == j0 as usize + p * fi)
                });
            if !ok {
                return None;
            }
            LayerKind::Linear { rows: rows[..fo].to_vec(), bias: bias[..fo].to_vec() }
        }
        LayerKind::Requant(rs) if fi == fo && blocks_equal(&|_, o, k| rs[k] == rs[o]) => {
            LayerKind::Requant(rs[..fo].to_vec())
        }
        LayerKind::Relu if fi == fo => LayerKind::Relu,
        LayerKind::Threshold(ss) if fi == fo && blocks_equal(&|_, o, k| ss[k] == ss[o]) => {
            LayerKind::Threshold(ss[..fo].to_vec())
        }
        LayerKind::Lookup(t) if fi == fo => LayerKind::Lookup(t.clone()),
        LayerKind::Gather(src)
            if src[..fo].iter().all(|&j| (j as usize) < fi)
                && blocks_equal(&|p, o, k| src[k] as usize == src[o] as usize + p * fi) =>
        {
            LayerKind::Gather(src[..fo].to_vec())
        }
        LayerKind::Max(sets)
            if sets[..fo].iter().all(|s| s.iter().all(|&j| (j as usize) < fi))
                && blocks_equal(&|p, o, k| {
                    sets[k].len() == sets[o].len()
                        && sets[k].iter().zip(&sets[o]).all(|(&j, &j0)| j as usize == j0 as usize + p * fi)
                }) =>
        {
            LayerKind::Max(sets[..fo].to_vec())
        }
        _ => return None,
    })
}

/// The segment that ends in layer `agg`, foldable with reuse factor `reuse`: φ is the longest
/// chain of per-particle layers before it whose intermediate tensors nothing else reads.
pub fn segment(m: &QModel, agg: usize, reuse: u32) -> Result<Segment, FoldError> {
    let (n, combine) = aggregation(m, agg)?;
    let name = &m.layers[agg].name;
    if reuse < 2 || reuse as usize > n || n % reuse as usize != 0 {
        return Err(FoldError::ReuseDoesNotDivide { layer: name.clone(), reuse, particles: n });
    }
    let mut layers = vec![];
    let mut phi = vec![];
    let mut t = m.layers[agg].inputs[0];
    loop {
        if t == m.input || t == m.output || m.readers(t).len() != 1 {
            break;
        }
        let Some(li) = m.producer(t) else { break };
        let Some(kind) = per_particle(m, li, n) else { break };
        layers.insert(0, li);
        phi.insert(0, kind);
        t = m.layers[li].inputs[0];
    }
    let start = &m.tensor(t).elems;
    let f = start.len() / n;
    if !start.len().is_multiple_of(n) || (0..start.len()).any(|k| start[k] != start[k % f]) {
        return Err(FoldError::MixedParticleTypes { layer: name.clone() });
    }
    Ok(Segment { layers, aggregation: agg, particles: n, reuse, combine, phi })
}

/// Lowers a folded segment: `xs` are the values of the segment's input tensor. Returns the
/// aggregation's output values (before its narrowing) and the stage range of every layer of
/// the segment, aggregation last.
pub fn lower_folded(
    b: &mut Builder,
    m: &QModel,
    seg: &Segment,
    xs: &[Val],
    strategy: &BTreeMap<String, Strategy>,
) -> (Vec<Val>, Vec<(u32, u32)>) {
    let (n, combine, reuse) = (seg.particles, &seg.combine, seg.reuse);
    let agg = &m.layers[seg.aggregation];
    let xs = b.register_all(xs);
    let s0 = xs.iter().filter_map(|v| v.stage).max().unwrap_or(0);
    let prefix = agg.name.clone();
    b.prefix = prefix.clone();
    b.origin = agg.origin.join(", ");
    let origin_s = b.origin.clone();
    let origin = Some(origin_s.as_str()).filter(|o| !o.is_empty());
    let start = b.valid_at(s0);
    let ph = phases::phases(b, &format!("{prefix}_fold"), reuse, start, origin);
    let copies = n / reuse as usize;
    let f0 = xs.len() / n;
    // Hold registers per particle element that varies.
    let held: Vec<Option<SignalId>> = xs
        .iter()
        .enumerate()
        .map(|(j, x)| (x.lo != x.hi).then(|| phases::hold(b, &format!("{prefix}_hold{j}"), *x, start, origin)))
        .collect();
    // Copy i in phase p reads particle p·copies + i (registered after the multiplexer).
    let mut worst_ps = 0u32;
    let mut cur: Vec<Vec<Val>> = vec![];
    for i in 0..copies {
        let mut vals = vec![];
        for f in 0..f0 {
            let x0 = xs[i * f0 + f];
            if held[i * f0 + f].is_none() {
                vals.push(b.constant(x0.lo));
                continue;
            }
            let inputs: Vec<SignalId> = (0..ph.span)
                .map(|p| {
                    let particle = if p < reuse as usize { p * copies + i } else { i };
                    held[particle * f0 + f].expect("particles share types, so all vary")
                })
                .collect();
            let name = format!("{prefix}_c{i}f{f}");
            let (sel, levels) = phases::by_phase(b, &name, &inputs, &ph, x0.width(), x0.signed(), origin);
            worst_ps = worst_ps.max((levels as f64 * delay::LUT_LEVEL_NS * 1000.0) as u32);
            let q = b.m.reg(&format!("{name}_in"), sel, None, origin);
            vals.push(Val { sig: q, stage: Some(s0 + 2), delay_ps: 0, low_ps: 0, lo: x0.lo, hi: x0.hi });
        }
        cur.push(vals);
    }
    // φ, once per copy.
    let mut stages = vec![];
    for (&li, kind) in seg.layers.iter().zip(&seg.phi) {
        let l = &m.layers[li];
        let ye = &m.tensor(l.output).elems;
        let fo = ye.len() / n;
        b.prefix = l.name.clone();
        b.origin = l.origin.join(", ");
        let st = strategy.get(&l.name).copied().unwrap_or_default();
        b.relu_to_requant = super::relu_feeds_requant(m, li);
        let s_in = cur.iter().flatten().filter_map(|v| v.stage).max().unwrap_or(s0);
        cur = cur.iter().map(|xs| super::lower_layer(b, kind, xs, &ye[..fo], st)).collect();
        let s_out = cur.iter().flatten().filter_map(|v| v.stage).max().unwrap_or(s_in);
        stages.push((s_in, s_out));
    }
    // Partial aggregate of the copies, then the accumulators.
    b.prefix = prefix.clone();
    b.origin = agg.origin.join(", ");
    let f = cur.first().map_or(0, |c| c.len());
    let s_in = cur.iter().flatten().filter_map(|v| v.stage).max().unwrap_or(s0);
    let flat: Vec<Val> = cur.iter().flatten().copied().collect();
    let partial: Vec<Val> = match combine {
        Combine::Sum(coefs) => {
            let rows: Vec<Vec<(u32, i128)>> =
                (0..f).map(|o| (0..copies).map(|i| ((i * f + o) as u32, coefs[o])).collect()).collect();
            let st = strategy.get(&agg.name).copied().unwrap_or_default();
            super::linear::lower_linear(b, &flat, &rows, &vec![0; f], st)
        }
        Combine::Max => (0..f).map(|o| tree(b, (0..copies).map(|i| flat[i * f + o]).collect(), &mut max2)).collect(),
    };
    let partial = b.register_all(&partial);
    let sp = partial.iter().filter_map(|v| v.stage).max().unwrap_or(s_in);
    // The phase-0 flag, from the counter (phase p at cycle s0 + 1 + p) to the partials (phase p
    // at cycle sp + p).
    let mut first = ph.first;
    for k in 0..sp.saturating_sub(s0 + 1) {
        first = b.m.reg(&format!("{prefix}_first_d{k}"), first, None, origin);
    }
    let read = sp + reuse;
    let r = reuse as i128;
    let mut outs = vec![];
    for (o, p) in partial.iter().enumerate() {
        let name = |what: &str| format!("{prefix}_acc{o}_{what}");
        let (alo, ahi, lo, hi) = match combine {
            Combine::Sum(_) => ((p.lo * r).min(p.lo), (p.hi * r).max(p.hi), p.lo * r, p.hi * r),
            Combine::Max => (p.lo, p.hi, p.lo, p.hi),
        };
        let (aw, asg) = (bits_for(alo, ahi), alo < 0);
        let acc = b.m.state_reg(&name("q"), aw, asg, None, Some(read), origin);
        let next = match combine {
            Combine::Sum(_) => {
                let (slo, shi) = (alo + p.lo, ahi + p.hi);
                let sum = b.m.wire(&name("sum"), bits_for(slo, shi), slo < 0, origin, Expr::Add(acc, p.sig));
                worst_ps =
                    worst_ps.max(((delay::ADDER_LEVEL_NS + delay::CARRY_PER_BIT_NS * aw as f64) * 1000.0) as u32);
                b.m.wire(&name("sum_t"), aw, asg, origin, Expr::Slice { src: sum, lo: 0 })
            }
            Combine::Max => {
                let gt = b.m.wire(&name("gt"), 1, false, origin, Expr::Cmp(tachyon_rtl::CmpOp::Gt, acc, p.sig));
                worst_ps =
                    worst_ps.max(((delay::ADDER_LEVEL_NS + delay::CARRY_PER_BIT_NS * aw as f64) * 1000.0) as u32);
                let px = b.m.wire(&name("px"), aw, asg, origin, Expr::Ext(p.sig));
                b.m.wire(&name("max"), aw, asg, origin, Expr::Mux { sel: gt, t: acc, f: px })
            }
        };
        let load = b.m.wire(&name("load"), aw, asg, origin, Expr::Ext(p.sig));
        let d = b.m.wire(&name("next"), aw, asg, origin, Expr::Mux { sel: first, t: load, f: next });
        b.m.set_state_input(acc, d);
        outs.push(Val { sig: acc, stage: Some(read), delay_ps: 0, low_ps: 0, lo, hi });
    }
    worst_ps += (delay::LUT_LEVEL_NS * 1000.0) as u32; // the load multiplexer
    b.critical_ps = b.critical_ps.max(worst_ps);
    // The aggregation's bias.
    if let LayerKind::Linear { bias, .. } = &agg.kind {
        outs = outs
            .into_iter()
            .zip(bias)
            .map(|(v, &c)| {
                if c == 0 {
                    return v;
                }
                let k = b.constant(c);
                let (lo, hi) = (v.lo + c, v.hi + c);
                b.op("bias", &[v, k], lo, hi, delay::add(bits_for(lo, hi)), |s| Expr::Add(s[0], s[1]))
            })
            .collect();
    }
    let end = outs.iter().filter_map(|v| v.stage).max().unwrap_or(read);
    stages.push((s_in, end));
    (outs, stages)
}
