//! Convolution and pooling over any number of spatial axes: Conv, MaxPool, AveragePool.
//! Conv accumulates in f64 and rounds once (bias included), like MatMul.

use super::{check_size, fit, next_coord, out_dtype, R};
use crate::ir::{AutoPad, Window};
use crate::tensor::Tensor;

/// Most window taps (output positions × kernel size) one Conv or pool may visit.
const MAX_TAPS: usize = 1 << 30;

/// One spatial axis of a window, resolved against the input size.
struct Axis {
    size: i128,
    stride: i128,
    dilation: i128,
    pad_begin: i128,
    pad_end: i128,
}

/// Where one kernel tap of one output position reads.
#[derive(Clone, Copy, PartialEq)]
enum Tap {
    /// Flat spatial index into the input.
    Input(usize),
    /// The explicit (or automatic) padding.
    Pad,
    /// Past the end padding: only a `ceil_mode` window overhangs that far.
    Beyond,
}

/// A window slid over the spatial axes of an input.
struct Geometry {
    axes: Vec<Axis>,
    kernel: Vec<usize>,
    /// Number of taps of the kernel.
    kernel_len: usize,
    out: Vec<usize>,
}

impl Geometry {
    /// Resolves strides, dilations and pads (explicit or `auto_pad`) against the spatial sizes;
    /// `what` names the op in errors.
    fn new(w: &Window, spatial: &[usize], kernel: &[usize], ceil_mode: bool, what: &str) -> R<Geometry> {
        let k = spatial.len();
        let attr = |v: &Option<Vec<usize>>, name: &str, len: usize, default: usize| match v {
            None => Ok(vec![default; len]),
            Some(v) if v.len() == len => Ok(v.clone()),
            Some(v) => Err(format!("{what} attribute '{name}' has {} values for {k} spatial axes", v.len())),
        };
        if kernel.len() != k {
            return Err(format!(
                "{what} kernel {kernel:?} has {} axes but the input has {k} spatial axes",
                kernel.len()
            ));
        }
        let strides = attr(&w.strides, "strides", k, 1)?;
        let dilations = attr(&w.dilations, "dilations", k, 1)?;
        let pads = attr(&w.pads, "pads", 2 * k, 0)?;
        let (mut axes, mut out) = (Vec::with_capacity(k), Vec::with_capacity(k));
        for i in 0..k {
            let (d, s, dl) = (spatial[i] as i128, strides[i] as i128, dilations[i] as i128);
            if d == 0 || kernel[i] == 0 || s == 0 || dl == 0 {
                return Err(format!(
                    "{what}: spatial axis {i} has size {d}, kernel {}, stride {s} and dilation {dl}; all must be \
                     positive",
                    kernel[i]
                ));
            }
            let span = dl * (kernel[i] as i128 - 1) + 1;
            let (pb, pe) = match w.auto_pad {
                AutoPad::NotSet => (pads[i] as i128, pads[i + k] as i128),
                AutoPad::Valid => (0, 0),
                AutoPad::SameUpper | AutoPad::SameLower => {
                    let total = (((d + s - 1) / s - 1) * s + span - d).max(0);
                    let small = total / 2;
                    if w.auto_pad == AutoPad::SameUpper {
                        (small, total - small)
                    } else {
                        (total - small, small)
                    }
                }
            };
            let room = d + pb + pe - span;
            if room < 0 {
                return Err(format!(
                    "{what}: the window spans {span} cells along spatial axis {i} but the padded input has only {}",
                    d + pb + pe
                ));
            }
            let mut n = room / s + 1;
            if ceil_mode && w.auto_pad == AutoPad::NotSet && room % s != 0 {
                n += 1;
                // The last window must start inside the input or the begin padding.
                if (n - 1) * s >= d + pb {
                    n -= 1;
                }
            }
            out.push(usize::try_from(n).map_err(|_| format!("{what}: output axis {i} is too large"))?);
            axes.push(Axis { size: d, stride: s, dilation: dl, pad_begin: pb, pad_end: pe });
        }
        let kernel_len = check_size(kernel).map_err(|_| format!("{what} kernel {kernel:?} is too large"))?;
        let windows = check_size(&out)?;
        if windows.saturating_mul(kernel_len) > MAX_TAPS {
            return Err(format!("{what}: {windows} windows of {kernel_len} taps each are too many to evaluate"));
        }
        Ok(Geometry { axes, kernel: kernel.to_vec(), kernel_len, out })
    }

    /// Calls `f(o, taps)` for every output position `o` (flat, C order) with where each kernel
    /// tap (flat, C order) of its window reads.
    fn windows(&self, mut f: impl FnMut(usize, &[Tap])) {
        let no: usize = self.out.iter().product();
        let mut taps = Vec::with_capacity(self.kernel_len);
        let mut o = vec![0; self.out.len()];
        for flat_o in 0..no {
            taps.clear();
            let mut t = vec![0; self.kernel.len()];
            for _ in 0..self.kernel_len {
                let mut tap = Tap::Input(0);
                for (i, a) in self.axes.iter().enumerate() {
                    let p = o[i] as i128 * a.stride + t[i] as i128 * a.dilation - a.pad_begin;
                    tap = match tap {
                        _ if p < -a.pad_begin || p >= a.size + a.pad_end => Tap::Beyond,
                        Tap::Beyond => Tap::Beyond,
                        _ if p < 0 || p >= a.size => Tap::Pad,
                        Tap::Pad => Tap::Pad,
                        Tap::Input(flat) => Tap::Input(flat * a.size as usize + p as usize),
                    };
                }
                taps.push(tap);
                next_coord(&mut t, &self.kernel);
            }
            f(flat_o, &taps);
            next_coord(&mut o, &self.out);
        }
    }
}

