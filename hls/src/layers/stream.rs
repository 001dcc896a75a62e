//! The `stream` style of convolutional networks: pixels enter one per clock in raster order,
//! every sliding-window layer is one kernel engine fed by a line buffer, and what follows the
//! spatial part (flatten, dense layers, softmax) is the ordinary parallel pipeline, fed once per
//! frame.
//!
//! **Which layers stream.** Nothing here knows what a Conv is. The quantized IR has already
//! reduced convolutions, pools, pads, channel concatenations, residual sums and layout
//! transposes to linear layers, maxima, gathers and element-wise layers over flat tensors. A
//! layer streams when that form is *provably* a sliding window over a pixel grid ([`plan`]):
//! with the tensors laid out channels-first or channels-last, every output row must equal one
//! kernel per output channel — taps at offsets `out_pos · stride + δ` on input channels — with
//! the taps that fall outside the grid dropped, and one bias per channel. The check compares
//! every row of the layer, so a layer either streams exactly or stays parallel. Element-wise
//! layers stream when their parameters are the same for every pixel of a channel.
//!
//! **Schedule.** Static, with no handshakes and no stalls. Each streamed tensor has a lattice
//! `(a, b)`: pixel `(r, c)` of a frame is on its wires `stage + a·r + b·c` cycles after the
//! frame's first beat (`stage` being the Builder's stage of the channel values). The input has
//! `a = W, b = 1`. A window layer with stride `(sr, sc)` and largest tap offsets `(Δr, Δc)`
//! emits output pixel `(r', c')` when its last input arrives, so its output lattice is
//! `(a·sr, b·sc)` and every tap is a fixed delay `a·(Δr − δr) + b·(Δc − δc)` of the input: the
//! line buffer is a shift register (registers without reset, which synthesis packs into SRLs)
//! with one tap register per kernel tap. Taps that fall outside the grid for an output position
//! (padding, and the wrap-around into the neighbouring row or frame) are masked to zero (to the
//! smallest value for a maximum) by registered comparisons of per-layer position counters,
//! restarted by the frame-start pulse delayed to the layer. Branches that meet (residual sums,
//! channel concatenations) are aligned by the Builder's delay registers like any other values:
//! these are the FIFOs between layers, with depths derived from the schedule. Frames may follow
//! each other back to back (II = pixels) or with gaps; the beats of one frame are consecutive.
//!
//! The tap registers and masks are state registers declaring the stage of the emission (see
//! `tachyon_rtl::RegRole::State`): the netlist verifier trusts this schedule, co-simulation
//! checks it.

use super::requant::narrow;
use crate::pipeline::{Builder, Val};
use std::collections::{BTreeMap, BTreeSet};
use tachyon_quantize::config::Strategy;
use tachyon_quantize::fixed::bits_for;
use tachyon_quantize::qir::{LayerKind, QModel};
use tachyon_rtl::{CmpOp, Expr, SignalId};

/// How a tensor's flat elements lie on a pixel grid: `at[pos · c + ch]` is the flat element of
/// channel `ch` at raster position `pos` of the `h × w` grid (a 1-D signal has `h = 1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PixelMap {
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub at: Vec<u32>,
}

impl PixelMap {
    /// The channels-first and channels-last readings of `shape` with `spatial` (1 or 2)
    /// spatial axes; a tensor of rank `spatial` has one channel.
    pub fn layouts(shape: &[usize], spatial: usize) -> Vec<PixelMap> {
        Self::grouped_layouts(shape, spatial, &[1])
    }

    /// [`PixelMap::layouts`] with `p` horizontally adjacent pixels read as one (for each `p` in
    /// `groups` that divides the width): the grid is `h × w/p` and a grouped pixel's channels are
    /// pixel 0's channels, then pixel 1's, and so on. A convolution over the pixels is again a
    /// sliding window over the groups, so the stream style takes `p` pixels per clock this way.
    pub fn grouped_layouts(shape: &[usize], spatial: usize, groups: &[usize]) -> Vec<PixelMap> {
        // The batch axis (a leading 1) is not part of the layout.
        let shape = if shape.len() >= 2 && shape[0] == 1 { &shape[1..] } else { shape };
        let grid = |dims: &[usize]| if dims.len() == 1 { (1, dims[0]) } else { (dims[0], dims[1]) };
        let make = |h: usize, w: usize, c: usize, first: bool, p: usize| {
            let (wg, cg) = (w / p, c * p);
            let mut at = vec![0u32; h * w * c];
            for r in 0..h {
                for g in 0..wg {
                    for k in 0..p {
                        for ch in 0..c {
                            let pos = r * w + g * p + k;
                            let e = if first { ch * h * w + pos } else { pos * c + ch };
                            at[(r * wg + g) * cg + k * c + ch] = e as u32;
                        }
                    }
                }
            }
            PixelMap { h, w: wg, c: cg, at }
        };
        let mut out = vec![];
        let mut push = |m: PixelMap| {
            if m.h * m.w > 0 && m.c > 0 && !out.contains(&m) {
                out.push(m);
            }
        };
        for &p in groups {
            if shape.len() == spatial {
                let (h, w) = grid(shape);
                if p > 0 && w % p == 0 {
                    push(make(h, w, 1, true, p));
                }
            } else if shape.len() == spatial + 1 {
                let (h, w) = grid(&shape[1..]);
                if p > 0 && w % p == 0 {
                    push(make(h, w, shape[0], true, p));
                }
                let (h, w) = grid(&shape[..spatial]);
                if p > 0 && w % p == 0 {
                    push(make(h, w, shape[spatial], false, p));
                }
            }
        }
        out
    }

