//! Small text helpers for the emitter: sized literals, declaration types and comment text.

use crate::bits::wrap;
use crate::netlist::Signal;

/// A sized hexadecimal literal of `width` bits holding `value` wrapped to that width,
/// e.g. `8'hff` for (-1, 8).
pub(crate) fn literal(width: u32, value: i128) -> String {
    format!("{width}'h{:x}", wrap(value as u128, width))
}

/// `signed [7:0] ` / `[7:0] ` / `signed ` / `` — what goes between `wire` and the name.
pub(crate) fn decl_type(s: &Signal) -> String {
    let sign = if s.signed { "signed " } else { "" };
    if s.width == 1 {
        sign.to_string()
    } else {
        format!("{sign}[{}:0] ", s.width - 1)
    }
}

/// Comment-safe single-line text: line breaks become spaces, and text that a tool could read
/// as a pragma (`// verilator …`, `// synopsys …`, `// synthesis …`, `// pragma …`) is
/// prefixed with `origin: `.
pub(crate) fn comment(text: &str) -> String {
    let flat: String = text.chars().map(|c| if c == '\n' || c == '\r' { ' ' } else { c }).collect();
    let first = flat.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
    let pragma = [
        "verilator",
        "synopsys",
        "synthesis",
        "pragma",
        "lint_off",
        "lint_on",
        "cadence",
        "ambit",
        "translate_off",
        "translate_on",
    ];
    if pragma.iter().any(|p| first.starts_with(p)) {
        format!("origin: {flat}")
    } else {
        flat
    }
}
