//! Recognizing a sliding window: a layer's rows (over flat tensors) rewritten on the streams'
//! channel grids and matched against one kernel per output channel at every output position,
//! for every stride that fits; element-wise layers matched per channel; and the output lattice
//! a window gets.
//!
//! Expects: pixel maps of the layer's inputs and of a candidate output layout. Guarantees: a
//! [`Window`] (or per-channel kind) is returned only when every row of the layer agrees with it
//! exactly; otherwise `None` and the layer stays parallel.

use super::plan::{Lattice, PixelMap, StreamTensor, Upsample, Window, WindowOp};
use std::collections::{BTreeMap, BTreeSet};
use tachyon_quantize::qir::LayerKind;

/// `v · 2^e`, if exact.
pub(super) fn scaled(v: i128, e: i32) -> Option<i128> {
    if e >= 0 {
        v.checked_mul(1i128.checked_shl(e as u32)?)
    } else {
        let d = 1i128.checked_shl((-e) as u32)?;
        (v % d == 0).then(|| v / d)
    }
}

/// The finest grid of each channel of `map` over `elems`.
pub(super) fn finest(map: &PixelMap, elems: &[tachyon_quantize::Elem]) -> Vec<i32> {
    (0..map.c)
        .map(|ch| (0..map.pixels()).map(|p| elems[map.at[p * map.c + ch] as usize].frac).max().unwrap_or(0))
        .collect()
}

/// Rows and bias of a window-shaped layer rewritten for the stream's channel grids (see
/// [`StreamTensor`]), and the output channels' grids; `None` when some coefficient would not
/// stay an integer, or (for maxima, gathers and products, which do not rescale) when the grids
/// do not line up.
pub(super) fn normalize(
    op: WindowOp,
    ins: &[StreamTensor],
    in_elems: &[&[tachyon_quantize::Elem]],
    out: &PixelMap,
    out_elems: &[tachyon_quantize::Elem],
    rows: &[Vec<(u32, i128)>],
    bias: &[i128],
) -> Option<(Rows, Vec<i128>, Vec<i32>)> {
    if rows.len() != out.at.len() {
        return None;
    }
    // Per concatenated element: the stream's scale exponent.
    let mut in_scale = vec![];
    for (t, els) in ins.iter().zip(in_elems) {
        let mut sc = vec![0; els.len()];
        for (k, &e) in t.map.at.iter().enumerate() {
            sc[e as usize] = t.scale(els, e as usize, k % t.map.c);
        }
        in_scale.extend(sc);
    }
    let fracs = finest(out, out_elems);
    let mut new_rows = rows.to_vec();
    let mut new_bias = bias.to_vec();
    for (k, &i) in out.at.iter().enumerate() {
        let i = i as usize;
        let so = fracs[k % out.c] - out_elems[i].frac;
        match op {
            WindowOp::Linear => {
                for (j, c) in new_rows[i].iter_mut() {
                    *c = scaled(*c, so - *in_scale.get(*j as usize)?)?;
                }
                new_bias[i] = scaled(bias[i], so)?;
            }
            WindowOp::Gather | WindowOp::Max => {
                if rows[i].iter().any(|&(j, _)| in_scale.get(j as usize) != Some(&so)) {
                    return None;
                }
            }
            WindowOp::Product => {
                let total: i32 = rows[i]
                    .iter()
                    .map(|&(j, c)| in_scale.get(j as usize).map(|s| if c == 3 { 2 * s } else { *s }))
                    .sum::<Option<i32>>()?;
                if total != so {
                    return None;
                }
            }
        }
    }
    Some((new_rows, new_bias, fracs))
}

