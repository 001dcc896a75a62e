//! [`Expr::Add3`](crate::Expr::Add3) and [`Expr::GatedAdd`](crate::Expr::GatedAdd): portable
//! text, or UltraScale adders built from LUT6_2 and CARRY8.
//!
//! The UltraScale form adds three numbers with the LUTs of one binary adder. Per result bit `i`
//! one LUT6_2 reads `aᵢ, bᵢ, cᵢ` (each inverted by the INIT when its addend is negated) and
//! `qᵢ`, the carry-save carry of bit `i − 1`:
//!
//! * O5 = maj(aᵢ, bᵢ, cᵢ), the carry-save carry into bit `i + 1` (its `q`);
//! * O6 = aᵢ ⊕ bᵢ ⊕ cᵢ ⊕ qᵢ, the carry chain's propagate, with `qᵢ` as the chain's DI.
//!
//! The chain then adds the carry-save sum and carries. A negated addend `v` (zero below bit
//! `L`) is read as `~v`, whose bits from `L` up are `−v − 2^L`; the missing `2^L` comes in as
//! the chain's carry-in (first negation) and as the carry-save carry into bit `L` (second), so
//! at most two addends may be negated. Below `L`, the second-lowest shift, only the lowest
//! addend has bits, and they pass through without logic (that addend is positive or zero
//! there).
//!
//! Each adder is written twice, selected by `ifdef SYNTHESIS`: synthesis (yosys, Vivado)
//! instantiates `<top>_add3`, whose LUT INIT a constant function computes from the negations;
//! simulators read the same sum as plain Verilog (`a + b - c`), which builds and runs fast in
//! Verilator where tens of thousands of primitive instances would not, and keeps Verilator's
//! scheduler away from submodules (5.006 mis-ordered constant logic behind one). The primitive
//! form is checked against yosys' own LUT6_2 and CARRY8 models, for every negation pattern, by
//! `rtl/tests/ternary.rs`.
//!
//! The gated adder `±(g₀ ? a : 0) ± (g₁ ? b : 0)` (two rows of a LUT multiplier) takes one LUT6_2
//! per result bit too: it reads `aᵢ, g₀, bᵢ, g₁`, with O6 = a'ᵢ ⊕ b'ᵢ (the propagate) and O5 = a'ᵢ
//! (the chain's DI), where `a'ᵢ = (g₀ ∧ aᵢ)`, inverted when `a` is negated; the negation's +1 is
//! the chain's carry-in, so at most one addend is negated. The AND gates of the partial products
//! cost no LUTs of their own.

use super::expr::Render;
use crate::netlist::{Addend, Gated, SignalId};

/// `dst = add3(t)` on UltraScale: the instance for synthesis, the portable sum otherwise.
pub(super) fn instance(r: &mut Render, top: &str, dst: SignalId, t: &[Addend; 3], w: u32) -> String {
    let sum = r.add3(t, w);
    format!(
        "`ifdef SYNTHESIS\n{}\n`else\n    assign {} = {sum};\n`endif",
        primitive_instance(r, top, dst, t, w),
        r.target(dst)
    )
}

fn primitive_instance(r: &mut Render, top: &str, dst: SignalId, t: &[Addend; 3], w: u32) -> String {
    // Port `a` is the addend with the lowest shift, positive among ties.
    let mut order = *t;
    order.sort_by_key(|d| (d.shift, d.neg));
    let inst = r.fresh(&format!("{}_add3", r.target(dst)));
    let [a, b, c] = order.map(|d| r.shifted(&d, w));
    let [na, nb, nc] = order.map(|d| u8::from(d.neg));
    let y = r.target(dst);
    format!(
        "    {top}_add3 #(.W({w}), .L({}), .NA(1'b{na}), .NB(1'b{nb}), .NC(1'b{nc})) {inst} (\n        \
         .a({a}),\n        .b({b}),\n        .c({c}),\n        .y({y})\n    );",
        Addend::logic_start(t)
    )
}

/// `dst = gadd(t)` on UltraScale: the instance for synthesis, the portable sum otherwise.
pub(super) fn gated_instance(r: &mut Render, top: &str, dst: SignalId, t: &[Gated; 2], w: u32) -> String {
    let sum = r.gated_add(t, w);
    let inst = r.fresh(&format!("{}_gadd", r.target(dst)));
    let [a, b] = t.map(|g| r.shifted(&g.term, w));
    let [ga, gb] = t.map(|g| r.full(g.gate));
    let [na, nb] = t.map(|g| u8::from(g.term.neg));
    let y = r.target(dst);
    format!(
        "`ifdef SYNTHESIS\n    {top}_gadd #(.W({w}), .NA(1'b{na}), .NB(1'b{nb})) {inst} (\n        .ga({ga}),\n        \
         .a({a}),\n        .gb({gb}),\n        .b({b}),\n        .y({y})\n    );\n`else\n    assign {y} = {sum};\n`endif"
    )
}