    fn pixels(&self) -> usize {
        self.h * self.w
    }

    /// `(pos, ch)` of every flat element.
    fn inverse(&self) -> Vec<(usize, usize)> {
        let mut inv = vec![(0, 0); self.at.len()];
        for (k, &e) in self.at.iter().enumerate() {
            inv[e as usize] = (k / self.c, k % self.c);
        }
        inv
    }
}

/// Timing of a streamed tensor: pixel `(r, c)` is on its wires `stage + a·r + b·c` cycles after
/// the frame's first beat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Lattice {
    pub a: u64,
    pub b: u64,
}

/// What a window layer computes from its taps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowOp {
    /// `bias + Σ coef · tap` (masked taps read 0).
    Linear,
    /// `max` over the row's taps (masked taps read the smallest value).
    Max,
    /// The row's single tap.
    Gather,
    /// The product of the row's two taps (coefficient 1 and 2 tag the operands, 3 a square).
    Product,
}

/// A layer proven to be a sliding window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub op: WindowOp,
    /// Output pixel `(r', c')` reads input pixels `(r'·sr + δr, c'·sc + δc)`.
    pub stride: (usize, usize),
    /// The largest `δr` and `δc` of any tap.
    pub reach: (i64, i64),
    /// `(δr, δc, input channel)`; channels of several inputs are numbered one after the other.
    pub taps: Vec<(i64, i64, u32)>,
    /// Per output channel: `(tap, coefficient)`.
    pub rows: Vec<Vec<(u32, i128)>>,
    /// Per output channel.
    pub bias: Vec<i128>,
    /// Output grid.
    pub h: usize,
    pub w: usize,
}

/// How one layer streams.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamLayer {
    /// An element-wise layer, with one parameter per channel (the kind's vectors are per channel).
    Elementwise(LayerKind),
    Window(Window),
}

/// A streamed tensor: its pixel map, its timing, and the fixed-point grid of each channel.
///
/// Elements of one channel may sit on different grids in the quantized IR (a convolution's
/// border outputs lack some taps and may need fewer fractional bits); the stream carries every
/// channel on its finest grid `fracs[ch]`, i.e. element `i` as `x_i · 2^(fracs[ch] − frac_i)`.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamTensor {
    pub map: PixelMap,
    pub lat: Lattice,
    pub fracs: Vec<i32>,
}

impl StreamTensor {
    /// The exponent by which the stream scales flat element `e` (of type `elems[e]`).
    fn scale(&self, elems: &[tachyon_quantize::Elem], e: usize, ch: usize) -> i32 {
        self.fracs[ch] - elems[e].frac
    }
}

/// The stream schedule of a model.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Pixels per frame: the II.
    pub beats: usize,
    /// How the model's input streams (also its entry in `maps`).
    pub input: StreamTensor,
    /// Per tensor: how it streams, if it does.
    pub maps: Vec<Option<StreamTensor>>,
    /// Per layer: how it streams (`None`: parallel, fed once per frame).
    pub layers: Vec<Option<StreamedLayer>>,
}

/// A layer that streams: how, and how its output streams (also its entry in [`Plan::maps`]).
#[derive(Clone, Debug, PartialEq)]
pub struct StreamedLayer {
    pub how: StreamLayer,
    pub out: StreamTensor,
}

impl Plan {
    /// Number of streamed layers.
    pub fn streamed(&self) -> usize {
        self.layers.iter().filter(|l| l.is_some()).count()
    }

    /// The input map (the order of pixels and channels on the input bus).
    pub fn input_map(&self) -> &PixelMap {
        &self.input.map
    }
}