/// The per-channel form of an element-wise layer on the stream's grids, and the output grids,
/// if its parameters are the same at every pixel of a channel.
pub(super) fn per_channel(
    kind: &LayerKind,
    x: &StreamTensor,
    in_elems: &[tachyon_quantize::Elem],
    out_elems: &[tachyon_quantize::Elem],
) -> Option<(LayerKind, Vec<i32>)> {
    let map = &x.map;
    let out_fracs = finest(map, out_elems);
    // The parameter of each channel, made at every pixel by `at(element, in scale, out scale)`;
    // all pixels must agree.
    fn agree<T: PartialEq>(
        map: &PixelMap,
        x: &StreamTensor,
        in_elems: &[tachyon_quantize::Elem],
        out_fracs: &[i32],
        out_elems: &[tachyon_quantize::Elem],
        at: impl Fn(usize, i32, i32) -> Option<T>,
    ) -> Option<Vec<T>> {
        (0..map.c)
            .map(|ch| {
                let mut first = None;
                for p in 0..map.pixels() {
                    let e = map.at[p * map.c + ch] as usize;
                    let v = at(e, x.scale(in_elems, e, ch), out_fracs[ch] - out_elems[e].frac)?;
                    match &first {
                        None => first = Some(v),
                        Some(f) if *f == v => {}
                        Some(_) => return None,
                    }
                }
                first
            })
            .collect()
    }
    let kind = match kind {
        LayerKind::Requant(rs) => {
            let v = agree(map, x, in_elems, &out_fracs, out_elems, |e, si, so| {
                let r = rs[e];
                (so == 0).then_some(tachyon_quantize::qir::Requant { from_frac: r.from_frac + si, ..r })
            })?;
            LayerKind::Requant(v)
        }
        LayerKind::Relu => {
            agree(map, x, in_elems, &out_fracs, out_elems, |_, si, so| (si == so).then_some(()))?;
            LayerKind::Relu
        }
        LayerKind::Threshold(ss) => {
            let v = agree(map, x, in_elems, &out_fracs, out_elems, |e, si, so| {
                let s = &ss[e];
                Some(tachyon_quantize::qir::Steps {
                    thresholds: s.thresholds.iter().map(|&t| scaled(t, si)).collect::<Option<_>>()?,
                    values: s.values.iter().map(|&v| scaled(v, so)).collect::<Option<_>>()?,
                })
            })?;
            LayerKind::Threshold(v)
        }
        LayerKind::Lookup(t) => {
            agree(map, x, in_elems, &out_fracs, out_elems, |_, si, so| (si == 0 && so == 0).then_some(()))?;
            LayerKind::Lookup(t.clone())
        }
        _ => return None,
    };
    Some((kind, out_fracs))
}

/// Sparse rows `(input, coefficient)` per output.
pub(super) type Rows = Vec<Vec<(u32, i128)>>;

/// A window-shaped kind as sparse rows over its (concatenated) inputs.
pub(super) fn as_rows(kind: &LayerKind) -> (WindowOp, Rows, Vec<i128>) {
    match kind {
        LayerKind::Linear { rows, bias } => {
            let rows = rows.iter().map(|r| r.iter().copied().filter(|&(_, c)| c != 0).collect()).collect();
            (WindowOp::Linear, rows, bias.clone())
        }
        LayerKind::Gather(src) => (WindowOp::Gather, src.iter().map(|&j| vec![(j, 1)]).collect(), vec![0; src.len()]),
        LayerKind::Max(sets) => {
            (WindowOp::Max, sets.iter().map(|s| s.iter().map(|&j| (j, 1)).collect()).collect(), vec![0; sets.len()])
        }
        LayerKind::Product(pairs) => (
            WindowOp::Product,
            pairs.iter().map(|&(a, b)| if a == b { vec![(a, 3)] } else { vec![(a, 1), (b, 2)] }).collect(),
            vec![0; pairs.len()],
        ),
        _ => unreachable!("as_rows of a kind that is not window-shaped"),
    }
}

/// Strides worth trying along an axis of `n_in` inputs and `n_out` outputs.
fn stride_candidates(n_in: usize, n_out: usize) -> Vec<usize> {
    if n_out <= 1 {
        return vec![1];
    }
    let mut c: Vec<usize> = vec![1, 2, 3, 4, n_in.div_ceil(n_out), n_in / n_out, (n_in - 1) / (n_out - 1)];
    c.retain(|&s| s >= 1 && s <= n_in);
    c.sort_unstable();
    c.dedup();
    c
}

