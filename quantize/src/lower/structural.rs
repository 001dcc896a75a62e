//! Structural lowerings: ops whose quantized form follows from evaluating them, not from
//! per-op arithmetic rules. Each reads one or more computed tensors (constants beside them are
//! parameters) and falls in one of three families:
//!
//! * **wiring** (Concat, Slice, Gather, Expand, Tile, Split, Transpose …): the op is evaluated
//!   once on the element indices of its inputs; what comes out says where each output element
//!   comes from ([`LayerKind::Gather`]);
//! * **linear** (Add/Sub of two computed tensors, MatMul with the weights on the left, Einsum,
//!   ReduceSum/ReduceMean, Conv, average pooling, Pad, Concat with constants …): the op is
//!   evaluated on zero and on every unit vector of its inputs' concatenation, which yields the
//!   bias and the coefficient of every input in every output ([`LayerKind::Linear`]);
//! * **maxima** (ReduceMax, MaxPool, GlobalMaxPool, Max of several tensors): evaluated on every
//!   unit vector, an output that turns to one reads that input ([`LayerKind::Max`]); Min of
//!   several tensors is the negated maximum of the negated inputs.
//!
//! The evaluations use the front end's float semantics in binary64, so each coefficient is the
//! model's own constant; a result that is not exact in binary64 is refused rather than rounded.

use super::dense::{dyadic, GRID_FRAC};
use super::Lowerer;
use crate::config::Field;
use crate::error::QuantizeError;
use crate::fixed::Elem;
use crate::qir::{LayerKind, TensorId};
use tachyon_frontend::eval::broadcast_index;
use tachyon_frontend::eval::eval_op;
use tachyon_frontend::{DType, Node, Op, Tensor};

/// Largest `inputs × outputs` a linear or max op is probed for (a dense coefficient matrix of
/// this many entries is looked at).
const MAX_PROBE: usize = 1 << 28;

/// How a structural op is lowered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    Wiring,
    /// `strict`: the coefficients come from the op's structure (an average's 1/count), not from
    /// weights, so they must be exact fixed-point numbers even in a float model's config.
    Linear {
        strict: bool,
    },
    Max,
    /// Products of two computed operands (Mul, MatMul, Einsum), summed where the op sums.
    Bilinear,
}

/// The family of `n` when its computed inputs are in `slots`, or `None` when it is not structural.
pub(crate) fn family(n: &Node, slots: &[usize]) -> Option<Family> {
    if !n.domain.is_empty() && n.domain != "ai.onnx" {
        return None;
    }
    let single = slots.len() == 1;
    Some(match n.op_type.as_str() {
        "Slice" | "Gather" | "Expand" | "Tile" | "Split" | "Transpose" | "DepthToSpace" | "SpaceToDepth" | "Resize"
        | "Upsample"
            if single && slots[0] == 0 =>
        {
            Family::Wiring
        }
        "Concat" if slots.len() == n.inputs.iter().flatten().count() => Family::Wiring,
        "Mul" | "MatMul" | "Einsum" if slots.len() == 2 => Family::Bilinear,
        // One computed operand of Add/Sub is an affine op with a constant (`lower_affine`).
        "Add" | "Sub" | "Sum" if slots.len() >= 2 => Family::Linear { strict: false },
        "Concat" | "Einsum" | "Pad" | "ReduceSum" => Family::Linear { strict: false },
        "MatMul" | "Gemm" | "Conv" | "ConvTranspose" if single => Family::Linear { strict: false },
        "Mean" | "ReduceMean" | "AveragePool" | "GlobalAveragePool" if single || n.op_type == "Mean" => {
            Family::Linear { strict: true }
        }
        "ReduceMax" | "MaxPool" | "GlobalMaxPool" if single && slots[0] == 0 => Family::Max,
        "Max" | "Min" => Family::Max,
        _ => return None,
    })
}

/// The computed operands of `n`: (input slot, tensor, ONNX shape).
pub(crate) type Operands = [(usize, TensorId, Vec<usize>)];

