//! Verilog identifier rules: legality check, sanitizing arbitrary text (e.g. ONNX node names)
//! into a legal identifier, and making a name unique with `_1`, `_2`, … suffixes.

use crate::keywords::is_keyword;

/// Whether `name` is a legal plain Verilog identifier for the emitter: non-empty, only ASCII
/// letters, digits and `_`, not starting with a digit, and not a (System)Verilog keyword.
pub fn is_legal_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_') && !is_keyword(name)
}

/// Turns arbitrary text into a legal identifier: every other character becomes `_`, a leading
/// digit (or empty text) gets a `_` prefix, a keyword gets a `_` suffix.
pub fn sanitize(text: &str) -> String {
    let mut s: String = text.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if is_keyword(&s) {
        s.push('_');
    }
    s
}

/// Returns `base` if no name in `taken` equals it, else `base_N` for the smallest `N ≥ 1` not
/// taken. One pass over `taken`.
pub fn uniquify<'a>(base: &str, taken: impl IntoIterator<Item = &'a str>) -> String {
    let mut base_taken = false;
    let mut used: Vec<u64> = Vec::new();
    for t in taken {
        if t == base {
            base_taken = true;
        } else if let Some(n) = t.strip_prefix(base).and_then(|r| r.strip_prefix('_')).and_then(parse_suffix) {
            used.push(n);
        }
    }
    if !base_taken {
        return base.to_string();
    }
    used.sort_unstable();
    used.dedup();
    let mut n = 1;
    for u in used {
        if u == n {
            n += 1;
        } else if u > n {
            break;
        }
    }
    format!("{base}_{n}")
}

/// Parses a canonical decimal suffix (`"7"`, not `"07"`).
fn parse_suffix(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizing() {
        assert_eq!(sanitize("conv1/Relu:0"), "conv1_Relu_0");
        assert_eq!(sanitize("0abc"), "_0abc");
        assert_eq!(sanitize(""), "_");
        assert_eq!(sanitize("reg"), "reg_");
        assert_eq!(sanitize("é"), "_");
        for s in ["conv1/Relu:0", "0abc", "", "reg", "a b"] {
            assert!(is_legal_identifier(&sanitize(s)), "{s}");
        }
    }

    #[test]
    fn uniquifying() {
        assert_eq!(uniquify("a", ["b", "c"]), "a");
        assert_eq!(uniquify("a", ["a", "a_1", "a_3"]), "a_2");
        assert_eq!(uniquify("a", ["a", "a_01", "a_x"]), "a_1");
    }
}
