//! Stream lowering: line buffers (shift registers), tap registers, position counters and masks,
//! the kernel engine of each window layer, element-wise layers per channel, the frame-start
//! pulse, and the capture of a whole frame for the parallel layers after the stream.
//!
//! Expects: a [`super::Plan`] and its streamed layers in topological order. Guarantees: every
//! tap is a fixed delay of its input by the plan's lattice; taps off the grid read 0 (the
//! smallest value for a maximum); outputs lie in their channel hulls.

use super::plan::{Lattice, StreamTensor, Upsample, Window, WindowOp};
use crate::layers::requant::narrow;
use crate::pipeline::{Builder, Val};
use std::collections::BTreeMap;
use tachyon_quantize::config::Strategy;
use tachyon_quantize::fixed::bits_for;
use tachyon_quantize::qir::LayerKind;
use tachyon_rtl::{CmpOp, Expr, SignalId};

/// A streamed tensor in the netlist: one value per channel (see [`Lattice`]).
#[derive(Clone, Debug)]
pub struct Stream {
    pub chans: Vec<Val>,
    pub h: usize,
    pub w: usize,
    pub lat: Lattice,
}

/// Per-channel value ranges of a streamed tensor on its channel grids: the hull over its pixels.
pub fn channel_hull(elems: &[tachyon_quantize::Elem], t: &StreamTensor) -> Vec<(i128, i128)> {
    let map = &t.map;
    (0..map.c)
        .map(|ch| {
            (0..map.pixels()).fold((i128::MAX, i128::MIN), |a, p| {
                let e = map.at[p * map.c + ch] as usize;
                let k = 1i128 << t.scale(elems, e, ch);
                (a.0.min(elems[e].lo * k), a.1.max(elems[e].hi * k))
            })
        })
        .collect()
}

/// Lowers an element-wise layer on every channel.
pub fn lower_elementwise(b: &mut Builder, kind: &LayerKind, x: &Stream, hull: &[(i128, i128)]) -> Stream {
    let out: Vec<tachyon_quantize::Elem> =
        hull.iter().map(|&(lo, hi)| tachyon_quantize::Elem { lo, hi, frac: 0 }).collect();
    let ys = crate::layers::lower_layer(b, kind, &x.chans, &out, Strategy::Auto);
    Stream { chans: ys, ..x.clone() }
}