/// Evaluates `n` with `fill(k, i)` as element `i` of the `k`-th computed operand.
fn evaluate(
    l: &Lowerer,
    n: &Node,
    ops: &Operands,
    dtype: DType,
    fill: &dyn Fn(usize, usize) -> f64,
) -> Result<Vec<Tensor>, QuantizeError> {
    let mut args: Vec<Option<Tensor>> = n.inputs.iter().map(|&v| l.g.konst(v).cloned()).collect();
    for (k, (slot, _, shape)) in ops.iter().enumerate() {
        let count: usize = shape.iter().product();
        args[*slot] = Some(Tensor::new(dtype, shape.clone(), (0..count).map(|i| fill(k, i)).collect()));
    }
    let refs: Vec<Option<&Tensor>> = args.iter().map(|a| a.as_ref()).collect();
    eval_op(&n.op, &refs, l.g.opset).map_err(|e| l.err(n, e))
}

/// Offsets of each operand in the concatenation of the operands' elements, and its length.
fn offsets(ops: &Operands) -> (Vec<usize>, usize) {
    let mut offs = vec![];
    let mut total = 0;
    for (_, _, shape) in ops {
        offs.push(total);
        total += shape.iter().product::<usize>();
    }
    (offs, total)
}

/// Lowers a wiring op: one Gather layer per output.
pub(crate) fn lower_wiring(l: &mut Lowerer, n: &Node, ops: &Operands) -> Result<Vec<TensorId>, QuantizeError> {
    let (offs, total) = offsets(ops);
    if total >= 1 << 24 {
        return Err(l.err(n, format!("{total} input elements are too many to wire")));
    }
    let outs = evaluate(l, n, ops, DType::F32, &|k, i| (offs[k] + i) as f64)?;
    let inputs: Vec<TensorId> = ops.iter().map(|o| o.1).collect();
    let xe: Vec<Elem> = inputs.iter().flat_map(|&t| l.elems(t).to_vec()).collect();
    let mut ids = vec![];
    for (o, out) in outs.iter().enumerate() {
        let Some(&v) = n.outputs.get(o) else { break };
        let src: Vec<u32> = out
            .data
            .iter()
            .map(|&x| {
                if x.fract() == 0.0 && x >= 0.0 && (x as usize) < total {
                    Ok(x as u32)
                } else {
                    Err(l.err(n, "the op does not only move elements (a constant enters the output)"))
                }
            })
            .collect::<Result<_, _>>()?;
        let elems = src.iter().map(|&j| xe[j as usize]).collect();
        let name = l.g.value(v).name.clone();
        let shape = l.g.value(v).shape.clone().unwrap_or_else(|| out.shape.clone());
        let identity = inputs.len() == 1 && src.len() == total && src.iter().enumerate().all(|(i, &j)| i == j as usize);
        ids.push(if identity {
            inputs[0]
        } else {
            l.push_layer_multi(
                &n.name,
                vec![n.name.clone()],
                LayerKind::Gather(src),
                inputs.clone(),
                &name,
                shape,
                elems,
            )
        });
    }
    Ok(ids)
}

/// The output's dense response to every unit input: `f0` at zero input and, per input `j`,
/// the outputs that change with their change.
pub(crate) struct Response {
    pub(crate) f0: Vec<f64>,
    /// Per input element, (output index, change) for every output that moves.
    pub(crate) cols: Vec<Vec<(usize, f64)>>,
    shape: Vec<usize>,
}

pub(crate) fn probe(l: &Lowerer, n: &Node, ops: &Operands) -> Result<Response, QuantizeError> {
    let (offs, total) = offsets(ops);
    let f0 = evaluate(l, n, ops, DType::F64, &|_, _| 0.0)?.swap_remove(0);
    if total.saturating_mul(f0.data.len()) > MAX_PROBE {
        return Err(l.err(
            n,
            format!("{total} inputs × {} outputs is too large to lower this op element by element", f0.data.len()),
        ));
    }
    let mut cols = Vec::with_capacity(total);
    for j in 0..total {
        let k = offs.iter().rposition(|&o| o <= j).unwrap_or(0);
        let at = j - offs[k];
        let y = evaluate(l, n, ops, DType::F64, &|kk, i| if kk == k && i == at { 1.0 } else { 0.0 })?.swap_remove(0);
        let mut col = vec![];
        for (i, (&a, &b)) in y.data.iter().zip(&f0.data).enumerate() {
            let d = a - b;
            if !d.is_finite() || b + d != a {
                return Err(l.err(n, format!("output {i} is not exact in binary64 for input {j}")));
            }
            if d != 0.0 {
                col.push((i, d));
            }
        }
        cols.push(col);
    }
    Ok(Response { shape: f0.shape.clone(), f0: f0.data, cols })
}

