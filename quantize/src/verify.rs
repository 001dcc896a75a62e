//! Verifier of the quantized IR. Invariants:
//! * tensor ids are in range, the input is not written by a layer, each tensor is written once,
//!   and layers read only tensors defined earlier (the input or an earlier layer's output);
//! * element counts agree with each layer kind (rows, requant specs, steps, gather sources);
//! * step thresholds strictly increase and have one more value than thresholds;
//! * tables are non-empty; softmax inputs share one grid;
//! * soundness: every element interval contains everything the layer can produce from its
//!   input intervals (so widths derived from intervals never overflow);
//! * every interval fits in 120 bits.

use crate::fixed::bits_for;
use crate::interp::requant;
use crate::qir::{LayerKind, QModel};

pub fn verify(m: &QModel) -> Result<(), String> {
    let nt = m.tensors.len();
    let mut defined = vec![false; nt];
    let idx = |t: crate::qir::TensorId| -> Result<usize, String> {
        let i = t.0 as usize;
        if i < nt {
            Ok(i)
        } else {
            Err(format!("tensor {t} out of range"))
        }
    };
    defined[idx(m.input)?] = true;
    for l in &m.layers {
        if l.inputs.is_empty() {
            return Err(format!("layer {} reads nothing", l.name));
        }
        for &t in &l.inputs {
            if !defined[idx(t)?] {
                return Err(format!("layer {} reads {t} before it is defined", l.name));
            }
        }
        let o = idx(l.output)?;
        if defined[o] {
            return Err(format!("layer {} writes {} a second time", l.name, l.output));
        }
        defined[o] = true;
        let xe = &m.layer_input_elems(l);
        let ye = &m.tensors[o].elems;
        let bad = |what: String| Err(format!("layer {}: {what}", l.name));
        // (lo, hi) the layer can produce for output k.
        let mut produced: Vec<(i128, i128)> = vec![];
        match &l.kind {
            LayerKind::Linear { rows, bias } => {
                if rows.len() != ye.len() || bias.len() != ye.len() {
                    return bad(format!("{} rows for {} outputs", rows.len(), ye.len()));
                }
                for (row, &b) in rows.iter().zip(bias) {
                    let (mut lo, mut hi) = (b, b);
                    for &(j, c) in row {
                        let e = xe.get(j as usize).ok_or(format!("layer {}: input index {j} out of range", l.name))?;
                        let (p, q) = (c * e.lo, c * e.hi);
                        lo += p.min(q);
                        hi += p.max(q);
                    }
                    produced.push((lo, hi));
                }
            }
            LayerKind::Requant(rs) => {
                if rs.len() != ye.len() || xe.len() != ye.len() {
                    return bad("requant spec count differs from element count".into());
                }
                for (r, e) in rs.iter().zip(xe) {
                    if r.div == 0 || r.div % 2 == 0 || (r.div > 1 && r.overflow == crate::fixed::Overflow::Wrap) {
                        return bad(format!("requant divisor {} (must be odd, and 1 with wrap-around)", r.div));
                    }
                    if r.from_frac != e.frac {
                        return bad(format!("requant expects grid 2^-{} but input is on 2^-{}", r.from_frac, e.frac));
                    }
                    let (a, b) = (requant(e.lo, r), requant(e.hi, r));
                    produced.push(
                        if r.overflow == crate::fixed::Overflow::Wrap
                            && (a > b || bits_for(a, b) > bits_for(r.lo, r.hi))
                        {
                            (r.lo.min(a), r.hi.max(b))
                        } else {
                            (a.min(b), a.max(b))
                        },
                    );
                }
            }
            LayerKind::Relu => produced = xe.iter().map(|e| (e.lo.max(0), e.hi.max(0))).collect(),
            LayerKind::Threshold(ss) => {
                if ss.len() != ye.len() {
                    return bad("step function count differs from element count".into());
                }
                for s in ss {
                    if s.values.len() != s.thresholds.len() + 1 || s.thresholds.windows(2).any(|w| w[0] >= w[1]) {
                        return bad("malformed step function".into());
                    }
                    produced.push((*s.values.iter().min().unwrap_or(&0), *s.values.iter().max().unwrap_or(&0)));
                }
            }
            LayerKind::Lookup(t) => {
                if t.entries.is_empty() {
                    return bad("empty table".into());
                }
                let r = (*t.entries.iter().min().unwrap_or(&0), *t.entries.iter().max().unwrap_or(&0));
                produced = vec![r; ye.len()];
            }
            LayerKind::Softmax(s) => {
                if s.exp_table.is_empty() || s.inv_table.is_empty() || xe.windows(2).any(|w| w[0].frac != w[1].frac) {
                    return bad("softmax needs tables and inputs on one grid".into());
                }
                let emax = *s.exp_table.iter().max().unwrap_or(&0);
                let rmax = *s.inv_table.iter().max().unwrap_or(&0);
                produced = vec![(0, crate::round::shift_round(emax * rmax, s.out_shift, s.out_round)); ye.len()];
            }
            LayerKind::Gather(src) => {
                for (&j, y) in src.iter().zip(ye) {
                    let e = xe.get(j as usize).ok_or(format!("layer {}: gather index {j} out of range", l.name))?;
                    if e.frac != y.frac {
                        return bad(format!("gather moves element {j} from grid 2^-{} to 2^-{}", e.frac, y.frac));
                    }
                    produced.push((e.lo, e.hi));
                }
            }
            LayerKind::LayerNorm(s) => {
                let half = 1usize << s.mant_bits.saturating_sub(1);
                if s.mant_bits < 2 || s.rsqrt.iter().any(|t| t.len() != half) || s.eps < 1 {
                    return bad("malformed layer normalization tables".into());
                }
                if s.gain.len() != ye.len() || s.bias.len() != ye.len() || xe.len() != ye.len() {
                    return bad("layer normalization parameters do not match its elements".into());
                }
                if xe.windows(2).any(|w| w[0].frac != w[1].frac) {
                    return bad("layer normalization inputs must share one grid".into());
                }
                produced = s.output_bounds();
            }
            LayerKind::Product(pairs) => {
                for (&(a, b), y) in pairs.iter().zip(ye) {
                    let get =
                        |j: u32| xe.get(j as usize).ok_or(format!("layer {}: product index {j} out of range", l.name));
                    let (ea, eb) = (get(a)?, get(b)?);
                    if ea.frac.checked_add(eb.frac) != Some(y.frac) {
                        return bad(format!(
                            "product of grids 2^-{} and 2^-{} is not on 2^-{}",
                            ea.frac, eb.frac, y.frac
                        ));
                    }
                    let c = [ea.lo * eb.lo, ea.lo * eb.hi, ea.hi * eb.lo, ea.hi * eb.hi];
                    produced.push((*c.iter().min().unwrap_or(&0), *c.iter().max().unwrap_or(&0)));
                }
                if pairs.len() != ye.len() {
                    return bad(format!("{} products for {} outputs", pairs.len(), ye.len()));
                }
            }
            LayerKind::Max(sets) => {
                for (set, y) in sets.iter().zip(ye) {
                    let (mut lo, mut hi) = (i128::MAX, i128::MIN);
                    for &j in set {
                        let e = xe.get(j as usize).ok_or(format!("layer {}: max index {j} out of range", l.name))?;
                        if e.frac != y.frac {
                            return bad(format!("max reads element {j} on grid 2^-{}, not 2^-{}", e.frac, y.frac));
                        }
                        lo = lo.max(e.lo);
                        hi = hi.max(e.hi);
                    }
                    if set.is_empty() {
                        return bad("max over an empty set".into());
                    }
                    produced.push((lo, hi));
                }
                if sets.len() != ye.len() {
                    return bad(format!("{} maxima for {} outputs", sets.len(), ye.len()));
                }
            }
        }
        if produced.len() != ye.len() {
            return bad(format!("produces {} elements, output has {}", produced.len(), ye.len()));
        }
        for (k, ((lo, hi), e)) in produced.iter().zip(ye).enumerate() {
            if *lo < e.lo || *hi > e.hi {
                return bad(format!("element {k} can reach [{lo},{hi}] outside its type [{},{}]", e.lo, e.hi));
            }
            if e.width() > 120 {
                return bad(format!("element {k} is {} bits wide", e.width()));
            }
        }
    }
    if !defined[idx(m.output)?] {
        return Err("the output is never computed".into());
    }
    Ok(())
}