/// `dst = add3g(t, gate)` on UltraScale: the instance for synthesis, the portable sum otherwise.
pub(super) fn instance_gated(
    r: &mut Render,
    top: &str,
    dst: SignalId,
    t: &[Addend; 3],
    gate: SignalId,
    w: u32,
) -> String {
    let sum = r.add3_gated(t, gate, w);
    // Ports `a` and `b` are the ungated addends, the lower shift (positive among ties) first;
    // `c` is the gated one, whose shift is not below theirs.
    let mut ab = [t[0], t[1]];
    ab.sort_by_key(|d| (d.shift, d.neg));
    let order = [ab[0], ab[1], t[2]];
    let inst = r.fresh(&format!("{}_add3g", r.target(dst)));
    let [a, b, c] = order.map(|d| r.shifted(&d, w));
    let [na, nb, nc] = order.map(|d| u8::from(d.neg));
    let g = r.full(gate);
    let y = r.target(dst);
    format!(
        "`ifdef SYNTHESIS\n    {top}_add3g #(.W({w}), .L({}), .NA(1'b{na}), .NB(1'b{nb}), .NC(1'b{nc})) {inst} (\n        \
         .a({a}),\n        .b({b}),\n        .c({c}),\n        .g({g}),\n        .y({y})\n    );\n`else\n    assign {y} = {sum};\n`endif",
        Addend::logic_start(t)
    )
}

/// The ternary adder module (`<top>_add3`).
pub(super) fn library(top: &str) -> String {
    LIBRARY.replace("{top}", top)
}

/// The ternary adder with a gated third addend (`<top>_add3g`): `<top>_add3` with the gate on
/// the LUTs' fifth input.
pub(super) fn library_gated(top: &str) -> String {
    const EDITS: [(&str, &str); 10] = [
        ("{top}_add3", "{top}_add3g"),
        ("ternary adder y = a' + b' + c'", "ternary adder y = a' + b' + (g ? c : 0)'"),
        ("    input wire [W-1:0] c,\n", "    input wire [W-1:0] c,\n    input wire g,\n"),
        ("INIT[15:0] (O5 with I5 = 1, I4 = 0)", "INIT[31:0] (O5 with I5 = 1, I4 = g)"),
        ("reg [3:0] i;", "reg [4:0] i;"),
        ("for (k = 0; k < 16; k = k + 1)", "for (k = 0; k < 32; k = k + 1)"),
        ("i = k[3:0];", "i = k[4:0];"),
        ("x2 = i[2] ^ neg[2];", "x2 = (i[2] & i[4]) ^ neg[2];"),
        ("INIT[47:32] (O6)", "INIT[63:32] (O6)"),
        (".I4(1'b0)", ".I4(g)"),
    ];
    let mut text = LIBRARY.to_string();
    for (from, to) in EDITS {
        debug_assert!(text.contains(from), "the add3 library has `{from}`");
        text = text.replace(from, to);
    }
    text.replace("{top}", top)
}

/// The gated adder module (`<top>_gadd`).
pub(super) fn gated_library(top: &str) -> String {
    GATED_LIBRARY.replace("{top}", top)
}

const GATED_LIBRARY: &str = r#"
// {top}_gadd: gated adder y = a' + b' (mod 2^W) where x' is (gx ? x : 0), or its negation when
// NX is set (not both). Synthesis: one LUT6_2 per bit (O5: a', the chain's DI; O6: a' ^ b', the
// propagate) into a CARRY8 chain; a negated input is inverted inside the LUT, and its +1 is the
// chain's carry-in. Only synthesis reads it: simulators take the `else` branch at each instance.
`ifdef SYNTHESIS
module {top}_gadd #(
    parameter W = 8,
    parameter [0:0] NA = 1'b0,
    parameter [0:0] NB = 1'b0
) (
    input wire ga,
    input wire [W-1:0] a,
    input wire gb,
    input wire [W-1:0] b,
    output wire [W-1:0] y
);
    // INIT[15:0] (O5 with I5 = 1, I4 = 0): a'; INIT[47:32] (O6): a' ^ b'.
    function [63:0] lut_init;
        input [1:0] neg;
        integer k;
        reg [3:0] i;
        reg x0;
        reg x1;
        begin
            lut_init = 64'h0;
            for (k = 0; k < 16; k = k + 1) begin
                i = k[3:0];
                x0 = (i[0] & i[1]) ^ neg[0];
                x1 = (i[2] & i[3]) ^ neg[1];
                lut_init[k] = x0;
                lut_init[32 + k] = x0 ^ x1;
            end
        end
    endfunction
    localparam [63:0] INIT = lut_init({NB, NA});
    localparam B = (W + 7) / 8;
    wire [8*B-1:0] s;
    wire [8*B-1:0] m;
    wire [8*B-1:0] o;
    wire [8*B-1:0] co;
    genvar i;
    generate
        for (i = 0; i < 8 * B; i = i + 1) begin : g_bit
            if (i < W) begin : g_lut
                LUT6_2 #(.INIT(INIT)) u_lut (
                    .O6(s[i]), .O5(m[i]),
                    .I0(a[i]), .I1(ga), .I2(b[i]), .I3(gb), .I4(1'b0), .I5(1'b1)
                );
            end else begin : g_pad
                assign s[i] = 1'b0;
                assign m[i] = 1'b0;
            end
        end
        for (i = 0; i < B; i = i + 1) begin : g_chain
            CARRY8 u_carry (
                .CO(co[8*i+7:8*i]), .O(o[8*i+7:8*i]), .CI(i == 0 ? (NA | NB) : co[8*i-1]), .CI_TOP(1'b0),
                .DI(m[8*i+7:8*i]), .S(s[8*i+7:8*i])
            );
        end
    endgenerate
    assign y = o[W-1:0];
endmodule
`endif
"#;

