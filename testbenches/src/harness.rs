//! The C++ `main` of the co-simulation harness, generated per top interface.
//!
//! The program, `tachyon_cosim INPUTS OUTPUTS GAP TIMEOUT [VCD]`:
//!
//! 1. reads INPUTS: whitespace-separated decimal integers, one line per
//!    vector, one integer per input element (two's complement for signed
//!    elements; an unsigned 128-bit element may also be written negative, as
//!    the `i128` with its bit pattern);
//! 2. holds `rst` high for [`RESET_CYCLES`] rising edges, then drives vector
//!    `k` with `in_valid = 1` on post-reset edge `k·(1+GAP)` and `in_valid = 0`
//!    (and `in_data = 0`) on the edges in between; a stream-style design
//!    (`TopInterface::frame`) takes vector `k` as `B` beats on the consecutive
//!    edges from `k·(B+GAP)`, and its latency counts from the first beat;
//! 3. before every rising edge, after the inputs have settled, samples
//!    `out_valid`; a beat sampled before edge `e` is "valid at edge `e`", so a
//!    combinational design has latency 0 and each register stage adds 1;
//! 4. stops `DRAIN_CYCLES + GAP` edges ([`DRAIN_CYCLES`]) after the last
//!    expected output (to catch spurious extra beats), or after TIMEOUT
//!    edges without any input or output once all inputs are in;
//! 5. writes OUTPUTS: one line per beat, decimal, sign-extended for signed
//!    elements, then one `# summary key=value ...` line with `inputs`,
//!    `outputs`, `latency` (of output 0, −1 if none), `ii` (minimum distance
//!    between consecutive output beats, `1+GAP` with fewer than two),
//!    `total_cycles` (all rising edges, reset included), `bad_index` and
//!    `bad_latency` (first output whose latency differs from output 0's, −1 if
//!    none) and `extra` (beats beyond the number of inputs).
//!
//! Malformed input makes it exit with status 2 and a message on stderr.
//! Buses are packed into arrays of 32-bit words, element 0 at bit 0; element
//! values are `unsigned __int128` bit patterns, so widths up to 128 may
//! straddle word boundaries and buses may be any width Verilator's `VlWide`
//! supports.

use crate::interface::{PortElem, TopInterface};

/// Rising edges with `rst = 1` before the first vector.
pub const RESET_CYCLES: u32 = 4;
/// Edges clocked after the last expected output to catch extra beats.
pub const DRAIN_CYCLES: u32 = 16;
/// The `--prefix` given to Verilator: the model class is `Vdut` in `Vdut.h`.
pub(crate) const MODEL_CLASS: &str = "Vdut";
/// The name of the harness executable inside the Verilator object directory.
pub(crate) const BINARY_NAME: &str = "tachyon_cosim";

/// Returns the complete C++ source of the harness for `iface`.
pub(crate) fn harness_cpp(iface: &TopInterface) -> String {
    let in_bits = iface.in_bits();
    let out_bits = iface.out_bits();
    let mut tables = String::new();
    tables.push_str(&format!("// Top module `{}`.\n", iface.top));
    tables.push_str(&element_table("IN", &iface.inputs));
    tables.push_str(&element_table("OUT", &iface.outputs));
    tables.push_str(&frame_table(iface));
    tables.push_str(&format!(
        "static const unsigned IN_BITS = {in_bits}, IN_WORDS = {};\n\
         static const unsigned OUT_BITS = {out_bits}, OUT_WORDS = {};\n\
         static const unsigned RESET_CYCLES = {RESET_CYCLES}, DRAIN_CYCLES = {DRAIN_CYCLES};\n",
        words(in_bits),
        words(out_bits)
    ));
    TEMPLATE
        .replace("@COMMON@", &common_cpp("tachyon_cosim"))
        .replace("@MODEL@", MODEL_CLASS)
        .replace("@TABLES@", &tables)
        .replace("@DRIVE@", &drive_code("in_data", in_bits))
        .replace("@READ@", &read_code("out_data", out_bits))
}