/// Lowers a window layer: line buffer, tap registers, masks, and the kernel engine.
pub fn lower_window(b: &mut Builder, win: &Window, xs: &[Stream], hull: &[(i128, i128)], strategy: Strategy) -> Stream {
    let lat = xs[0].lat;
    let (h, w) = (xs[0].h, xs[0].w);
    let chans: Vec<Val> = xs.iter().flat_map(|s| s.chans.iter().copied()).collect();
    let s0 = chans.iter().filter_map(|v| v.stage).max().unwrap_or(0);
    let chans: Vec<Val> = chans.into_iter().map(|v| b.at_stage(v, s0)).collect();
    let out_lat = Lattice { a: lat.a * win.stride.0 as u64, b: lat.b * win.stride.1 as u64 };
    let reach = lat.a * win.reach.0 as u64 + lat.b * win.reach.1 as u64;
    let emit = s0 + reach as u32 + 1;
    let origin = b.origin.clone();
    let origin = Some(origin.as_str()).filter(|s| !s.is_empty());
    let prefix = b.prefix.clone();
    let mut pos: Option<Position> = None;
    let mut masks: BTreeMap<[usize; 4], SignalId> = BTreeMap::new();
    let fill_max = chans.iter().map(|v| v.lo).min().unwrap_or(0);
    let mut taps = vec![];
    for (k, &(dr, dc, g)) in win.taps.iter().enumerate() {
        let x = chans[g as usize];
        let fill = if win.op == WindowOp::Max { fill_max } else { 0 };
        // Output positions for which this tap lies on the grid (`None`: none).
        let range = |d: i64, s: usize, n_in: usize, n_out: usize| -> Option<(usize, usize)> {
            let lo = ((-d).max(0) as u64).div_ceil(s as u64) as i64;
            let hi = (n_in as i64 - 1 - d).div_euclid(s as i64).min(n_out as i64 - 1);
            (lo <= hi).then_some((lo as usize, hi as usize))
        };
        let (rr, cr) = (range(dr, win.stride.0, h, win.h), range(dc, win.stride.1, w, win.w));
        let never = rr.is_none() || cr.is_none();
        let ((r_lo, r_hi), (c_lo, c_hi)) = (rr.unwrap_or((0, 0)), cr.unwrap_or((0, 0)));
        if never || x.stage.is_none() {
            taps.push(if never { b.constant(fill) } else { x });
            continue;
        }
        let lag = lat.a * (win.reach.0 - dr) as u64 + lat.b * (win.reach.1 - dc) as u64;
        let line = b.at_stage(x, s0 + lag as u32);
        b.critical_ps = b.critical_ps.max(line.delay_ps);
        let q = b.m.state_reg(&format!("{prefix}_tap{k}"), x.width(), x.signed(), None, Some(emit), origin);
        b.m.set_state_input(q, line.sig);
        let tap = Val { sig: q, stage: Some(emit), delay_ps: 0, low_ps: 0, lo: x.lo, hi: x.hi };
        let key = [r_lo, r_hi, c_lo, c_hi];
        if key == [0, win.h - 1, 0, win.w - 1] {
            taps.push(tap);
            continue;
        }
        let p = pos.get_or_insert_with(|| position(b, &prefix, emit, win.h, win.w, out_lat, origin));
        let mask = *masks.entry(key).or_insert_with(|| p.mask(b, &prefix, key, win.h, win.w, out_lat.b, origin));
        let sel = Val { sig: mask, stage: None, delay_ps: 0, low_ps: 0, lo: 0, hi: 1 };
        let f = b.constant(fill);
        let (lo, hi) = (x.lo.min(fill), x.hi.max(fill));
        taps.push(b.op("win", &[sel, tap, f], lo, hi, crate::delay::mux(), |s| Expr::Mux {
            sel: s[0],
            t: s[1],
            f: s[2],
        }));
    }
    let ys: Vec<Val> = match win.op {
        WindowOp::Linear => crate::layers::linear::lower_linear(b, &taps, &win.rows, &win.bias, strategy),
        WindowOp::Gather => win.rows.iter().map(|r| taps[r[0].0 as usize]).collect(),
        WindowOp::Max => win
            .rows
            .iter()
            .map(|r| {
                let vs = r.iter().map(|&(t, _)| taps[t as usize]).collect();
                crate::layers::softmax::tree(b, vs, &mut crate::layers::softmax::max2)
            })
            .collect(),
        WindowOp::Product => win
            .rows
            .iter()
            .map(|r| match r.as_slice() {
                [(t, 3)] => crate::layers::product(b, taps[*t as usize], taps[*t as usize]),
                [(t1, _), (t2, _)] => crate::layers::product(b, taps[*t1 as usize], taps[*t2 as usize]),
                _ => unreachable!("a product row has two operands"),
            })
            .collect(),
    };
    let ys = ys.into_iter().zip(hull).map(|(y, &(lo, hi))| narrow(b, y, lo.max(y.lo), hi.min(y.hi))).collect();
    Stream { chans: ys, h: win.h, w: win.w, lat: out_lat }
}