/// The sliding window that `rows` (over the concatenation of `ins`) computes onto `out`, if any.
pub(super) fn window(
    op: WindowOp,
    ins: &[&PixelMap],
    out: &PixelMap,
    rows: &[Vec<(u32, i128)>],
    bias: &[i128],
) -> Option<Window> {
    let (h, w) = (ins[0].h, ins[0].w);
    if rows.len() != out.at.len() {
        return None;
    }
    // (pos, global channel) of every concatenated element, and back.
    let mut inv = vec![];
    let mut fwd: Vec<(usize, usize)> = vec![]; // per global channel: (element offset, index into ins)
    let mut off = 0;
    for (t, p) in ins.iter().enumerate() {
        let ch0 = fwd.len();
        inv.extend(p.inverse().into_iter().map(|(pos, ch)| (pos, ch0 + ch)));
        fwd.extend((0..p.c).map(|_| (off, t)));
        off += p.at.len();
    }
    let chan_base: Vec<usize> = {
        let mut v = vec![];
        let mut acc = 0;
        for p in ins {
            v.push(acc);
            acc += p.c;
        }
        v
    };
    let flat = |pos: usize, g: usize| -> u32 {
        let (o, t) = fwd[g];
        (o + ins[t].at[pos * ins[t].c + (g - chan_base[t])] as usize) as u32
    };
    for &sr in &stride_candidates(h, out.h) {
        for &sc in &stride_candidates(w, out.w) {
            if let Some(win) = window_with(op, (sr, sc), (h, w), &inv, &flat, out, rows, bias) {
                return Some(win);
            }
        }
    }
    None
}

#[allow(clippy::too_many_arguments)]
fn window_with(
    op: WindowOp,
    (sr, sc): (usize, usize),
    (h, w): (usize, usize),
    inv: &[(usize, usize)],
    flat: &dyn Fn(usize, usize) -> u32,
    out: &PixelMap,
    rows: &[Vec<(u32, i128)>],
    bias: &[i128],
) -> Option<Window> {
    let offset = |j: u32, pos2: usize| -> Option<(i64, i64, u32)> {
        let (pos, g) = *inv.get(j as usize)?;
        let (r, c) = ((pos / w) as i64, (pos % w) as i64);
        let (r2, c2) = ((pos2 / out.w) as i64, (pos2 % out.w) as i64);
        Some((r - r2 * sr as i64, c - c2 * sc as i64, g as u32))
    };
    // The kernel of each output channel, from all its rows.
    let mut kernels: Vec<BTreeMap<(i64, i64, u32), i128>> = vec![BTreeMap::new(); out.c];
    for (f, kernel) in kernels.iter_mut().enumerate() {
        let b0 = bias[out.at[f] as usize];
        for pos2 in 0..out.pixels() {
            let i = out.at[pos2 * out.c + f] as usize;
            if bias[i] != b0 {
                return None;
            }
            for &(j, coef) in &rows[i] {
                let key = offset(j, pos2)?;
                if *kernel.entry(key).or_insert(coef) != coef {
                    return None;
                }
            }
        }
    }
    // Every row is its kernel restricted to the grid.
    for (f, kernel) in kernels.iter().enumerate() {
        for pos2 in 0..out.pixels() {
            let i = out.at[pos2 * out.c + f] as usize;
            let (r2, c2) = ((pos2 / out.w) as i64, (pos2 % out.w) as i64);
            let mut want: Vec<(u32, i128)> = kernel
                .iter()
                .filter_map(|(&(dr, dc, g), &coef)| {
                    let (r, c) = (r2 * sr as i64 + dr, c2 * sc as i64 + dc);
                    let inside = (0..h as i64).contains(&r) && (0..w as i64).contains(&c);
                    inside.then(|| (flat(r as usize * w + c as usize, g as usize), coef))
                })
                .collect();
            let mut have = rows[i].clone();
            want.sort_unstable();
            have.sort_unstable();
            if want != have {
                return None;
            }
        }
    }
    let taps: Vec<(i64, i64, u32)> =
        kernels.iter().flat_map(|k| k.keys().copied()).collect::<BTreeSet<_>>().into_iter().collect();
    let index: BTreeMap<(i64, i64, u32), u32> = taps.iter().enumerate().map(|(k, &t)| (t, k as u32)).collect();
    let reach =
        (taps.iter().map(|t| t.0).max().unwrap_or(0).max(0), taps.iter().map(|t| t.1).max().unwrap_or(0).max(0));
    // A gather whose kernel has several taps takes, at each position, the one tap on the grid:
    // a sum of masked taps. A product needs its two operands at every position.
    let many = kernels.iter().any(|k| k.len() > 1);
    let op = match op {
        WindowOp::Gather if many => WindowOp::Linear,
        WindowOp::Product if kernels.iter().any(|k| k.len() > 2) => return None,
        WindowOp::Product if kernels.iter().any(|k| k.len() == 2 && k.values().any(|&c| c == 3)) => return None,
        op => op,
    };
    Some(Window {
        op,
        stride: (sr, sc),
        reach,
        rows: kernels.iter().map(|k| k.iter().map(|(t, &c)| (index[t], c)).collect()).collect(),
        bias: (0..out.c).map(|f| bias[out.at[f] as usize]).collect(),
        taps,
        h: out.h,
        w: out.w,
    })
}

