//! The text files exchanged with the harness binary: the input vectors it
//! reads and the output beats plus summary line it writes (format in
//! [`crate::harness`]).

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cosim_error::{tail, CosimError};
use crate::interface::PortElem;

/// The `# summary` line of the harness output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Summary {
    pub inputs: usize,
    pub outputs: usize,
    /// Latency of output 0, −1 if there was none.
    pub latency: i64,
    pub ii: u64,
    pub total_cycles: u64,
    /// First output whose latency differs from output 0's, −1 if none.
    pub bad_index: i64,
    pub bad_latency: i64,
    /// Beats beyond the number of inputs.
    pub extra: usize,
}

/// Checks that there are vectors and that each has one value of each input element.
pub(crate) fn check_vectors(vectors: &[Vec<i128>], inputs: &[PortElem]) -> Result<(), CosimError> {
    if vectors.is_empty() {
        return Err(CosimError::Vector { vector: 0, reason: "no input vectors given".into() });
    }
    for (k, v) in vectors.iter().enumerate() {
        if v.len() != inputs.len() {
            return Err(CosimError::Vector {
                vector: k,
                reason: format!("has {} elements, the top module takes {}", v.len(), inputs.len()),
            });
        }
        if let Some((i, (x, e))) = v.iter().zip(inputs).enumerate().find(|(_, (&x, e))| !e.contains(x)) {
            return Err(CosimError::Vector {
                vector: k,
                reason: format!("element {i} = {x} does not fit in {}", e.describe()),
            });
        }
    }
    Ok(())
}

/// Checks every vector against the input elements and renders the input file.
pub(crate) fn render_vectors(vectors: &[Vec<i128>], inputs: &[PortElem]) -> Result<String, CosimError> {
    check_vectors(vectors, inputs)?;
    let mut text = String::with_capacity(vectors.len() * inputs.len() * 8);
    for v in vectors {
        for (i, &x) in v.iter().enumerate() {
            if i > 0 {
                text.push(' ');
            }
            let _ = write!(text, "{x}");
        }
        text.push('\n');
    }
    Ok(text)
}

/// Parses the harness output file into output vectors and the summary.
pub(crate) fn parse_outputs(
    text: &str,
    outputs: &[PortElem],
    path: &Path,
) -> Result<(Vec<Vec<i128>>, Summary), CosimError> {
    let malformed = |line: usize, reason: String| CosimError::Malformed { path: path.into(), line, reason };
    let mut beats = Vec::new();
    let mut summary = None;
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        if let Some(rest) = line.strip_prefix("# summary ") {
            summary = Some(parse_summary(rest).map_err(|r| malformed(n, r))?);
            continue;
        }
        if summary.is_some() {
            return Err(malformed(n, "text after the summary line".into()));
        }
        let values = line
            .split_whitespace()
            .zip(outputs)
            .map(|(tok, e)| parse_elem(tok, e))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|r| malformed(n, r))?;
        let found = line.split_whitespace().count();
        if found != outputs.len() {
            return Err(malformed(n, format!("{found} values, expected {}", outputs.len())));
        }
        beats.push(values);
    }
    let summary = summary.ok_or_else(|| malformed(text.lines().count(), "no `# summary` line".into()))?;
    if summary.outputs != beats.len() {
        return Err(malformed(
            text.lines().count(),
            format!("summary says {} outputs but {} lines were written", summary.outputs, beats.len()),
        ));
    }
    Ok((beats, summary))
}

/// One output element: signed elements as written, unsigned ones up to
/// `2^width − 1`; an unsigned 128-bit value at or above `2^127` becomes the
/// `i128` with the same bit pattern.
pub(crate) fn parse_elem(tok: &str, e: &PortElem) -> Result<i128, String> {
    let not_int = || format!("{tok:?} is not an integer");
    let too_big = || format!("{tok} does not fit in {}", e.describe());
    if tok.starts_with('-') {
        let v: i128 = tok.parse().map_err(|_| not_int())?;
        return if e.signed && e.contains(v) { Ok(v) } else { Err(too_big()) };
    }
    let u: u128 = tok.parse().map_err(|_| not_int())?;
    let max = match (e.signed, e.width) {
        (true, w) => (1u128 << (w - 1)) - 1,
        (false, 128) => u128::MAX,
        (false, w) => (1u128 << w) - 1,
    };
    if u > max {
        return Err(too_big());
    }
    Ok(u as i128)
}