/// The output shape N×C×(window outputs…).
fn out_shape(n: usize, c: usize, g: &Geometry) -> R<Vec<usize>> {
    let shape = [&[n, c][..], &g.out].concat();
    check_size(&shape)?;
    Ok(shape)
}

/// Conv of `x` (N×C×D1×…) with weights `w` (M×C/group×k1×…) and an optional bias of M.
pub(super) fn conv(x: &Tensor, w: &Tensor, b: Option<&Tensor>, win: &Window, group: usize) -> R<Tensor> {
    let r = x.shape.len();
    if r < 3 {
        return Err(format!("Conv input of shape {:?}: needs N×C×D1×… (at least one spatial axis)", x.shape));
    }
    if w.shape.len() != r {
        return Err(format!("Conv weights of shape {:?} do not match the input of shape {:?}", w.shape, x.shape));
    }
    let (n, c, m, cg) = (x.shape[0], x.shape[1], w.shape[0], w.shape[1]);
    if group == 0 || cg.checked_mul(group) != Some(c) || m % group != 0 {
        return Err(format!(
            "Conv with group={group}: the input has {c} channels and the weights {m}×{cg}; needs {cg}×{group} input \
             channels and a multiple of {group} output channels"
        ));
    }
    let kernel = &w.shape[2..];
    if let Some(k) = win.kernel.as_ref().filter(|k| k.as_slice() != kernel) {
        return Err(format!("Conv attribute 'kernel_shape' {k:?} differs from the weights' kernel {kernel:?}"));
    }
    if let Some(b) = b.filter(|b| b.len() != m) {
        return Err(format!("Conv bias has {} values for {m} output channels", b.len()));
    }
    let g = Geometry::new(win, &x.shape[2..], kernel, false, "Conv")?;
    let shape = out_shape(n, m, &g)?;
    let (no, nk, ns) = (g.out.iter().product::<usize>(), g.kernel_len, x.shape[2..].iter().product::<usize>());
    let per_group = m / group;
    let dt = out_dtype(&[x, w]);
    let mut data = vec![0.0; n * m * no];
    g.windows(|o, taps| {
        for bi in 0..n {
            for oc in 0..m {
                let first_channel = oc / per_group * cg;
                let mut s = 0.0;
                for ci in 0..cg {
                    let (xc, wc) = ((bi * c + first_channel + ci) * ns, (oc * cg + ci) * nk);
                    for (t, tap) in taps.iter().enumerate() {
                        if let Tap::Input(p) = tap {
                            s += x.data[xc + p] * w.data[wc + t];
                        }
                    }
                }
                data[(bi * m + oc) * no + o] = fit(dt, s + b.map_or(0.0, |b| b.data[oc]));
            }
        }
    });
    Ok(Tensor::new(dt, shape, data))
}

/// Applies `f(inputs, padding taps)` to every window of every N×C plane.
fn pool(x: &Tensor, win: &Window, ceil_mode: bool, what: &str, f: impl Fn(&[f64], usize) -> f64) -> R<Tensor> {
    if x.shape.len() < 3 {
        return Err(format!("{what} input of shape {:?}: needs N×C×D1×… (at least one spatial axis)", x.shape));
    }
    let kernel = win.kernel.as_ref().ok_or_else(|| format!("{what} needs the attribute 'kernel_shape'"))?;
    let g = Geometry::new(win, &x.shape[2..], kernel, ceil_mode, what)?;
    let shape = out_shape(x.shape[0], x.shape[1], &g)?;
    let (no, ns) = (g.out.iter().product::<usize>(), x.shape[2..].iter().product::<usize>());
    let mut data = vec![0.0; x.shape[0] * x.shape[1] * no];
    let mut vals = Vec::with_capacity(g.kernel_len);
    g.windows(|o, taps| {
        let pads = taps.iter().filter(|&&t| t == Tap::Pad).count();
        for (pi, plane) in x.data.chunks(ns).enumerate() {
            vals.clear();
            vals.extend(taps.iter().filter_map(|t| if let Tap::Input(p) = t { Some(plane[*p]) } else { None }));
            data[pi * no + o] = fit(x.dtype, f(&vals, pads));
        }
    });
    Ok(Tensor::new(x.dtype, shape, data))
}

/// MaxPool: the largest input in each window (padding never wins; −∞ for a window of padding only).
pub(super) fn max_pool(x: &Tensor, win: &Window, ceil_mode: bool) -> R<Tensor> {
    pool(x, win, ceil_mode, "MaxPool", |v, _| v.iter().copied().fold(f64::NEG_INFINITY, f64::max))
}

/// AveragePool: the mean over the inputs of each window, the padding counted as zeros when
/// `count_include_pad` (but never the `ceil_mode` overhang past the end padding).
pub(super) fn average_pool(x: &Tensor, win: &Window, ceil_mode: bool, count_include_pad: bool) -> R<Tensor> {
    pool(x, win, ceil_mode, "AveragePool", |v, pads| {
        let n = v.len() + if count_include_pad { pads } else { 0 };
        v.iter().sum::<f64>() / n as f64
    })
}
