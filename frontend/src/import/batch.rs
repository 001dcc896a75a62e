//! The shape of one event: a batch axis baked into a graph input (a model exported with its
//! whole data set, or a fixed batch of N, as its first dimension) is taken out, and
//! `--input-shape` ([`InputShape`]) overrides what the file says.
//!
//! A leading axis of size N > 1, on every input of rank ≥ 2, is the batch when the model treats
//! it as one: the graph is built for one event (`[1, …]`) and for two (`[2, …]`), both are run
//! in float semantics on random events, and every output of the pair must be the two single
//! outputs stacked along one axis, bit for bit. An op that mixes events (a reduction, softmax
//! or reshape over the batch axis, a shape constant holding N) makes the check fail, and the
//! input keeps the file's shape.

use crate::error::{FrontendError, Result};
use crate::ir::{Graph, InputNote};
use crate::proto::{DimensionValue, ModelProto, TypeValue};
use crate::tensor::{DType, Tensor};
use std::collections::BTreeMap;
use std::path::Path;

/// A shape given for a graph input (`--input-shape 1,16`, or `x=1,16` for the input `x`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InputShape {
    /// The graph input it applies to; `None`: the model's only input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub dims: Vec<usize>,
}

impl std::str::FromStr for InputShape {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<InputShape, String> {
        let (name, dims) = match s.rsplit_once('=') {
            Some((n, d)) if !n.trim().is_empty() => (Some(n.trim().to_string()), d),
            Some(_) => return Err(format!("'{s}': the input name before '=' is empty")),
            None => (None, s),
        };
        let dims: Vec<usize> = dims
            .split([',', 'x', 'X'])
            .map(|d| d.trim().parse::<usize>().ok().filter(|&d| d > 0))
            .collect::<Option<_>>()
            .ok_or_else(|| {
                format!("'{s}' is not a shape: give positive sizes separated by commas, e.g. 1,16 or x=1,16")
            })?;
        Ok(InputShape { name, dims })
    }
}

impl std::fmt::Display for InputShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(n) = &self.name {
            write!(f, "{n}=")?;
        }
        let dims: Vec<String> = self.dims.iter().map(|d| d.to_string()).collect();
        write!(f, "{}", dims.join(","))
    }
}

/// How a model is imported.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Shapes of graph inputs replacing the file's (`--input-shape`); no batch axis is looked
    /// for when any is given.
    pub input_shapes: Vec<InputShape>,
}

/// The non-initializer graph inputs with their file shapes (symbolic or unknown dims as 1,
/// `None` without a shape; bad dims are left to the graph builder's checks).
fn file_inputs(model: &ModelProto) -> Vec<(String, Option<Vec<usize>>)> {
    let Some(gp) = model.graph.as_ref() else { return vec![] };
    let inits: std::collections::HashSet<&str> = gp.initializer.iter().map(|t| t.name.as_str()).collect();
    gp.input
        .iter()
        .filter(|vi| !inits.contains(vi.name.as_str()))
        .map(|vi| {
            let shape = match vi.r#type.as_ref().and_then(|t| t.value.as_ref()) {
                Some(TypeValue::TensorType(tt)) => tt.shape.as_ref().map(|s| {
                    s.dim
                        .iter()
                        .map(|d| match d.value {
                            Some(DimensionValue::DimValue(v)) if v > 0 => v as usize,
                            _ => 1,
                        })
                        .collect()
                }),
                _ => None,
            };
            (vi.name.clone(), shape)
        })
        .collect()
}

/// The shape each of `given` sets, by graph input name (`inputs`: the file's inputs).
fn resolve(
    inputs: &[(String, Option<Vec<usize>>)],
    given: &[InputShape],
    path: &Path,
) -> Result<BTreeMap<String, Vec<usize>>> {
    let bad = |what: String| FrontendError::Malformed { path: path.to_path_buf(), what };
    let mut shapes = BTreeMap::new();
    for s in given {
        let name = match &s.name {
            Some(n) if inputs.iter().any(|(i, _)| i == n) => n.clone(),
            Some(n) => {
                let names: Vec<&str> = inputs.iter().map(|(i, _)| i.as_str()).collect();
                return Err(bad(format!("--input-shape names the input '{n}', but the graph inputs are {names:?}")));
            }
            None if inputs.len() == 1 => inputs[0].0.clone(),
            None => {
                let names: Vec<&str> = inputs.iter().map(|(i, _)| i.as_str()).collect();
                return Err(bad(format!(
                    "the model has {} inputs {names:?}: name the one --input-shape applies to (NAME=1,16)",
                    inputs.len()
                )));
            }
        };
        if shapes.insert(name.clone(), s.dims.clone()).is_some() {
            return Err(bad(format!("--input-shape gives input '{name}' twice")));
        }
    }
    Ok(shapes)
}