/// Why a model cannot take the stream style ([`plan`]). Each names the model's input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    #[error(
        "the stream style needs a 1-D signal [C, L] or an image [C, H, W] / [H, W, C] as input; \
         the input '{input}' has shape {shape:?}"
    )]
    NotAnImage { input: String, shape: Vec<usize> },
    #[error("{pixels} pixels per clock need a row width divisible by {pixels}; the input '{input}' has shape {shape:?}")]
    RowNotDivisible { pixels: usize, input: String, shape: Vec<usize> },
    #[error(
        "no layer of the model is a sliding window over groups of {pixels} pixels of the input '{input}' {shape:?}: \
         {pixels} pixels per clock need a row width divisible by {pixels} (and windows that fit the shorter \
         period); use fewer pixels per clock"
    )]
    NoGroupedWindow { pixels: usize, input: String, shape: Vec<usize> },
    #[error(
        "no layer of the model is a sliding window over the input '{input}' {shape:?} (a convolution, pool, \
         pad or element-wise layer on a signal or image), so the stream style does not apply; \
         use the parallel style"
    )]
    NoWindow { input: String, shape: Vec<usize> },
}

/// The stream schedule of `m`: the layers that provably stream, given that the layers named in
/// `parallel` (and what depends only on them) stay parallel. Both input layouts are tried; the
/// one that streams more layers wins (channels-first on a tie). Fails, with the reason, when the
/// input is not an image or signal or when no layer streams.
pub fn plan(m: &QModel, parallel: &BTreeSet<String>, pixels_per_clock: usize) -> Result<Plan, StreamError> {
    let input = m.tensor(m.input);
    let core = if input.shape.len() >= 2 && input.shape[0] == 1 { &input.shape[1..] } else { &input.shape[..] };
    let spatial = match core.len() {
        1 | 2 => 1,
        3 => 2,
        _ => return Err(StreamError::NotAnImage { input: input.name.clone(), shape: input.shape.clone() }),
    };
    let p = pixels_per_clock.max(1);
    let maps = PixelMap::grouped_layouts(&input.shape, spatial, &[p]);
    if maps.is_empty() && p > 1 {
        return Err(StreamError::RowNotDivisible { pixels: p, input: input.name.clone(), shape: input.shape.clone() });
    }
    // Output grids may group fewer pixels (after a stride): any divisor of p.
    let groups: Vec<usize> = (1..=p).rev().filter(|&d| p.is_multiple_of(d)).collect();
    let mut best: Option<Plan> = None;
    for map in maps {
        // One grid per channel on the bus: the channel's elements must share a fixed-point grid.
        let fracs: Vec<i32> = (0..map.c).map(|ch| input.elems[map.at[ch] as usize].frac).collect();
        let uniform = (0..map.c)
            .all(|ch| (0..map.pixels()).all(|p| input.elems[map.at[p * map.c + ch] as usize].frac == fracs[ch]));
        if !uniform {
            continue;
        }
        let lat = Lattice { a: map.w as u64, b: 1 };
        let plan = plan_from(m, StreamTensor { map, lat, fracs }, spatial, parallel, &groups);
        if best.as_ref().is_none_or(|b| plan.streamed() > b.streamed()) {
            best = Some(plan);
        }
    }
    match best {
        Some(p) if p.streamed() > 0 => Ok(p),
        _ if p > 1 => {
            Err(StreamError::NoGroupedWindow { pixels: p, input: input.name.clone(), shape: input.shape.clone() })
        }
        _ => Err(StreamError::NoWindow { input: input.name.clone(), shape: input.shape.clone() }),
    }
}

