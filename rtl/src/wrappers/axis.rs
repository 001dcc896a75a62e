//! The AXI-Stream wrapper around a fixed-latency core (template `axis_wrapper.v`, whose header
//! comment is the specification): tvalid/tready/tdata/tlast on both sides. The core cannot
//! stall, so backpressure is handled by credits: an input is accepted only while fewer than
//! [`fifo_depth`] vectors are outstanding and at most once every II cycles; results wait in a
//! FIFO in which every outstanding vector owns an entry, so nothing is lost or duplicated
//! whatever the downstream does.

use super::Core;

const TEMPLATE: &str = include_str!("axis_wrapper.v");

/// The wrapper's module name.
pub fn wrapper_name(top: &str) -> String {
    format!("{top}_axis")
}

/// The wrapper's path relative to the project folder.
pub fn wrapper_path(top: &str) -> std::path::PathBuf {
    std::path::PathBuf::from("axis").join(format!("{}.v", wrapper_name(top)))
}

/// FIFO entries (a power of two ≥ 2): enough for `latency / ii + 2` outstanding vectors, the
/// most a core with that latency and II holds while the wrapper accepts at full rate.
pub fn fifo_depth(latency: u32, ii: u32) -> u32 {
    (latency / ii.max(1) + 2).next_power_of_two()
}

/// Bits of a bus padded to whole bytes (AXI-Stream tdata widths are byte multiples).
pub fn byte_width(bits: u32) -> u32 {
    bits.div_ceil(8) * 8
}

/// The wrapper's Verilog for the core described by `m`.
pub fn verilog(m: &Core) -> String {
    let (in_bits, out_bits) = (m.in_bits, m.out_bits);
    let (s_w, m_w) = (byte_width(in_bits), byte_width(out_bits));
    let depth = fifo_depth(m.latency, m.ii);
    let aw = depth.trailing_zeros();
    let in_data = if s_w == in_bits {
        format!("    wire [{}:0] core_in_data = s_axis_tdata;\n", in_bits - 1)
    } else {
        format!(
            "    // Bits {s_w_m1}:{in_bits} of s_axis_tdata are padding and ignored.\n    \
             /* verilator lint_off UNUSEDSIGNAL */\n    wire [{s_w_m1}:0] s_data = s_axis_tdata;\n    \
             /* verilator lint_on UNUSEDSIGNAL */\n    wire [{in_m1}:0] core_in_data = s_data[{in_m1}:0];\n",
            s_w_m1 = s_w - 1,
            in_m1 = in_bits - 1
        )
    };
    let m_data = if m_w == out_bits {
        "data_mem[read_ptr]".to_string()
    } else {
        format!("{{{}'d0, data_mem[read_ptr]}}", m_w - out_bits)
    };
    let ii_gate = if m.ii <= 1 {
        "    wire ii_open = 1'b1;\n".to_string()
    } else {
        let w = 32 - (m.ii - 1).leading_zeros();
        format!(
            "    // II gate: after an accept, the core needs {ii} cycles before the next input.\n    \
             reg [{wm1}:0] ii_wait;\n    always @(posedge aclk) begin\n        if (core_rst) begin\n            \
             ii_wait <= {w}'d0;\n        end else if (s_fire) begin\n            ii_wait <= {w}'d{iim1};\n        \
             end else if (ii_wait != {w}'d0) begin\n            ii_wait <= ii_wait - 1'b1;\n        end\n    end\n    \
             wire ii_open = ii_wait == {w}'d0;\n",
            ii = m.ii,
            wm1 = w - 1,
            iim1 = m.ii - 1
        )
    };
    TEMPLATE
        .replace("@IN_DATA@", &in_data)
        .replace("@II_GATE@", &ii_gate)
        .replace("@M_DATA@", &m_data)
        .replace("@NAME@", &wrapper_name(&m.top))
        .replace("@CORE@", &m.top)
        .replace("@VERSION@", &m.version)
        .replace("@MODEL@", &m.model)
        .replace("@IN_BITS@", &in_bits.to_string())
        .replace("@OUT_BITS@", &out_bits.to_string())
        .replace("@S_W@", &s_w.to_string())
        .replace("@M_W@", &m_w.to_string())
        .replace("@S_MSB@", &(s_w - 1).to_string())
        .replace("@M_MSB@", &(m_w - 1).to_string())
        .replace("@OUT_MSB@", &(out_bits - 1).to_string())
        .replace("@LATENCY@", &m.latency.to_string())
        .replace("@II@", &m.ii.max(1).to_string())
        .replace("@DEPTH_M1@", &(depth - 1).to_string())
        .replace("@DEPTH@", &depth.to_string())
        .replace("@AW_M1@", &(aw - 1).to_string())
        .replace("@AW1@", &(aw + 1).to_string())
        .replace("@AW@", &aw.to_string())
}