/// Lowers a nearest-neighbour upsampling (line replay): output pixel `(r', c')` of phase
/// `(i, j) = (r' mod fr, c' mod fc)` is its source pixel delayed by `a'·i + b'·j` cycles (`(a', b')`
/// the output lattice), so each source channel feeds `fr·fc` tap registers from one shift
/// register, and a mux picks the tap of the current phase. The phases come from counters of the
/// output position, as registers holding the current cycle's phase (`≥ i` and `≥ j`, a
/// thermometer). The first output pixel leaves one cycle after its source arrives.
pub fn lower_upsample(b: &mut Builder, up: &Upsample, x: &Stream, out_lat: Lattice, hull: &[(i128, i128)]) -> Stream {
    let (fr, fc) = up.factor;
    let s0 = x.chans.iter().filter_map(|v| v.stage).max().unwrap_or(0);
    let chans: Vec<Val> = x.chans.iter().map(|&v| b.at_stage(v, s0)).collect();
    let emit = s0 + 1;
    let origin = b.origin.clone();
    let origin = Some(origin.as_str()).filter(|s| !s.is_empty());
    let prefix = b.prefix.clone();
    let pos = position(b, &prefix, emit, up.h, up.w, out_lat, origin);
    let (row_sel, col_sel) = pos.phases(b, &prefix, emit, (fr, fc), out_lat.b, origin);
    let mut by_src: BTreeMap<u32, Val> = BTreeMap::new();
    let mut ys = vec![];
    for (&g, &(lo, hi)) in up.src.iter().zip(hull) {
        let y = match by_src.get(&g) {
            Some(&y) => y,
            None => {
                let x = chans[g as usize];
                let y = if x.stage.is_none() {
                    x
                } else {
                    let tap = |b: &mut Builder, i: usize, j: usize| {
                        let lag = out_lat.a * i as u64 + out_lat.b * j as u64;
                        let line = b.at_stage(x, s0 + lag as u32);
                        b.critical_ps = b.critical_ps.max(line.delay_ps);
                        let q =
                            b.m.state_reg(&format!("{prefix}_rep"), x.width(), x.signed(), None, Some(emit), origin);
                        b.m.set_state_input(q, line.sig);
                        Val { sig: q, stage: Some(emit), delay_ps: 0, low_ps: 0, lo: x.lo, hi: x.hi }
                    };
                    let pick = |b: &mut Builder, sel: Val, t: Val, f: Val| {
                        b.op("rep", &[sel, t, f], x.lo, x.hi, crate::delay::mux(), |s| Expr::Mux {
                            sel: s[0],
                            t: s[1],
                            f: s[2],
                        })
                    };
                    let mut row_vals = vec![];
                    for i in 0..fr {
                        let mut v = tap(b, i, 0);
                        for (j, &sel) in col_sel.iter().enumerate() {
                            let t = tap(b, i, j + 1);
                            v = pick(b, sel, t, v);
                        }
                        row_vals.push(v);
                    }
                    let mut v = row_vals[0];
                    for (i, &sel) in row_sel.iter().enumerate() {
                        v = pick(b, sel, row_vals[i + 1], v);
                    }
                    v
                };
                by_src.insert(g, y);
                y
            }
        };
        ys.push(narrow(b, y, lo.max(y.lo), hi.min(y.hi)));
    }
    Stream { chans: ys, h: up.h, w: up.w, lat: out_lat }
}

