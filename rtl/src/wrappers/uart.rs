//! The UART board top of the open iCE40 flow (template `ice40_top.v`, whose header is the
//! protocol): the host sends the core's input bus as little-endian bytes and receives its output
//! bus the same way, at `baud` from an `osc_mhz` oscillator.

use super::Core;

const TEMPLATE: &str = include_str!("ice40_top.v");

/// Bits needed to count up to `n` (at least 1).
fn count_bits(n: u32) -> u32 {
    (32 - n.leading_zeros()).max(1)
}

/// The board top's Verilog: module `<core>_<board_id>` around the core `m`.
pub fn verilog(m: &Core, board_id: &str, osc: f64, baud: f64) -> String {
    let cpb = (osc * 1e6 / baud).round() as u32;
    let (in_bits, out_bits) = (m.in_bits, m.out_bits);
    let (in_bytes, out_bytes) = (in_bits.div_ceil(8), out_bits.div_ceil(8));
    let (in_cw, out_cw) = (count_bits(in_bytes - 1), count_bits(out_bytes));
    let in_shift =
        if in_bytes == 1 { "rx_data".to_string() } else { format!("{{rx_data, in_buf[{}:8]}}", in_bytes * 8 - 1) };
    let in_data = if in_bytes * 8 == in_bits {
        format!("    wire [{}:0] core_in_data = in_buf;\n", in_bits - 1)
    } else {
        format!(
            "    /* verilator lint_off UNUSEDSIGNAL */\n    wire [{}:0] in_all = in_buf;  // bits above {in_bits} are padding\n    \
             /* verilator lint_on UNUSEDSIGNAL */\n    wire [{m1}:0] core_in_data = in_all[{m1}:0];\n",
            in_bytes * 8 - 1,
            m1 = in_bits - 1
        )
    };
    let out_load = if out_bytes * 8 == out_bits {
        "out_data".to_string()
    } else {
        format!("{{{}'d0, out_data}}", out_bytes * 8 - out_bits)
    };
    let out_shift =
        if out_bytes == 1 { "8'd0".to_string() } else { format!("{{8'd0, out_buf[{}:8]}}", out_bytes * 8 - 1) };
    TEMPLATE
        .replace("@IN_DATA@", &in_data)
        .replace("@IN_SHIFT@", &in_shift)
        .replace("@OUT_LOAD@", &out_load)
        .replace("@OUT_SHIFT@", &out_shift)
        .replace("@BOARD@", board_id)
        .replace("@CORE@", &m.top)
        .replace("@TOP@", &m.top)
        .replace("@VERSION@", &m.version)
        .replace("@MODEL@", &m.model)
        .replace("@BAUD@", &format!("{baud}"))
        .replace("@OSC_MHZ@", &format!("{osc}"))
        .replace("@CPB@", &cpb.to_string())
        .replace("@IN_BYTES_M1@", &(in_bytes - 1).to_string())
        .replace("@IN_BYTES@", &in_bytes.to_string())
        .replace("@IN_BITS@", &in_bits.to_string())
        .replace("@IN_MSB@", &(in_bytes * 8 - 1).to_string())
        .replace("@IN_CW1@", &in_cw.to_string())
        .replace("@IN_CW@", &(in_cw - 1).to_string())
        .replace("@OUT_BYTES@", &out_bytes.to_string())
        .replace("@OUT_BITS@", &out_bits.to_string())
        .replace("@OUT_MSB@", &(out_bits - 1).to_string())
        .replace("@OUT_BUF_MSB@", &(out_bytes * 8 - 1).to_string())
        .replace("@OUT_CW1@", &out_cw.to_string())
        .replace("@OUT_CW@", &(out_cw - 1).to_string())
}