/// Writes `given` into the declared shapes of `model`'s graph inputs (`path` names the model in
/// errors): the model file then says what `--input-shape` would, for tools that read the file
/// as it is (`tachyon decompose`).
pub fn set_input_shapes(model: &mut ModelProto, given: &[InputShape], path: &Path) -> Result<()> {
    let shapes = resolve(&file_inputs(model), given, path)?;
    let Some(gp) = model.graph.as_mut() else { return Ok(()) };
    for vi in gp.input.iter_mut() {
        let Some(dims) = shapes.get(&vi.name) else { continue };
        let Some(TypeValue::TensorType(tt)) = vi.r#type.as_mut().and_then(|t| t.value.as_mut()) else {
            return Err(FrontendError::Malformed {
                path: path.to_path_buf(),
                what: format!("graph input '{}' is not a tensor", vi.name),
            });
        };
        let shape = tt.shape.get_or_insert_with(Default::default);
        shape.dim = dims
            .iter()
            .map(|&d| crate::proto::Dimension {
                value: Some(DimensionValue::DimValue(d as i64)),
                denotation: String::new(),
            })
            .collect();
    }
    Ok(())
}

/// The graph of `model` for one event: `--input-shape` applied, or a batch axis taken out (see
/// the module doc), or the file's shapes.
pub(super) fn build(model: &ModelProto, opset: i64, path: &Path, opts: &ImportOptions) -> Result<Graph> {
    let inputs = file_inputs(model);
    if !opts.input_shapes.is_empty() {
        let shapes = resolve(&inputs, &opts.input_shapes, path)?;
        let mut g = super::build_graph(model, opset, path, &shapes)?;
        g.input_notes = inputs
            .iter()
            .filter_map(|(name, file)| {
                let shape = shapes.get(name)?;
                Some(InputNote {
                    input: name.clone(),
                    file: file.clone().unwrap_or_default(),
                    shape: shape.clone(),
                    by_option: true,
                })
            })
            .filter(|n| n.file != n.shape)
            .collect();
        return Ok(g);
    }
    // A batch candidate: every input of rank ≥ 2 with the same leading N > 1.
    let lead: Vec<Option<usize>> =
        inputs.iter().map(|(_, s)| s.as_ref().filter(|s| s.len() >= 2 && s[0] > 1).map(|s| s[0])).collect();
    if !matches!(lead.first(), Some(&Some(n)) if lead.iter().all(|&l| l == Some(n))) {
        return super::build_graph(model, opset, path, &BTreeMap::new());
    }
    let with_batch = |b: usize| -> BTreeMap<String, Vec<usize>> {
        inputs
            .iter()
            .filter_map(|(name, s)| {
                let mut s = s.clone()?;
                s[0] = b;
                Some((name.clone(), s))
            })
            .collect()
    };
    if let (Ok(mut one), Ok(two)) =
        (super::build_graph(model, opset, path, &with_batch(1)), super::build_graph(model, opset, path, &with_batch(2)))
    {
        if independent(&one, &two) {
            one.input_notes = inputs
                .iter()
                .filter_map(|(name, file)| {
                    let file = file.clone()?;
                    let mut shape = file.clone();
                    shape[0] = 1;
                    Some(InputNote { input: name.clone(), file, shape, by_option: false })
                })
                .collect();
            return Ok(one);
        }
    }
    super::build_graph(model, opset, path, &BTreeMap::new())
}