fn parse_summary(rest: &str) -> Result<Summary, String> {
    let mut fields = std::collections::HashMap::new();
    for kv in rest.split_whitespace() {
        let (k, v) = kv.split_once('=').ok_or_else(|| format!("summary field {kv:?} is not key=value"))?;
        let v: i128 = v.parse().map_err(|_| format!("summary field {k} = {v:?} is not an integer"))?;
        fields.insert(k, v);
    }
    let get = |k: &str| fields.get(k).copied().ok_or_else(|| format!("summary lacks `{k}`"));
    let conv = |k: &str, v: i128| format!("summary field {k} = {v} is out of range");
    macro_rules! field {
        ($k:literal) => {{
            let v = get($k)?;
            v.try_into().map_err(|_| conv($k, v))?
        }};
    }
    Ok(Summary {
        inputs: field!("inputs"),
        outputs: field!("outputs"),
        latency: field!("latency"),
        ii: field!("ii"),
        total_cycles: field!("total_cycles"),
        bad_index: field!("bad_index"),
        bad_latency: field!("bad_latency"),
        extra: field!("extra"),
    })
}

/// Writes `vectors` to `work_dir/inputs.txt`, runs `binary inputs.txt outputs.txt args…` and
/// returns what it wrote to `work_dir/outputs.txt`, with that path (for messages).
pub(crate) fn run_harness(
    binary: &Path,
    work_dir: &Path,
    vectors: &[Vec<i128>],
    inputs: &[PortElem],
    args: &[OsString],
) -> Result<(String, PathBuf), CosimError> {
    let text = render_vectors(vectors, inputs)?;
    let in_path = work_dir.join("inputs.txt");
    let out_path = work_dir.join("outputs.txt");
    std::fs::write(&in_path, text).map_err(CosimError::io(&in_path))?;
    let out = Command::new(binary).arg(&in_path).arg(&out_path).args(args).output().map_err(CosimError::io(binary))?;
    if !out.status.success() {
        return Err(CosimError::RunFailed {
            binary: binary.to_path_buf(),
            status: out.status.to_string(),
            stderr_tail: tail(&String::from_utf8_lossy(&out.stderr), 30),
        });
    }
    let written = std::fs::read_to_string(&out_path).map_err(CosimError::io(&out_path))?;
    Ok((written, out_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elems() -> Vec<PortElem> {
        vec![PortElem { width: 4, signed: true }, PortElem { width: 128, signed: false }]
    }

    #[test]
    fn renders_and_rejects_vectors() {
        let ins = elems();
        assert_eq!(render_vectors(&[vec![-8, -1], vec![7, 0]], &ins).unwrap(), "-8 -1\n7 0\n");
        assert!(render_vectors(&[vec![8, 0]], &ins).is_err());
        assert!(render_vectors(&[vec![1]], &ins).is_err());
        assert!(render_vectors(&[], &ins).is_err());
    }

    #[test]
    fn parses_outputs_and_summary() {
        let text = "-3 340282366920938463463374607431768211455\n7 5\n\
                    # summary inputs=2 outputs=2 latency=3 ii=1 total_cycles=30 bad_index=-1 bad_latency=0 extra=0\n";
        let (beats, s) = parse_outputs(text, &elems(), Path::new("o.txt")).unwrap();
        assert_eq!(beats, vec![vec![-3, -1], vec![7, 5]]);
        assert_eq!((s.latency, s.ii, s.bad_index, s.total_cycles), (3, 1, -1, 30));
    }

    #[test]
    fn rejects_malformed_outputs() {
        let sum = "# summary inputs=1 outputs=1 latency=0 ii=1 total_cycles=9 bad_index=-1 bad_latency=0 extra=0\n";
        for bad in [
            format!("1\n{sum}"),
            format!("8 0\n{sum}"),
            format!("1 -1\n{sum}"),
            format!("x 0\n{sum}"),
            "1 0\n".to_string(),
            format!("1 0\n1 0\n{sum}"),
            format!("1 0\n{sum}1 0\n"),
        ] {
            assert!(parse_outputs(&bad, &elems(), Path::new("o.txt")).is_err(), "accepted {bad:?}");
        }
    }
}
