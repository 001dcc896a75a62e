//! The `.npy` header: the preamble (magic, version, header length) and the
//! Python-literal dictionary that follows it.
//!
//! A header looks like
//!
//! ```text
//! \x93NUMPY \x01 \x00 <u16 LE len> {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }   ...\n
//! ```
//!
//! Version 1.0 has a 2-byte little-endian length, 2.0 and 3.0 a 4-byte one
//! (3.0 only changes the header encoding from latin-1 to UTF-8). The parser
//! understands exactly the literal subset numpy writes: a dict of string keys
//! whose values are strings, `True`/`False`, tuples of integers (with an
//! optional Python 2 `L` suffix) and, for structured dtypes, lists, which are
//! kept as raw text so the caller can report them as unsupported.

/// The magic string every `.npy` file starts with.
pub(crate) const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The three entries of the header dictionary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    /// The dtype descriptor, e.g. `<f4`, or the raw text of a structured descriptor.
    pub descr: String,
    /// Whether the data is stored column-major.
    pub fortran_order: bool,
    /// The array shape; empty for a 0-d array.
    pub shape: Vec<usize>,
}

/// A value of the header dictionary.
#[derive(Debug)]
enum Value {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
    /// A list (structured dtype), kept verbatim.
    Raw(String),
}

/// Parses the header dictionary text (everything after the length field).
pub(crate) fn parse_header(text: &str) -> Result<Header, String> {
    let mut p = Parser { s: text.as_bytes(), text, pos: 0 };
    p.expect(b'{')?;
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    loop {
        p.skip_ws();
        if p.eat(b'}') {
            break;
        }
        let key = p.string()?;
        p.skip_ws();
        p.expect(b':')?;
        let value = p.value()?;
        let slot_taken = match (key.as_str(), value) {
            ("descr", Value::Str(s) | Value::Raw(s)) => descr.replace(s).is_some(),
            ("fortran_order", Value::Bool(b)) => fortran.replace(b).is_some(),
            ("shape", Value::Tuple(t)) => shape.replace(t).is_some(),
            ("descr" | "fortran_order" | "shape", v) => {
                return Err(format!("key '{key}' has an unexpected value {v:?}"))
            }
            _ => false, // Unknown keys are tolerated.
        };
        if slot_taken {
            return Err(format!("key '{key}' appears twice"));
        }
        p.skip_ws();
        if p.eat(b'}') {
            break;
        }
        p.expect(b',')?;
    }
    let rest = &text[p.pos..];
    if !rest.trim_matches(|c| c == ' ' || c == '\n' || c == '\0').is_empty() {
        return Err(format!("unexpected text after the dictionary: {rest:?}"));
    }
    Ok(Header {
        descr: descr.ok_or("missing key 'descr'")?,
        fortran_order: fortran.ok_or("missing key 'fortran_order'")?,
        shape: shape.ok_or("missing key 'shape'")?,
    })
}

/// Builds the full preamble for a C-order array: magic, version, length
/// field and the space-padded dictionary, a multiple of 64 bytes long.
/// Version 1.0 is used unless the dictionary is too long for its 2-byte length.
pub(crate) fn format_header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let shape_text = match shape {
        [] => "()".to_string(),
        [n] => format!("({n},)"),
        dims => {
            let parts: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
            format!("({})", parts.join(", "))
        }
    };
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    // Preamble = magic (6) + version (2) + length field (2 or 4).
    let build = |len_bytes: usize| {
        let unpadded = MAGIC.len() + 2 + len_bytes + dict.len() + 1;
        let pad = (64 - unpadded % 64) % 64;
        let header_len = dict.len() + pad + 1;
        (header_len, pad)
    };
    let (header_len, pad) = build(2);
    let mut out = Vec::with_capacity(header_len + 12);
    out.extend_from_slice(MAGIC);
    if let Ok(len16) = u16::try_from(header_len) {
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&len16.to_le_bytes());
        out.extend_from_slice(dict.as_bytes());
        out.resize(out.len() + pad, b' ');
    } else {
        let (header_len, pad) = build(4);
        out.extend_from_slice(&[2, 0]);
        // A header over 4 GiB would need a shape with ~10^8 dimensions.
        out.extend_from_slice(&(header_len as u32).to_le_bytes());
        out.extend_from_slice(dict.as_bytes());
        out.resize(out.len() + pad, b' ');
    }
    out.push(b'\n');
    out
}