/// Words in the harness's word array for a bus: at least 2, so a 33..64-bit
/// `QData` port can always be assembled from `w[0]` and `w[1]`.
pub(crate) fn words(bits: u32) -> u32 {
    bits.div_ceil(32).max(2)
}

/// `BEATS` per vector, `N_VEC_IN` integers per vector, and `BEAT_SRC[k · N_IN + s]`: the vector
/// element in slot `s` of beat `k`.
pub(crate) fn frame_table(iface: &TopInterface) -> String {
    let src: Vec<String> = if iface.frame.is_empty() {
        (0..iface.inputs.len()).map(|e| e.to_string()).collect()
    } else {
        iface.frame.iter().map(|e| e.to_string()).collect()
    };
    format!(
        "static const unsigned BEATS = {}, N_VEC_IN = {};\nstatic const unsigned BEAT_SRC[] = {{{}}};\n",
        iface.beats(),
        src.len(),
        src.join(", ")
    )
}

/// `static const` tables of offsets, widths and signedness for one direction.
pub(crate) fn element_table(prefix: &str, elems: &[PortElem]) -> String {
    let mut off = Vec::with_capacity(elems.len());
    let mut acc = 0u32;
    for e in elems {
        off.push(acc.to_string());
        acc += e.width;
    }
    let widths: Vec<String> = elems.iter().map(|e| e.width.to_string()).collect();
    let signed: Vec<&str> = elems.iter().map(|e| if e.signed { "1" } else { "0" }).collect();
    format!(
        "static const unsigned N_{prefix} = {n};\n\
         static const unsigned {prefix}_OFF[] = {{{}}};\n\
         static const unsigned {prefix}_W[] = {{{}}};\n\
         static const bool {prefix}_SIGNED[] = {{{}}};\n",
        off.join(", "),
        widths.join(", "),
        signed.join(", "),
        n = elems.len()
    )
}

/// Assigns the word array `w` to an input port, by Verilator's port type for `bits`.
pub(crate) fn drive_code(port: &str, bits: u32) -> String {
    match bits {
        0..=32 => format!("top->{port} = w[0];"),
        33..=64 => format!("top->{port} = (QData)w[0] | ((QData)w[1] << 32);"),
        _ => format!("for (unsigned i = 0; i < {}; ++i) top->{port}[i] = w[i];", bits.div_ceil(32)),
    }
}

/// Copies an output port into the word array `w`.
pub(crate) fn read_code(port: &str, bits: u32) -> String {
    match bits {
        0..=32 => format!("w[0] = (uint32_t)top->{port}; w[1] = 0;"),
        33..=64 => {
            format!("const QData q = top->{port}; w[0] = (uint32_t)q; w[1] = (uint32_t)(q >> 32);")
        }
        _ => format!("for (unsigned i = 0; i < {}; ++i) w[i] = top->{port}[i];", bits.div_ceil(32)),
    }
}

const TEMPLATE: &str = include_str!("harness_template.cpp");

/// The C++ both harnesses share (128-bit words, bit packing, decimal I/O), with error messages
/// prefixed by `program`; it holds the `@TABLES@` placeholder.
pub(crate) fn common_cpp(program: &str) -> String {
    include_str!("harness_common.cpp").replace("@PROGRAM@", program)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_access_follows_verilator_types() {
        let iface = TopInterface {
            top: "t".into(),
            inputs: vec![PortElem { width: 7, signed: true }, PortElem { width: 70, signed: true }],
            outputs: vec![PortElem { width: 33, signed: false }],
            frame: vec![],
        };
        let cpp = harness_cpp(&iface);
        assert!(cpp.contains("for (unsigned i = 0; i < 3; ++i) top->in_data[i] = w[i];"));
        assert!(cpp.contains("const QData q = top->out_data;"));
        assert!(cpp.contains("static const unsigned IN_OFF[] = {0, 7};"));
        assert!(cpp.contains("static const bool IN_SIGNED[] = {1, 1};"));
        assert!(cpp.contains("#include \"Vdut.h\""));
        assert!(!cpp.contains('@'), "unreplaced placeholder");
    }
}