const LIBRARY: &str = r#"
// {top}_add3: ternary adder y = a' + b' + c' (mod 2^W) where x' is x, or -x when NX is set;
// a's bits below L pass through (b and c are zero there, and a is positive when L is above its
// shift). Synthesis: one LUT6_2 per bit from L up (O5: carry-save carry, O6: propagate) into a
// CARRY8 chain; a negated input is inverted inside the LUT, and its +1 enters as the chain's
// carry-in (first) or the carry-save carry into bit L (second). Only synthesis reads it:
// simulators take the `else` branch at each instance, the same sum as plain Verilog.
`ifdef SYNTHESIS
module {top}_add3 #(
    parameter W = 8,
    parameter L = 0,
    parameter [0:0] NA = 1'b0,
    parameter [0:0] NB = 1'b0,
    parameter [0:0] NC = 1'b0
) (
    input wire [W-1:0] a,
    input wire [W-1:0] b,
    input wire [W-1:0] c,
    output wire [W-1:0] y
);
    localparam N = W - L;
    localparam [0:0] CI = NA | NB | NC;
    localparam [0:0] Q = (NA & NB) | (NA & NC) | (NB & NC);
    generate
        if (L > 0) begin : g_low
            assign y[L-1:0] = a[L-1:0];
        end
    endgenerate
    // INIT[15:0] (O5 with I5 = 1, I4 = 0): maj(a', b', c'); INIT[47:32] (O6): a'^b'^c'^q.
    function [63:0] lut_init;
        input [2:0] neg;
        integer k;
        reg [3:0] i;
        reg x0;
        reg x1;
        reg x2;
        begin
            lut_init = 64'h0;
            for (k = 0; k < 16; k = k + 1) begin
                i = k[3:0];
                x0 = i[0] ^ neg[0];
                x1 = i[1] ^ neg[1];
                x2 = i[2] ^ neg[2];
                lut_init[k] = (x0 & x1) | (x0 & x2) | (x1 & x2);
                lut_init[32 + k] = x0 ^ x1 ^ x2 ^ i[3];
            end
        end
    endfunction
    localparam [63:0] INIT = lut_init({NC, NB, NA});
    localparam B = (N + 7) / 8;
    wire [8*B-1:0] s;
    wire [8*B-1:0] m;
    wire [8*B-1:0] q = {m[8*B-2:0], Q};
    wire [8*B-1:0] o;
    wire [8*B-1:0] co;
    genvar i;
    generate
        for (i = 0; i < 8 * B; i = i + 1) begin : g_bit
            if (i < N) begin : g_lut
                LUT6_2 #(.INIT(INIT)) u_lut (
                    .O6(s[i]), .O5(m[i]),
                    .I0(a[L+i]), .I1(b[L+i]), .I2(c[L+i]), .I3(q[i]), .I4(1'b0), .I5(1'b1)
                );
            end else begin : g_pad
                assign s[i] = 1'b0;
                assign m[i] = 1'b0;
            end
        end
        for (i = 0; i < B; i = i + 1) begin : g_chain
            CARRY8 u_carry (
                .CO(co[8*i+7:8*i]), .O(o[8*i+7:8*i]), .CI(i == 0 ? CI : co[8*i-1]), .CI_TOP(1'b0),
                .DI(q[8*i+7:8*i]), .S(s[8*i+7:8*i])
            );
        end
    endgenerate
    assign y[W-1:L] = o[N-1:0];
endmodule
`endif
"#;