/// A cursor over the dictionary text.
struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        self.skip_ws();
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("'{}'", c as char)))
        }
    }

    fn unexpected(&self, wanted: &str) -> String {
        match self.text.get(self.pos..) {
            Some(rest) if !rest.is_empty() => {
                let shown: String = rest.chars().take(20).collect();
                format!("expected {wanted} at byte {}, found {shown:?}", self.pos)
            }
            _ => format!("expected {wanted}, found end of header"),
        }
    }

    /// A single- or double-quoted string without escapes (numpy never writes any).
    fn string(&mut self) -> Result<String, String> {
        self.skip_ws();
        let quote = match self.peek() {
            Some(q @ (b'\'' | b'"')) => q,
            _ => return Err(self.unexpected("a quoted string")),
        };
        let start = self.pos + 1;
        let len = self.s[start..].iter().position(|&c| c == quote).ok_or_else(|| "unterminated string".to_string())?;
        self.pos = start + len + 1;
        Ok(self.text[start..start + len].to_string())
    }

    fn value(&mut self) -> Result<Value, String> {
        self.skip_ws();
        match self.peek() {
            Some(b'\'' | b'"') => self.string().map(Value::Str),
            Some(b'(') => self.tuple().map(Value::Tuple),
            Some(b'[') => self.raw_list().map(Value::Raw),
            _ if self.s[self.pos..].starts_with(b"True") => {
                self.pos += 4;
                Ok(Value::Bool(true))
            }
            _ if self.s[self.pos..].starts_with(b"False") => {
                self.pos += 5;
                Ok(Value::Bool(false))
            }
            _ => Err(self.unexpected("a string, True, False, a tuple or a list")),
        }
    }

    fn tuple(&mut self) -> Result<Vec<usize>, String> {
        self.expect(b'(')?;
        let mut dims = Vec::new();
        loop {
            self.skip_ws();
            if self.eat(b')') {
                return Ok(dims);
            }
            dims.push(self.dim()?);
            self.skip_ws();
            if self.eat(b')') {
                return Ok(dims);
            }
            self.expect(b',')?;
        }
    }

    /// A non-negative integer dimension, optionally with a Python 2 `L` suffix.
    fn dim(&mut self) -> Result<usize, String> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(self.unexpected("a non-negative integer dimension"));
        }
        let digits = &self.text[start..self.pos];
        self.eat(b'L');
        digits.parse::<usize>().map_err(|_| format!("dimension {digits} does not fit in usize"))
    }

    /// A bracketed list, returned verbatim (quotes and nesting respected).
    fn raw_list(&mut self) -> Result<String, String> {
        let start = self.pos;
        let mut depth = 0usize;
        let mut quote = None;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, b'\'' | b'"') => quote = Some(c),
                (None, b'[' | b'(') => depth += 1,
                (None, b']' | b')') => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(self.text[start..self.pos].to_string());
                    }
                }
                _ => {}
            }
        }
        Err("unterminated list".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numpy_headers() {
        let h = parse_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }    \n").unwrap();
        assert_eq!(h.descr, "<f4");
        assert!(!h.fortran_order);
        assert_eq!(h.shape, vec![3, 4]);
        let h = parse_header("{\"descr\":\"|u1\",\"fortran_order\":True,\"shape\":(7,)}").unwrap();
        assert_eq!((h.descr.as_str(), h.fortran_order, h.shape), ("|u1", true, vec![7]));
        let h = parse_header("{'descr': '<i8', 'fortran_order': False, 'shape': (), }\n").unwrap();
        assert!(h.shape.is_empty());
        let h = parse_header("{'descr': '<i8', 'fortran_order': False, 'shape': (2L, 3L)}").unwrap();
        assert_eq!(h.shape, vec![2, 3]);
    }

    #[test]
    fn keeps_structured_descr_raw() {
        let h =
            parse_header("{'descr': [('a', '<i4'), ('b', '<f8')], 'fortran_order': False, 'shape': (2,), }").unwrap();
        assert_eq!(h.descr, "[('a', '<i4'), ('b', '<f8')]");
    }

    #[test]
    fn rejects_bad_headers() {
        for bad in [
            "",
            "{'descr': '<f4', 'shape': (3,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'shape': (3,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-3,)}",
            "{'descr': '<f4', 'fortran_order': maybe, 'shape': (3,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3,)} junk",
            "{'descr': '<f4, 'fortran_order': False, 'shape': (3,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,)}",
        ] {
            assert!(parse_header(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn formatted_headers_are_aligned_and_parse_back() {
        for shape in [vec![], vec![5], vec![2, 3, 4], vec![1; 20_000]] {
            let bytes = format_header("<f8", &shape);
            assert_eq!(bytes.len() % 64, 0);
            assert_eq!(*bytes.last().unwrap(), b'\n');
            let skip = if bytes[6] == 1 { 10 } else { 12 };
            let h = parse_header(std::str::from_utf8(&bytes[skip..]).unwrap()).unwrap();
            assert_eq!(h.shape, shape);
        }
    }
}