/// A small deterministic generator (an LCG) for the check's random events.
struct Lcg(u64);
impl Lcg {
    fn uniform(&mut self, scale: f64) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let u = (self.0 >> 11) as f64 / (1u64 << 53) as f64;
        ((2.0 * u - 1.0) * scale) as f32 as f64
    }
}

/// Whether `two` (the graph for two events) computes `one` (the graph for one) on each event
/// separately: on random events of two magnitudes, every output of `two` is the outputs of
/// `one` on each event stacked along an axis where `one`'s output has size 1.
fn independent(one: &Graph, two: &Graph) -> bool {
    if one.inputs.len() != two.inputs.len() || one.outputs.len() != two.outputs.len() {
        return false;
    }
    let shape = |g: &Graph, v| g.value(v).shape.clone();
    let mut rng = Lcg(0x7ac4_1d0b_a7c4);
    for scale in [1.0, 8.0] {
        let mut pair = vec![];
        let mut firsts = vec![];
        let mut seconds = vec![];
        for (&i1, &i2) in one.inputs.iter().zip(&two.inputs) {
            let (Some(s1), Some(s2)) = (shape(one, i1), shape(two, i2)) else { return false };
            let n1: usize = s1.iter().product();
            let data: Vec<f64> = (0..2 * n1).map(|_| rng.uniform(scale)).collect();
            firsts.push(Tensor::new(DType::F32, s1.clone(), data[..n1].to_vec()));
            seconds.push(Tensor::new(DType::F32, s1, data[n1..].to_vec()));
            pair.push(Tensor::new(DType::F32, s2, data));
        }
        let (Ok(y2), Ok(ya), Ok(yb)) = (
            crate::eval::run_float(two, &pair),
            crate::eval::run_float(one, &firsts),
            crate::eval::run_float(one, &seconds),
        ) else {
            return false;
        };
        for ((y, a), b) in y2.iter().zip(&ya).zip(&yb) {
            if !stacked(y, a, b) {
                return false;
            }
        }
    }
    true
}

/// Whether `y` is `a` and `b` stacked along an axis where they have size 1.
fn stacked(y: &Tensor, a: &Tensor, b: &Tensor) -> bool {
    let same = |p: f64, q: f64| p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan());
    if a.shape != b.shape || y.shape.len() != a.shape.len() {
        return false;
    }
    (0..a.shape.len()).any(|ax| {
        if a.shape[ax] != 1 || y.shape[ax] != 2 {
            return false;
        }
        if y.shape.iter().enumerate().any(|(k, &d)| k != ax && d != a.shape[k]) {
            return false;
        }
        let outer: usize = a.shape[..ax].iter().product();
        let inner: usize = a.shape[ax + 1..].iter().product();
        (0..outer).all(|o| {
            (0..inner).all(|i| {
                same(y.data[(o * 2) * inner + i], a.data[o * inner + i])
                    && same(y.data[(o * 2 + 1) * inner + i], b.data[o * inner + i])
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_shapes() {
        assert_eq!("1,16".parse::<InputShape>().unwrap(), InputShape { name: None, dims: vec![1, 16] });
        assert_eq!(
            "x=1, 8,8".parse::<InputShape>().unwrap(),
            InputShape { name: Some("x".into()), dims: vec![1, 8, 8] }
        );
        assert_eq!("input:0=4".parse::<InputShape>().unwrap().to_string(), "input:0=4");
        assert!("1,0".parse::<InputShape>().is_err());
        assert!("=1".parse::<InputShape>().is_err());
        assert!("a,b".parse::<InputShape>().unwrap_err().contains("not a shape"));
    }

    #[test]
    fn stacking_is_checked_on_every_element() {
        let t = |shape: Vec<usize>, d: Vec<f64>| Tensor::new(DType::F32, shape, d);
        let a = t(vec![1, 2], vec![1.0, 2.0]);
        let b = t(vec![1, 2], vec![3.0, 4.0]);
        assert!(stacked(&t(vec![2, 2], vec![1.0, 2.0, 3.0, 4.0]), &a, &b));
        assert!(!stacked(&t(vec![2, 2], vec![1.0, 2.0, 4.0, 3.0]), &a, &b));
        assert!(!stacked(&t(vec![1, 4], vec![1.0, 2.0, 3.0, 4.0]), &a, &b));
    }
}