/// Every pixel of a streamed tensor at once, for the parallel layers after the stream: a shift
/// register over the frame, read when its last pixel has arrived, each element back on its own
/// grid. Returns the flat elements.
pub fn capture(b: &mut Builder, x: &Stream, t: &StreamTensor, elems: &[tachyon_quantize::Elem]) -> Vec<Val> {
    let map = &t.map;
    let s0 = x.chans.iter().filter_map(|v| v.stage).max().unwrap_or(0);
    let end = x.lat.a * (x.h as u64 - 1) + x.lat.b * (x.w as u64 - 1);
    let at = s0 + end as u32 + 1;
    let origin = b.origin.clone();
    let origin = Some(origin.as_str()).filter(|s| !s.is_empty());
    let prefix = b.prefix.clone();
    let mut flat = vec![None; map.at.len()];
    for (ch, &v) in x.chans.iter().enumerate() {
        let v = b.at_stage(v, s0);
        for pos in 0..x.h * x.w {
            let e = map.at[pos * map.c + ch] as usize;
            if v.stage.is_none() {
                flat[e] = Some(v);
                continue;
            }
            let when = x.lat.a * (pos / x.w) as u64 + x.lat.b * (pos % x.w) as u64;
            let line = b.at_stage(v, s0 + (end - when) as u32);
            b.critical_ps = b.critical_ps.max(line.delay_ps);
            let q = b.m.state_reg(&format!("{prefix}_frame"), v.width(), v.signed(), None, Some(at), origin);
            b.m.set_state_input(q, line.sig);
            let y = Val { sig: q, stage: Some(at), delay_ps: 0, low_ps: 0, lo: v.lo, hi: v.hi };
            // Exact: the stream carries the element times 2^k.
            let k = t.scale(elems, e, ch) as u32;
            let y = if k == 0 { y } else { b.op("grid", &[y], y.lo >> k, y.hi >> k, 0.0, |s| Expr::Shr(s[0], k)) };
            flat[e] = Some(narrow(b, y, elems[e].lo.max(y.lo), elems[e].hi.min(y.hi)));
        }
    }
    flat.into_iter().map(|v| v.expect("every element has a pixel")).collect()
}

/// The frame-start pulse: `in_valid` on the first beat of a frame, counted by a beat counter.
pub fn frame_start(b: &mut Builder, in_valid: SignalId, beats: usize) -> SignalId {
    let last = beats as u64 - 1;
    let cw = bits_for(0, last as i128).max(1);
    let cnt = b.m.state_reg("in_beat", cw, false, Some(0), None, None);
    let step = counter_next(b, "in_beat", cnt, cw, Some(last), last);
    let next = b.m.wire("in_beat_next", cw, false, None, Expr::Mux { sel: in_valid, t: step, f: cnt });
    b.m.set_state_input(cnt, next);
    let zero = b.m.wire("in_beat_zero", cw, false, None, Expr::Const(0));
    let first = b.m.wire("in_first", 1, false, None, Expr::Cmp(CmpOp::Eq, cnt, zero));
    b.m.wire("in_frame_start", 1, false, None, Expr::And(in_valid, first))
}

/// Position counters of a window layer's output: the cycle within the row period and the row,
/// both registers holding the position of the current cycle (0 in the cycle of pixel (0, 0)).
struct Position {
    /// Next cycle's column counter (the cycle within the row; for one row, within the frame,
    /// saturating).
    col_next: SignalId,
    row: Option<(SignalId, SignalId)>,
}

fn counter_next(b: &mut Builder, name: &str, q: SignalId, width: u32, wrap_at: Option<u64>, sat: u64) -> SignalId {
    let m = &mut b.m;
    let one = m.wire(&format!("{name}_one"), 1, false, None, Expr::Const(1));
    let inc = m.wire(&format!("{name}_inc"), width + 1, false, None, Expr::Add(q, one));
    let inc = m.wire(&format!("{name}_incw"), width, false, None, Expr::Slice { src: inc, lo: 0 });
    match wrap_at {
        Some(top) => {
            let t = m.wire(&format!("{name}_top"), width, false, None, Expr::Const(top as i128));
            let at_top = m.wire(&format!("{name}_attop"), 1, false, None, Expr::Cmp(CmpOp::Eq, q, t));
            let zero = m.wire(&format!("{name}_zero"), width, false, None, Expr::Const(0));
            m.wire(&format!("{name}_step"), width, false, None, Expr::Mux { sel: at_top, t: zero, f: inc })
        }
        None => {
            let t = m.wire(&format!("{name}_sat"), width, false, None, Expr::Const(sat as i128));
            let full = m.wire(&format!("{name}_full"), 1, false, None, Expr::Cmp(CmpOp::Ge, q, t));
            m.wire(&format!("{name}_step"), width, false, None, Expr::Mux { sel: full, t: q, f: inc })
        }
    }
}