/// The output lattice of `win` on input lattice `lat`, if its output pixels get distinct cycles
/// that all fall within one frame period of `beats` cycles.
pub(super) fn schedule(win: &Window, lat: Lattice, beats: usize) -> Option<Lattice> {
    let out = Lattice { a: lat.a * win.stride.0 as u64, b: lat.b * win.stride.1 as u64 };
    within_frame(out, win.h, win.w, beats)
}

/// `out`, if the pixels of an `h × w` grid on it get distinct cycles (a row ends before the
/// next begins) within one frame period of `beats` cycles.
fn within_frame(out: Lattice, h: usize, w: usize, beats: usize) -> Option<Lattice> {
    if h > 1 && out.b * (w as u64 - 1) >= out.a {
        return None;
    }
    let span = out.a * (h as u64 - 1) + out.b * (w as u64 - 1);
    (span < beats as u64).then_some(out)
}

/// The nearest-neighbour upsampling that the gather `rows` (one `(input, 1)` per output, on
/// `input`) computes onto `out`, if any: integer factors per axis, at least one above 1, and one
/// source channel per output channel, checked at every output element.
pub(super) fn upsample(input: &PixelMap, out: &PixelMap, rows: &[Vec<(u32, i128)>]) -> Option<Upsample> {
    let (fr, fc) = (out.h / input.h, out.w / input.w);
    if out.h != fr * input.h || out.w != fc * input.w || (fr, fc) == (1, 1) || rows.len() != out.at.len() {
        return None;
    }
    let inv = input.inverse();
    let mut src = vec![None; out.c];
    for (k, &i) in out.at.iter().enumerate() {
        let (pos2, ch) = (k / out.c, k % out.c);
        let [(j, 1)] = rows[i as usize][..] else { return None };
        let &(pos, g) = inv.get(j as usize)?;
        let (r2, c2) = (pos2 / out.w, pos2 % out.w);
        if pos != (r2 / fr) * input.w + c2 / fc || *src[ch].get_or_insert(g as u32) != g as u32 {
            return None;
        }
    }
    Some(Upsample { factor: (fr, fc), src: src.into_iter().collect::<Option<_>>()?, h: out.h, w: out.w })
}

/// The output lattice of `up` on input lattice `lat`: `fr` output rows per input row period and
/// `fc` output pixels per input pixel period, so the input's lattice must divide by the factors
/// (the upsampling follows a stride, as in a U-Net's decoder); `None` when it does not or the
/// output pixels would not get distinct cycles within one frame period of `beats` cycles.
pub(super) fn upsample_schedule(up: &Upsample, lat: Lattice, beats: usize) -> Option<Lattice> {
    let (fr, fc) = (up.factor.0 as u64, up.factor.1 as u64);
    let rows_matter = up.h > 1;
    if (rows_matter && !lat.a.is_multiple_of(fr)) || !lat.b.is_multiple_of(fc) {
        return None;
    }
    let out = Lattice { a: if rows_matter { lat.a / fr } else { lat.a }, b: lat.b / fc };
    within_frame(out, up.h, up.w, beats)
}
