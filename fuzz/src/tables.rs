//! Level (a) of `tachyon fuzz` around table layers. Softmax, sigmoid and layer normalization
//! are computed through tables (`quantize::lower::tables`); the tables are the specification,
//! so the float model may differ from them by what the tables' geometry allows, and nothing
//! more. Each such ONNX node is a *site*: the float run is compared with the interpreter's
//! value of the node's output within the site's bound ([`site_tolerance`]), then continues from
//! the interpreter's value, so every op before and after a table is still compared exactly —
//! a table in the middle of a network does not loosen the check of the layers around it.

use tachyon_frontend::eval::eval_op;
use tachyon_frontend::{DType, Graph, Op, Tensor, ValueId};
use tachyon_quantize::qir::LayerNormSpec;
use tachyon_quantize::{interp, Config, LayerKind, QModel, TensorId};

/// An ONNX node lowered through tables, and the tensor the interpreter computes for its output.
#[derive(Clone, Debug)]
pub struct TableSite {
    pub node: String,
    pub value: ValueId,
    pub tensor: TensorId,
    /// Indices of its table layers in `q.layers` (one per softmax row or normalized group).
    pub layers: Vec<usize>,
}

/// Every node of `g` lowered through a table layer; `Err` when one's output is not a tensor of
/// `q` (level (a) cannot then be checked around it).
pub fn table_sites(g: &Graph, q: &QModel) -> Result<Vec<TableSite>, String> {
    let mut sites = vec![];
    for n in &g.nodes {
        if !matches!(n.op, Op::Softmax { .. } | Op::Sigmoid | Op::LayerNorm { .. }) {
            continue;
        }
        let mine = |k: &usize| q.layers[*k].origin.contains(&n.name);
        let layers: Vec<usize> = (0..q.layers.len())
            .filter(mine)
            .filter(|&k| {
                matches!(q.layers[k].kind, LayerKind::Softmax(_) | LayerKind::Lookup(_) | LayerKind::LayerNorm(_))
            })
            .collect();
        if layers.is_empty() {
            continue; // tabulated exactly with the quantizer after it (thresholds)
        }
        let (Some(&value), Some(last)) = (n.outputs.first(), (0..q.layers.len()).rev().find(mine)) else {
            return Err(format!("table node '{}' has no output", n.name));
        };
        let tensor = q.layers[last].output;
        let len = g.value(value).shape.as_ref().map(|s| s.iter().product::<usize>());
        if q.tensor(tensor).name != g.value(value).name || len != Some(q.tensor(tensor).elems.len()) {
            return Err(format!("the output of table node '{}' is not a tensor of the lowered model", n.name));
        }
        sites.push(TableSite { node: n.name.clone(), value, tensor, layers });
    }
    Ok(sites)
}

/// The largest |float − table| a softmax or sigmoid layer allows, from its geometry. By design
/// (`lower::tables`):
/// * sigmoid: entries are taken at bin midpoints, off by at most step/2 · max σ' = step/8, plus
///   the tail beyond ±range and the output rounding;
/// * softmax: flooring max − x into exp bins inflates each exponential by at most e^step (exact
///   when every grid point has its own entry), the 1/x table is off by half a bin relative to
///   2^exp_frac, the tables and the output are rounded, and exponentials beyond exp_range vanish.
fn static_tolerance(q: &QModel, cfg: &Config, k: usize) -> f64 {
    let l = &q.layers[k];
    let f = q.layer_input_elems(l).first().map_or(0, |e| e.frac);
    match &l.kind {
        LayerKind::Lookup(t) => {
            let c = &cfg.sigmoid;
            let step = 2f64.powi(t.shift as i32 - f);
            step / 8.0 + 1.0 / (1.0 + (c.range - step / 2.0).exp()) + 2f64.powi(-(c.output_frac as i32))
        }
        LayerKind::Softmax(s) => {
            let c = &cfg.softmax;
            let n = q.tensor(l.output).elems.len() as f64;
            let step = 2f64.powi(s.exp_shift as i32 - f);
            let bins = if s.exp_shift > 0 { step.exp() - 1.0 } else { 0.0 };
            let e = 2f64.powi(-(c.exp_frac as i32));
            bins + 2f64.powi(s.inv_shift as i32) * e
                + 2.0 * n * e
                + 2.0 * 2f64.powi(-(c.output_frac as i32))
                + n * (-(c.exp_range - step)).exp()
        }
        _ => 0.0,
    }
}