fn position(
    b: &mut Builder,
    prefix: &str,
    emit: u32,
    h: usize,
    w: usize,
    lat: Lattice,
    origin: Option<&str>,
) -> Position {
    // The frame-start pulse one cycle before the first output pixel: it sets the counters so
    // that they read 0 in that pixel's cycle.
    let start = b.valid_at(emit - 1);
    let m_zero =
        |b: &mut Builder, name: &str, width: u32| b.m.wire(&format!("{name}_zero"), width, false, None, Expr::Const(0));
    let last_col = if h > 1 { lat.a - 1 } else { lat.b * (w as u64 - 1) };
    let cw = bits_for(0, last_col as i128 + 1).max(1);
    let col = b.m.state_reg(&format!("{prefix}_col"), cw, false, Some((last_col + 1) as i128), None, origin);
    let step = counter_next(b, &format!("{prefix}_col"), col, cw, (h > 1).then_some(last_col), last_col + 1);
    let z = m_zero(b, &format!("{prefix}_col"), cw);
    let col_next = b.m.wire(&format!("{prefix}_col_next"), cw, false, origin, Expr::Mux { sel: start, t: z, f: step });
    b.m.set_state_input(col, col_next);
    let row = (h > 1).then(|| {
        let rw = bits_for(0, h as i128).max(1);
        let row = b.m.state_reg(&format!("{prefix}_row"), rw, false, Some(h as i128), None, origin);
        let step = counter_next(b, &format!("{prefix}_row"), row, rw, None, h as u64);
        let top = b.m.wire(&format!("{prefix}_row_wrap"), cw, false, None, Expr::Const(last_col as i128));
        let wraps = b.m.wire(&format!("{prefix}_row_adv"), 1, false, None, Expr::Cmp(CmpOp::Eq, col, top));
        let adv = b.m.wire(&format!("{prefix}_row_step"), rw, false, None, Expr::Mux { sel: wraps, t: step, f: row });
        let z = m_zero(b, &format!("{prefix}_row"), rw);
        let next = b.m.wire(&format!("{prefix}_row_next"), rw, false, origin, Expr::Mux { sel: start, t: z, f: adv });
        b.m.set_state_input(row, next);
        (row, next)
    });
    Position { col_next, row }
}

