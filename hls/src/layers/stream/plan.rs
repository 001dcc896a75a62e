//! Stream analysis: the pixel maps of tensors, the types of the stream schedule, and [`plan`],
//! which decides layer by layer, in topological order, which layers provably stream.
//!
//! Expects: a verified quantized model. Guarantees: a [`Plan`] streams at least one layer; a
//! streamed layer's inputs all stream, on one grid and lattice; its output map and lattice are
//! in the plan (in [`StreamedLayer::out`] and [`Plan::maps`] alike); every streamed output pixel
//! gets its own cycle within one frame period.

use super::window::{as_rows, normalize, per_channel, schedule, upsample, upsample_schedule, window};
use std::collections::BTreeSet;
use tachyon_quantize::qir::{LayerKind, QModel};

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

    pub(super) fn pixels(&self) -> usize {
        self.h * self.w
    }

    /// `(pos, ch)` of every flat element.
    pub(super) fn inverse(&self) -> Vec<(usize, usize)> {
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

/// A gather proven to be a nearest-neighbour upsampling: output pixel `(r', c')`, channel `ch`
/// is input pixel `(⌊r'/fr⌋, ⌊c'/fc⌋)`, channel `src[ch]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upsample {
    /// `(fr, fc)`, at least one of them above 1.
    pub factor: (usize, usize),
    /// Per output channel: the input channel it copies.
    pub src: Vec<u32>,
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
    Upsample(Upsample),
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
    pub(super) fn scale(&self, elems: &[tachyon_quantize::Elem], e: usize, ch: usize) -> i32 {
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
    #[error(
        "{pixels} pixels per clock need a row width divisible by {pixels}; the input '{input}' has shape {shape:?}"
    )]
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
                        StreamLayer::Elementwise(_) | StreamLayer::Upsample(_) => 0,
                    })
                    .or_else(|| {
                        // Not a window: a gather may still be a nearest-neighbour upsampling,
                        // which streams when the input's lattice is coarse enough.
                        if !matches!(l.kind, LayerKind::Gather(_)) || ins.len() != 1 {
                            return None;
                        }
                        PixelMap::grouped_layouts(&out.shape, spatial, &[1]).into_iter().find_map(|map| {
                            let (rows, _, fracs) = normalize(op, &ins, &in_elems, &map, &out.elems, &rows, &bias)?;
                            let up = upsample(&ins[0].map, &map, &rows)?;
                            let lat = upsample_schedule(&up, ins[0].lat, beats)?;
                            Some((StreamLayer::Upsample(up), StreamTensor { map, lat, fracs }))
                        })
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