fn plan_from(m: &QModel, input: StreamTensor, spatial: usize, parallel: &BTreeSet<String>, groups: &[usize]) -> Plan {
    let beats = input.map.pixels();
    let mut maps: Vec<Option<StreamTensor>> = vec![None; m.tensors.len()];
    maps[m.input.0 as usize] = Some(input.clone());
    let mut layers = vec![None; m.layers.len()];
    for (li, l) in m.layers.iter().enumerate() {
        if parallel.contains(&l.name) {
            continue;
        }
        let Some(ins) = l.inputs.iter().map(|t| maps[t.0 as usize].clone()).collect::<Option<Vec<_>>>() else {
            continue;
        };
        let in_elems: Vec<&[tachyon_quantize::Elem]> = l.inputs.iter().map(|t| &m.tensor(*t).elems[..]).collect();
        let out = m.tensor(l.output);
        let found = match &l.kind {
            LayerKind::Requant(_) | LayerKind::Relu | LayerKind::Threshold(_) | LayerKind::Lookup(_) => {
                if ins.len() != 1 || ins[0].map.at.len() != out.elems.len() {
                    continue;
                }
                per_channel(&l.kind, &ins[0], in_elems[0], &out.elems)
                    .map(|(k, fracs)| (StreamLayer::Elementwise(k), StreamTensor { fracs, ..ins[0].clone() }))
            }
            LayerKind::Linear { .. } | LayerKind::Gather(_) | LayerKind::Max(_) | LayerKind::Product(_) => {
                let (op, rows, bias) = as_rows(&l.kind);
                let same = ins.iter().all(|t| (t.map.h, t.map.w, t.lat) == (ins[0].map.h, ins[0].map.w, ins[0].lat));
                if !same {
                    continue;
                }
                // Of the layouts under which the layer is a window, the one with the fewest taps
                // (a transpose read the right way round is a plain wire per channel).
                PixelMap::grouped_layouts(&out.shape, spatial, groups)
                    .into_iter()
                    .filter_map(|map| {
                        let (rows, bias, fracs) = normalize(op, &ins, &in_elems, &map, &out.elems, &rows, &bias)?;
                        let in_maps: Vec<&PixelMap> = ins.iter().map(|t| &t.map).collect();
                        let win = window(op, &in_maps, &map, &rows, &bias)?;
                        let lat = schedule(&win, ins[0].lat, beats)?;
                        Some((StreamLayer::Window(win), StreamTensor { map, lat, fracs }))
                    })
                    .min_by_key(|(w, _)| match w {
                        StreamLayer::Window(w) => w.taps.len(),
                        StreamLayer::Elementwise(_) => 0,
                    })
            }
            LayerKind::Softmax(_) | LayerKind::LayerNorm(_) => None,
        };
        if let Some((how, out)) = found {
            layers[li] = Some(StreamedLayer { how, out: out.clone() });
            maps[l.output.0 as usize] = Some(out);
        }
    }
    Plan { beats, input, maps, layers }
}

/// `v · 2^e`, if exact.
fn scaled(v: i128, e: i32) -> Option<i128> {
    if e >= 0 {
        v.checked_mul(1i128.checked_shl(e as u32)?)
    } else {
        let d = 1i128.checked_shl((-e) as u32)?;
        (v % d == 0).then(|| v / d)
    }
}

/// The finest grid of each channel of `map` over `elems`.
fn finest(map: &PixelMap, elems: &[tachyon_quantize::Elem]) -> Vec<i32> {
    (0..map.c)
        .map(|ch| (0..map.pixels()).map(|p| elems[map.at[p * map.c + ch] as usize].frac).max().unwrap_or(0))
        .collect()
}

/// Rows and bias of a window-shaped layer rewritten for the stream's channel grids (see
/// [`StreamTensor`]), and the output channels' grids; `None` when some coefficient would not
/// stay an integer, or (for maxima, gathers and products, which do not rescale) when the grids
/// do not line up.
fn normalize(
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
fn per_channel(
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
type Rows = Vec<Vec<(u32, i128)>>;

/// A window-shaped kind as sparse rows over its (concatenated) inputs.
fn as_rows(kind: &LayerKind) -> (WindowOp, Rows, Vec<i128>) {
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
fn window(op: WindowOp, ins: &[&PixelMap], out: &PixelMap, rows: &[Vec<(u32, i128)>], bias: &[i128]) -> Option<Window> {
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
fn schedule(win: &Window, lat: Lattice, beats: usize) -> Option<Lattice> {
    let out = Lattice { a: lat.a * win.stride.0 as u64, b: lat.b * win.stride.1 as u64 };
    if win.h > 1 && out.b * (win.w as u64 - 1) >= out.a {
        return None;
    }
    let span = out.a * (win.h as u64 - 1) + out.b * (win.w as u64 - 1);
    (span < beats as u64).then_some(out)
}

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
    let ys = super::lower_layer(b, kind, &x.chans, &out, Strategy::Auto);
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
        WindowOp::Linear => super::linear::lower_linear(b, &taps, &win.rows, &win.bias, strategy),
        WindowOp::Gather => win.rows.iter().map(|r| taps[r[0].0 as usize]).collect(),
        WindowOp::Max => win
            .rows
            .iter()
            .map(|r| {
                let vs = r.iter().map(|&(t, _)| taps[t as usize]).collect();
                super::softmax::tree(b, vs, &mut super::softmax::max2)
            })
            .collect(),
        WindowOp::Product => win
            .rows
            .iter()
            .map(|r| match r.as_slice() {
                [(t, 3)] => super::product(b, taps[*t as usize], taps[*t as usize]),
                [(t1, _), (t2, _)] => super::product(b, taps[*t1 as usize], taps[*t2 as usize]),
                _ => unreachable!("a product row has two operands"),
            })
            .collect(),
    };
    let ys = ys.into_iter().zip(hull).map(|(y, &(lo, hi))| narrow(b, y, lo.max(y.lo), hi.min(y.hi))).collect();
    Stream { chans: ys, h: win.h, w: win.w, lat: out_lat }
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