impl Position {
    /// The phase selects of an upsampling by `(fr, fc)` on an output lattice with pixel period
    /// `col_period`: per row phase `i ≥ 1` a register that is 1 when the current output row
    /// `r'` has `r' mod fr ≥ i`, and the same per column phase. Each is fed by a phase counter
    /// in next-value form (restarted with the row or frame), as the masks are.
    fn phases(
        &self,
        b: &mut Builder,
        prefix: &str,
        emit: u32,
        (fr, fc): (usize, usize),
        col_period: u64,
        origin: Option<&str>,
    ) -> (Vec<Val>, Vec<Val>) {
        // A counter modulo `n` whose next value is 0 when `restart` and otherwise advances when
        // `adv` (every cycle when `None`); returns its next value.
        let counter = |b: &mut Builder, name: &str, n: u64, restart: SignalId, adv: Option<SignalId>| {
            let cw = bits_for(0, n as i128 - 1).max(1);
            let q = b.m.state_reg(&format!("{prefix}_{name}"), cw, false, Some(0), None, origin);
            let step = counter_next(b, &format!("{prefix}_{name}"), q, cw, Some(n - 1), n - 1);
            let step = match adv {
                Some(a) => {
                    b.m.wire(&format!("{prefix}_{name}_adv"), cw, false, None, Expr::Mux { sel: a, t: step, f: q })
                }
                None => step,
            };
            let zero = b.m.wire(&format!("{prefix}_{name}_zero"), cw, false, None, Expr::Const(0));
            let next = b.m.wire(
                &format!("{prefix}_{name}_next"),
                cw,
                false,
                origin,
                Expr::Mux { sel: restart, t: zero, f: step },
            );
            b.m.set_state_input(q, next);
            next
        };
        // `next ≥ k·unit` as a register declared at the emission stage.
        let sels = |b: &mut Builder, name: &str, next: SignalId, phases: usize, unit: u64| -> Vec<Val> {
            (1..phases)
                .map(|k| {
                    let width = b.m.signal(next).width;
                    let v = (k as u64 * unit) as i128;
                    let c =
                        b.m.wire(&format!("{prefix}_{name}_k"), width.max(bits_for(0, v)), false, None, Expr::Const(v));
                    let ge = b.m.wire(&format!("{prefix}_{name}_ge"), 1, false, origin, Expr::Cmp(CmpOp::Ge, next, c));
                    let q = b.m.state_reg(&format!("{prefix}_{name}_sel"), 1, false, Some(0), Some(emit), origin);
                    b.m.set_state_input(q, ge);
                    Val { sig: q, stage: Some(emit), delay_ps: 0, low_ps: 0, lo: 0, hi: 1 }
                })
                .collect()
        };
        let start = b.valid_at(emit - 1);
        let mut col_sel = vec![];
        if fc > 1 {
            // Cycles within the group of `fc` output pixels, restarted with every row.
            let cw = b.m.signal(self.col_next).width;
            let zero = b.m.wire(&format!("{prefix}_cph_row0"), cw, false, None, Expr::Const(0));
            let row0 =
                b.m.wire(&format!("{prefix}_cph_row"), 1, false, origin, Expr::Cmp(CmpOp::Eq, self.col_next, zero));
            let next = counter(b, "cph", fc as u64 * col_period, row0, None);
            col_sel = sels(b, "cph", next, fc, col_period);
        }
        let mut row_sel = vec![];
        if fr > 1 {
            let (row, row_next) = self.row.expect("an upsampling by rows has rows");
            let adv = b.m.wire(&format!("{prefix}_rph_adv"), 1, false, origin, Expr::Cmp(CmpOp::Ne, row_next, row));
            let next = counter(b, "rph", fr as u64, start, Some(adv));
            row_sel = sels(b, "rph", next, fr, 1);
        }
        (row_sel, col_sel)
    }

    /// A register that is 1 in the cycles of output pixels with row in `[r_lo, r_hi]` and column
    /// in `[c_lo, c_hi]` (computed from the counters' next values, so it is a plain register).
    #[allow(clippy::too_many_arguments)]
    fn mask(
        &self,
        b: &mut Builder,
        prefix: &str,
        [r_lo, r_hi, c_lo, c_hi]: [usize; 4],
        h: usize,
        w: usize,
        col_period: u64,
        origin: Option<&str>,
    ) -> SignalId {
        let mut conds = vec![];
        let mut cmp = |b: &mut Builder, sig: SignalId, op: CmpOp, v: u64| {
            let width = b.m.signal(sig).width;
            let k = b.m.wire(
                &format!("{prefix}_mk"),
                width.max(bits_for(0, v as i128)),
                false,
                None,
                Expr::Const(v as i128),
            );
            conds.push(b.m.wire(&format!("{prefix}_mc"), 1, false, origin, Expr::Cmp(op, sig, k)));
        };
        if c_lo > 0 {
            cmp(b, self.col_next, CmpOp::Ge, c_lo as u64 * col_period);
        }
        if c_hi < w - 1 {
            cmp(b, self.col_next, CmpOp::Le, c_hi as u64 * col_period);
        }
        if let Some((_, row_next)) = self.row {
            if r_lo > 0 {
                cmp(b, row_next, CmpOp::Ge, r_lo as u64);
            }
            if r_hi < h - 1 {
                cmp(b, row_next, CmpOp::Le, r_hi as u64);
            }
        }
        let mut acc = conds[0];
        for &c in &conds[1..] {
            acc = b.m.wire(&format!("{prefix}_mand"), 1, false, origin, Expr::And(acc, c));
        }
        let q = b.m.state_reg(&format!("{prefix}_mask"), 1, false, Some(0), None, origin);
        b.m.set_state_input(q, acc);
        q
    }
}