/// The largest |float − table| of a layer normalization on the integer input `x`, from its
/// [`LayerNormSpec`] (with G = shift − p − hmax − output_frac, γ_i·√n ≈ gain_i · 2^-G):
/// * the 1/√x table: relative error δ_r at most the largest |entry·√x/2^p − 1| over the ends
///   of the mantissa bins each entry serves;
/// * ε as an integer: V = ΣD² + eps with eps = round(ε·n³·4^f), at least 1, so off by at most
///   Δ = ½ (1 when eps = 1); relative error of √V at most δ_e = √(V/(V−Δ)) − 1 (0 when every
///   D is 0: the output is then B exactly);
/// * |D_i|/√V ≤ 1, so the normalized term is off by at most max|γ·√n| · (δ_r + δ_e), plus the
///   gain's rounding (½ · 2^-G relative), the output and B roundings (2^-output_frac) and
///   float32's own rounding of the float result.
fn layernorm_tolerance(s: &LayerNormSpec, out_frac: i32, x: &[i128]) -> f64 {
    let half = 1i128 << (s.mant_bits - 1);
    let mut dr: f64 = 0.0;
    for (pi, table) in s.rsqrt.iter().enumerate() {
        for (idx, &r) in table.iter().enumerate() {
            for m in [half + idx as i128, half + idx as i128 + 1] {
                let ratio = r as f64 * (m as f64 * f64::powi(2.0, pi as i32)).sqrt() / f64::powi(2.0, s.p as i32);
                dr = dr.max((ratio - 1.0).abs());
            }
        }
    }
    let n = x.len() as i128;
    let sum: i128 = x.iter().sum();
    let a: i128 = x.iter().map(|&v| (n * v - sum) * (n * v - sum)).sum();
    let de = if a == 0 {
        0.0
    } else {
        let v = (a + s.eps) as f64;
        let delta = if s.eps == 1 { 1.0 } else { 0.5 };
        (v / (v - delta)).sqrt() - 1.0
    };
    let g = s.shift as i32 - s.p as i32 - s.hmax + out_frac;
    let gmax = (s.gain.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0) as f64 + 0.5) * f64::powi(2.0, -g);
    let bmax = (s.bias.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0) as f64 + 0.5) * f64::powi(2.0, -out_frac);
    gmax * (dr + de) + (1.0 + dr) * f64::powi(2.0, -g - 1) + f64::powi(2.0, -out_frac) + (gmax + bmax) * 2e-7
}

/// The bound of `site` on this vector (`ints`: every tensor's integers).
pub fn site_tolerance(q: &QModel, cfg: &Config, site: &TableSite, ints: &[Vec<i128>]) -> f64 {
    site.layers
        .iter()
        .map(|&k| match &q.layers[k].kind {
            LayerKind::LayerNorm(s) => {
                let l = &q.layers[k];
                let x: Vec<i128> = l.inputs.iter().flat_map(|t| ints[t.0 as usize].iter().copied()).collect();
                let of = q.tensor(l.output).elems.first().map_or(0, |e| e.frac);
                layernorm_tolerance(s, of, &x)
            }
            _ => static_tolerance(q, cfg, k),
        })
        .fold(0.0, f64::max)
}

/// The largest `|a − b|`, NaN when any difference is NaN (`f64::max` would drop it: a NaN at a
/// table site must fail the comparison, not pass as 0).
fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, |m, d| if m.is_nan() || d.is_nan() { f64::NAN } else { m.max(d) })
}

/// How far the float model came from the tables on one vector.
#[derive(Clone, Copy, Debug, Default)]
pub struct SiteStats {
    pub max_abs_diff: f64,
    pub max_tolerance: f64,
}

/// Runs `g` in float semantics on `x`; at every site compares the float output with the
/// interpreter's (`Err` naming the node beyond its bound) and continues from the interpreter's
/// value. Returns the graph's first output.
pub fn run_float_through_tables(
    g: &Graph,
    q: &QModel,
    cfg: &Config,
    sites: &[TableSite],
    x: &[f64],
    stats: &mut SiteStats,
) -> Result<Vec<f64>, String> {
    let ints = if sites.is_empty() { vec![] } else { interp::run_all(q, &interp::quantize_input(q, x)?) };
    let mut vals: Vec<Option<Tensor>> = g.values.iter().map(|v| v.konst.clone()).collect();
    let &[input] = &g.inputs[..] else {
        return Err(format!("the model has {} inputs, the fuzzer drives one", g.inputs.len()));
    };
    vals[input.0 as usize] = Some(Tensor::new(DType::F32, q.prologue.input_shape.clone(), x.to_vec()));
    for n in &g.nodes {
        if n.op == Op::Constant || n.outputs.iter().all(|o| vals[o.0 as usize].is_some()) {
            continue;
        }
        let ins: Vec<Option<&Tensor>> = n.inputs.iter().map(|i| i.and_then(|i| vals[i.0 as usize].as_ref())).collect();
        let outs = eval_op(&n.op, &ins, g.opset).map_err(|e| format!("{}: {e}", n.node_ref()))?;
        for (o, mut t) in n.outputs.iter().zip(outs) {
            if let Some(site) = sites.iter().find(|s| s.value == *o) {
                let elems = &q.tensor(site.tensor).elems;
                let table: Vec<f64> = ints[site.tensor.0 as usize]
                    .iter()
                    .zip(elems)
                    .map(|(&v, e)| v as f64 * 2f64.powi(-e.frac))
                    .collect();
                let tol = site_tolerance(q, cfg, site, &ints);
                let d = max_abs_diff(&t.data, &table);
                if t.data.len() != table.len() || d.is_nan() || d > tol {
                    return Err(format!(
                        "table node '{}' is off by {d} (bound {tol})\n  float       {:?}\n  interpreter {table:?}",
                        site.node, t.data
                    ));
                }
                stats.max_abs_diff = stats.max_abs_diff.max(d);
                stats.max_tolerance = stats.max_tolerance.max(tol);
                t.data = table;
            }
            vals[o.0 as usize] = Some(t);
        }
    }
    let out = g.outputs.first().ok_or("the model has no output")?;
    vals[out.0 as usize].take().map(|t| t.data).ok_or_else(|| "the output was not computed".to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_nan_difference_is_not_dropped() {
        assert!(super::max_abs_diff(&[1.0, f64::NAN, 2.0], &[1.0, 0.5, 2.5]).is_nan());
        assert!(super::max_abs_diff(&[f64::NAN], &[0.0]).is_nan());
        assert_eq!(super::max_abs_diff(&[1.0, 2.0], &[1.5, 2.0]), 0.5);
    }
}
