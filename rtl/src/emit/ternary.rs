//! [`Expr::Add3`](crate::Expr::Add3): portable text, or UltraScale ternary adders built from
//! LUT6_2 and CARRY8.
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
//! Synthesis (`SYNTHESIS` defined: yosys, Vivado) instantiates the primitives. Simulators run
//! a loop over the bits that reads the same INIT bits and applies the CARRY8 rule
//! (`carry = propagate ? carry : DI`), so co-simulation checks the LUT contents; it builds
//! fast in Verilator, where ten thousands of primitive instances would not. The primitive
//! netlist itself is checked against yosys' own LUT6_2 and CARRY8 models by
//! `rtl/tests/ternary.rs`.

use std::fmt::Write;

use super::expr::Render;
use super::text::literal;
use crate::netlist::{Addend, SignalId};

/// `±a·2^i ± b·2^j ± c·2^k` as a `w`-bit Verilog expression (positive addends first).
pub(super) fn portable(r: &mut Render, t: &[Addend; 3], w: u32) -> String {
    let mut order: Vec<&Addend> = t.iter().collect();
    order.sort_by_key(|d| d.neg);
    let mut out = String::new();
    for (i, d) in order.into_iter().enumerate() {
        let v = shifted(r, d, w);
        match (i, d.neg) {
            (0, _) => out.push_str(&v),
            (_, false) => write!(out, " + {v}").unwrap(),
            (_, true) => write!(out, " - {v}").unwrap(),
        }
    }
    out
}

/// `d.sig · 2^d.shift` as exactly `w` bits.
fn shifted(r: &mut Render, d: &Addend, w: u32) -> String {
    if d.shift == 0 {
        r.ext(d.sig, 0, w)
    } else {
        format!("{{{}, {}}}", r.ext(d.sig, 0, w - d.shift), literal(d.shift, 0))
    }
}

/// The parameters of one ternary adder instance.
struct Shape {
    /// The addends in port order `a, b, c`: `a` has the lowest shift (positive among ties).
    order: [Addend; 3],
    /// First bit through the LUTs.
    l: u32,
    init: u64,
    ci: bool,
    q: bool,
}

fn shape(t: &[Addend; 3]) -> Shape {
    let mut order = *t;
    order.sort_by_key(|d| (d.shift, d.neg));
    let l = Addend::logic_start(t);
    let negated = order.iter().filter(|d| d.neg).count();
    Shape { order, l, init: init(order.map(|d| d.neg)), ci: negated >= 1, q: negated >= 2 }
}

/// LUT6_2 INIT with I0..I2 = a, b, c (inverted where `neg`), I3 = q, I4 = 0, I5 = 1:
/// O5 = INIT[{I4..I0}] is the majority, O6 = INIT[32 + {I3..I0}] the four-way parity.
pub(crate) fn init(neg: [bool; 3]) -> u64 {
    let mut v = 0u64;
    for idx in 0..16u32 {
        let bit = |k: u32| (idx >> k) & 1 == 1;
        let (a, b, c, q) = (bit(0) ^ neg[0], bit(1) ^ neg[1], bit(2) ^ neg[2], bit(3));
        if (a && b) || (a && c) || (b && c) {
            v |= 1 << idx;
        }
        if a ^ b ^ c ^ q {
            v |= 1 << (32 + idx);
        }
    }
    v
}

/// The instance computing `dst = add3(t)` on UltraScale.
pub(super) fn instance(r: &mut Render, top: &str, dst: SignalId, t: &[Addend; 3], w: u32) -> String {
    let s = shape(t);
    let inst = r.fresh(&format!("{}_add3", r.target(dst)));
    let [a, b, c] = s.order.map(|d| shifted(r, &d, w));
    let y = r.target(dst);
    format!(
        "    {top}_add3 #(.W({w}), .L({}), .INIT(64'h{:016x}), .CI(1'b{}), .Q(1'b{})) {inst} (\n        \
         .a({a}),\n        .b({b}),\n        .c({c}),\n        .y({y})\n    );",
        s.l,
        s.init,
        u8::from(s.ci),
        u8::from(s.q)
    )
}

/// The ternary adder module (`<top>_add3`).
pub(super) fn library(top: &str) -> String {
    LIBRARY.replace("{top}", top)
}

const LIBRARY: &str = r#"
// {top}_add3: ternary adder y = a' + b' + c' (mod 2^W), where a', b', c' are the inputs inverted as INIT
// says, plus the carry-ins CI and Q at bit L; bits below L are a's. Synthesis: one LUT6_2 per
// bit from L up (O5: carry-save carry, O6: propagate) into a CARRY8 chain. Simulation: the
// same INIT bits and carry rule, bit by bit.
/* verilator lint_off DECLFILENAME */
/* verilator lint_off UNUSED */
module {top}_add3 #(
    parameter W = 8,
    parameter L = 0,
    parameter [63:0] INIT = 64'h0,
    parameter [0:0] CI = 1'b0,
    parameter [0:0] Q = 1'b0
) (
    input wire [W-1:0] a,
    input wire [W-1:0] b,
    input wire [W-1:0] c,
    output wire [W-1:0] y
);
    localparam N = W - L;
    generate
        if (L > 0) begin : g_low
            assign y[L-1:0] = a[L-1:0];
        end
    endgenerate
`ifdef SYNTHESIS
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
`else
    reg [N-1:0] sum;
    reg [5:0] i6;
    reg [5:0] i5;
    reg q;
    reg cy;
    reg p;
    integer i;
    always @(*) begin
        q = Q;
        cy = CI;
        for (i = 0; i < N; i = i + 1) begin
            i6 = {2'b10, q, c[L+i], b[L+i], a[L+i]};
            i5 = {2'b00, q, c[L+i], b[L+i], a[L+i]};
            p = INIT[i6];
            sum[i] = p ^ cy;
            cy = p ? cy : q;
            q = INIT[i5];
        end
    end
    assign y[W-1:L] = sum;
`endif
endmodule
/* verilator lint_on UNUSED */
/* verilator lint_on DECLFILENAME */
"#;

#[cfg(test)]
mod tests {
    use super::init;

    #[test]
    fn init_holds_majority_and_parity() {
        // No negation: O5 = maj(a, b, c) in the low 16 bits, O6 = a^b^c^q at 32..48.
        assert_eq!(init([false; 3]), 0x0000_6996_0000_e8e8);
        // Negating a flips it in both functions.
        assert_eq!(init([true, false, false]) & 0xffff, 0xd4d4);
    }
}