/// Lowers a linear op to one Linear layer over the concatenation of its computed operands.
/// For an average over a count that is not a power of two (`strict` in a quantized model), the
/// layer computes `divisor ×` the average exactly and returns the per-element odd divisors,
/// which the quantizer that must follow divides by; otherwise the divisors are all 1.
/// `post`: a per-output affine map `y ↦ a·y + c` (a batch norm folded in a float model) applied
/// to the float coefficients before they are quantized.
pub(crate) fn lower_linear(
    l: &mut Lowerer,
    n: &Node,
    ops: &Operands,
    strict: bool,
    post: Option<(&[f64], &[f64])>,
) -> Result<(TensorId, Vec<u32>), QuantizeError> {
    let mut r = probe(l, n, ops)?;
    if let Some((a, c)) = post {
        if a.len() != r.f0.len() || c.len() != r.f0.len() {
            return Err(l.err(n, "internal error: the folded batch norm does not match the op's outputs"));
        }
        for (i, b) in r.f0.iter_mut().enumerate() {
            *b = *b * a[i] + c[i];
        }
        for col in &mut r.cols {
            for (i, d) in col.iter_mut() {
                *d *= a[*i];
            }
            col.retain(|&(_, d)| d != 0.0);
        }
    }
    let inputs: Vec<TensorId> = ops.iter().map(|o| o.1).collect();
    let v = n.outputs[0];
    let name = l.g.value(v).name.clone();
    let shape = l.g.value(v).shape.clone().unwrap_or_else(|| r.shape.clone());
    // Every output a copy of one input (pair building by one-hot matrices, padding-free
    // reshuffles): wiring.
    let mut src = vec![None; r.f0.len()];
    let mut copies = post.is_none() && r.f0.iter().all(|&b| b == 0.0);
    for (j, col) in r.cols.iter().enumerate() {
        for &(i, d) in col {
            copies &= d == 1.0 && src[i].replace(j as u32).is_none();
        }
    }
    if copies && src.iter().all(Option::is_some) {
        let src: Vec<u32> = src.into_iter().flatten().collect();
        let xe: Vec<Elem> = inputs.iter().flat_map(|&t| l.elems(t).to_vec()).collect();
        let elems = src.iter().map(|&j| xe[j as usize]).collect();
        let t = l.push_layer_multi(&n.name, vec![n.name.clone()], LayerKind::Gather(src), inputs, &name, shape, elems);
        return Ok((t, vec![1; r.f0.len()]));
    }
    let exact = strict && !l.float_mode;
    // Per output: its terms (input, value).
    let mut terms: Vec<Vec<(u32, f64)>> = vec![vec![]; r.f0.len()];
    for (j, col) in r.cols.iter().enumerate() {
        for &(i, d) in col {
            terms[i].push((j as u32, d));
        }
    }
    let mut rows: Vec<Vec<(u32, i128, i32)>> = Vec::with_capacity(terms.len());
    let mut bias = Vec::with_capacity(terms.len());
    let mut divisors = Vec::with_capacity(terms.len());
    for (row, &b) in terms.iter().zip(&r.f0) {
        if !exact {
            let mut out = Vec::with_capacity(row.len());
            for &(j, d) in row {
                let (m, f) = l.constant(&n.name, d, Field::Weight)?;
                out.push((j, m, f));
            }
            rows.push(out);
            bias.push(l.constant(&n.name, b, Field::Bias)?);
            divisors.push(1);
            continue;
        }
        // One divisor for the whole row: the least common multiple of its terms' odd divisors.
        let mut div = 1u64;
        for v in row.iter().map(|t| t.1).chain(std::iter::once(b)) {
            let d = strict_coefficient(l, n, v)?.0 as u64;
            div = div / gcd(div, d) * d;
            if div > MAX_DIV as u64 {
                return Err(l.err(n, format!("the op's divisors multiply past {MAX_DIV}")));
            }
        }
        let scaled = |v: f64| -> Result<(i128, i32), QuantizeError> {
            match strict_coefficient(l, n, v * div as f64)? {
                (1, m, f) => Ok((m, f)),
                _ => Err(l.err(n, format!("coefficient {v} times {div} is not exact"))),
            }
        };
        let mut out = Vec::with_capacity(row.len());
        for &(j, d) in row {
            let (m, f) = scaled(d)?;
            out.push((j, m, f));
        }
        rows.push(out);
        bias.push(scaled(b)?);
        divisors.push(div as u32);
    }
    Ok((l.build_linear(n, &inputs, rows, bias, shape, &name, None)?, divisors))
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Largest odd divisor an average may need (a count of 4095 elements, times a power of two).
const MAX_DIV: u32 = 4095;

/// `v · D` as an exact fixed-point number for the smallest odd `D ≤ MAX_DIV`: `(D, m, f)` with
/// `v · D = m · 2^-f`. The op's coefficient is a count's reciprocal, which binary64 holds only
/// rounded, so `v · D` is snapped to the 2^-GRID_FRAC grid when it lies within 10^-9 of it.
fn odd_denominator(v: f64) -> Option<(u32, i128, i32)> {
    let grid = f64::powi(2.0, GRID_FRAC);
    (1..=MAX_DIV).step_by(2).find_map(|d| {
        let s = v * d as f64 * grid;
        let r = s.round();
        ((s - r).abs() < 1e-9 * s.abs().max(1.0)).then(|| dyadic(r / grid, GRID_FRAC)).flatten().map(|(m, f)| (d, m, f))
    })
}

/// An exact coefficient of a structural op (an average's reciprocal count) with the odd divisor
/// it needs: `(divisor, m, f)` where the coefficient is `m · 2^-f / divisor`.
fn strict_coefficient(l: &Lowerer, n: &Node, v: f64) -> Result<(u32, i128, i32), QuantizeError> {
    if let Some((m, f)) = dyadic(v, GRID_FRAC) {
        return Ok((1, m, f));
    }
    odd_denominator(v).ok_or_else(|| {
        l.err(
            n,
            format!(
                "the op scales by {v}, which is not an exact fraction with an odd denominator of at most \
                 {MAX_DIV}; use a sum followed by a quantized constant multiply"
            ),
        )
    })
}

/// Lowers a max op to one Max layer, aligning the inputs to one grid first when they differ;
/// a `Min` is `−max(−x…)` (the inputs negated on one grid, a Max layer, the result negated).
pub(crate) fn lower_max(l: &mut Lowerer, n: &Node, ops: &Operands) -> Result<TensorId, QuantizeError> {
    let min = n.op == Op::Min;
    let as_max;
    let probed = if min {
        as_max = Node { op: Op::Max, op_type: "Max".into(), ..n.clone() };
        &as_max
    } else {
        n
    };
    let r = probe(l, probed, ops)?;
    if r.f0.iter().any(|&v| v != 0.0) {
        return Err(l.err(n, "a maximum with a constant operand is not supported"));
    }
    let mut sets: Vec<Vec<u32>> = vec![vec![]; r.f0.len()];
    for (j, col) in r.cols.iter().enumerate() {
        for &(i, d) in col {
            if d != 1.0 {
                return Err(l.err(n, "the op is not a maximum over its inputs"));
            }
            sets[i].push(j as u32);
        }
    }
    if let Some(i) = sets.iter().position(|s| s.is_empty()) {
        return Err(l.err(n, format!("output {i} reads no input (a pooling window lies entirely in the padding)")));
    }
    let mut inputs: Vec<TensorId> = ops.iter().map(|o| o.1).collect();
    let mut xe: Vec<Elem> = inputs.iter().flat_map(|&t| l.elems(t).to_vec()).collect();
    let frac = xe.iter().map(|e| e.frac).max().unwrap_or(0);
    if min || xe.iter().any(|e| e.frac != frac) {
        // Shift every input onto the finest grid (wiring plus zero bits), negated for a Min.
        let c = if min { -1 } else { 1 };
        let rows = (0..xe.len()).map(|j| vec![(j as u32, c, 0)]).collect::<Vec<_>>();
        let bias = vec![(0, 0); xe.len()];
        let shape = vec![xe.len()];
        let stem = if min { "negated" } else { "aligned" };
        let t = l.build_linear(n, &inputs, rows, bias, shape, &format!("{}_{stem}", n.name), Some(frac))?;
        inputs = vec![t];
        xe = l.elems(t).to_vec();
    }
    let elems = sets
        .iter()
        .map(|s| {
            let lo = s.iter().map(|&j| xe[j as usize].lo).max().unwrap_or(0);
            let hi = s.iter().map(|&j| xe[j as usize].hi).max().unwrap_or(0);
            Elem::new(frac, lo, hi)
        })
        .collect();
    let v = n.outputs[0];
    let name = l.g.value(v).name.clone();
    let shape = l.g.value(v).shape.clone().unwrap_or(r.shape);
    if !min {
        return Ok(l.push_layer_multi(
            &n.name,
            vec![n.name.clone()],
            LayerKind::Max(sets),
            inputs,
            &name,
            shape,
            elems,
        ));
    }
    let count = sets.len();
    let m = l.push_layer_multi(
        &format!("{}_max", n.name),
        vec![n.name.clone()],
        LayerKind::Max(sets),
        inputs,
        &format!("{name}_max"),
        shape.clone(),
        elems,
    );
    let rows = (0..count).map(|i| vec![(i as u32, -1, 0)]).collect::<Vec<_>>();
    l.build_linear(n, &[m], rows, vec![(0, 0); count], shape, &name, Some(frac))
}

/// For each output of a bilinear op of the computed operands `a` (shape `sa`) and `b` (shape
/// `sb`), the pairs `(i, j)` whose products `a_i · b_j` it sums.
fn bilinear_terms(n: &Node, sa: &[usize], sb: &[usize], out: &[usize]) -> Result<Vec<Vec<(usize, usize)>>, String> {
    let count: usize = out.iter().product();
    let strides = |s: &[usize]| -> Vec<usize> {
        let mut st = vec![1; s.len()];
        for k in (0..s.len().saturating_sub(1)).rev() {
            st[k] = st[k + 1] * s[k + 1];
        }
        st
    };
    match &n.op {
        Op::Mul => Ok((0..count).map(|o| vec![(broadcast_index(out, sa, o), broadcast_index(out, sb, o))]).collect()),
        Op::MatMul => {
            if sa.len() < 2 || sb.len() < 2 || out.len() < 2 {
                return Err("MatMul of two computed tensors needs operands of rank 2 or more".into());
            }
            let (m, k, nn) = (sa[sa.len() - 2], sa[sa.len() - 1], sb[sb.len() - 1]);
            if sb[sb.len() - 2] != k {
                return Err(format!("MatMul of shapes {sa:?} and {sb:?}: inner dimensions differ"));
            }
            // Batch dimensions broadcast like element-wise ops: map an output batch index to each
            // operand's batch through broadcast_index on the batch shapes.
            let ob = &out[..out.len() - 2];
            let (ab, bb) = (&sa[..sa.len() - 2], &sb[..sb.len() - 2]);
            let batches: usize = ob.iter().product();
            let mut terms = Vec::with_capacity(count);
            for t in 0..batches {
                let (ta, tb) = (broadcast_index(ob, ab, t), broadcast_index(ob, bb, t));
                for i in 0..m {
                    for j in 0..nn {
                        terms.push((0..k).map(|q| ((ta * m + i) * k + q, (tb * k + q) * nn + j)).collect());
                    }
                }
            }
            Ok(terms)
        }
        Op::Einsum { equation } => {
            let (ins, outl) = tachyon_frontend::eval::einsum::parse(equation)?;
            if ins.len() != 2 || ins[0].len() != sa.len() || ins[1].len() != sb.len() {
                return Err(format!("Einsum '{equation}' does not match operands of shapes {sa:?} and {sb:?}"));
            }
            let mut dim = [0usize; 128];
            for (term, shape) in ins.iter().zip([sa, sb]) {
                for (&c, &d) in term.iter().zip(shape) {
                    dim[c as usize] = d;
                }
            }
            let letters: Vec<u8> = (0..128u8).filter(|&c| ins.iter().any(|t| t.contains(&c))).collect();
            let (st_a, st_b) = (strides(sa), strides(sb));
            let oshape: Vec<usize> = outl.iter().map(|&c| dim[c as usize]).collect();
            let st_o = strides(&oshape);
            let mut terms: Vec<Vec<(usize, usize)>> = vec![vec![]; count];
            let total: usize = letters.iter().map(|&c| dim[c as usize]).product();
            let mut val = [0usize; 128];
            for mut flat in 0..total {
                for &c in letters.iter().rev() {
                    val[c as usize] = flat % dim[c as usize];
                    flat /= dim[c as usize];
                }
                let pos = |term: &[u8], st: &[usize]| -> usize {
                    term.iter().zip(st).map(|(&c, &s)| val[c as usize] * s).sum()
                };
                terms[pos(&outl, &st_o)].push((pos(&ins[0], &st_a), pos(&ins[1], &st_b)));
            }
            Ok(terms)
        }
        _ => Err(format!("{} is not a product of two tensors", n.op_type)),
    }
}

/// Lowers a product of two computed operands: one Product layer (each distinct pair once),
/// then, where the op sums several products per output, a Linear layer of those sums.
pub(crate) fn lower_bilinear(l: &mut Lowerer, n: &Node, ops: &Operands) -> Result<TensorId, QuantizeError> {
    let [(_, ta, sa), (_, tb, sb)] = ops else {
        return Err(l.err(n, "a product needs exactly two computed operands"));
    };
    let v = n.outputs[0];
    let name = l.g.value(v).name.clone();
    let shape = l.g.value(v).shape.clone().unwrap_or_default();
    let terms = bilinear_terms(n, sa, sb, &shape).map_err(|e| l.err(n, e))?;
    let na = sa.iter().product::<usize>();
    if terms.iter().map(Vec::len).sum::<usize>() > MAX_PROBE {
        return Err(l.err(n, "too many products to lower"));
    }
    let xe: Vec<Elem> = l.elems(*ta).iter().chain(l.elems(*tb)).copied().collect();
    let mut pairs: Vec<(u32, u32)> = vec![];
    let mut index = std::collections::BTreeMap::new();
    let mut rows = vec![];
    for t in &terms {
        let mut row = vec![];
        for &(i, j) in t {
            let key = ((i) as u32, (na + j) as u32);
            let k = *index.entry(key).or_insert_with(|| {
                pairs.push(key);
                pairs.len() - 1
            });
            row.push((k as u32, 1i128, 0i32));
        }
        rows.push(row);
    }
    let elems: Vec<Elem> = pairs
        .iter()
        .map(|&(a, b)| {
            let (ea, eb) = (xe[a as usize], xe[b as usize]);
            let c = [ea.lo * eb.lo, ea.lo * eb.hi, ea.hi * eb.lo, ea.hi * eb.hi];
            Elem::new(ea.frac + eb.frac, *c.iter().min().unwrap_or(&0), *c.iter().max().unwrap_or(&0))
        })
        .collect();
    if let Some(e) = elems.iter().find(|e| e.width() > super::dense::MAX_BITS / 2) {
        return Err(l.err(n, format!("a product needs {} bits; reduce the precision of its operands", e.width())));
    }
    let direct =
        terms.iter().enumerate().all(|(o, t)| t.len() == 1 && rows[o][0].0 as usize == o) && pairs.len() == terms.len();
    let pshape = if direct { shape.clone() } else { vec![pairs.len()] };
    let pname = if direct { name.clone() } else { format!("{name}_products") };
    let p = l.push_layer_multi(
        &n.name,
        vec![n.name.clone()],
        LayerKind::Product(pairs),
        vec![*ta, *tb],
        &pname,
        pshape,
        elems,
    );
    if direct {
        return Ok(p);
    }
    l.build_linear(n, &[p], rows, vec![(0, 0); terms.len()], shape, &name, None)
}
